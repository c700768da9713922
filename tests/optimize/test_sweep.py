"""Sweeps: grid and Latin hypercube samples, analyses per sample, a small study per sample, Zarr output,
skipping finished samples on rerun, sweep-file errors, and Dask == serial."""

from __future__ import annotations

import importlib
import textwrap

import numpy as np
import pytest
import xarray as xr

from workbench.errors import StudyError
from workbench.geo import great_circle_km
from workbench.sweep import load_sweep, parse_sweep, sweep, sweep_samples
from workbench.testing import example_scenario

# the module itself (``workbench.sweep`` may also name the function ``wb.sweep`` on the package)
SWEEP_MODULE = importlib.import_module("workbench.sweep")

# Chongqing residents to the Qingyang cluster, the nearest site with compute in example_scenario()
KM_CQ_QY = float(great_circle_km(106.558, 29.560, 107.645, 35.710))


def _coverage_sweep(sc, **extra):
    return {"sweep": 1, "name": "t", "scenario": sc, "method": "grid",
            "parameters": {"route_factor": [1.3, 2.1], "site.hop_delay": {"values": [0.0, 0.5]}},
            "analyses": [{"name": "coverage", "params": {"budget_ms": [1, 5, 20]}}], **extra}


def test_grid_sweep_values_and_rerun_skips(tmp_path, monkeypatch):
    sc = example_scenario()
    out = tmp_path / "grid.zarr"
    res = sweep(_coverage_sweep(sc), "serial", out=out, progress=False)
    assert res.sizes["sample"] == 4
    assert res["route_factor"].values.tolist() == [1.3, 1.3, 2.1, 2.1]
    assert res["site.hop_delay"].values.tolist() == [0.0, 0.5, 0.0, 0.5]
    # centre latency over the graph: the residents enter at the Chongqing site (0.1 ms metro equipment),
    # then the cq - qy link (km x route factor x 0.0049 ms/km + 0.1 ms equipment) + Qingyang's hop delay
    expected = 0.1 + KM_CQ_QY * np.array([1.3, 1.3, 2.1, 2.1]) * 0.0049 + 0.1 + np.array([0.0, 0.5, 0.0, 0.5])
    np.testing.assert_allclose(res["coverage_centre_latency"].sel(device="cq-residents").values, expected,
                               rtol=1e-9)
    stored = xr.open_zarr(out, consolidated=False).load()
    np.testing.assert_array_equal(stored["coverage_centre_latency"].values, res["coverage_centre_latency"].values)
    assert len(list((tmp_path / "grid.zarr.parts").glob("sample-*.nc"))) == 4

    # rerun: every sample is already done, nothing may run again
    def boom(*args, **kwargs):
        raise AssertionError("a finished sample ran again")

    monkeypatch.setattr(SWEEP_MODULE, "run_sample", boom)
    again = sweep(_coverage_sweep(sc), "serial", out=out, progress=False)
    np.testing.assert_array_equal(again["coverage_centre_latency"].values, res["coverage_centre_latency"].values)


def test_partial_rerun_only_runs_missing_samples(tmp_path, monkeypatch):
    sc = example_scenario()
    out = tmp_path / "p.zarr"
    sweep(_coverage_sweep(sc), "serial", out=out, progress=False)
    parts = sorted((tmp_path / "p.zarr.parts").glob("sample-*.nc"))
    parts[2].unlink()                          # as if the run had died before sample 2 finished
    calls = []
    real = SWEEP_MODULE.run_sample

    def counting(scenario, parameters, values, analyses, study_parts):
        calls.append(dict(values))
        return real(scenario, parameters, values, analyses, study_parts)

    monkeypatch.setattr(SWEEP_MODULE, "run_sample", counting)
    sweep(_coverage_sweep(sc), "serial", out=out, progress=False)
    assert calls == [{"route_factor": 2.1, "site.hop_delay": 0.0}]


def test_latin_hypercube_is_stratified_and_reproducible():
    spec = parse_sweep({"sweep": 1, "scenario": example_scenario(), "method": "lhs", "samples": 10, "seed": 3,
                        "parameters": {"route_factor": {"range": [1.3, 2.1]},
                                       "site.pue": {"range": [0.9, 1.1], "mode": "scale"}},
                        "analyses": ["coverage"]})
    a, b = sweep_samples(spec), sweep_samples(spec)
    pd_equal = a.equals(b)
    assert pd_equal and len(a) == 10
    # Latin hypercube: exactly one sample in each of the 10 equal-width strata of every parameter
    for col, (lo, hi) in (("route_factor", (1.3, 2.1)), ("site.pue", (0.9, 1.1))):
        strata = np.floor((a[col].to_numpy() - lo) / (hi - lo) * 10).astype(int)
        assert sorted(strata.tolist()) == list(range(10))


