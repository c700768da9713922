"""Tests of the template plugin: each figure against a hand calculation or a published number.

They run with the plugin registered into a fresh plugin manager (``workbench.testing.plugin_manager``),
so they pass whether or not the distribution is installed, and nothing else installed interferes.
"""

from __future__ import annotations

import importlib
import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
from workbench_template import plugin

import workbench as wb
from workbench.analyses.coverage import coverage as core_coverage
from workbench.cli import main
from workbench.errors import ScenarioError, SchemaError
from workbench.testing import assert_units, example_scenario, plugin_manager

H100_BF16 = 989.4e12  # FLOP/s dense BF16 per H100 SXM5 (FIGURES 3.3), as in example_scenario()
TIER = {"I": 0.99671, "II": 0.99741, "III": 0.99982, "IV": 0.99995}  # tiers-silverback (SOURCES.yaml)


@pytest.fixture
def pm():
    with plugin_manager(plugin) as manager:
        yield manager


def test_entry_point_names_the_hook_module():
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    target = pyproject["project"]["entry-points"]["workbench"]["template"]
    assert importlib.import_module(target) is plugin


def test_contributions_are_registered_with_provenance(pm):
    label = "workbench_template.plugin 0.1.0"
    assert wb.list_analyses()["available_compute"].provided_by == label
    assert "uptime-tiers" in set(wb.list_datasets()["name"])
    spec = wb.get_schema().attrs("site")["template_uptime"]
    assert (spec.unit, spec.default, spec.provided_by) == ("1", 0.99982, label)


def test_attribute_appears_in_the_site_table_with_its_default(pm):
    uptime = example_scenario()["site"]["template_uptime"]
    np.testing.assert_array_equal(uptime.values, [0.99982] * 3)
    assert uptime.attrs["units"] == "1" and uptime.attrs["provided_by"].startswith("workbench_template")


def test_available_compute_matches_a_hand_calculation(pm):
    # zjk at Tier IV, qy at Tier I, cq (no chips) at Tier III
    sc = example_scenario()
    site = sc["site"].assign(template_uptime=sc["site"]["template_uptime"].copy(
        data=np.array([TIER["IV"], TIER["I"], TIER["III"]])))  # scenario tables are read-only: build a new one
    ds = wb.analyze("available_compute", sc.with_table("site", site))
    expected = [1000 * H100_BF16 * TIER["IV"], 500 * H100_BF16 * TIER["I"], 0.0]
    np.testing.assert_allclose(ds["available"].values, expected, rtol=1e-12)
    assert float(ds["total_available"]) == pytest.approx(sum(expected), rel=1e-12)
    assert float(ds["availability"]) == pytest.approx(sum(expected) / (1500 * H100_BF16), rel=1e-12)
    # Tier I: (1 - 0.99671) x 8,760 h = 28.82 h of downtime a year
    assert float(ds["annual_downtime"].sel(site="qy")) == pytest.approx(28.8204, rel=1e-9)
    assert_units(ds, known=True)


def test_default_uptime_gives_the_published_tier_iii_downtime(pm):
    ds = wb.analyze("available_compute", example_scenario())
    # Tier III "roughly 1.6 hours of downtime per year" (tiers-viabandwidth): (1 - 0.99982) x 8,760 = 1.5768 h
    np.testing.assert_allclose(ds["annual_downtime"].values, 1.5768, rtol=1e-9)
    assert float(ds["annual_downtime"][0]) == pytest.approx(1.6, abs=0.05)
    assert float(ds["total_available"]) == pytest.approx(1500 * H100_BF16 * 0.99982, rel=1e-12)


def test_uptime_tiers_dataset_matches_the_published_figures(pm):
    tiers = wb.load_dataset("uptime-tiers")
    assert tiers["tier"].values.tolist() == ["I", "II", "III", "IV"]
    np.testing.assert_allclose(tiers["availability"].values, list(TIER.values()), rtol=1e-12)  # % -> 1
    # the derived downtime agrees with the published one: 1.6 h (III) and 26 min (IV), rounded as published
    published = tiers["published_downtime"].sel(tier=["III", "IV"]).values
    derived = tiers["annual_downtime"].sel(tier=["III", "IV"]).values
    np.testing.assert_allclose(derived, published, atol=0.03)
    assert np.isnan(tiers["published_downtime"].sel(tier="I"))
    assert_units(tiers, known=True)


