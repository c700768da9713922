"""Shared fixtures: a hermetic plugin manager, the scenario fixtures folder, a small sourced scenario.

The plugin-manager fixtures wrap :func:`workbench.testing.plugin_manager`, the helper third-party
plugin authors use too. Tests that do not ask for one of them see the process-wide manager
(built-ins plus every installed entry point), exactly like a user's notebook.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from workbench.testing import example_scenario, plugin_manager

DATA = Path(__file__).parent / "data"
SCENARIOS = DATA / "scenarios"


@pytest.fixture
def fresh_plugin_manager():
    """Built-ins only, the current plugin manager for one test (the previous one restored after)."""
    with plugin_manager() as pm:
        yield pm


@pytest.fixture
def scenarios_dir() -> Path:
    """``tests/data/scenarios``: small YAML/CSV scenario files, good and bad."""
    return SCENARIOS


@pytest.fixture
def tiny_scenario():
    """:func:`workbench.testing.example_scenario`: 3 sites, 1,500 H100, Chongqing residents."""
    return example_scenario()


@pytest.fixture
def fake_distribution(tmp_path, monkeypatch):
    """Factory: install a fake distribution (dist-info + modules) on ``sys.path`` for one test.

    ``fake_distribution("wbtest-broken", "1.2.3", {"broken_plugin": "wbtest_broken"},
    {"wbtest_broken": "raise ImportError('x')"})`` creates ``wbtest_broken-1.2.3.dist-info`` with an
    ``entry_points.txt`` in group ``workbench`` and the module ``wbtest_broken.py``, then prepends
    the folder to ``sys.path`` (so ``importlib.metadata`` finds the entry points). Returns the
    folder, for ``PYTHONPATH`` in subprocesses. Modules are removed from ``sys.modules`` after.
    """
    root = tmp_path / "site"
    root.mkdir()
    created: list[str] = []

    def make(dist: str, version: str, entry_points: dict[str, str], modules: dict[str, str],
             group: str = "workbench") -> Path:
        info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        eps = "\n".join(f"{name} = {target}" for name, target in entry_points.items())
        (info / "entry_points.txt").write_text(f"[{group}]\n{eps}\n")
        for mod, source in modules.items():
            (root / f"{mod}.py").write_text(textwrap.dedent(source))
            created.append(mod)
        return root

    monkeypatch.syspath_prepend(str(root))
    yield make
    for mod in created:
        sys.modules.pop(mod, None)
