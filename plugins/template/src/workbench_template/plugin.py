"""Hook implementations of the template plugin (entry point ``template`` in group ``workbench``).

Each registration hook yields typed, frozen specs; the workbench stamps ``provided_by`` on them
("template 0.1.0") and refuses name clashes with other plugins. Keep hooks pure: no I/O beyond the
package's own files, and module-level callables only (they may be sent to Dask workers).
"""

from __future__ import annotations

import numpy as np

from workbench import hookimpl
from workbench.errors import Problem
from workbench.plugin_types import AnalysisSpec, AttributeSpec, CommandSpec, DatasetSpec

from . import __version__  # noqa: F401 - read by workbench.testing.plugin_manager for the version label
from .analysis import DEFAULT_UPTIME, available_compute
from .commands import configure, run
from .datasets import load_uptime_tiers


@hookimpl
def workbench_component_attributes():
    yield AttributeSpec(
        "site", "template_uptime", "float", "1", DEFAULT_UPTIME,
        "Share of the year the site's facility is available (template plugin); default 0.99982 = "
        "Uptime Institute Tier III as commonly cited (uptime-tiers dataset; assumed for sites without data)")


@hookimpl
def workbench_analyses():
    yield AnalysisSpec("available_compute", func=available_compute,
                       description="Installed dense throughput x facility uptime, per site [FLOP/s]")


@hookimpl
def workbench_datasets():
    yield DatasetSpec("uptime-tiers", load=load_uptime_tiers, kind="catalogue",
                      description="Data-centre tier availabilities I-IV (as commonly cited) [1] and downtime [h]")


@hookimpl
def workbench_commands():
    yield CommandSpec("uptime", "available compute of a scenario given site uptimes", configure=configure, run=run)


@hookimpl
def workbench_validate(scenario):
    site = scenario["site"]
    if "template_uptime" not in site:
        return
    uptime = site["template_uptime"].values
    for i in np.flatnonzero(~((uptime >= 0) & (uptime <= 1))):
        yield Problem("expected a share of the year in [0, 1]", field=f"site[{site['site'].values[i]}].template_uptime",
                      value=str(uptime[i]))
