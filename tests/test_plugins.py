"""The plugin system: load failures, strict and disable switches, hook errors, conflicts, schema extensions,
the CLI listing, and the template plugin installed as a real third-party distribution."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import workbench as wb
from workbench import hookimpl
from workbench.errors import PluginError, PluginWarning
from workbench.plugin_types import AnalysisSpec, AttributeSpec, ComponentKind, DatasetSpec
from workbench.plugins import BUILTIN_PLUGINS
from workbench.testing import example_scenario, plugin_manager

ROOT = Path(__file__).resolve().parents[1]
TIER_III = 0.99982  # availability, Uptime Institute Tier III as commonly cited (plugins/template SOURCES.yaml)

BROKEN = "raise ImportError('wbtest_missing_dependency is not installed')\n"
RECORDER = """
from workbench import hookimpl
from workbench.plugin_types import AnalysisSpec

CALLS = []

def count_sites(scenario):
    return scenario["site"].sizes["site"]

@hookimpl
def workbench_analyses():
    CALLS.append("workbench_analyses")
    yield AnalysisSpec("wbtest_count_sites", func=count_sites)
"""
EXPLODING = """
from workbench import hookimpl

@hookimpl
def workbench_analyses():
    yield 1 / 0
"""


def _make_broken(fake_distribution):
    return fake_distribution("wbtest-broken", "1.2.3", {"broken_plugin": "wbtest_broken"}, {"wbtest_broken": BROKEN})


# -- listing ---------------------------------------------------------------------------------------------
def test_builtins_are_plugins_hidden_unless_all(fresh_plugin_manager):
    table = wb.plugins(all=True)
    row = table.set_index("name").loc["workbench.builtins"]
    assert (row.source, row.status, row.version) == ("builtin", "active", wb.__version__)
    assert "workbench_component_kinds" in row.hooks and "workbench_datasets" in row.hooks
    assert wb.plugins().empty  # builtins only: nothing third-party to show
    assert list(table.columns) == ["name", "version", "distribution", "source", "status", "hooks", "error"]


def test_plugin_manager_helper_is_hermetic_and_restores_the_global():
    before = wb.get_plugin_manager()
    schema_before = wb.get_schema()

    class Extra:
        @hookimpl
        def workbench_component_attributes(self):
            yield AttributeSpec("site", "wbtest_extra", "float", "1", 0, "Test attribute")

    with plugin_manager(("extra", Extra())) as pm:
        assert wb.get_plugin_manager() is pm is not before
        assert "wbtest_extra" in wb.get_schema().attrs("site")
        assert set(pm.records) == {*BUILTIN_PLUGINS, "extra"}  # no entry point loaded
    assert wb.get_plugin_manager() is before
    assert "wbtest_extra" not in wb.get_schema().attrs("site")
    assert wb.get_schema().attrs("site").keys() == schema_before.attrs("site").keys()


# -- load failures -------------------------------------------------------------------------------------
def test_broken_entry_point_warns_and_is_listed_failed(fake_distribution, monkeypatch):
    monkeypatch.delenv("WORKBENCH_STRICT_PLUGINS", raising=False)
    monkeypatch.delenv("WORKBENCH_DISABLE_PLUGINS", raising=False)
    _make_broken(fake_distribution)
    with pytest.warns(PluginWarning, match=r"workbench plugin broken_plugin 1\.2\.3 failed to load: ImportError"):
        with plugin_manager(entrypoints=True):
            table = wb.plugins().set_index("name")
            assert "coverage" in wb.list_analyses()  # the rest of the workbench still works
    row = table.loc["broken_plugin"]
    assert (row.status, row.version, row.distribution, row.source) == ("failed", "1.2.3", "wbtest-broken",
                                                                      "entrypoint")
    assert "wbtest_missing_dependency is not installed" in row.error and row.hooks == ""


def test_strict_mode_raises_plugin_error_naming_the_plugin(fake_distribution, monkeypatch):
    _make_broken(fake_distribution)
    monkeypatch.setenv("WORKBENCH_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match=r"broken_plugin 1\.2\.3 failed to load: ImportError: wbtest_missing"):
        with plugin_manager(entrypoints=True):
            pass


def test_disabled_plugins_are_listed_and_their_hooks_never_called(fake_distribution, monkeypatch):
    fake_distribution("wbtest-recorder", "0.2.0", {"recorder": "wbtest_recorder"}, {"wbtest_recorder": RECORDER})
    monkeypatch.delenv("WORKBENCH_STRICT_PLUGINS", raising=False)
    monkeypatch.delenv("WORKBENCH_DISABLE_PLUGINS", raising=False)
    with plugin_manager(entrypoints=True):  # control: enabled, its hook is called and contributes
        assert wb.list_analyses()["wbtest_count_sites"].provided_by == "recorder 0.2.0"
        assert sys.modules["wbtest_recorder"].CALLS == ["workbench_analyses"]
    sys.modules.pop("wbtest_recorder")

    monkeypatch.setenv("WORKBENCH_DISABLE_PLUGINS", "optical, recorder")
    with plugin_manager(entrypoints=True) as pm:
        table = wb.plugins().set_index("name")
        analyses = wb.list_analyses()
        assert pm.get_plugin("optical") is None and pm.get_plugin("recorder") is None
    assert table.loc["optical", "status"] == "disabled" and table.loc["recorder", "status"] == "disabled"
    assert table.loc["recorder", "version"] == "0.2.0"
    assert "wbtest_count_sites" not in analyses
    assert "wbtest_recorder" not in sys.modules  # never even imported
    assert not any(spec.provided_by.startswith("optical") for spec in analyses.values())


def test_invalid_hook_implementation_is_a_failed_registration():
    class Misspelled:
        @hookimpl
        def workbench_analysis(self):  # no such hook (it is workbench_analyses)
            yield from ()

    with pytest.warns(PluginWarning, match="workbench plugin misspelled failed to load: could not register"):
        with plugin_manager(("misspelled", Misspelled())):
            row = wb.plugins().set_index("name").loc["misspelled"]
    assert row.status == "failed" and "workbench_analysis" in row.error


def test_register_plugin_for_a_with_block(fresh_plugin_manager):
    class Session:
        @hookimpl
        def workbench_datasets(self):
            yield DatasetSpec("wbtest-tiers", load=dict, kind="catalogue", description="Test catalogue")

    with wb.register_plugin(Session(), name="session-plugin"):
        assert wb.list_datasets().set_index("name").loc["wbtest-tiers", "provided_by"] == "session-plugin"
        assert wb.plugins().set_index("name").loc["session-plugin", "source"] == "session"
    assert "wbtest-tiers" not in set(wb.list_datasets()["name"])
    assert "session-plugin" not in set(wb.plugins()["name"])


def test_every_hook_is_documented_with_an_example():
    from workbench.hookspecs import WorkbenchSpecs
    from workbench.plugin_types import SPEC_TYPES

    hooks = {n for n in vars(WorkbenchSpecs) if n.startswith("workbench_")}
    assert {f"workbench_{kind}" for kind in SPEC_TYPES} <= hooks  # every registration kind has its hook
    for name in sorted(hooks):
        doc = getattr(WorkbenchSpecs, name).__doc__ or ""
        assert "@hookimpl" in doc and f"def {name}(" in doc, f"{name}: no example in its docstring"


# -- errors inside hooks ---------------------------------------------------------------------------------
def test_hook_that_raises_is_a_plugin_error_naming_plugin_and_version(fake_distribution):
    # a group of its own: the same loader, without the installed plugins in the way
    fake_distribution("wbtest-exploding", "2.0.1", {"exploding": "wbtest_exploding"}, {"wbtest_exploding": EXPLODING},
                      group="wbtest")
    with plugin_manager(entrypoints=True, group="wbtest"):
        with pytest.raises(PluginError, match=r"plugin exploding 2\.0\.1 failed in workbench_analyses: "
                                              r"ZeroDivisionError") as info:
            wb.list_analyses()
    assert "report this to the plugin's authors" in str(info.value)
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_a_wrong_spec_type_names_the_plugin():
    class Sloppy:
        __version__ = "0.0.1"

        @hookimpl
        def workbench_analyses(self):
            yield DatasetSpec("oops", load=dict)

    with plugin_manager(("sloppy", Sloppy())), pytest.raises(
            PluginError, match=r"plugin sloppy 0\.0\.1 yielded DatasetSpec from workbench_analyses; expected AnalysisSpec"):
        wb.list_analyses()


def test_two_plugins_with_the_same_analysis_name_list_both():
    def noop(scenario):
        return xr.Dataset()

    class First:
        __version__ = "1.0"

        @hookimpl
        def workbench_analyses(self):
            yield AnalysisSpec("density", func=noop)

    class Second:
        __version__ = "3.1"

        @hookimpl
        def workbench_analyses(self):
            yield AnalysisSpec("density", func=noop)

    with plugin_manager(("first", First()), ("second", Second())), pytest.raises(PluginError) as info:
        wb.list_analyses()
    text = str(info.value)
    assert "conflicting plugins for workbench_analyses" in text
    assert "density: first 1.0, second 3.1" in text and "WORKBENCH_DISABLE_PLUGINS" in text


# -- schema extensions ------------------------------------------------------------------------------------
class Uptime:
    """A session plugin adding a site attribute and a component kind."""

    __version__ = "0.3.0"

    @hookimpl
    def workbench_component_attributes(self):
        yield AttributeSpec("site", "wbtest_uptime", "float", "1", TIER_III,
                            "Share of the year the site is available; default Tier III as commonly cited (assumed)")

    @hookimpl
    def workbench_component_kinds(self):
        yield ComponentKind("supernode", "AI supernodes installed at sites", attributes=(
            AttributeSpec("supernode", "site", "str", required=True, description="Site id"),
            AttributeSpec("supernode", "chips", "float", "1", 0, "Accelerators in the supernode"),
        ))


def test_plugin_attribute_appears_in_tables_with_units_and_provided_by(tmp_path):
    with plugin_manager(("uptime", Uptime())):
        sc = wb.Scenario.from_tables(
            {"site": [{"id": "zjk", "lon": 114.871, "lat": 40.783, "wbtest_uptime": 99.995},
                      {"id": "qy", "lon": 107.645, "lat": 35.710}],
             "supernode": [{"id": "sn1", "site": "zjk", "chips": 384}]},
            units={"site": {"wbtest_uptime": "%"}})
        var = sc["site"]["wbtest_uptime"]
        np.testing.assert_allclose(var.values, [0.99995, TIER_III])  # 99.995 % converted; default filled
        assert var.attrs["units"] == "1" and var.attrs["provided_by"] == "uptime 0.3.0"
        assert var.attrs["long_name"] == "Share of the year the site is available"
        assert "supernode" in sc.kinds and sc["supernode"].attrs["provided_by"] == "uptime 0.3.0"
        table = wb.get_schema().to_dataframe().set_index(["kind", "attribute"])
        assert table.loc[("site", "wbtest_uptime"), "provided_by"] == "uptime 0.3.0"
        back = wb.Scenario.from_netcdf(sc.to_netcdf(tmp_path / "s.nc"))
        assert back.identical(sc)
        with pytest.raises(wb.ScenarioError, match=r"supernode\[sn2\].site: refers to|unknown attribute 'colour'"):
            wb.Scenario.from_tables({"site": [{"id": "a", "lon": 1, "lat": 2}],
                                     "supernode": [{"id": "sn2", "site": "a", "colour": "red"}]})


def test_attribute_for_an_unknown_kind_or_a_redefinition_is_refused():
    class Lost:
        @hookimpl
        def workbench_component_attributes(self):
            yield AttributeSpec("satellite", "lost_orbit", "float", "km", 550, "Orbit altitude (assumed)")

    class Clash:
        __version__ = "9"

        @hookimpl
        def workbench_component_attributes(self):
            yield AttributeSpec("site", "pue", "float", "1", 1.1, "PUE again (assumed)")

    with plugin_manager(("lost", Lost())), pytest.raises(PluginError, match="unknown kind 'satellite'"):
        wb.get_schema()
    with plugin_manager(("clash", Clash())), pytest.raises(
            PluginError, match=r"clash 9 redefines attribute 'site.pue' already provided by workbench.builtins"):
        wb.get_schema()


def test_refresh_sees_a_plugin_installed_in_a_running_session(fake_distribution):
    with plugin_manager():
        assert "wbtest_count_sites" not in wb.list_analyses()
        fake_distribution("wbtest-recorder", "0.2.0", {"recorder": "wbtest_recorder"}, {"wbtest_recorder": RECORDER})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PluginWarning)  # other installed plugins may be mid-development
            wb.refresh()
        assert "wbtest_count_sites" in wb.list_analyses()
        assert wb.analyze("wbtest_count_sites", example_scenario()) == 3


# -- the command line ----------------------------------------------------------------------------------
def _cli(*args, extra_path: Path, **env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    environ["PYTHONPATH"] = os.pathsep.join([str(extra_path), *filter(None, [os.environ.get("PYTHONPATH")])])
    environ.update(env)
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True,
                          env=environ, timeout=120)


def test_cli_lists_a_failed_plugin_and_strict_mode_exits_2(fake_distribution):
    root = _make_broken(fake_distribution)
    done = _cli("plugins", "--json", extra_path=root)
    assert done.returncode == 0, done.stderr
    rows = {r["name"]: r for r in json.loads(done.stdout)}
    assert rows["broken_plugin"]["status"] == "failed" and rows["broken_plugin"]["version"] == "1.2.3"
    assert "ImportError" in rows["broken_plugin"]["error"]
    assert "broken_plugin 1.2.3 failed to load" in done.stderr  # the PluginWarning

    strict = _cli("plugins", extra_path=root, WORKBENCH_STRICT_PLUGINS="1")
    assert strict.returncode == 2
    assert strict.stderr.strip().splitlines() == [
        "workbench: error: workbench plugin broken_plugin 1.2.3 failed to load: "
        "ImportError: wbtest_missing_dependency is not installed"]


# -- a third-party distribution, installed ---------------------------------------------------------------
CHECK_INSTALLED = """
import inspect
import json
import workbench as wb
import workbench_template
sc = wb.load_scenario({scenario!r})
spec = wb.list_analyses()["available_compute"]
ds = wb.analyze("available_compute", sc)
print(json.dumps({{
    "provided_by": spec.provided_by,
    "uptime_attrs": sc["site"]["template_uptime"].attrs,
    "uptime": sc["site"]["template_uptime"].values.tolist(),
    "total_available": float(ds["total_available"]),
    "datasets": wb.list_datasets()["name"].tolist(),
    "module": workbench_template.__file__,
    "coverage_provider": wb.list_analyses()["coverage"].provided_by,
    "coverage_left_out": wb.analyze("coverage", sc, budget_ms=[5]).attrs["sites_left_out"],
    "parameter": wb.get_schema().parameters["template_min_uptime"].provided_by,
    "fso": "fso" in wb.get_schema().attrs("link")["tech"].choices,
    "rack_in_kilorack": wb.get_plugin_manager().units.convert(1.0, "kilorack", "rack"),
    "coverage_parameters": list(inspect.signature(wb.list_analyses()["coverage"].func).parameters),
}}))
"""


@pytest.mark.slow
def test_template_plugin_installed_as_third_party(tmp_path):
    """pip-install plugins/template into a throwaway venv layered on this one, then use it from outside.

    A throwaway venv (``--without-pip``; a ``.pth`` file adds this venv's site-packages, so the
    editable workbench, pip and pytest are visible) instead of the shared test venv: other test runs
    in that venv never see the template plugin, and nothing needs uninstalling afterwards, even if
    this test dies half-way. pip builds with its default build isolation, fetching the build backend
    from the same index ``pip install -e .`` used: ``--no-build-isolation`` fails with the setuptools
    a Python 3.11 venv ships (65.5: no ``bdist_wheel`` without the ``wheel`` package). The source is
    copied first because building writes ``build/`` into it.
    """
    src = tmp_path / "template"
    shutil.copytree(ROOT / "plugins" / "template", src,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", ".pytest_cache"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site_dir = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   capture_output=True, text=True, check=True).stdout.strip())
    parents = [p for p in sys.path if p.endswith("site-packages")]
    (site_dir / "_parent_venv.pth").write_text(
        "import site; " + "; ".join(f"site.addsitedir({p!r})" for p in parents) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_") and k != "PYTHONPATH"}

    pip = subprocess.run([python, "-m", "pip", "install", "--no-deps", str(src)], capture_output=True, text=True,
                         env=env, timeout=600)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    assert (site_dir / "workbench_template").is_dir()  # installed into the throwaway venv only
    shutil.rmtree(src / "src")  # from here on only the installed copy can be imported

    listing = subprocess.run([python, "-m", "workbench", "plugins", "--json"], capture_output=True, text=True,
                             env=env, timeout=120, cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    rows = {r["name"]: r for r in json.loads(listing.stdout)}
    row = rows["template"]
    assert (row["status"], row["version"], row["distribution"], row["source"]) == (
        "active", "0.1.0", "workbench-plugin-template", "entrypoint")
    assert {"workbench_analyses", "workbench_component_attributes", "workbench_datasets", "workbench_commands",
            "workbench_units", "workbench_parameters", "workbench_choices"} <= set(row["hooks"].split(", "))

    scenario = ROOT / "tests" / "data" / "scenarios" / "tiny" / "scenario.yaml"
    check = subprocess.run([python, "-c", CHECK_INSTALLED.format(scenario=str(scenario))], capture_output=True,
                           text=True, env=env, timeout=120, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    got = json.loads(check.stdout)
    assert Path(got["module"]).is_relative_to(site_dir)
    assert got["provided_by"] == "template 0.1.0" and "uptime-tiers" in got["datasets"]
    assert got["uptime_attrs"]["units"] == "1" and got["uptime_attrs"]["provided_by"] == "template 0.1.0"
    assert got["uptime"] == [TIER_III] * 3
    # a unit, a parameter, a link.tech choice and a replaced analysis, from the installed distribution
    assert got["coverage_provider"] == "template 0.1.0" and got["coverage_left_out"] == "[]"
    assert got["parameter"] == "template 0.1.0" and got["fso"] and got["rack_in_kilorack"] == 1000.0
    assert got["coverage_parameters"][:2] == ["scenario", "budget_ms"]  # the core's signature, for the CLI
    # 1,500 H100 x 989.4 TFLOP/s (FIGURES 3.3) x 0.99982
    assert got["total_available"] == pytest.approx(1500 * 989.4e12 * TIER_III, rel=1e-12)

    command = subprocess.run([python, "-m", "workbench", "uptime", "--scenario", str(scenario), "--json"],
                             capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert command.returncode == 0, command.stderr
    assert json.loads(command.stdout)["availability"] == pytest.approx(TIER_III, rel=1e-12)

    # the template's own test suite passes against the installed distribution
    tests = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(src / "tests")],
                           capture_output=True, text=True, env=env, timeout=600, cwd=src)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]


# -- the manager: pluggy's own registration and calling -----------------------------------------------------
def test_plugin_registered_with_pluggys_own_register_is_seen_at_once(fresh_plugin_manager):
    class Plain:
        __version__ = "1.0"

        @hookimpl
        def workbench_analyses(self):
            yield AnalysisSpec("wbtest_plain", func=lambda scenario: xr.Dataset())

    pm = fresh_plugin_manager
    assert "wbtest_plain" not in wb.list_analyses()  # collected and cached on the manager
    plugin = Plain()
    pm.register(plugin, name="plain")
    assert wb.list_analyses()["wbtest_plain"].provided_by == "plain 1.0"
    assert wb.plugins().set_index("name").loc["plain", "source"] == "session"
    pm.unregister(plugin)
    assert "wbtest_plain" not in wb.list_analyses() and "plain" not in set(wb.plugins()["name"])


def test_hook_wrappers_work_and_errors_still_name_the_plugin(fresh_plugin_manager):
    seen = []

    class Wrapper:
        @hookimpl(wrapper=True)
        def workbench_analyses(self):
            result = yield  # the list of every implementation's specs
            seen.append(sum(len(r) for r in result))
            return result

    class Boom:
        __version__ = "6.6"

        @hookimpl
        def workbench_datasets(self):
            raise RuntimeError("disk on fire")

    pm = fresh_plugin_manager
    pm.register(Wrapper(), name="wrapper")
    assert "coverage" in wb.list_analyses() and seen and seen[0] >= 2
    pm.register(Boom(), name="boom")
    with pytest.raises(PluginError, match=r"plugin boom 6\.6 failed in workbench_datasets: RuntimeError: disk on fire"):
        wb.list_datasets()


def test_replacing_a_builtin_analysis_needs_replaces(fresh_plugin_manager):
    def mine(scenario):
        return xr.Dataset(attrs={"summary_text": "mine"})

    class Silent:
        @hookimpl
        def workbench_analyses(self):
            yield AnalysisSpec("coverage", func=mine)

    class Explicit:
        @hookimpl
        def workbench_analyses(self):
            yield AnalysisSpec("coverage", func=mine, replaces="workbench.builtins")

    class Wrong:
        @hookimpl
        def workbench_analyses(self):
            yield AnalysisSpec("coverage", func=mine, replaces="optical")

    with plugin_manager(("silent", Silent())), pytest.raises(PluginError, match="(?s)conflicting plugins.*replaces="):
        wb.list_analyses()
    with plugin_manager(("explicit", Explicit())):
        spec = wb.list_analyses()["coverage"]
        assert spec.provided_by == "explicit" and spec.func is mine
    with plugin_manager(("wrong", Wrong())), pytest.raises(
            PluginError, match="replaces='optical', but 'coverage' is provided by workbench.builtins"):
        wb.list_analyses()


def test_plugins_add_units_parameters_and_choices():
    from workbench.plugin_types import ChoiceSpec, ParameterSpec, UnitDefinition

    class Extension:
        __version__ = "0.2"

        @hookimpl
        def workbench_units(self):
            yield UnitDefinition("wbrack = [wbrack]", "a rack position")

        @hookimpl
        def workbench_parameters(self):
            yield ParameterSpec("wbtest_rack_power", "W/wbrack", 2500.0, "Power per rack (assumed)", min=0.0)

        @hookimpl
        def workbench_choices(self):
            yield ChoiceSpec("device", "access_tech", "satellite-leo", "LEO satellite access (assumed)", delay=20.0)
            yield ChoiceSpec("link", "tech", "fso", "Free-space optics")

        @hookimpl
        def workbench_component_attributes(self):
            yield AttributeSpec("site", "wbtest_racks", "float", "wbrack", 0, "Rack positions; range: >= 0", min=0.0)

    with plugin_manager(("ext", Extension())):
        sc = wb.Scenario.from_tables(
            {"site": [{"id": "a", "lon": 1, "lat": 2, "wbtest_racks [kilowbrack]": 0.01},
                      {"id": "b", "lon": 1.5, "lat": 2, "wbtest_racks [kilowbrack]": None}],
             "link": [{"id": "ab", "src": "a", "dst": "b", "tech": "fso"}],
             "device": [{"id": "d", "lon": 1, "lat": 2, "endpoints": 5, "access_tech": "satellite-leo"}]},
            parameters={"wbtest_rack_power": "8 kW/wbrack"})
        assert sc.parameters["wbtest_rack_power"] == 8000.0
        assert sc["site"]["wbtest_racks"].attrs["units"] == "wbrack"
        assert sc["site"]["wbtest_racks"].values.tolist() == [10.0, 0.0]  # unit in the column name, as in CSV
        assert wb.get_schema().choice_delay("device", "access_tech", "satellite-leo") == 20.0
        assert wb.get_schema().choice_delays("device", "access_tech") == {"satellite-leo": 20.0}
        assert sc["link"]["tech"].values.tolist() == ["fso"]
        with pytest.raises(wb.ScenarioError, match=r"parameters.wbtest_rack_power: out of range"):
            wb.Scenario.from_tables({}, parameters={"wbtest_rack_power": -1})
    # without the plugin the unit, the parameter and the choices are unknown
    with pytest.raises(wb.ScenarioError, match="not a known choice"):
        wb.Scenario.from_tables({"site": [{"id": "a", "lon": 1, "lat": 2}, {"id": "b", "lon": 1.5, "lat": 2}],
                                 "link": [{"id": "ab", "src": "a", "dst": "b", "tech": "fso"}]})


def test_a_choice_for_an_attribute_without_choices_is_refused():
    from workbench.plugin_types import ChoiceSpec

    class Bad:
        @hookimpl
        def workbench_choices(self):
            yield ChoiceSpec("site", "name", "x")

    with plugin_manager(("bad", Bad())), pytest.raises(PluginError, match="not a text attribute with a list"):
        wb.get_schema()


def test_importing_the_model_imports_no_plugin_module():
    code = ("import sys, workbench.model\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('workbench_optical', 'workbench_edge', "
            "'workbench_template') or m in ('workbench.builtins', 'workbench.optimize.builtin_plugin')]\n"
            "assert not bad, bad\n"
            "p = sys.modules['workbench.plugins']\n"
            "assert p._CURRENT.get() is None  # no manager built either\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_no_module_level_caches_of_hook_results():
    import inspect

    import workbench.plugins as plugins_module
    import workbench.schema as schema_module

    for module in (plugins_module, schema_module):
        source = inspect.getsource(module)
        assert "lru_cache" not in source and "functools.cache" not in source, module.__name__
        assert "global " not in source, module.__name__


def test_an_access_technology_a_plugin_adds_brings_its_own_delay():
    from workbench.paths import access_delays
    from workbench.plugin_types import ChoiceSpec

    class Leo:
        @hookimpl
        def workbench_choices(self):
            yield ChoiceSpec("device", "access_tech", "satellite-leo", "LEO satellite access (assumed)", delay=20.0)

    with pytest.raises(wb.WorkbenchError, match="no access delay known for access_tech"):
        access_delays(np.array(["satellite-leo"]))
    with plugin_manager(("leo", Leo())):
        np.testing.assert_array_equal(access_delays(np.array(["5g", "satellite-leo"])), [4.0, 20.0])


def test_plugin_analyses_carry_their_real_signature_and_failures_name_the_plugin(capsys):
    import inspect

    from workbench.cli import main
    from workbench.errors import PluginError
    from workbench.plugin_types import AnalysisSpec, lazy
    from workbench.testing import example_scenario, plugin_manager

    specs = wb.list_analyses()
    assert "k_max" in inspect.signature(specs["routing"].func).parameters
    assert list(inspect.signature(specs["fabric"].func).parameters) == ["scenario", "presets"]
    assert "budget_ms" in inspect.signature(lazy(lambda scenario, **p: None,
                                                 signature="workbench.analyses.coverage:coverage")).parameters

    class Buggy:
        __version__ = "0.3"

        @staticmethod
        @wb.hookimpl
        def workbench_analyses():
            def crash(scenario, depth: int = 1):
                return {}["missing"]  # a bug: KeyError

            def picky(scenario, n: int = 1):
                return sorted([n, "x"])  # a TypeError inside, not a parameter error

            yield AnalysisSpec("crash", func=crash)
            yield AnalysisSpec("picky", func=picky)

    with plugin_manager(("buggy", Buggy)):
        sc = example_scenario()
        with pytest.raises(PluginError, match=r"analysis 'crash' of plugin buggy 0.3 failed: KeyError: 'missing'"):
            wb.analyze("crash", sc)
        with pytest.raises(PluginError, match=r"analysis 'picky' of plugin buggy 0.3 failed: TypeError"):
            wb.analyze("picky", sc)
        with pytest.raises(TypeError, match=r"analysis 'crash' \(buggy 0.3\): got an unexpected keyword"):
            wb.analyze("crash", sc, width=2)  # binding fails before the analysis runs
        assert main(["analyze", "picky", "--scenario", "china-edwc"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "of plugin buggy 0.3 failed: TypeError" in err, err
        assert "bad parameter value" not in err
