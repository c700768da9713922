"""The ``snapshots:`` and ``timeseries:`` blocks of a scenario file. Loading never executes code.

::

    snapshots: {start: "2025-01-01 00:00", periods: 8760, freq: h}     # + optional weight_h: 1
    # or
    snapshots: {csv: snapshots.csv}              # columns: snapshot, optional "weight [h]"
    timeseries:
      site.power_price: {csv: price.csv}         # a snapshot column + one column per id: "hub-a [CNY/MWh]"
      site.carbon_intensity: {csv: carbon.csv, unit: g/kWh}     # one unit for every column
      device.endpoints: {profile: demand, scale: static}        # a named shape x each row's static value
      site.green_cf: {profile: solar, scale: 1}                 # ... or x a number (text may carry a unit)

Every value goes through :meth:`workbench.Scenario.with_series`'s checks (unit conversion, ids,
ranges, snapshots equal to the scenario's), so files, NetCDF/Zarr stores and Python give the same
messages. Named profiles come from :func:`workbench.profiles.evaluate` (imported when first used).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Problem, UnitError
from ..model import Scenario
from ..model import timeseries as _ts
from ..schema import did_you_mean
from .scenario_file import _strip, checked_csv_path, read_csv_table

SNAPSHOT_KEYS = {"start", "periods", "freq", "weight_h", "csv"}
SERIES_KEYS = {"csv", "unit", "profile", "scale"}


@dataclass
class TimeInput:
    """What the two blocks asked for, read and checked as far as possible without the tables."""

    snapshots: pd.DatetimeIndex | None = None
    weights: np.ndarray | None = None
    #: (key "kind.attribute", spec dict, line, CSV (frame, units, origin) or None)
    series: list[tuple[str, dict, int | None, Any]] = field(default_factory=list)
    given: bool = False


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _read_snapshots(spec: Any, folder: Path, root: Path, allowed: Iterable[Path], file: str, line: int | None,
                    problems: list[Problem], out: TimeInput) -> None:
    if not isinstance(spec, dict):
        problems.append(Problem("expected a mapping {start, periods, freq} or {csv: FILE}", file, line, "snapshots",
                                root=True))
        return
    slines = spec.get("__lines__", {})
    spec = _strip(spec)
    for key in spec:
        if key not in SNAPSHOT_KEYS:
            problems.append(Problem(f"unknown key {key!r}; expected one of {', '.join(sorted(SNAPSHOT_KEYS))}", file,
                                    slines.get(key), f"snapshots.{key}", root=True))
    weight = None
    if "weight_h" in spec:
        w = _number(spec["weight_h"])
        if w is None or not math.isfinite(w) or w <= 0:
            problems.append(Problem("not a positive number of hours", file, slines.get("weight_h"),
                                    "snapshots.weight_h", str(spec["weight_h"]), expected="a number of hours > 0"))
        else:
            weight = w
    if "csv" in spec:
        if {"start", "periods", "freq"} & set(spec):
            problems.append(Problem("give either 'csv' or 'start', 'periods' and 'freq'", file, line, "snapshots",
                                    root=True))
            return
        path = checked_csv_path(spec["csv"], folder, root, allowed, file, slines.get("csv"), "snapshots.csv", problems)
        if path is None:
            return
        before = len(problems)
        frame, units, origin = read_csv_table(path, problems, "snapshots.csv")
        if len(problems) > before:
            return
        extra = [c for c in frame.columns if c not in ("snapshot", "weight")]
        if "snapshot" not in frame.columns or extra:
            problems.append(Problem(f"columns {list(frame.columns)}", str(path), 1, "snapshots.csv",
                                    expected="a column 'snapshot' and optionally 'weight [h]'", root=True))
            return
        stamps = _ts.parse_snapshots(frame["snapshot"].to_numpy(dtype=object), problems, file=str(path),
                                     field="snapshots.snapshot", lines=origin.lines)
        if stamps is None:
            return
        if "weight" in frame.columns:
            if weight is not None:
                problems.append(Problem("weights given twice: 'weight_h' and a 'weight' column", file,
                                        slines.get("weight_h"), "snapshots.weight_h", root=True))
                return
            w = _ts.check_weights(frame["weight"].to_numpy(dtype=object), len(stamps), problems, file=str(path),
                                  field="snapshots.weight", lines=origin.lines)
            unit = units.get("weight") or "h"
            if w is not None and unit != "h":
                from ..units import core_registry

                try:
                    w = np.asarray(core_registry().convert(w, unit, "h"), dtype=float)
                except UnitError as err:
                    problems.append(Problem(f"wrong unit of the weights: {err}", str(path), 1, "snapshots.weight",
                                            unit, expected="a unit of time such as 'h'", root=True))
                    return
            if w is None:
                return
            weight = w
        if weight is None:
            uneven = _ts.uneven_problem(stamps, str(path), "snapshots.weight", 1)
            if uneven is not None:
                problems.append(uneven)
                return
        out.snapshots, out.weights = stamps, weight
        return
    missing = [k for k in ("start", "periods", "freq") if k not in spec]
    if missing:
        problems.append(Problem(f"missing {', '.join(missing)}", file, line, "snapshots",
                                expected="{start: '2025-01-01 00:00', periods: 8760, freq: h} or {csv: FILE}",
                                root=True))
        return
    start = _ts.parse_snapshots([spec["start"]] if isinstance(spec["start"], str) else [None], problems, file=file,
                                field="snapshots.start", lines=[slines.get("start")])
    periods = spec["periods"]
    if isinstance(periods, bool) or not isinstance(periods, int) or not 1 <= periods <= _ts.MAX_SNAPSHOTS:
        problems.append(Problem("not a number of snapshots", file, slines.get("periods"), "snapshots.periods",
                                str(periods), expected=f"an integer from 1 to {_ts.MAX_SNAPSHOTS:,}"))
        periods = None
    try:
        freq = pd.tseries.frequencies.to_offset(str(spec["freq"]).strip())
    except (ValueError, TypeError):
        problems.append(Problem("not a frequency", file, slines.get("freq"), "snapshots.freq", str(spec["freq"]),
                                expected="a pandas frequency such as h, 15min, 3h or D"))
        freq = None
    if start is None or periods is None or freq is None:
        return
    try:
        stamps = pd.DatetimeIndex(pd.date_range(start[0], periods=periods, freq=freq).as_unit("ns"), name="snapshot")
    except (ValueError, OverflowError, pd.errors.OutOfBoundsDatetime) as err:
        problems.append(Problem(f"cannot build the snapshots: {err}", file, line, "snapshots", root=True))
        return
    out.snapshots, out.weights = stamps, weight


def read_time_blocks(doc: dict, path: Path, root: Path, allowed: Iterable[Path], problems: list[Problem]) -> TimeInput:
    """Read the ``snapshots:`` and ``timeseries:`` blocks of a parsed scenario file (CSV files included)."""
    file = str(path)
    lines = doc.get("__lines__", {})
    out = TimeInput(given="snapshots" in doc or "timeseries" in doc)
    if "snapshots" in doc:
        _read_snapshots(doc["snapshots"], path.parent, root, allowed, file, lines.get("snapshots"), problems, out)
    block = doc.get("timeseries")
    if block is None:
        return out
    if not isinstance(block, dict):
        problems.append(Problem("expected a mapping 'kind.attribute' -> {csv: FILE} or {profile: NAME, scale: ...}",
                                file, lines.get("timeseries"), "timeseries", root=True))
        return out
    if "snapshots" not in doc:
        problems.append(Problem("time series need a 'snapshots:' block", file, lines.get("timeseries"), "timeseries",
                                expected="snapshots: {start: '2025-01-01 00:00', periods: 8760, freq: h}", root=True))
    tlines = block.get("__lines__", {})
    for key, spec in block.items():
        if key in ("__line__", "__lines__"):
            continue
        field_ = f"timeseries.{key}"
        line = tlines.get(key)
        if not isinstance(key, str) or key.count(".") != 1:
            problems.append(Problem("expected a key 'kind.attribute' such as site.power_price", file, line, field_,
                                    str(key), root=True))
            continue
        if not isinstance(spec, dict):
            problems.append(Problem("expected {csv: FILE} or {profile: NAME, scale: NUMBER | static}", file, line,
                                    field_, root=True))
            continue
        slines = spec.get("__lines__", {})
        clean = _strip(spec)
        for k in clean:
            if k not in SERIES_KEYS:
                problems.append(Problem(f"unknown key {k!r}; expected one of {', '.join(sorted(SERIES_KEYS))}", file,
                                        slines.get(k), f"{field_}.{k}", root=True))
        if ("csv" in clean) == ("profile" in clean):
            problems.append(Problem("give one of 'csv' or 'profile'", file, line, field_, root=True))
            continue
        if "unit" in clean and not isinstance(clean["unit"], str):
            problems.append(Problem("expected a unit text", file, slines.get("unit"), f"{field_}.unit",
                                    str(clean["unit"]), root=True))
            continue
        csv_data = None
        if "csv" in clean:
            csv_path = checked_csv_path(clean["csv"], path.parent, root, allowed, file, slines.get("csv"),
                                        f"{field_}.csv", problems)
            if csv_path is None:
                continue
            before = len(problems)
            csv_data = (csv_path, *read_csv_table(csv_path, problems, f"{field_}.csv"))
            if len(problems) > before:
                continue
            if "snapshot" not in csv_data[1].columns:
                problems.append(Problem("no 'snapshot' column", str(csv_path), 1, f"{field_}.csv",
                                        expected="a column 'snapshot' and one column per id", root=True))
                continue
        else:
            if not isinstance(clean["profile"], str):
                problems.append(Problem("expected a profile name", file, slines.get("profile"), f"{field_}.profile",
                                        str(clean["profile"]), root=True))
                continue
            scale = clean.get("scale", 1.0)
            if not (scale == "static" or isinstance(scale, str) or
                    (_number(scale) is not None and math.isfinite(_number(scale)))):
                problems.append(Problem("not a scale", file, slines.get("scale"), f"{field_}.scale", str(scale),
                                        expected="a number (optionally with a unit) or 'static'"))
                continue
        out.series.append((key, {**clean, "__lines__": slines}, line, csv_data))
    return out


def _profiles_module(problems: list[Problem], file: str, line: int | None, field_: str):
    try:
        return importlib.import_module("workbench.profiles")
    except ImportError as err:
        problems.append(Problem(f"named profiles are not available in this installation ({err})", file, line, field_,
                                expected="a 'csv:' time series instead", root=True))
        return None


def _profile_values(scenario: Scenario, kind: str, attribute: str, spec: dict, file: str, field_: str,
                    problems: list[Problem]) -> np.ndarray | None:
    """``profile(name) x scale`` as (snapshot, row) in the attribute's canonical unit, or None (problems)."""
    slines = spec.get("__lines__", {})
    name = spec["profile"]
    module = _profiles_module(problems, file, slines.get("profile"), f"{field_}.profile")
    if module is None:
        return None
    try:
        known = [str(n) for n in module.list_profiles()["name"]]
    except Exception:  # noqa: BLE001 - a listing that fails must not hide the real question (is the name known?)
        known = None
    if known is not None and name not in known:
        problems.append(Problem(f"unknown profile {name!r}{did_you_mean(name, known)}", file, slines.get("profile"),
                                f"{field_}.profile", name, expected=f"one of {', '.join(known) or '(none)'}"))
        return None
    n_snap, n_rows = len(scenario.snapshots), scenario[kind].sizes[kind]
    try:
        shape = np.asarray(module.evaluate(name, scenario.snapshots, scenario, kind), dtype=float)
    except (KeyError, ValueError, TypeError) as err:
        problems.append(Problem(f"profile {name!r} failed: {err}", file, slines.get("profile"), f"{field_}.profile",
                                name, expected=f"one of {', '.join(known)}" if known else ""))
        return None
    if shape.shape != (n_snap, n_rows):
        problems.append(Problem(f"profile {name!r} returned shape {shape.shape}", file, slines.get("profile"),
                                f"{field_}.profile", name, expected=f"({n_snap}, {n_rows}): snapshots x {kind} rows"))
        return None
    scale = spec.get("scale", 1.0)
    if scale == "static":
        return shape * np.asarray(scenario[kind][attribute].values, dtype=float)[None, :]
    from ..plugins import get_plugin_manager

    schema = get_plugin_manager().schema
    canonical = schema.attrs(kind)[attribute].unit or "1"
    try:
        unit = spec.get("unit")
        factor = (schema.units.parse_quantity(scale, canonical, schema.exchange_rates(scenario.parameters))
                  if isinstance(scale, str) else float(schema.units.convert(float(scale), unit, canonical))
                  if unit else float(scale))
    except (UnitError, ValueError, TypeError) as err:
        problems.append(Problem(f"not a scale: {err}", file, slines.get("scale") or slines.get("unit"),
                                f"{field_}.scale", str(scale), expected=f"a number in {canonical} or 'static'"))
        return None
    return shape * factor


