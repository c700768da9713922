"""Benchmark problems run through the study machinery (checks against pymoo, runner benchmarks).

``zdt`` is the decision space of Zitzler, Deb and Thiele's test suite (n real variables in
[0, 1]); ``zdt1_f1`` and ``zdt1_f2`` are ZDT1's objectives, written exactly as pymoo 0.6.2's
``pymoo.problems.multi.zdt.ZDT1._evaluate`` computes them, so a study reproduces pymoo's own
runs bit for bit (Zitzler, Deb, Thiele, "Comparison of Multiobjective Evolutionary Algorithms:
Empirical Results", Evolutionary Computation 8(2), 2000). Its Pareto front is
``f2 = 1 - sqrt(f1)``, ``f1`` in [0, 1].

``cost_ms`` adds a synthetic evaluation cost: the function sleeps ``cost_ms`` per candidate
(simulating an expensive simulator call) so that runner overheads and parallel speed-ups can be
measured; it does not change the values.
"""

from __future__ import annotations

import time

import numpy as np
from pymoo.core.problem import ElementwiseProblem

from .space import Real, Space

__all__ = ["ZDT1Elementwise", "build_zdt", "zdt1_f1", "zdt1_f2"]


def _matrix(context, X) -> np.ndarray:
    """Decode: the candidates as a 2-D float matrix ``(n, n_var)``."""
    return np.atleast_2d(np.asarray(X, dtype=float))


def build_zdt(n_var: int = 30) -> Space:
    """The ZDT decision space: ``n_var`` real variables ``x1..xn`` in [0, 1]."""
    from .study import ParameterError

    if isinstance(n_var, bool) or not isinstance(n_var, (int, np.integer)) or n_var < 2:
        raise ParameterError("n_var", f"expected an integer >= 2, got {n_var!r}")
    variables = tuple(Real(f"x{i + 1}", 0.0, 1.0) for i in range(int(n_var)))
    return Space(variables, context={"n_var": int(n_var)}, decode=_matrix, name="zdt")


def _cost(cost_ms: float, n: int) -> None:
    if cost_ms > 0:
        time.sleep(cost_ms * 1e-3 * n)


def zdt1_f1(context, X, cost_ms: float = 0.0) -> np.ndarray:
    """ZDT1 first objective ``f1 = x1`` [1]; sleeps ``cost_ms`` [ms] per candidate."""
    _cost(cost_ms, len(X))
    return X[:, 0]


def zdt1_f2(context, X, cost_ms: float = 0.0) -> np.ndarray:
    """ZDT1 second objective ``f2 = g (1 - sqrt(f1 / g))``, ``g = 1 + 9 / (n - 1) sum x2..xn`` [1]."""
    _cost(cost_ms, len(X))
    f1 = X[:, 0]
    g = 1 + 9.0 / (X.shape[1] - 1) * np.sum(X[:, 1:], axis=1)
    return g * (1 - np.power((f1 / g), 0.5))


class ZDT1Elementwise(ElementwiseProblem):
    """ZDT1 as a pymoo ``ElementwiseProblem`` with the same ``cost_ms`` (sleep per candidate).

    The baseline for pymoo's own ``DaskParallelization``, which parallelises elementwise problems
    only: ``ZDT1Elementwise(elementwise_runner=DaskParallelization(client))``. Importable, so it
    pickles by reference on workers (STACK-NOTES 2).
    """

    def __init__(self, n_var: int = 30, cost_ms: float = 0.0, **kwargs) -> None:
        self.cost_ms = float(cost_ms)
        super().__init__(n_var=n_var, n_obj=2, xl=0.0, xu=1.0, **kwargs)

    def _evaluate(self, x, out, *args, **kwargs):
        X = np.asarray(x, dtype=float)[None, :]
        out["F"] = np.array([zdt1_f1(None, X, self.cost_ms)[0], zdt1_f2(None, X)[0]])
