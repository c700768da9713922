"""Typed, frozen specs that plugins yield from registration hooks.

Each spec validates itself in ``__post_init__`` and carries ``provided_by``, which the plugin
manager fills with ``"<plugin> <version>"`` so every contribution knows where it came from.
Callables in specs that travel to Dask workers must be module-level functions (picklable).
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from . import units as _units
from .errors import PluginError

_NAME = re.compile(r"^[a-z][a-z0-9_.\-]*$")
DTYPES = ("float", "int", "str", "bool")
#: Names that are not component kinds: the time axis of a scenario (dimension ``snapshot``, NetCDF/Zarr
#: groups ``/snapshots`` and ``/timeseries``).
RESERVED_KIND_NAMES = ("snapshot", "snapshots", "timeseries")


def _check_name(kind: str, name: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise PluginError(f"{kind} name {name!r} is invalid: expected lower-case letters, digits, '_', '.', '-'")


def _check_range(where: str, dtype: str, lo, hi, exclusive: str) -> None:
    if exclusive not in ("", "min", "max", "both"):
        raise PluginError(f"{where}: exclusive must be '', 'min', 'max' or 'both', got {exclusive!r}")
    if (lo is not None or hi is not None) and dtype not in ("float", "int"):
        raise PluginError(f"{where}: a range (min/max) needs a numeric dtype, not {dtype!r}")
    for label, v in (("min", lo), ("max", hi)):
        if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool) or math.isnan(v)):
            raise PluginError(f"{where}: {label} must be a number or None, got {v!r}")
    if lo is not None and hi is not None and lo > hi:
        raise PluginError(f"{where}: min {lo} is larger than max {hi}")


def _range_text(lo, hi, exclusive: str) -> str:
    lo_x, hi_x = exclusive in ("min", "both"), exclusive in ("max", "both")
    fmt = lambda v: f"{v:g}"  # noqa: E731
    if lo is not None and hi is not None:
        return f"in {'(' if lo_x else '['}{fmt(lo)}, {fmt(hi)}{')' if hi_x else ']'}"
    if lo is not None:
        return f"{'>' if lo_x else '>='} {fmt(lo)}"
    if hi is not None:
        return f"{'<' if hi_x else '<='} {fmt(hi)}"
    return ""


def _out_of_range(values, lo, hi, exclusive: str) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    bad = np.zeros(v.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        if lo is not None:
            bad |= (v <= lo) if exclusive in ("min", "both") else (v < lo)
        if hi is not None:
            bad |= (v >= hi) if exclusive in ("max", "both") else (v > hi)
    return bad & ~np.isnan(v)


@dataclass(frozen=True)
class AttributeSpec:
    """One attribute (column) of a component kind.

    Parameters
    ----------
    kind : str
        Component kind it belongs to (``site``, ``link``, ...).
    name : str
        Attribute name, unique within the kind; plugins should prefix theirs (``optical_...``).
    dtype : {"float", "int", "str", "bool"}
    unit : str
        Canonical unit (see :mod:`workbench.units`); ``""`` for text, ``"1"`` for dimensionless.
    default : Any
        Value used when the attribute is absent; ignored when ``required``.
    description : str
    required : bool
    choices : tuple or None
        Allowed values (text attributes and small integer codes). Plugins add values with
        :class:`ChoiceSpec`.
    min, max : float or None
        Physical or definitional range of numeric values, in the canonical ``unit`` (None = open).
        NaN is never out of range (it means "unknown" or "not set" where the description says so).
        Say in ``description`` why the range is what it is.
    exclusive : {"", "min", "max", "both"}
        Which ends of the range are excluded (``"min"``: values must be ``> min``).
    infinite : bool
        Whether ``inf`` / ``-inf`` are values of the attribute (an unlimited capacity, say); by
        default a non-finite number (``.inf`` in YAML, ``inf`` in a CSV) is refused at load.
    varies_in_time : bool
        Whether a scenario may give the attribute a time series over its snapshots
        (:meth:`workbench.Scenario.with_series`); the table's value stays the representative
        (annual) one. Default False.
    """

    kind: str
    name: str
    dtype: str
    unit: str = ""
    default: Any = None
    description: str = ""
    required: bool = False
    choices: tuple | None = None
    provided_by: str = ""
    min: float | None = None
    max: float | None = None
    exclusive: str = ""
    infinite: bool = False
    varies_in_time: bool = False

    def __post_init__(self) -> None:
        _check_name("attribute", self.name)
        where = f"attribute {self.kind}.{self.name}"
        if self.dtype not in DTYPES:
            raise PluginError(f"{where}: dtype {self.dtype!r} not in {DTYPES}")
        if hasattr(xr.Dataset, self.name):
            raise PluginError(f"{where}: the name shadows the xarray Dataset attribute {self.name!r} "
                              f"(table.{self.name} would not be the variable); choose another name")
        if self.varies_in_time and self.dtype not in ("float", "int"):
            raise PluginError(f"{where}: only numeric attributes can vary in time, not {self.dtype!r} ones")
        if self.dtype in ("float", "int"):
            try:  # syntax only: the unit itself is checked against the manager's registry when the schema is built
                _units.check_unit_text(self.unit or "1")
            except Exception as err:
                raise PluginError(f"{where}: {err}") from None
        _check_range(where, self.dtype, self.min, self.max, self.exclusive)
        if self.dtype in ("float", "int") and not self.required and self.default not in (None, ""):
            d = float(self.default)
            if not math.isnan(d) and self.out_of_range(np.array([d])).any():
                raise PluginError(f"{where}: default {self.default} is outside its own range ({self.range_text()})")

    def range_text(self) -> str:
        """The range as text: ``">= 1"``, ``"> 0"``, ``"in [-90, 90]"``, ``"in (0, 1]"`` (``""`` if open)."""
        return _range_text(self.min, self.max, self.exclusive)

    def out_of_range(self, values: np.ndarray) -> np.ndarray:
        """Boolean mask of values outside ``[min, max]`` (NaN is never out of range)."""
        return _out_of_range(values, self.min, self.max, self.exclusive)

    @property
    def long_name(self) -> str:
        return self.description.split(";")[0].split(" (")[0] or self.name

    def default_value(self):
        """The default converted to the attribute's dtype (NaN for an absent float default)."""
        d = self.default
        if self.dtype == "float":
            return math.nan if d is None or d == "" else float(d)
        if self.dtype == "int":
            return 0 if d is None or d == "" else int(d)
        if self.dtype == "bool":
            return False if d is None or d == "" else str(d).lower() in ("1", "true", "yes")
        return "" if d is None else str(d)


