"""Study machinery: ZDT1 against pymoo's own NSGA-II, results, checkpoints, study-file errors."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from workbench.errors import StudyError
from workbench.optimize import Study, load_checkpoint, load_result
from workbench.optimize.results import auto_reference_point, hypervolume

STUDIES = Path(__file__).resolve().parents[2] / "studies"


def test_zdt1_hypervolume_matches_pymoo_nsga2():
    """Done-criterion: ZDT1 through the study machinery within 1% of pymoo's NSGA-II, same seed."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.indicators.hv import HV
    from pymoo.optimize import minimize
    from pymoo.problems.multi.zdt import ZDT1

    study = Study.from_yaml(STUDIES / "zdt1.yaml", n_gen=100, seed=7)
    res = study.optimize("serial")
    ref = np.array([1.1, 1.1])
    pymoo_res = minimize(ZDT1(), NSGA2(pop_size=100), ("n_gen", 100), seed=7)
    hv_pymoo = HV(ref_point=ref)(pymoo_res.F)
    assert float(res["hypervolume"][-1]) == pytest.approx(hv_pymoo, rel=0.01)
    # stronger: the same operators, seed and arithmetic give the same front
    np.testing.assert_array_equal(np.sort(res["F"].values, axis=0), np.sort(pymoo_res.F, axis=0))
    # the true front is f2 = 1 - sqrt(f1): HV(ref 1.1) = 1.21 - 1/3 = 0.8767; 100 x 100 gets close
    assert 0.80 < hv_pymoo < 0.8767


def test_result_layout_units_and_provenance(tmp_path):
    study = Study.from_yaml(STUDIES / "zdt1.yaml", n_gen=5, pop_size=20)
    res = study.optimize("serial", out=tmp_path / "zdt1.nc")
    assert set(res["F"].dims) == {"solution", "objective"}
    assert set(res["X"].dims) == {"solution", "variable"}
    assert res.sizes["generation"] == 5 and res["generation"].values.tolist() == [1, 2, 3, 4, 5]
    assert res["n_eval"].values.tolist() == [20, 40, 60, 80, 100]
    for name in res.data_vars:
        assert "units" in res[name].attrs and "long_name" in res[name].attrs, name
    for key in ("algorithm", "seed", "pymoo_version", "workbench_version", "plugins", "hv_ref_point"):
        assert key in res.attrs
    assert res.attrs["algorithm"] == "nsga2" and res.attrs["seed"] == 1
    assert json.loads(res.attrs["hv_ref_point"]) == [1.1, 1.1]
    assert any("workbench.optimize.builtin_plugin" in p for p in json.loads(res.attrs["plugins"]))
    back = load_result(tmp_path / "zdt1.nc")
    np.testing.assert_array_equal(back["F"].values, res["F"].values)
    assert not (tmp_path / "zdt1.nc.checkpoint.pkl").exists()   # removed once the result is written
    # hypervolume per generation is recomputable from the stored fronts
    g = -1
    front = res["front"].values[g]
    front = front[np.all(np.isfinite(front), axis=1)]
    assert float(res["hypervolume"][g]) == pytest.approx(hypervolume(front, np.array([1.1, 1.1])), rel=1e-12)


def test_maximised_objective_is_shown_unnegated():
    def neg_f1(context, X):
        return -X[:, 0]

    from workbench.plugin_types import Objective

    base = Study(space="zdt", objectives=["zdt1_f1", "zdt1_f2"], pop_size=20, n_gen=10, seed=3)
    # the same search (maximising -f1 is minimising f1) once the objective is flagged "max"
    flipped = Study(space="zdt", objectives=[Objective("neg_f1", neg_f1, sense="max"), "zdt1_f2"],
                    pop_size=20, n_gen=10, seed=3)
    a, b = base.optimize("serial"), flipped.optimize("serial")
    # solutions are listed by the first objective as shown: ascending -f1 is descending f1
    np.testing.assert_array_equal(b["neg_f1"].values, -a["zdt1_f1"].values[::-1])
    assert (b["neg_f1"].values <= 0).all() and b["objective_sense"].values.tolist() == ["max", "min"]
    np.testing.assert_array_equal(a["hypervolume"].values, b["hypervolume"].values)