def test_scale_mode_and_dask_equals_serial():
    from workbench.distributed import dask_client

    sc = example_scenario()
    spec = {"sweep": 1, "scenario": sc, "method": "grid",
            "parameters": {"site.hop_delay": {"values": [0.0, 1.0]}, "route_factor": {"values": [1.0, 2.0],
                                                                                            "mode": "scale"}},
            "analyses": [{"name": "coverage", "params": {"budget_ms": [5, 20]}}]}
    serial = sweep(spec, "serial", progress=False)
    # scale 2.0 of the scenario's route factor 1.5 -> 3.0 (graph model as above)
    expected = 0.2 + KM_CQ_QY * np.array([1.5, 3.0, 1.5, 3.0]) * 0.0049 + np.array([0.0, 0.0, 1.0, 1.0])
    np.testing.assert_allclose(serial["coverage_centre_latency"].sel(device="cq-residents").values, expected,
                               rtol=1e-9)
    with dask_client(None, n_workers=2) as client:
        parallel = sweep(spec, client, progress=False)
    xr.testing.assert_identical(serial.drop_attrs(), parallel.drop_attrs())


def test_sweep_with_a_small_study_matches_a_direct_run(tmp_path, hand_scenario):
    from workbench.optimize import Study

    study_file = tmp_path / "place.yaml"
    study_file.write_text(textwrap.dedent("""\
        study: 1
        decision_space:
          name: placement
          params: {chips: [x, y], block: 10, flop_per_token: 1.0e12, serving_efficiency: 0.5}
        objectives: [annual_cost, mean_latency]
        constraints: [demand_served]
        algorithm: {name: nsga2, pop_size: 12, n_gen: 4, seed: 5}
        """))
    spec = {"sweep": 1, "scenario": hand_scenario, "method": "grid",
            "parameters": {"space.tokens_per_capita_day": [43_200.0, 86_400.0]},
            "study": {"file": str(study_file)}}
    res = sweep(parse_sweep(spec, base=tmp_path), "serial", progress=False)
    assert res.sizes["sample"] == 2
    for i, tokens in enumerate([43_200.0, 86_400.0]):
        direct = Study.from_yaml(study_file, scenario=hand_scenario)
        direct = Study(space="placement", scenario=hand_scenario,
                       space_params={**direct.space_params, "tokens_per_capita_day": tokens},
                       objectives=["annual_cost", "mean_latency"], constraints=["demand_served"], pop_size=12,
                       n_gen=4, seed=5).optimize("serial")
        got = res["study_annual_cost"].isel(sample=i).dropna("solution").values
        np.testing.assert_array_equal(got, direct["annual_cost"].values)
        assert float(res["study_hypervolume"][i]) == float(direct["hypervolume"][-1])


def test_sweep_file_errors_name_file_line_and_field(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent("""\
        sweep: 1
        scenario: china-edwc
        method: grid
        parameters:
          route_factor: {range: [1.3, 2.1]}
          site.nope: [1, 2]
          space.tokens_per_capita_day: [1, 2]
        analyses: [coverage, nonsense]
        """))
    with pytest.raises(StudyError) as err:
        load_sweep(path)
    text = str(err.value)
    assert f"{path}:5: parameters.route_factor.range: a grid needs a list of values" in text
    assert f"{path}:6: parameters.site.nope: the scenario has no column 'nope' in table 'site'" in text
    assert f"{path}:7: parameters.space.tokens_per_capita_day: a space.<param> parameter needs a 'study'" in text
    assert f"{path}:8: analyses[1]: unknown analysis" in text


def test_shipped_sweep_file_loads():
    from pathlib import Path

    spec = load_sweep(Path(__file__).resolve().parents[2] / "studies" / "edwc-demand-sweep.yaml")
    assert spec.method == "lhs" and spec.samples == 8 and spec.study is not None
    assert len(sweep_samples(spec)) == 8


def test_sweep_task_payload_holds_no_manager_or_client(tmp_path, hand_scenario):
    import cloudpickle

    from workbench.optimize import Study
    from workbench.plugins import collect
    from workbench.sweep import _study_parts

    study = Study(space="placement", scenario=hand_scenario, space_params={"chips": ["x"]},
                  objectives=["annual_cost"], constraints=["demand_served"], pop_size=4, n_gen=1)
    blob = cloudpickle.dumps((_study_parts(study), [("coverage", collect("analyses")["coverage"].func, {})]))
    for forbidden in (b"PluginManager", b"distributed.client", b"Client"):
        assert forbidden not in blob
