"""Named datasets (scenarios and catalogues) and :func:`load_scenario`.

Shipped data lives in the repository's top-level ``datasets/`` folder, installed as the package
``workbench_datasets``; nothing is downloaded at run time.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import pandas as pd
import xarray as xr

from .errors import Problem, ScenarioError, UnknownNameError
from .model import Scenario, build_table
from .plugins import collect
from .schema import did_you_mean


def dataset_path(relative: str) -> Path:
    """Path of a shipped data file, e.g. ``dataset_path("catalogues/chips.csv")``."""
    return Path(str(resources.files("workbench_datasets").joinpath(relative)))


def load_catalogue(relative: str, kind: str) -> xr.Dataset:
    """Load a shipped CSV catalogue as a validated table of ``kind`` (units converted)."""
    from .io.scenario_file import read_csv_table

    path = dataset_path(relative)
    problems: list[Problem] = []
    frame, units, origin = read_csv_table(path, problems, kind)
    if problems:
        raise ScenarioError(problems, str(path))
    return build_table(kind, frame, units=units, origin=origin)


def list_datasets() -> pd.DataFrame:
    """Registered datasets: name, kind, description, provided_by."""
    return pd.DataFrame([{"name": s.name, "kind": s.kind, "description": s.description, "provided_by": s.provided_by}
                         for s in collect("datasets").values()],
                        columns=["name", "kind", "description", "provided_by"])


def load_dataset(name: str):
    """Load a registered dataset (scenario or catalogue) by name."""
    specs = collect("datasets")
    if name not in specs:
        raise UnknownNameError(f"unknown dataset {name!r}{did_you_mean(name, specs)}; available: "
                               f"{', '.join(specs) or 'none'}")
    return specs[name].load()


_NETCDF = (".nc", ".nc4", ".h5", ".hdf5", ".netcdf")
_TABLES = (".csv", ".tsv", ".txt", ".xlsx", ".xls")


def load_scenario(source: str | os.PathLike = "china-edwc", *,
                  allow_paths: Iterable[str | os.PathLike] = ()) -> Scenario:
    """Load a scenario: a registered dataset name, a YAML file, a NetCDF (``.nc``) or Zarr store,
    or a GraphML/GML topology. Every format passes the same validation.

    Parameters
    ----------
    source : str or path-like
    allow_paths : iterable of path-like
        Folders outside a YAML scenario's folder tree its CSV references may read from.

    Raises
    ------
    ScenarioError
        Every problem of the input, each naming file, line or field, what was found and expected.
    UnknownNameError
        Neither a registered dataset nor an existing file (with a did-you-mean).

    Examples
    --------
    >>> sc = load_scenario("china-edwc")          # doctest: +SKIP
    >>> sc = load_scenario("my-network.yaml")     # doctest: +SKIP
    """
    specs = collect("datasets")
    if isinstance(source, str) and source in specs:
        spec = specs[source]
        if spec.kind != "scenario":
            scenarios = [k for k, v in specs.items() if v.kind == "scenario"]
            raise ScenarioError([Problem(f"dataset {source!r} is a {spec.kind}, not a scenario", source,
                                         expected=f"a scenario: {', '.join(scenarios)}, or a scenario file",
                                         root=True)], source)
        obj = spec.load()
        if not isinstance(obj, Scenario):
            raise ScenarioError([Problem(f"dataset {source!r} ({spec.provided_by}) did not load as a Scenario "
                                         f"but as {type(obj).__name__}", source, root=True)], source)
        return obj
    path = Path(source)
    if not path.exists():
        scenarios = [k for k, v in specs.items() if v.kind == "scenario"]
        raise UnknownNameError(f"{source}: neither a registered scenario ({', '.join(scenarios)}) nor an existing "
                               f"file{did_you_mean(str(source), scenarios)}")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        from .io.scenario_file import load_scenario_file

        return load_scenario_file(path, allow_paths=allow_paths)
    if suffix in _NETCDF:
        return Scenario.from_netcdf(path)
    if suffix == ".zarr" or (path.is_dir() and ((path / "zarr.json").exists() or (path / ".zgroup").exists())):
        return Scenario.from_zarr(path)
    if suffix in _TABLES:
        from .io.scenario_file import plain_csv_problem

        raise ScenarioError([plain_csv_problem(str(path))], str(path))
    if path.is_dir():
        raise ScenarioError([Problem("a folder, not a scenario", str(path), root=True,
                                     expected="a scenario file (.yaml), a .nc file or a .zarr store")], str(path))
    head = path.open("rb").read(512)
    if head.startswith(b"\x89HDF"):
        return Scenario.from_netcdf(path)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"workbench:", b"#", b"name:", b"tables:")):
        from .io.scenario_file import load_scenario_file

        return load_scenario_file(path, allow_paths=allow_paths)
    from .io.topology_scenario import scenario_from_topology

    return scenario_from_topology(path)