def test_auto_reference_point():
    F = np.array([[0.0, 4.0], [1.0, 2.0], [3.0, 1.0]])
    # nadir (3, 4) + 10% of the range (3, 3) = (3.3, 4.3)
    np.testing.assert_allclose(auto_reference_point(F), [3.3, 4.3])
    # zero range: 10% of |nadir| (or of 1)
    np.testing.assert_allclose(auto_reference_point(np.array([[2.0, 0.0], [2.0, 0.0]])), [2.2, 0.1])
    # feasible rows only
    np.testing.assert_allclose(auto_reference_point(F, np.array([True, True, False])), [1.1, 4.2])


def test_interrupted_run_resumes_to_the_uninterrupted_result(tmp_path):
    study = Study.from_yaml(STUDIES / "zdt1.yaml", n_gen=12, pop_size=20, seed=4)
    full = study.optimize("serial")
    ckpt = tmp_path / "run.ckpt"

    class Killed(Exception):
        pass

    def kill_at_7(rec):
        if rec.n_gen == 7:
            raise Killed

    with pytest.raises(Killed):
        study.optimize("serial", checkpoint=ckpt, on_generation=kill_at_7)
    state = load_checkpoint(ckpt, study.fingerprint())
    assert len(state["history"]) == 7
    resumed = Study.from_yaml(STUDIES / "zdt1.yaml", n_gen=12, pop_size=20, seed=4).optimize(
        "serial", checkpoint=ckpt, resume=True)
    np.testing.assert_array_equal(resumed["F"].values, full["F"].values)
    np.testing.assert_array_equal(resumed["X"].values, full["X"].values)
    np.testing.assert_array_equal(resumed["hypervolume"].values, full["hypervolume"].values)
    # a checkpoint of another study is refused
    other = Study.from_yaml(STUDIES / "zdt1.yaml", n_gen=12, pop_size=20, seed=5)
    with pytest.raises(Killed):
        study.optimize("serial", checkpoint=ckpt, on_generation=kill_at_7)
    with pytest.raises(StudyError, match="different study"):
        other.optimize("serial", checkpoint=ckpt, resume=True)


def test_resume_can_extend_a_run(tmp_path):
    ckpt = tmp_path / "ext.ckpt"
    long = Study.from_yaml(STUDIES / "zdt1.yaml", n_gen=10, pop_size=20).optimize("serial")

    class Stop(Exception):
        pass

    def stop_last(rec):
        if rec.n_gen == 6:
            raise Stop

    short = Study.from_yaml(STUDIES / "zdt1.yaml", n_gen=6, pop_size=20)
    with pytest.raises(Stop):
        short.optimize("serial", checkpoint=ckpt, on_generation=stop_last)
    ext = Study.from_yaml(STUDIES / "zdt1.yaml", n_gen=10, pop_size=20).optimize("serial", checkpoint=ckpt,
                                                                                 resume=True)
    np.testing.assert_array_equal(ext["F"].values, long["F"].values)


# --------------------------------------------------------------------------- study files


def _write(tmp_path, text: str) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_unknown_objective_names_file_line_and_field(tmp_path):
    path = _write(tmp_path, """\
        study: 1
        decision_space: {name: zdt, params: {n_var: 5}}
        objectives:
          - zdt1_f1
          - zdt1_f3
        """)
    with pytest.raises(StudyError) as err:
        Study.from_yaml(path)
    first = str(err.value).splitlines()[0]
    assert first.startswith(f"{path}:5: objectives[1]: unknown objective 'zdt1_f3'; available:")
    assert "zdt1_f2" in first


