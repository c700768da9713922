"""Hook implementations of the ops plugin (entry point ``ops = "workbench_ops.plugin"``).

Contributes: the ``demand`` component kind; attributes ``site.ops_mtbf``, ``site.ops_mttr``, ``site.ops_srg``,
``link.ops_srg``, ``agent.ops_domain``, ``agent.ops_scope``, ``agent.ops_exposure``; the ``ops_*`` scenario
parameters; catalogues ``ops-autonomy-levels``, ``ops-guardrails``, ``ops-fault-classes``; analyses
``availability`` and ``security``; the study space ``ops_autonomy`` with objectives ``ops_unavailability``,
``ops_cost`` and ``ops_damage``; a report section; the CLI command ``workbench ops``.
"""

from __future__ import annotations

from workbench import hookimpl
from workbench.errors import Problem
from workbench.plugin_types import (
    AnalysisSpec,
    AttributeSpec,
    CommandSpec,
    ComponentKind,
    DatasetSpec,
    DecisionSpace,
    Objective,
    ParameterSpec,
    ReportSection,
    lazy,
)

#: (name, unit, default, description, min, max) of the scenario parameters; the description carries the source
PARAMETERS = (
    ("ops_fibre_cut_rate", "1/(Mm*a)", 2.13,
     "Service-affecting fibre cable failures per 1,000 km (= Mm) per year; default 2.13 = conventional buried cable "
     "(Bellcore data in Alcoa Fujikura 2001, FIGURES-M2 1.4 [S]); aerial OPGW 0.085, ADSS 0.081", 0.0, 1000.0),
    ("ops_fibre_mttr", "h", 12.0,
     "Physical repair time of a fibre cut once a crew is dispatched (travel and splice); default 12 h = Net2Plan's "
     "MTTR (FIGURES-M2 1.1 [P]); weak sources give 4 h aerial, >= 6 h buried", 0.0, 8760.0),
    ("ops_srg_rate", "1/a", 0.5,
     "Events per year that take down a whole shared-risk group (a duct or bridge cut, a grid feed lost); assumed "
     "0.5 (no published rate found)", 0.0, 1000.0),
    ("ops_srg_mttr", "h", 12.0, "Physical repair time of a shared-risk event; assumed = ops_fibre_mttr default", 0.0,
     8760.0),
    ("ops_software_fault_rate", "1/a", 0.5,
     "Software or configuration faults per site node per year that take the node's forwarding down; assumed 0.5",
     0.0, 1000.0),
    ("ops_radio_fault_rate", "1/a", 1.0,
     "Faults per year that take down an access site's radio network for its whole metro (core/RAN software); "
     "assumed 1", 0.0, 1000.0),
    ("ops_change_rate", "1/a", 12.0,
     "Fleet-wide changes (software/configuration pushes) per domain per year; assumed monthly", 0.0, 10000.0),
    ("ops_change_bad_prob", "1", 0.01,
     "Probability that a fleet-wide change is bad and takes the domain's elements down until rolled back; "
     "assumed 1% (the Facebook 2021, Rogers 2022, Optus 2023 and CrowdStrike 2024 outages were such changes, "
     "FIGURES-M2 1.5; no rate published)", 0.0, 1.0),
    ("ops_agent_change_bad_factor", "1", 1.0,
     "Bad-change probability of an agent-executed change relative to a person's (levels where the system "
     "executes); assumed 1: no evidence either way", 0.0, 100.0),
    ("ops_protection_switch_ms", "ms", 50.0,
     "1+1 protection switching time; 50 ms = the ITU-T G.873.1/G.841 switch-completion requirement (recalled; "
     "the schemes are in FIGURES-M2 1.4)", 0.0, 1e6),
    ("ops_restoration_s", "s", 1.0,
     "Control-plane (ASON/WSON) restoration time onto the backup path; assumed 1 s (no published figure; FIGURES-M2 "
     "1.4 says assume 100 ms - 2 s and sweep it)", 0.0, 1e6),
    ("ops_repair_cv", "1", 0.5, "Coefficient of variation of physical repair times (lognormal); assumed", 0.0, 10.0),
    ("ops_work_start_h", "h", 8.0, "Start of the working day of operations staff (local time); assumed", 0.0, 24.0),
    ("ops_work_end_h", "h", 18.0, "End of the working day of operations staff; assumed", 0.0, 24.0),
    ("ops_high_impact_share", "1", 0.2,
     "Share of automated remediations that are high-impact (need human approval under human_in_loop); assumed",
     0.0, 1.0),
    ("ops_exposure_per_day", "1/d", 200.0,
     "Untrusted inputs (tickets, logs, alarms, web content) an operations agent reads per day; assumed", 0.0, 1e9),
    ("ops_attack_prevalence", "1", 1e-5,
     "Share of untrusted inputs that carry a prompt injection aimed at the agent; assumed 1e-5 (about one attempt "
     "per agent per 500 days at 200 inputs a day; no measurement of attack prevalence in operations data exists; "
     "sweep it)", 0.0, 1.0),
    ("ops_injection_success", "1", 0.24,
     "Probability that an injection succeeds (the agent follows it); 0.24 = InjecAgent, ReAct GPT-4 (FIGURES-M2 "
     "1.6 [S]); AgentDojo without defence 0.176; ASB up to 0.84", 0.0, 1.0),
    ("ops_adaptive_attacker", "1", 0.0,
     "1 = the attacker adapts to detector-based guardrails, which keep 10% of their effect (adaptive attacks bypass "
     "12 defenses with ASR > 90%, 'The Attacker Moves Second' [S]); 0 = static attacks", 0.0, 1.0),
    ("ops_attack_elements", "1", 10.0,
     "Elements an injected instruction names (shut/misroute/drift); the agent hits the ones carrying the most "
     "traffic within its permissions; assumed", 1.0, 1e6),
    ("ops_handoff_share", "1", 0.5,
     "Probability that a compromised agent hands the injected content on to each agent it passes work to "
     "(before that agent's own injection success); assumed", 0.0, 1.0),
    ("ops_service_detect_min", "min", 60.0,
     "Time to notice misrouted traffic (service monitoring, not alarms) when the system does awareness; assumed",
     0.0, 1e6),
    ("ops_drift_detect_h", "h", 24.0,
     "Time to notice silent configuration drift (daily audit); assumed", 0.0, 1e6),
    ("ops_traffic_per_endpoint", "bit/s", 56e3,
     "Mean traffic per resident for demands derived from device groups; 56 kbit/s = 18.3 GB per month (MIIT 2024 "
     "mobile DOU, recalled, not retrieved [W])", 0.0, 1e12),
    ("ops_wage_cny_per_h", "CNY/h", 150.0, "Loaded cost of one operations engineer hour; assumed", 0.0, 1e6),
    ("ops_agent_cost_cny_per_year", "CNY/a", 500e3,
     "Running cost of one domain's operations agents per year (inference, platform); assumed", 0.0, 1e12),
    ("ops_chip_failure_rate", "1/h", 1.206e-5,
     "Accelerator failures per chip-hour: 256 GPU-related interruptions / (16,384 H100 x 1,296 h) in Meta's Llama 3 "
     "405B run (FIGURES-M2 via datacenterdynamics [S], derived)", 0.0, 1.0),
    ("ops_transceiver_failure_rate", "1/h", 4.12e-7,
     "Optical transceiver/cable failures per transceiver-hour: 35 network switch and cable interruptions / (16,384 "
     "GPUs x 4 transceivers per GPU (assumed) x 1,296 h), Llama 3 405B run [S, derived]", 0.0, 1.0),
    ("ops_chip_mttr", "h", 48.0, "Physical swap of a failed accelerator's server; assumed 48 h", 0.0, 8760.0),
    ("ops_chip_fault_domain", "1", 8.0,
     "Chips taken out of service by one chip or transceiver failure (a server); assumed 8", 1.0, 1e6),
)


