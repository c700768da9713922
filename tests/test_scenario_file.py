"""Scenario files: the good path, and one test per class of bad input.

Each bad-input test checks that the message names the file, the line and the field (a YAML syntax
error has no field: the document does not parse). Expected lines are found in the fixture text by
a marker, so a fixture edit cannot silently make a test pass; the loader must still point at it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import workbench as wb
from workbench.datasets import dataset_path
from workbench.errors import ScenarioError
from workbench.io.scenario_file import load_scenario_file

SCENARIOS = Path(__file__).parent / "data" / "scenarios"
BAD = SCENARIOS / "bad"


def line_of(path: Path, marker: str) -> int:
    """1-based line of the only line of ``path`` containing ``marker``."""
    hits = [i for i, text in enumerate(path.read_text().splitlines(), 1) if marker in text]
    assert len(hits) == 1, f"{marker!r} found on lines {hits} of {path}"
    return hits[0]


def problems_of(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario_file(path)
    return info.value


def assert_reported(err: ScenarioError, file: Path, line: int | None, field: str, *words: str) -> None:
    """One problem of ``err`` is at file:line/field, its message contains ``words``, and str(err) shows it."""
    name = file.name
    matches = [p for p in err.problems if Path(p.file).name == name and p.line == line and p.field == field]
    assert matches, f"no problem at {name}:{line} {field}; got:\n{err}"
    for word in words:
        assert any(word in str(p) for p in matches), f"{word!r} not in {[str(p) for p in matches]}"
    where = f"{name}:{line}: {field}: " if field else f"{name}:{line}: "
    assert where in str(err), f"{where!r} not in the message:\n{err}"


# -- the good path --------------------------------------------------------------------------------------
def test_tiny_scenario_loads_with_units_converted():
    sc = load_scenario_file(SCENARIOS / "tiny" / "scenario.yaml")
    site, link, chip = sc["site"], sc["link"], sc["chip"]
    np.testing.assert_allclose(site["capacity"].values[:2], [300e6, 200e6])  # "capacity [MW]" -> W
    assert math.isnan(site["capacity"].sel(site="cq"))  # empty: NaN default (not limited)
    np.testing.assert_allclose(site["power_price"].values, [0.63, 0.35, 0.63])  # CNY/MWh -> CNY/kWh; default
    np.testing.assert_allclose(site["pue"].values, [1.25, 1.2, 1.3])  # empty pue: schema default 1.3
    np.testing.assert_allclose(link["capacity"].values, [9.6e12, 4.8e12])  # units: Tbit/s and "4800 Gbit/s"
    assert math.isnan(link["length"].sel(link="zjk-qy")) and float(link["length"].sel(link="qy-cq")) == 1200.0
    assert (float(chip["bf16_flops"][0]), float(chip["hbm"][0]), float(chip["tdp"][0])) == (989.4e12, 80e9, 700.0)
    assert sc["device"]["class"].values.tolist() == ["resident"]  # table default
    assert sc["agent"]["autonomy_level"].dtype == np.int64
    # the core parameters (plugins add theirs with their prefix, e.g. ops_fibre_cut_rate, embodied_batch, at
    # their defaults)
    assert {k: v for k, v in sc.parameters.items() if not k.startswith(("cny_per_", "ops_", "embodied_"))} == {
        "route_factor": 1.5, "metro_route_factor": 1.5}
    assert sc.parameters["ops_fibre_cut_rate"] == 2.13
    assert math.isnan(sc.parameters["cny_per_usd"])  # no exchange rate unless the scenario sets one
    assert sc.attrs["source_file"] == "scenario.yaml"
    # 1,000 + 500 H100 x 989.4 TFLOP/s dense BF16 (FIGURES 3.3) = 1,484.1 PFLOP/s
    assert sc.totals()["bf16_pflops"] == pytest.approx(1484.1)
    assert sc.inventory.sel(site="cq", chip="h100") == 0  # absent pairs are 0 chips


def test_load_scenario_dispatches_yaml_files():
    assert wb.load_scenario(SCENARIOS / "tiny" / "scenario.yaml").name == "tiny"


def test_shipped_china_edwc_scenario_loads():
    assert dataset_path("china-edwc/scenario.yaml").exists()
    sc = wb.load_scenario("china-edwc")
    assert sc.validate() == []
    site = sc["site"]
    # 8 national computing hubs and 10 national DC clusters (NDRC et al., Feb 2022; FIGURES 1.1)
    hubs = {h for h in site["hub"].values.tolist() if h}
    assert len(hubs) == 8, sorted(hubs)
    assert int((site["tier"] == "cluster").sum()) == 10


# -- one test per bad-input class ----------------------------------------------------------------------
def test_unknown_attribute_inline():
    path = BAD / "unknown_attribute.yaml"
    err = problems_of(path)
    assert len(err.problems) == 1
    assert_reported(err, path, line_of(path, "altitude"), "site.altitude", "unknown attribute 'altitude'",
                    "expected one of id, name")


def test_unknown_attribute_in_csv_header():
    csv = BAD / "sites_unknown_column.csv"
    err = problems_of(BAD / "unknown_attribute_csv.yaml")
    assert_reported(err, csv, 1, "site.colour", "unknown attribute 'colour'")


def test_wrong_unit_in_csv_header():
    csv = BAD / "sites_wrong_unit.csv"
    err = problems_of(BAD / "wrong_unit_csv.yaml")
    assert len(err.problems) == 1
    assert_reported(err, csv, 1, "site.capacity", "unknown unit 'MWatt'", "expected a unit of power")
    assert err.problems[0].value == "MWatt"


def test_wrong_unit_in_inline_units_mapping():
    path = BAD / "wrong_unit_inline.yaml"
    err = problems_of(path)
    assert len(err.problems) == 1
    assert_reported(err, path, line_of(path, "wombats"), "link.capacity", "unknown unit 'wombats'",
                    "expected a unit of data rate such as 'bit/s'")


def test_unit_of_the_wrong_dimension():
    path = BAD / "wrong_dimension.yaml"
    err = problems_of(path)
    assert_reported(err, path, line_of(path, "capacity: MW"), "link.capacity",
                    "cannot convert 'MW' (power) to 'bit/s' (data rate)")


def test_missing_required_field_and_value():
    path = BAD / "missing_required.yaml"
    err = problems_of(path)
    # the absent CSV column is reported once (at its header), not once more per row
    assert len(err.problems) == 2
    assert_reported(err, BAD / "sites_missing_lat.csv", 1, "site.lat", "missing required field 'lat'")
    assert_reported(err, path, line_of(path, "qy-residents"), "device[qy-residents].endpoints",
                    "required value is missing")


def test_link_to_a_site_that_does_not_exist():
    path = BAD / "dangling_link.yaml"
    err = problems_of(path)
    assert len(err.problems) == 1
    assert_reported(err, path, line_of(path, "lanzhou"), "link[qy-lz].dst",
                    "refers to site 'lanzhou', which does not exist")


def test_duplicate_id():
    path = BAD / "duplicate_id.yaml"
    err = problems_of(path)
    assert len(err.problems) == 1
    assert_reported(err, path, line_of(path, "115.520"), "site[zjk]", "duplicate id 'zjk'")


def test_nan_and_out_of_range_coordinates():
    path = BAD / "nan_coordinates.yaml"
    err = problems_of(path)
    assert len(err.problems) == 3  # each bad coordinate once
    assert_reported(err, BAD / "sites_nan.csv", 3, "site[qy].lat", "missing (empty or NaN)")
    assert_reported(err, path, line_of(path, ".nan"), "device[cq-residents].lon", "missing (empty or NaN)")
    assert_reported(err, path, line_of(path, "95.0"), "device[north].lat", "out of range (WGS84 latitude)",
                    "(got '95.0', expected in [-90, 90] degree_north)")


def test_bad_yaml_syntax_names_file_and_line():
    path = BAD / "syntax.yaml"
    err = problems_of(path)
    assert len(err.problems) == 1
    # PyYAML reports an unclosed flow sequence where the stream ends: the line after the last one
    last = len(path.read_text().splitlines())
    assert_reported(err, path, last + 1, "", "not valid YAML", "expected ',' or ']'")


def test_unknown_top_level_key():
    path = BAD / "unknown_key.yaml"
    err = problems_of(path)
    assert len(err.problems) == 1
    assert_reported(err, path, line_of(path, "colour"), "colour", "unknown key 'colour'", "expected one of")


def test_missing_csv_file_is_reported_where_it_is_referenced():
    path = BAD / "missing_csv.yaml"
    err = problems_of(path)
    assert len(err.problems) == 1
    assert_reported(err, path, line_of(path, "no_such_sites.csv"), "tables.site.csv", "CSV file not found")
    assert err.problems[0].value == "no_such_sites.csv"


def test_python_tags_are_refused_and_never_executed(tmp_path):
    marker = tmp_path / "executed"
    path = tmp_path / "evil.yaml"
    path.write_text("workbench: 1\n"
                    "name: evil\n"
                    "tables:\n"
                    "  site:\n"
                    "    rows:\n"
                    f"      - {{id: a, lon: 1, lat: 2, name: !!python/object/apply:os.system [\"touch {marker}\"]}}\n"
                    "      - !!python/object/new:builtins.dict {}\n")
    err = problems_of(path)
    assert not marker.exists()  # nothing ran
    assert len(err.problems) == 2  # both tags, each at its place
    assert_reported(err, path, 6, "tables.site.rows[0].name", "'!!python/object/apply:os.system' refused",
                    "never executed")
    assert_reported(err, path, 7, "tables.site.rows[1]", "'!!python/object/new:builtins.dict' refused")


def test_all_problems_of_a_file_are_reported_at_once():
    path = BAD / "many_problems.yaml"
    csv = BAD / "sites_many.csv"
    err = problems_of(path)
    expected = [
        (path, line_of(path, "colour"), "colour"),  # unknown top-level key
        (csv, 1, "site.colour"),  # unknown attribute (CSV header)
        (csv, 1, "site.capacity"),  # wrong unit string (CSV header)
        (csv, 3, "site[qy].lat"),  # NaN coordinate
        (path, line_of(path, "wombats"), "link.capacity"),  # wrong unit string (inline units:)
        (path, line_of(path, "lanzhou"), "link[qy-lz].dst"),  # link to a site that does not exist
        (path, line_of(path, "id: h100") - 1, "chip.tdp"),  # missing required field (at the table's rows:)
        (path, line_of(path, "altitude"), "device.altitude"),  # unknown attribute (inline)
        (path, line_of(path, "endpoints: 1}"), "device[cq-residents]"),  # duplicate id
    ]
    got = sorted((Path(p.file).name, p.line, p.field) for p in err.problems)
    assert got == sorted((f.name, line, field) for f, line, field in expected)
    assert str(err).startswith(f"{path}: 9 problems")


def test_root_causes_first_then_file_and_line_order():
    err = problems_of(BAD / "many_problems.yaml")
    keys = [(not p.root, p.file, p.line or 0) for p in err.problems]
    assert keys == sorted(keys)
    roots = {p.field for p in err.problems if p.root}
    # whole-column and whole-file problems lead; single values follow
    assert {"site.colour", "site.capacity", "link.capacity", "chip.tdp", "device.altitude"} <= roots
    assert not {"site[qy].lat", "link[qy-lz].dst"} & roots


def test_unreadable_scenario_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    err = problems_of(missing)
    assert str(missing) in str(err) and "cannot read scenario file" in str(err)


def test_a_file_that_is_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- just\n- a list\n")
    assert_reported(problems_of(path), path, 1, "", "expected a mapping with keys workbench, name, tables")


# -- units in files ------------------------------------------------------------------------------------------
def _price_scenario(tmp_path, parameters: str = "") -> Path:
    (tmp_path / "sites.csv").write_text("id,lon,lat,power_price [USD/kWh],hop_delay [\u00b5s],"
                                        "transit_delay [\u03bcs]\nzjk,114.871,40.783,0.08,250,100\n",
                                        encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text(f"workbench: 1\nname: p\n{parameters}tables:\n  site: {{csv: sites.csv}}\n", encoding="utf-8")
    return path


def test_currencies_convert_only_with_the_exchange_rate_parameter(tmp_path):
    err = problems_of(_price_scenario(tmp_path))
    assert_reported(err, tmp_path / "sites.csv", 1, "site.power_price",
                    "cannot convert 'USD/kWh' (", "set the scenario parameters cny_per_usd")
    sc = load_scenario_file(_price_scenario(tmp_path, "parameters: {cny_per_usd: 7.2}\n"))
    assert float(sc["site"]["power_price"][0]) == pytest.approx(0.08 * 7.2, rel=1e-12)
    assert sc.parameters["cny_per_usd"] == 7.2


def test_micro_sign_and_greek_mu_in_csv_headers(tmp_path):
    sc = load_scenario_file(_price_scenario(tmp_path, "parameters: {cny_per_usd: 7.2}\n"))
    assert float(sc["site"]["hop_delay"][0]) == pytest.approx(0.25)  # 250 µs (U+00B5) -> ms
    assert float(sc["site"]["transit_delay"][0]) == pytest.approx(0.1)  # 100 μs (U+03BC) -> ms


def test_a_table_may_reference_a_registered_catalogue(tmp_path):
    """README: `chip: {csv: ../catalogues/chips.csv}` only works inside datasets/; `dataset: chips` anywhere."""
    import workbench as wb

    (tmp_path / "sites.csv").write_text("id,lon [degree_east],lat [degree_north]\nbj,116.4,39.9\n", encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text("workbench: 1\nname: t\ntables:\n  site: {csv: sites.csv}\n  chip: {dataset: chips}\n"
                    "  inventory:\n    rows:\n      - {site: bj, chip: h100-sxm, installed: 8}\n", encoding="utf-8")
    sc = wb.load_scenario(path)
    xr_chips = wb.load_dataset("chips")
    assert sc["chip"]["chip"].values.tolist() == xr_chips["chip"].values.tolist()
    assert float(sc["chip"]["tdp"].sel(chip="h100-sxm")) == float(xr_chips["tdp"].sel(chip="h100-sxm"))
    assert float(sc.inventory.sel(site="bj", chip="h100-sxm")) == 8
    for ref, words in (("chipz", "unknown catalogue 'chipz'; did you mean 'chips'"),
                       ("china-edwc", "not a catalogue 'china-edwc'"),
                       ("models", "catalogue 'models' is a table of model, not of 'chip'")):
        path.write_text(f"workbench: 1\nname: t\ntables:\n  site: {{csv: sites.csv}}\n  chip: {{dataset: {ref}}}\n",
                        encoding="utf-8")
        with pytest.raises(ScenarioError) as info:
            wb.load_scenario(path)
        first = info.value.problems[0]
        assert words in str(first) and first.line == 5 and first.field == "tables.chip.dataset", str(first)
