"""Scenario files: YAML with inline tables or CSV references. Loading never executes code.

Format (version 1)::

    workbench: 1
    name: my-scenario
    description: free text
    parameters: {route_factor: 1.5}
    tables:
      site: {csv: sites.csv}                        # CSV headers may carry units: "capacity [MW]"
      link:
        units: {capacity: Gbit/s}                   # units of the inline values below
        rows:
          - {id: a-b, src: a, dst: b, capacity: 400}
          - {id: b-c, src: b, dst: c, capacity: "800 Gbit/s"}
      device: {csv: metros.csv, defaults: {class: resident}}
      chip: {dataset: chips}                        # a registered catalogue (`workbench datasets`)

Every problem in the file (unknown attribute, wrong unit string, missing required field, link
to a missing site, duplicate id, NaN coordinates, ...) is reported at once in one
:class:`~workbench.errors.ScenarioError`, each with file, line and field.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import Problem, ScenarioError
from ..model import Origin, Scenario
from ..units import split_header
from .safe_files import MAX_CSV_BYTES, MAX_YAML_BYTES, FileProblem, load_yaml, read_text

TOP_LEVEL = {"workbench", "name", "description", "parameters", "tables", "sources", "notes", "snapshots", "timeseries"}
TABLE_KEYS = {"csv", "rows", "dataset", "units", "defaults", "description", "source"}


def _strip(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _strip(v) for k, v in d.items() if k not in ("__line__", "__lines__")}
    if isinstance(d, list):
        return [_strip(v) for v in d]
    return d


def _looks_like_csv(text: str) -> bool:
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    return first.count(",") >= 1 and ":" not in first and not first.lstrip().startswith(("-", "#", "{", "["))


def plain_csv_problem(file: str) -> Problem:
    """The problem reported when a CSV table is given where a scenario is expected."""
    return Problem("this is a CSV table, not a scenario: write a scenario YAML file next to it that references it, "
                   "e.g. 'workbench: 1' and 'tables: {site: {csv: " + Path(file).name + "}}'", file, 1,
                   expected="a scenario file (.yaml), a NetCDF (.nc) or Zarr (.zarr) scenario, or a dataset name",
                   root=True)


def read_csv_table(path: Path, problems: list[Problem], field: str) -> tuple[pd.DataFrame, dict[str, str | None], Origin]:
    """Read a CSV with ``name [unit]`` headers, keeping each row's line number.

    The file must be UTF-8 text (a byte-order mark, as Excel writes, is accepted) of at most
    :data:`~workbench.io.safe_files.MAX_CSV_BYTES`; anything else is one root problem naming the file.
    """
    try:
        text = read_text(path, what="CSV file", max_bytes=MAX_CSV_BYTES, field=field)
    except FileProblem as err:
        problems.append(err.problem)
        return pd.DataFrame(), {}, Origin(str(path))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        problems.append(Problem("CSV file is empty: expected a header row", str(path), 1, field, root=True))
        return pd.DataFrame(), {}, Origin(str(path))
    except csv.Error as err:
        problems.append(Problem(f"not a readable CSV file: {err}", str(path), 1, field, root=True))
        return pd.DataFrame(), {}, Origin(str(path))
    names, units = [], {}
    for h in header:
        name, unit = split_header(h)
        names.append(name)
        units[name] = unit
    rows, lines = [], []
    try:
        for row in reader:
            if not any(c.strip() for c in row):
                continue
            if len(row) != len(names):
                problems.append(Problem(f"expected {len(names)} columns like the header, found {len(row)}",
                                        str(path), reader.line_num, field))
                continue
            rows.append([c if c.strip() != "" else None for c in row])
            lines.append(reader.line_num)
    except csv.Error as err:
        problems.append(Problem(f"not a readable CSV file: {err}", str(path), reader.line_num, field, root=True))
    frame = pd.DataFrame(rows, columns=names, dtype=object)
    return frame, units, Origin(str(path), tuple(lines), header_line=1)


def _shipped_datasets() -> Path:
    """The installed ``datasets/`` folder: shipped, read-only data any scenario may reference."""
    from importlib import resources

    return Path(str(resources.files("workbench_datasets"))).resolve()


def _resolve_reference(folder: Path, reference: str) -> tuple[Path, str]:
    """``(resolved path, "")`` of a ``csv:`` reference, or ``(folder, why)`` when the text cannot be a path.

    Refused (rather than raised from deep inside :mod:`pathlib`): control characters such as a NUL
    byte, names longer than the file system allows, symbolic-link loops.
    """
    bad = sorted({f"U+{ord(c):04X}" for c in reference if ord(c) < 32 or ord(c) == 127})
    if bad:
        return folder, f"it contains control characters ({', '.join(bad)})"
    try:
        return (folder / reference).resolve(), ""
    except RuntimeError as err:  # Python 3.11: "Symlink loop from ..."
        return folder, f"symbolic-link loop ({err})"
    except (OSError, ValueError) as err:
        reason = os.strerror(err.errno) if isinstance(err, OSError) and err.errno else str(err)
        return folder, reason[:1].lower() + reason[1:]


def _not_a_file(target: Path) -> str:
    """"" if ``target`` is a readable regular file, else what it is ("not found", "is a directory", ...)."""
    try:
        st = target.stat()
    except FileNotFoundError:
        return "not found"
    except OSError as err:
        reason = os.strerror(err.errno) if err.errno else str(err)
        return f"cannot be opened ({reason[:1].lower() + reason[1:]})"
    except ValueError as err:
        return f"cannot be opened ({err})"
    if stat.S_ISDIR(st.st_mode):
        return "is a directory, not a file"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file (a device, pipe or socket)"
    return ""


def _dataset_table(kind: str, name: Any, file: str, line: int | None, field: str,
                   problems: list[Problem]) -> tuple[pd.DataFrame, dict[str, str | None], Origin] | None:
    """The rows of a registered catalogue (``chip: {dataset: chips}``) as an input table, or None (a problem)."""
    from ..plugins import collect
    from ..schema import did_you_mean

    specs = collect("datasets")
    catalogues = sorted(k for k, v in specs.items() if v.kind == "catalogue")
    if not isinstance(name, str) or name not in specs or specs[name].kind != "catalogue":
        what = "not a catalogue" if isinstance(name, str) and name in specs else "unknown catalogue"
        problems.append(Problem(f"{what} {name!r}{did_you_mean(str(name), catalogues)}", file, line, field,
                                str(name), expected=f"one of {', '.join(catalogues)}", root=True))
        return None
    ds = specs[name].load()
    dims = list(getattr(ds, "dims", ()))
    table_kind = getattr(ds, "attrs", {}).get("kind", kind)
    if len(dims) != 1 or dims[0] != kind or table_kind != kind:
        what = f"{table_kind!r}" if len(dims) == 1 and dims[0] == kind else f"{', '.join(map(str, dims)) or 'nothing'}"
        problems.append(Problem(f"catalogue {name!r} is a table of {what}, not of {kind!r}", file, line, field,
                                name, expected=f"a catalogue of {kind!r}", root=True))
        return None
    dim = dims[0]
    frame = pd.DataFrame({"id": ds[dim].values.astype(object),
                          **{str(n): ds[n].values.astype(object) for n in ds.data_vars}}, dtype=object)
    units = {str(n): ds[n].attrs.get("units") for n in ds.data_vars if ds[n].dtype.kind in "fiu"}
    return frame, units, Origin(f"{file} (dataset {name})", header_line=line)


def _confined(target: Path, root: Path, allowed: Iterable[Path]) -> bool:
    return any(target.is_relative_to(base) for base in (root, *allowed))


def checked_csv_path(reference: Any, folder: Path, root: Path, allowed: Iterable[Path], file: str, line: int | None,
                     field: str, problems: list[Problem]) -> Path | None:
    """The file a ``csv:`` reference names, or None (a root problem recorded): a non-empty relative path
    inside the scenario's folder tree (or an allowed folder) to a regular file."""
    if not isinstance(reference, str) or not reference.strip():
        problems.append(Problem("expected a CSV file name", file, line, field, str(reference),
                                expected="a path relative to the scenario file", root=True))
        return None
    csv_path, why = _resolve_reference(folder, reference)
    if why:
        problems.append(Problem(f"unusable CSV path: {why}", file, line, field, reference,
                                expected="a path relative to the scenario file", root=True))
        return None
    if not _confined(csv_path, root, allowed):
        problems.append(Problem(f"CSV path leaves the scenario's folder ({root}): it resolves to {csv_path}; "
                                "move the file into that folder tree or allow its folder explicitly "
                                "(load_scenario(..., allow_paths=[...]) or --allow-path DIR)", file, line, field,
                                reference, expected=f"a file under {root}", root=True))
        return None
    missing = _not_a_file(csv_path)
    if missing:
        problems.append(Problem(f"CSV file {missing}: {csv_path}", file, line, field, str(reference), root=True))
        return None
    return csv_path


