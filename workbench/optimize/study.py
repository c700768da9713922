"""``Study``: a scenario, a decision space, objectives, constraints and an algorithm, run with pymoo.

Build one in a notebook::

    import workbench as wb
    study = wb.Study(space="placement", scenario="china-edwc",
                     objectives=["annual_cost", "mean_latency", "annual_co2"],
                     constraints=["demand_served", "site_power", "pue_target"],
                     algorithm="nsga2", pop_size=100, n_gen=200, seed=1)
    res = study.optimize(client=None)          # a LocalCluster sized to the machine

or load it from a study file (``Study.from_yaml("studies/edwc-placement.yaml")``), see
:data:`STUDY_FILE_FORMAT`. Objectives and constraints are registered names (plugins, through
``workbench_objectives`` / ``workbench_constraints``), :class:`~workbench.plugin_types.Objective`
specs, or plain functions ``f(context, decoded)``.

Execution (``client=``): ``"serial"`` (or ``False``) evaluates in this process; anything else is
resolved by :func:`workbench.distributed.get_client` (``None``: ``$WORKBENCH_SCHEDULER`` /
``$DASK_SCHEDULER_ADDRESS`` or a new LocalCluster) and evaluated by the
:class:`~workbench.optimize.runner.ChunkedDaskRunner`. Evaluation is a deterministic function of
the candidates and the algorithm's random state lives on the client, so a fixed seed gives the same
front serially, on a LocalCluster and on any scheduler.

Checkpoints: with ``checkpoint=PATH`` (default ``<out>.checkpoint.pkl`` when ``out`` is given) the
pymoo algorithm object, including its random generator, is pickled after every generation (to a
temporary file, then renamed). ``resume=True`` continues from it and ends exactly where an
uninterrupted run would. **A checkpoint is a pickle: load only checkpoints you wrote yourself**
(they are trusted local files, never input to share). A checkpoint made for a different study
(other space, parameters, objectives, algorithm, seed, population or scenario data) is refused.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import StudyError, WorkbenchError
from ..fileio import atomic_path
from ..model import Scenario
from ..plugin_types import Constraint, DecisionSpace, Objective
from ..plugins import get_plugin_manager
from .problem import EvalSpec, StudyProblem
from .results import GenerationRecord, auto_reference_point, build_result, record_generation, save_result
from .space import Space, Variable
from .yamlfile import FileProblems, import_reference, read_yaml

__all__ = ["STUDY_FILE_FORMAT", "ParameterError", "Study", "StudyFunction", "load_checkpoint"]

#: Reference of the study-file format (also in the studies/ README and in the tests).
STUDY_FILE_FORMAT = """\
study: 1                         # format version (required)
name: edwc-placement
description: free text
scenario: china-edwc             # registered scenario, or a path relative to this file (optional)
decision_space:
  name: placement                # registered decision space ...
  params: {block: 1000}          # ... and its parameters
  # or inline variables for user functions:
  # variables:
  #   - {name: x1, kind: real, lower: 0, upper: 1, units: "1"}
  #   - {name: n, kind: int, lower: 0, upper: 10}
  #   - {name: open, kind: bool}
  #   - {name: tech, kind: choice, options: [fibre, 5g-a]}
objectives:                      # registered names, or mappings
  - annual_cost
  - {name: mean_latency, params: {}}
  - {name: my_cost, func: "my_package.costs:annual_cost", sense: min, units: CNY, vectorized: true}
constraints:
  - {name: demand_served, params: {min_share: 0.99}}
algorithm:
  name: nsga2                    # nsga2, nsga3, ... or pymoo.algorithms.<module>.<Class>
  pop_size: 100
  n_gen: 200
  seed: 1
  params: {}                     # further keyword arguments of the pymoo class
hypervolume:
  ref_point: {annual_cost: 1.0e5, mean_latency: 30, annual_co2: 5.0e4}   # optional, objective units
