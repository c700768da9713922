"""Core built-in plugin: the core component kinds, shipped datasets, core analyses, readers.

Registered through the same hook machinery third-party plugins use (see
:data:`workbench.plugins.BUILTIN_PLUGINS`).
"""

from __future__ import annotations

from pathlib import Path

from .hookspecs import hookimpl
from .plugin_types import AnalysisSpec, DatasetSpec
from .schema import CORE_PARAMETERS, core_kinds


@hookimpl
def workbench_component_kinds():
    yield from core_kinds()


@hookimpl
def workbench_parameters():
    yield from CORE_PARAMETERS


def _load_china_edwc():
    from .datasets import dataset_path
    from .io.scenario_file import load_scenario_file

    return load_scenario_file(dataset_path("china-edwc/scenario.yaml"))


def _load_chips():
    from .datasets import load_catalogue

    return load_catalogue("catalogues/chips.csv", kind="chip")


@hookimpl
def workbench_datasets():
    yield DatasetSpec("china-edwc", load=_load_china_edwc, kind="scenario",
                      description="China East-Data-West-Compute: 8 hubs, 10 DC clusters, metro edge sites, "
                                  "metro populations, chip inventory")
    yield DatasetSpec("chips", load=_load_chips, kind="catalogue",
                      description="Accelerator catalogue (dense BF16/FP8 FLOP/s, HBM, TDP, scale-up links)")


@hookimpl
def workbench_analyses():
    from .analyses.coverage import coverage
    from .analyses.edge_siting import edge_siting
    from .analyses.network import latency_matrix, paths

    yield AnalysisSpec("coverage", func=coverage,
                       description="Share of population inside 1/5/20 ms one-way compute circles")
    yield AnalysisSpec("edge_siting", func=edge_siting,
                       description="Greedy new edge sites until a target share is inside a latency circle")
    yield AnalysisSpec("latency_matrix", func=latency_matrix,
                       description="One-way latency, path length and hops between sites over the link graph")
    yield AnalysisSpec("paths", func=paths,
                       description="The links of the shortest path between sites (for fault and traffic models)")


@hookimpl(trylast=True)
def workbench_read_topology(path: Path, format: str | None):
    from .io.topology import read_topology

    fmt = (format or Path(path).suffix.lstrip(".")).lower()
    if fmt not in ("graphml", "gml", "xml"):
        return None
    return read_topology(path, format=format)
