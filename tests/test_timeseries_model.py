"""The optional time axis of a scenario: snapshots, weights, time series, files and stores."""

from __future__ import annotations

import sys
import types

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import workbench as wb
from workbench.errors import ScenarioError
from workbench.io.scenario_file import load_scenario_file
from workbench.testing import example_scenario

HOURS = pd.date_range("2025-01-01 00:00", periods=24, freq="h")


@pytest.fixture
def timed():
    """The example scenario with 24 hourly snapshots, a price series for zjk and qy, a demand series."""
    sc = example_scenario().with_snapshots(HOURS)
    price = pd.DataFrame({"zjk [CNY/MWh]": np.linspace(300.0, 530.0, 24), "qy": 0.35}, index=HOURS)
    demand = xr.DataArray(np.arange(24.0)[:, None] / 10, dims=("snapshot", "device"),
                          coords={"snapshot": HOURS, "device": ["cq-residents"]}, attrs={"units": "request/s"})
    return sc.with_series("site", "power_price", price).with_series("device", "demand", demand)


def problems(call) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        call()
    return info.value


# -- schema ---------------------------------------------------------------------------------------------
def test_schema_declares_what_varies_in_time():
    table = wb.get_schema().to_dataframe().set_index(["kind", "attribute"])
    varying = set(table.index[table["varies_in_time"]])
    assert {("site", "power_price"), ("site", "carbon_intensity"), ("site", "pue"), ("site", "capacity"),
            ("link", "capacity"), ("device", "endpoints"), ("device", "demand"), ("site", "green_cf")} <= varying
    assert not table.loc[("site", "lon"), "varies_in_time"]
    green = wb.get_schema().attrs("site")
    assert (green["green_price"].unit, green["green_price"].default_value()) == ("CNY/kWh", 0.30)
    assert green["green_source"].choices == ("solar", "wind", "solar+wind")
    assert np.isnan(green["green_cf"].default_value()) and (green["green_cf"].min, green["green_cf"].max) == (0, 1)
    assert wb.plugin_types.AttributeSpec("site", "x", "float", "1").varies_in_time is False  # keyword default


# -- snapshots and weights ------------------------------------------------------------------------------
def test_a_year_of_hourly_snapshots_weighs_8760_hours():
    year = pd.date_range("2025-01-01", "2025-12-31 23:00", freq="h")
    sc = example_scenario().with_snapshots(year)
    assert len(sc.snapshots) == 8760 and float(sc.snapshot_weight.sum()) == 8760.0
    assert sc.snapshot_weight.attrs == {"units": "h", "long_name": "hours each snapshot stands for"}
    assert sc.snapshots.dtype == "datetime64[ns]" and sc.snapshots.tz is None
    assert example_scenario().snapshots is None and example_scenario().snapshot_weight is None


def test_weights_default_to_the_step_and_explicit_ones_are_honoured():
    stamps = pd.DatetimeIndex(["2025-01-01 00:00", "2025-01-01 03:00", "2025-01-01 04:00", "2025-01-01 06:00"])
    sc = example_scenario().with_snapshots(stamps)
    assert sc.snapshot_weight.values.tolist() == [3.0, 1.0, 2.0, 2.0]  # the last one: the median step
    sc = example_scenario().with_snapshots(stamps, weights=[2190.0] * 4)  # representative snapshots of a year
    assert float(sc.snapshot_weight.sum()) == 8760.0
    assert example_scenario().with_snapshots(["2025-06-01 12:00"], weights=8760).snapshot_weight.values.tolist() == [8760.0]


@pytest.mark.parametrize(("index", "weights", "words"), [
    (["2025-01-01 00:00", "2025-01-01 01:00", "2025-01-01 01:00"], None, "duplicate snapshot"),
    (["2025-01-01 00:00", "yesterday", "2025-01-01 02:00"], None, "not a date and time"),
    (["2025-01-01 02:00", "2025-01-01 01:00"], None, "out of order"),
    (["2025-01-01 00:00+08:00", "2025-01-01 01:00+08:00"], None, "time-zone offset"),
    (pd.date_range("2025-01-01", periods=2, freq="h", tz="Asia/Shanghai"), None, "time-zone aware"),
    (HOURS[:3], [1.0, 0.0, 1.0], "not a positive number of hours"),
    (HOURS[:3], [1.0, -2.0, np.nan], "not a positive number of hours"),
    (HOURS[:3], [1.0, 1.0], "2 weights for 3 snapshots"),
    ([], None, "0 snapshots"),
])
def test_bad_snapshots_and_weights_are_refused(index, weights, words):
    err = problems(lambda: example_scenario().with_snapshots(index, weights))
    assert words in str(err)


