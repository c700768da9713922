"""Hook implementations of the embodied plugin (entry point ``embodied = "workbench_embodied.plugin"``).

Contributes: the ``embodied_*`` scenario parameters; attributes ``device.embodied_hz``, ``device.embodied_deadline``
and ``device.embodied_placement``; ``device.access_tech`` choices ``tsn`` (with the median
of its access round trip / 2 as the one-way delay the core path model uses); catalogues ``embodied-classes``,
``embodied-access``, ``embodied-models``, ``embodied-chips``; analyses ``offload`` and ``deadlines``; the study
space ``embodied_sites`` with objectives ``embodied_devices_missing``, ``embodied_sites_opened`` and ``embodied_chips_added``; a report
section; the CLI command ``workbench embodied``.
"""

from __future__ import annotations

from workbench import hookimpl
from workbench.plugin_types import (
    AnalysisSpec,
    AttributeSpec,
    ChoiceSpec,
    CommandSpec,
    DatasetSpec,
    DecisionSpace,
    Objective,
    ParameterSpec,
    ReportSection,
    lazy,
)

#: (name, unit, default, description with source, min, max)
PARAMETERS = (
    ("embodied_chip_share", "1", 0.1,
     "Share of a site's main accelerators reserved for device control loops (the rest serve other inference); "
     "assumed 10%", 0.0, 1.0),
    ("embodied_batch", "1", 8.0,
     "Largest batch of device-loop requests one accelerator runs at once (a batch reads the weights once; the batch "
     "used is the largest power of two up to this whose latency is <= 1.25 x a single request's); assumed 8", 1.0,
     4096.0),
    ("embodied_uplink_bps", "bit/s", 80.05e6,
     "Uplink rate for a step's request payload; 80.05 Mbit/s = mean 5G uplink rate, CAICT-led monitoring Q2 2023 "
     "(FIGURES-M2 0.2 [S])", 1e3, 1e12),
    ("embodied_downlink_bps", "bit/s", 351.14e6,
     "Downlink rate for a step's response; 351.14 Mbit/s = mean 5G downlink rate, CAICT Q2 2023 (FIGURES-M2 0.2 [S])",
     1e3, 1e12),
    ("embodied_active_share", "1", 0.5,
     "Share of devices running their remote loop in the peak hour, for classes without their own active_share "
     "(device_classes.csv); assumed 50%", 0.0, 1.0),
    ("embodied_efficiency", "1", 0.5,
     "Share of the roofline a chip reaches for a model without a measured reference latency; assumed 50%",
     0.01, 1.0),
    ("embodied_processing_ms", "ms", 1.0,
     "Server-side pre/post-processing per request (decode the frame, serialise the action); assumed 1 ms", 0.0,
     1e4),
)


@hookimpl
def workbench_parameters():
    for name, unit, default, desc, lo, hi in PARAMETERS:
        yield ParameterSpec(name, unit, default, desc + f"; range: {lo:g} to {hi:g} (sanity bound)", min=lo, max=hi)


@hookimpl
def workbench_choices():
    from .model import ALIASES, access_dist, class_table

    core = {"resident", *ALIASES}
    for cid, row in class_table().iterrows():
        if cid not in core and cid not in ("phone", "pc", "wearable", "vehicle"):
            yield ChoiceSpec("device", "class", cid, f"{row['name']} (embodied plugin, datasets/embodied/device_classes.csv)")

    d = access_dist("tsn")
    yield ChoiceSpec("device", "access_tech", "tsn",
                     "Industrial Ethernet / time-sensitive networking (embodied plugin; one-way = half the median "
                     "access round trip of datasets/embodied/access_networks.csv)", delay=float(d.quantile(0.5)) / 2)


@hookimpl
def workbench_component_attributes():
    yield AttributeSpec("device", "embodied_hz", "float", "Hz", float("nan"),
                        "Remote policy rate of the group's loop (NaN = its class's policy_hz); range: > 0",
                        min=0.0, exclusive="min")
    yield AttributeSpec("device", "embodied_deadline", "float", "ms", float("nan"),
                        "Deadline of one remote step (NaN = the class's deadline, or 1 / embodied_hz); range: > 0",
                        min=0.0, exclusive="min")
    yield AttributeSpec("device", "embodied_placement", "str", "", "auto",
                        "Where the group's loop runs: auto (the best option under the class's miss target) or a "
                        "fixed option", choices=("auto", "device", "edge", "regional", "hub", "split"))


def _table(name):
    def load():
        from .model import load_table

        return load_table(name)

    return load


@hookimpl
def workbench_datasets():
    yield DatasetSpec("embodied-classes", load=_table("device_classes"), kind="catalogue",
                      description="Device classes: control loops, deadlines, miss targets, payloads, models, power")
    yield DatasetSpec("embodied-access", load=_table("access_networks"), kind="catalogue",
                      description="Access networks as round-trip latency distributions (two quantiles), handover")
    yield DatasetSpec("embodied-models", load=_table("policy_models"), kind="catalogue",
                      description="Policy models (VLA, LLM, controllers): roofline inputs and measured references")
    yield DatasetSpec("embodied-chips", load=_table("device_chips"), kind="catalogue",
                      description="On-device and reference chips: FLOP/s, memory bandwidth, power")


@hookimpl
def workbench_analyses():
    yield AnalysisSpec("offload", func=lazy("workbench_embodied.analyses:offload_analysis"),
                       description="Per device group and placement (device, edge, regional, hub, split): deadline "
                       "misses, chunk stalls, safety stops, achieved rates, device energy, uplink; best placement")
    yield AnalysisSpec("deadlines", func=lazy("workbench_embodied.analyses:deadlines_analysis"),
                       description="Deadline-miss probability per class and metro at a placement, analytic "
                       "convolution or Monte Carlo with a 95% interval")


def _build_space(scenario=None, **params):
    from .study import build_space

    return build_space(scenario, **params)


@hookimpl
def workbench_decision_spaces():
    yield DecisionSpace("embodied_sites", build=_build_space,
                        description="Which candidate edge sites to open (with accelerators) for device control loops")


@hookimpl
def workbench_objectives():
    from . import study

    yield Objective("embodied_devices_missing", func=study.devices_missing, sense="min", units="1",
                    long_name="devices whose best placement misses the class target", spaces=("embodied_sites",),
                    description="Devices of the selected classes whose assigned placement misses their class's miss "
                    "target (the offload analysis's admission over all options)")
    yield Objective("embodied_sites_opened", func=study.sites_opened, sense="min", units="1",
                    long_name="edge sites opened", spaces=("embodied_sites",),
                    description="Candidate sites given accelerators")
    yield Objective("embodied_chips_added", func=study.chips_added, sense="min", units="1",
                    long_name="accelerators added", spaces=("embodied_sites",),
                    description="Accelerators installed at the opened sites")


@hookimpl
def workbench_report_sections():
    yield ReportSection("embodied", "Embodied AI: control loops over the network",
                        render=lazy("workbench_embodied.report:render"), order=70)


@hookimpl
def workbench_commands():
    yield CommandSpec("embodied", "Deadline misses of device control loops per class and metro; a deadline calculator",
                      configure=lazy("workbench_embodied.cli:configure"), run=lazy("workbench_embodied.cli:run"))
