"""Plugin manager: built-ins, entry points (group ``workbench``), listing and collection.

* The manager is built lazily and cached (:func:`get_plugin_manager`); importing ``workbench``
  imports no plugin.
* Built-in core plugins (:data:`BUILTIN_PLUGINS`) register first; then every entry point of the
  group ``workbench`` is loaded one at a time. A plugin that fails to load is a
  :class:`~workbench.errors.PluginWarning` and is listed as ``failed``;
  ``WORKBENCH_STRICT_PLUGINS=1`` raises :class:`~workbench.errors.PluginError` instead.
  ``WORKBENCH_DISABLE_PLUGINS=a,b`` skips plugins by name (listed as ``disabled``).
* :func:`collect` is the only way core code reads registration hooks: it calls one
  implementation at a time, wraps failures in ``PluginError`` naming plugin and version, stamps
  ``provided_by`` on every spec and refuses name conflicts, listing every provider.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginError, PluginWarning
from .plugin_types import SPEC_TYPES

ENTRY_POINT_GROUP = "workbench"
BUILTIN_PLUGINS = ("workbench.builtins", "workbench.optimize.builtin_plugin")


@dataclass
class PluginRecord:
    name: str
    version: str
    source: str  # builtin | entrypoint | session
    status: str  # active | disabled | failed
    distribution: str = ""
    error: str = ""
    plugin: Any = None


def _strict() -> bool:
    return os.environ.get("WORKBENCH_STRICT_PLUGINS", "").strip().lower() in ("1", "true", "yes")


def _disabled() -> set[str]:
    raw = os.environ.get("WORKBENCH_DISABLE_PLUGINS", "")
    return {p.strip() for p in raw.split(",") if p.strip()}


def _workbench_version() -> str:
    try:
        return metadata.version("compute-network-workbench")
    except metadata.PackageNotFoundError:
        return "0+unknown"


class WorkbenchPluginManager(pluggy.PluginManager):
    """A pluggy manager that records provenance and isolates failures."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs.WorkbenchSpecs)
        self.records: dict[str, PluginRecord] = {}
        self._cache: dict[str, dict[str, Any]] = {}

    # -- registration ---------------------------------------------------------------------------
    def register_plugin(self, plugin: Any, name: str, *, version: str = "", source: str = "session",
                        distribution: str = "") -> None:
        if name in _disabled():
            self.records[name] = PluginRecord(name, version, source, "disabled", distribution)
            return
        try:
            self.register(plugin, name=name)
            self.check_pending()
        except Exception as err:  # pluggy validation errors and anything else
            with contextlib.suppress(Exception):
                self.unregister(name=name)
            self._fail(name, version, source, distribution, f"could not register: {err}")
            return
        self.records[name] = PluginRecord(name, version, source, "active", distribution, plugin=plugin)
        self._cache.clear()

    def unregister_plugin(self, name: str) -> None:
        with contextlib.suppress(ValueError):
            self.unregister(name=name)
        self.records.pop(name, None)
        self._cache.clear()

    def _fail(self, name: str, version: str, source: str, distribution: str, message: str,
              err: BaseException | None = None) -> None:
        label = f"{name} {version}".strip()
        text = f"workbench plugin {label} failed to load: {message}"
        self.records[name] = PluginRecord(name, version, source, "failed", distribution, message)
        if _strict():
            raise PluginError(text) from err
        warnings.warn(text + " (set WORKBENCH_STRICT_PLUGINS=1 to raise)", PluginWarning, stacklevel=3)

    def load_builtins(self) -> None:
        version = _workbench_version()
        for modname in BUILTIN_PLUGINS:
            mod = importlib.import_module(modname)
            self.register_plugin(mod, modname, version=version, source="builtin",
                                 distribution="compute-network-workbench")

    def load_entrypoints(self, group: str = ENTRY_POINT_GROUP) -> None:
        for ep in sorted(metadata.entry_points(group=group), key=lambda e: e.name):
            dist = getattr(ep, "dist", None)
            dist_name = dist.metadata["Name"] if dist is not None else ""
            version = dist.version if dist is not None else ""
            if ep.name in self.records:
                continue
            if ep.name in _disabled():
                self.records[ep.name] = PluginRecord(ep.name, version, "entrypoint", "disabled", dist_name)
                continue
            try:
                plugin = ep.load()
            except Exception as err:
                self._fail(ep.name, version, "entrypoint", dist_name,
                           f"{type(err).__name__}: {err}", err)
                continue
            self.register_plugin(plugin, ep.name, version=version, source="entrypoint",
                                 distribution=dist_name)

    # -- calling ----------------------------------------------------------------------------------
    def _label(self, plugin_name: str) -> str:
        rec = self.records.get(plugin_name)
        return f"{plugin_name} {rec.version}".strip() if rec else plugin_name

    def call_each(self, hook_name: str, **kwargs) -> Iterator[tuple[str, Any]]:
        """Call every implementation of ``hook_name`` alone, yielding ``(plugin name, result)``.

        An exception inside an implementation becomes a :class:`PluginError` naming the plugin
        and its version (in strict mode it is raised; otherwise it is raised too, because a
        half-applied registration would silently change results).
        """
        hook = getattr(self.hook, hook_name)
        for impl in hook.get_hookimpls():  # registration order: builtins first (pluggy calls LIFO)
            args = {k: kwargs[k] for k in impl.argnames if k in kwargs}
            try:
                result = impl.function(**args)
                if result is not None and hasattr(result, "__iter__") and not isinstance(result, (str, bytes)) \
                        and hook_name != "workbench_read_topology":
                    result = list(result)
            except PluginError:
                raise
            except Exception as err:
                raise PluginError(
                    f"plugin {self._label(impl.plugin_name)} failed in {hook_name}: "
                    f"{type(err).__name__}: {err}. Please report this to the plugin's authors."
                ) from err
            yield impl.plugin_name, result

    def collect(self, kind: str) -> dict[str, Any]:
        """Collect the specs of a registration hook (``datasets``, ``analyses``, ...) by name."""
        if kind in self._cache:
            return self._cache[kind]
        spec_type = SPEC_TYPES[kind]
        found: dict[str, Any] = {}
        providers: dict[str, list[str]] = {}
        for plugin_name, items in self.call_each(f"workbench_{kind}"):
            for item in items or ():
                if not isinstance(item, spec_type):
                    raise PluginError(
                        f"plugin {self._label(plugin_name)} yielded {type(item).__name__} from "
                        f"workbench_{kind}; expected {spec_type.__name__}")
                item = dataclasses.replace(item, provided_by=self._label(plugin_name))
                key = f"{item.kind}.{item.name}" if kind == "component_attributes" else item.name
                providers.setdefault(key, []).append(self._label(plugin_name))
                found[key] = item
        conflicts = {k: v for k, v in providers.items() if len(v) > 1}
        if conflicts:
            lines = "\n".join(f"  - {k}: {', '.join(v)}" for k, v in sorted(conflicts.items()))
            raise PluginError(f"conflicting plugins for workbench_{kind}:\n{lines}\n"
                              "Uninstall or disable one of them (WORKBENCH_DISABLE_PLUGINS).")
        result = dict(sorted(found.items()))
        self._cache[kind] = result
        return result

    def hooks_of(self, name: str) -> list[str]:
        plugin = self.get_plugin(name)
        if plugin is None:
            return []
        return sorted(h.name for h in (self.get_hookcallers(plugin) or []))


