"""Plugin wiring: registration, analyses, CLI (text, JSON, errors), report section, validation, study."""

from __future__ import annotations

import json

import numpy as np
import pytest
from workbench_edge import plugin, study

import workbench as wb
from workbench.cli import main
from workbench.testing import assert_units


def test_registered_everywhere():
    names = set(wb.list_analyses())
    assert {"serving", "routing", "cascade", "disaggregation"} <= names
    assert {"models", "request-classes"} <= set(wb.list_datasets()["name"])
    assert "edge" in set(wb.plugins(all=True)["name"])


def test_cli_inference_text_and_json(capsys):
    assert main(["inference", "--model", "llama-3.1-70b", "--chip", "h100-sxm", "--count", "2", "--dtype", "fp8",
                 "--isl", "1000", "--osl", "1000"]) == 0
    out = capsys.readouterr().out
    assert "max batch: 245" in out and "TTFT" in out and "TPOT" in out and "output tokens/s" in out
    assert main(["inference", "--model", "llama-3.1-8b", "--chip", "h100-sxm", "--dtype", "fp8", "--batch", "16",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["at_batch"]["batch"] == 16 and data["batch_1"]["batch"] == 1
    assert data["at_batch"]["throughput"] > data["batch_1"]["throughput"]


@pytest.mark.parametrize("argv, message", [
    (["inference", "--model", "nope", "--chip", "h100-sxm"], "unknown model 'nope'"),
    (["inference", "--chip", "h100-sxm", "--count", "1"], "does not fit on 1 x h100-sxm"),
    (["inference", "--model", "llama-3.1-8b", "--chip", "ascend-910b", "--dtype", "fp8"], "no fp8 throughput"),
    (["inference", "--model", "llama-3.1-8b", "--chip", "h100-sxm", "--batch", "100000"], "exceeds the maximum"),
])
def test_cli_bad_input_is_one_line_exit_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_report_section_and_results_round_trip(tmp_path):
    sc = wb.load_scenario("china-edwc")
    run = {"scenario": sc, "results": {}, "summary": {}}
    (section,) = list(plugin.workbench_report_sections())
    html = section.render(run)
    assert "western provinces" in html and "<table>" in html
    for name in ("edge_serving", "edge_routing"):
        ds = run["results"][name]
        ds.to_netcdf(tmp_path / f"{name}.nc", engine="h5netcdf")
    assert_units(run["results"]["edge_serving"][["throughput", "ttft", "tpot", "tokens_per_joule"]])


def test_validate_flags_unknown_request_class():
    sc = wb.load_scenario("china-edwc")
    dev = sc["device"].copy()
    values = dev["edge_request_class"].values.copy()
    values[0] = "teleport"
    dev["edge_request_class"] = ("device", values, dev["edge_request_class"].attrs)
    problems = plugin.workbench_validate(sc.with_table("device", dev))
    assert len(problems) == 1 and "teleport" in str(problems[0])


def test_study_objectives_are_vectorised():
    space = study.build_space(chips=("h100-sxm", "h200-sxm"))
    X = np.array([[0, 1, 1, 0.5, 0.0], [1, 1, 0, 1.0, 1.0], [0, 0, 0, 0.5, 0.5]], float)
    d = study.decode(space.context, X)
    e = study.energy(space.context, d)
    assert e.shape == (3,)
    # share 0 -> pure small-model energy (the cascade's lower limit)
    assert e[0] == pytest.approx(space.context["small_energy"])
    # 70B BF16 on tp=1 does not fit one H100: infeasible -> inf energy and +1 s constraint
    assert np.isinf(e[2]) and study.tpot_slo(space.context, d)[2] == 1.0
    q = study.quality(space.context, d)
    assert q[0] == pytest.approx(0.73) and q[1] == pytest.approx(0.86)


def test_every_analysis_output_has_units():
    sc = wb.load_scenario("china-edwc")
    for name, params in [("serving", {}), ("routing", {}), ("cascade", {"share": [0.0, 0.5, 1.0]}),
                         ("disaggregation", {"distance_km": [0.0, 500.0], "bandwidth_bps": [400e9]})]:
        assert_units(wb.analyze(name, sc, **params))


def test_catalogues_are_cached_per_manager_and_callers_get_copies():
    from workbench_edge import catalogue

    from workbench.testing import plugin_manager

    models = catalogue.load_models()
    models["layers"] = models["layers"] * 0  # the caller's copy only
    models.attrs["source_file"] = "changed"
    with pytest.raises(ValueError, match="read-only"):
        models["hidden"].values[0] = 1.0
    again = catalogue.load_models()
    assert float(again["layers"].max()) > 0 and again.attrs["source_file"] != "changed"
    assert catalogue.model_spec("llama-3.1-70b").layers == 80
    pm = wb.get_plugin_manager()
    assert catalogue._models() is catalogue._models()  # one read per manager ...
    with plugin_manager():
        other = catalogue._models()
        assert other is not None and wb.get_plugin_manager() is not pm
    assert catalogue._models() is not other  # ... and each manager its own
    for table in (catalogue.dtype_table(), catalogue.load_request_classes()):
        name = next(iter(table.data_vars))
        if table[name].dtype.kind == "f":
            with pytest.raises(ValueError, match="read-only"):
                table[name].values[0] = 0.0