"""

TOP_KEYS = {"study", "name", "description", "scenario", "decision_space", "objectives", "constraints", "algorithm",
            "hypervolume", "notes"}
ALGORITHM_KEYS = {"name", "pop_size", "n_gen", "seed", "params"}
FUNCTION_KEYS = {"name", "params", "func", "sense", "units", "long_name", "vectorized"}
VARIABLE_KEYS = {"name", "kind", "lower", "upper", "options", "units", "long_name"}
RESERVED_NAMES = {"F", "X", "G", "CV", "feasible", "hypervolume", "n_eval", "n_front", "cv_min", "ideal", "nadir",
                  "front", "solution", "objective", "variable", "constraint", "generation", "member"}

CHECKPOINT_FORMAT = 1


class ParameterError(StudyError):
    """A decision-space parameter is wrong; ``param`` names it (study files point at its line)."""

    def __init__(self, param: str, message: str) -> None:
        self.param = param
        super().__init__(f"parameter {param!r}: {message}")


class _FieldError(Exception):
    def __init__(self, path: Sequence, message: str, value: Any = "") -> None:
        self.path = tuple(path)
        self.message = message
        self.value = value
        super().__init__(message)


@dataclass(frozen=True)
class StudyFunction:
    """An objective or constraint as used by a study: the spec, its parameters, the bound callable."""

    name: str
    func: Callable
    params: dict = field(default_factory=dict)
    sense: str = "min"
    units: str = "1"
    long_name: str = ""
    vectorized: bool = True
    spaces: tuple[str, ...] = ()
    provided_by: str = ""
    origin: str = ""

    @property
    def bound(self) -> Callable:
        return functools.partial(self.func, **self.params) if self.params else self.func


# --------------------------------------------------------------------------- plugin access


def _collect(kind: str) -> dict[str, Any]:
    """Registered specs of ``kind``, making sure the optimiser's own built-ins are registered."""

    pm = get_plugin_manager()
    name = "workbench.optimize.builtin_plugin"
    if name not in pm.records:
        from . import builtin_plugin

        pm.register_plugin(builtin_plugin, name, version=_workbench_version(), source="builtin",
                           distribution="compute-network-workbench")
    return pm.collect(kind)


def _workbench_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("compute-network-workbench")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _func_id(func: Callable) -> str:
    f = func.func if isinstance(func, functools.partial) else func
    return f"{getattr(f, '__module__', '?')}:{getattr(f, '__qualname__', repr(f))}"


# --------------------------------------------------------------------------- resolution


def _resolve_scenario(value, base: Path | None):
    from ..datasets import load_scenario

    if value is None or isinstance(value, Scenario):
        return value
    if not isinstance(value, (str, os.PathLike)):
        raise _FieldError(("scenario",), f"expected a scenario name or file path, got {type(value).__name__}")
    specs = _collect("datasets")
    if isinstance(value, str) and value in specs:
        if specs[value].kind != "scenario":
            raise _FieldError(("scenario",), f"dataset {value!r} is a {specs[value].kind}, not a scenario", value)
        return load_scenario(value)
    path = Path(value)
    if base is not None and not path.is_absolute():
        path = base / path
    if not path.exists():
        raise _FieldError(("scenario",), f"neither a registered scenario ({', '.join(specs) or 'none'}) nor an "
                                         f"existing file", value)
    try:
        return load_scenario(path)
    except (WorkbenchError, OSError, ValueError, TypeError) as err:
        raise _FieldError(("scenario",), f"the scenario does not load: {str(err).splitlines()[0]}", value) from None


def _inline_variables(items, path) -> tuple[Variable, ...]:
    if not isinstance(items, list) or not items:
        raise _FieldError(path, "expected a non-empty list of variables")
    out = []
    errors = []
    for i, item in enumerate(items):
        p = (*path, i)
        if not isinstance(item, Mapping):
            errors.append(_FieldError(p, "expected a mapping {name, kind, lower, upper, ...}", item))
            continue
        unknown = set(item) - VARIABLE_KEYS
        if unknown:
            errors.append(_FieldError((*p, sorted(unknown)[0]), f"unknown key; expected {sorted(VARIABLE_KEYS)}"))
            continue
        try:
            kwargs = {k: item[k] for k in ("lower", "upper", "units", "long_name") if k in item}
            if "options" in item:
                kwargs["options"] = tuple(item["options"] or ())
            out.append(Variable(str(item.get("name", "")), str(item.get("kind", "real")), **kwargs))
        except StudyError as err:
            msg = str(err)
            key = ("upper" if "upper" in msg or "above" in msg else "lower" if "lower" in msg else
                   "options" if "option" in msg else "kind" if "kind" in msg else "name")
            errors.append(_FieldError((*p, key) if key in item else p, msg))
    if errors:
        raise _FieldErrors(errors)
    return tuple(out)


