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
    out = tmp_path / "s"
    tiny_scenario.to_files(out)
    with pytest.raises(WorkbenchError, match="exists and is not empty"):
        tiny_scenario.to_files(out)
    changed = tiny_scenario.with_parameters(route_factor=1.7)
    path = changed.to_files(out, overwrite=True)  # a previous to_files output is replaced
    assert wb.load_scenario(path).identical(changed)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]  # no temporary or set-aside folder left


def test_to_files_never_deletes_files_it_did_not_write(tiny_scenario, tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    tiny_scenario.to_files(tmp_path / "sub")
    with pytest.raises(WorkbenchError, match=r"keep\.txt.*delete them"):
        tiny_scenario.to_files(tmp_path, overwrite=True)
    assert (tmp_path / "keep.txt").read_text() == "x" and (tmp_path / "sub" / "scenario.yaml").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt", "sub"]


def test_to_files_refuses_the_current_folder_and_its_parents(tiny_scenario, tmp_path, monkeypatch):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    (work / "keep.txt").write_text("x")
    monkeypatch.chdir(work)
    for target in (".", str(work), "..", str(tmp_path / "a"), "./"):
        with pytest.raises(WorkbenchError, match="current folder or one of its parents"):
            tiny_scenario.to_files(target, overwrite=True)
    assert (work / "keep.txt").read_text() == "x" and sorted(p.name for p in work.iterdir()) == ["keep.txt"]


def test_to_files_onto_a_file_is_refused_and_leaves_no_temporary_folder(tiny_scenario, tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(WorkbenchError, match="not a folder"):
        tiny_scenario.to_files(tmp_path / "f", overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"] and (tmp_path / "f").read_text() == "x"


def test_atomic_path_folder_replace_keeps_the_old_folder_when_the_move_fails(tmp_path, monkeypatch):
    import os

    from workbench.fileio import atomic_path

    target = tmp_path / "store"
    target.mkdir()
    (target / "old").write_text("old")
    (tmp_path / "file").write_text("x")
    with pytest.raises(WorkbenchError, match="is a file"):  # a folder never replaces a file
        with atomic_path(tmp_path / "file") as tmp:
            tmp.mkdir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "store"]  # temporary folder removed
    real_rename = os.rename
    calls = []

    def failing_rename(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # the new folder into place
            raise OSError("disk on fire")
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", failing_rename)
    with pytest.raises(OSError, match="disk on fire"):
        with atomic_path(target) as tmp:
            tmp.mkdir()
            (tmp / "new").write_text("new")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "store"]
    assert [p.name for p in target.iterdir()] == ["old"]
    with atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "new").write_text("new")
    assert [p.name for p in target.iterdir()] == ["new"] and sorted(p.name for p in tmp_path.iterdir()) == ["file",
                                                                                                          "store"]


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


def test_export_force_into_the_current_folder_deletes_nothing(tmp_path, capsys, monkeypatch):
    from workbench.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("x")
    assert main(["export", "china-edwc", "--out", ".", "--force"]) == 2
    err = capsys.readouterr().err
    assert "current folder" in err and len(err.strip().splitlines()) == 1
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.md").write_text("mine")
    assert main(["export", "china-edwc", "--out", "d", "--force"]) == 2
    assert "notes.md" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "keep.txt"]
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["notes.md"]


def test_export_checks_every_output_before_writing_any(tmp_path, capsys):
    from workbench.cli import main

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x.txt").write_text("x")
    for force in ([], ["--force"]):
        assert main(["export", "china-edwc", "--geojson", str(tmp_path / "a.geojson"), "--out", str(tmp_path / "out"),
                     *force]) == 2
        assert ("x.txt" if force else "not empty") in capsys.readouterr().err
        assert not (tmp_path / "a.geojson").exists()
    assert main(["export", "china-edwc", "--geojson", str(tmp_path / "new" / "a.geojson"), "--out",
                 str(tmp_path / "new")]) == 2
    assert "inside --out" in capsys.readouterr().err and not (tmp_path / "new").exists()
