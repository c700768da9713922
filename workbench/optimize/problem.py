"""A study assembled into a pymoo ``Problem`` and the pure function that evaluates a block of it.

:class:`EvalSpec` is everything a worker needs to evaluate candidates: the variables, the space's
context and decoder, and the objective and constraint callables with their parameters. It holds
plain data and module-level functions only, so it pickles small and by reference; it never holds
the plugin manager or a Dask client. :func:`evaluate_block` is the function the runners call, in
process or on a worker, on one chunk of the population.

pymoo always sees a vectorised problem (``elementwise=False``): when some objective can only take
one candidate at a time (``vectorized=False``), :func:`evaluate_block` loops over the rows of its
chunk for that function only, so even elementwise studies are evaluated one chunk per worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pymoo.core.problem import Problem
from pymoo.core.repair import Repair
from pymoo.core.sampling import Sampling

from ..errors import StudyError
from .space import Variable, decode_named

__all__ = ["EvalSpec", "MixedRepair", "MixedSampling", "StudyProblem", "evaluate_block", "serial_runner"]


@dataclass(frozen=True)
class EvalSpec:
    """What evaluating a candidate needs; shipped once per run to every worker.

    Attributes
    ----------
    variables : tuple of Variable
    context : Any
        The space's precomputed data.
    decode : callable or None
        ``decode(context, X)``; None means :func:`~workbench.optimize.space.decode_named`.
    objective_names, constraint_names : tuple of str
    objective_funcs, constraint_funcs : tuple of callables
        ``f(context, decoded) -> (n,)`` (vectorised) or a float (elementwise); parameters bound
        with ``functools.partial``.
    objective_vectorized, constraint_vectorized : tuple of bool
    signs : tuple of float
        +1 for minimised, -1 for maximised objectives (pymoo minimises).
    """

    variables: tuple[Variable, ...]
    context: Any
    decode: Callable | None
    objective_names: tuple[str, ...]
    objective_funcs: tuple[Callable, ...]
    objective_vectorized: tuple[bool, ...]
    signs: tuple[float, ...]
    constraint_names: tuple[str, ...] = ()
    constraint_funcs: tuple[Callable, ...] = ()
    constraint_vectorized: tuple[bool, ...] = ()

    @property
    def n_var(self) -> int:
        return len(self.variables)

    @property
    def n_obj(self) -> int:
        return len(self.objective_funcs)

    @property
    def n_constr(self) -> int:
        return len(self.constraint_funcs)

    @property
    def vectorized(self) -> bool:
        """True when every objective and constraint takes the whole block at once."""
        return all(self.objective_vectorized) and all(self.constraint_vectorized)

    def decoded(self, X: np.ndarray):
        if self.decode is None:
            return decode_named(self.variables, X)
        return self.decode(self.context, X)


def _column(value, n: int, what: str, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.size != n:
        raise StudyError(f"{what} {name!r} returned {arr.size} value(s) for {n} candidate(s) (shape "
                         f"{arr.shape}); a vectorised function must return one value per candidate, an "
                         "elementwise one (vectorized=False) a single number")
    return arr.reshape(n)


def evaluate_block(spec: EvalSpec, X: np.ndarray) -> dict[str, np.ndarray]:
    """Evaluate a block of candidates.

    Parameters
    ----------
    spec : EvalSpec
    X : ndarray, shape (n, n_var)
        Encoded candidates.

    Returns
    -------
    dict
        ``"F"``: ``(n, n_obj)`` objectives in pymoo's minimised form (maximised ones negated);
        ``"G"``: ``(n, n_constr)`` constraint values (<= 0 feasible).
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    n = X.shape[0]
    out = {"F": np.empty((n, spec.n_obj)), "G": np.empty((n, spec.n_constr))}
    if n == 0:
        return out
    groups = (("F", "objective", spec.objective_names, spec.objective_funcs, spec.objective_vectorized),
              ("G", "constraint", spec.constraint_names, spec.constraint_funcs, spec.constraint_vectorized))
    block = None
    rows = None
    for key, what, names, funcs, vectorized in groups:
        for j, (name, func, vec) in enumerate(zip(names, funcs, vectorized)):
            if vec:
                if block is None:
                    block = spec.decoded(X)
                out[key][:, j] = _column(func(spec.context, block), n, what, name)
            else:
                if rows is None:
                    rows = [spec.decoded(X[i]) for i in range(n)]
                out[key][:, j] = [_column(func(spec.context, r), 1, what, name)[0] for r in rows]
    if spec.n_obj:
        out["F"] *= np.asarray(spec.signs, dtype=float)
    return out


