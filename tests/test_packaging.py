"""Packaging: environment.yml agrees with pyproject, and no package, entry point or data file is left out."""

from __future__ import annotations

import importlib
import re
import tomllib
from importlib import metadata
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
ENVIRONMENT = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))

# A pip requirement with extras -> the conda-forge packages that provide it, each with the lower bound it
# must carry: None = the pip requirement's own bound, "" = no bound (the extra pins none in pyproject).
CONDA_PACKAGES = {
    "dask[distributed]": {"dask": None, "distributed": None},  # distributed is released in lock-step with dask
    "h5netcdf[h5py]": {"h5netcdf": None, "h5py": ""},
}
# PyPI names spelled differently on conda-forge (none today: pyyaml, jupyterlab, ... are the same)
CONDA_NAMES: dict[str, str] = {}
# Packages environment.yml must take from PyPI (its pip: section), with the reason
PIP_ONLY = {"pymoo": "pymoo >= 0.6.2 (pymoo.parallelization) is not on conda-forge, whose newest build is 0.6.1.5"}
# What environment.yml has beyond pyproject's dependencies
ENV_ONLY = {"python", "pip"}
# Folders inside packages whose files are deliberately not installed, with the reason
NOT_SHIPPED = {"datasets/build": "build scripts and their raw inputs; the tables they build are shipped"}
# Files read at run time (documentation such as README.md is not required in the installed package)
DATA_SUFFIXES = {".csv", ".yaml", ".yml", ".json", ".nc", ".txt", ".geojson", ".gml", ".graphml"}


def _lower_bound(spec: SpecifierSet) -> str:
    bounds = [s for s in spec if s.operator == ">="]
    assert len(bounds) <= 1 and all(s.operator in (">=", "<", "!=") for s in spec), f"unexpected specifier {spec}"
    return f">={bounds[0].version}" if bounds else ""


def _expected_conda() -> dict[str, str]:
    """pyproject's runtime and test requirements as conda-forge name -> lower bound."""
    reqs = [*PYPROJECT["project"]["dependencies"], *PYPROJECT["project"]["optional-dependencies"]["test"]]
    out: dict[str, str] = {}
    for text in reqs:
        req = Requirement(text)
        bound = _lower_bound(req.specifier)
        key = f"{req.name.lower()}[{','.join(sorted(req.extras))}]" if req.extras else req.name.lower()
        for name, own in CONDA_PACKAGES.get(key, {CONDA_NAMES.get(req.name.lower(), req.name.lower()): None}).items():
            out[name] = bound if own is None else own
    return out


_CONDA_SPEC = re.compile(r"^([A-Za-z0-9_.\-]+)\s*(.*)$")


def _environment() -> tuple[dict[str, str], dict[str, str], list[str]]:
    """environment.yml as (conda name -> bound, pip name -> bound, raw pip lines)."""
    conda, pip_lines = {}, []
    for item in ENVIRONMENT["dependencies"]:
        if isinstance(item, dict):
            pip_lines = list(item["pip"])
            continue
        name, spec = _CONDA_SPEC.match(item).groups()
        conda[name.lower()] = spec.replace(" ", "")
    pip = {}
    for line in pip_lines:
        if line.startswith("-"):
            continue
        req = Requirement(line)
        pip[req.name.lower()] = _lower_bound(req.specifier)
    return conda, pip, pip_lines


def test_environment_names_the_same_packages_with_the_same_lower_bounds():
    conda, pip, _ = _environment()
    expected = _expected_conda()
    got = {k: v for k, v in conda.items() if k not in ENV_ONLY} | pip
    missing = {k: v for k, v in expected.items() if k not in got}
    extra = {k: v for k, v in got.items() if k not in expected}
    different = {k: (got[k], v) for k, v in expected.items() if k in got and got[k] != v}
    assert not (missing or extra or different), (
        f"environment.yml vs pyproject.toml: missing {missing}, not in pyproject {extra}, "
        f"different bounds (environment.yml, pyproject) {different}")
    assert set(pip) == set(PIP_ONLY), f"only {sorted(PIP_ONLY)} may come from pip (see PIP_ONLY for why)"


def test_environment_is_conda_forge_python_311_then_the_checkout():
    conda, _, pip_lines = _environment()
    assert ENVIRONMENT["channels"] == ["conda-forge"]
    assert conda["python"] == "=3.11" and "pip" in conda
    assert SpecifierSet(PYPROJECT["project"]["requires-python"]).contains("3.11")
    assert pip_lines[-1] == "-e ."


def test_every_package_directory_is_listed_in_pyproject():
    setuptools = PYPROJECT["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    package_dir = setuptools.get("package-dir", {})
    plugin_dirs = sorted(p.name for p in (ROOT / "plugins").glob("workbench_*") if p.is_dir())
    unmapped = [d for d in plugin_dirs if package_dir.get(d) != f"plugins/{d}"]
    assert not unmapped, f"built-in plugins without a [tool.setuptools.package-dir] entry: {unmapped}"
    roots = {"workbench": ROOT / "workbench", **{pkg: ROOT / d for pkg, d in package_dir.items()}}
    found = set()
    for pkg, folder in roots.items():
        for init in folder.rglob("__init__.py"):
            found.add(".".join([pkg, *init.parent.relative_to(folder).parts]))
    assert not found - listed, f"packages missing from [tool.setuptools] packages: {sorted(found - listed)}"
    assert not listed - found, f"listed packages without an __init__.py: {sorted(listed - found)}"


def test_every_data_file_is_covered_by_package_data():
    setuptools = PYPROJECT["tool"]["setuptools"]
    package_dir = setuptools.get("package-dir", {})
    folders = {}
    for pkg in setuptools["packages"]:
        top, *rest = pkg.split(".")
        folders[pkg] = ROOT / package_dir.get(top, top) / Path(*rest)
    package_folders = set(folders.values())
    uncovered = []
    for pkg, folder in folders.items():
        covered = {p for pattern in setuptools.get("package-data", {}).get(pkg, []) for p in folder.glob(pattern)}
        for path in folder.rglob("*"):
            rel = path.relative_to(ROOT)
            if not path.is_file() or path.suffix not in DATA_SUFFIXES:
                continue
            if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
                continue
            if any(rel.is_relative_to(skipped) for skipped in NOT_SHIPPED):
                continue
            if next(p for p in path.parents if p in package_folders) != folder:
                continue  # belongs to a sub-package, checked with it
            if path not in covered:
                uncovered.append(str(rel))
    assert not uncovered, f"data files no [tool.setuptools.package-data] pattern ships: {uncovered}"


def test_entry_points_target_listed_packages_and_are_installed():
    declared = PYPROJECT["project"]["entry-points"]["workbench"]
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    for name, target in declared.items():
        module = target.split(":")[0]
        assert module.rsplit(".", 1)[0] in listed, f"entry point {name}: {module} is not in a listed package"
        importlib.import_module(module)
    installed = {ep.name: ep.value for ep in metadata.entry_points(group="workbench")
                 if ep.dist is not None and ep.dist.metadata["Name"] == PYPROJECT["project"]["name"]}
    assert installed == declared, ("the installed entry points differ from pyproject.toml: "
                                   "run `pip install -e .` again")
    assert PYPROJECT["project"]["scripts"]["workbench"] == "workbench.cli:main"