def test_changing_snapshots_keeps_series_only_when_they_can_follow(timed):
    sub = timed.with_snapshots(HOURS[::2])
    assert sub.timeseries("site", "power_price").sizes["snapshot"] == 12
    np.testing.assert_array_equal(sub.timeseries("site", "power_price").values,
                                  timed.timeseries("site", "power_price").values[::2])
    err = problems(lambda: timed.with_snapshots(HOURS + pd.Timedelta("30min")))
    assert "site.power_price" in str(err) and "without_time()" in str(err)
    assert timed.without_time().with_snapshots(HOURS + pd.Timedelta("30min")).time_varying == {}


# -- series ---------------------------------------------------------------------------------------------
def test_series_are_converted_to_the_canonical_unit_and_fill_with_static_values(timed):
    price = timed.timeseries("site", "power_price")
    assert price.dims == ("snapshot", "site") and price.attrs["units"] == "CNY/kWh"
    np.testing.assert_allclose(price.sel(site="zjk").values[[0, -1]], [0.30, 0.53])  # CNY/MWh -> CNY/kWh
    assert (price.sel(site="cq").values == 0.63).all()  # no column: the static value
    with pytest.raises(ValueError, match="read-only"):
        price.values[0, 0] = 1.0
    assert timed.timeseries("site", "pue") is None
    assert timed.time_varying == {"site": ["power_price"], "device": ["demand"]}
    assert float(timed["site"]["power_price"].sel(site="zjk")) == 0.63  # the static value stays as it was


def test_varying_broadcasts_static_values(timed):
    pue = timed.varying("site", "pue")
    assert pue.dims == ("snapshot", "site") and pue.sizes == {"snapshot": 24, "site": 3}
    np.testing.assert_array_equal(pue.values, np.broadcast_to(timed["site"]["pue"].values, (24, 3)))
    assert pue.attrs["units"] == "1" and pue["snapshot"].values[0] == HOURS[0]
    xr.testing.assert_identical(timed.varying("site", "power_price"), timed.timeseries("site", "power_price"))
    three = example_scenario().varying("site", "carbon_intensity", snapshots=HOURS[:3])
    assert three.sizes == {"snapshot": 3, "site": 3}
    with pytest.raises(ValueError, match="has no snapshots"):
        example_scenario().varying("site", "pue")
    assert timed.varying("site", "power_price", snapshots=HOURS[5:7]).sizes["snapshot"] == 2


def test_at_equals_the_static_scenario_built_by_hand(timed):
    at = timed.at("2025-01-01 05:00")
    site = timed["site"].copy(deep=True)
    site["power_price"].values[:] = timed.timeseries("site", "power_price").values[5]
    np.testing.assert_allclose(site["power_price"].values, [0.35, 0.35, 0.63])  # 300 + 5 x 10 CNY/MWh at zjk
    device = timed["device"].copy(deep=True)
    device["demand"].values[:] = [0.5]
    by_hand = timed.without_time().with_table("site", site).with_table("device", device)
    assert at.identical(by_hand) and at.snapshots is None
    assert timed.at(5).identical(at) and timed.at(-19).identical(at)
    assert timed.at(pd.Timestamp("2025-01-01 05:00")).identical(at)
    with pytest.raises(KeyError, match="not a snapshot"):
        timed.at("2025-01-01 05:30")
    with pytest.raises(IndexError):
        timed.at(24)


@pytest.mark.parametrize(("make", "words"), [
    (lambda sc: sc.with_series("site", "lon", pd.DataFrame({"zjk": 1.0}, index=HOURS)), "does not vary in time"),
    (lambda sc: sc.with_series("site", "power_price", pd.DataFrame({"zjkk": 1.0}, index=HOURS)),
     "unknown site id column 'zjkk'; did you mean 'zjk'"),
    (lambda sc: sc.with_series("site", "power_prize", pd.DataFrame({"zjk": 1.0}, index=HOURS)),
     "unknown attribute 'power_prize'"),
    (lambda sc: sc.with_series("site", "power_price", pd.DataFrame({"zjk": 1.0}, index=HOURS[:-1])),
     "1 of the scenario's snapshots have no value: 2025-01-01 23:00"),
    (lambda sc: sc.with_series("site", "power_price", pd.DataFrame({"zjk [W]": 1.0}, index=HOURS)), "wrong unit"),
    (lambda sc: sc.with_series("site", "pue", pd.DataFrame({"qy": 1.2}, index=HOURS.append(
        pd.DatetimeIndex(["2025-01-01 01:00"])))), "duplicate snapshot"),
])
def test_bad_series_are_refused(timed, make, words):
    assert words in str(problems(lambda: make(timed)))


