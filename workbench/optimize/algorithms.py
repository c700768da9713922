"""pymoo algorithms by name.

A study names its algorithm either by a short name (:data:`ALGORITHMS`, e.g. ``nsga2``,
``nsga3``) or by the dotted path of any pymoo algorithm class (``pymoo.algorithms.moo.sms.SMSEMOA``).
Only classes under ``pymoo.`` are importable this way: a study file never names arbitrary code
through the algorithm field.

Algorithms that take reference directions (NSGA-III, U-NSGA-III, MOEA/D, C-TAEA, RVEA) get
Das-Dennis directions by default: the largest number of partitions whose direction count does not
exceed the population size (Das and Dennis, SIAM J. Optim. 8(3), 1998; pymoo's ``das-dennis``).
Spaces with integer, boolean or choice variables (or their own sampler) get
:class:`~workbench.optimize.problem.MixedSampling` and :class:`~workbench.optimize.problem.MixedRepair`.
"""

from __future__ import annotations

import importlib
import inspect
from math import comb
from typing import Any

from ..errors import StudyError

#: short name -> pymoo class path
ALGORITHMS: dict[str, str] = {
    "nsga2": "pymoo.algorithms.moo.nsga2.NSGA2",
    "nsga3": "pymoo.algorithms.moo.nsga3.NSGA3",
    "unsga3": "pymoo.algorithms.moo.unsga3.UNSGA3",
    "moead": "pymoo.algorithms.moo.moead.MOEAD",
    "smsemoa": "pymoo.algorithms.moo.sms.SMSEMOA",
    "spea2": "pymoo.algorithms.moo.spea2.SPEA2",
    "ctaea": "pymoo.algorithms.moo.ctaea.CTAEA",
    "rvea": "pymoo.algorithms.moo.rvea.RVEA",
    "agemoea": "pymoo.algorithms.moo.age.AGEMOEA",
    "agemoea2": "pymoo.algorithms.moo.age2.AGEMOEA2",
    "ga": "pymoo.algorithms.soo.nonconvex.ga.GA",
    "de": "pymoo.algorithms.soo.nonconvex.de.DE",
    "pso": "pymoo.algorithms.soo.nonconvex.pso.PSO",
    "brkga": "pymoo.algorithms.soo.nonconvex.brkga.BRKGA",
}

__all__ = ["ALGORITHMS", "algorithm_class", "das_dennis_partitions", "make_algorithm"]


def algorithm_class(name: str):
    """The pymoo class for a short name or a ``pymoo.`` dotted path; :class:`StudyError` if unknown."""
    if not isinstance(name, str) or not name:
        raise StudyError(f"algorithm name must be a non-empty string, got {name!r}")
    path = ALGORITHMS.get(name.lower())
    if path is None:
        if not name.startswith("pymoo.") or "." not in name[6:]:
            raise StudyError(f"unknown algorithm {name!r}; expected one of {', '.join(ALGORITHMS)} or the dotted "
                             "path of a pymoo algorithm class (pymoo.algorithms....)")
        path = name
    module, _, cls_name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), cls_name)
    except (ImportError, AttributeError) as err:
        raise StudyError(f"algorithm {name!r} ({path}) cannot be loaded: {err}") from None
    from pymoo.core.algorithm import Algorithm

    if not (inspect.isclass(cls) and issubclass(cls, Algorithm)):
        raise StudyError(f"algorithm {name!r} ({path}) is not a pymoo Algorithm class")
    return cls


def _accepted(cls) -> set[str]:
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None:
            names.update(p for p in inspect.signature(init).parameters if p not in ("self", "kwargs", "args"))
    return names


def das_dennis_partitions(n_obj: int, n_max: int) -> int:
    """Largest number of partitions ``p`` with ``C(p + n_obj - 1, n_obj - 1) <= n_max`` (at least 1)."""
    p = 1
    while comb(p + 1 + n_obj - 1, n_obj - 1) <= n_max:
        p += 1
    return p


def make_algorithm(name: str, *, n_obj: int, pop_size: int, discrete: bool = False, custom_sampling: bool = False,
                   params: dict[str, Any] | None = None):
    """Instantiate a pymoo algorithm for a study.

    Parameters
    ----------
    name : str
        Short name or ``pymoo.`` class path.
    n_obj : int
        Number of objectives (for default reference directions).
    pop_size : int
        Population size [1].
    discrete : bool
        The space has integer/boolean/choice variables: add mixed sampling and rounding repair.
    custom_sampling : bool
        The space brings its own initial sampler.
    params : dict, optional
        Further keyword arguments of the pymoo class (plain values only).
    """
    from pymoo.util.ref_dirs import get_reference_directions

    from .problem import MixedRepair, MixedSampling

    cls = algorithm_class(name)
    accepted = _accepted(cls)
    kwargs: dict[str, Any] = dict(params or {})
    if "pop_size" in accepted and "pop_size" not in kwargs:
        kwargs["pop_size"] = int(pop_size)
    if "ref_dirs" in accepted and "ref_dirs" not in kwargs:
        parts = das_dennis_partitions(n_obj, int(pop_size)) if n_obj > 1 else 1
        kwargs["ref_dirs"] = get_reference_directions("das-dennis", n_obj, n_partitions=parts)
    if (discrete or custom_sampling) and "sampling" in accepted and "sampling" not in kwargs:
        kwargs["sampling"] = MixedSampling()
    if discrete and "repair" not in kwargs:
        kwargs["repair"] = MixedRepair()
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise StudyError(f"algorithm {name!r}: bad parameters {sorted(params or {})}: {err}") from None
