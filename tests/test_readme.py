"""The README's quick start and CI run the same command, and its figures match the code."""

import json
import re
from pathlib import Path

import workbench as wb

ROOT = Path(__file__).resolve().parents[1]


def _bash_blocks(text):
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)


def test_quick_start_has_two_commands_and_ci_runs_the_test_one():
    blocks = [b.strip() for b in _bash_blocks((ROOT / "README.md").read_text(encoding="utf-8"))]
    run, test = blocks[0], blocks[1]
    assert run.endswith("workbench run") and "pip install" in run
    assert test.endswith("pytest") and "pip install" in test
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test in ci, "the README test command must appear verbatim in .ci/run"


def test_readme_headline_coverage_figures_match_the_analysis():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    cov = wb.analyze("coverage", wb.load_scenario("china-edwc"), budget_ms=[1, 5, 20])
    summary = json.loads(cov.attrs["summary_json"])["national_share"]
    for key in ("1ms", "5ms"):
        assert f"{100 * summary[key]:.1f}%" in text, f"README's {key} share is stale"
    siting = wb.analyze("edge_siting", wb.load_scenario("china-edwc"))
    assert f"{100 * float(siting['final_share']):.1f}%" in text


def test_readme_backbone_figures_match_the_analysis():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    sc = wb.load_scenario("china-edwc")
    hubs = json.loads(wb.analyze("latency_matrix", sc, sites="hub").attrs["summary_json"])
    assert f"**{hubs['mean_ms']:.1f} ms**" in text and f"**{hubs['max_ms']:.1f} ms**" in text
    direct = json.loads(wb.analyze("coverage", sc, path_model="direct").attrs["summary_json"])["national_share"]
    assert f"{100 * direct['1ms']:.1f}%" in text
    siting = wb.analyze("edge_siting", sc)
    assert f"Giving compute to {siting.sizes['new_site']} more" in text


def test_readme_scenario_file_example_loads_outside_the_datasets_folder(tmp_path):
    """The example in "Scenario files", with small CSVs next to it, loads anywhere (it referenced
    ../catalogues/chips.csv, which only resolves inside the shipped datasets/ folder)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").split("## Scenario files", 1)[1]
    example = re.search(r"```yaml\n(.*?)```", text, re.S).group(1)
    (tmp_path / "sites.csv").write_text("id,lon [degree_east],lat [degree_north]\nbj,116.4,39.9\nsh,121.5,31.2\n")
    (tmp_path / "inventory.csv").write_text("site,chip,installed\nbj,h100-sxm,8\n")
    (tmp_path / "metros.csv").write_text("id,lon [degree_east],lat [degree_north],endpoints\nm,116.4,39.9,1000\n")
    (tmp_path / "s.yaml").write_text(example, encoding="utf-8")
    sc = wb.load_scenario(tmp_path / "s.yaml")
    assert float(sc.inventory.sum()) == 8 and "h100-sxm" in sc["chip"]["chip"].values