class _FieldErrors(Exception):
    def __init__(self, errors: list[_FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(e.message for e in errors))


def _resolve_space(space, params: Mapping | None, scenario,
                   path=("decision_space",)) -> tuple[Space, str, DecisionSpace | None]:
    params = dict(params or {})
    if isinstance(space, Space):
        if params:
            raise _FieldError((*path, "params"), "parameters cannot be applied to an already built Space")
        return space, space.name, None
    if isinstance(space, Mapping) and "variables" in space:
        variables = _inline_variables(space["variables"], (*path, "variables"))
        name = str(space.get("name") or "variables")
        return Space(variables, name=name), name, None
    if isinstance(space, str):
        specs = _collect("decision_spaces")
        if space not in specs:
            raise _FieldError((*path, "name"), f"unknown decision space; available: {', '.join(specs) or 'none'}",
                              space)
        spec = specs[space]
    elif isinstance(space, DecisionSpace):
        spec = space
    elif callable(space):
        spec = DecisionSpace(getattr(space, "__name__", "space").lower().replace("<", "").replace(">", "") or "space",
                             build=space)
    else:
        raise _FieldError(path, f"expected a decision-space name, a DecisionSpace, a Space or a callable, got "
                                f"{type(space).__name__}")
    if spec.needs_scenario and scenario is None:
        raise _FieldError(("scenario",), f"decision space {spec.name!r} needs a scenario; none given")
    try:
        built = spec.build(scenario, **params) if spec.needs_scenario else spec.build(**params)
    except ParameterError as err:
        raise _FieldError((*path, "params", err.param), str(err)) from None
    except TypeError as err:
        bad = [k for k in params if f"'{k}'" in str(err)]
        where = (*path, "params", bad[0]) if bad else (*path, "params")
        raise _FieldError(where, f"decision space {spec.name!r} rejected its parameters: {err}") from None
    except StudyError as err:
        raise _FieldError((*path, "params"), str(err)) from None
    if not isinstance(built, Space):
        raise _FieldError(path, f"decision space {spec.name!r} built a {type(built).__name__}, not a Space")
    if not built.name:
        built = Space(built.variables, built.context, built.decode, built.sample, built.describe, spec.name,
                      built.attrs)
    return built, spec.name, spec


def _resolve_function(item, kind: str, space_name: str | None, path) -> StudyFunction:
    """One objective (``kind="objective"``) or constraint from a name, mapping, spec or callable."""
    if isinstance(item, StudyFunction):  # already resolved (e.g. shipped to a sweep task)
        if item.spaces and space_name is not None and space_name not in item.spaces:
            raise _FieldError(path, f"{kind} {item.name!r} works with decision space(s) {', '.join(item.spaces)}, "
                                    f"not {space_name!r}")
        return item
    registry = _collect("objectives" if kind == "objective" else "constraints")
    spec_type = Objective if kind == "objective" else Constraint
    params: dict = {}
    overrides: dict = {}
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Mapping):
        item, params = item[0], dict(item[1])
    if isinstance(item, Mapping):
        unknown = set(item) - FUNCTION_KEYS
        if unknown:
            raise _FieldError((*path, sorted(unknown)[0]), f"unknown key; expected some of {sorted(FUNCTION_KEYS)}")
        p = item.get("params") or {}
        if not isinstance(p, Mapping):
            raise _FieldError((*path, "params"), "expected a mapping of parameters", p)
        params = dict(p)
        overrides = {k: item[k] for k in ("sense", "units", "long_name", "vectorized") if k in item}
        if "func" in item:
            try:
                func = import_reference(item["func"])
            except StudyError as err:
                raise _FieldError((*path, "func"), str(err), item["func"]) from None
            name = item.get("name") or getattr(func, "__name__", kind)
            item = spec_type(str(name), func)
        elif "name" in item:
            item = item["name"]
        else:
            raise _FieldError(path, f"a {kind} mapping needs 'name' (registered) or 'func' (user function)")
    if isinstance(item, str):
        if item not in registry:
            raise _FieldError(path, f"unknown {kind} {item!r}; available: {', '.join(registry) or 'none'}", item)
        spec = registry[item]
        origin = "plugin"
    elif isinstance(item, spec_type):
        spec, origin = item, "spec"
    elif callable(item):
        spec, origin = spec_type(_safe_name(item), item), "function"
    else:
        raise _FieldError(path, f"expected a {kind} name, a {spec_type.__name__} or a function, got "
                                f"{type(item).__name__}")
    if spec.spaces and space_name is not None and space_name not in spec.spaces:
        raise _FieldError(path, f"{kind} {spec.name!r} works with decision space(s) {', '.join(spec.spaces)}, not "
                                f"{space_name!r}")
    sense = overrides.get("sense", getattr(spec, "sense", "min"))
    if sense not in ("min", "max"):
        raise _FieldError((*path, "sense"), "expected 'min' or 'max'", sense)
    return StudyFunction(name=spec.name, func=spec.func, params=params, sense=sense,
                         units=str(overrides.get("units", spec.units)),
                         long_name=str(overrides.get("long_name", spec.long_name or spec.name)),
                         vectorized=bool(overrides.get("vectorized", spec.vectorized)), spaces=spec.spaces,
                         provided_by=spec.provided_by, origin=origin)