def test_out_of_range_values_name_the_snapshot_and_the_id(timed):
    values = np.full((24, 1), 1.2)
    values[7, 0] = 0.8  # a PUE below 1
    err = problems(lambda: timed.with_series("site", "pue", pd.DataFrame(values, index=HOURS, columns=["qy"])))
    (p,) = err.problems
    assert p.field == "site[qy].pue" and "out of range at snapshot 2025-01-01 07:00" in p.message
    assert p.expected == "in [1, 4] 1"
    err = problems(lambda: example_scenario().with_series("site", "pue", pd.DataFrame({"qy": 1.2}, index=HOURS)))
    assert "has no snapshots" in str(err)


def test_row_edits_keep_series_aligned(timed):
    sub = timed.select_sites(["qy", "cq"])
    assert sub.timeseries("site", "power_price")["site"].values.tolist() == ["qy", "cq"]
    np.testing.assert_array_equal(sub.timeseries("site", "power_price").values,
                                  timed.timeseries("site", "power_price").sel(site=["qy", "cq"]).values)
    assert timed.drop_rows("site", "zjk").identical(sub)
    assert timed.drop_rows("device", "cq-residents").timeseries("device", "demand").sizes["device"] == 0
    grown = timed.with_rows("site", [{"id": "gz", "lon": 113.26, "lat": 23.13, "power_price": 0.7}])
    np.testing.assert_array_equal(grown.timeseries("site", "power_price").sel(site="gz").values, 0.7)
    replaced = timed.with_rows("site", [{"id": "zjk", "lon": 114.871, "lat": 40.783, "power_price": 0.4}],
                               replace=True)  # a replaced row takes its new static value
    np.testing.assert_array_equal(replaced.timeseries("site", "power_price").sel(site="zjk").values, 0.4)
    assert timed.copy().identical(timed) and not timed.identical(timed.without_time())
    assert not timed.identical(timed.with_series("site", "pue", pd.DataFrame({"qy": 1.21}, index=HOURS)))


def test_summary_repr_and_html_mention_the_time_axis(timed):
    summary = timed.summary()
    assert summary.loc["snapshots", "rows"] == 24 and summary.loc["site", "time_series"] == "power_price"
    assert "24 h in total" in summary.loc["snapshots", "description"]
    assert repr(timed).endswith("snapshots=24>")
    html = timed._repr_html_()
    assert "24 snapshots, 2025-01-01 00:00 .. 2025-01-01 23:00, 24 h in total" in html
    assert "site.power_price, device.demand" in html and "varies in time" in html and "yes (series)" in html
    assert "time_series" not in example_scenario().summary().columns  # a static scenario's summary is unchanged


# -- stores and files -----------------------------------------------------------------------------------
def test_netcdf_and_zarr_round_trips_are_identical(timed, tmp_path):
    assert wb.Scenario.from_netcdf(timed.to_netcdf(tmp_path / "t.nc")).identical(timed)
    assert wb.Scenario.from_zarr(timed.to_zarr(tmp_path / "t.zarr")).identical(timed)
    tree = timed.to_datatree()
    assert tree.attrs["workbench_format"] == 2 and set(tree["timeseries"].children) == {"site", "device"}
    assert example_scenario().to_datatree().attrs["workbench_format"] == 1


def test_stores_with_bad_series_are_checked_like_python_input(timed, tmp_path):
    tree = timed.to_datatree()
    ts = tree["timeseries/site"].to_dataset()
    tree["timeseries/site"] = xr.DataTree(ts.assign(power_price=ts["power_price"].where(ts["snapshot"] != HOURS[3],
                                                                                          -1.0)))
    err = problems(lambda: wb.Scenario.from_datatree(tree, source="bad.nc"))
    assert any(p.file == "bad.nc" and p.field == "site[zjk].power_price" and "2025-01-01 03:00" in p.message
               for p in err.problems)
    tree = timed.to_datatree()
    tree["timeseries/site"] = xr.DataTree(ts.assign(junk=(("snapshot", "x"), np.zeros((24, 2)))))
    assert "dimensions" in str(problems(lambda: wb.Scenario.from_datatree(tree, source="bad.nc")))
    tree = timed.to_datatree()
    snaps = tree["snapshots"].to_dataset()
    tree["snapshots"] = xr.DataTree(snaps.assign(weight=snaps["weight"] * 0))
    assert "not a positive number of hours" in str(problems(lambda: wb.Scenario.from_datatree(tree, source="b.nc")))