@hookimpl
def workbench_parameters():
    for name, unit, default, desc, lo, hi in PARAMETERS:
        yield ParameterSpec(name, unit, default, desc + f"; range: {lo:g} to {hi:g} (sanity bound)", min=lo, max=hi)


@hookimpl
def workbench_component_kinds():
    yield ComponentKind("demand", "Traffic demands between sites, routed on the link graph (ops plugin)", attributes=(
        AttributeSpec("demand", "src", "str", "", None, "Site id where the demand enters", required=True),
        AttributeSpec("demand", "dst", "str", "", None, "Site id where the demand leaves", required=True),
        AttributeSpec("demand", "traffic", "float", "bit/s", 0.0, "Offered traffic; range: >= 0, a bit rate", min=0.0),
        AttributeSpec("demand", "protection", "str", "", "none",
                      "Protection: none (operations re-provision it on a backup path after an outage), 1+1 "
                      "(permanent backup, switch in ms), restoration (control-plane reroute in seconds)",
                      choices=("none", "1+1", "restoration")),
        AttributeSpec("demand", "people", "float", "1", 0.0,
                      "People served by the demand (for customer-minutes); range: >= 0, a count", min=0.0),
        AttributeSpec("demand", "metro", "str", "", "", "Metro the demand serves (per-metro availability)"),
        AttributeSpec("demand", "source", "str", "", "", "Citation keys for the row"),
        AttributeSpec("demand", "notes", "str", "", "", "Free text"),
    ))


