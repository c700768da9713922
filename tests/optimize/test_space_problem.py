"""Variables, decoding, block evaluation, mixed-variable operators, what travels to workers."""

from __future__ import annotations

import functools
import pickle

import cloudpickle
import numpy as np
import pytest

from workbench.errors import StudyError
from workbench.optimize import Binary, Choice, Integer, Real, Space, Study, Variable, evaluate_block
from workbench.optimize.problem import EvalSpec, MixedRepair, MixedSampling, StudyProblem
from workbench.optimize.space import decode_named


def test_variable_validation():
    with pytest.raises(StudyError, match="lower bound 2.0 is above upper bound 1.0"):
        Real("x", 2, 1)
    with pytest.raises(StudyError, match="whole numbers"):
        Integer("n", 0, 2.5)
    with pytest.raises(StudyError, match="finite"):
        Real("x", 0, float("inf"))
    with pytest.raises(StudyError, match="kind"):
        Variable("x", "complex")
    c = Choice("tech", ["fibre", "5g-a", "pon"])
    assert (c.lower, c.upper, c.discrete) == (0.0, 2.0, True)
    b = Binary("open")
    assert (b.lower, b.upper) == (0.0, 1.0)
    with pytest.raises(StudyError, match="duplicate"):
        Space((Real("x", 0, 1), Real("x", 0, 1)))


def test_decode_named_block_and_row():
    variables = (Real("x", 0, 1), Integer("n", 0, 9), Binary("open"), Choice("tech", ["a", "b", "c"]))
    X = np.array([[0.25, 3.0, 1.0, 2.0], [0.5, 7.0, 0.0, 0.0]])
    d = decode_named(variables, X)
    assert d["x"].tolist() == [0.25, 0.5]
    assert d["n"].tolist() == [3, 7] and d["n"].dtype == np.int64
    assert d["open"].tolist() == [True, False]
    assert d["tech"].tolist() == ["c", "a"]
    row = decode_named(variables, X[0])
    assert row == {"x": 0.25, "n": 3, "open": True, "tech": "c"}


def _vec_cost(context, d):
    return d["x"] + 2 * d["n"]


def _row_cost(context, d):           # elementwise: plain Python on one candidate
    return d["x"] + 2 * d["n"]


def _vec_gain(context, d):
    return np.where(d["open"], 10.0, 0.0) + np.array([len(t) for t in d["tech"]])


def _bad_shape(context, d):
    return np.zeros(3)


def _spec(funcs, vectorized, signs):
    variables = (Real("x", 0, 1), Integer("n", 0, 9), Binary("open"), Choice("tech", ["a", "bb", "ccc"]))
    return EvalSpec(variables, None, None, tuple(f.__name__ for f in funcs), tuple(funcs), tuple(vectorized),
                    tuple(signs))


def test_evaluate_block_vectorised_equals_elementwise_and_negates_max():
    X = np.array([[0.25, 3, 1, 2], [0.5, 7, 0, 0], [1.0, 0, 1, 1]], dtype=float)
    vec = evaluate_block(_spec([_vec_cost, _vec_gain], [True, True], [1.0, -1.0]), X)
    mix = evaluate_block(_spec([_row_cost, _vec_gain], [False, True], [1.0, -1.0]), X)
    # cost = x + 2 n; gain = 10 open + len(tech), maximised -> negated for pymoo
    expected = np.array([[6.25, -13.0], [14.5, -1.0], [1.0, -12.0]])
    np.testing.assert_array_equal(vec["F"], expected)
    np.testing.assert_array_equal(mix["F"], expected)
    assert vec["G"].shape == (3, 0)


def test_evaluate_block_reports_wrong_shape():
    with pytest.raises(StudyError, match="objective '_bad_shape' returned 3 value"):
        evaluate_block(_spec([_bad_shape], [True], [1.0]), np.zeros((2, 4)))


def test_mixed_operators_round_and_bound():
    spec = _spec([_vec_cost], [True], [1.0])
    problem = StudyProblem(spec)
    X = MixedSampling()._do(problem, 400, random_state=np.random.default_rng(0))
    discrete = X[:, 1:]
    assert np.all(discrete == np.rint(discrete))
    # integers are uniform over 0..9 inclusive: both ends appear in 400 draws (P(miss) = 0.9^400)
    assert X[:, 1].min() == 0 and X[:, 1].max() == 9
    assert set(np.unique(X[:, 3])) == {0.0, 1.0, 2.0}
    assert np.all((X[:, 0] >= 0) & (X[:, 0] <= 1))
    repaired = MixedRepair()._do(problem, np.array([[0.3, 3.6, 0.4, 2.7], [0.7, -0.2, 1.2, 5.0]]))
    np.testing.assert_array_equal(repaired, [[0.3, 4.0, 0.0, 2.0], [0.7, 0.0, 1.0, 2.0]])


def test_mixed_variable_study_finds_the_optimum():
    # minimise (n - 7)^2 + (x - 0.25)^2 + price[tech] + 5 (not open): optimum n = 7, x = 0.25, tech = "b", open
    price = {"a": 3.0, "b": 0.5, "c": 2.0}

    def f(context, d):
        return ((d["n"] - 7) ** 2 + (d["x"] - 0.25) ** 2 + np.array([price[t] for t in d["tech"]])
                + np.where(d["open"], 0.0, 5.0))

    space = Space((Real("x", 0, 1), Integer("n", 0, 20), Binary("open"), Choice("tech", ["a", "b", "c"])))
    study = Study(space=space, objectives=[f], algorithm="ga", pop_size=30, n_gen=40, seed=2)
    res = study.optimize("serial")
    best = res.sel(solution=0)
    x, n, is_open, tech = best["X"].values
    assert (n, is_open, tech) == (7.0, 1.0, 1.0)
    assert abs(x - 0.25) < 0.05
    assert float(best["f"]) == pytest.approx(0.5 + (x - 0.25) ** 2)


def test_spec_shipped_to_workers_holds_no_manager_or_client():
    import workbench as wb

    sc = wb.load_scenario("china-edwc")
    study = Study(space="placement", scenario=sc, objectives=["annual_cost", "mean_latency"],
                  constraints=[("demand_served", {"min_share": 0.9})])
    blob = cloudpickle.dumps(study.spec)
    for forbidden in (b"WorkbenchPluginManager", b"PluginManager", b"distributed.client", b"Client"):
        assert forbidden not in blob
    # picklable by reference with the standard pickle too (module-level functions and partials)
    spec = pickle.loads(pickle.dumps(study.spec))
    assert isinstance(spec.constraint_funcs[0], functools.partial)
    X = study.space.sample(study.space.context, np.random.default_rng(1), 4)
    np.testing.assert_array_equal(evaluate_block(spec, X)["F"], evaluate_block(study.spec, X)["F"])


def test_problem_pickle_drops_runner():
    spec = _spec([_vec_cost], [True], [1.0])

    class Runner:
        def __call__(self, spec, X):
            return evaluate_block(spec, X)

    problem = StudyProblem(spec, runner=Runner())
    clone = pickle.loads(pickle.dumps(problem))
    assert clone.runner is None and problem.runner is not None
