"""The optional time axis of a scenario: snapshots, their weights, and time series of attributes.

As PyPSA's ``snapshots``, ``snapshot_weightings`` and ``*_t`` tables: a scenario may have a
``snapshot`` axis (naive ``datetime64``, local standard time of the scenario), each snapshot
standing for a number of hours (its weight), and, for attributes declared ``varies_in_time``, a
value per snapshot and row. The static table keeps the representative (annual) value.

The helpers here are pure and vectorised (numpy over snapshots x ids); every problem is a
:class:`~workbench.errors.Problem` with file, line, field and what was expected, collected in a list
the caller turns into one :class:`~workbench.errors.ScenarioError`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Problem, UnitError
from ..plugin_types import AttributeSpec

#: Most snapshots a scenario may have. Assumed: one million, 114 years of hours or 1.9 years of
#: minutes; a file asking for more is a mistake (or an attempt to exhaust memory).
MAX_SNAPSHOTS = 1_000_000
#: Most values of one time series (snapshots x rows). Assumed: 100 million float64 = 800 MB, e.g.
#: 8,784 hours x 11,000 rows; more does not fit the workbench's in-memory model on a laptop.
MAX_SERIES_VALUES = 100_000_000
#: Problems listed per check (a year of hourly values of 300 sites with one bad column would be
#: 2.6 million lines); the rest are counted in one "... and N more" problem. Assumed.
MAX_CELL_PROBLEMS = 50

WEIGHT_ATTRS = {"units": "h", "long_name": "hours each snapshot stands for"}
SNAPSHOT_ATTRS = {"long_name": "snapshot (local standard time)"}
_EXPECTED_TIME = "an ISO 8601 date and time such as '2025-01-01 00:00' (local standard time, no offset)"


def _label(t: pd.Timestamp) -> str:
    return str(t) if t.nanosecond or t.microsecond else t.strftime("%Y-%m-%d %H:%M" + (":%S" if t.second else ""))


def _line(lines: Sequence[int | None] | None, i: int) -> int | None:
    return lines[i] if lines is not None and i < len(lines) else None


def _add_capped(problems: list[Problem], found: list[Problem], total: int, file: str, field: str, what: str) -> None:
    problems.extend(found[:MAX_CELL_PROBLEMS])
    if total > MAX_CELL_PROBLEMS:
        problems.append(Problem(f"... and {total - MAX_CELL_PROBLEMS:,} more {what} not listed", file, None, field))


def parse_snapshots(values: Any, problems: list[Problem], *, file: str = "", field: str = "snapshots",
                    lines: Sequence[int | None] | None = None, require_sorted: bool = True) -> pd.DatetimeIndex | None:
    """``values`` as a naive ``DatetimeIndex[ns]`` named ``snapshot``, or None (the problems recorded).

    Text must be ISO 8601 (``2025-01-01 00:00``, ``2025-01-01T00:00:00``); ``datetime64`` values and
    ``datetime`` objects are taken as they are. Refused: empty, more than :data:`MAX_SNAPSHOTS`,
    unparseable text or other types, time-zone aware stamps, duplicates and (with
    ``require_sorted``) stamps out of increasing order.
    """
    before = len(problems)
    if isinstance(values, (pd.DatetimeIndex, pd.Series, np.ndarray)) and getattr(values, "dtype", None) is not None \
            and getattr(values.dtype, "tz", None) is not None:
        problems.append(Problem(f"snapshots are time-zone aware ({values.dtype.tz})", file, None, field,
                                expected="naive local standard time: index.tz_convert(TZ).tz_localize(None)",
                                root=True))
        return None
    arr = np.asarray(values)
    if arr.ndim != 1:
        problems.append(Problem(f"snapshots must be one-dimensional, got shape {arr.shape}", file, None, field,
                                root=True))
        return None
    n = len(arr)
    if n == 0 or n > MAX_SNAPSHOTS:
        problems.append(Problem(f"{n:,} snapshots", file, None, field,
                                expected=f"between 1 and {MAX_SNAPSHOTS:,} snapshots", root=True))
        return None
    if arr.dtype.kind == "M":
        stamps = pd.DatetimeIndex(arr)
    else:
        obj = pd.Series(arr.astype(object), dtype=object)
        is_text = obj.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        is_time = obj.map(lambda v: isinstance(v, (_dt.datetime, np.datetime64))).to_numpy(dtype=bool)
        parsed = pd.Series(pd.NaT, index=obj.index, dtype="datetime64[ns]")
        aware = np.zeros(n, dtype=bool)
        if is_text.any():
            text = obj[is_text].str.strip()
            try:
                got = pd.to_datetime(text, format="ISO8601", errors="coerce")
            except (ValueError, TypeError):  # mixed offsets: find which ones carry one
                got = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
                aware[is_text] = text.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True).to_numpy()
            if getattr(got.dtype, "tz", None) is not None:
                aware[is_text] = got.notna().to_numpy()
                got = got.dt.tz_localize(None)
            parsed[is_text] = got.astype("datetime64[ns]")
        if is_time.any():
            times = obj[is_time]
            tz = times.map(lambda v: getattr(v, "tzinfo", None) is not None).to_numpy(dtype=bool)
            aware[np.flatnonzero(is_time)[tz]] = True
            parsed[is_time] = pd.to_datetime(times.map(lambda v: v.replace(tzinfo=None) if getattr(v, "tzinfo", None)
                                                       else v)).astype("datetime64[ns]")
        bad = (~is_text & ~is_time) | (parsed.isna().to_numpy() & (is_text | is_time))
        found = [Problem("time-zone offset in a snapshot" if aware[i] and not bad[i] else "not a date and time",
                         file, _line(lines, i), field, str(arr[i]), expected=_EXPECTED_TIME)
                 for i in np.flatnonzero(bad | aware)[:MAX_CELL_PROBLEMS]]
        _add_capped(problems, found, int((bad | aware).sum()), file, field, "unreadable snapshots")
        if (bad | aware).any():
            return None
        stamps = pd.DatetimeIndex(parsed.to_numpy())
    stamps = pd.DatetimeIndex(stamps.as_unit("ns"), name="snapshot")
    if stamps.isna().any():
        i = int(np.flatnonzero(stamps.isna())[0])
        problems.append(Problem("not a date and time (NaT)", file, _line(lines, i), field, "NaT", expected=_EXPECTED_TIME))
        return None
    dup = stamps.duplicated(keep="first")
    if dup.any():
        first = pd.Series(np.arange(n), index=stamps).groupby(level=0).first()
        found = []
        for i in np.flatnonzero(dup)[:MAX_CELL_PROBLEMS]:
            j = int(first[stamps[i]])
            at = f" (first at line {_line(lines, j)})" if _line(lines, j) is not None else f" (first at position {j})"
            found.append(Problem(f"duplicate snapshot{at}", file, _line(lines, i), field, _label(stamps[i]),
                                 expected="each snapshot once"))
        _add_capped(problems, found, int(dup.sum()), file, field, "duplicate snapshots")
    elif require_sorted and not stamps.is_monotonic_increasing:
        i = int(np.flatnonzero(np.diff(stamps.asi8) < 0)[0]) + 1
        problems.append(Problem(f"snapshots out of order: {_label(stamps[i])} comes after {_label(stamps[i - 1])}",
                                file, _line(lines, i), field, _label(stamps[i]), expected="increasing snapshots"))
    return stamps if len(problems) == before else None


def default_weights(snapshots: pd.DatetimeIndex) -> np.ndarray:
    """Hours each snapshot stands for: the time to the next one, the last one the median step [h].

    An hourly-regular index therefore gets 1 h each (8,760 h for a year). A single snapshot gets
    1 h (assumed; give ``weights`` for anything else).
    """
    if len(snapshots) < 2:
        return np.ones(len(snapshots))
    step = np.diff(snapshots.asi8).astype(float) / 3.6e12  # ns -> h
    return np.append(step, np.median(step))


#: Largest step / median step above which snapshots are "not evenly spaced" and need explicit weights [1].
#: Assumed 24: a missing day in an hourly index still gets default weights; representative days
#: (hourly within a day, months apart) do not.
IRREGULAR_STEP_RATIO = 24.0


def uneven_problem(snapshots: pd.DatetimeIndex, file: str = "", field: str = "snapshots.weight",
                   line: int | None = None) -> Problem | None:
    """A Problem when default weights would mislead: snapshots far from evenly spaced and no weights.

    Default weights give each snapshot the time to the next one, so the last hour of a representative
    day would stand for the months until the next day. Such an index needs explicit weights.
    """
    if len(snapshots) < 3:
        return None
    step = np.diff(snapshots.asi8).astype(float) / 3.6e12
    med = float(np.median(step))
    if med > 0 and float(step.max()) > IRREGULAR_STEP_RATIO * med:
        i = int(np.argmax(step))
        return Problem(f"snapshots are not evenly spaced (a {step[i]:,.0f} h gap after {snapshots[i]} against a "
                       f"median step of {med:g} h), so the default weights (time to the next snapshot) would make "
                       "that snapshot stand for the whole gap", file, line, field,
                       expected="explicit weights [h] for each snapshot (a 'weight [h]' column or weights=)",
                       root=True)
    return None


def check_weights(weights: Any, n: int, problems: list[Problem], *, file: str = "", field: str = "snapshots.weight",
                  lines: Sequence[int | None] | None = None) -> np.ndarray | None:
    """``weights`` [h] as ``n`` finite positive floats (a scalar is broadcast), or None (problems recorded)."""
    raw = np.asarray(weights.values if hasattr(weights, "values") else weights, dtype=object)
    if raw.ndim == 0:
        raw = np.full(n, raw.item(), dtype=object)
    if raw.shape != (n,):
        problems.append(Problem(f"{raw.size} weights for {n} snapshots", file, None, field,
                                expected="one weight [h] per snapshot", root=True))
        return None
    keep = np.array([None if isinstance(v, (bool, np.bool_)) else v for v in raw], dtype=object)
    w = pd.to_numeric(pd.Series(keep, dtype=object), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(w) | (w <= 0)
    found = [Problem("not a positive number of hours" if np.isfinite(w[i]) or not isinstance(raw[i], str) or
                     raw[i].strip().lower() in ("nan", "inf", "-inf") else "not a number",
                     file, _line(lines, i), field, str(raw[i]), expected="a finite number of hours > 0")
             for i in np.flatnonzero(bad)[:MAX_CELL_PROBLEMS]]
    _add_capped(problems, found, int(bad.sum()), file, field, "bad weights")
    return None if bad.any() else w


def align_snapshots(given: pd.DatetimeIndex, target: pd.DatetimeIndex, problems: list[Problem], *, file: str = "",
                    field: str = "", lines: Sequence[int | None] | None = None) -> np.ndarray | None:
    """Positions in ``given`` of each snapshot of ``target`` (the same set, any order), or None (problems)."""
    pos = given.get_indexer(target)
    extra = np.flatnonzero(target.get_indexer(given) < 0)
    found = [Problem("snapshot is not one of the scenario's snapshots", file, _line(lines, i), field,
                     _label(given[i]), expected=f"the scenario's {len(target):,} snapshots "
                     f"({_label(target[0])} .. {_label(target[-1])})") for i in extra[:MAX_CELL_PROBLEMS]]
    _add_capped(problems, found, len(extra), file, field, "foreign snapshots")
    missing = np.flatnonzero(pos < 0)
    if len(missing):
        shown = ", ".join(_label(target[i]) for i in missing[:5]) + (f" and {len(missing) - 5:,} more"
                                                                      if len(missing) > 5 else "")
        problems.append(Problem(f"{len(missing):,} of the scenario's snapshots have no value: {shown}", file, None,
                                field, expected="a value for every snapshot of the scenario", root=True))
    return None if len(extra) or len(missing) else pos


def build_series(kind: str, spec: AttributeSpec, values: np.ndarray, columns: Sequence[str],
                 column_units: Sequence[str | None], row_ids: np.ndarray, static: np.ndarray,
                 snapshots: pd.DatetimeIndex, problems: list[Problem], *, registry, rates: Mapping[str, float] | None,
                 file: str = "", field: str = "", lines: Sequence[int | None] | None = None,
                 header_line: int | None = None,
                 unit_lines: Mapping[str, int | None] | None = None) -> np.ndarray | None:
    """Check and convert one attribute's time series; the full ``(snapshot, row)`` array or None (problems).

    Parameters
    ----------
    values : array (n_snapshots, n_columns)
        Numbers or text (CSV cells), rows already in the order of ``snapshots``.
    columns : sequence of str
        The row id of each column; unknown and repeated ids are problems.
    column_units : sequence of str or None
        The unit each column is in (None: the canonical unit), converted through ``registry``.
    row_ids, static : arrays (n_rows,)
        The kind's ids and the attribute's static values: rows without a column, and blank or NaN
        cells, take the row's static value.
    lines : sequence of int, optional
        File line of each snapshot row, for messages.
    header_line : int, optional
        Line of the ids (a CSV header), for messages about columns.
    unit_lines : mapping unit -> line, optional
        Where each unit was given (default ``header_line``).
    """
    field = field or f"timeseries.{kind}.{spec.name}"
    canonical = spec.unit or "1"
    n_snap = len(snapshots)
    before = len(problems)
    if not spec.varies_in_time:
        problems.append(Problem(f"attribute {kind}.{spec.name} does not vary in time (the schema does not declare it "
                                "varies_in_time)", file, None, field, expected="an attribute with varies_in_time: true",
                                root=True))
        return None
    if n_snap * len(row_ids) > MAX_SERIES_VALUES:
        problems.append(Problem(f"{n_snap:,} snapshots x {len(row_ids):,} rows is over the limit of "
                                f"{MAX_SERIES_VALUES:,} values", file, None, field, root=True))
        return None
    values = np.asarray(values)
    columns = [str(c) for c in columns]
    if values.ndim != 2 or values.shape != (n_snap, len(columns)):
        problems.append(Problem(f"values of shape {values.shape}", file, None, field,
                                expected=f"shape ({n_snap}, {len(columns)}): snapshots x ids", root=True))
        return None
    from ..schema import did_you_mean

    index = pd.Index(row_ids.astype(object) if hasattr(row_ids, "astype") else list(row_ids))
    pos = index.get_indexer(columns)
    for j in np.flatnonzero(pos < 0):
        problems.append(Problem(f"unknown {kind} id column {columns[j]!r}{did_you_mean(columns[j], index)}", file,
                                header_line, field, columns[j], expected=f"a {kind} id",
                                root=True))
    seen = pd.Index(columns).duplicated()
    for j in np.flatnonzero(seen):
        problems.append(Problem(f"column {columns[j]!r} appears more than once", file, header_line, field, columns[j],
                                root=True))
    # numbers: floats as they are; text through pandas (vectorised), the few non-numbers one by one
    if values.dtype.kind in "fiu":
        numeric = values.astype(float)
        blank = np.isnan(numeric)
        raw = None
    else:
        raw = values.astype(object)
        flat = pd.Series(raw.ravel(), dtype=object)
        flat = flat.where(~flat.map(lambda v: isinstance(v, (bool, np.bool_))).astype(bool), "true")
        as_text = flat.astype(str).str.strip().str.lower()
        blank = (flat.isna() | as_text.isin(["", "nan", "none"])).to_numpy().reshape(values.shape)
        numeric = pd.to_numeric(flat.where(~blank.ravel(), None), errors="coerce").to_numpy(dtype=float)
        numeric = numeric.reshape(values.shape).copy()
    bad = np.isnan(numeric) & ~blank
    if bad.any():
        found = []
        for i, j in np.argwhere(bad)[:MAX_CELL_PROBLEMS]:
            v = raw[i, j]
            if isinstance(v, str):
                try:
                    numeric[i, j] = registry.parse_quantity(v, column_units[j] or canonical, rates)
                    bad[i, j] = False
                    continue
                except (UnitError, ValueError, TypeError):
                    pass
            found.append(Problem(f"not a number at snapshot {_label(snapshots[i])}", file, _line(lines, i),
                                 f"{kind}[{columns[j]}].{spec.name}", str(v), expected=f"a number in {canonical}"))
        _add_capped(problems, found, int(bad.sum()), file, field, "values that are not numbers")
    # units: one conversion per distinct unit, over all its columns at once
    unit_of = np.array([u if u not in (None, "") else canonical for u in column_units], dtype=object)
    for unit in pd.unique(unit_of):
        cols = np.flatnonzero(unit_of == unit)
        try:
            numeric[:, cols] = registry.convert(numeric[:, cols], unit, canonical, rates)
        except UnitError as err:
            problems.append(Problem(f"wrong unit: {err}", file, (unit_lines or {}).get(unit, header_line), field,
                                    str(unit),
                                    expected=f"a unit of {registry.dimension(canonical)} such as {canonical!r}",
                                    root=True))
            bad[:, cols] = True
    ok = ~blank & ~bad
    checks = []  # (mask, message, why, expected)
    if not spec.infinite:
        checks.append((np.isinf(numeric) & ok, "not a finite number", "",
                       f"a finite number {spec.range_text()} {canonical}"))
    reason = spec.description.split("range: ", 1)[1] if "range: " in spec.description else ""
    checks.append((spec.out_of_range(numeric) & ok & (~np.isinf(numeric) if not spec.infinite else True),
                   "out of range", f" ({reason})" if reason else "", f"{spec.range_text()} {canonical}"))
    if spec.dtype == "int":
        with np.errstate(invalid="ignore"):
            checks.append((ok & np.isfinite(numeric) & (numeric != np.round(numeric)), "not an integer", "",
                           "an integer"))
    for mask, message, why, expected in checks:
        if not mask.any():
            continue
        found = [Problem(f"{message} at snapshot {_label(snapshots[i])}{why}", file, _line(lines, i),
                         f"{kind}[{columns[j]}].{spec.name}",
                         str(raw[i, j]) if raw is not None else f"{numeric[i, j]:g}",
                         expected=" ".join(expected.split()))
                 for i, j in np.argwhere(mask)[:MAX_CELL_PROBLEMS]]
        _add_capped(problems, found, int(mask.sum()), file, field, f"values {message}")
    if len(problems) > before:
        return None
    out = np.array(np.broadcast_to(np.asarray(static, dtype=float)[None, :], (n_snap, len(row_ids))))
    out[:, pos] = np.where(blank, np.nan, numeric)
    out = np.where(np.isnan(out), np.asarray(static, dtype=float)[None, :], out)
    if spec.dtype == "int":
        out = out.astype(np.int64)
    return out
