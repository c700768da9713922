"""Hook implementations of the template plugin (entry point ``template`` in group ``workbench``).

Each registration hook yields typed, frozen specs; the workbench stamps ``provided_by`` on them
("template 0.1.0") and refuses name clashes with other plugins. Keep hooks pure: no I/O beyond the
package's own files, and module-level callables only (they may be sent to Dask workers).
"""

from __future__ import annotations

from workbench import hookimpl
from workbench.plugin_types import (
    AnalysisSpec,
    AttributeSpec,
    ChoiceSpec,
    CommandSpec,
    DatasetSpec,
    ParameterSpec,
    UnitDefinition,
    lazy,
)

from . import __version__  # noqa: F401 - read by workbench.testing.plugin_manager for the version label
from .analysis import DEFAULT_UPTIME, available_compute, coverage_of_available_sites
from .commands import configure, run
from .datasets import load_uptime_tiers


@hookimpl
def workbench_units():
    yield UnitDefinition("rack = [rack]", "One rack position in a data hall (template plugin)")


@hookimpl
def workbench_parameters():
    yield ParameterSpec(
        "template_min_uptime", "1", 0.0,
        "Sites whose template_uptime is below this share of the year are left out of the coverage analysis "
        "(template plugin); default 0 keeps every site (assumed: no filter unless a scenario asks for one); "
        "range: a share of the year", min=0.0, max=1.0)


@hookimpl
def workbench_choices():
    yield ChoiceSpec("link", "tech", "fso",
                     "Free-space optical link between buildings (template plugin); its delay is the link's own "
                     "length and equipment_delay")


@hookimpl
def workbench_component_attributes():
    yield AttributeSpec(
        "site", "template_uptime", "float", "1", DEFAULT_UPTIME,
        "Share of the year the site's facility is available (template plugin); default 0.99982 = "
        "Uptime Institute Tier III as commonly cited (uptime-tiers dataset; assumed for sites without data); "
        "range: a share of the year", min=0.0, max=1.0)
    yield AttributeSpec(
        "site", "template_racks", "float", "rack", None,
        "Rack positions in the site's data halls (template plugin; NaN = unknown); range: >= 0, a count",
        min=0.0)


@hookimpl
def workbench_analyses():
    yield AnalysisSpec("available_compute", func=available_compute,
                       description="Installed dense throughput x facility uptime, per site [FLOP/s]")
    # coverage_of_available_sites(scenario, **params) passes its parameters on to the core coverage: lazy(...,
    # signature=) gives it the core's signature, so `workbench analyze coverage --param ...` is checked as before
    yield AnalysisSpec("coverage", func=lazy(coverage_of_available_sites, signature="workbench.analyses.coverage:coverage"),
                       replaces="workbench.builtins",
                       description="Compute circles counting only sites whose uptime reaches the scenario's "
                                   "template_min_uptime (replaces the core coverage)")


@hookimpl
def workbench_datasets():
    yield DatasetSpec("uptime-tiers", load=load_uptime_tiers, kind="catalogue",
                      description="Data-centre tier availabilities I-IV (as commonly cited) [1] and downtime [h]")


@hookimpl
def workbench_commands():
    yield CommandSpec("uptime", "available compute of a scenario given site uptimes", configure=configure, run=run)