@dataclass(frozen=True)
class ComponentKind:
    """A component kind: one table of the scenario.

    ``dims`` is the kind's index: ``("site",)`` for sites, ``("site", "chip")`` for the
    inventory. A one-dimensional kind is indexed by string ids in a coordinate named ``dims[0]``.
    """

    name: str
    description: str = ""
    dims: tuple[str, ...] = ()
    attributes: tuple[AttributeSpec, ...] = ()
    provided_by: str = ""

    def __post_init__(self) -> None:
        _check_name("component kind", self.name)
        if self.name in RESERVED_KIND_NAMES or "snapshot" in self.dims:
            raise PluginError(f"component kind {self.name!r}: the names {', '.join(RESERVED_KIND_NAMES)} and the "
                              "dimension 'snapshot' are the scenario's time axis; choose another name")
        if not self.dims:
            object.__setattr__(self, "dims", (self.name,))


@dataclass(frozen=True)
class DatasetSpec:
    """A named dataset: a scenario or a catalogue, loaded from local files (never the network)."""

    name: str
    load: Callable[[], Any]
    description: str = ""
    kind: str = "scenario"
    provided_by: str = ""

    def __post_init__(self) -> None:
        _check_name("dataset", self.name)
        if self.kind not in ("scenario", "catalogue"):
            raise PluginError(f"dataset {self.name}: kind must be 'scenario' or 'catalogue'")


