"""Writing back: to_files loads back identical, compare lists differences, GeoJSON of sites and links."""

from __future__ import annotations

import json

import numpy as np
import pytest

import workbench as wb
from workbench.errors import WorkbenchError


def test_to_files_round_trip_is_identical_for_the_shipped_scenario(tmp_path):
    sc = wb.load_scenario("china-edwc")
    path = sc.to_files(tmp_path / "edwc")
    assert sorted(p.name for p in path.parent.iterdir()) == ["chip.csv", "device.csv", "inventory.csv", "link.csv",
                                                              "scenario.yaml", "site.csv"]
    header = (path.parent / "site.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "capacity [W]" in header and "lon [degree_east]" in header and "pue," in header  # units in headers
    back = wb.load_scenario(path)
    assert back.identical(sc)
    assert wb.compare(sc, back).empty


def test_to_files_keeps_awkward_text_exact_floats_and_parameters(tiny_scenario, tmp_path):
    site = tiny_scenario["site"]
    names = np.array(['Zhangjiakou, "Huailai"', "Qingyang\nzone", "重庆 Chongqing"], dtype=object)
    site = site.assign(name=site["name"].copy(data=names),
                       capacity=site["capacity"].copy(data=np.array([1 / 3, np.nan, 2.5e8])))
    sc = tiny_scenario.with_table("site", site).with_parameters(route_factor=1.2345678901234567,
                                                                 cny_per_usd="7.1 CNY/USD")
    back = wb.load_scenario(sc.to_files(tmp_path / "s"))
    assert back.identical(sc), wb.compare(sc, back)
    assert back["site"]["capacity"].values[0] == 1 / 3 and back.parameters["cny_per_usd"] == 7.1


def test_to_files_refuses_a_non_empty_folder_unless_overwrite(tiny_scenario, tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(WorkbenchError, match="exists and is not empty"):
        tiny_scenario.to_files(tmp_path)
    path = tiny_scenario.to_files(tmp_path, overwrite=True)
    assert not (tmp_path / "keep.txt").exists() and wb.load_scenario(path).identical(tiny_scenario)


def test_compare_lists_what_differs(tiny_scenario):
    site = tiny_scenario["site"]
    changed = tiny_scenario.with_table("site", site.assign(pue=site["pue"].copy(data=np.array([1.1, 1.2, 1.3]))))
    changed = changed.with_parameters(route_factor=2.0).select_sites(["zjk", "qy"])
    diff = wb.compare(tiny_scenario, changed)
    rows = {(r.kind, r.id, r.attribute, r.change) for r in diff.itertuples()}
    assert ("site", "zjk", "pue", "changed") in rows
    assert ("parameters", "", "route_factor", "changed") in rows
    assert ("site", "cq", "", "only in a") in rows and ("link", "qy-cq", "", "only in a") in rows
    assert ("site", "qy", "pue", "changed") not in rows  # 1.2 both
    zjk = diff[(diff.kind == "site") & (diff.id == "zjk") & (diff.attribute == "pue")].iloc[0]
    assert (zjk.a, zjk.b) == (1.25, 1.1)


def test_geojson_of_sites_and_links(tiny_scenario, tmp_path):
    gj = tiny_scenario.to_geojson(tmp_path / "net.geojson", devices=True)
    on_disk = json.loads((tmp_path / "net.geojson").read_text(encoding="utf-8"))
    assert on_disk == gj and gj["type"] == "FeatureCollection"
    by_id = {f["id"]: f for f in gj["features"]}
    assert by_id["site/zjk"]["geometry"] == {"type": "Point", "coordinates": [114.871, 40.783]}  # [lon, lat]
    assert by_id["link/zjk-qy"]["geometry"] == {"type": "LineString",
                                                "coordinates": [[114.871, 40.783], [107.645, 35.71]]}
    assert by_id["site/cq"]["properties"]["capacity"] is None  # NaN -> null (RFC 7946 has no NaN)
    assert by_id["device/cq-residents"]["properties"]["endpoints"] == 16.34e6
    assert gj["units"]["site.capacity"] == "W" and gj["units"]["link.length"] == "km"
    assert {f["properties"]["kind"] for f in gj["features"]} == {"site", "link", "device"}


def test_export_and_compare_commands(tmp_path, capsys):
    from workbench.cli import main

    assert main(["export", "china-edwc", "--out", str(tmp_path / "e"), "--geojson", str(tmp_path / "e.geojson")]) == 0
    assert main(["compare", "china-edwc", str(tmp_path / "e" / "scenario.yaml")]) == 0
    assert "the same data" in capsys.readouterr().out
    assert main(["export", "china-edwc", "--out", str(tmp_path / "e")]) == 2  # no silent overwrite
    assert "--force" in capsys.readouterr().err
