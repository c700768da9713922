"""Alpha-beta collective times against the closed forms (Thakur, Rabenseifner & Gropp, IJHPCA 2005)."""

import numpy as np
import pytest
from workbench_optical.collectives import (
    ALPHA_SOFTWARE_S,
    SWITCH_HOP_S,
    allreduce_time,
    alpha_beta_times,
    collective_times,
    hierarchical_allreduce_time,
    parallel_step_time,
)
from workbench_optical.fabric import fabric_totals
from workbench_optical.presets import preset


def test_closed_forms_for_four_ranks():
    # p = 4, M = 1 GB, B = 100 GB/s, alpha = 1 us
    t = alpha_beta_times(4, 1e9, 1e11, 1e-6)["time"].sel(message=1e9)
    np.testing.assert_allclose(t.sel(operation="allreduce_ring"), 2 * 3 * 1e-6 + 2 * 0.75 * 0.01)
    np.testing.assert_allclose(t.sel(operation="allreduce_tree"), 2 * 2 * (1e-6 + 0.01))
    np.testing.assert_allclose(t.sel(operation="allgather"), 3e-6 + 0.0075)
    np.testing.assert_allclose(t.sel(operation="reduce_scatter"), 3e-6 + 0.0075)
    np.testing.assert_allclose(t.sel(operation="alltoall"), 3e-6 + 0.0075)
    # a thin bisection (100 GB/s both ways) bounds all-to-all: p M / (2 X) = 4e9 / 2e11 = 20 ms
    t2 = alpha_beta_times(4, 1e9, 1e11, 1e-6, bisection=1e11)["time"].sel(message=1e9)
    np.testing.assert_allclose(t2.sel(operation="alltoall"), 3e-6 + 0.02)
    assert alpha_beta_times(4, [1e6, 1e9], 1e11, 1e-6)["time"].attrs["units"] == "s"


def test_nvl72_ring_allreduce():
    t = fabric_totals(preset("gb200-nvl72"))
    alpha = ALPHA_SOFTWARE_S + SWITCH_HOP_S  # one switch hop
    expected = 2 * 71 * alpha + 2 * 71 / 72 * 1e9 / 900e9
    assert allreduce_time(t, 1e9) == pytest.approx(expected)


def test_torus_uses_every_link_and_dimension_steps():
    t = fabric_totals(preset("tpu-v4-pod"))
    times = collective_times(t, 1e9)["time"].sel(message=1e9)
    # 16x16x16: ring steps 3 x 15 = 45; B = 6 links x 50 GB/s = 300 GB/s; no switch hop
    expected = 2 * 45 * ALPHA_SOFTWARE_S + 2 * 4095 / 4096 * 1e9 / 300e9
    np.testing.assert_allclose(times.sel(operation="allreduce_ring"), expected)
    # all-to-all is bisection bound: p M / (2 X) with X = 51.2 TB/s
    np.testing.assert_allclose(times.sel(operation="alltoall"), 45e-6 + 4096 * 1e9 / (2 * 51.2e12))


def test_hierarchical_allreduce_single_domain_equals_ring():
    t = fabric_totals(preset("gb200-nvl72"))
    assert hierarchical_allreduce_time(t, None, 1, 1e9) == pytest.approx(allreduce_time(t, 1e9))


def test_step_time_worked_example():
    t = fabric_totals(preset("gb200-nvl72"))
    # pure data parallel (tp = 1): compute = 6 P T / (bf16 x mfu); one gradient all-reduce of 2 P bytes
    s = parallel_step_time(t, params=1e9, tokens=1e6, tp=1, mfu=0.5)["time"]
    np.testing.assert_allclose(s.sel(phase="compute"), 6e15 / (180e15 * 0.5))
    np.testing.assert_allclose(s.sel(phase="data_parallel"), allreduce_time(t, 2e9))
    assert float(s.sel(phase="tensor_parallel")) == 0 and float(s.sel(phase="expert_parallel")) == 0
    np.testing.assert_allclose(s.sel(phase="total"), s.sel(phase=["compute", "data_parallel"]).sum())
    with pytest.raises(ValueError, match="does not divide"):
        parallel_step_time(t, tp=5)
