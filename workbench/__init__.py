"""Compute-Network Workbench: model and optimise AI-native national compute networks.

The public API::

    import workbench as wb
    sc = wb.load_scenario("china-edwc")          # a Scenario (rich HTML in JupyterLab)
    cov = wb.analyze("coverage", sc, budget_ms=[1, 5, 20])   # an xr.Dataset
    wb.plugins()                                  # installed plugins as a DataFrame
"""

from __future__ import annotations

import inspect as _inspect
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
    """Run a registered analysis by name: ``analyze("coverage", sc, budget_ms=[1, 5, 20])``.

    Raises
    ------
    UnknownNameError
        No analysis of that name (with a did-you-mean).
    TypeError
        The parameters do not fit the analysis's signature (checked before it runs).
    PluginError
        A plugin's analysis failed with anything but a :class:`WorkbenchError`; the message names
        the plugin (``provided_by``) and the original exception is chained.
    """
    specs = list_analyses()
    if name not in specs:
        raise UnknownNameError(f"unknown analysis {name!r}{did_you_mean(name, specs)}; available: "
                               + ", ".join(f"{k} ({v.provided_by})" for k, v in specs.items()))
    spec = specs[name]
    try:
        _inspect.signature(spec.func).bind(scenario, **params)
    except TypeError as err:
        raise TypeError(f"analysis {name!r} ({spec.provided_by}): {err}") from None
    except ValueError:  # a callable without an introspectable signature: let the call decide
        pass
    if _is_core(spec.provided_by):
        return spec.func(scenario, **params)
    try:
        return spec.func(scenario, **params)
    except WorkbenchError:
        raise  # a plugin's deliberate error (unknown id, bad scenario ...) says what it means
    except Exception as err:
        first = str(err).splitlines()[0] if str(err) else ""
        raise PluginError(f"analysis {name!r} of plugin {spec.provided_by} failed: {type(err).__name__}"
                          + (f": {first}" if first else "") + " (a bug in the plugin, or a parameter value it "
                          "does not check: rerun with --debug for the traceback)") from err


def _is_core(provided_by: str) -> bool:
    from .plugins import BUILTIN_PLUGINS

    return (provided_by or "").split(" ")[0] in BUILTIN_PLUGINS


__all__ = ["PluginError", "Problem", "Scenario", "ScenarioError", "SchemaError", "StudyError", "UnitError", "UnknownNameError",
           "WorkbenchError", "WorkbenchWarning", "__version__", "analyze", "compare", "list_analyses", "get_plugin_manager",
           "get_schema", "hookimpl", "list_datasets", "load_dataset", "load_scenario", "plugins", "refresh",
           "register_plugin", "sweep", "Study"]