def serial_runner(spec: EvalSpec, X: np.ndarray) -> dict[str, np.ndarray]:
    """Evaluate in this process (the default runner)."""
    return evaluate_block(spec, X)


class StudyProblem(Problem):
    """The pymoo problem of a study; evaluation goes through a runner (serial or Dask).

    Parameters
    ----------
    spec : EvalSpec
    runner : callable, optional
        ``runner(spec, X) -> {"F", "G"}``; default :func:`serial_runner`. Dropped when the problem
        is pickled (checkpoints), so a checkpoint never holds a client.
    sample : callable, optional
        The space's ``sample(context, random_state, n)``.
    """

    def __init__(self, spec: EvalSpec, runner: Callable | None = None, sample: Callable | None = None) -> None:
        self.spec = spec
        self.runner = runner
        self.sample = sample
        lower = np.array([v.lower for v in spec.variables], dtype=float)
        upper = np.array([v.upper for v in spec.variables], dtype=float)
        super().__init__(n_var=spec.n_var, n_obj=spec.n_obj, n_ieq_constr=spec.n_constr, xl=lower, xu=upper,
                         elementwise=False)

    def _evaluate(self, X, out, *args, **kwargs):
        runner = self.runner or serial_runner
        res = runner(self.spec, np.asarray(X, dtype=float))
        out["F"] = res["F"]
        if self.spec.n_constr:
            out["G"] = res["G"]

    def __getstate__(self):
        state = self.__dict__.copy()
        state["runner"] = None
        return state


class MixedSampling(Sampling):
    """Initial population for spaces with discrete variables or their own sampler.

    Uses the space's ``sample(context, random_state, n)`` when given; otherwise real variables are
    uniform in their bounds and discrete ones uniform over their whole numbers (both ends included).
    """

    def _do(self, problem, n_samples, *args, random_state=None, **kwargs):
        if getattr(problem, "sample", None) is not None:
            X = np.asarray(problem.sample(problem.spec.context, random_state, n_samples), dtype=float)
            if X.shape != (n_samples, problem.n_var):
                raise StudyError(f"the decision space's sample() returned shape {X.shape}; expected "
                                 f"({n_samples}, {problem.n_var})")
            return np.clip(X, problem.xl, problem.xu)
        xl, xu = problem.xl, problem.xu
        mask = np.array([v.discrete for v in problem.spec.variables], dtype=bool)
        X = xl + (xu - xl) * random_state.random((n_samples, problem.n_var))
        if mask.any():
            lo = xl[mask].astype(np.int64)
            hi = xu[mask].astype(np.int64)
            X[:, mask] = random_state.integers(lo, hi + 1, size=(n_samples, int(mask.sum())))
        return X


class MixedRepair(Repair):
    """Round the discrete columns to whole numbers inside their bounds; leave real ones alone."""

    def _do(self, problem, X, **kwargs):
        X = np.asarray(X, dtype=float).copy()
        mask = np.array([v.discrete for v in problem.spec.variables], dtype=bool)
        if mask.any():
            X[:, mask] = np.clip(np.rint(X[:, mask]), problem.xl[mask], problem.xu[mask])
        return X
