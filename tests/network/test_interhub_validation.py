"""Inter-hub latency over the china-edwc graph against published monitoring figures.

The reference figures (tests/data/network/interhub_latency.csv, with sources) were collected after the
backbone was committed and nothing was tuned to them: every row is held out. What users need from the
model is an inter-hub latency good to about a quarter (enough to test the plan's 20 ms promise and to
rank placements): the thresholds below are that, not what the model happens to reach.

Where the model falls short it says so: the operators' IP private networks are measured "best per
pair" values that include IP routing detours the model's ``ip`` layer (the fibre graph plus a router
pass per hop) does not have; that check is a strict xfail that documents the gap.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb

DATA = Path(__file__).resolve().parents[1] / "data" / "network" / "interhub_latency.csv"
LAYER = {"optical": "optical", "ip-private": "ip", "internet": "internet", "unstated": "optical"}
NEED = 0.25                           # relative error users can plan with (see module docstring)


@pytest.fixture(scope="module")
def china():
    return wb.load_scenario("china-edwc")


@pytest.fixture(scope="module")
def rows():
    return pd.read_csv(DATA)


def model_value(sc, row) -> tuple[float, float]:
    """The model's one-way figure for a reference row (same statistic over the same pairs), and the
    round trip (2 x one way; every source leaves the direction unstated)."""
    src, dst = row["src"].split(";"), row["dst"].split(";")
    m = wb.analyze("latency_matrix", sc, sites=src, dst=dst, layer=LAYER[row["layer"]])
    lat = m["latency"].values
    off = m["src"].values[:, None] != m["dst"].values[None, :]
    if row["scope"] == "pair":                    # a region mapped to several sites: its nearest
        v = float(np.nanmin(np.where(off, lat, np.nan)))
    elif row["statistic"].startswith("mean") or row["statistic"] == "upper bound of the mean":
        v = float(np.nanmean(np.where(off, lat, np.nan)))
    else:                                         # max, upper bound
        v = float(np.nanmax(np.where(off, lat, np.nan)))
    return v, 2 * v


def validation_table(sc, rows) -> pd.DataFrame:
    out = []
    for _, row in rows.iterrows():
        one, rt = model_value(sc, row)
        out.append({"id": row["id"], "statistic": row["statistic"], "layer": row["layer"],
                    "published_ms": row["value [ms]"], "model_one_way_ms": round(one, 2),
                    "model_round_trip_ms": round(rt, 2),
                    "error_one_way": round(one / row["value [ms]"] - 1, 3),
                    "error_round_trip": round(rt / row["value [ms]"] - 1, 3)})
    return pd.DataFrame(out).set_index("id")


def test_optical_aggregates_between_cluster_cities(china, rows):
    # CAICT Q1 2024, optical layer, all cluster-city pairs: mean 9.7 ms, max 17.1 ms. Direction
    # unstated; read as one way (a 17.1 ms round trip would need cluster cities 1,700 km apart to be
    # joined by fibre at a route factor of 1.0, which no pair is).
    t = validation_table(china, rows[rows["layer"] == "optical"])
    print(t.to_string())
    assert np.all(np.abs(t["error_one_way"]) <= NEED)


def test_the_20_ms_promises_hold_one_way_on_the_optical_layer(china, rows):
    bounds = rows[rows["statistic"].str.startswith("upper bound")]
    t = validation_table(china, bounds)
    print(t.to_string())
    assert np.all(t["model_one_way_ms"] <= t["published_ms"])


def test_guian_published_pairs(china, rows):
    # "according to local authorities", direction and layer unstated: 6 / 10 / 15 / 20 ms to
    # Chengdu-Chongqing, the Greater Bay Area, the Yangtze delta and Beijing-Tianjin-Hebei.
    t = validation_table(china, rows[rows["id"].str.startswith("guian23")])
    print(t.to_string())
    # the order of the four regions is right
    assert list(t["model_one_way_ms"].rank()) == list(t["published_ms"].rank())
    # and each figure lies between the model's one-way and round-trip values, widened by the need
    assert np.all(t["published_ms"] >= t["model_one_way_ms"] * (1 - NEED))
    assert np.all(t["published_ms"] <= t["model_round_trip_ms"] * (1 + NEED))


def test_public_internet_aggregates_between_cluster_cities(china, rows):
    # CAICT Q1 2024, best internet latency per pair: mean 16.7 ms, max 28.7 ms
    t = validation_table(china, rows[rows["layer"] == "internet"])
    print(t.to_string())
    assert np.all(np.abs(t["error_one_way"]) <= NEED)


@pytest.mark.xfail(strict=True, reason="the ip layer lacks IP routing detours: CAICT's IP private-network 'best per "
                                       "pair' mean and max (14.6 / 23.9 ms) are 28-31% above the model")
def test_ip_private_aggregates_between_cluster_cities(china, rows):
    t = validation_table(china, rows[rows["layer"] == "ip-private"])
    print(t.to_string())
    assert np.all(np.abs(t["error_one_way"]) <= NEED)