def _safe_name(func) -> str:
    name = getattr(func, "__name__", "f").lower()
    cleaned = "".join(c if c.isalnum() or c in "_.-" else "_" for c in name).strip("_") or "f"
    return cleaned if cleaned[0].isalpha() else f"f_{cleaned}"


def _check_int(value, path, minimum: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise _FieldError(path, f"{what} must be an integer >= {minimum}", value)
    return int(value)


# --------------------------------------------------------------------------- the study


class Study:
    """A multi-objective study (see the module docstring).

    Parameters
    ----------
    space : str, DecisionSpace, Space, callable or mapping
        Registered decision-space name, a spec, a built :class:`Space`, a ``build(scenario,
        **params)`` function, or ``{"variables": [...]}`` (inline variable definitions).
    objectives, constraints : sequence
        Registered names, specs, functions, ``(name, params)`` pairs or mappings (as in study
        files).
    scenario : Scenario, str or None
        A scenario, a registered scenario name or a file path.
    space_params : dict, optional
        Parameters of the decision space's ``build``.
    algorithm : str
        pymoo algorithm (see :mod:`workbench.optimize.algorithms`).
    pop_size, n_gen, seed : int
        Population size [1], generations [1], random seed.
    algorithm_params : dict, optional
        Further keyword arguments of the pymoo algorithm class.
    hv_ref : mapping or sequence, optional
        Hypervolume reference point in objective units (maximised objectives un-negated), by
        objective name or in objective order; default: fixed from the first generation (see
        :mod:`workbench.optimize.results`).
    """

    def __init__(self, space, objectives: Sequence, constraints: Sequence = (), *, scenario=None,
                 space_params: Mapping | None = None, algorithm: str = "nsga2", pop_size: int = 100,
                 n_gen: int = 100, seed: int = 1, algorithm_params: Mapping | None = None, hv_ref=None,
                 name: str = "study", description: str = "", source: str | os.PathLike | None = None,
                 _base: Path | None = None) -> None:
        errors: list[_FieldError] = []

        def attempt(fn, *args):
            try:
                return fn(*args)
            except _FieldError as err:
                errors.append(err)
            except _FieldErrors as err:
                errors.extend(err.errors)
            return None

        self.name = name
        self.description = description
        self.source = str(source) if source is not None else ""
        self.space_params = dict(space_params or {})
        self.scenario = attempt(_resolve_scenario, scenario, _base)
        built = None
        if not errors:
            built = attempt(_resolve_space, space, self.space_params, self.scenario)
        # with no space (it failed), space compatibility of the functions is not checked (space_name None)
        self.space, space_name, self.space_spec = built if built else (None, None, None)
        objectives = list(objectives or ())
        constraints = list(constraints or ())
        if not objectives:
            errors.append(_FieldError(("objectives",), "a study needs at least one objective"))
        self.objectives = [f for i, o in enumerate(objectives)
                           if (f := attempt(_resolve_function, o, "objective", space_name, ("objectives", i)))]
        self.constraints = [f for i, c in enumerate(constraints)
                            if (f := attempt(_resolve_function, c, "constraint", space_name, ("constraints", i)))]
        seen: dict[str, tuple] = {}
        for group, items in (("objectives", self.objectives), ("constraints", self.constraints)):
            for i, f in enumerate(items):
                if f.name in RESERVED_NAMES:
                    errors.append(_FieldError((group, i), f"name {f.name!r} is reserved in results; rename it"))
                elif f.name in seen:
                    errors.append(_FieldError((group, i), f"duplicate name {f.name!r} (also at "
                                                           f"{seen[f.name][0]}[{seen[f.name][1]}])"))
                seen.setdefault(f.name, (group, i))
        self.algorithm = algorithm
        self.algorithm_params = dict(algorithm_params or {})
        self.pop_size = attempt(_check_int, pop_size, ("algorithm", "pop_size"), 2, "pop_size") or 0
        self.n_gen = attempt(_check_int, n_gen, ("algorithm", "n_gen"), 1, "n_gen") or 0
        self.seed = attempt(_check_int, seed, ("algorithm", "seed"), 0, "seed")
        if self.space is not None and not errors:
            from .algorithms import algorithm_class

            try:
                algorithm_class(algorithm)
            except StudyError as err:
                errors.append(_FieldError(("algorithm", "name"), str(err), algorithm))
        self.hv_ref = None
        if hv_ref is not None and self.objectives and not errors:
            self.hv_ref = attempt(self._parse_hv_ref, hv_ref)
        self._errors = errors
        if errors and not getattr(self, "_defer_errors", False):
            raise StudyError("; ".join(f"{_fmt_path(e.path)}: {e.message}" for e in errors))
        self._spec: EvalSpec | None = None
        #: plugin names and versions for provenance (filled on the client when first needed)
        self.plugin_versions: list[str] | None = None

    # -- construction from files -----------------------------------------------------------------
    @classmethod
    def from_yaml(cls, path: str | os.PathLike, **overrides: Any) -> Study:
        """Load a study file (format: :data:`STUDY_FILE_FORMAT`).

        ``overrides`` replace top-level settings (``pop_size``, ``n_gen``, ``seed``, ``scenario``).

        Raises
        ------
        StudyError
            Listing every problem with file, line and field.
        """
        path = Path(path)
        data, lines = read_yaml(path)
        problems = FileProblems(str(path), lines)
        if not isinstance(data, Mapping):
            problems.add((), "expected a mapping with 'study: 1', 'decision_space', 'objectives', ...")
            problems.raise_if_any()
        for key in data:
            if key not in TOP_KEYS:
                problems.add((key,), f"unknown key; expected some of {', '.join(sorted(TOP_KEYS))}")
        if data.get("study") != 1:
            problems.add(("study",), "expected 'study: 1' (format version)", data.get("study", ""))
        ds = data.get("decision_space")
        if not isinstance(ds, Mapping) or not ({"name", "variables"} & set(ds)):
            problems.add(("decision_space",), "expected a mapping with 'name' (and 'params') or 'variables'")
        elif set(ds) - {"name", "params", "variables"}:
            problems.add(("decision_space", sorted(set(ds) - {"name", "params", "variables"})[0]),
                         "unknown key; expected name, params or variables")
        elif ds.get("params") is not None and not isinstance(ds.get("params"), Mapping):
            problems.add(("decision_space", "params"), "expected a mapping of parameters")
        for key in ("objectives", "constraints"):
            if data.get(key) is not None and not isinstance(data.get(key), list):
                problems.add((key,), "expected a list")
        algo = data.get("algorithm") or {}
        if not isinstance(algo, Mapping):
            problems.add(("algorithm",), "expected a mapping {name, pop_size, n_gen, seed, params}")
            algo = {}
        for key in set(algo) - ALGORITHM_KEYS:
            problems.add(("algorithm", key), f"unknown key; expected some of {sorted(ALGORITHM_KEYS)}")
        if algo.get("params") is not None and not isinstance(algo.get("params"), Mapping):
            problems.add(("algorithm", "params"), "expected a mapping")
        hv = data.get("hypervolume") or {}
        if not isinstance(hv, Mapping) or set(hv) - {"ref_point"}:
            problems.add(("hypervolume",), "expected a mapping {ref_point: ...}")
            hv = {}
        problems.raise_if_any()

        if "variables" in ds:
            space: Any = {"variables": ds["variables"], "name": ds.get("name") or "variables"}
        else:
            space = ds["name"]
        kwargs = dict(space=space, objectives=data.get("objectives") or [],
                      constraints=data.get("constraints") or [], scenario=data.get("scenario"),
                      space_params=ds.get("params") or {}, algorithm=algo.get("name", "nsga2"),
                      pop_size=algo.get("pop_size", 100), n_gen=algo.get("n_gen", 100), seed=algo.get("seed", 1),
                      algorithm_params=algo.get("params") or {}, hv_ref=hv.get("ref_point"),
                      name=str(data.get("name") or path.stem), description=str(data.get("description") or ""),
                      source=str(path), _base=path.parent)
        kwargs.update(overrides)
        study = cls.__new__(cls)
        study._defer_errors = True
        study.__init__(**kwargs)
        for err in study._errors:
            problems.add(err.path, err.message, err.value)
        problems.raise_if_any()
        return study

    def _parse_hv_ref(self, ref) -> np.ndarray:
        names = [o.name for o in self.objectives]
        if isinstance(ref, Mapping):
            missing = [n for n in names if n not in ref]
            extra = [k for k in ref if k not in names]
            if missing or extra:
                raise _FieldError(("hypervolume", "ref_point"),
                                  f"expected one value per objective ({', '.join(names)}); missing {missing}, "
                                  f"unknown {extra}")
            values = [ref[n] for n in names]
        else:
            values = list(ref)
            if len(values) != len(names):
                raise _FieldError(("hypervolume", "ref_point"), f"expected {len(names)} values, got {len(values)}")
        try:
            arr = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise _FieldError(("hypervolume", "ref_point"), "expected numbers", values) from None
        if not np.all(np.isfinite(arr)):
            raise _FieldError(("hypervolume", "ref_point"), "expected finite numbers", values)
        return arr

    # -- assembly ------------------------------------------------------------------------------
    @property
    def spec(self) -> EvalSpec:
        """The :class:`EvalSpec` shipped to workers (built once)."""
        if self._spec is None:
            self._spec = EvalSpec(
                variables=self.space.variables, context=self.space.context, decode=self.space.decode,
                objective_names=tuple(o.name for o in self.objectives),
                objective_funcs=tuple(o.bound for o in self.objectives),
                objective_vectorized=tuple(o.vectorized for o in self.objectives),
                signs=tuple(1.0 if o.sense == "min" else -1.0 for o in self.objectives),
                constraint_names=tuple(c.name for c in self.constraints),
                constraint_funcs=tuple(c.bound for c in self.constraints),
                constraint_vectorized=tuple(c.vectorized for c in self.constraints))
        return self._spec

    def problem(self, runner: Callable | None = None) -> StudyProblem:
        """The pymoo problem; ``runner`` as in :class:`StudyProblem` (default: serial)."""
        return StudyProblem(self.spec, runner=runner, sample=self.space.sample)

    def make_algorithm(self):
        """A fresh pymoo algorithm object for this study."""
        from .algorithms import make_algorithm

        return make_algorithm(self.algorithm, n_obj=len(self.objectives), pop_size=self.pop_size,
                              discrete=bool(self.space.discrete_mask.any()),
                              custom_sampling=self.space.sample is not None, params=self.algorithm_params)

    def config(self) -> dict[str, Any]:
        """What defines the run (used for the checkpoint fingerprint; ``n_gen`` excluded)."""
        return {
            "space": self.space.name, "space_params": self.space_params,
            "variables": [(v.name, v.kind, v.lower, v.upper, [str(o) for o in v.options]) for v in
                          self.space.variables],
            "objectives": [(o.name, _func_id(o.func), o.params, o.sense, o.vectorized) for o in self.objectives],
            "constraints": [(c.name, _func_id(c.func), c.params, c.vectorized) for c in self.constraints],
            "algorithm": self.algorithm, "algorithm_params": self.algorithm_params, "pop_size": self.pop_size,
            "seed": self.seed, "hv_ref": None if self.hv_ref is None else self.hv_ref.tolist(),
        }

    def fingerprint(self) -> str:
        """SHA-256 of :meth:`config` and a token of the space's context data."""
        from dask.base import tokenize

        text = json.dumps(self.config(), sort_keys=True, default=str)
        return hashlib.sha256((text + tokenize(self.space.context)).encode()).hexdigest()[:32]

    def __repr__(self) -> str:
        objs = ", ".join(f"{o.name} ({o.sense})" for o in self.objectives)
        return (f"<Study {self.name!r}: space {self.space.name} ({self.space.n_var} variables), objectives "
                f"{objs}, {len(self.constraints)} constraints, {self.algorithm} pop {self.pop_size} x "
                f"{self.n_gen} gen, seed {self.seed}>")

    # -- running ------------------------------------------------------------------------------
    def optimize(self, client: Any = None, *, n_workers: int | None = None, out: str | os.PathLike | None = None,
                 checkpoint: str | os.PathLike | None = None, resume: bool = False, progress: bool = False,
                 on_generation: Callable[[GenerationRecord], None] | None = None) -> xr.Dataset:
        """Run the study and return the result dataset (see :mod:`workbench.optimize.results`).

        Parameters
        ----------
        client : None, "serial", False, str or distributed.Client
            Where to evaluate (see the module docstring).
        n_workers : int, optional
            Workers of a new LocalCluster (``client=None`` without a scheduler variable).
        out : path, optional
            Write the result there atomically (``.nc`` or ``.zarr``).
        checkpoint : path, optional
            Checkpoint file; default ``<out>.checkpoint.pkl`` when ``out`` is given. Removed after
            the result is written.
        resume : bool
            Continue from ``checkpoint`` if it exists (else start afresh).
        progress : bool
            Show a tqdm progress bar (terminal or notebook).
        on_generation : callable, optional
            Called with each :class:`GenerationRecord` (on the client).
        """
        from pymoo.util.misc import termination_from_tuple

        from ..distributed import get_client, release_client
        from .runner import ChunkedDaskRunner

        if checkpoint is None and out is not None:
            checkpoint = Path(str(out) + ".checkpoint.pkl")
        checkpoint = Path(checkpoint) if checkpoint is not None else None
        owned, dask = False, None
        runner = None
        runner_label = "serial (in process)"
        if not (client is False or (isinstance(client, str) and client == "serial")):
            dask, owned = get_client(client, n_workers=n_workers)
            runner = ChunkedDaskRunner(dask)
            runner_label = f"dask chunked runner, scheduler {dask.scheduler.address}"
        bar = None
        try:
            fingerprint = self.fingerprint()
            state = None
            if resume and checkpoint is not None and checkpoint.exists():
                state = load_checkpoint(checkpoint, fingerprint)
            if state is not None:
                algorithm = state["algorithm"]
                algorithm.problem = self.problem(runner)
                if state["n_gen"] != self.n_gen:  # extend (or shorten) a run: same state, new end
                    algorithm.termination = termination_from_tuple(("n_gen", self.n_gen))
                    algorithm.termination.perc = len(state["history"]) / self.n_gen
                history: list[GenerationRecord] = state["history"]
                ref, ref_method = state["ref"], state["ref_method"]
            else:
                algorithm = self.make_algorithm()
                algorithm.setup(self.problem(runner), termination=("n_gen", self.n_gen), seed=self.seed,
                                verbose=False)
                history = []
                ref = None if self.hv_ref is None else self.hv_ref * np.asarray(self.spec.signs)
                ref_method = "given in the study" if ref is not None else ""
            if progress:
                from .progress import progress_bar

                bar = progress_bar(total=self.n_gen, initial=len(history), desc=f"study {self.name}", unit="gen")
            while algorithm.has_next():
                algorithm.next()
                if ref is None:
                    F, feas = algorithm.pop.get("F", "FEAS")
                    try:
                        ref = auto_reference_point(F, np.asarray(feas).ravel())
                        ref_method = ("nadir + 10% of the range of the first generation's feasible population"
                                      if not history else f"as above, from generation {len(history) + 1} (the "
                                      "first with finite objective values)")
                    except ValueError:  # no finite objective value yet: hypervolume NaN for now
                        pass
                rec = record_generation(algorithm, ref)
                history.append(rec)
                if checkpoint is not None:
                    save_checkpoint(checkpoint, algorithm, history, ref, ref_method, fingerprint, self.n_gen)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(hv=f"{rec.hypervolume:.4g}", front=len(rec.front))
                if on_generation is not None:
                    on_generation(rec)
            if ref is None:  # no generation had a finite objective value
                ref = np.full(len(self.objectives), np.nan)
                ref_method = "none: no generation had finite objective values"
            result = build_result(self, algorithm, history, ref, ref_method, runner_label, self.space)
            if out is not None:
                save_result(result, out)
                if checkpoint is not None and checkpoint.exists():
                    checkpoint.unlink()
            return result
        finally:
            if bar is not None:
                bar.close()
            if runner is not None:
                runner.close()
            release_client(dask, owned)

    def evaluate(self, X) -> xr.Dataset:
        """Evaluate candidates serially: objectives (un-negated) and constraints over ``candidate``."""
        from .problem import evaluate_block

        X = np.atleast_2d(np.asarray(X, dtype=float))
        res = evaluate_block(self.spec, X)
        F = res["F"] * np.asarray(self.spec.signs)
        ds = xr.Dataset(coords={"candidate": ("candidate", np.arange(len(X)), {"long_name": "candidate",
                                                                                "units": "1"})})
        for j, o in enumerate(self.objectives):
            ds[o.name] = ("candidate", F[:, j], {"units": o.units, "long_name": o.long_name or o.name})
        for j, c in enumerate(self.constraints):
            ds[c.name] = ("candidate", res["G"][:, j], {"units": c.units, "long_name": c.long_name or c.name})
        return ds


def _fmt_path(path) -> str:
    from .yamlfile import field_name

    return field_name(path) or "<study>"


# --------------------------------------------------------------------------- checkpoints


def save_checkpoint(path: Path, algorithm, history, ref, ref_method: str, fingerprint: str, n_gen: int) -> None:
    """Pickle the algorithm (without its problem) and the history, atomically (temp file + rename)."""
    import cloudpickle

    problem = algorithm.problem
    algorithm.problem = None
    try:
        payload = cloudpickle.dumps({"format": CHECKPOINT_FORMAT, "fingerprint": fingerprint, "algorithm": algorithm,
                                     "history": history, "ref": ref, "ref_method": ref_method, "n_gen": n_gen})
    finally:
        algorithm.problem = problem
    with atomic_path(Path(path)) as tmp:
        tmp.write_bytes(payload)


def load_checkpoint(path: str | os.PathLike, fingerprint: str | None = None) -> dict[str, Any]:
    """Read a checkpoint (a trusted local pickle: never load one from elsewhere).

    Raises
    ------
    StudyError
        If it is not a checkpoint of this format, or was made for another study (``fingerprint``).
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            state = pickle.load(f)
    except Exception as err:
        raise StudyError(f"{path}: not a readable study checkpoint ({type(err).__name__}: {err}); delete it to "
                         "start afresh") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise StudyError(f"{path}: not a study checkpoint of format {CHECKPOINT_FORMAT}")
    if fingerprint is not None and state.get("fingerprint") != fingerprint:
        raise StudyError(f"{path}: checkpoint belongs to a different study (space, parameters, objectives, "
                         "algorithm, seed, population or scenario changed); delete it or run without --resume")
    return state
