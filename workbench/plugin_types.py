"""Typed, frozen specs that plugins yield from registration hooks.

Each spec validates itself in ``__post_init__`` and carries ``provided_by``, which the plugin
manager fills with ``"<plugin> <version>"`` so every contribution knows where it came from.
Callables in specs that travel to Dask workers must be module-level functions (picklable).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import units as _units
from .errors import PluginError

_NAME = re.compile(r"^[a-z][a-z0-9_.\-]*$")
DTYPES = ("float", "int", "str", "bool")


def _check_name(kind: str, name: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise PluginError(f"{kind} name {name!r} is invalid: expected lower-case letters, digits, '_', '.', '-'")


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
        Allowed values (text attributes and small integer codes).
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

    def __post_init__(self) -> None:
        _check_name("attribute", self.name)
        if self.dtype not in DTYPES:
            raise PluginError(f"attribute {self.kind}.{self.name}: dtype {self.dtype!r} not in {DTYPES}")
        if self.dtype in ("float", "int"):
            try:
                _units.dimension(self.unit or "1")
            except Exception as err:
                raise PluginError(f"attribute {self.kind}.{self.name}: {err}") from None

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

    def __post_init__(self) -> None:
        _check_name("analysis", self.name)


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


class lazy:
    """A callable that imports ``"package.module:function"`` on first call.

    Lets a plugin register report renderers and CLI commands without importing their (heavy)
    modules when the plugin is loaded: ``CommandSpec("fabric", ..., run=lazy("my_plugin.cli:run"))``.
    """

    def __init__(self, target: str) -> None:
        module, _, name = target.partition(":")
        if not module or not name:
            raise PluginError(f"lazy target {target!r}: expected 'package.module:function'")
        self.target = target
        self._func: Callable[..., Any] | None = None

    def __call__(self, *args, **kwargs):
        if self._func is None:
            import importlib

            module, _, name = self.target.partition(":")
            self._func = getattr(importlib.import_module(module), name)
        return self._func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"lazy({self.target!r})"


SPEC_TYPES: Mapping[str, type] = {
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
