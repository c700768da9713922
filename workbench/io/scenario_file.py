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

Every problem in the file (unknown attribute, wrong unit string, missing required field, link
to a missing site, duplicate id, NaN coordinates, ...) is reported at once in one
:class:`~workbench.errors.ScenarioError`, each with file, line and field.
"""

from __future__ import annotations

import csv
import dataclasses
import os
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..errors import Problem, ScenarioError
from ..model import Origin, Scenario
from ..units import split_header

TOP_LEVEL = {"workbench", "name", "description", "parameters", "tables", "sources", "notes"}
TABLE_KEYS = {"csv", "rows", "units", "defaults", "description", "source"}


class _LineLoader(yaml.SafeLoader):
    """Safe YAML loader that records the line of every mapping and of each of its keys."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    mapping["__lines__"] = {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


#: the only tags a scenario file may use: YAML's plain data types (what ``yaml.SafeLoader`` constructs)
_SAFE_TAGS = frozenset(t for t in yaml.SafeLoader.yaml_constructors if t is not None)


def _refused_tags(text: str, file: str) -> list[Problem]:
    """Every tag the safe loader refuses (``!!python/object...``, custom ``!tags``), with line and field.

    Works on the composed node tree, which is built without constructing (so without running) anything.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    problems: list[Problem] = []
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        node, where = stack.pop()
        if node is None:
            continue
        if node.tag not in _SAFE_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            problems.append(Problem(f"YAML tag {tag!r} refused: scenario files hold plain data only and are never "
                                    "executed", file, node.start_mark.line + 1, where or "<document>", tag))
            continue
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.tag not in _SAFE_TAGS:
                    stack.append((key, where or "<document>"))
                    continue
                name = key.value if isinstance(key, yaml.ScalarNode) else "?"
                stack.append((value, f"{where}.{name}" if where else str(name)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((value, f"{where}[{i}]") for i, value in enumerate(node.value))
    return problems


def _strip(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _strip(v) for k, v in d.items() if k not in ("__line__", "__lines__")}
    if isinstance(d, list):
        return [_strip(v) for v in d]
    return d


def read_csv_table(path: Path, problems: list[Problem], field: str) -> tuple[pd.DataFrame, dict[str, str | None], Origin]:
    """Read a CSV with ``name [unit]`` headers, keeping each row's line number."""
    try:
        fh = open(path, newline="", encoding="utf-8")
    except OSError as err:
        problems.append(Problem(f"cannot read CSV file: {err.strerror or err}", str(path), None, field))
        return pd.DataFrame(), {}, Origin(str(path))
    with fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            problems.append(Problem("CSV file is empty: expected a header row", str(path), 1, field))
            return pd.DataFrame(), {}, Origin(str(path))
        except (csv.Error, UnicodeDecodeError) as err:
            problems.append(Problem(f"not a readable UTF-8 CSV file: {err}", str(path), 1, field))
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
        except (csv.Error, UnicodeDecodeError) as err:
            problems.append(Problem(f"not a readable UTF-8 CSV file: {err}", str(path), reader.line_num, field))
    frame = pd.DataFrame(rows, columns=names, dtype=object)
    return frame, units, Origin(str(path), tuple(lines), header_line=1)


def load_scenario_file(path: str | os.PathLike) -> Scenario:
    """Load and validate a YAML scenario file; raise :class:`ScenarioError` listing every problem."""
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ScenarioError([Problem(f"cannot read scenario file: {err.strerror or err}", file)], file) from None
    try:
        doc = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except yaml.YAMLError as err:
        refused = _refused_tags(text, file) if isinstance(err, yaml.constructor.ConstructorError) else []
        if refused:
            raise ScenarioError(refused, file) from None
        mark = getattr(err, "problem_mark", None)
        raise ScenarioError([Problem(f"not valid YAML: {getattr(err, 'problem', err)}", file,
                                     mark.line + 1 if mark else None)], file) from None
    if not isinstance(doc, dict):
        raise ScenarioError([Problem("expected a mapping with keys workbench, name, tables", file, 1)], file)
    problems: list[Problem] = []
    lines = doc.get("__lines__", {})
    for key in doc:
        if key not in TOP_LEVEL and key not in ("__line__", "__lines__"):
            problems.append(Problem(f"unknown key {key!r}; expected one of {', '.join(sorted(TOP_LEVEL))}",
                                    file, lines.get(key), key))
    if doc.get("workbench") != 1:
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
        if "csv" in spec and "rows" in spec:
            problems.append(Problem("give either 'csv' or 'rows', not both", file, spec["__line__"], field))
        if "csv" in spec:
            csv_path = (path.parent / str(spec["csv"])).resolve()
            if not csv_path.is_file():
                problems.append(Problem(f"CSV file not found: {csv_path}", file, slines.get("csv"), f"{field}.csv",
                                        str(spec["csv"])))
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
            frame = pd.DataFrame([_strip(r) for r in rows], dtype=object)
            column_lines: dict[str, int] = {}
            for r in rows:
                for col, line in r.get("__lines__", {}).items():
                    column_lines.setdefault(col, line)
            origin = Origin(file, tuple(r["__line__"] for r in rows), header_line=slines.get("rows"),
                            column_lines=column_lines)
        else:
            problems.append(Problem("expected 'csv: FILE' or 'rows: [...]'", file, spec.get("__line__"), field))
            unreadable = True
            continue
        raw_units = spec.get("units") or {}
        extra_units = _strip(raw_units)
        if not isinstance(extra_units, dict):
            problems.append(Problem("expected 'units' to map attribute -> unit", file, slines.get("units"),
                                    f"{field}.units"))
            extra_units = {}
        col_units.update({k: str(v) for k, v in extra_units.items()})
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
            if col not in frame.columns:
                frame[col] = value
            else:
                frame[col] = frame[col].where(frame[col].notna(), value)
        tables[kind] = frame
        units[kind] = col_units
        origins[kind] = origin
    params = _strip(doc.get("parameters") or {})
    if not isinstance(params, dict):
        problems.append(Problem("expected 'parameters' to be a mapping", file, lines.get("parameters"), "parameters"))
        params = {}
    if problems and unreadable:
        raise ScenarioError(problems, file)
    attrs = {"source_file": path.name}
    if doc.get("sources"):
        attrs["sources"] = _strip(doc["sources"])
    try:  # the table checks run even when the file has structural problems: report everything at once
        scenario = Scenario.from_tables(tables, name=str(doc.get("name") or path.stem),
                                        description=str(doc.get("description") or ""), parameters=params,
                                        units=units, origins=origins, attrs=attrs, source=file)
    except ScenarioError as err:
        raise ScenarioError([*problems, *err.problems], file) from None
    if problems:
        raise ScenarioError(problems, file)
    return scenario
