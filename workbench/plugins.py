"""Plugin manager: built-ins, entry points (group ``workbench``), listing and collection.

* No module-level caches: everything derived from the hooks (collected specs, the schema, the
  unit registry) lives on the manager and is dropped whenever a plugin is registered or
  unregistered, through pluggy's own :meth:`register` / :meth:`unregister` (so a plugin added
  with plain ``pm.register(obj)`` is seen at once, and listed as a ``session`` plugin).
* Hooks are called by pluggy (``pm.hook.workbench_analyses()``), so hook wrappers
  (``@hookimpl(wrapper=True)``) work. Each implementation is wrapped at registration so an
  exception inside it becomes a :class:`~workbench.errors.PluginError` naming the plugin and its
  version; registration hooks that return generators are run to the end inside that wrapper.
* Built-in core plugins (:data:`BUILTIN_PLUGINS`) register first; then every entry point of the
  group ``workbench``. A plugin that fails to load is a :class:`~workbench.errors.PluginWarning`
  and is listed as ``failed``; ``WORKBENCH_STRICT_PLUGINS=1`` raises instead.
  ``WORKBENCH_DISABLE_PLUGINS=a,b`` skips plugins by name (listed as ``disabled``); a name there
  that matches no plugin is a warning with a did-you-mean.
* The process-wide manager is held in a :class:`contextvars.ContextVar` (built on first use);
  :func:`use_plugin_manager` swaps another in for a ``with`` block (tests, notebooks).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import importlib
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any, TypeVar

import pluggy

from . import hookspecs
from .errors import PluginError, PluginWarning
from .plugin_types import SPEC_TYPES
from .schema import Schema, build_schema, did_you_mean
from .units import UnitRegistry, core_registry

T = TypeVar("T")

ENTRY_POINT_GROUP = "workbench"
BUILTIN_PLUGINS = ("workbench.builtins", "workbench.optimize.builtin_plugin")

#: hooks whose result is not a list of specs
_NOT_REGISTRATION = {"workbench_read_topology", "workbench_validate"}
_SPEC_CLASSES = tuple(SPEC_TYPES.values())


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


def _plugin_version(plugin: Any) -> str:
    return str(getattr(plugin, "__version__", "") or "")


class WorkbenchPluginManager(pluggy.PluginManager):
    """A pluggy manager that records provenance, isolates failures and owns the derived schema."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs.WorkbenchSpecs)
        self.records: dict[str, PluginRecord] = {}
        self._cache: dict[str, Any] = {}
        self._pending: dict[str, tuple[str, str, str]] = {}  # name -> (version, source, distribution)

    # -- pluggy's own registration, extended ---------------------------------------------------------
    def register(self, plugin: Any, name: str | None = None) -> str | None:
        """pluggy's ``register``, plus: wrap each implementation so errors name the plugin, record
        the plugin (``session`` unless registered through :meth:`register_plugin`) and drop caches."""
        plugin_name = super().register(plugin, name)
        if plugin_name is None:
            return None
        version, source, dist = self._pending.pop(plugin_name, (_plugin_version(plugin), "session", ""))
        for caller in self.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and not getattr(impl.function, "_workbench_wrapped", False):
                    impl.function = self._wrap(impl, caller.name, plugin_name)
        self.records[plugin_name] = PluginRecord(plugin_name, version, source, "active", dist, plugin=plugin)
        self._cache.clear()
        return plugin_name

    def unregister(self, plugin: Any = None, name: str | None = None) -> Any:
        """pluggy's ``unregister``, plus: forget the record and drop caches."""
        result = super().unregister(plugin, name)
        plugin_name = name or (self.get_name(plugin) if plugin is not None else None)
        for key, rec in list(self.records.items()):
            if key == plugin_name or (rec.plugin is not None and rec.plugin is result):
                del self.records[key]
        self._cache.clear()
        return result

    def _wrap(self, impl, hook_name: str, plugin_name: str):
        """The implementation, raising :class:`PluginError` naming the plugin when it fails.

        Results of registration hooks are run to the end (generators) inside the wrapper, so an
        error while yielding is attributed too, and every spec is stamped with ``provided_by``.
        """
        function = impl.function
        if impl.hookwrapper or impl.wrapper:
            return function  # wrappers see (and may handle) the errors of what they wrap
        registration = hook_name not in _NOT_REGISTRATION
        materialise = hook_name != "workbench_read_topology"

        @functools.wraps(function)
        def call(*args):
            try:
                result = function(*args)
                if materialise and result is not None and hasattr(result, "__iter__") \
                        and not isinstance(result, (str, bytes, dict)):
                    result = list(result)
                if registration:
                    label = self._label(plugin_name)
                    result = [dataclasses.replace(item, provided_by=label)
                              if isinstance(item, _SPEC_CLASSES) else item for item in (result or ())]
                return result
            except PluginError:
                raise
            except Exception as err:
                raise PluginError(
                    f"plugin {self._label(plugin_name)} failed in {hook_name}: {type(err).__name__}: {err}. "
                    "Please report this to the plugin's authors.") from err

        call._workbench_wrapped = True
        return call

    # -- registration with provenance -----------------------------------------------------------
    def register_plugin(self, plugin: Any, name: str, *, version: str = "", source: str = "session",
                        distribution: str = "") -> None:
        if name in _disabled():
            self.records[name] = PluginRecord(name, version, source, "disabled", distribution)
            return
        self._pending[name] = (version or _plugin_version(plugin), source, distribution)
        try:
            self.register(plugin, name=name)
            self.check_pending()
        except Exception as err:  # pluggy validation errors and anything else
            self._pending.pop(name, None)
            with contextlib.suppress(Exception):
                self.unregister(name=name)
            self._fail(name, version, source, distribution, f"could not register: {err}")
            return

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
        eps = sorted(metadata.entry_points(group=group), key=lambda e: e.name)
        for ep in eps:
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
                self._fail(ep.name, version, "entrypoint", dist_name, f"{type(err).__name__}: {err}", err)
                continue
            self.register_plugin(plugin, ep.name, version=version, source="entrypoint", distribution=dist_name)
        known = set(self.records) | {ep.name for ep in eps}
        for name in sorted(_disabled() - known):
            warnings.warn(f"WORKBENCH_DISABLE_PLUGINS names {name!r}, which is no installed plugin"
                          f"{did_you_mean(name, known)}; installed: {', '.join(sorted(known))}",
                          PluginWarning, stacklevel=2)

    # -- calling ----------------------------------------------------------------------------------
    def _label(self, plugin_name: str) -> str:
        rec = self.records.get(plugin_name)
        return f"{plugin_name} {rec.version}".strip() if rec else plugin_name

    def call_each(self, hook_name: str, **kwargs) -> Iterator[tuple[str, Any]]:
        """``(plugin name, result)`` of every implementation, builtins first (kept for callers that
        need to know who answered; :meth:`collect` and hook calls go through pluggy)."""
        hook = getattr(self.hook, hook_name)
        for impl in hook.get_hookimpls():
            if impl.hookwrapper or impl.wrapper:
                continue
            args = [kwargs[k] for k in impl.argnames if k in kwargs]
            yield impl.plugin_name, impl.function(*args)

    def collect(self, kind: str) -> dict[str, Any]:
        """Collect the specs of a registration hook (``datasets``, ``analyses``, ...) by name.

        The hook is called through pluggy (wrappers apply); each spec gets ``provided_by``;
        name conflicts are refused listing every provider, except an :class:`AnalysisSpec` whose
        ``replaces`` names the plugin of the analysis it replaces.
        """
        key_cache = f"collect:{kind}"
        if key_cache in self._cache:
            return self._cache[key_cache]
        spec_type = SPEC_TYPES[kind]
        results = getattr(self.hook, f"workbench_{kind}")()  # pluggy: wrappers apply; last registered first
        found: dict[str, Any] = {}
        providers: dict[str, list[str]] = {}
        replaced: list[tuple[str, Any]] = []
        for items in reversed(results):  # registration order: builtins first
            for item in items or ():
                if not isinstance(item, spec_type):
                    raise PluginError(f"plugin {getattr(item, 'provided_by', '') or '?'} yielded "
                                      f"{type(item).__name__} from workbench_{kind}; expected {spec_type.__name__}")
                key = f"{item.kind}.{item.name}" if kind == "component_attributes" else item.name
                if getattr(item, "replaces", ""):
                    replaced.append((key, item))
                    continue
                providers.setdefault(key, []).append(item.provided_by)
                found[key] = item
        conflicts = {k: v for k, v in providers.items() if len(v) > 1}
        if conflicts:
            lines = "\n".join(f"  - {k}: {', '.join(v)}" for k, v in sorted(conflicts.items()))
            raise PluginError(f"conflicting plugins for workbench_{kind}:\n{lines}\n"
                              "Uninstall or disable one of them (WORKBENCH_DISABLE_PLUGINS), or declare "
                              "`replaces=` on the one meant to replace the other.")
        replacers: dict[str, list[str]] = {}
        for key, item in replaced:
            replacers.setdefault(key, []).append(item.provided_by)
            if key not in found:
                raise PluginError(f"{item.provided_by} declares {key!r} with replaces={item.replaces!r}, but no "
                                  f"plugin provides {key!r} to replace{did_you_mean(key, found)}")
            if found[key].provided_by != self._label(item.replaces):
                raise PluginError(f"{item.provided_by} declares {key!r} with replaces={item.replaces!r}, but {key!r} "
                                  f"is provided by {found[key].provided_by}")
        for key, names in replacers.items():
            if len(names) > 1:
                raise PluginError(f"conflicting plugins for workbench_{kind}: {key!r} is replaced by "
                                  f"{', '.join(names)}; disable all but one")
        for key, item in replaced:
            found[key] = item
        result = dict(sorted(found.items()))
        self._cache[key_cache] = result
        return result

    def cached(self, key: str, build: Callable[[], T]) -> T:
        """``build()``, computed once per manager and kept until a plugin is registered or unregistered.

        For plugins: a catalogue or table derived from datasets (which other plugins may replace) is
        cached here instead of in a module-level ``functools.cache``, so another manager (a test, a
        notebook's :func:`refresh`) never sees a stale value. Prefix ``key`` with the plugin's name.
        Return read-only data (:func:`workbench.model.read_only`), as every caller shares it.
        """
        full = f"plugin:{key}"
        try:
            return self._cache[full]
        except KeyError:
            value = self._cache[full] = build()
            return value

    @property
    def units(self) -> UnitRegistry:
        """The unit registry: the project units plus every ``workbench_units`` definition."""
        if "units" not in self._cache:
            defs = [(d.definition, d.provided_by) for d in self.collect("units").values()]
            self._cache["units"] = core_registry().with_definitions(defs) if defs else core_registry()
        return self._cache["units"]

    @property
    def schema(self) -> Schema:
        """The schema built from this manager's hooks (kinds, attributes, parameters, choices, units)."""
        if "schema" not in self._cache:
            self._cache["schema"] = build_schema(self.collect("component_kinds"), self.collect("component_attributes"),
                                                 self.collect("parameters"), self.collect("choices"), self.units)
        return self._cache["schema"]

    def hooks_of(self, name: str) -> list[str]:
        plugin = self.get_plugin(name)
        if plugin is None:
            return []
        return sorted(h.name for h in (self.get_hookcallers(plugin) or []))


