"""Compute-Network Workbench: model and optimise AI-native national compute networks.

The public API::

    import workbench as wb
    sc = wb.load_scenario("china-edwc")          # a Scenario (rich HTML in JupyterLab)
    cov = wb.analyze("coverage", sc, budget_ms=[1, 5, 20])   # an xr.Dataset
    wb.plugins()                                  # installed plugins as a DataFrame
"""

from __future__ import annotations

from importlib import metadata as _metadata

from .datasets import list_datasets, load_dataset, load_scenario
from .errors import (
    PluginError,
    Problem,
    ScenarioError,
    SchemaError,
    StudyError,
    UnitError,
    UnknownNameError,
    WorkbenchError,
    WorkbenchWarning,
)
from .hookspecs import hookimpl
from .model import Scenario
from .plugins import collect, get_plugin_manager, get_schema, plugins, refresh, register_plugin
from .schema import did_you_mean
from .sweep import sweep

try:
    __version__ = _metadata.version("compute-network-workbench")
except _metadata.PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"


def __getattr__(name: str):
    # Study pulls in pymoo: import it on first use so `import workbench` stays light.
    if name == "Study":
        from .optimize import Study

        return Study
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")


def list_analyses():
    """Registered analyses as a dict name -> :class:`~workbench.plugin_types.AnalysisSpec`."""
    return collect("analyses")


def compare(a: Scenario, b: Scenario):
    """What differs between two scenarios, one row per difference (see :func:`workbench.io.export.compare`)."""
    from .io.export import compare as _compare

    return _compare(a, b)


def analyze(name: str, scenario: Scenario, **params):
    """Run a registered analysis by name: ``analyze("coverage", sc, budget_ms=[1, 5, 20])``."""
    specs = list_analyses()
    if name not in specs:
        raise UnknownNameError(f"unknown analysis {name!r}{did_you_mean(name, specs)}; available: "
                               + ", ".join(f"{k} ({v.provided_by})" for k, v in specs.items()))
    return specs[name].func(scenario, **params)


__all__ = ["PluginError", "Problem", "Scenario", "ScenarioError", "SchemaError", "StudyError", "UnitError", "UnknownNameError",
           "WorkbenchError", "WorkbenchWarning", "__version__", "analyze", "compare", "list_analyses", "get_plugin_manager",
           "get_schema", "hookimpl", "list_datasets", "load_dataset", "load_scenario", "plugins", "refresh",
           "register_plugin", "sweep", "Study"]