@dataclass(frozen=True)
class AnalysisSpec:
    """A named analysis: a pure function ``func(scenario, **params) -> xr.Dataset``."""

    name: str
    func: Callable[..., Any]
    description: str = ""
    provided_by: str = ""
    #: name of the plugin whose analysis of the same name this one replaces (e.g. ``"workbench.builtins"``);
    #: without it a second analysis of the same name is a conflict
    replaces: str = ""
    #: ``summary(result) -> str``: a few human-readable lines for the CLI (default: the result's
    #: ``attrs["summary_text"]``, else a generic per-variable summary)
    summary: Callable[[Any], str] | None = None

    def __post_init__(self) -> None:
        _check_name("analysis", self.name)
        if not callable(self.func):
            raise PluginError(f"analysis {self.name}: func must be callable, got {type(self.func).__name__}")
        if not isinstance(self.replaces, str):
            raise PluginError(f"analysis {self.name}: replaces must be a plugin name (str), got {self.replaces!r}")


@dataclass(frozen=True)
class DecisionSpace:
    """A family of decision variables for studies.

    ``build(scenario, **params)`` returns a :class:`workbench.optimize.Space`: the variables, a
    picklable ``context`` (precomputed numpy data) and optionally ``decode(context, X)``,
    ``sample(context, random_state, n)`` and ``describe(context, X)``. ``scenario`` is None for
    spaces that need none (``needs_scenario=False``). See :mod:`workbench.optimize.space`.
    """

    name: str
    build: Callable[..., Any]
    description: str = ""
    needs_scenario: bool = True
    provided_by: str = ""

    def __post_init__(self) -> None:
        _check_name("decision space", self.name)


def _check_spaces(kind: str, name: str, spaces: Any) -> tuple[str, ...]:
    if isinstance(spaces, str):
        spaces = (spaces,)
    spaces = tuple(spaces or ())
    for s in spaces:
        if not isinstance(s, str) or not s:
            raise PluginError(f"{kind} {name}: spaces must be decision-space names, got {s!r}")
    return spaces


@dataclass(frozen=True)
class Objective:
    """An objective for studies: ``func(context, decoded, **params)``.

    Vectorised (``vectorized=True``, the default): ``decoded`` is what the space's ``decode``
    returns for a block of ``n`` candidates and ``func`` returns an array of shape ``(n,)``.
    Elementwise (``vectorized=False``): ``decoded`` is one candidate and ``func`` returns a float;
    the study then evaluates that function row by row (still one chunk per Dask worker).

    ``sense`` is ``"min"`` or ``"max"``; the core negates maximised objectives for pymoo and
    un-negates them in results. ``spaces`` names the decision spaces the function understands
    (empty: any). Functions must be module-level (picklable by reference) and must not use the
    plugin manager or a Dask client: they run on workers.
    """

    name: str
    func: Callable[..., Any]
    sense: str = "min"
    units: str = "1"
    long_name: str = ""
    description: str = ""
    vectorized: bool = True
    spaces: tuple[str, ...] = ()
    provided_by: str = ""

    def __post_init__(self) -> None:
        _check_name("objective", self.name)
        if self.sense not in ("min", "max"):
            raise PluginError(f"objective {self.name}: sense must be 'min' or 'max', got {self.sense!r}")
        if not callable(self.func):
            raise PluginError(f"objective {self.name}: func must be callable, got {type(self.func).__name__}")
        object.__setattr__(self, "spaces", _check_spaces("objective", self.name, self.spaces))


@dataclass(frozen=True)
class Constraint:
    """A constraint for studies: ``func(context, decoded, **params)``; values <= 0 are feasible.

    Same calling convention as :class:`Objective` (``vectorized``, ``spaces``); one value per
    candidate (aggregate several limits, e.g. the summed excess over all sites).
    """

    name: str
    func: Callable[..., Any]
    units: str = "1"
    long_name: str = ""
    description: str = ""
    vectorized: bool = True
    spaces: tuple[str, ...] = ()
    provided_by: str = ""

    def __post_init__(self) -> None:
        _check_name("constraint", self.name)
        if not callable(self.func):
            raise PluginError(f"constraint {self.name}: func must be callable, got {type(self.func).__name__}")
        object.__setattr__(self, "spaces", _check_spaces("constraint", self.name, self.spaces))


@dataclass(frozen=True)
class ReportSection:
    """A section of the HTML report: ``render(run) -> str (HTML) | holoviews object | None``."""

    name: str
    title: str
    render: Callable[..., Any]
    order: int = 100
    provided_by: str = ""

    def __post_init__(self) -> None:
        _check_name("report section", self.name)