def new_plugin_manager(*, builtins: bool = True, entrypoints: bool = True,
                       group: str = ENTRY_POINT_GROUP) -> WorkbenchPluginManager:
    """A new manager with the built-ins and (by default) every installed entry point loaded."""
    pm = WorkbenchPluginManager()
    if builtins:
        pm.load_builtins()
    if entrypoints:
        pm.load_entrypoints(group)
    return pm


_CURRENT: contextvars.ContextVar[WorkbenchPluginManager | None] = contextvars.ContextVar(
    "workbench_plugin_manager", default=None)


def get_plugin_manager() -> WorkbenchPluginManager:
    """Return the current plugin manager, building the process-wide one on first use."""
    pm = _CURRENT.get()
    if pm is None:
        pm = new_plugin_manager()
        _CURRENT.set(pm)
    return pm


@contextlib.contextmanager
def use_plugin_manager(pm: WorkbenchPluginManager) -> Iterator[WorkbenchPluginManager]:
    """Make ``pm`` the current manager for a ``with`` block, restoring the previous one after."""
    token = _CURRENT.set(pm)
    try:
        yield pm
    finally:
        _CURRENT.reset(token)


def refresh() -> WorkbenchPluginManager:
    """Build a new current manager (e.g. after ``pip install`` of a plugin in a running kernel)."""
    old = _CURRENT.get()
    pm = new_plugin_manager()
    if old is not None:  # keep session plugins registered by hand
        for rec in list(old.records.values()):
            if rec.source == "session" and rec.status == "active" and rec.name not in pm.records:
                pm.register_plugin(rec.plugin, rec.name, version=rec.version, source="session")
    _CURRENT.set(pm)
    return pm


def collect(kind: str) -> dict[str, Any]:
    """Shortcut for ``get_plugin_manager().collect(kind)``."""
    return get_plugin_manager().collect(kind)


def get_schema() -> Schema:
    """The current manager's schema."""
    return get_plugin_manager().schema


@contextlib.contextmanager
def register_plugin(plugin: Any, name: str | None = None):
    """Register an ad-hoc plugin for a ``with`` block (notebooks, tests); unregister on exit."""
    pm = get_plugin_manager()
    name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
    pm.register_plugin(plugin, name, source="session")
    try:
        yield pm
    finally:
        pm.unregister_plugin(name)


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
