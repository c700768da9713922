"""Writing scenarios back: scenario YAML + CSV files, GeoJSON of sites and links, and comparisons.

* :func:`to_files` writes ``scenario.yaml`` and one CSV per non-empty table, numeric headers
  carrying the canonical unit (``capacity [W]``), floats in their shortest exact form, so that
  :func:`workbench.load_scenario` gives back an identical scenario (tested).
* :func:`to_geojson` gives an RFC 7946 FeatureCollection: one Point per site (and optionally per
  device group) and one LineString per link, every attribute as a property; the units of the
  properties are listed in the collection's foreign member ``"units"``.
* :func:`compare` lists what differs between two scenarios as a table.

All writes are atomic (a temporary sibling renamed into place).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import WorkbenchError
from ..fileio import atomic_path, refuse_enclosing_folder
from ..model import Scenario
from ..plugins import get_plugin_manager

SCENARIO_FILE = "scenario.yaml"
SNAPSHOTS_FILE = "snapshots.csv"


def _cell(value: Any) -> str:
    """A CSV cell that reads back exactly: shortest round-trip floats, ``true``/``false``, text as is."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return "nan" if math.isnan(value) else repr(float(value))
    return "" if value is None else str(value)


def _table_rows(scenario: Scenario, kind: str) -> tuple[list[str], list[list[str]]] | None:
    schema = get_plugin_manager().schema
    ds = scenario[kind]
    spec = schema.kinds.get(kind)
    dims = spec.dims if spec is not None else tuple(ds.dims)
    attrs = schema.attributes.get(kind, {})
    names = [str(n) for n in ds.data_vars]
    header = []
    for n in names:
        unit = ds[n].attrs.get("units", "")
        header.append(f"{n} [{unit}]" if unit not in ("", "1", None) and ds[n].dtype.kind in "fiu" else n)
    if len(dims) == 1:
        if ds.sizes.get(dims[0], 0) == 0:
            return None
        columns = [ds[n].values for n in names]
        rows = [[_cell(i), *(_cell(c[j]) for c in columns)] for j, i in enumerate(ds[dims[0]].values)]
        return ["id", *header], rows
    frame = ds.to_dataframe().reset_index()
    keep = np.zeros(len(frame), dtype=bool)
    for n in names:  # a long table of the pairs that differ from the defaults (absent pairs read as defaults)
        default = attrs[n].default_value() if n in attrs else None
        values = frame[n].to_numpy()
        if default is None or (isinstance(default, float) and math.isnan(default)):
            keep |= ~pd.isna(values)
        else:
            keep |= values != default
    frame = frame[keep]
    if frame.empty:
        return None
    rows = [[_cell(v) for v in r] for r in frame[[*dims, *names]].itertuples(index=False)]
    return [*dims, *header], rows


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, float):
        return ".nan" if math.isnan(value) else (".inf" if value == math.inf else "-.inf" if value == -math.inf
                                                 else repr(value))
    if isinstance(value, (int, bool)):
        return json.dumps(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def output_names(kinds: Iterable[str] = ()) -> set[str]:
    """The file names :func:`to_files` may write: ``scenario.yaml``, ``KIND.csv`` for every known kind,
    ``snapshots.csv`` and ``timeseries.KIND.ATTRIBUTE.csv`` for every time-varying attribute."""
    schema = get_plugin_manager().schema
    series = {series_file(k, a) for k, attrs in schema.attributes.items() for a, spec in attrs.items()
              if spec.varies_in_time}
    return {SCENARIO_FILE, SNAPSHOTS_FILE, *series, *(f"{k}.csv" for k in {*schema.kinds, *kinds})}


def series_file(kind: str, attribute: str) -> str:
    """The CSV file name :func:`to_files` gives one attribute's time series."""
    return f"timeseries.{kind}.{attribute}.csv"


def _time_files(scenario: Scenario) -> tuple[list[str], dict[str, str]]:
    """The YAML lines and CSV texts of the scenario's time axis (none without one)."""
    if scenario.snapshots is None:
        return [], {}
    stamps = scenario.snapshots
    labels = pd.Series(stamps.astype(str), dtype=object)
    weights = scenario.snapshot_weight.values
    frame = pd.DataFrame({"snapshot": labels, "weight [h]": [repr(float(w)) for w in weights]})
    files = {SNAPSHOTS_FILE: frame.to_csv(index=False, lineterminator="\n")}
    lines = [f"snapshots: {{csv: {SNAPSHOTS_FILE}}}"]
    varying = scenario.time_varying
    if varying:
        lines.append("timeseries:")
    for kind, names in varying.items():
        for name in names:
            series = scenario.timeseries(kind, name)
            unit = series.attrs.get("units", "")
            ids = [str(i) for i in series[kind].values]
            header = ["snapshot", *(f"{i} [{unit}]" if unit not in ("", "1") else i for i in ids)]
            values = series.values
            cells = np.where(np.isnan(values), "nan", values.astype(str)) if values.dtype.kind == "f" \
                else values.astype(str)  # numpy's str of a float64 is its shortest exact repr
            body = pd.DataFrame(cells, columns=header[1:])
            body.insert(0, "snapshot", labels)
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(body.itertuples(index=False, name=None))
            files[series_file(kind, name)] = buf.getvalue()
            lines.append(f"  {kind}.{name}: {{csv: {series_file(kind, name)}}}")
    return lines, files


def check_output_folder(folder: str | os.PathLike, *, overwrite: bool = False, kinds: Iterable[str] = ()) -> None:
    """Raise :class:`WorkbenchError` unless :func:`to_files` may write ``folder``.

    Refused: the current folder or one of its parents; an existing file; an existing non-empty
    folder without ``overwrite``; and, even with ``overwrite``, a folder holding anything
    :func:`to_files` would not write (named in the message), since replacing the folder would
    delete it. Called before anything is written, so a command writing several outputs can check
    them all first.
    """
    folder = Path(folder)
    refuse_enclosing_folder(folder)
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise WorkbenchError(f"{folder} exists and is not a folder; give a folder for the scenario files")
    if not folder.exists():
        return
    entries = sorted(p.name for p in folder.iterdir())
    if not entries:
        return
    if not overwrite:
        raise WorkbenchError(f"{folder} exists and is not empty; pass overwrite=True (CLI: --force) to replace it")
    allowed = output_names(kinds)
    foreign = [name for name in entries if name not in allowed or not (folder / name).is_file()
               or (folder / name).is_symlink()]
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise WorkbenchError(f"{folder} holds files that are not a scenario written by to_files ({shown}); "
                             "replacing the folder would delete them: give a new or empty folder")


def to_files(scenario: Scenario, folder: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write ``scenario`` as ``folder/scenario.yaml`` plus one CSV per non-empty table.

    Parameters
    ----------
    scenario : Scenario
    folder : path-like
        Created if missing; replaced as a whole when ``overwrite`` is true (the new folder is
        written aside, the old one renamed away, the new one moved in, then the old one deleted).
        Never the current folder or a parent of it.
    overwrite : bool
        Replace an existing folder holding a previous ``to_files`` output (default: refuse a
        non-empty folder). A folder holding any other file is always refused (see
        :func:`check_output_folder`).

    Returns
    -------
    Path
        The scenario file, ``folder/scenario.yaml``.
    """
    folder = Path(folder)
    check_output_folder(folder, overwrite=overwrite, kinds=scenario.kinds)
    lines = ["# written by workbench Scenario.to_files; reads back identical with workbench.load_scenario",
             "workbench: 1", f"name: {_yaml_scalar(scenario.name)}",
             f"description: {_yaml_scalar(scenario.description)}"]
    params = {k: v for k, v in scenario.parameters.items() if not (isinstance(v, float) and math.isnan(v))}
    lines += ["parameters:", *(f"  {k}: {_yaml_scalar(float(v))}" for k, v in params.items())] if params \
        else ["parameters: {}"]
    if scenario.attrs.get("sources"):
        lines.append(f"sources: {json.dumps(scenario.attrs['sources'], ensure_ascii=False, default=str)}")
    lines.append("tables:")
    files: dict[str, str] = {}
    for kind in scenario.kinds:
        table = _table_rows(scenario, kind)
        if table is None:
            continue
        header, rows = table
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        files[f"{kind}.csv"] = buf.getvalue()
        lines.append(f"  {kind}: {{csv: {kind}.csv}}")
    if not files:
        lines[-1] = "tables: {}"
    time_lines, time_files = _time_files(scenario)
    lines += time_lines
    files.update(time_files)
    files[SCENARIO_FILE] = "\n".join(lines) + "\n"
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
    return folder / SCENARIO_FILE


def _json_value(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(value) else float(value)
    return str(value)


def to_geojson(scenario: Scenario, path: str | os.PathLike | None = None, *, devices: bool = False) -> dict:
    """Sites (Points), links (LineStrings) and optionally device groups (Points) as GeoJSON.

    Coordinates are ``[lon, lat]`` in WGS84 (RFC 7946); NaN becomes ``null``. Each feature has
    ``properties`` with ``kind``, ``id`` and every attribute; the collection's ``"units"`` member
    maps ``kind.attribute`` to its unit. With ``path`` the collection is also written (atomically).
    """
    features = []
    units: dict[str, str] = {}
    site = scenario["site"]
    coords = {s: (float(x), float(y)) for s, x, y in zip(site["site"].values, site["lon"].values, site["lat"].values,
                                                         strict=True)}
    kinds = ["site", "link"] + (["device"] if devices else [])
    for kind in kinds:
        ds = scenario[kind]
        names = [str(n) for n in ds.data_vars]
        units.update({f"{kind}.{n}": ds[n].attrs["units"] for n in names if ds[n].attrs.get("units")})
        for j, ident in enumerate(ds[kind].values):
            props = {"kind": kind, "id": str(ident), **{n: _json_value(ds[n].values[j]) for n in names}}
            if kind == "link":
                a, b = coords.get(props["src"]), coords.get(props["dst"])
                geometry = None if a is None or b is None else {"type": "LineString", "coordinates": [list(a),
                                                                                                      list(b)]}
            else:
                geometry = {"type": "Point", "coordinates": [_json_value(ds["lon"].values[j]),
                                                             _json_value(ds["lat"].values[j])]}
            features.append({"type": "Feature", "id": f"{kind}/{ident}", "geometry": geometry, "properties": props})
    collection = {"type": "FeatureCollection", "name": scenario.name, "features": features, "units": units}
    if path is not None:
        path = Path(path)
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(collection, ensure_ascii=False, allow_nan=False), encoding="utf-8")
    return collection


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, (float, np.floating)) and isinstance(y, (float, np.floating)):
        return bool(x == y or (math.isnan(x) and math.isnan(y)))
    return bool(x == y)


def compare(a: Scenario, b: Scenario) -> pd.DataFrame:
    """What differs between two scenarios, one row per difference.

    Columns: ``kind`` (or ``parameters`` / ``scenario``), ``id`` (row id; ``site/chip`` for the
    inventory), ``attribute``, ``a``, ``b`` and ``change`` (``changed``, ``only in a``, ``only in b``).
    An empty table means the scenarios hold the same data.
    """
    rows: list[dict[str, Any]] = []

    def add(kind, ident, attribute, va, vb, change="changed"):
        rows.append({"kind": kind, "id": ident, "attribute": attribute, "a": va, "b": vb, "change": change})

    for field in ("name", "description"):
        if getattr(a, field) != getattr(b, field):
            add("scenario", "", field, getattr(a, field), getattr(b, field))
    for key in sorted(set(a.parameters) | set(b.parameters)):
        va, vb = a.parameters.get(key), b.parameters.get(key)
        if key not in b.parameters:
            add("parameters", "", key, va, None, "only in a")
        elif key not in a.parameters:
            add("parameters", "", key, None, vb, "only in b")
        elif not _same(va, vb):
            add("parameters", "", key, va, vb)
    for kind in [*a.kinds, *[k for k in b.kinds if k not in a.kinds]]:
        if kind not in b.kinds or kind not in a.kinds:
            add(kind, "", "", None, None, "only in a" if kind in a.kinds else "only in b")
            continue
        fa, fb = a.to_frame(kind), b.to_frame(kind)
        if isinstance(fa.index, pd.MultiIndex):
            fa.index = ["/".join(map(str, t)) for t in fa.index]
            fb.index = ["/".join(map(str, t)) for t in fb.index]
        for ident in fa.index.difference(fb.index, sort=False):
            add(kind, str(ident), "", None, None, "only in a")
        for ident in fb.index.difference(fa.index, sort=False):
            add(kind, str(ident), "", None, None, "only in b")
        for col in [*fa.columns, *[c for c in fb.columns if c not in fa.columns]]:
            if col not in fb.columns or col not in fa.columns:
                add(kind, "", col, None, None, "only in a" if col in fa.columns else "only in b")
                continue
            common = fa.index.intersection(fb.index, sort=False)
            for ident, va, vb in zip(common, fa.loc[common, col].tolist(), fb.loc[common, col].tolist(), strict=True):
                if not _same(va, vb):
                    add(kind, str(ident), col, va, vb)
    return pd.DataFrame(rows, columns=["kind", "id", "attribute", "a", "b", "change"])