_MANAGER: WorkbenchPluginManager | None = None


def get_plugin_manager() -> WorkbenchPluginManager:
    """Return the process-wide plugin manager, building it on first use."""
    global _MANAGER
    if _MANAGER is None:
        pm = WorkbenchPluginManager()
        pm.load_builtins()
        pm.load_entrypoints()
        _MANAGER = pm
    return _MANAGER


def refresh() -> WorkbenchPluginManager:
    """Forget the cached manager (e.g. after ``pip install`` of a plugin in a running kernel)."""
    global _MANAGER
    _MANAGER = None
    from . import schema

    schema.get_schema.cache_clear()
    return get_plugin_manager()


def collect(kind: str) -> dict[str, Any]:
    """Shortcut for ``get_plugin_manager().collect(kind)``."""
    return get_plugin_manager().collect(kind)


@contextlib.contextmanager
def register_plugin(plugin: Any, name: str | None = None):
    """Register an ad-hoc plugin for a ``with`` block (notebooks, tests); unregister on exit."""
    pm = get_plugin_manager()
    name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
    pm.register_plugin(plugin, name, source="session")
    from . import schema

    schema.get_schema.cache_clear()
    try:
        yield pm
    finally:
        pm.unregister_plugin(name)
        schema.get_schema.cache_clear()


def plugins(all: bool = False):
    """List plugins as a DataFrame: name, version, source, status, hooks, error.

    Core built-ins are hidden unless ``all=True``.
    """
    import pandas as pd

    pm = get_plugin_manager()
    rows = []
    for rec in pm.records.values():
        if rec.source == "builtin" and not all:
            continue
        rows.append({"name": rec.name, "version": rec.version, "distribution": rec.distribution,
                     "source": rec.source, "status": rec.status,
                     "hooks": ", ".join(pm.hooks_of(rec.name)), "error": rec.error})
    return pd.DataFrame(rows, columns=["name", "version", "distribution", "source", "status", "hooks", "error"])
