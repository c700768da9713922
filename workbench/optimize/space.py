"""Decision variables and decision spaces of a study.

A :class:`Space` is what a :class:`~workbench.plugin_types.DecisionSpace` builds from a scenario:

* ``variables``: the decision variables, each real, integer, boolean or a choice among options.
  Every variable is encoded as one column of a float matrix ``X`` (``n_candidates x n_var``):
  integers as whole numbers, booleans as 0/1, a choice as the index of its option. That keeps the
  population a plain array, so evaluation can be vectorised and split into chunks for Dask.
* ``context``: picklable, precomputed data (numpy arrays) the objectives need; built once on the
  client and shipped once to every worker.
* ``decode(context, X)``: turns ``X`` into what objectives and constraints receive. ``X`` is 2-D
  ``(n, n_var)`` for vectorised functions and 1-D ``(n_var,)`` for elementwise ones. Without a
  ``decode`` the functions receive a dict ``{variable name: column}`` (options substituted for
  choices), see :func:`decode_named`.
* ``sample(context, random_state, n)``: optional initial population (else uniform per variable).
* ``describe(context, X)``: optional extra per-solution results (an ``xr.Dataset`` over
  ``solution``), e.g. chips per site for a map.

Every callable must be a module-level function (or a ``functools.partial`` of one) so that it
pickles by reference: nothing sent to a worker may hold the plugin manager or a client.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import StudyError

KINDS = ("real", "int", "bool", "choice")

__all__ = ["KINDS", "Binary", "Choice", "Integer", "Real", "Space", "Variable", "decode_named"]


@dataclass(frozen=True)
class Variable:
    """One decision variable.

    Parameters
    ----------
    name : str
        Unique within the space.
    kind : {"real", "int", "bool", "choice"}
    lower, upper : float
        Inclusive bounds of the encoded value (integers for ``int``; set automatically for
        ``bool`` (0, 1) and ``choice`` (0, n_options - 1)).
    options : tuple
        The options of a ``choice`` variable (encoded as their index).
    units : str
        Unit of the value (``"1"`` if dimensionless).
    long_name : str
        Label for plots.
    """

    name: str
    kind: str = "real"
    lower: float = 0.0
    upper: float = 1.0
    options: tuple = ()
    units: str = "1"
    long_name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise StudyError(f"variable name must be a non-empty string, got {self.name!r}")
        if self.kind not in KINDS:
            raise StudyError(f"variable {self.name}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.kind == "bool":
            object.__setattr__(self, "lower", 0.0)
            object.__setattr__(self, "upper", 1.0)
        elif self.kind == "choice":
            if len(self.options) == 0:
                raise StudyError(f"variable {self.name}: a choice needs at least one option")
            object.__setattr__(self, "options", tuple(self.options))
            object.__setattr__(self, "lower", 0.0)
            object.__setattr__(self, "upper", float(len(self.options) - 1))
        try:
            lo, hi = float(self.lower), float(self.upper)
        except (TypeError, ValueError):
            raise StudyError(f"variable {self.name}: bounds must be numbers, got lower={self.lower!r}, "
                             f"upper={self.upper!r}") from None
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise StudyError(f"variable {self.name}: bounds must be finite, got [{lo}, {hi}]")
        if lo > hi:
            raise StudyError(f"variable {self.name}: lower bound {lo} is above upper bound {hi}")
        if self.kind == "int" and (lo != round(lo) or hi != round(hi)):
            raise StudyError(f"variable {self.name}: integer bounds must be whole numbers, got [{lo}, {hi}]")
        object.__setattr__(self, "lower", lo)
        object.__setattr__(self, "upper", hi)

    @property
    def discrete(self) -> bool:
        """True for integer, boolean and choice variables (encoded as whole numbers)."""
        return self.kind != "real"


def Real(name: str, lower: float, upper: float, units: str = "1", long_name: str = "") -> Variable:
    """A continuous variable in ``[lower, upper]``."""
    return Variable(name, "real", lower, upper, units=units, long_name=long_name)


def Integer(name: str, lower: int, upper: int, units: str = "1", long_name: str = "") -> Variable:
    """An integer variable in ``{lower, ..., upper}``."""
    return Variable(name, "int", lower, upper, units=units, long_name=long_name)


def Binary(name: str, long_name: str = "") -> Variable:
    """A boolean (open/close) variable, encoded 0/1."""
    return Variable(name, "bool", long_name=long_name)


def Choice(name: str, options: Sequence, long_name: str = "") -> Variable:
    """A choice among ``options`` (e.g. technologies), encoded as the option's index."""
    return Variable(name, "choice", options=tuple(options), long_name=long_name)


def decode_named(variables: Sequence[Variable], X: np.ndarray) -> dict[str, Any]:
    """The default decoding: ``{name: value}`` with integers, booleans and options substituted.

    Parameters
    ----------
    variables : sequence of Variable
    X : ndarray, shape (n, n_var) or (n_var,)
        Encoded candidates.

    Returns
    -------
    dict
        Columns of shape ``(n,)`` for a 2-D ``X``; scalars for a 1-D ``X``.
    """
    X = np.asarray(X, dtype=float)
    out: dict[str, Any] = {}
    for j, var in enumerate(variables):
        col = X[..., j]
        if var.kind == "int":
            val = np.rint(col).astype(np.int64)
        elif var.kind == "bool":
            val = np.rint(col).astype(bool)
        elif var.kind == "choice":
            idx = np.clip(np.rint(col).astype(np.int64), 0, len(var.options) - 1)
            val = np.asarray(var.options, dtype=object)[idx]
        else:
            val = col
        out[var.name] = val.item() if np.ndim(val) == 0 and hasattr(val, "item") else val
    return out


@dataclass(frozen=True)
class Space:
    """Decision variables plus what the objectives need to evaluate them (see module docstring)."""

    variables: tuple[Variable, ...]
    context: Any = None
    decode: Callable[[Any, np.ndarray], Any] | None = None
    sample: Callable[[Any, np.random.Generator, int], np.ndarray] | None = None
    describe: Callable[[Any, np.ndarray], Any] | None = None
    name: str = ""
    attrs: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        variables = tuple(self.variables)
        if not variables:
            raise StudyError(f"decision space {self.name or '<unnamed>'} has no variables")
        for v in variables:
            if not isinstance(v, Variable):
                raise StudyError(f"decision space {self.name or '<unnamed>'}: expected Variable objects, got "
                                 f"{type(v).__name__}")
        names = [v.name for v in variables]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise StudyError(f"decision space {self.name or '<unnamed>'}: duplicate variable names {dupes}")
        object.__setattr__(self, "variables", variables)

    @property
    def n_var(self) -> int:
        return len(self.variables)

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]

    @property
    def lower(self) -> np.ndarray:
        """Lower bounds of the encoded variables, shape ``(n_var,)``."""
        return np.array([v.lower for v in self.variables], dtype=float)

    @property
    def upper(self) -> np.ndarray:
        """Upper bounds of the encoded variables, shape ``(n_var,)``."""
        return np.array([v.upper for v in self.variables], dtype=float)

    @property
    def discrete_mask(self) -> np.ndarray:
        """Boolean mask of the integer, boolean and choice columns."""
        return np.array([v.discrete for v in self.variables], dtype=bool)
