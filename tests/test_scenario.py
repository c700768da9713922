"""The Scenario: round trips, units on every variable, derived scenarios, totals, HTML, atomic writes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import xarray as xr

import workbench as wb
from workbench.errors import ScenarioError
from workbench.testing import assert_units

H100_BF16 = 989.4e12  # FLOP/s dense BF16 per H100 SXM5 (FIGURES 3.3; glennklockwood.com)


def assert_scenarios_identical(a: wb.Scenario, b: wb.Scenario) -> None:
    assert a.kinds == b.kinds
    for kind in a.kinds:
        xr.testing.assert_identical(a[kind], b[kind])
        for name in a[kind].variables:  # assert_identical does not compare dtypes of object/str arrays
            assert a[kind][name].dtype == b[kind][name].dtype, f"{kind}.{name}"
    assert (a.name, a.description, a.attrs) == (b.name, b.description, b.attrs)
    assert json.dumps(a.parameters, sort_keys=True) == json.dumps(b.parameters, sort_keys=True)  # NaN == NaN here
    assert a.identical(b)


# -- persistence ----------------------------------------------------------------------------------------
def test_netcdf_round_trip_is_identical(tiny_scenario, tmp_path):
    sc = tiny_scenario.with_parameters(route_factor=1.3)
    path = sc.to_netcdf(tmp_path / "tiny.nc")
    back = wb.Scenario.from_netcdf(path)
    assert_scenarios_identical(sc, back)
    assert back.parameters["route_factor"] == 1.3
    assert wb.load_scenario(path).identical(sc)  # load_scenario dispatches on .nc


def test_netcdf_file_has_one_group_per_kind(tiny_scenario, tmp_path):
    path = tiny_scenario.to_netcdf(tmp_path / "tiny.nc")
    tree = xr.open_datatree(path, engine="h5netcdf")
    try:
        assert set(tree.children) == set(tiny_scenario.kinds)
        assert json.loads(tree.attrs["kinds"]) == tiny_scenario.kinds
        assert tree["site"]["pue"].attrs["units"] == "1"
    finally:
        tree.close()


def test_zarr_round_trip_is_identical(tiny_scenario, tmp_path):
    path = tiny_scenario.to_zarr(tmp_path / "tiny.zarr")
    assert_scenarios_identical(tiny_scenario, wb.Scenario.from_zarr(path))


def test_round_trip_keeps_an_empty_kind_and_overwrites(tiny_scenario, tmp_path):
    sc = tiny_scenario.select_sites(["cq"])  # no links left, no chips installed
    assert sc["link"].sizes["link"] == 0
    path = tmp_path / "s.nc"
    tiny_scenario.to_netcdf(path)
    sc.to_netcdf(path)  # overwrite in place
    assert_scenarios_identical(sc, wb.Scenario.from_netcdf(path))


def _failing_tree(monkeypatch, payload: bytes):
    """Make the next write produce some bytes, then fail (as a full disk or a crash would)."""

    class Tree:
        def to_netcdf(self, tmp, **kwargs):
            with open(tmp, "wb") as fh:
                fh.write(payload)
            raise OSError("No space left on device (simulated)")

        def to_zarr(self, tmp, **kwargs):
            tmp.mkdir()
            (tmp / "zarr.json").write_bytes(payload)
            raise OSError("No space left on device (simulated)")

    monkeypatch.setattr(wb.Scenario, "to_datatree", lambda self: Tree())


def test_failed_netcdf_write_leaves_the_existing_file_intact(tiny_scenario, tmp_path, monkeypatch):
    path = tiny_scenario.to_netcdf(tmp_path / "keep.nc")
    before = path.read_bytes()
    _failing_tree(monkeypatch, b"half a file")
    with pytest.raises(OSError, match="simulated"):
        tiny_scenario.to_netcdf(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.nc"]  # no temporary file left behind
    monkeypatch.undo()
    assert wb.Scenario.from_netcdf(path).identical(tiny_scenario)


def test_failed_zarr_write_leaves_the_existing_store_intact(tiny_scenario, tmp_path, monkeypatch):
    path = tiny_scenario.to_zarr(tmp_path / "keep.zarr")
    _failing_tree(monkeypatch, b"{}")
    with pytest.raises(OSError, match="simulated"):
        tiny_scenario.to_zarr(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.zarr"]
    monkeypatch.undo()
    assert wb.Scenario.from_zarr(path).identical(tiny_scenario)


# -- units and labels -------------------------------------------------------------------------------
def test_every_variable_has_units_and_long_name(tiny_scenario):
    assert_units(tiny_scenario, known=True)
    site = tiny_scenario["site"]
    assert site["lon"].attrs["units"] == "degree_east" and site["lon"].attrs["long_name"] == "Longitude"
    assert site["pue"].attrs["provided_by"].startswith("workbench.builtins")
    assert "units" not in site["tier"].attrs  # text has no unit (CF); it still has a long_name
    for derived in (tiny_scenario.site_compute_flops(), tiny_scenario.compute_sites(), tiny_scenario.inventory):
        assert_units(derived)


def test_assert_units_reports_every_offender():
    ds = xr.Dataset({"a": ("x", [1.0]), "b": ("x", [2.0], {"units": "W"}), "c": ("x", ["t"])})
    with pytest.raises(AssertionError) as info:
        assert_units(ds)
    text = str(info.value)
    assert "4 missing units or long_name" in text and "a: no attrs['long_name']" in text and "a: no attrs['units']" in text
    assert "b: no attrs['long_name']" in text and "c: no attrs['long_name']" in text
    with pytest.raises(AssertionError, match="unknown unit 'W/wombat'"):
        assert_units(xr.DataArray([1.0], dims="x", attrs={"units": "W/wombat", "long_name": "x"}), known=True)


# -- totals against hand calculations -------------------------------------------------------------------
def test_totals_match_a_hand_calculation(tiny_scenario):
    t = tiny_scenario.totals()
    # 1,000 H100 at Zhangjiakou + 500 at Qingyang; 989.4 TFLOP/s each = 1,484.1 PFLOP/s dense BF16
    assert t == {"sites": 3, "sites_with_compute": 2, "links": 2, "chips_installed": 1500.0,
                 "bf16_pflops": pytest.approx(1484.1), "device_groups": 1, "endpoints": 16.34e6}
    flops = tiny_scenario.site_compute_flops()
    np.testing.assert_allclose(flops.sel(site=["zjk", "qy", "cq"]).values, [1000 * H100_BF16, 500 * H100_BF16, 0.0])
    assert flops.attrs["units"] == "FLOP/s"
    assert tiny_scenario.compute_sites().values.tolist() == [True, True, False]


def test_thousand_h100_are_989_4_pflops(tiny_scenario):
    sc = tiny_scenario.with_inventory(np.array([[1000.0], [0.0], [0.0]]))
    assert sc.totals()["bf16_pflops"] == pytest.approx(989.4)


# -- derived scenarios ------------------------------------------------------------------------------
def test_select_sites_keeps_links_among_kept_sites_and_their_inventory(tiny_scenario):
    sub = tiny_scenario.select_sites(["zjk", "qy"])
    assert sub["site"]["site"].values.tolist() == ["zjk", "qy"]
    assert sub["link"]["link"].values.tolist() == ["zjk-qy"]  # qy-cq lost its end at cq
    assert sub.inventory.sel(chip="h100").values.tolist() == [1000.0, 500.0]
    assert sub["device"].identical(tiny_scenario["device"])
    assert tiny_scenario["site"].sizes["site"] == 3  # the original is untouched
    mask = sub_mask = np.array([True, True, False])
    assert tiny_scenario.select_sites(mask).identical(sub)
    assert tiny_scenario.select_sites(xr.DataArray(sub_mask, dims="site")).identical(sub)


def test_with_inventory_returns_a_new_scenario(tiny_scenario):
    before = tiny_scenario.inventory.copy()
    new = tiny_scenario.with_inventory(tiny_scenario.inventory * 2)
    assert new is not tiny_scenario
    xr.testing.assert_identical(tiny_scenario.inventory, before)
    assert new.totals()["chips_installed"] == 3000.0
    assert new.inventory.attrs == before.attrs


def test_with_parameters_returns_a_new_scenario(tiny_scenario):
    new = tiny_scenario.with_parameters(route_factor=2.1)
    assert (new.parameters["route_factor"], tiny_scenario.parameters["route_factor"]) == (2.1, 1.5)
    with pytest.raises(ScenarioError, match="unknown parameter 'route_fctor'; did you mean 'route_factor'"):
        tiny_scenario.with_parameters(route_fctor=2.0)
    with pytest.raises(ScenarioError, match=r"parameters.route_factor: out of range .* \(got '0.5', expected in \[1, 10\] 1\)"):
        tiny_scenario.with_parameters(route_factor=0.5)


def test_tables_are_read_only_and_copies_stay_independent(tiny_scenario):
    with pytest.raises(ValueError, match="read-only"):
        tiny_scenario["site"]["pue"].values[:] = 0.1
    with pytest.raises(ValueError, match="read-only"):
        tiny_scenario.copy()["site"]["pue"].values[0] = 9.9
    site = tiny_scenario["site"].copy(deep=True)  # the way to edit: a deep copy, then with_table
    site["pue"].values[0] = 1.1
    new = tiny_scenario.with_table("site", site)
    assert float(new["site"]["pue"][0]) == 1.1 and float(tiny_scenario["site"]["pue"][0]) == 1.25
    with pytest.raises(ValueError, match="read-only"):
        new["site"]["pue"].values[0] = 2.0  # with_table freezes the new table too
    assert float(site["pue"][0]) == 1.1  # ... without touching the caller's dataset


def test_changing_a_returned_table_never_changes_the_scenario(tiny_scenario):
    before = tiny_scenario["site"].copy(deep=True)
    site = tiny_scenario["site"]
    site["pue"] = site["pue"] * 0 + 3.0  # assigning a variable
    site.update({"capacity": site["capacity"] * 2})  # update
    site.attrs["kind"] = "hacked"
    site["lon"].attrs["units"] = "radian"  # the attrs of a variable
    tiny_scenario["site"]["lat"].attrs["units"] = "km"
    tiny_scenario.site.attrs["description"] = "x"
    tiny_scenario.inventory.attrs["units"] = "kg"
    xr.testing.assert_identical(tiny_scenario["site"], before)
    assert tiny_scenario.inventory.attrs["units"] != "kg"
    assert tiny_scenario.validate() == []


def test_parameters_are_read_only_and_validate_checks_them(tiny_scenario):
    import json
    import pickle

    for change in (lambda p: p.__setitem__("route_factor", 0.1), lambda p: p.update(route_factor=0.1),
                   lambda p: p.pop("route_factor"), lambda p: p.clear(), lambda p: p.setdefault("x", 1)):
        with pytest.raises(TypeError, match="read-only: use scenario.with_parameters"):
            change(tiny_scenario.parameters)
    assert tiny_scenario.parameters["route_factor"] == 1.5
    assert json.loads(json.dumps(tiny_scenario.parameters))["route_factor"] == 1.5  # still a dict to read
    assert pickle.loads(pickle.dumps(tiny_scenario)).parameters["route_factor"] == 1.5  # Dask ships scenarios
    direct = wb.Scenario(tiny_scenario._tables, parameters={"route_factor": 0.1, "metro_route_factor": math.nan,
                                                            "route_fctor": 2.0})
    problems = {p.field: p.message for p in direct.validate()}
    assert problems["parameters.route_factor"].startswith("out of range")
    assert problems["parameters.metro_route_factor"].startswith("NaN is not a value of this parameter")
    assert "did you mean 'route_factor'" in problems["parameters.route_fctor"]


@pytest.mark.parametrize("value", [math.nan, math.inf, np.float64("nan")])
def test_nan_and_inf_parameters_are_refused_unless_nan_means_not_set(tiny_scenario, tmp_path, value):
    with pytest.raises(ScenarioError, match=r"parameters.route_factor: (NaN is not a value|not a finite)"):
        tiny_scenario.with_parameters(route_factor=value)
    assert math.isnan(tiny_scenario.with_parameters(cny_per_usd=math.nan).parameters["cny_per_usd"])  # "not set"
    folder = tiny_scenario.to_files(tmp_path / "s")
    text = folder.read_text(encoding="utf-8").replace("  route_factor: 1.5\n", "  route_factor: .nan\n")
    assert "route_factor: .nan" in text
    folder.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match="NaN is not a value of this parameter"):
        wb.load_scenario(folder)


def test_with_table_then_validate_finds_broken_references(tiny_scenario):
    links = tiny_scenario["link"].copy()
    links["dst"] = ("link", np.array(["qy", "lanzhou"], dtype=object), links["dst"].attrs)
    broken = tiny_scenario.with_table("link", links)
    assert tiny_scenario.validate() == []
    problems = broken.validate()
    assert [(p.field, p.value) for p in problems] == [("link[qy-cq].dst", "lanzhou")]
    with pytest.raises(ScenarioError, match="refers to site 'lanzhou'"):
        broken.validate(strict=True)


def test_from_tables_reports_problems_without_a_file(fresh_plugin_manager):
    with pytest.raises(ScenarioError) as info:
        wb.Scenario.from_tables({"site": [{"id": "a", "lon": 1, "lat": 2}], "supernodes": []},
                                parameters={"route_factr": 1.2})
    fields = {p.field for p in info.value.problems}
    assert fields == {"tables.supernodes", "parameters.route_factr"}


# -- display ----------------------------------------------------------------------------------------
def test_repr_html_shows_kinds_totals_and_escapes(tiny_scenario):
    html = tiny_scenario._repr_html_()
    for kind in tiny_scenario.kinds:
        assert f"<b>{kind}</b>" in html
    assert "3 sites (2 with compute)" in html and "1,500 accelerators = 1,484.1 BF16 PFLOP/s" in html
    assert "16,340,000 endpoints" in html
    assert "degree_east" in html and "route_factor" in html
    odd = wb.Scenario(dict(tiny_scenario._tables), name="<script>x</script>")
    assert "<script>x</script>" not in odd._repr_html_() and "&lt;script&gt;" in odd._repr_html_()
    # core kinds first; installed plugins may add kinds after them
    assert repr(tiny_scenario).startswith("<Scenario 'example': site=3, link=2, chip=1, inventory=3, agent=1, device=1")


def test_inventory_pairs_absent_from_the_long_table_are_zero_not_nan():
    chips = [{"id": c, "bf16_flops": 1e15, "hbm": 1e11, "hbm_bw": 1e12, "tdp": 700} for c in ("x", "y")]
    sites = [{"id": s, "lon": 100.0 + i, "lat": 30.0} for i, s in enumerate(("a", "b"))]
    sc = wb.Scenario.from_tables({"site": sites, "chip": chips,
                                  "inventory": [{"site": "a", "chip": "x", "installed": 3},
                                                {"site": "b", "chip": "y", "installed": 5}]})
    assert sc.inventory.sel(site="a", chip="y").item() == 0 and not sc.inventory.isnull().any()
    assert float(sc.site_compute_flops().sum()) == 8e15


def test_no_table_or_analysis_variable_shadows_a_dataset_method():
    """``ds.name`` must be the variable: no attribute, dimension or result variable is a Dataset method."""
    sc = wb.load_scenario("china-edwc")
    names = {str(n) for kind in sc.kinds for n in sc[kind].variables}
    for spec in wb.list_analyses().values():
        ds = spec.func(sc)
        names |= {str(n) for n in ds.variables}
    shadowing = sorted(n for n in names if hasattr(xr.Dataset, n))
    assert not shadowing, shadowing


def test_validate_checks_ranges_of_tables_replaced_in_python(tiny_scenario):
    site = tiny_scenario["site"]
    bad = tiny_scenario.with_table("site", site.assign(pue=site["pue"].copy(data=np.array([0.5, 1.2, 1.3]))))
    problems = bad.validate()
    assert [str(p) for p in problems] == ["<scenario>: site[zjk].pue: out of range (got '0.5', expected in [1, 4] 1)"]
