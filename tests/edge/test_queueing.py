"""M/G/c approximation against closed forms (Erlang C, M/M/1) and a seeded simulation."""

from __future__ import annotations

import numpy as np
import pytest
from workbench_edge import queueing as q


def test_erlang_c_hand_values():
    # c = 2, a = 1: C = (a^c/c! * c/(c-a)) / (sum_{k<c} a^k/k! + a^c/c! * c/(c-a)) = 1 / (1 + 1 + 1) = 1/3
    assert float(q.erlang_c(2, 1.0)) == pytest.approx(1 / 3)
    # M/M/1: probability of waiting = rho
    np.testing.assert_allclose(q.erlang_c(1, [0.2, 0.5, 0.9]), [0.2, 0.5, 0.9])
    assert float(q.erlang_c(3, 3.5)) == 1.0          # unstable
    assert float(q.erlang_c(3, 0.0)) == 0.0
    # large c stays finite (Poisson pmf/cdf identity): c = 10,000 at 95% load
    assert 0.0 < float(q.erlang_c(10_000, 9_500.0)) < 1e-3


def test_mm1_closed_forms():
    # M/M/1, lambda = 0.8, mu = 1: Wq = rho / (mu - lambda) = 4 s; P(W > t) = rho exp(-(mu - lambda) t)
    assert float(q.mgc_wait_mean(1, 0.8, 1.0, 1.0)) == pytest.approx(4.0)
    t99 = float(q.mgc_wait_quantile(0.99, 1, 0.8, 1.0, 1.0))
    assert 0.8 * np.exp(-0.2 * t99) == pytest.approx(0.01)
    assert float(q.mgc_wait_quantile(0.1, 1, 0.8, 1.0, 1.0)) == 0.0      # 80% wait, so p10 of the wait is 0
    assert float(q.slo_attainment(t99, 1, 0.8, 1.0, 1.0)) == pytest.approx(0.99)
    assert float(q.slo_attainment(-0.1, 1, 0.8, 1.0)) == 0.0
    assert np.isinf(q.mgc_wait_mean(2, 3.0, 1.0))


def test_mgc_matches_simulation():
    # M/M/4 at rho = 0.8 (exact for exponential service) and M/D/4 (Allen-Cunneen, approximate)
    c, lam, s = 4, 3.2, 1.0
    w = q.simulate_mgc(lam, lambda rng, n: rng.exponential(s, n), c, n=60_000, seed=3, warmup=3_000)
    assert w.mean() == pytest.approx(float(q.mgc_wait_mean(c, lam, s, 1.0)), rel=0.1)
    wd = q.simulate_mgc(lam, lambda rng, n: np.full(n, s), c, n=60_000, seed=3, warmup=3_000)
    assert wd.mean() == pytest.approx(float(q.mgc_wait_mean(c, lam, s, 0.0)), rel=0.15)
    assert np.quantile(wd, 0.99) == pytest.approx(float(q.mgc_wait_quantile(0.99, c, lam, s, 0.0)), rel=0.15)
