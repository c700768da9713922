"""Parameter sweeps: a grid or a Latin hypercube over scenario parameters, one Dask task per sample.

Each sample applies its parameter values to the scenario, runs the sweep's analyses (and, if
given, a small study) and returns an ``xr.Dataset``; the results are concatenated along
``sample`` into a Zarr store. Every finished sample is also written at once to
``<out>.parts/`` (atomically), so a rerun of the same sweep skips the samples already done,
whatever stopped the earlier run.

Sweep file (also accepted as a dict by :func:`sweep`)::

    sweep: 1                               # format version (required)
    name: route-factor
    scenario: china-edwc                   # registered scenario or a path relative to the file
    method: grid                           # grid (every combination) or lhs (Latin hypercube)
    samples: 16                            # lhs only: number of samples
    seed: 0                                # lhs only
    parameters:
      route_factor: [1.3, 1.5, 2.1]        # grid values (a list, or {values: [...]})
      site.power_price: {values: [0.8, 1.0, 1.25], mode: scale}   # table column: set or scale
      # lhs: {range: [low, high]} per parameter (mode: set or scale)
      # space.<param>: a parameter of the study's decision space (needs `study`)
    analyses:
      - {name: coverage, params: {budget_ms: [1, 5, 20]}}
    study:                                 # optional: a small study per sample
      file: edwc-placement.yaml            # relative to this file
      pop_size: 20
      n_gen: 10
    out: results/route-factor.zarr         # optional, relative to the working directory (--out wins)

Parameter targets: ``route_factor`` / ``metro_route_factor`` (scenario parameters), a table column
``<kind>.<attribute>`` (``mode: set`` replaces every row's value, ``mode: scale`` multiplies it),
and ``space.<param>`` (the study's decision-space parameter). Latin hypercube samples come from
:class:`scipy.stats.qmc.LatinHypercube` with the given seed (McKay, Beckman and Conover,
Technometrics 21(2), 1979), so a sweep is reproducible.

Nothing sent to a worker holds the plugin manager or the client: analyses and study functions
are resolved on the client and shipped as module-level functions, the scenario is scattered once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .errors import StudyError, WorkbenchError
from .fileio import atomic_path
from .model import Scenario
from .plugins import collect

__all__ = ["SWEEP_METHODS", "ParameterSpec", "SweepSpec", "load_sweep", "parse_sweep", "run_sample", "sweep",
           "sweep_samples"]

SWEEP_METHODS = ("grid", "lhs")
TOP_KEYS = {"sweep", "name", "description", "scenario", "method", "samples", "seed", "parameters", "analyses",
            "study", "out", "notes"}
SCENARIO_PARAMETERS = ("route_factor", "metro_route_factor")
STUDY_KEYS = {"file", "pop_size", "n_gen", "seed"}


@dataclass(frozen=True)
class ParameterSpec:
    """One swept parameter: ``target`` with ``values`` (grid) or ``low``/``high`` (lhs)."""

    target: str
    values: tuple = ()
    low: float | None = None
    high: float | None = None
    mode: str = "set"


@dataclass
class SweepSpec:
    """A parsed sweep (see the module docstring)."""

    name: str
    scenario: Any
    method: str
    parameters: list[ParameterSpec]
    analyses: list[tuple[str, Callable, dict]]
    samples: int = 0
    seed: int = 0
    study: Any = None                 # a workbench.optimize.Study (already validated) or None
    out: str | None = None
    source: str = ""
    description: str = ""
    config: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- parsing


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def parse_sweep(data: Mapping, *, source: str = "", base: Path | None = None, lines=None) -> SweepSpec:
    """Validate a sweep definition (a dict as read from YAML); every problem in one StudyError."""
    from .optimize.yamlfile import FileProblems

    problems = FileProblems(source or "<sweep>", lines, what="sweep file")
    if not isinstance(data, Mapping):
        problems.add((), "expected a mapping with 'sweep: 1', 'scenario', 'parameters', 'analyses'")
        problems.raise_if_any()
    for key in data:
        if key not in TOP_KEYS:
            problems.add((key,), f"unknown key; expected some of {', '.join(sorted(TOP_KEYS))}")
    if data.get("sweep") != 1:
        problems.add(("sweep",), "expected 'sweep: 1' (format version)", data.get("sweep", ""))
    method = data.get("method", "grid")
    if method not in SWEEP_METHODS:
        problems.add(("method",), f"expected one of {', '.join(SWEEP_METHODS)}", method)
    samples = data.get("samples", 0)
    seed = data.get("seed", 0)
    if method == "lhs" and (isinstance(samples, bool) or not isinstance(samples, int) or samples < 1):
        problems.add(("samples",), "a Latin hypercube needs 'samples', an integer >= 1", samples)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        problems.add(("seed",), "expected an integer >= 0", seed)

    # scenario
    from .datasets import load_scenario

    scenario = data.get("scenario")
    if isinstance(scenario, Scenario):
        pass
    elif isinstance(scenario, str) and scenario in collect("datasets"):
        scenario = load_scenario(scenario)
    elif isinstance(scenario, (str, os.PathLike)):
        path = Path(scenario)
        if base is not None and not path.is_absolute():
            path = base / path
        if path.exists():
            scenario = load_scenario(path)
        else:
            problems.add(("scenario",), "neither a registered scenario nor an existing file", scenario)
            scenario = None
    else:
        problems.add(("scenario",), "expected a scenario name or file path", scenario)
        scenario = None

    # study
    study = None
    sdef = data.get("study")
    if sdef is not None:
        if not isinstance(sdef, Mapping) or "file" not in sdef or set(sdef) - STUDY_KEYS:
            problems.add(("study",), f"expected a mapping with 'file' and optionally {sorted(STUDY_KEYS - {'file'})}")
        else:
            from .optimize.study import Study

            spath = Path(sdef["file"])
            if base is not None and not spath.is_absolute():
                spath = base / spath
            overrides = {k: sdef[k] for k in ("pop_size", "n_gen", "seed") if k in sdef}
            if scenario is not None:
                overrides["scenario"] = scenario
            try:
                study = Study.from_yaml(spath, **overrides)
            except StudyError as err:
                problems.add(("study", "file"), f"the study does not load: {str(err).splitlines()[0]}", sdef["file"])

    # parameters
    params: list[ParameterSpec] = []
    pdef = data.get("parameters")
    if not isinstance(pdef, Mapping) or not pdef:
        problems.add(("parameters",), "expected a non-empty mapping of parameter -> values or range")
        pdef = {}
    for name, spec in pdef.items():
        path = ("parameters", name)
        target = str(name)
        if isinstance(spec, list):
            spec = {"values": spec}
        if not isinstance(spec, Mapping) or set(spec) - {"values", "range", "mode"}:
            problems.add(path, "expected a list of values or a mapping {values: [...]} / {range: [low, high]}, "
                               "optionally with mode: set|scale")
            continue
        mode = spec.get("mode", "set")
        if mode not in ("set", "scale"):
            problems.add((*path, "mode"), "expected 'set' or 'scale'", mode)
            continue
        if target in SCENARIO_PARAMETERS or (scenario is not None and target in scenario.parameters):
            pass  # a scenario parameter of the core or of a plugin
        elif target.startswith("space."):
            if sdef is None:
                problems.add(path, "a space.<param> parameter needs a 'study'")
                continue
        elif "." in target:
            kind, attr = target.split(".", 1)
            if scenario is not None and (kind not in scenario.kinds or attr not in scenario[kind].data_vars):
                problems.add(path, f"the scenario has no column {attr!r} in table {kind!r}")
                continue
            if scenario is not None and scenario[kind][attr].dtype.kind not in "fiu" and mode == "scale":
                problems.add((*path, "mode"), f"{target} is not numeric: it cannot be scaled")
                continue
        else:
            problems.add(path, f"unknown target; expected {' or '.join(SCENARIO_PARAMETERS)}, <kind>.<attribute> "
                               "or space.<param>")
            continue
        if "values" in spec:
            values = spec["values"]
            if not isinstance(values, list) or not values:
                problems.add((*path, "values"), "expected a non-empty list")
                continue
            if method == "lhs":
                problems.add((*path, "values"), "a Latin hypercube needs {range: [low, high]}, not values")
                continue
            if mode == "scale" and any(_number(v) is None for v in values):
                problems.add((*path, "values"), "scale factors must be finite numbers", values)
                continue
            params.append(ParameterSpec(target, values=tuple(values), mode=mode))
        elif "range" in spec:
            rng = spec["range"]
            lo, hi = (_number(rng[0]), _number(rng[1])) if isinstance(rng, list) and len(rng) == 2 else (None, None)
            if lo is None or hi is None or lo > hi:
                problems.add((*path, "range"), "expected [low, high] with finite numbers, low <= high", rng)
                continue
            if method == "grid":
                problems.add((*path, "range"), "a grid needs a list of values, not a range")
                continue
            params.append(ParameterSpec(target, low=lo, high=hi, mode=mode))
        else:
            problems.add(path, "expected 'values' or 'range'")

    # analyses
    analyses: list[tuple[str, Callable, dict]] = []
    adef = data.get("analyses") or []
    if not isinstance(adef, list):
        problems.add(("analyses",), "expected a list of analysis names or {name, params}")
        adef = []
    registry = collect("analyses")
    for i, item in enumerate(adef):
        name, aparams = (item, {}) if isinstance(item, str) else (
            (item.get("name"), item.get("params") or {}) if isinstance(item, Mapping) else (None, None))
        if name not in registry:
            problems.add(("analyses", i), f"unknown analysis; available: {', '.join(registry) or 'none'}", name)
            continue
        if not isinstance(aparams, Mapping):
            problems.add(("analyses", i, "params"), "expected a mapping")
            continue
        analyses.append((str(name), registry[name].func, dict(aparams)))
    if not analyses and sdef is None:
        problems.add(("analyses",), "a sweep needs at least one analysis or a study")
    problems.raise_if_any()
    config = {"scenario": getattr(scenario, "name", ""), "scenario_token": _scenario_token(scenario),
              "study_n_gen": getattr(study, "n_gen", None), "method": method, "samples": samples, "seed": seed,
              "parameters": [p.__dict__ for p in params], "analyses": [(a[0], a[2]) for a in analyses],
              "study": study.config() if study is not None else None}
    return SweepSpec(name=str(data.get("name") or Path(source).stem or "sweep"), scenario=scenario, method=method,
                     parameters=params, analyses=analyses, samples=int(samples or 0), seed=int(seed), study=study,
                     out=data.get("out"), source=source, description=str(data.get("description") or ""),
                     config=config)


def load_sweep(path: str | os.PathLike) -> SweepSpec:
    """Read and validate a sweep file (errors name file, line and field)."""
    from .optimize.yamlfile import read_yaml

    path = Path(path)
    data, lines = read_yaml(path, what="sweep file")
    return parse_sweep(data, source=str(path), base=path.parent, lines=lines)


# --------------------------------------------------------------------------- samples


def sweep_samples(spec: SweepSpec) -> pd.DataFrame:
    """The samples as a DataFrame (index ``sample``, one column per parameter target)."""
    names = [p.target for p in spec.parameters]
    if spec.method == "grid":
        rows = list(product(*[p.values for p in spec.parameters]))
    else:
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(spec.parameters), seed=spec.seed).random(spec.samples)
        lo = np.array([p.low for p in spec.parameters])
        hi = np.array([p.high for p in spec.parameters])
        rows = [tuple(r) for r in lo + unit * (hi - lo)]
    frame = pd.DataFrame(rows, columns=names)
    frame.index.name = "sample"
    return frame


def _scenario_token(scenario) -> str:
    """Content hash of a scenario, so a cached sample is reused only for the same data."""
    if scenario is None or not hasattr(scenario, "to_datatree"):
        return ""
    from dask.base import tokenize

    return tokenize({k: scenario[k] for k in scenario.kinds}, dict(scenario.parameters))


def _sample_key(spec: SweepSpec, values: Mapping) -> str:
    text = json.dumps({"config": spec.config, "values": dict(values)}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _apply(scenario, parameters: list[ParameterSpec], values: Mapping):
    sc = scenario
    space_params: dict[str, Any] = {}
    scen_params: dict[str, float] = {}
    for p in parameters:
        v = values[p.target]
        if p.target in sc.parameters:
            base = float(sc.parameters[p.target])
            scen_params[p.target] = base * float(v) if p.mode == "scale" else float(v)
        elif p.target.startswith("space."):
            space_params[p.target[6:]] = v
        else:
            kind, attr = p.target.split(".", 1)
            table = sc[kind].copy()
            col = table[attr]
            new = col * float(v) if p.mode == "scale" else xr.full_like(col, v, dtype=col.dtype)
            new.attrs = col.attrs
            table[attr] = new
            sc = sc.with_table(kind, table)
    if scen_params:
        sc = sc.with_parameters(**scen_params)
    return sc, space_params


def run_sample(scenario, parameters: list[ParameterSpec], values: dict, analyses: list[tuple[str, Callable, dict]],
               study_parts: dict | None) -> xr.Dataset:
    """Evaluate one sample (runs on a worker): analyses and optionally a small serial study.

    Analysis variables are prefixed ``<analysis>_``; study results are ``study_<objective>``
    ``(solution)``, ``study_feasible``, ``study_hypervolume`` (last generation) and ``study_n_front``.
    """
    sc, space_params = _apply(scenario, parameters, values)
    out = xr.Dataset()
    for name, func, params in analyses:
        res = func(sc, **params)
        res = res.rename({v: f"{name}_{v}" for v in res.data_vars})
        res.attrs = {}
        out = xr.merge([out, res], compat="override", join="outer", combine_attrs="drop")
    if study_parts is not None:
        from .optimize.study import Study

        st = Study(space=study_parts["space_spec"], objectives=study_parts["objectives"],
                   constraints=study_parts["constraints"], scenario=sc,
                   space_params={**study_parts["space_params"], **space_params},
                   algorithm=study_parts["algorithm"], pop_size=study_parts["pop_size"], n_gen=study_parts["n_gen"],
                   seed=study_parts["seed"], algorithm_params=study_parts["algorithm_params"],
                   hv_ref=study_parts["hv_ref"], name=study_parts["name"])
        st.plugin_versions = study_parts["plugin_versions"]
        res = st.optimize(client="serial")
        front = xr.Dataset(coords={"solution": res["solution"].values})
        for o in st.objectives:
            front[f"study_{o.name}"] = ("solution", res[o.name].values, res[o.name].attrs)
        front["study_feasible"] = ("solution", res["feasible"].values, {"units": "1", "long_name": "feasible"})
        front["study_hypervolume"] = ((), float(res["hypervolume"].values[-1]),
                                      {"units": res["hypervolume"].attrs.get("units", ""),
                                       "long_name": "final hypervolume (fixed reference point of the sample's run)"})
        front["study_n_front"] = ((), int(res.sizes["solution"]), {"units": "1", "long_name": "front size"})
        out = xr.merge([out, front], compat="override", join="outer", combine_attrs="drop")
    return out


# --------------------------------------------------------------------------- running


def _study_parts(study) -> dict | None:
    if study is None:
        return None
    if study.space_spec is None:
        raise WorkbenchError("a sweep study needs a registered decision space (not an already built Space)")
    from .optimize.results import _plugin_versions

    return {"space_spec": study.space_spec, "objectives": list(study.objectives),
            "constraints": list(study.constraints), "space_params": dict(study.space_params),
            "algorithm": study.algorithm, "pop_size": study.pop_size, "n_gen": study.n_gen, "seed": study.seed,
            "algorithm_params": dict(study.algorithm_params),
            "hv_ref": None if study.hv_ref is None else [float(v) for v in study.hv_ref],
            "name": study.name, "plugin_versions": _plugin_versions()}


def _write_part(path: Path, ds: xr.Dataset) -> None:
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf")


def _read_part(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as f:
        ds = f.load()
    for name in list(ds.variables):
        if ds[name].dtype.kind in "OSU":
            ds[name] = ds[name].astype(object)
    return ds


def sweep(spec: SweepSpec | Mapping | str | os.PathLike, client: Any = None, *, out: str | os.PathLike | None = None,
          n_workers: int | None = None, progress: bool = True) -> xr.Dataset:
    """Run a sweep and return the results concatenated along ``sample``.

    Parameters
    ----------
    spec : SweepSpec, mapping or path
        A parsed sweep, a dict in the sweep-file format, or a sweep file.
    client : None, "serial", False, str or distributed.Client
        As in :func:`workbench.distributed.get_client`; ``"serial"`` runs the samples here.
    out : path, optional
        Zarr store for the results (default: the sweep's ``out``; none: results only returned).
        Finished samples go to ``<out>.parts/`` and are skipped on rerun.
    n_workers : int, optional
        Workers of a new LocalCluster.
    progress : bool
        Show a tqdm progress bar (terminal or notebook).
    """
    from .distributed import get_client, release_client

    if not isinstance(spec, SweepSpec):
        spec = load_sweep(spec) if isinstance(spec, (str, os.PathLike)) else parse_sweep(spec)
    out = out if out is not None else spec.out
    out = Path(out) if out is not None else None
    parts_dir = Path(str(out) + ".parts") if out is not None else None
    samples = sweep_samples(spec)
    keys = [_sample_key(spec, row) for row in samples.to_dict("records")]
    parts: dict[int, xr.Dataset] = {}
    todo: list[int] = []
    for i, key in enumerate(keys):
        part = parts_dir / f"sample-{i:05d}-{key}.nc" if parts_dir is not None else None
        if part is not None and part.exists():
            parts[i] = _read_part(part)
        else:
            todo.append(i)
    study_parts = _study_parts(spec.study)
    bar = None
    if progress:
        from .optimize.progress import progress_bar

        bar = progress_bar(total=len(keys), initial=len(keys) - len(todo), desc=f"sweep {spec.name}", unit="sample")

    def finished(i: int, ds: xr.Dataset) -> None:
        parts[i] = ds
        if parts_dir is not None:
            _write_part(parts_dir / f"sample-{i:05d}-{keys[i]}.nc", ds)
        if bar is not None:
            bar.update(1)

    records = samples.to_dict("records")
    try:
        if todo and (client is False or client == "serial"):
            for i in todo:
                finished(i, run_sample(spec.scenario, spec.parameters, records[i], spec.analyses, study_parts))
        elif todo:
            from distributed import as_completed

            dask, owned = get_client(client, n_workers=n_workers)
            try:
                scen = dask.scatter(spec.scenario, broadcast=True, hash=False)
                futures = {dask.submit(run_sample, scen, spec.parameters, records[i], spec.analyses, study_parts,
                                       pure=False, retries=1): i for i in todo}
                for fut in as_completed(futures, loop=dask.loop):
                    finished(futures[fut], fut.result())
            finally:
                release_client(dask, owned)
    finally:
        if bar is not None:
            bar.close()

    ordered = [parts[i] for i in range(len(keys))]
    result = xr.concat(ordered, dim="sample", join="outer", combine_attrs="drop", coords="different",
                       compat="equals", data_vars="all")
    result = result.assign_coords(sample=("sample", np.arange(len(keys)), {"long_name": "sample", "units": "1"}))
    for col in samples.columns:
        result = result.assign_coords({col: ("sample", samples[col].to_numpy(), {"long_name": f"swept {col}"})})
    result.attrs = {"sweep": spec.name, "description": spec.description, "sweep_file": spec.source,
                    "method": spec.method, "seed": spec.seed, "samples": len(keys),
                    "scenario": getattr(spec.scenario, "name", ""),
                    "analyses": json.dumps([(a[0], a[2]) for a in spec.analyses], default=str),
                    "study": spec.study.name if spec.study is not None else "",
                    "parameters": json.dumps([p.__dict__ for p in spec.parameters], default=str)}
    if out is not None:
        with atomic_path(out) as tmp:
            result.to_zarr(tmp, mode="w", consolidated=False)
    return result


def clear_parts(out: str | os.PathLike) -> None:
    """Delete the per-sample cache ``<out>.parts/`` of a sweep (forces a full rerun)."""
    shutil.rmtree(Path(str(out) + ".parts"), ignore_errors=True)
