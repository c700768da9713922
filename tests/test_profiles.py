"""Hourly profiles (workbench.profiles): snapshots and weights, demand shapes, time-of-use tariffs, solar, wind,
green and carbon profiles, and the named profiles served to scenario files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from workbench import profiles as P
from workbench.errors import ProfileError, WorkbenchError

DATASETS = Path(__file__).resolve().parents[1] / "datasets"
# A Monday-to-Sunday week (1 Jan 2025 is a Wednesday)
WEEK = pd.date_range("2025-01-06", periods=7 * 24, freq="h")


@pytest.fixture(scope="module")
def edwc():
    from workbench.datasets import load_scenario

    return load_scenario("china-edwc")


@pytest.fixture(scope="module")
def rep_days():
    return P.representative_days()


# --- snapshots ----------------------------------------------------------------------------------------------

def test_year_snapshots_are_naive_hours_of_the_year():
    snaps = P.year_snapshots()
    assert len(snaps) == 8760 and snaps.tz is None
    assert snaps[0] == pd.Timestamp("2025-01-01 00:00") and snaps[-1] == pd.Timestamp("2025-12-31 23:00")
    assert len(P.year_snapshots(2024)) == 8784
    assert len(P.year_snapshots(2025, freq="15min")) == 4 * 8760
    with pytest.raises(ProfileError):
        P.year_snapshots(2025, freq="not-a-frequency")


@pytest.mark.parametrize(("year", "hours", "winter_days"), [(2025, 8760, 90), (2024, 8784, 91), (2023, 8760, 90)])
def test_representative_day_weights_sum_to_the_hours_of_the_year(year, hours, winter_days):
    snaps, weights = P.representative_days(year)
    assert len(snaps) == 96 == len(weights) and snaps.is_monotonic_increasing and snaps.tz is None
    assert weights.sum() == hours
    seasons = P.season_of(snaps)
    assert list(dict.fromkeys(seasons)) == ["winter", "spring", "summer", "autumn"]
    by_season = {s: set(weights[seasons == s]) for s in P.SEASON_DAYS}
    # DJF = Jan + Feb + Dec of the same year; MAM 92, JJA 92, SON 91 days
    assert by_season == {"winter": {winter_days}, "spring": {92}, "summer": {92}, "autumn": {91}}
    for season, day in P.SEASON_DAYS.items():
        day_snaps = snaps[seasons == season]
        assert day_snaps[0] == pd.Timestamp(f"{year}-{day}") and (np.diff(day_snaps.hour) == 1).all()


def test_representative_days_can_be_chosen_but_stay_in_their_season():
    snaps, weights = P.representative_days(2025, {"winter": "12-21", "summer": "06-21"})
    assert weights.sum() == 8760 and snaps.is_monotonic_increasing
    assert snaps[0] == pd.Timestamp("2025-04-15") and snaps[-1] == pd.Timestamp("2025-12-21 23:00")
    with pytest.raises(ProfileError, match="not in summer"):
        P.representative_days(2025, {"summer": "09-01"})
    with pytest.raises(ProfileError, match="unknown season"):
        P.representative_days(2025, {"monsoon": "07-01"})
    with pytest.raises(ProfileError, match="02-29"):
        P.representative_days(2025, {"winter": "02-29"})


def test_season_of_is_meteorological():
    snaps = pd.DatetimeIndex([f"2025-{m:02d}-10" for m in range(1, 13)])
    assert list(P.season_of(snaps)) == ["winter"] * 2 + ["spring"] * 3 + ["summer"] * 3 + ["autumn"] * 3 + ["winter"]


def test_tz_aware_snapshots_are_read_in_china_standard_time():
    local = pd.date_range("2025-07-15", periods=24, freq="h")
    utc = local.tz_localize(P.TIMEZONE).tz_convert("UTC")
    np.testing.assert_array_equal(P.demand_shape("resident", utc), P.demand_shape("resident", local))
    np.testing.assert_array_equal(P.solar_cf(116.4, 39.9, utc), P.solar_cf(116.4, 39.9, local))
    with pytest.raises(ProfileError):
        P.demand_shape("resident", ["not a date"])


# --- demand -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", ["resident", "enterprise", "robot", "vehicle", "flat"])
def test_demand_shape_has_mean_one_over_a_week(cls):
    assert cls in P.demand_classes()
    shape = P.demand_shape(cls, WEEK)
    assert shape.shape == (168,) and (shape > 0).all()
    assert shape.mean() == pytest.approx(1.0, abs=1e-12)
    # any 168 consecutive hours are a week too
    assert P.demand_shape(cls, pd.date_range("2025-03-13 17:00", periods=168, freq="h")).mean() == pytest.approx(1.0)


def test_resident_shape_troughs_at_night_and_peaks_in_the_evening():
    weekday = P.demand_shape("resident", WEEK[:24])  # Monday
    assert int(np.argmin(weekday)) in (3, 4, 5) and weekday.min() == pytest.approx(0.3, abs=0.05)
    assert int(np.argmax(weekday)) == 21 and weekday.max() == pytest.approx(1.5, abs=0.1)
    sunday = P.demand_shape("resident", WEEK[-24:])
    assert sunday.max() - sunday.min() < weekday.max() - weekday.min()  # flatter
    assert sunday[7] < weekday[7]  # later morning
    enterprise = P.demand_shape("enterprise", WEEK)
    assert enterprise[10] > 1 > enterprise[24 * 5 + 10]  # Monday 10:00 vs Saturday 10:00
    robot = P.demand_shape("robot", WEEK[:24])
    assert robot[8:24].min() > 3 * robot[:7].max()  # two shifts 08:00-24:00


def test_demand_shape_by_row_aliases_and_errors():
    classes = np.array(["resident", "robot", "phone", "camera", "resident"], dtype=object)
    out = P.demand_shape(classes, WEEK)
    assert out.shape == (168, 5)
    np.testing.assert_array_equal(out[:, 0], P.demand_shape("resident", WEEK))
    np.testing.assert_array_equal(out[:, 2], out[:, 0])  # phones: the residents' shape
    np.testing.assert_array_equal(out[:, 3], np.ones(168))  # cameras: flat
    with pytest.raises(ProfileError, match="did you mean 'robot'"):
        P.demand_shape("robott", WEEK)


# --- time-of-use --------------------------------------------------------------------------------------------

def test_tou_multiplier_has_mean_one_every_day():
    snaps = P.year_snapshots(2024)
    provinces = np.array(["Zhejiang", "Beijing", "Gansu", "Xinjiang", "Guangdong", ""], dtype=object)
    tou = P.tou_multiplier(provinces, snaps)
    assert tou.shape == (8784, 6) and (tou > 0).all()
    daily = tou.reshape(366, 24, 6).mean(axis=1)
    np.testing.assert_allclose(daily, 1.0, rtol=1e-12)
    # a flat load pays the average price over the year
    np.testing.assert_allclose(tou.mean(axis=0), 1.0, rtol=1e-12)


def test_zhejiang_ratios_are_the_published_ones():
    july = pd.date_range("2025-07-15", periods=24, freq="h")
    zj = P.tou_multiplier("Zhejiang", july)
    assert zj.shape == (24,)
    assert zj[19] / zj[3] == pytest.approx(2.05 / 0.4)  # critical peak (尖峰) / low valley
    assert zj[17] / zj[3] == pytest.approx(1.85 / 0.4)  # high peak (高峰) / low valley
    assert zj[8] / zj[3] == pytest.approx(1.0 / 0.4)  # flat / low valley
    assert zj[12] == zj[3]  # midday valley 11:00-14:00 (draft)
    holiday = P.tou_multiplier("Zhejiang", pd.date_range("2025-10-02", periods=24, freq="h"))
    assert holiday[10] / holiday[3] == pytest.approx(0.2 / 0.4)  # deep valley / low valley
    april = P.tou_multiplier("Zhejiang", pd.date_range("2025-04-15", periods=24, freq="h"))
    assert april[19] / april[3] == pytest.approx(1.85 / 0.4)  # spring: no critical peak


def test_default_tariff_meets_the_ndrc_2021_rules():
    july = pd.date_range("2025-07-15", periods=24, freq="h")
    d = P.tou_multiplier("Henan", july)  # not listed: the national default
    peak, valley, critical = d[9], d[3], d[20]
    assert peak / valley >= 3.0  # NDRC: >= 3:1 everywhere (>= 4:1 where peak-valley load difference > 40%)
    assert peak / valley == pytest.approx(4.0)  # the default takes the stricter rule
    assert critical / peak >= 1.2 - 1e-12  # critical peak at least 20% above peak
    np.testing.assert_array_equal(P.tou_multiplier("Beijing", july), d)


def test_western_solar_provinces_have_a_midday_valley():
    day = pd.date_range("2025-04-15", periods=24, freq="h")
    gansu, default = P.tou_multiplier(["Gansu", "Henan"], day).T
    assert gansu[12] == gansu.min() < 1 < gansu[20]
    assert default[12] > default[3]


# --- solar --------------------------------------------------------------------------------------------------

def test_solar_zero_while_the_sun_is_down():
    import pvlib

    snaps = P.year_snapshots()
    lon, lat = 116.4, 40.0
    cf = P.solar_cf(lon, lat, snaps)
    assert cf.shape == (8760,) and cf.min() >= 0 and cf.max() <= 1
    # an independent solar position (NREL SPA) at each hour's midpoint
    mid = (snaps + pd.Timedelta(minutes=30)).tz_localize(P.TIMEZONE)
    elevation = pvlib.solarposition.get_solarposition(mid, lat, lon)["apparent_elevation"].to_numpy()
    assert (cf[elevation < -0.5] == 0).all()
    assert (cf[elevation > 5] > 0).all()
    assert 0.4 < (cf > 0).mean() < 0.6  # about half the hours of a year are daylight


def test_solar_noon_higher_in_summer_than_in_winter_at_40n():
    noon = pd.DatetimeIndex(["2025-01-15 12:00", "2025-07-15 12:00"])
    winter, summer = P.solar_cf(116.4, 40.0, noon)
    assert summer > winter > 0
    assert summer <= P.SOLAR_DERATE * 1.2  # clear-sky GHI at noon stays near 1,000 W/m2


def test_calibration_sites_match_the_scenario(edwc):
    site = edwc["site"]
    for sid, (lon, lat) in P.SOLAR_CALIBRATION_SITES.items():
        assert float(site["lon"].sel(site=sid)) == pytest.approx(lon)
        assert float(site["lat"].sel(site=sid)) == pytest.approx(lat)
        assert site["tier"].sel(site=sid).item() == "cluster"


def test_solar_full_load_hours_match_the_calibration_target(record_property):
    target = P.full_load_hours_target("solar")
    assert target == 1286
    lon, lat = (np.array(v) for v in zip(*P.SOLAR_CALIBRATION_SITES.values()))
    hours = P.solar_cf(lon, lat, P.year_snapshots()).sum(axis=0)
    assert hours.mean() == pytest.approx(target, rel=0.01)
    # the shipped derate is the fit, rounded
    assert P.calibrate_solar_derate() == pytest.approx(P.SOLAR_DERATE, rel=1e-3)
    record_property("solar_derate", P.SOLAR_DERATE)
    record_property("calibration_site_hours", dict(zip(P.SOLAR_CALIBRATION_SITES, hours.round(0))))


def test_held_out_sites_solar_hours_are_reported(edwc, record_property):
    site = edwc["site"]
    held_out = [s for s in site["site"].values if str(s).startswith(("cl-", "hub-"))
                and s not in P.SOLAR_CALIBRATION_SITES]
    sel = site.sel(site=held_out)
    hours = P.solar_cf(sel["lon"].values, sel["lat"].values, P.year_snapshots()).sum(axis=0)
    report = dict(zip(held_out, hours.round(0)))
    record_property("held_out_site_hours", report)
    print("solar full-load hours at held-out clusters and hubs [h]:", report)
    # a sanity window only, not a calibration target: clear-sky x one derate stays within a factor of
    # two of the national figure anywhere in China
    assert (hours > 0.5 * 1286).all() and (hours < 2 * 1286).all()


def test_solar_by_row_reuses_unique_points():
    snaps, _ = P.representative_days()
    lon = np.array([105.191, 121.46, 105.191])
    lat = np.array([37.511, 31.22, 37.511])
    cf = P.solar_cf(lon, lat, snaps)
    assert cf.shape == (96, 3)
    np.testing.assert_array_equal(cf[:, 0], cf[:, 2])
    np.testing.assert_array_equal(cf[:, 1], P.solar_cf(121.46, 31.22, snaps))
    with pytest.raises(ProfileError, match="coordinates"):
        P.solar_cf([100.0, np.nan], [30.0, 30.0], snaps)


# --- wind, green, carbon ------------------------------------------------------------------------------------

def test_wind_annual_full_load_hours():
    target = P.full_load_hours_target("wind")
    assert target == 2225
    provinces = np.array(["Inner Mongolia", "Xinjiang", "Gansu", "Guangdong", "Zhejiang"], dtype=object)
    cf = P.wind_cf(provinces, P.year_snapshots(2025))
    assert cf.shape == (8760, 5) and cf.min() >= 0 and cf.max() <= 1
    np.testing.assert_allclose(cf.sum(axis=0), target, rtol=1e-9)
    leap = P.wind_cf(provinces, P.year_snapshots(2024)).sum(axis=0)  # one more February day
    np.testing.assert_allclose(leap, target, rtol=1.5 * 24 / 8760)


def test_wind_shape_in_the_north_west():
    snaps = P.year_snapshots()
    north, default = P.wind_cf(["Gansu", "Hainan"], snaps).T
    night, noon = snaps.hour.isin([1, 2, 3]), snaps.hour.isin([12, 13])
    assert north[night].mean() > 1.3 * north[noon].mean()
    spring, summer = snaps.month.isin([3, 4, 5]), snaps.month.isin([7, 8])
    assert north[spring].mean() > 1.4 * north[summer].mean()
    assert np.ptp(default) < np.ptp(north)


def test_green_is_half_solar_half_wind():
    snaps, _ = P.representative_days()
    lon, lat, prov = [105.191] * 3, [37.511] * 3, ["Ningxia"] * 3
    solar, wind, both = P.green_cf(["solar", "wind", "solar+wind"], lon, lat, prov, snaps).T
    np.testing.assert_allclose(solar, P.solar_cf(105.191, 37.511, snaps))
    np.testing.assert_allclose(wind, P.wind_cf("Ningxia", snaps))
    np.testing.assert_allclose(both, 0.5 * solar + 0.5 * wind)
    assert P.green_cf("wind", 105.191, 37.511, "Ningxia", snaps).shape == (96,)
    with pytest.raises(ProfileError, match="unknown green source 'hydro'"):
        P.green_cf(["hydro"], lon[:1], lat[:1], prov[:1], snaps)


def test_carbon_is_ones():
    snaps, _ = P.representative_days()
    np.testing.assert_array_equal(P.carbon_multiplier(["Gansu", "Zhejiang"], snaps), np.ones((96, 2)))
    assert P.carbon_multiplier("Gansu", snaps).shape == (96,)


# --- evaluate and list_profiles -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["flat", "tou", "solar", "wind", "green", "carbon", "demand:resident"])
def test_evaluate_site_profiles_on_the_scenario(edwc, rep_days, name):
    snaps, _ = rep_days
    out = P.evaluate(name, snaps, edwc, "site")
    assert out.shape == (96, edwc["site"].sizes["site"]) and out.dtype == float and np.isfinite(out).all()
    if name in ("solar", "wind", "green"):
        assert out.min() >= 0 and out.max() <= 1


def test_evaluate_matches_the_functions(edwc, rep_days):
    snaps, _ = rep_days
    site = edwc["site"]
    np.testing.assert_array_equal(P.evaluate("tou", snaps, edwc, "site"),
                                  P.tou_multiplier(site["province"].values, snaps))
    # each site's green_source (china-edwc: wind, solar or the default solar+wind)
    np.testing.assert_allclose(P.evaluate("green", snaps, edwc, "site"),
                               P.green_cf(site["green_source"].values.astype(str), site["lon"].values,
                                          site["lat"].values, site["province"].values, snaps))
    device = edwc["device"]
    demand = P.evaluate("demand", snaps, edwc, "device")
    assert demand.shape == (96, device.sizes["device"])
    np.testing.assert_array_equal(demand, P.demand_shape(device["class"].values, snaps))
    np.testing.assert_array_equal(P.evaluate("flat", snaps, edwc, "device"), np.ones(demand.shape))


def _mini_site(**columns):
    n = len(next(iter(columns.values())))
    return {"site": xr.Dataset({k: ("site", np.asarray(v, dtype=object if isinstance(v[0], str) else float))
                                for k, v in columns.items()}, coords={"site": [f"s{i}" for i in range(n)]})}


def test_evaluate_green_source_per_site(rep_days):
    snaps, _ = rep_days
    scenario = _mini_site(lon=[105.19, 105.19, 105.19], lat=[37.51] * 3, province=["Ningxia"] * 3,
                          green_source=["solar", "", "wind"])
    out = P.evaluate("green", snaps, scenario, "site")
    np.testing.assert_allclose(out[:, 0], P.solar_cf(105.19, 37.51, snaps))
    np.testing.assert_allclose(out[:, 1], 0.5 * out[:, 0] + 0.5 * out[:, 2])  # empty: solar+wind
    np.testing.assert_allclose(out[:, 2], P.wind_cf("Ningxia", snaps))


def test_evaluate_errors(edwc, rep_days):
    snaps, _ = rep_days
    with pytest.raises(ProfileError, match="unknown profile 'sollar'") as info:
        P.evaluate("sollar", snaps, edwc, "site")
    assert isinstance(info.value, WorkbenchError)
    for known in ("flat", "demand", "tou", "solar", "wind", "green", "carbon", "demand:resident"):
        assert known in str(info.value)
    assert "did you mean 'solar'" in str(info.value)
    with pytest.raises(ProfileError, match="unknown profile 'demand:martian'"):
        P.evaluate("demand:martian", snaps, edwc, "device")
    with pytest.raises(ProfileError, match="applies to device tables"):
        P.evaluate("demand", snaps, edwc, "site")
    with pytest.raises(ProfileError, match="applies to site tables"):
        P.evaluate("solar", snaps, edwc, "device")
    with pytest.raises(ProfileError, match="no 'site' table"):
        P.evaluate("flat", snaps, {}, "site")
    with pytest.raises(ProfileError, match="needs column 'lat'"):
        P.evaluate("solar", snaps, _mini_site(lon=[100.0]), "site")


def test_list_profiles_names_units_and_sources():
    table = P.list_profiles()
    assert list(table.columns) == ["name", "kind", "unit", "description", "source"]
    assert {"flat", "demand", "tou", "solar", "wind", "green", "carbon"} <= set(table["name"])
    assert {f"demand:{c}" for c in ("resident", "enterprise", "robot", "vehicle", "flat")} <= set(table["name"])
    assert (table["unit"] == "1").all()
    assert "no hourly or seasonal" in table.set_index("name").loc["carbon", "description"]
    keys = set(yaml.safe_load((DATASETS / "SOURCES.yaml").read_text(encoding="utf-8")))
    used = {k for s in table["source"] for k in s.split(";")}
    assert used <= keys, used - keys