def test_uptime_outside_zero_one_is_refused(pm):
    rows = [{"id": "a", "lon": 114.871, "lat": 40.783, "template_uptime": 1.5}]
    with pytest.raises(ScenarioError, match=r"site\[a\].template_uptime: out of range \(a share of the year\) "
                                            r"\(got '1.5', expected in \[0, 1\] 1\)"):
        wb.Scenario.from_tables({"site": rows})
    good = wb.Scenario.from_tables({"site": [{**rows[0], "template_uptime": 1.0}]})
    site = good["site"].assign(template_uptime=good["site"]["template_uptime"].copy(data=np.array([1.5])))
    bad = good.with_table("site", site)  # with_table does not re-check: the analysis still guards itself
    with pytest.raises(SchemaError, match=r"a=1.5"):
        wb.analyze("available_compute", bad)


def test_uptime_in_percent_is_converted(pm):
    sc = wb.Scenario.from_tables({"site": [{"id": "a", "lon": 114.871, "lat": 40.783, "template_uptime": 99.995}]},
                                 units={"site": {"template_uptime": "%"}})
    assert float(sc["site"]["template_uptime"][0]) == pytest.approx(TIER["IV"], rel=1e-12)


def test_cli_command(pm, tmp_path, capsys):
    path = example_scenario().to_netcdf(tmp_path / "example.nc")
    assert main(["uptime", "--scenario", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["total_available_pflops"] == pytest.approx(1484.1 * 0.99982, rel=1e-12)
    assert main(["uptime", "--scenario", str(path)]) == 0
    out = capsys.readouterr().out
    assert "zjk" in out and "cq" not in out.split("\n")[-2]  # sites without compute are not listed
    assert main(["uptime", "--tiers"]) == 0
    assert "99982" in capsys.readouterr().out.replace(".", "")
    assert main(["uptime", "--scenario", str(tmp_path / "missing.nc")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbench: error:") and len(err.strip().splitlines()) == 1


# -- a unit, a parameter, a link.tech choice and a replaced analysis -------------------------------------------
def test_rack_unit_parameter_and_link_choice_from_a_scenario_file(pm, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "workbench: 1\nname: racks\nparameters: {template_min_uptime: 99.9 %}\ntables:\n"
        "  site:\n    units: {template_racks: kilorack}\n    rows:\n"
        "      - {id: a, lon: 114.871, lat: 40.783, template_racks: 1.5}\n"
        "      - {id: b, lon: 114.9, lat: 40.8}\n"
        "  link:\n    rows:\n      - {id: ab, src: a, dst: b, tech: fso, length: 2}\n", encoding="utf-8")
    sc = wb.load_scenario(path)
    assert sc.parameters["template_min_uptime"] == pytest.approx(0.999, rel=1e-12)  # 99.9 % -> 1
    assert sc["site"]["template_racks"].values[0] == pytest.approx(1500.0)  # 1.5 kilorack -> rack
    assert sc["site"]["template_racks"].attrs["units"] == "rack"
    assert sc["link"]["tech"].values.tolist() == ["fso"]
    path.write_text(path.read_text().replace("1.5}", "-3}"), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"site\[a\].template_racks: out of range"):
        wb.load_scenario(path)


def test_the_replaced_coverage_equals_the_core_one_by_default_and_leaves_out_unreliable_sites(pm):
    assert wb.list_analyses()["coverage"].provided_by == "workbench_template.plugin 0.1.0"
    sc = example_scenario()
    ours = wb.analyze("coverage", sc, budget_ms=[5, 20])
    core = core_coverage(sc, budget_ms=[5, 20])
    np.testing.assert_array_equal(ours["share"].values, core["share"].values)
    assert ours.attrs["sites_left_out"] == "[]"
    # Qingyang at Tier I (99.671 %) is left out with a 99.9 % floor: the result is the core's without it
    site = sc["site"].assign(template_uptime=sc["site"]["template_uptime"].copy(
        data=np.array([TIER["IV"], TIER["I"], TIER["III"]])))
    floor = sc.with_table("site", site).with_parameters(template_min_uptime=0.999)
    ours = wb.analyze("coverage", floor, budget_ms=[5, 20])
    core = core_coverage(floor.select_sites(["zjk", "cq"]), budget_ms=[5, 20])
    np.testing.assert_array_equal(ours["share"].values, core["share"].values)
    assert ours.attrs["sites_left_out"] == '["qy"]'