@hookimpl
def workbench_component_attributes():
    yield AttributeSpec("site", "ops_mtbf", "float", "h", 8748.0,
                        "Mean time between hardware failures of the site's node; default 8,748 h = Net2Plan "
                        "(FIGURES-M2 1.1 [P]); inf = never fails; range: > 0", min=0.0, exclusive="min", infinite=True)
    yield AttributeSpec("site", "ops_mttr", "float", "h", 12.0,
                        "Physical repair time of the site's node hardware; default 12 h = Net2Plan [P]; range: >= 0",
                        min=0.0)
    yield AttributeSpec("site", "ops_srg", "str", "", "",
                        "Shared-risk groups of the site (e.g. one grid feed), ';'-separated; a group fails as a whole")
    yield AttributeSpec("link", "ops_srg", "str", "", "",
                        "Shared-risk groups of the link (fibres in one duct or on one bridge), ';'-separated")
    yield AttributeSpec("agent", "ops_domain", "str", "", "ip", "Network domain the agent operates",
                        choices=("transport", "ip", "dc", "radio"))
    yield AttributeSpec("agent", "ops_scope", "str", "", "",
                        "Elements the agent may act on: empty = its whole domain; 'province=NAME[|NAME]' or "
                        "'site=ID[|ID]' restrict it")
    yield AttributeSpec("agent", "ops_actions", "str", "", "shut|misroute|drift|push",
                        "Harmful actions the agent's permissions allow ('|'-separated of shut, misroute, drift, push; "
                        "attack_actions.csv), or 'none' for a read-only agent")
    yield AttributeSpec("agent", "ops_exposure", "float", "1/d", float("nan"),
                        "Untrusted inputs the agent reads per day (NaN = ops_exposure_per_day); range: >= 0", min=0.0)


def _table(name):
    def load():
        from .model import load_table

        return load_table(name).copy()

    return load


@hookimpl
def workbench_datasets():
    yield DatasetSpec("ops-autonomy-levels", load=_table("autonomy_levels"), kind="catalogue",
                      description="Who performs awareness, analysis, decision, execution, intent at L0-L5 (TS 28.100)")
    yield DatasetSpec("ops-stages", load=_table("stages"), kind="catalogue",
                      description="Time of each incident stage by people, people with the system, or the system")
    yield DatasetSpec("ops-fault-classes", load=_table("fault_classes"), kind="catalogue",
                      description="Fault classes: which element, physical repair, automation success per stage")
    yield DatasetSpec("ops-guardrails", load=_table("guardrails"), kind="catalogue",
                      description="Agent guardrails: catch per harmful action, ASR factor, delay, false positives, cost")
    yield DatasetSpec("ops-attack-actions", load=_table("attack_actions"), kind="catalogue",
                      description="Harmful actions of a manipulated agent: share, target, how they are detected")


@hookimpl
def workbench_analyses():
    yield AnalysisSpec("availability", func=lazy("workbench_ops.analyses:availability_analysis"),
                       description="Availability per demand and metro over the link graph at autonomy levels L0-L5 "
                       "(analytic or seeded Monte Carlo with 95% CI), MTTR by fault class, people hours")
    yield AnalysisSpec("security", func=lazy("workbench_ops.analyses:security_analysis"),
                       description="Manipulated operations agents: availability, expected and p99 damage, "
                       "P(compromise) with and without each guardrail")


def _build_space(scenario=None, **params):
    from .study import build_space

    return build_space(scenario, **params)


@hookimpl
def workbench_decision_spaces():
    yield DecisionSpace("ops_autonomy", build=_build_space,
                        description="Autonomy level per domain (transport, ip, dc, radio) x guardrail set")


@hookimpl
def workbench_objectives():
    from . import study

    yield Objective("ops_unavailability", func=study.unavailability, sense="min", units="1",
                    long_name="traffic-weighted unavailability", spaces=("ops_autonomy",),
                    description="1 - traffic-weighted availability incl. manipulated agents (analytic)")
    yield Objective("ops_cost", func=study.cost, sense="min", units="CNY/a", long_name="operating cost",
                    spaces=("ops_autonomy",), description="People hours x wage + agents + guardrails")
    yield Objective("ops_damage", func=study.damage, sense="min", units="min/a",
                    long_name="expected customer-minutes lost to manipulated agents", spaces=("ops_autonomy",),
                    description="People x downtime caused by manipulated agents (analytic)")


@hookimpl
def workbench_report_sections():
    yield ReportSection("operations", "Autonomous operations and agent security",
                        render=lazy("workbench_ops.report:render"), order=60)


@hookimpl
def workbench_commands():
    yield CommandSpec("ops", "Availability at autonomy levels L0-L5 and damage by manipulated agents with guardrails",
                      configure=lazy("workbench_ops.cli:configure"), run=lazy("workbench_ops.cli:run"))


@hookimpl
def workbench_validate(scenario):
    problems = []
    if "demand" in scenario and scenario["demand"].sizes.get("demand", 0):
        d = scenario["demand"]
        sites = set(scenario["site"]["site"].values.astype(str).tolist())
        for col in ("src", "dst"):
            for i, v in enumerate(d[col].values.astype(str)):
                if v not in sites:
                    problems.append(Problem("not a site id of the scenario", field=f"demand[{d['demand'].values[i]}].{col}",
                                            value=str(v)))
    return problems
