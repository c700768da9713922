"""Named datasets (scenarios and catalogues) and :func:`load_scenario`.

Shipped data lives in the repository's top-level ``datasets/`` folder, installed as the package
``workbench_datasets``; nothing is downloaded at run time.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pandas as pd
import xarray as xr

from .errors import Problem, ScenarioError
from .model import Scenario, build_table


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
    from .plugins import collect

    return pd.DataFrame([{"name": s.name, "kind": s.kind, "description": s.description, "provided_by": s.provided_by}
                         for s in collect("datasets").values()],
                        columns=["name", "kind", "description", "provided_by"])


def load_dataset(name: str):
    """Load a registered dataset (scenario or catalogue) by name."""
    from .plugins import collect

    specs = collect("datasets")
    if name not in specs:
        raise KeyError(f"unknown dataset {name!r}; available: {', '.join(specs) or 'none'}")
    return specs[name].load()


def load_scenario(source: str | os.PathLike = "china-edwc") -> Scenario:
    """Load a scenario: a registered dataset name, a YAML file, a NetCDF (``.nc``) or Zarr store,
    or a GraphML/GML topology.

    Examples
    --------
    >>> sc = load_scenario("china-edwc")          # doctest: +SKIP
    >>> sc = load_scenario("my-network.yaml")     # doctest: +SKIP
    """
    from .plugins import collect

    specs = collect("datasets")
    if isinstance(source, str) and source in specs:
        obj = specs[source].load()
        if not isinstance(obj, Scenario):
            raise TypeError(f"dataset {source!r} is a {specs[source].kind}, not a scenario")
        return obj
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"{source}: neither a registered scenario ({', '.join(specs)}) nor an existing file")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        from .io.scenario_file import load_scenario_file

        return load_scenario_file(path)
    if suffix in (".nc", ".nc4", ".h5"):
        return Scenario.from_netcdf(path)
    if suffix == ".zarr":
        return Scenario.from_zarr(path)
    from .io.topology_scenario import scenario_from_topology

    return scenario_from_topology(path)
