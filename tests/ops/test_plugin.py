"""Ops plugin wiring: registration, units on every result, CLI text and errors, report section."""

from __future__ import annotations

import pytest

import workbench as wb
from workbench.cli import main
from workbench.testing import assert_units


def test_registered_everywhere():
    assert {"availability", "security"} <= set(wb.list_analyses())
    assert {"ops-autonomy-levels", "ops-guardrails", "ops-fault-classes"} <= set(wb.list_datasets()["name"])
    assert "ops" in set(wb.plugins(all=True)["name"])
    sc = wb.load_scenario("china-edwc")
    assert "demand" in sc.kinds and sc.parameters["ops_fibre_cut_rate"] == 2.13


def test_every_result_has_units(tiny_scenario):
    av = wb.analyze("availability", tiny_scenario, autonomy="L3")
    assert_units(av, known=True)
    # the example's one operations agent runs the IP domain, but every example site is a data centre
    with pytest.warns(wb.WorkbenchWarning,
                      match=r"ops-zjk operate a domain with no elements"):
        sec = wb.analyze("security", tiny_scenario)
    assert_units(sec, known=True)


def test_cli_text_and_errors(capsys):
    assert main(["ops", "--autonomy", "transport=4,ip=3,dc=4,radio=2", "--guardrails", "blast_radius"]) == 0
    out = capsys.readouterr().out
    assert "transport L4, ip L3, dc L4, radio L2" in out and "mean time to restore" in out
    assert "blast_radius" in out and "P(compromise)/yr" in out
    assert main(["ops", "--autonomy", "L9"]) == 2
    assert "expected 0-5 or L0-L5" in capsys.readouterr().err
    assert main(["ops", "--guardrails", "moat"]) == 2
    assert "unknown guardrail 'moat'" in capsys.readouterr().err


def test_validate_names_bad_demand_reference():
    from workbench.errors import ScenarioError
    from workbench.model import Scenario

    with pytest.raises(ScenarioError, match=r"demand\[d\]\.dst: not a site id of the scenario \(got 'zz'\)"):
        Scenario.from_tables({"site": [{"id": "a", "lon": 1, "lat": 1}, {"id": "b", "lon": 2, "lat": 1}],
                              "link": [{"id": "l", "src": "a", "dst": "b"}],
                              "demand": [{"id": "d", "src": "a", "dst": "zz", "traffic": 1}]})


@pytest.mark.slow
def test_cli_monte_carlo_on_a_dask_scheduler_address_matches_serial(capsys):
    import json

    distributed = pytest.importorskip("distributed")
    argv = ["ops", "--method", "monte-carlo", "--years", "2", "--replications", "3", "--seed", "7",
            "--demands", "hubs", "--json"]
    assert main(argv) == 0
    serial = json.loads(capsys.readouterr().out)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
        assert main(argv + ["--scheduler", cl.scheduler_address]) == 0
    remote = json.loads(capsys.readouterr().out)
    assert [d["availability"] for d in remote["demands"]] == [d["availability"] for d in serial["demands"]]
    assert remote["mean_time_to_restore_h_simulated"] == serial["mean_time_to_restore_h_simulated"]
