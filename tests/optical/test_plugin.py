"""Plugin wiring: attributes, analyses, decision space and objectives, report section, CLI."""

import json
import pickle

import numpy as np
import pytest
from workbench_optical.designs import build_fabric_space, decode_fabric, pareto_designs, pareto_mask
from workbench_optical.fabric import fabric_totals
from workbench_optical.presets import preset

import workbench as wb
from workbench.cli import main
from workbench.errors import ScenarioError


def test_hooks_are_registered():
    from workbench.plugins import collect

    assert {"fabric", "transport"} <= set(collect("analyses"))
    assert "fabric_design" in collect("decision_spaces")
    assert {"fabric_power", "fabric_cost", "allreduce_time"} <= set(collect("objectives"))
    assert "fabric" in collect("commands") and "fabric" in collect("report_sections")
    attrs = wb.get_schema().attrs("link")
    assert attrs["optical_wavelength_rate"].unit == "bit/s" and attrs["optical_amplifier_spacing"].unit == "km"
    assert "optical_supernode_preset" in wb.get_schema().attrs("site")


def _scenario(**site_extra):
    sites = [{"id": "west", "lon": 105.0, "lat": 37.5, "pue": 1.2, **site_extra},
             {"id": "east", "lon": 121.0, "lat": 31.2, "pue": 1.5}]
    chips = wb.load_dataset("chips").to_dataframe().reset_index().rename(columns={"chip": "id"})
    chips = chips[["id", "bf16_flops", "hbm", "hbm_bw", "tdp", "scale_up_bw", "scale_up_links"]]
    inventory = [{"site": "west", "chip": "ascend-910c", "installed": 768}, {"site": "west", "chip": "ascend-910b", "installed": 100},
                 {"site": "east", "chip": "gb200", "installed": 100}]
    return wb.Scenario.from_tables({"site": sites, "chip": chips, "inventory": inventory}, name="hand")


def test_fabric_analysis_packs_inventory_into_presets_and_applies_pue():
    ds = wb.analyze("fabric", _scenario())
    cm, nvl = fabric_totals(preset("cloudmatrix-384")), fabric_totals(preset("gb200-nvl72"))
    # 768 / 384 = 2 CloudMatrix at west; ceil(100 / 72) = 2 NVL72 at east; 100 Ascend 910B unmodelled
    assert ds["supernodes"].sel(site="west", preset="cloudmatrix-384") == 2
    assert ds["supernodes"].sel(site="east", preset="gb200-nvl72") == 2
    assert float(ds["unmodelled_chips"].sel(site="west")) == 100
    np.testing.assert_allclose(ds["total_power_w"].sel(site="west"), 2 * float(cm["it_power_w"]) * 1.2)
    np.testing.assert_allclose(ds["total_power_w"].sel(site="east"), 2 * float(nvl["it_power_w"]) * 1.5)
    assert ds["total_power_w"].attrs["units"] == "W"
    json.loads(ds.attrs["summary_json"])


def test_explicit_site_preset_overrides_the_inventory():
    ds = wb.analyze("fabric", _scenario(optical_supernode_preset="cloudmatrix-384", optical_supernodes=5))
    assert ds["supernodes"].sel(site="west", preset="cloudmatrix-384") == 5


def test_validate_reports_unknown_preset():
    with pytest.raises(ScenarioError, match=r"site\[west\]\.optical_supernode_preset: unknown supernode preset"):
        _scenario(optical_supernode_preset="nvl9000")


