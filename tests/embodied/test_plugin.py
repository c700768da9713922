"""Embodied plugin wiring: registration, units on every result, CLI text and errors, report section, study space,
and the held-out validation of the roofline stand-in."""

from __future__ import annotations

import numpy as np
import pytest
from workbench_embodied.model import validation

import workbench as wb
from workbench.cli import main
from workbench.testing import assert_units


@pytest.fixture(scope="module")
def edwc():
    return wb.load_scenario("china-edwc")


def test_registered_everywhere(edwc):
    assert {"offload", "deadlines"} <= set(wb.list_analyses())
    assert {"embodied-classes", "embodied-access", "embodied-models", "embodied-chips"} <= set(wb.list_datasets()["name"])
    assert "embodied" in set(wb.plugins(all=True)["name"])
    assert edwc.parameters["embodied_chip_share"] == 0.1
    assert "humanoid" in wb.get_schema().attrs("device")["class"].choices


def test_every_result_has_units(edwc):
    ds = wb.analyze("offload", edwc, classes="drone")
    assert_units(ds.drop_vars(["serving_site", "best_option"]), known=True)
    assert set(ds["option"].values) == {"device", "edge", "regional", "hub", "split"}
    dl = wb.analyze("deadlines", edwc, classes="drone")
    assert_units(dl.drop_vars(["serving_site", "placement"]), known=True)
    assert float(dl["devices_by_metro"].sum()) == pytest.approx(float(ds["devices"].sum()))


def test_cli_text_json_and_errors(capsys):
    assert main(["embodied", "--class", "drone-c2", "--hz", "25"]) == 0
    out = capsys.readouterr().out
    assert "drone-c2" in out and "25 Hz" in out and "meet it" in out
    assert main(["embodied", "--class", "humanoid", "--json"]) == 0
    import json

    js = json.loads(capsys.readouterr().out)
    assert 0 <= js["classes"]["humanoid"]["share_meeting_target"] <= 1
    assert main(["embodied", "--class", "robto"]) == 2
    assert "unknown device class 'robto'" in capsys.readouterr().err
    assert main(["embodied", "deadline", "--access", "5g-a", "--deadline-ms", "33.3", "--path-ms", "1",
                 "--inference-ms", "6", "--method", "monte_carlo", "--samples", "20000", "--json"]) == 0
    js = json.loads(capsys.readouterr().out)
    lo, hi = js["monte_carlo"]["ci95"]
    assert lo - 0.002 <= js["miss_probability"] <= hi + 0.002


def test_report_section(edwc):
    from workbench_embodied.report import render

    run = {"scenario": edwc, "results": {}, "summary": {}}
    html = render(run)
    assert "humanoid" in html and "<table>" in html and "embodied_offload" in run["results"]
    s = run["summary"]["embodied"]["humanoid"]
    assert 0 <= s["share_meeting"] <= s["share_meeting_network_only"] <= 1


def test_study_space_objectives(edwc):
    from workbench_embodied.study import build_space, chips_added, decode, devices_missing, sites_opened

    sp = build_space(edwc, classes="humanoid")
    k = len(sp.variables)
    X = np.zeros((3, k))
    X[1, :] = 1
    X[2, : k // 2] = 1
    d = decode(sp.context, X)
    miss = devices_missing(sp.context, d)
    assert miss[1] <= miss[2] <= miss[0]          # opening more sites never loses robots
    assert sites_opened(sp.context, d).tolist() == [0, k, k // 2]
    assert chips_added(sp.context, d)[0] == 0 and chips_added(sp.context, d)[1] == sp.context["chips"].sum()


def test_roofline_moves_measurements_between_chips():
    """Held-out check (datasets/embodied/vla_measurements.csv): the stand-in's efficiency is chosen on one
    measurement (pi0, 1 view, RTX 4090); the RTX 5090 figures of the realtime-vla README are held out. Users
    compare inference with deadlines of 16-100 ms where inference is 5-40 ms, so 15% is what they need."""
    v = validation()
    chip = v[v["class"] == "chip"]["error"].abs()
    assert len(chip) == 3
    assert chip.median() <= 0.15 and chip.max() <= 0.25


@pytest.mark.xfail(strict=True, reason="the roofline over-predicts the cost of extra camera views by 27-54% "
                                       "(measured latency grows less than the prefill FLOPs): every view count "
                                       "has its own measured row instead")
def test_roofline_scales_camera_views():
    v = validation()
    assert v[v["class"] == "views"]["error"].abs().median() <= 0.15