def test_wrong_variable_bounds_name_file_line_and_field(tmp_path):
    path = _write(tmp_path, """\
        study: 1
        decision_space:
          variables:
            - {name: x, kind: real, lower: 0, upper: 1}
            - name: n
              kind: int
              lower: 10
              upper: 2
        objectives: [zdt1_f1]
        """)
    with pytest.raises(StudyError) as err:
        Study.from_yaml(path)
    text = str(err.value)
    assert f"{path}:8: decision_space.variables[1].upper: variable n: lower bound 10.0 is above upper bound 2.0" \
        in text


def test_every_problem_is_reported_at_once(tmp_path):
    path = _write(tmp_path, """\
        study: 1
        decison_space: {name: zdt}
        objectives: [zdt1_f1]
        algorithm: {name: nsga9, pop_size: -4}
        """)
    with pytest.raises(StudyError) as err:
        Study.from_yaml(path)
    text = str(err.value)
    assert f"{path}:2: decison_space: unknown key" in text
    assert f"{path}:1: decision_space: expected a mapping" in text
    assert "more problem" in text.splitlines()[0]


def test_space_parameter_error_points_at_the_parameter(tmp_path):
    path = _write(tmp_path, """\
        study: 1
        decision_space:
          name: zdt
          params:
            n_var: 1
        objectives: [zdt1_f1, zdt1_f2]
        algorithm: {name: nsga2, pop_size: 0}
        """)
    with pytest.raises(StudyError) as err:
        Study.from_yaml(path)
    text = str(err.value)
    assert f"{path}:5: decision_space.params.n_var: parameter 'n_var': expected an integer >= 2, got 1" in text
    assert f"{path}:7: algorithm.pop_size: pop_size must be an integer >= 2" in text


def test_bad_algorithm_and_yaml_syntax(tmp_path):
    path = _write(tmp_path, """\
        study: 1
        decision_space: {name: zdt}
        objectives: [zdt1_f1, zdt1_f2]
        algorithm: {name: os.system}
        """)
    with pytest.raises(StudyError, match=r":4: algorithm.name: unknown algorithm 'os.system'"):
        Study.from_yaml(path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("study: 1\nobjectives: [a, b\n")
    with pytest.raises(StudyError, match=r"bad.yaml:3: not valid YAML"):
        Study.from_yaml(bad)


def test_cli_prints_every_problem_and_exits_2(tmp_path, capsys):
    from workbench.optimize.cli import main

    path = _write(tmp_path, """\
        study: 1
        decision_space: {name: zdt}
        objectives: [zdt1_f1, nope]
        constraints: [also_nope]
        """)
    assert main(["optimize", str(path), "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:3: objectives[1]: unknown objective 'nope'" in err
    assert f"{path}:4: constraints[0]: unknown constraint 'also_nope'" in err
    assert "Traceback" not in err


def test_cli_optimize_serial(tmp_path, capsys):
    from workbench.optimize.cli import main

    out = tmp_path / "z.nc"
    assert main(["optimize", str(STUDIES / "zdt1.yaml"), "--workers", "0", "--n-gen", "3", "--pop-size", "10",
                 "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "after 3 generations, 30 evaluations" in text and out.exists()


def test_shipped_study_files_load():
    for path in sorted(STUDIES.glob("*.yaml")):
        if path.read_text().lstrip().startswith("sweep") or "\nsweep: 1" in path.read_text():
            continue
        study = Study.from_yaml(path)
        assert study.objectives and study.space.n_var > 0


def test_scenario_problems_are_study_errors():
    with pytest.raises(StudyError, match="dataset 'chips' is a catalogue, not a scenario"):
        Study(space="placement", scenario="chips", objectives=["annual_cost"])
    with pytest.raises(StudyError, match="decision space 'placement' needs a scenario"):
        Study(space="placement", objectives=["annual_cost"])
    with pytest.raises(StudyError, match="neither a registered scenario"):
        Study(space="placement", scenario="no-such-scenario.yaml", objectives=["annual_cost"])