def test_files_round_trip_is_identical(timed, tmp_path):
    path = timed.to_files(tmp_path / "out")
    names = {p.name for p in path.parent.iterdir()}
    assert {"snapshots.csv", "timeseries.site.power_price.csv", "timeseries.device.demand.csv"} <= names
    header = (path.parent / "timeseries.site.power_price.csv").read_text().splitlines()[0]
    assert header == "snapshot,zjk [CNY/kWh],qy [CNY/kWh],cq [CNY/kWh]"
    assert wb.load_scenario(path).identical(timed)
    timed.to_files(tmp_path / "out", overwrite=True)  # its own output may be replaced


# -- YAML blocks ----------------------------------------------------------------------------------------
def write_scenario(folder, time_yaml: str, files: dict[str, str] | None = None):
    """The example scenario's files in ``folder`` with ``time_yaml`` appended to scenario.yaml."""
    path = example_scenario().to_files(folder)
    path.write_text(path.read_text() + time_yaml)
    for name, text in (files or {}).items():
        (folder / name).write_text(text)
    return path


def price_csv(rows: int = 24, first_line: str = "snapshot,zjk [CNY/MWh],qy") -> str:
    body = "\n".join(f"2025-01-01 {h:02d}:00,{300 + 10 * h},0.35" for h in range(rows))
    return f"{first_line}\n{body}\n"


def test_yaml_snapshots_and_csv_series_load(tmp_path):
    path = write_scenario(tmp_path / "s", 'snapshots: {start: "2025-01-01 00:00", periods: 24, freq: h}\n'
                          "timeseries:\n  site.power_price: {csv: price.csv}\n", {"price.csv": price_csv()})
    sc = load_scenario_file(path)
    assert sc.snapshots.equals(HOURS) and float(sc.snapshot_weight.sum()) == 24.0
    np.testing.assert_allclose(sc.timeseries("site", "power_price").sel(site="zjk").values[[0, 5]], [0.30, 0.35])
    one_unit = write_scenario(tmp_path / "u", "snapshots: {start: '2025-01-01', periods: 24, freq: h, weight_h: 2}\n"
                              "timeseries:\n  site.power_price: {csv: p.csv, unit: CNY/MWh}\n",
                              {"p.csv": price_csv(first_line="snapshot,zjk,qy").replace(",0.35", ",350")})
    sc2 = load_scenario_file(one_unit)
    assert float(sc2.snapshot_weight.sum()) == 48.0
    np.testing.assert_allclose(sc2.timeseries("site", "power_price").values, sc.timeseries("site", "power_price").values)
    snaps = "snapshot,weight [min]\n" + "".join(f"2025-01-01 {h:02d}:00,60\n" for h in range(24))
    from_csv = write_scenario(tmp_path / "c", "snapshots: {csv: snapshots.csv}\n", {"snapshots.csv": snaps})
    assert load_scenario_file(from_csv).snapshot_weight.values.tolist() == [1.0] * 24


@pytest.mark.parametrize(("csv_text", "words", "line"), [
    (price_csv().replace("2025-01-01 03:00,330", "2025-01-01 02:00,330"), "duplicate snapshot", 5),
    (price_csv().replace("2025-01-01 03:00", "03/01/2025 3am"), "not a date and time", 5),
    (price_csv().replace("2025-01-01 03:00", "2025-01-02 03:00"), "not one of the scenario's snapshots", 5),
    (price_csv().replace("2025-01-01 03:00,330", "2025-01-01 03:00,=cmd|' /C calc'!A0"), "not a number", 5),
    (price_csv().replace("2025-01-01 03:00,330", "2025-01-01 03:00,-5"), "out of range at snapshot", 5),
    (price_csv(first_line="snapshot,zjk [CNY/MWh],nowhere"), "unknown site id column 'nowhere'", 1),
])
def test_bad_series_csv_names_file_line_and_field(tmp_path, csv_text, words, line):
    path = write_scenario(tmp_path / "s", "snapshots: {start: '2025-01-01 00:00', periods: 24, freq: h}\n"
                          "timeseries:\n  site.power_price: {csv: price.csv}\n", {"price.csv": csv_text})
    err = problems(lambda: load_scenario_file(path))
    hits = [p for p in err.problems if p.file.endswith("price.csv") and p.line == line and words in p.message]
    assert hits, str(err)
    assert hits[0].field.startswith(("site[", "timeseries.site.power_price"))


