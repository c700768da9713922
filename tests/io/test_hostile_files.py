"""One test per class of bad or hostile input: each is refused with one ScenarioError whose problems
name the file, the line or field, and what is wrong; nothing hangs, recurses away or runs code."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np
import pytest

import workbench as wb
from workbench.errors import ScenarioError
from workbench.io import safe_files

SITES = "id,lon [degree_east],lat [degree_north],pue\nzjk,114.871,40.783,1.25\nqy,107.645,35.710,1.2\n"


def scenario(tmp_path: Path, body: str = "", *, sites: str | None = SITES, name: str = "s.yaml") -> Path:
    """A scenario file with a sites CSV (``sites.csv``) and extra YAML ``body`` under ``tables:``."""
    if sites is not None:
        (tmp_path / "sites.csv").write_text(sites, encoding="utf-8")
    text = "workbench: 1\nname: t\ntables:\n  site: {csv: sites.csv}\n" + body
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path, **kwargs) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        wb.load_scenario(path, **kwargs)
    return info.value


def only(err: ScenarioError, *words: str, file: Path | None = None, line: int | None = None, field: str | None = None):
    """The error's first (root) problem contains ``words`` and sits at file/line/field."""
    p = err.problems[0]
    text = str(p)
    for w in words:
        assert w in text, f"{w!r} not in {text!r}\n(all: {err})"
    if file is not None:
        assert Path(p.file).name == file.name, text
    if line is not None:
        assert p.line == line, text
    if field is not None:
        assert p.field == field, text
    assert "\n" not in text  # each problem is one line
    return p


# -- YAML ------------------------------------------------------------------------------------------------
def test_alias_bomb_is_refused_fast(tmp_path, record_property):
    # "billion laughs": 9 levels of 10 aliases = 10^9 values once expanded
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    path = tmp_path / "bomb.yaml"
    path.write_text("workbench: 1\n" + "\n".join(lines) + "\n")
    start = time.perf_counter()
    err = error_of(path)
    elapsed = time.perf_counter() - start
    record_property("alias_bomb_refused_s", elapsed)
    only(err, "expands to more than 2,000,000 values through aliases", file=path)
    assert elapsed < 1.0


def test_moderate_aliases_are_fine(tmp_path):
    path = scenario(tmp_path, "  link:\n    rows:\n      - &l {id: a, src: zjk, dst: qy, tech: otn}\n")
    assert wb.load_scenario(path)["link"]["tech"].values.tolist() == ["otn"]


@pytest.mark.parametrize("depth", [40, 100_000])
def test_deep_nesting_is_refused_without_recursion_error(tmp_path, depth):
    path = tmp_path / "deep.yaml"
    path.write_text("workbench: 1\nnotes: " + "[" * depth + "]" * depth + "\n")
    err = error_of(path)
    only(err, "YAML", file=path, line=2)
    assert "nest" in str(err)


def test_file_size_limit(tmp_path, monkeypatch):
    path = scenario(tmp_path, "  link:\n    rows: []\n" + "# padding\n" * 200)
    monkeypatch.setattr(safe_files, "MAX_YAML_BYTES", 1000)
    monkeypatch.setattr("workbench.io.scenario_file.MAX_YAML_BYTES", 1000)
    only(error_of(path), "scenario file is", "over the limit of", file=path)
    monkeypatch.setattr("workbench.io.scenario_file.MAX_CSV_BYTES", 10)
    monkeypatch.setattr("workbench.io.scenario_file.MAX_YAML_BYTES", 10**6)
    only(error_of(path), "CSV file is", "over the limit", file=tmp_path / "sites.csv")


def test_duplicate_key_is_an_error_not_a_silently_dropped_table(tmp_path):
    (tmp_path / "sites.csv").write_text(SITES)
    path = tmp_path / "dup.yaml"
    path.write_text("workbench: 1\ntables:\n  site: {csv: sites.csv}\n"
                    "tables:\n  link: {rows: []}\n")
    p = only(error_of(path), "duplicate key 'tables' (first at line 2)", file=path, line=4, field="tables")
    assert p.root