def test_cli_json_and_errors(capsys):
    assert main(["fabric", "--preset", "cloudmatrix-384", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["transceivers"] == 5376 and out["switches"] == 448 and out["chips"] == 384
    for key in ("bf16_flops", "total_power_w", "w_per_pflops", "blast_radius_chips", "allreduce_time_s"):
        assert key in out
    assert main(["fabric", "--chip", "gb200", "--count", "256", "--topology", "clos2", "--medium", "copper-dac"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs cables of 3.50 m" in err and "reaches 2.00 m" in err
    assert main(["fabric", "--preset", "gb200-nvl72", "--chip", "gb200"]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["fabric", "--chip", "gb200", "--count", "64", "--topology", "torus3d", "--medium",
                 "dsp-1.6t"]) == 0
    assert "torus3d" in capsys.readouterr().out


def test_pareto_mask_hand_case():
    f = np.array([[1, 2], [2, 1], [2, 2], [np.nan, 0], [1, 2]])
    assert pareto_mask(f).tolist() == [True, True, False, False, True]


def test_pareto_designs_small_grid_hand_calculation():
    ds = pareto_designs("gb200", 128, topologies=("switched", "clos2"), media=("copper-dac", "dsp-1.6t"),
                        domains=(64, 128))
    row = ds.where((ds.topology == "switched") & (ds.medium == "copper-dac") & (ds.domain == 64), drop=True)
    # two copper NVL64-style domains (18 NVLink switches x 270 W each) + a scale-out Clos of 128 x 800G:
    # 4 leaves + 2 spines x 913 W and 512 DSP 800G modules x 16 W
    np.testing.assert_allclose(row["fabric_power"], 2 * 18 * 270 + 6 * 913 + 512 * 16)
    bad = ds.where((ds.topology == "clos2") & (ds.medium == "copper-dac") & (ds.domain == 128), drop=True)
    assert not bool(bad["feasible"]) and "copper-dac reaches 2.00 m" in str(bad["reason"].values[0])
    assert bool(ds["pareto"].any()) and not bool((ds["pareto"] & ~ds["feasible"]).any())


def test_decision_space_objectives_match_the_grid_and_pickle():
    from workbench_optical import designs

    space = build_fabric_space("gb200", 128, topologies=("switched", "clos2"), media=("copper-dac", "dsp-1.6t"),
                               domains=(64, 128))
    grid = pareto_designs("gb200", 128, topologies=("switched", "clos2"), media=("copper-dac", "dsp-1.6t"),
                          domains=(64, 128))
    X = np.array([[0, 0, 0], [1, 1, 1], [1, 0, 1]], dtype=float)  # (switched, copper, 64), ...
    dec = space.decode(space.context, X)
    power = designs.objective_fabric_power(space.context, dec)
    np.testing.assert_allclose(power[:2], grid["fabric_power"].values[[0, 7]])
    assert np.isinf(power[2]) and designs.constraint_feasible(space.context, dec).tolist() == [0, 0, 1]
    clone = pickle.loads(pickle.dumps((space.context, decode_fabric, designs.objective_allreduce_time)))
    np.testing.assert_allclose(clone[2](clone[0], clone[1](clone[0], X))[:2],
                               grid["allreduce_time"].values[[0, 7]])


def test_report_section_renders(tiny_scenario):
    from workbench_optical.report import render_fabric_section

    run = {"scenario": tiny_scenario, "results": {}, "summary": {}}
    text, plot = render_fabric_section(run)
    assert "cloudmatrix-384" in text and "fabric" in run["results"] and "transport" in run["results"]
    assert plot is not None


def test_study_on_fabric_design_finds_only_exhaustive_pareto_designs():
    # the study machinery (NSGA-II, serial) on the registered decision space; every design it returns
    # must be on the exact front found by exhaustive enumeration of the same grid
    from workbench.optimize.study import Study

    params = {"count": 256, "domains": [64, 128, 256]}
    st = Study("fabric_design", ["fabric_power", "fabric_cost", "allreduce_time"], ["fabric_feasible"],
               space_params=params, pop_size=20, n_gen=5, seed=1)
    res = st.optimize(client="serial")
    grid = pareto_designs("gb200", 256, domains=(64, 128, 256))
    front = {(t, m, int(d)) for t, m, d, p in zip(grid.topology.values, grid.medium.values, grid.domain.values,
                                                 grid.pareto.values) if p}
    space = build_fabric_space("gb200", 256, domains=(64, 128, 256))
    found = {(space.variables[0].options[int(x[0])], space.variables[1].options[int(x[1])],
              space.variables[2].options[int(x[2])]) for x in res["X"].values}
    assert found and found <= front


def test_chip_catalogue_and_preset_totals_follow_the_plugin_manager():
    """Cached on the manager, not in the module: a manager whose chips dataset differs sees its own."""
    import xarray as xr
    from workbench_optical import analyses as optical_analyses
    from workbench_optical.fabric import chip_row

    from workbench.plugin_types import DatasetSpec
    from workbench.testing import plugin_manager

    real = chip_row("h100-sxm")["tdp"]
    hot = wb.load_dataset("chips").sel(chip=["h100-sxm"]).copy(deep=True)
    hot["tdp"] = hot["tdp"] * 2

    class HotChips:
        @staticmethod
        @wb.hookimpl
        def workbench_datasets():
            yield DatasetSpec("chips", load=lambda: hot, kind="catalogue")

    with plugin_manager(("hotchips", HotChips), builtins=False):
        assert chip_row("h100-sxm")["tdp"] == 2 * real  # was the other manager's cached value
    assert chip_row("h100-sxm")["tdp"] == real
    totals = optical_analyses._preset_totals("hgx-h100")
    assert isinstance(totals, xr.Dataset)
    with pytest.raises(ValueError, match="read-only"):
        totals["chips"].values[...] = 0  # shared: read-only