def test_yaml_time_blocks_report_structural_problems(tmp_path):
    path = write_scenario(tmp_path / "s", "snapshots: {start: '2025-01-01 00:00', periods: 0, freq: fortnightly}\n"
                          "timeseries:\n  site.lon: {csv: p.csv}\n  sitepower: {profile: x}\n",
                          {"p.csv": price_csv()})
    fields = {p.field for p in problems(lambda: load_scenario_file(path)).problems}
    assert {"snapshots.periods", "snapshots.freq", "timeseries.sitepower"} <= fields
    path = write_scenario(tmp_path / "t", "snapshots: {start: '2025-01-01 00:00', periods: 24, freq: h}\n"
                          "timeseries:\n  site.lon: {csv: p.csv}\n", {"p.csv": price_csv()})
    assert "does not vary in time" in str(problems(lambda: load_scenario_file(path)))


@pytest.fixture
def fake_profiles(monkeypatch):
    """A stand-in ``workbench.profiles`` (the real one is written elsewhere): 'flat' = 1, 'ramp' = 0..1."""
    module = types.ModuleType("workbench.profiles")

    def evaluate(name, snapshots, scenario, kind):
        n, rows = len(snapshots), scenario[kind].sizes[kind]
        if name == "flat":
            return np.ones((n, rows))
        if name == "ramp":
            return np.repeat(np.linspace(0.0, 1.0, n)[:, None], rows, axis=1)
        raise KeyError(name)

    module.evaluate = evaluate
    module.list_profiles = lambda: pd.DataFrame({"name": ["flat", "ramp"]})
    monkeypatch.setitem(sys.modules, "workbench.profiles", module)
    return module


def test_profiles_scale_by_a_number_or_the_static_value(tmp_path, fake_profiles):
    path = write_scenario(tmp_path / "s", "snapshots: {start: '2025-01-01 00:00', periods: 24, freq: h}\n"
                          "timeseries:\n  site.green_cf: {profile: ramp, scale: 0.5}\n"
                          "  site.power_price: {profile: flat, scale: static}\n"
                          "  device.demand: {profile: flat, scale: '3 request/min'}\n")
    sc = load_scenario_file(path)
    np.testing.assert_allclose(sc.timeseries("site", "green_cf").values[[0, -1], 0], [0.0, 0.5])
    np.testing.assert_array_equal(sc.timeseries("site", "power_price").values,
                                  sc.varying("site", "power_price", snapshots=sc.snapshots).values)
    np.testing.assert_allclose(sc.timeseries("device", "demand").values, 0.05)  # 3 per minute = 0.05 per second


def test_unknown_profile_names_the_file_field_and_known_names(tmp_path, fake_profiles):
    path = write_scenario(tmp_path / "s", "snapshots: {start: '2025-01-01 00:00', periods: 24, freq: h}\n"
                          "timeseries:\n  site.power_price: {profile: rampp, scale: static}\n")
    err = problems(lambda: load_scenario_file(path))
    (p,) = err.problems
    assert p.file == str(path) and p.field == "timeseries.site.power_price.profile"
    assert "did you mean 'ramp'" in p.message and p.expected == "one of flat, ramp" and p.line is not None
    path = write_scenario(tmp_path / "t", "snapshots: {start: '2025-01-01 00:00', periods: 24, freq: h}\n"
                          "timeseries:\n  site.green_cf: {profile: ramp, scale: 3}\n")  # a factor of 3 > 1
    assert "out of range at snapshot" in str(problems(lambda: load_scenario_file(path)))


def test_uneven_snapshots_need_explicit_weights():
    """Representative days (hourly within a day, months apart) with default weights would let the
    last hour of a day stand for months: refused, with the gap named; explicit weights are fine."""
    import pandas as pd
    import pytest

    import workbench as wb
    from workbench.errors import ScenarioError

    sc = wb.load_scenario("china-edwc")
    idx = pd.DatetimeIndex(list(pd.date_range("2025-01-15", periods=24, freq="h"))
                           + list(pd.date_range("2025-07-15", periods=24, freq="h")))
    with pytest.raises(ScenarioError, match="not evenly spaced"):
        sc.with_snapshots(idx)
    ok = sc.with_snapshots(idx, weights=[4380.0 / 24] * 48)
    assert float(ok.snapshot_weight.sum()) == pytest.approx(4380.0 * 2)