@dataclass(frozen=True)
class CommandSpec:
    """A CLI subcommand: ``configure(parser)`` adds arguments, ``run(args) -> int`` executes it."""

    name: str
    help: str
    configure: Callable[[Any], None]
    run: Callable[[Any], int]
    provided_by: str = ""

    def __post_init__(self) -> None:
        _check_name("command", self.name)


@dataclass(frozen=True)
class ParameterSpec:
    """A scenario-wide parameter (``parameters:`` in a scenario file), e.g. ``route_factor``.

    Parameters
    ----------
    name : str
        Unique; plugins prefix theirs with their short name.
    unit : str
        Canonical unit; values given with another unit of the same dimension are converted.
    default : float
        Value when the scenario does not set it (NaN = not set); say where it comes from in
        ``description`` (a source, or "assumed" with the reason).
    min, max, exclusive
        Range, as for :class:`AttributeSpec`.
    """

    name: str
    unit: str = "1"
    default: float = math.nan
    description: str = ""
    min: float | None = None
    max: float | None = None
    exclusive: str = ""
    provided_by: str = ""

    def __post_init__(self) -> None:
        _check_name("parameter", self.name)
        where = f"parameter {self.name}"
        try:
            _units.check_unit_text(self.unit or "1")
            float(self.default)
        except Exception as err:
            raise PluginError(f"{where}: {err}") from None
        _check_range(where, "float", self.min, self.max, self.exclusive)
        if not math.isnan(float(self.default)) and self.out_of_range(np.array([float(self.default)])).any():
            raise PluginError(f"{where}: default {self.default} is outside its own range ({self.range_text()})")

    def range_text(self) -> str:
        return _range_text(self.min, self.max, self.exclusive)

    def out_of_range(self, values) -> np.ndarray:
        return _out_of_range(values, self.min, self.max, self.exclusive)


@dataclass(frozen=True)
class ChoiceSpec:
    """A value a plugin adds to the ``choices`` of a text attribute (``link.tech``, ``device.access_tech``).

    ``delay`` is the one-way delay the choice adds where the path model asks for one [ms]
    (an access technology's user-plane delay); None where the choice has none of its own.
    """

    kind: str
    attribute: str
    value: str
    description: str = ""
    delay: float | None = None
    provided_by: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.value, str) or not self.value.strip() or self.value != self.value.strip():
            raise PluginError(f"choice for {self.kind}.{self.attribute}: value must be non-empty text without "
                              f"surrounding spaces, got {self.value!r}")
        if self.delay is not None and not (isinstance(self.delay, (int, float)) and math.isfinite(self.delay)
                                           and self.delay >= 0):
            raise PluginError(f"choice {self.kind}.{self.attribute}={self.value}: delay must be a finite number "
                              f">= 0 [ms] or None, got {self.delay!r}")

    @property
    def name(self) -> str:
        return f"{self.kind}.{self.attribute}={self.value}"


@dataclass(frozen=True)
class UnitDefinition:
    """A unit a plugin adds to the registry, in pint's definition syntax.

    Examples: ``UnitDefinition("rack = [rack]", "a rack position")``,
    ``UnitDefinition("kilorequest = 1000 * request = kreq")``.
    """

    definition: str
    description: str = ""
    provided_by: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.definition, str) or "=" not in self.definition or "\n" in self.definition:
            raise PluginError(f"unit definition {self.definition!r}: expected one pint definition "
                              "'name = expression [= alias ...]'")
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", self.name):
            raise PluginError(f"unit definition {self.definition!r}: the unit name must be a plain identifier")

    @property
    def name(self) -> str:
        return self.definition.split("=", 1)[0].strip()


