"""Hook implementations of the optical plugin: AI supernode fabrics and optical transport.

Registered through the entry point ``optical = "workbench_optical.plugin"`` (group ``workbench``).
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
    yield AttributeSpec("site", "optical_supernode_preset", "str", "", "",
                        "Supernode preset installed at the site (gb200-nvl72, cloudmatrix-384, tpu-v4-pod, hgx-h100); "
                        "empty = pack the inventory into each chip's default preset")
    yield AttributeSpec("site", "optical_supernodes", "float", "1", 0,
                        "Number of supernodes of optical_supernode_preset (0 = derive from the inventory); "
                        "range: >= 0, a count", min=0.0)
    yield AttributeSpec("link", "optical_wavelengths", "float", "1", 0,
                        "Lit coherent wavelengths on the link (0 = capacity / wavelength rate); range: >= 0, a count; "
                        "<= 400 assumed, about twice the C+L band's ~200 channels at 50 GHz", min=0.0, max=400.0)
    yield AttributeSpec("link", "optical_wavelength_rate", "float", "bit/s", 400e9,
                        "Line rate per wavelength (400G or 800G; default 400 Gbit/s, the AI+ICT plan's 400G/800G "
                        "backbone); range: > 0, a bit rate (the plugin's check accepts 400 or 800 Gbit/s)",
                        min=0.0, exclusive="min")
    yield AttributeSpec("link", "optical_amplifier_spacing", "float", "km", 80.0,
                        "In-line amplifier spacing (default 80 km spans; zr_blog [W]); range: > 0, a length; "
                        "<= 500 km assumed, beyond any unrepeatered terrestrial span", min=0.0, max=500.0,
                        exclusive="min")
    yield AttributeSpec("link", "optical_roadm_hops", "float", "1", 0,
                        "Intermediate ROADM pass-throughs (optical, ~0.3 us each, assumed); range: >= 0, a count",
                        min=0.0)
    yield AttributeSpec("link", "optical_otn_hops", "float", "1", 0,
                        "Intermediate OTN switching hops (OEO, ~100 us each); range: >= 0, a count", min=0.0)


def _load_media():
    from .catalogues import as_dataset, media

    return as_dataset(media(), "medium")


def _load_switches():
    from .catalogues import as_dataset, switches

    return as_dataset(switches(), "switch")


@hookimpl
def workbench_datasets():
    yield DatasetSpec("optical-media", load=_load_media, kind="catalogue",
                      description="Interconnect media: copper DAC/ACC, DSP pluggables 400G/800G/1.6T, LPO, CPO")
    yield DatasetSpec("optical-switches", load=_load_switches, kind="catalogue",
                      description="Packet switches (NVSwitch, UB, 51.2T Ethernet) and optical circuit switches")


@hookimpl
def workbench_analyses():
    yield AnalysisSpec("fabric", func=lazy("workbench_optical.analyses:fabric_analysis"),
                       description="AI supernodes per site: switches, optics, FLOP/s, power (x PUE), cost")
    yield AnalysisSpec("transport", func=lazy("workbench_optical.transport:transport_analysis"),
                       description="Optical transport per link: wavelengths, capacity, transponders, amplifiers, latency")


def _build_space(**params):
    from .designs import build_fabric_space

    return build_fabric_space(**params)


@hookimpl
def workbench_decision_spaces():
    yield DecisionSpace("fabric_design", build=_build_space, needs_scenario=False,
                        description="Supernode design grid: topology x medium x domain size for N chips")


@hookimpl
def workbench_objectives():
    from . import designs

    yield Objective("fabric_power", func=designs.objective_fabric_power, sense="min", units="W",
                    long_name="fabric power", spaces=("fabric_design",))
    yield Objective("fabric_cost", func=designs.objective_fabric_cost, sense="min", units="USD",
                    long_name="fabric cost", spaces=("fabric_design",))
    yield Objective("allreduce_time", func=designs.objective_allreduce_time, sense="min", units="s",
                    long_name="all-reduce time", spaces=("fabric_design",))


@hookimpl
def workbench_constraints():
    from . import designs

    yield Constraint("fabric_feasible", func=designs.constraint_feasible, units="1",
                     long_name="design is impossible (1) or possible (0)", spaces=("fabric_design",))


@hookimpl
def workbench_validate(scenario):
    from .presets import preset_names

    sites = scenario["site"]
    if "optical_supernode_preset" in sites:
        names = set(preset_names())
        for sid, p in zip(sites["site"].values, sites["optical_supernode_preset"].values):
            if p and p not in names:
                yield Problem(f"unknown supernode preset; expected one of {', '.join(sorted(names))}",
                              field=f"site[{sid}].optical_supernode_preset", value=str(p))
    links = scenario["link"]
    # plain ranges (wavelengths >= 0, spacing > 0 km) are schema ranges, checked at load for every format
    for attr, ok, expect in (("optical_wavelength_rate", lambda v: v in (400e9, 800e9), "400 or 800 Gbit/s"),):
        if attr not in links:
            continue
        for lid, v in zip(links["link"].values, links[attr].values):
            if not ok(float(v)):
                yield Problem(f"expected {expect}", field=f"link[{lid}].{attr}", value=str(v))


@hookimpl
def workbench_report_sections():
    yield ReportSection("fabric", "AI supernodes and optical transport", render=lazy("workbench_optical.report:render_fabric_section"), order=40)


@hookimpl
def workbench_commands():
    yield CommandSpec("fabric", "AI supernode totals for a preset or a chip/count/topology/medium design",
                      configure=lazy("workbench_optical.cli:configure"), run=lazy("workbench_optical.cli:run"))