def apply_time(scenario: Scenario, time: TimeInput, file: str) -> tuple[Scenario, list[Problem]]:
    """``scenario`` with the snapshots and time series read by :func:`read_time_blocks`, or the problems."""
    problems: list[Problem] = []
    if time.snapshots is None:
        return scenario, problems
    scenario = scenario.with_snapshots(time.snapshots, time.weights)
    for key, spec, line, csv_data in time.series:
        kind, attribute = key.split(".")
        field_ = f"timeseries.{key}"
        if csv_data is not None:
            csv_path, frame, units, origin = csv_data
            one_unit = spec.get("unit")
            ids = [c for c in frame.columns if c != "snapshot"]
            column_units, unit_lines = [], {}
            bad_unit = False
            for c in ids:
                u = units.get(c)
                if u is not None and one_unit is not None and u != one_unit:
                    problems.append(Problem(f"two units for column {c!r}: {one_unit!r} (unit:) and {u!r} (header)",
                                            str(csv_path), 1, field_, u, root=True))
                    bad_unit = True
                column_units.append(u if u is not None else one_unit)
            if one_unit is not None:
                unit_lines[one_unit] = spec.get("__lines__", {}).get("unit")
            if bad_unit:
                continue
            new, found = scenario._with_series_checked(
                kind, attribute, frame[ids].to_numpy(dtype=object), ids, column_units,
                frame["snapshot"].to_numpy(dtype=object), file=str(csv_path), field=field_, lines=origin.lines,
                header_line=1, unit_lines={u: (None if n is None else n) for u, n in unit_lines.items()})
            if one_unit is not None:  # a wrong unit: point at the scenario file's 'unit:' line, not the CSV header
                found = [Problem(p.message, file, unit_lines[one_unit], p.field, p.value, p.expected, p.root)
                         if p.message.startswith("wrong unit") and p.value == one_unit else p for p in found]
        else:
            if kind not in scenario.kinds or attribute not in scenario[kind].data_vars:
                new, found = scenario._with_series_checked(kind, attribute, np.zeros((0, 0)), [], [],
                                                           scenario.snapshots, file=file, field=field_)
                problems.extend(Problem(p.message, file, line, p.field, p.value, p.expected, p.root) for p in found)
                continue
            values = _profile_values(scenario, kind, attribute, spec, file, field_, problems)
            if values is None:
                continue
            ids = [str(i) for i in scenario[kind][kind].values]
            new, found = scenario._with_series_checked(kind, attribute, values, ids, [None] * len(ids),
                                                       scenario.snapshots, file=file, field=field_)
        problems.extend(found)
        scenario = new if new is not None else scenario
    return scenario, problems