class lazy:
    """A callable that imports ``"package.module:function"`` on first call, with that function's signature.

    Lets a plugin register analyses, report renderers and CLI commands without importing their
    (heavy) modules when the plugin is loaded: ``AnalysisSpec("fabric", func=lazy("my_plugin.analyses:fabric"))``.
    ``inspect.signature(lazy(...))`` is the target's (imported then), so the CLI converts and checks
    ``--param`` values against the real parameters.

    Parameters
    ----------
    target : str or callable
        ``"package.module:function"``, or the function itself.
    signature : str, optional
        ``"package.module:function"`` whose signature to report instead of the target's: for a
        function ``f(scenario, **params)`` that passes its parameters on to that function (a plugin
        analysis replacing a core one, say).
    """

    def __init__(self, target: str | Callable[..., Any], *, signature: str | None = None) -> None:
        for text in ([target] if isinstance(target, str) else []) + ([signature] if signature else []):
            module, _, name = text.partition(":")
            if not module or not name:
                raise PluginError(f"lazy target {text!r}: expected 'package.module:function'")
        if not isinstance(target, str) and not callable(target):
            raise PluginError(f"lazy target {target!r}: expected 'package.module:function' or a callable")
        self.target = target if isinstance(target, str) else f"{target.__module__}:{target.__qualname__}"
        self.signature_target = signature
        self._func: Callable[..., Any] | None = None if isinstance(target, str) else target

    @staticmethod
    def _import(target: str) -> Callable[..., Any]:
        import importlib

        module, _, name = target.partition(":")
        return getattr(importlib.import_module(module), name)

    def resolve(self) -> Callable[..., Any]:
        """The target function (imported on first use)."""
        if self._func is None:
            self._func = self._import(self.target)
        return self._func

    def __call__(self, *args, **kwargs):
        return self.resolve()(*args, **kwargs)

    @property
    def __signature__(self) -> inspect.Signature:
        return inspect.signature(self._import(self.signature_target) if self.signature_target else self.resolve())

    def __repr__(self) -> str:
        return f"lazy({self.target!r})"


SPEC_TYPES: Mapping[str, type] = {
    "units": UnitDefinition,
    "parameters": ParameterSpec,
    "choices": ChoiceSpec,
    "component_kinds": ComponentKind,
    "component_attributes": AttributeSpec,
    "datasets": DatasetSpec,
    "analyses": AnalysisSpec,
    "decision_spaces": DecisionSpace,
    "objectives": Objective,
    "constraints": Constraint,
    "report_sections": ReportSection,
    "commands": CommandSpec,
}


def prefixed_parameters(scenario, prefix: str, names, table, overrides: Mapping[str, Any] | None = None,
                        error: type[Exception] = PluginError) -> dict[str, float]:
    """A plugin's scenario parameters ``<prefix>_<name>`` as ``{name: float}``, with checked overrides.

    Parameters
    ----------
    scenario : Scenario or None
        Values the scenario sets (NaN or None = not set) are taken as they are (the schema checked them).
    prefix : str
        The plugin's parameter prefix (``"ops"``, ``"embodied"``).
    names : iterable of str
        The parameter names without the prefix (e.g. a dataclass's fields).
    table : iterable of (name, unit, default, description, min, max)
        The plugin's parameter table (what it yields as :class:`ParameterSpec`); gives the ranges.
    overrides : mapping, optional
        ``name`` or ``<prefix>_name`` -> value; each must be a known name and a number within its range.
    error : exception class
        Raised for a bad override, with a message naming the parameter and what was expected.
    """
    names = list(names)
    params = scenario.parameters if scenario is not None else {}
    out: dict[str, float] = {}
    for n in names:
        v = params.get(f"{prefix}_{n}") if hasattr(params, "get") else None
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            out[n] = float(v)
    bounds = {row[0].removeprefix(f"{prefix}_"): (row[4], row[5], row[1]) for row in table}
    for k, v in (overrides or {}).items():
        n = k.removeprefix(f"{prefix}_")
        if n not in names:
            raise error(f"unknown {prefix} parameter {k!r}; expected one of "
                        f"{', '.join(f'{prefix}_' + m for m in names)}")
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise error(f"{prefix} parameter {prefix}_{n}: expected a number, got {v!r}") from None
        lo, hi, unit = bounds.get(n, (None, None, ""))
        if math.isnan(f) or (lo is not None and f < lo) or (hi is not None and f > hi):
            raise error(f"{prefix} parameter {prefix}_{n} = {v!r}: expected {lo:g} to {hi:g} [{unit}]")
        out[n] = f
    return out
