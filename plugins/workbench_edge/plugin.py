"""Hook implementations of the edge plugin (entry point ``edge = "workbench_edge.plugin"``).

Contributes: attributes ``device.edge_request_class`` and ``site.edge_serving``; catalogues ``models``
and ``request-classes``; analyses ``serving``, ``routing``, ``cascade``, ``disaggregation``; the study
space ``edge_deployment`` with objectives ``inference_energy``, ``inference_latency``,
``inference_quality``, ``inference_chips_per_rps`` and constraint ``inference_tpot_slo``; a report
section; the CLI command ``workbench inference``; a consistency check of the request classes.
"""

from __future__ import annotations

from workbench import hookimpl
from workbench.errors import Problem
from workbench.plugin_types import (
    AnalysisSpec,
    AttributeSpec,
    CommandSpec,
    Constraint,
    DatasetSpec,
    DecisionSpace,
    Objective,
    ReportSection,
    lazy,
)


@hookimpl
def workbench_component_attributes():
    yield AttributeSpec("device", "edge_request_class", "str", "", "chat",
                        "Inference request class of the group's demand (ids in datasets/models/request_classes.csv)")
    yield AttributeSpec("site", "edge_serving", "bool", "", True,
                        "Site may serve inference requests in the edge routing analysis (false excludes it)")


def _models():
    from .catalogue import load_models

    return load_models()


def _classes():
    from .catalogue import load_request_classes

    return load_request_classes()


@hookimpl
def workbench_datasets():
    yield DatasetSpec("models", load=_models, kind="catalogue",
                      description="LLM/VLA architectures (dense, MoE, VLA): layers, heads, KV heads, params, dtypes")
    yield DatasetSpec("request-classes", load=_classes, kind="catalogue",
                      description="Inference request classes: model, token lengths, TTFT/TPOT/e2e SLOs, rates")


@hookimpl
def workbench_analyses():
    # lazy: the analyses module is imported on first use, and inspect.signature() is the real function's,
    # so the CLI converts and checks --param values against the actual parameters
    yield AnalysisSpec("serving", func=lazy("workbench_edge.analyses:serving_analysis"),
                       description="Roofline throughput/TTFT/TPOT vs batch of a model on every installed chip type")
    yield AnalysisSpec("routing", func=lazy("workbench_edge.analyses:routing_analysis"),
                       description="Route device-group inference demand to sites under SLOs and capacity (LP/greedy)")
    yield AnalysisSpec("cascade", func=lazy("workbench_edge.analyses:cascade_analysis"),
                       description="Edge small model -> hub large model cascade: latency, energy, cost, quality")
    yield AnalysisSpec("disaggregation", func=lazy("workbench_edge.analyses:disaggregation_analysis"),
                       description="Prefill/decode disaggregation across sites: where shipping the KV cache pays off")
    yield AnalysisSpec("dispatch", func=lazy("workbench_edge.dispatch:dispatch_analysis"),
                       description="Hourly dispatch LP: demand, time-of-use prices, carbon and green power over "
                       "snapshots, with deferrable demand")


def _build_space(scenario=None, **params):
    from .study import build_space

    return build_space(**params)


@hookimpl
def workbench_decision_spaces():
    yield DecisionSpace("edge_deployment", build=_build_space, needs_scenario=False,
                        description="Large-tier chip, dtype, tp, batch and cascade escalation share")


@hookimpl
def workbench_objectives():
    from . import study

    yield Objective("inference_energy", func=study.energy, sense="min", units="J",
                    long_name="chip energy per request", spaces=("edge_deployment",),
                    description="Edge small + escalated hub large model energy per request")
    yield Objective("inference_latency", func=study.latency, sense="min", units="ms",
                    long_name="mean processing latency per request", spaces=("edge_deployment",),
                    description="Cascade mean of TTFT + (osl-1) TPOT, network excluded")
    yield Objective("inference_quality", func=study.quality, sense="max", units="1",
                    long_name="quality proxy", spaces=("edge_deployment",),
                    description="Expected share of correct answers (MMLU-CoT-based cascade proxy)")
    yield Objective("inference_chips_per_rps", func=study.chips_per_rps, sense="min", units="1",
                    long_name="large-tier chips per request/s", spaces=("edge_deployment",),
                    description="Hub chips needed per request/s of total demand")


@hookimpl
def workbench_constraints():
    from . import study

    yield Constraint("inference_tpot_slo", func=study.tpot_slo, units="s", long_name="TPOT above the SLO",
                     spaces=("edge_deployment",), description="Large-tier TPOT <= tpot_slo_s (default 40 ms)")


@hookimpl
def workbench_report_sections():
    yield ReportSection("edge_inference", "Edge and distributed inference",
                        render=lazy("workbench_edge.report:render"), order=50)


@hookimpl
def workbench_commands():
    yield CommandSpec("inference", "Throughput, TTFT, TPOT and max batch of a model on N chips",
                      configure=lazy("workbench_edge.cli:configure"), run=lazy("workbench_edge.cli:run"))


@hookimpl
def workbench_validate(scenario):
    dev = scenario["device"] if "device" in scenario else None
    if dev is None or "edge_request_class" not in dev or dev.sizes.get("device", 0) == 0:
        return []
    from .catalogue import load_request_classes

    known = set(load_request_classes()["request_class"].values.tolist())
    values = dev["edge_request_class"].values.astype(str)
    problems = []
    for i, v in enumerate(values):
        if v and v not in known:
            problems.append(Problem(f"unknown request class; expected one of {', '.join(sorted(known))}",
                                    field=f"device[{dev['device'].values[i]}].edge_request_class", value=v))
    return problems