def load_scenario_file(path: str | os.PathLike, *, allow_paths: Iterable[str | os.PathLike] = ()) -> Scenario:
    """Load and validate a YAML scenario file; raise :class:`ScenarioError` listing every problem.

    Parameters
    ----------
    path : path-like
        The scenario file (UTF-8 YAML, at most :data:`~workbench.io.safe_files.MAX_YAML_BYTES`).
    allow_paths : iterable of path-like
        Folders outside the scenario file's folder tree that its ``csv:`` references may read from.
        By default a reference that resolves outside the tree (``../../etc/passwd``, an absolute
        path, a symbolic link leading out) is refused; the workbench's own shipped ``datasets/``
        folder (e.g. ``catalogues/chips.csv``) is always allowed.
    """
    path = Path(path)
    file = str(path)
    try:
        text = read_text(path, what="scenario file", max_bytes=MAX_YAML_BYTES)
    except FileProblem as err:
        raise ScenarioError([err.problem], file) from None
    try:
        doc, yaml_problems = load_yaml(text, file)
    except FileProblem as err:
        if _looks_like_csv(text):
            raise ScenarioError([plain_csv_problem(file)], file) from None
        raise ScenarioError([err.problem], file) from None
    if yaml_problems and any("refused" in p.message for p in yaml_problems):
        raise ScenarioError(yaml_problems, file)  # never go on with a file that asked to run code
    if not isinstance(doc, dict) and _looks_like_csv(text):
        raise ScenarioError([plain_csv_problem(file)], file)
    root = path.parent.resolve()
    allowed = [Path(p).resolve() for p in allow_paths] + [_shipped_datasets()]
    if not isinstance(doc, dict):
        raise ScenarioError([Problem("expected a mapping with keys workbench, name, tables", file, 1)], file)
    problems: list[Problem] = list(yaml_problems)
    lines = doc.get("__lines__", {})
    for key in doc:
        if key not in TOP_LEVEL and key not in ("__line__", "__lines__"):
            problems.append(Problem(f"unknown key {key!r}; expected one of {', '.join(sorted(TOP_LEVEL))}",
                                    file, lines.get(key), key))
    if not (type(doc.get("workbench")) is int and doc.get("workbench") == 1):
        problems.append(Problem("expected 'workbench: 1' (the scenario format version)", file,
                                lines.get("workbench", 1), "workbench", str(doc.get("workbench", ""))))
    tables_doc = doc.get("tables")
    if not isinstance(tables_doc, dict):
        problems.append(Problem("expected a mapping 'tables' of kind -> {csv: FILE} or {rows: [...]}", file,
                                lines.get("tables"), "tables"))
        tables_doc = {}
    tables: dict[str, pd.DataFrame] = {}
    units: dict[str, dict[str, str | None]] = {}
    origins: dict[str, Origin] = {}
    tlines = tables_doc.get("__lines__", {})
    unreadable = False  # a table could not be read: cross-table checks would only repeat that problem
    for kind, spec in tables_doc.items():
        if kind in ("__line__", "__lines__"):
            continue
        field = f"tables.{kind}"
        if not isinstance(spec, dict):
            problems.append(Problem("expected a mapping with 'csv' or 'rows'", file, tlines.get(kind), field))
            unreadable = True
            continue
        slines = spec.get("__lines__", {})
        for key in spec:
            if key not in TABLE_KEYS and key not in ("__line__", "__lines__"):
                problems.append(Problem(f"unknown key {key!r}; expected one of {', '.join(sorted(TABLE_KEYS))}",
                                        file, slines.get(key), f"{field}.{key}"))
        col_units: dict[str, str | None] = {}
        given = [k for k in ("csv", "rows", "dataset") if k in spec]
        if len(given) > 1:
            problems.append(Problem(f"give one of 'csv', 'rows' or 'dataset', not {' and '.join(given)}", file,
                                    spec["__line__"], field))
        if "dataset" in spec and "csv" not in spec and "rows" not in spec:
            found = _dataset_table(kind, spec["dataset"], file, slines.get("dataset"), f"{field}.dataset", problems)
            if found is None:
                unreadable = True
                continue
            frame, col_units, origin = found
        elif "csv" in spec:
            csv_path = checked_csv_path(spec["csv"], path.parent, root, allowed, file, slines.get("csv"),
                                        f"{field}.csv", problems)
            if csv_path is None:
                unreadable = True
                continue
            n_before = len(problems)
            frame, col_units, origin = read_csv_table(csv_path, problems, f"{field}.csv")
            unreadable |= len(problems) > n_before
        elif "rows" in spec:
            rows = spec["rows"] or []
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                problems.append(Problem("expected 'rows' to be a list of mappings", file, slines.get("rows"),
                                        f"{field}.rows"))
                unreadable = True
                continue
            clean_rows = []
            for r in rows:
                row = _strip(r)
                for col, value in list(row.items()):
                    if isinstance(value, (dict, list)):
                        problems.append(Problem("expected a single value, not a list or mapping", file,
                                                r.get("__lines__", {}).get(col, r["__line__"]), f"{field}.{col}",
                                                expected="a number, text, true/false or empty"))
                        row[col] = None
                clean_rows.append(row)
            frame = pd.DataFrame(clean_rows, dtype=object)
            column_lines: dict[str, int] = {}
            for r in rows:
                for col, line in r.get("__lines__", {}).items():
                    column_lines.setdefault(col, line)
            origin = Origin(file, tuple(r["__line__"] for r in rows), header_line=slines.get("rows"),
                            column_lines=column_lines)
        else:
            problems.append(Problem("expected 'csv: FILE', 'rows: [...]' or 'dataset: NAME'", file, spec.get("__line__"),
                                    field))
            unreadable = True
            continue
        raw_units = spec.get("units") or {}
        extra_units = _strip(raw_units)
        if not isinstance(extra_units, dict):
            problems.append(Problem("expected 'units' to map attribute -> unit", file, slines.get("units"),
                                    f"{field}.units"))
            extra_units = {}
        col_units.update({k: ("" if v is None else str(v)) for k, v in extra_units.items()})
        if extra_units:
            ulines = raw_units.get("__lines__", {})
            origin = dataclasses.replace(origin, unit_sources={
                **origin.unit_sources, **{k: (file, ulines.get(k, slines.get("units"))) for k in extra_units}})
        defaults = _strip(spec.get("defaults") or {})
        if not isinstance(defaults, dict):
            problems.append(Problem("expected 'defaults' to map attribute -> value", file, slines.get("defaults"),
                                    f"{field}.defaults"))
            defaults = {}
        for col, value in defaults.items():
            if isinstance(value, (dict, list)):
                problems.append(Problem("expected a single default value, not a list or mapping", file,
                                        slines.get("defaults"), f"{field}.defaults.{col}"))
                continue
            if col not in frame.columns:
                frame[col] = value
            else:
                frame[col] = frame[col].where(frame[col].notna(), value)
        tables[kind] = frame
        units[kind] = col_units
        origins[kind] = origin
    raw_params = doc.get("parameters") or {}
    params = _strip(raw_params)
    parameter_lines = raw_params.get("__lines__", {}) if isinstance(raw_params, dict) else {}
    if not isinstance(params, dict):
        problems.append(Problem("expected 'parameters' to be a mapping", file, lines.get("parameters"), "parameters"))
        params = {}
    from .timeseries_file import apply_time, read_time_blocks  # noqa: PLC0415 - it imports this module

    time_input = read_time_blocks(doc, path, root, allowed, problems)
    if problems and unreadable:
        raise ScenarioError(problems, file)
    attrs = {"source_file": path.name}
    if doc.get("sources"):
        attrs["sources"] = _strip(doc["sources"])
    try:  # the table checks run even when the file has structural problems: report everything at once
        scenario = Scenario.from_tables(tables, name=str(doc.get("name") or path.stem),
                                        description=str(doc.get("description") or ""), parameters=params,
                                        units=units, origins=origins, attrs=attrs, source=file,
                                        parameter_lines=parameter_lines)
    except ScenarioError as err:
        raise ScenarioError([*problems, *err.problems], file) from None
    if problems:
        raise ScenarioError(problems, file)
    scenario, time_problems = apply_time(scenario, time_input, file)
    if time_problems:
        raise ScenarioError(time_problems, file)
    return scenario
