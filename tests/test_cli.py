"""The command line: outputs, JSON, exit codes and one-line errors."""

import json
from pathlib import Path

import pytest
import xarray as xr

import workbench as wb
from workbench.cli import main

ZOO = Path(__file__).resolve().parents[2] / "shared" / "data" / "topology-zoo"


def test_info_json_lists_core_kinds_datasets_and_analyses(capsys):
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kinds"][:6] == ["site", "link", "chip", "inventory", "agent", "device"]
    assert "china-edwc" in info["datasets"] and "coverage" in info["analyses"]


def test_validate_reports_every_problem_and_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("workbench: 1\nname: bad\ntables:\n  site:\n    rows:\n"
                   "      - {id: a, lon: 116.4, lat: 39.9, colour: red}\n"
                   "      - {id: a, lon: 121.4, lat: 31.2}\n", encoding="utf-8")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "2 problems" in err
    assert f"{bad}:6: site.colour: unknown attribute" in err
    assert f"{bad}:7: site[a]: duplicate id" in err


def test_validate_ok(capsys):
    from workbench.datasets import dataset_path

    assert main(["validate", str(dataset_path("china-edwc/scenario.yaml"))]) == 0
    assert "OK" in capsys.readouterr().out


def test_analyze_coverage_json_matches_library(capsys, tmp_path):
    out = tmp_path / "cov.nc"
    assert main(["analyze", "coverage", "--budget-ms", "1", "5", "--json", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    lib = wb.analyze("coverage", wb.load_scenario("china-edwc"), budget_ms=[1, 5])
    assert summary["national_share"]["1ms"] == pytest.approx(float(lib["national_share"][0]))
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert ds["share"].attrs["units"] == "1"


def test_unknown_analysis_and_missing_file_are_one_line_errors(capsys):
    assert main(["analyze", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown analysis 'nope'" in err and "coverage" in err
    assert main(["validate", "does-not-exist.yaml"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.skipif(not ZOO.is_dir(), reason="../shared/data/topology-zoo not present")
def test_import_topology_writes_a_scenario_and_fails_in_one_line(tmp_path, capsys):
    out = tmp_path / "cn.nc"
    assert main(["import-topology", str(ZOO / "Chinanet.graphml"), "--out", str(out)]) == 0
    sc = wb.Scenario.from_netcdf(out)
    assert sc["site"].sizes["site"] == 42 and sc["link"].sizes["link"] == 66  # README of the zoo subset
    capsys.readouterr()
    assert main(["import-topology", str(ZOO / "Nordu.graphml"), "--out", str(tmp_path / "x.nc")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Nordu.graphml" in err
    assert not (tmp_path / "x.nc").exists()


def test_run_writes_report_results_and_summary(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--out", str(out)]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Compute circles" in html and "cdn.bokeh.org" not in html  # BokehJS inline: renders offline
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    tree = xr.open_datatree(out / "results.nc", engine="h5netcdf")
    assert float(tree["coverage"]["national_share"].sel(budget=1.0)) == pytest.approx(
        summary["coverage"]["national_share"]["1ms"])
    assert summary["edge_siting"]["final_share"] >= 0.75


def test_analyze_rejects_unknown_and_mistyped_parameters_in_one_line(capsys):
    assert main(["analyze", "coverage", "--param", "foo=1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--param foo" in err and "budget_ms" in err
    assert main(["analyze", "edge_siting", "--param", "target_share=abc"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["analyze", "edge_siting", "--budget-ms", "1", "--json"]) == 0  # one budget -> scalar
    assert json.loads(capsys.readouterr().out)["budget_ms"] == 1.0


def test_a_group_without_people_does_not_make_national_coverage_nan():
    devices = [{"id": "a", "lon": 116.0, "lat": 40.0, "endpoints": 1e6}, {"id": "empty", "lon": 100.0, "lat": 30.0,
                                                                        "endpoints": 0}]
    sc = wb.Scenario.from_tables({
        "site": [{"id": "dc", "lon": 116.0, "lat": 40.0}],
        "chip": [{"id": "h100", "bf16_flops": 989.4e12, "hbm": 80e9, "hbm_bw": 3.35e12, "tdp": 700}],
        "inventory": [{"site": "dc", "chip": "h100", "installed": 8}], "device": devices})
    cov = wb.analyze("coverage", sc, budget_ms=[1])
    assert float(cov["national_share"].squeeze()) == 1.0


# -- one-line errors, did-you-mean, repeated options, --force, --debug, --version --------------------------
def _one_line_error(capsys, argv, *words) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("workbench: error: "), err
    for w in words:
        assert w in err, err
    return err


@pytest.mark.parametrize(("argv", "words"), [
    (["anlyze"], ("unknown command 'anlyze'; did you mean 'analyze'?",)),
    (["analyze", "covrage"], ("unknown analysis 'covrage'; did you mean 'coverage'?",)),
    (["analyze", "coverage", "--budgetms", "3"], ("unrecognized arguments: --budgetms", "did you mean '--budget-ms'")),
    (["analyze", "coverage", "--budget-ms", "1", "--budget-ms", "5"], ("--budget-ms: given more than once",
                                                                       "--budget-ms A B")),
    (["analyze", "edge_siting", "--budget-ms", "1", "5"], ("takes one value for --budget-ms, got 2",)),
    (["analyze", "edge_siting", "--param", "target_share=abc"], ("--param target_share='abc': expected a number",)),
    (["analyze", "edge_siting", "--param", "target_share=0.5", "--param", "target_share=0.6"],
     ("--param target_share given twice",)),
    (["analyze", "coverage", "--budget-ms", "0"], ("budget_ms must be positive",)),
    (["analyze", "coverage", "--scenario", "chips"], ("dataset 'chips' is a catalogue, not a scenario",)),
    (["analyze", "coverage", "--scenario", "china-edcw"], ("did you mean 'china-edwc'?",)),
    (["fabric", "--chip", "h100", "--count", "8", "--topology", "clos2", "--medium", "copper-dac"],
     ("unknown chip 'h100'; did you mean 'h100-sxm'?",)),
    # plugin analyses are checked against their real signatures (they were `_x(scenario, **params)` wrappers)
    (["analyze", "routing", "--param", "k_max=abc"], ("analysis 'routing': --param k_max='abc': expected a number",)),
    (["analyze", "routing", "--param", "k_max=2.5"], ("--param k_max=2.5: expected an integer",)),
    (["analyze", "fabric", "--param", "chip=h100"], ("analysis 'fabric' does not take --param chip; it takes: presets",)),
    (["analyze", "transport", "--param", "default_rate=fast"], ("--param default_rate='fast'",)),
])
def test_errors_are_one_line_with_exit_2(capsys, argv, words):
    _one_line_error(capsys, argv, *words)


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"workbench {wb.__version__}"


def test_debug_shows_the_traceback(capsys):
    assert main(["analyze", "covrage", "--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and err.rstrip().splitlines()[-1].startswith("workbench: error:")


def test_outputs_are_not_overwritten_without_force(tmp_path, capsys):
    out = tmp_path / "cov.nc"
    out.write_bytes(b"precious")
    _one_line_error(capsys, ["analyze", "coverage", "--budget-ms", "5", "--out", str(out)], "exists; pass --force")
    assert out.read_bytes() == b"precious"
    assert main(["analyze", "coverage", "--budget-ms", "5", "--out", str(out), "--force"]) == 0
    assert out.read_bytes()[:4] == b"\x89HDF"


def test_analyze_out_writes_results_with_numpy_scalar_attrs(tmp_path, capsys):
    import numpy as np

    from workbench.fileio import netcdf_safe

    out = tmp_path / "disagg.nc"  # its attrs prefill_site/decode_site are numpy.str_: "No conversion path"
    assert main(["analyze", "disaggregation", "--out", str(out)]) == 0, capsys.readouterr().err
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert isinstance(ds.attrs["prefill_site"], str) and ds.attrs["prefill_site"]
    weird = xr.Dataset({"x": ("i", [1.0], {"units": np.str_("km"), "ok": np.bool_(True), "n": np.int64(3)})},
                       attrs={"site": np.str_("a"), "share": np.float32(0.5), "flag": True, "ids": ["a", "b"],
                              "none": None})
    safe = netcdf_safe(weird)
    safe.to_netcdf(tmp_path / "w.nc", engine="h5netcdf")
    assert weird.attrs["site"].__class__ is np.str_ and weird["x"].attrs["ok"].__class__ is np.bool_  # untouched
    with xr.open_dataset(tmp_path / "w.nc", engine="h5netcdf") as back:
        assert (back.attrs["site"], back.attrs["flag"], back.attrs["ids"]) == ("a", 1, '["a", "b"]')
        assert back["x"].attrs["units"] == "km" and back["x"].attrs["ok"] == 1 and "none" not in back.attrs


def test_optimize_refuses_to_overwrite_and_a_bad_scheduler_fails_fast(tmp_path, capsys):
    import time

    from workbench.datasets import dataset_path  # noqa: F401 - the package is importable

    study = Path(__file__).resolve().parents[1] / "studies" / "zdt1.yaml"
    out = tmp_path / "front.nc"
    out.write_bytes(b"x")
    _one_line_error(capsys, ["optimize", str(study), "--workers", "0", "--out", str(out)], "exists; pass --force")
    start = time.perf_counter()
    _one_line_error(capsys, ["optimize", str(study), "--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "0.5",
                             "--out", str(tmp_path / "other.nc")], "could not connect to the Dask scheduler",
                    "within 0.5 s")
    assert time.perf_counter() - start < 10


def test_every_analysis_prints_a_summary_not_a_repr(capsys):
    for name in wb.list_analyses():
        assert main(["analyze", name]) == 0, name
        out = capsys.readouterr().out
        assert out.startswith(name) and "<xarray." not in out and "Dimensions:" not in out, out[:500]


def test_misspelt_disabled_plugin_is_a_warning_with_a_suggestion(monkeypatch):
    from workbench.errors import PluginWarning
    from workbench.testing import plugin_manager

    monkeypatch.setenv("WORKBENCH_DISABLE_PLUGINS", "opticall")
    with pytest.warns(PluginWarning, match="WORKBENCH_DISABLE_PLUGINS names 'opticall'.*did you mean 'optical'"):
        with plugin_manager(entrypoints=True):
            pass


def test_cli_warnings_are_one_workbench_line(capsys):
    import warnings as _warnings

    from workbench.errors import WorkbenchWarning

    before = _warnings.showwarning
    assert main(["info"]) == 0 and _warnings.showwarning is before  # restored after the command
    with pytest.MonkeyPatch.context() as mp:  # a command that warns (as plugin loading does)
        def warn(args):
            _warnings.warn("plugin x failed to load\nsecond line", WorkbenchWarning, stacklevel=2)
            return 0

        mp.setattr("workbench.cli.cmd_datasets", warn)
        with _warnings.catch_warnings():
            _warnings.simplefilter("always")
            assert main(["datasets"]) == 0
    err = capsys.readouterr().err
    assert err == "workbench: warning: plugin x failed to load second line\n", err  # no path:line: Category:


def test_a_type_error_inside_an_analysis_is_not_called_a_parameter_error(capsys, monkeypatch):
    def broken(name, scenario, **params):
        raise TypeError("'<' not supported between instances of 'str' and 'int'")

    monkeypatch.setattr(wb, "analyze", broken)
    assert main(["analyze", "coverage", "--budget-ms", "5"]) == 2
    err = capsys.readouterr().err
    assert "bad parameter value" not in err and "unexpected" in err and err.count("\n") == 1, err
