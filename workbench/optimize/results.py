"""Results of a study as an ``xr.Dataset``: the front, the decision variables, the convergence history.

Layout (``ds = study.optimize(...)``)::

    dims:   solution, objective, variable, constraint, generation, member
    F            (solution, objective)   objectives, maximised ones un-negated
    <objective>  (solution)              one variable per objective, with its units (for hvplot)
    X            (solution, variable)    encoded decision variables (choices as option index)
    G            (solution, constraint)  constraint values (<= 0 feasible)
    CV           (solution)              pymoo's constraint violation (0 = feasible)
    feasible     (solution)
    hypervolume  (generation)            of the feasible front, fixed reference point (attrs)
    n_eval       (generation)            evaluations so far
    ideal, nadir (generation, objective) of the feasible front, un-negated
    front        (generation, member, objective)  the feasible front of every generation (NaN-padded)
    cv_min       (generation)            smallest constraint violation in the population

``attrs`` hold the provenance: study name and file, scenario, decision space, algorithm and its
parameters, seed, population, generations, evaluations, runner, hypervolume reference point and
how it was chosen, versions of workbench, pymoo, numpy, xarray, dask and every plugin.

Hypervolume reference point: the study's ``hv_ref`` (in objective units, un-negated) when given;
otherwise it is fixed after the first generation as ``nadir + 0.1 (nadir - ideal)`` of that
generation's feasible population (all of it if none is feasible), in pymoo's minimised form (a
zero range falls back to ``0.1 max(|nadir|, 1)``). The point never changes during a run, so the
curve is comparable across generations; compare runs only with the same point.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..fileio import atomic_path
from ..plugins import get_plugin_manager

__all__ = ["GenerationRecord", "auto_reference_point", "build_result", "hypervolume", "load_result",
           "record_generation", "save_result"]


@dataclass
class GenerationRecord:
    """What is kept of one generation (in pymoo's minimised form)."""

    n_gen: int
    n_eval: int
    front: np.ndarray          # (k, n_obj) feasible non-dominated F
    hypervolume: float
    cv_min: float
    extra: dict = field(default_factory=dict)


def auto_reference_point(F: np.ndarray, feasible: np.ndarray | None = None) -> np.ndarray:
    """``nadir + 0.1 (nadir - ideal)`` of ``F`` (its feasible rows if any), minimised form."""
    F = np.asarray(F, dtype=float)
    if feasible is not None and np.any(feasible):
        F = F[np.asarray(feasible, dtype=bool)]
    F = F[np.all(np.isfinite(F), axis=1)]
    if len(F) == 0:
        raise ValueError("no finite objective values to derive a hypervolume reference point from")
    ideal, nadir = F.min(axis=0), F.max(axis=0)
    span = nadir - ideal
    pad = np.where(span > 0, 0.1 * span, 0.1 * np.maximum(np.abs(nadir), 1.0))
    return nadir + pad


def hypervolume(F: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume of ``F`` (minimised form) w.r.t. ``ref`` with pymoo's HV (moocore); 0 if empty."""
    from pymoo.indicators.hv import HV

    F = np.asarray(F, dtype=float)
    if F.size == 0:
        return 0.0
    return float(HV(ref_point=np.asarray(ref, dtype=float))(F))


def _feasible_front(algorithm) -> np.ndarray:
    opt = algorithm.opt
    if opt is None or len(opt) == 0:
        return np.empty((0, algorithm.problem.n_obj))
    F, feas = opt.get("F", "FEAS")
    return np.asarray(F, dtype=float)[np.asarray(feas, dtype=bool).ravel()]


def record_generation(algorithm, ref: np.ndarray | None) -> GenerationRecord:
    """Summarise the algorithm's state after a generation (hypervolume NaN while ``ref`` is None)."""
    front = _feasible_front(algorithm)
    cv = algorithm.pop.get("CV") if algorithm.pop is not None and len(algorithm.pop) else np.array([[np.nan]])
    # pymoo increments n_iter at the end of each generation: after generation k it reads k + 1
    return GenerationRecord(n_gen=int(algorithm.n_iter - 1 if algorithm.n_iter is not None else 0),
                            n_eval=int(algorithm.evaluator.n_eval), front=front,
                            hypervolume=hypervolume(front, ref) if ref is not None else float("nan"),
                            cv_min=float(np.nanmin(cv)))


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for dist in ("compute-network-workbench", "pymoo", "numpy", "scipy", "xarray", "dask", "distributed"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _plugin_versions() -> list[str]:

    pm = get_plugin_manager()
    return [f"{r.name} {r.version} ({r.status})".replace("  ", " ") for r in pm.records.values()]


def _str_coord(values) -> np.ndarray:
    return np.asarray([str(v) for v in values], dtype=object)


def build_result(study, algorithm, history: list[GenerationRecord], ref: np.ndarray, ref_method: str,
                 runner: str, space) -> xr.Dataset:
    """Assemble the result dataset of a finished run (see the module docstring)."""
    spec = study.spec
    signs = np.asarray(spec.signs, dtype=float)
    opt = algorithm.opt
    n_obj, n_var, n_con = spec.n_obj, spec.n_var, spec.n_constr
    if opt is None or len(opt) == 0:
        X = np.empty((0, n_var))
        F = np.empty((0, n_obj))
        G = np.empty((0, n_con))
        CV = np.empty(0)
    else:
        X, F, CV = (np.asarray(a, dtype=float) for a in opt.get("X", "F", "CV"))
        G = np.asarray(opt.get("G"), dtype=float) if n_con else np.empty((len(X), 0))
        CV = CV.ravel()
    F_user = F * signs
    order = np.lexsort(tuple(F_user[:, j] for j in reversed(range(n_obj)))) if len(F_user) else np.arange(0)
    X, F_user, G, CV = X[order], F_user[order], G[order], CV[order]

    objs = study.objectives
    cons = study.constraints
    variables = space.variables
    common = {o.units for o in objs}
    ds = xr.Dataset(
        coords={
            "solution": ("solution", np.arange(len(X)), {"long_name": "Pareto solution", "units": "1"}),
            "objective": ("objective", _str_coord(o.name for o in objs), {"long_name": "objective"}),
            "variable": ("variable", _str_coord(v.name for v in variables), {"long_name": "decision variable"}),
            "constraint": ("constraint", _str_coord(c.name for c in cons), {"long_name": "constraint"}),
            "objective_units": ("objective", _str_coord(o.units for o in objs)),
            "objective_sense": ("objective", _str_coord(o.sense for o in objs)),
            "objective_long_name": ("objective", _str_coord(o.long_name or o.name for o in objs)),
            "variable_kind": ("variable", _str_coord(v.kind for v in variables)),
            "variable_units": ("variable", _str_coord(v.units for v in variables)),
            "variable_lower": ("variable", np.array([v.lower for v in variables]), {"units": "1"}),
            "variable_upper": ("variable", np.array([v.upper for v in variables]), {"units": "1"}),
            "constraint_units": ("constraint", _str_coord(c.units for c in cons)),
        })
    ds["F"] = (("solution", "objective"), F_user,
               {"long_name": "objective values (maximised ones un-negated)",
                "units": common.pop() if len(common) == 1 else "mixed (see objective_units)"})
    for j, o in enumerate(objs):
        ds[o.name] = ("solution", F_user[:, j], {"long_name": o.long_name or o.name, "units": o.units,
                                                 "sense": o.sense})
    ds["X"] = (("solution", "variable"), X, {"long_name": "decision variables (encoded; choices as option index)",
                                             "units": "mixed (see variable_units)"})
    ds["G"] = (("solution", "constraint"), G, {"long_name": "constraint values (<= 0 feasible)",
                                               "units": "mixed (see constraint_units)"})
    ds["CV"] = ("solution", CV, {"long_name": "constraint violation", "units": "1"})
    ds["feasible"] = ("solution", CV <= 0, {"long_name": "feasible", "units": "1"})

    n_gen = len(history)
    members = max([len(h.front) for h in history] + [1])
    front = np.full((n_gen, members, n_obj), np.nan)
    ideal = np.full((n_gen, n_obj), np.nan)
    nadir = np.full((n_gen, n_obj), np.nan)
    for g, h in enumerate(history):
        if len(h.front):
            fu = h.front * signs
            front[g, :len(fu)] = fu
            ideal[g] = np.where(signs > 0, fu.min(axis=0), fu.max(axis=0))
            nadir[g] = np.where(signs > 0, fu.max(axis=0), fu.min(axis=0))
    ds = ds.assign_coords(generation=("generation", np.array([h.n_gen for h in history], dtype=np.int64),
                                      {"long_name": "generation", "units": "1"}),
                          member=("member", np.arange(members), {"long_name": "front member", "units": "1"}))
    ds["hypervolume"] = ("generation", np.array([h.hypervolume for h in history], dtype=float),
                         {"long_name": "hypervolume of the feasible front",
                          "units": " x ".join(f"{o.units}" for o in objs)})
    ds["n_eval"] = ("generation", np.array([h.n_eval for h in history], dtype=np.int64),
                    {"long_name": "evaluations so far", "units": "1"})
    ds["n_front"] = ("generation", np.array([len(h.front) for h in history], dtype=np.int64),
                     {"long_name": "feasible front size", "units": "1"})
    ds["cv_min"] = ("generation", np.array([h.cv_min for h in history], dtype=float),
                    {"long_name": "smallest constraint violation in the population", "units": "1"})
    ds["ideal"] = (("generation", "objective"), ideal, {"long_name": "best value on the feasible front",
                                                        "units": "mixed (see objective_units)"})
    ds["nadir"] = (("generation", "objective"), nadir, {"long_name": "worst value on the feasible front",
                                                        "units": "mixed (see objective_units)"})
    ds["front"] = (("generation", "member", "objective"), front,
                   {"long_name": "feasible front per generation (NaN-padded)",
                    "units": "mixed (see objective_units)"})

    if space.describe is not None and len(X):
        extra = space.describe(space.context, X)
        if extra is not None:
            ds = ds.merge(extra, compat="override", join="left")

    versions = _versions()
    ds.attrs = {
        "title": f"workbench study {study.name}",
        "study": study.name,
        "study_description": study.description,
        "study_file": str(study.source or ""),
        "scenario": getattr(study.scenario, "name", "") if study.scenario is not None else "",
        "decision_space": space.name,
        "decision_space_params": json.dumps(study.space_params, sort_keys=True, default=str),
        "objectives": json.dumps([{"name": o.name, "sense": o.sense, "units": o.units, "params": o.params,
                                   "provided_by": o.provided_by} for o in objs], default=str),
        "constraints": json.dumps([{"name": c.name, "units": c.units, "params": c.params,
                                    "provided_by": c.provided_by} for c in cons], default=str),
        "algorithm": study.algorithm,
        "algorithm_class": f"{type(algorithm).__module__}.{type(algorithm).__name__}",
        "algorithm_params": json.dumps(study.algorithm_params, sort_keys=True, default=str),
        "seed": int(study.seed),
        "pop_size": int(study.pop_size),
        "n_gen": int(n_gen),
        "n_eval": int(history[-1].n_eval) if history else 0,
        "runner": runner,
        "hv_ref_point": json.dumps((np.asarray(ref) * signs).tolist()),
        "hv_ref_method": ref_method,
        "fingerprint": study.fingerprint(),
        "workbench_version": versions["compute-network-workbench"],
        "pymoo_version": versions["pymoo"],
        "numpy_version": versions["numpy"],
        "scipy_version": versions["scipy"],
        "xarray_version": versions["xarray"],
        "dask_version": versions["dask"],
        "distributed_version": versions["distributed"],
        "plugins": json.dumps(study.plugin_versions if study.plugin_versions is not None else _plugin_versions()),
    }
    return ds


def save_result(ds: xr.Dataset, path: str | Path) -> Path:
    """Write a result atomically: NetCDF-4 (``.nc``) or Zarr (``.zarr``)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix == ".zarr":
            ds.to_zarr(tmp, mode="w", consolidated=False)
        else:
            ds.to_netcdf(tmp, engine="h5netcdf")
    return path


def load_result(path: str | Path) -> xr.Dataset:
    """Read a result written by :func:`save_result` (fully loaded, file closed)."""
    path = Path(path)
    if path.suffix == ".zarr":
        ds = xr.open_zarr(path, consolidated=False).load()
    else:
        with xr.open_dataset(path, engine="h5netcdf") as f:
            ds = f.load()
    for name in list(ds.variables):
        if ds[name].dtype.kind in "OSU":
            ds[name] = ds[name].astype(object)
    return ds


def result_summary(ds: xr.Dataset) -> dict[str, Any]:
    """Headline figures of a result: solutions, feasible, final hypervolume, evaluations."""
    return {"solutions": int(ds.sizes.get("solution", 0)), "feasible": int(ds["feasible"].sum()),
            "hypervolume": float(ds["hypervolume"][-1]) if ds.sizes.get("generation") else float("nan"),
            "n_gen": int(ds.attrs.get("n_gen", 0)), "n_eval": int(ds.attrs.get("n_eval", 0))}