def test_yaml_12_booleans_no_stays_text(tmp_path):
    # YAML 1.1 reads NO (Norway) as false and 0777 as octal; the workbench reads YAML 1.2
    path = scenario(tmp_path, "  device:\n    rows:\n      - {id: oslo, province: NO, metro: 0777, lon: 10.75, "
                              "lat: 59.91, endpoints: 700000}\n")
    dev = wb.load_scenario(path)["device"]
    assert dev["province"].values.tolist() == ["NO"] and dev["metro"].values.tolist() == ["777"]


def test_yes_is_not_a_boolean(tmp_path):
    path = scenario(tmp_path, "  agent:\n    rows:\n      - {id: a, role: yes}\n")
    only(error_of(path), "agent[a].role", "not a known choice", "got 'yes'", "expected one of ops, app", line=7)


def test_code_is_never_executed(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.yaml"
    path.write_text(f"workbench: 1\nname: !!python/object/apply:os.system ['touch {marker}']\n"
                    "tables: !!python/name:os.system\n")
    err = error_of(path)
    assert not marker.exists()
    assert [p.line for p in err.problems] == [2, 3]
    only(err, "refused", "never executed", file=path)


# -- encodings and binary files ------------------------------------------------------------------------------
def test_csv_saved_by_excel_with_a_bom_loads(tmp_path):
    (tmp_path / "sites.csv").write_bytes(b"\xef\xbb\xbf" + SITES.encode())
    path = scenario(tmp_path, sites=None)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # a BOM in the YAML file too
    assert wb.load_scenario(path)["site"]["site"].values.tolist() == ["zjk", "qy"]


def test_gbk_csv_names_the_encoding_and_the_file(tmp_path):
    (tmp_path / "sites.csv").write_bytes("id,name,lon,lat\nzjk,张家口,114.871,40.783\n".encode("gbk"))
    path = scenario(tmp_path, sites=None)
    only(error_of(path), "not UTF-8", "line 2", "GBK/GB18030", "save it as UTF-8", file=tmp_path / "sites.csv",
         line=2)


def test_utf16_csv_names_the_encoding(tmp_path):
    (tmp_path / "sites.csv").write_bytes(SITES.encode("utf-16"))
    only(error_of(scenario(tmp_path, sites=None)), "UTF-16", file=tmp_path / "sites.csv")


@pytest.mark.parametrize(("payload", "words"), [
    (b"PK\x03\x04\x14\x00\x06\x00rest-of-a-workbook", ("ZIP archive", ".xlsx")),
    (b"id,lon\x00\x01\x02,lat\n", ("binary", "NUL byte")),
])
def test_binary_csv_is_refused(tmp_path, payload, words):
    (tmp_path / "sites.csv").write_bytes(payload)
    only(error_of(scenario(tmp_path, sites=None)), *words, file=tmp_path / "sites.csv")


def test_binary_scenario_file_is_refused(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(os.urandom(64).replace(b"\x00", b"\x01") + b"\x00")
    only(error_of(path), "binary", file=path)


# -- CSV references ------------------------------------------------------------------------------------------
def test_csv_reference_outside_the_scenario_folder_is_refused(tmp_path):
    inner = tmp_path / "project" / "scen"
    inner.mkdir(parents=True)
    (tmp_path / "secret.csv").write_text(SITES)
    path = inner / "s.yaml"
    path.write_text("workbench: 1\ntables:\n  site: {csv: ../../secret.csv}\n")
    only(error_of(path), "CSV path leaves the scenario's folder", "--allow-path", file=path, line=3,
         field="tables.site.csv")
    # an absolute path, and a symbolic link leading out, resolve outside too
    path.write_text(f"workbench: 1\ntables:\n  site: {{csv: {tmp_path / 'secret.csv'}}}\n")
    only(error_of(path), "CSV path leaves", file=path)
    (inner / "link.csv").symlink_to(tmp_path / "secret.csv")
    path.write_text("workbench: 1\ntables:\n  site: {csv: link.csv}\n")
    only(error_of(path), "CSV path leaves", file=path)
    # ... unless the folder is allowed explicitly
    assert wb.load_scenario(path, allow_paths=[tmp_path])["site"].sizes["site"] == 2


@pytest.mark.parametrize(("reference", "words"), [
    ('"sites.csv\\0"', "control characters (U+0000)"),  # was a raw "embedded null byte"
    ("x" * 300 + ".csv", "name too long"),  # was a raw [Errno 36]
    ("loop.csv", "symbolic-link loop"),  # was "RuntimeError (unexpected)"
    ("folder", "is a directory, not a file"),  # was "not found"
    ("fifo.csv", "is not a regular file"),
    ("nothere.csv", "not found"),
])
def test_odd_csv_references_are_one_problem_at_the_csv_line(tmp_path, reference, words):
    (tmp_path / "loop.csv").symlink_to(tmp_path / "loop.csv")
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "fifo.csv")  # reading it would block: refused before any open()
    path = tmp_path / "s.yaml"
    path.write_text(f"workbench: 1\nname: t\ntables:\n  site: {{csv: {reference}}}\n", encoding="utf-8")
    err = error_of(path)
    only(err, words, file=path, line=4, field="tables.site.csv")
    assert len(err.problems) == 1, err


def test_a_nul_byte_in_the_scenario_path_is_a_scenario_error(tmp_path):
    from workbench.io.scenario_file import load_scenario_file

    with pytest.raises(ScenarioError, match="cannot read scenario file: embedded null byte"):
        load_scenario_file(str(tmp_path / "s\0.yaml"))


def test_a_plain_csv_given_as_a_scenario_says_so(tmp_path):
    csv = tmp_path / "sites.csv"
    csv.write_text(SITES)
    only(error_of(csv), "this is a CSV table, not a scenario", "tables: {site: {csv: sites.csv}}", file=csv)
    renamed = tmp_path / "sites.yaml"  # the same table under a YAML name
    renamed.write_text(SITES)
    only(error_of(renamed), "this is a CSV table, not a scenario", file=renamed)


def test_a_catalogue_given_as_a_scenario_says_so():
    with pytest.raises(ScenarioError, match="dataset 'chips' is a catalogue, not a scenario"):
        wb.load_scenario("chips")


# -- ranges and cross-field checks -------------------------------------------------------------------------
@pytest.mark.parametrize(("body", "field", "words"), [
    ("  link:\n    rows:\n      - {id: l, src: zjk, dst: qy, length: -5}\n", "link[l].length",
     ("out of range", "got '-5'", "expected in [0, 50000] km")),
    ("  link:\n    units: {capacity: Gbit/s}\n    rows:\n      - {id: l, src: zjk, dst: qy, capacity: -400}\n",
     "link[l].capacity", ("out of range", "got '-400 Gbit/s'", "expected >= 0 bit/s")),
    ("  link:\n    rows:\n      - {id: l, src: zjk, dst: zjk}\n", "link[l]", ("link from a site to itself",)),
    ("  chip:\n    rows:\n      - {id: x, bf16_flops: 1e15, hbm: 8e10, hbm_bw: 3e12, tdp: 700}\n"
     "  inventory:\n    rows:\n      - {site: zjk, chip: x, installed: -8}\n", "inventory[zjk/x].installed",
     ("out of range", "expected >= 0 1")),
    ("  inventory:\n    rows:\n      - {site: zjk, chip: h100-sx, installed: 8}\n", "inventory.chip",
     ("not in the chip catalogue",)),
])
def test_impossible_values_are_refused(tmp_path, body, field, words):
    p = only(error_of(scenario(tmp_path, body)), *words)
    assert p.field == field


def test_pue_below_one_names_the_csv_line_and_the_reason(tmp_path):
    sites = SITES.replace("1.2\n", "0.5\n")
    err = error_of(scenario(tmp_path, sites=sites))
    only(err, "site[qy].pue: out of range (>= 1 by definition", "got '0.5'", "expected in [1, 4] 1",
         file=tmp_path / "sites.csv", line=3)


def test_swapped_lon_lat_where_the_country_is_known(tmp_path):
    sites = "id,country,lon,lat\nbj,China,39.9,116.4\nno-country,,39.9,116.4\n"
    err = error_of(scenario(tmp_path, sites=sites))
    fields = [p.field for p in err.problems]
    assert "site[bj].lon/lat" in fields
    assert str(err.problems[fields.index("site[bj].lon/lat")]).endswith("(got 'lon 39.9, lat 116.4', "
                                                                         "expected lon 116.4, lat 39.9)")
    # latitude 116.4 is out of range anyway; the swap hint is the extra that names the fix
    assert "site[no-country].lat" in fields and "site[no-country].lon/lat" not in fields


def test_thousands_separator_in_a_csv_cell_has_a_hint(tmp_path):
    sites = 'id,lon,lat,capacity [MW]\nzjk,114.871,40.783,"1,200"\n'
    only(error_of(scenario(tmp_path, sites=sites)), "site[zjk].capacity", "thousands separator ','",
         "'1200'", line=2)


def test_old_attribute_name_names_the_new_one(tmp_path):
    path = scenario(tmp_path, "  device:\n    rows:\n      - {id: d, lon: 1, lat: 2, count: 5}\n")
    only(error_of(path), "'count' of kind 'device' is now called 'endpoints'", field="device.count")


def test_missing_id_column_is_one_problem_not_one_per_row(tmp_path):
    err = error_of(scenario(tmp_path, sites=SITES.replace("id,", "name,")))
    assert len(err.problems) == 1
    only(err, "missing required field 'id'", file=tmp_path / "sites.csv", line=1)


def test_links_into_a_broken_site_table_are_not_reported_again(tmp_path):
    # root cause: the site CSV cannot be read; the links to its sites are follow-on problems
    (tmp_path / "sites.csv").write_bytes("id,lon,lat\nzjk,114.9,40.8\n".encode("utf-16"))
    path = scenario(tmp_path, "  link:\n    rows:\n      - {id: l, src: zjk, dst: qy}\n", sites=None)
    err = error_of(path)
    assert len(err.problems) == 1 and "UTF-16" in str(err.problems[0])


# -- every format, the same checks ---------------------------------------------------------------------
def _broken_tree(tiny_scenario, tmp_path, writer: str) -> Path:
    tree = tiny_scenario.to_datatree()
    site = tree["site"].to_dataset()
    site = site.assign(lat=site["lat"].copy(data=np.array([95.0, 35.71, 29.56]))).drop_vars("lon")
    tree["site"] = site
    path = tmp_path / ("bad.nc" if writer == "netcdf" else "bad.zarr")
    if writer == "netcdf":
        tree.to_netcdf(path, engine="h5netcdf")
    else:
        tree.to_zarr(path, consolidated=False)
    return path


@pytest.mark.parametrize("writer", ["netcdf", "zarr"])
def test_netcdf_and_zarr_get_the_yaml_checks(tiny_scenario, tmp_path, writer):
    path = _broken_tree(tiny_scenario, tmp_path, writer)
    err = error_of(path)
    text = [str(p) for p in err.problems]
    assert text[0] == f"{path}: site.lon: missing required field 'lon' (degree_east: Longitude (WGS84))"
    assert f"{path}: site[zjk].lat: out of range (WGS84 latitude) (got '95.0', expected in [-90, 90] degree_north)" \
        in text


def test_truncated_and_foreign_netcdf_name_the_file(tiny_scenario, tmp_path):
    good = tiny_scenario.to_netcdf(tmp_path / "good.nc")
    cut = tmp_path / "cut.nc"
    cut.write_bytes(good.read_bytes()[:2000])
    only(error_of(cut), "not a readable NetCDF-4 scenario", file=cut)
    import xarray as xr

    foreign = tmp_path / "foreign.nc"
    xr.Dataset({"t": ("x", [1.0, 2.0])}).to_netcdf(foreign, engine="h5netcdf")
    only(error_of(foreign), "not a workbench scenario", file=foreign)


def test_problems_print_file_line_field_got_expected(tmp_path):
    err = error_of(scenario(tmp_path, sites=SITES.replace("1.2\n", "0.5\n")))
    text = str(err.problems[0])
    assert text.startswith(f"{tmp_path / 'sites.csv'}:3: site[qy].pue: out of range")
    assert text.endswith("(got '0.5', expected in [1, 4] 1)")
    assert math.isfinite(len(err.one_line()))  # a one-line form for the CLI


def test_a_repeated_row_is_checked_in_linear_time_and_printed_capped(tmp_path):
    from workbench.errors import MAX_SHOWN_PER_FIELD

    row = "zjk,114.871,40.783,1.25\n"
    path = scenario(tmp_path, sites="id,lon [degree_east],lat [degree_north],pue\n" + row * 40_000)
    start = time.perf_counter()
    err = error_of(path)
    elapsed = time.perf_counter() - start
    assert elapsed < 4, elapsed  # 10-23 s when every duplicate scanned the whole id column
    assert len(err.problems) == 39_999  # every problem is kept ...
    only(err, "duplicate id 'zjk' in site (first at line 2)", line=3)
    lines = str(err).splitlines()  # ... but the message shows the first ones and a count
    assert len(lines) == 1 + MAX_SHOWN_PER_FIELD + 1, lines[:3]
    assert lines[-1].endswith(f"... and {39_999 - MAX_SHOWN_PER_FIELD} more problems in site")


def test_netcdf_variable_over_a_foreign_dimension_is_refused_fast(tiny_scenario, tmp_path):
    import xarray as xr

    parts = tiny_scenario.to_datatree().to_dict()
    parts["/site"] = parts["/site"].assign(junk=("x", np.zeros(100_000, dtype="f4")))
    path = tmp_path / "junk.nc"
    xr.DataTree.from_dict(parts).to_netcdf(path, engine="h5netcdf")
    start = time.perf_counter()
    err = error_of(path)
    assert time.perf_counter() - start < 5  # to_dataframe over site x x took minutes
    only(err, "variable 'junk' of group /site has dimensions ['x'], not those of kind 'site'", file=path,
         field="site.junk")


def test_parameter_problems_name_the_line(tmp_path):
    (tmp_path / "sites.csv").write_text(SITES, encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text("workbench: 1\nname: t\nparameters:\n  route_factor: 1.4\n  route_factr: 2\n"
                    "  metro_route_factor: .nan\ntables:\n  site: {csv: sites.csv}\n", encoding="utf-8")
    text = {p.field: str(p) for p in error_of(path).problems}
    assert text["parameters.route_factr"].startswith(f"{path}:5: parameters.route_factr: unknown parameter "
                                                     "'route_factr'; did you mean 'route_factor'"), text
    assert text["parameters.metro_route_factor"].startswith(f"{path}:6: parameters.metro_route_factor: NaN is "
                                                            "not a value"), text


def test_lat_in_degree_east_and_infinite_values_are_refused(tmp_path):
    err = error_of(scenario(tmp_path, sites=SITES.replace("lat [degree_north]", "lat [degree_east]")))
    only(err, "wrong unit", "degree east (a longitude)", line=1, field="site.lat")
    err = error_of(scenario(tmp_path, "  link:\n    rows:\n      - {id: a-b, src: zjk, dst: qy, capacity: .inf}\n"))
    only(err, "not a finite number", line=7, field="link[a-b].capacity")
    err = error_of(scenario(tmp_path, sites=SITES.replace("1.2\n", "inf\n")))
    only(err, "not a finite number", line=3, field="site[qy].pue")


def test_an_attribute_may_declare_infinite_values(fresh_plugin_manager):
    from workbench.plugin_types import AttributeSpec
    from workbench.testing import plugin_manager

    class Unlimited:
        @staticmethod
        @wb.hookimpl
        def workbench_component_attributes():
            yield AttributeSpec("link", "wbtest_budget", "float", "W", math.inf, "Power budget; inf = unlimited",
                                min=0.0, infinite=True)

    with plugin_manager(("unlimited", Unlimited)):
        sc = wb.Scenario.from_tables({"site": [{"id": "a", "lon": 1, "lat": 2}, {"id": "b", "lon": 2, "lat": 2}],
                                      "link": [{"id": "a-b", "src": "a", "dst": "b", "wbtest_budget": "inf"}]})
        assert math.isinf(float(sc["link"]["wbtest_budget"][0])) and sc.validate() == []


def test_control_characters_in_ids_never_reach_the_terminal(tmp_path, capsys):
    from workbench.cli import main

    evil = "zjk\x1b[2J\rhidden\u202e"
    sites = SITES + f'"{evil}",114.0,40.0,0.5\n'
    path = scenario(tmp_path, sites=sites)
    err = error_of(path)
    text = str(err)
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
    assert "site[zjk\\x1b[2J\\rhidden\\u202e].pue: out of range" in text
    assert main(["validate", str(path)]) == 2
    printed = capsys.readouterr().err
    assert "\x1b" not in printed and "\r" not in printed and "zjk\\x1b[2J" in printed
