"""Import network topologies from GraphML and GML files written the Internet Topology Zoo way.

:func:`read_topology` turns one file into a :class:`TopologyImport`: a site table (one row per
point of presence) and a link table (one row per connected pair of sites), plus two tuples of
one-line notes saying what the importer dropped and what it filled in. Both formats go through the
same rules; the parsers are written on the standard library (``xml.etree`` for GraphML, a small
tokenizer for GML) so that messy values never abort an import and every failure is one
:class:`TopologyError` line naming the file.

Rules
-----
Sites
    One per node, in file order. The **site id** is the node's ``label`` with surrounding blanks
    removed and inner runs of blanks collapsed to one space (Unicode is kept as is); a missing,
    empty or ``"None"`` label (the Zoo toolset writes ``None`` for unnamed nodes) falls back to the
    node id of the file. Ids are made unique first come, first served in file order: the second
    ``"A"`` becomes ``"A (2)"``, the third ``"A (3)"`` (skipping any candidate already taken). Ids
    are assigned before any node is dropped, so they depend on the file alone. ``name`` is the
    label as read (the node id if there is none), ``country`` the ``Country`` attribute ("" if
    unknown), ``tier`` is always ``"pop"``.
Coordinates
    ``Longitude``/``Latitude`` in degrees. Missing, non-numeric, non-finite or out-of-range
    (outside [-180, 180] x [-90, 90]) values count as missing, and a node missing either one has
    no position. Such nodes are placed at the mean position of their located neighbours; this is
    repeated, using positions filled in earlier rounds, until a round fills nothing, so chains of
    unlocated nodes fill from their ends (a node with a single located neighbour lands on it). The
    longitude mean is taken across the antimeridian when the neighbours straddle it. Nodes still
    without a position are dropped together with their edges.
Links
    Edges whose end is not a declared node and self-loops are dropped. All edges between one pair
    of sites (parallel edges, and both directions of a directed graph) become **one** link,
    oriented like the first such edge in the file, with id ``"<src>--<dst>"`` (a ``"#2"``, ``"#3"``
    suffix only if that string is already taken). Its ``capacity`` is, per direction, the sum of the
    known capacities of the edges in that direction (an undirected edge counts in both), and the
    larger of the two directions; for an undirected graph this is simply the sum of the known
    capacities of the parallel edges, NaN if none is known. ``length`` is NaN (the latency engine
    uses great-circle distance x route factor), ``tech`` is ``"fibre"``.
Capacity of an edge
    ``LinkSpeedRaw`` (bit/s) if it is a positive finite number, else ``LinkSpeed`` x the factor of
    ``LinkSpeedUnits`` (``K``, ``M``, ``G``, ``T``, case-insensitive, optionally followed by
    ``b``, ``bps``, ``bit/s``; a unit may also trail the number, e.g. ``"10G"``), else NaN. A value
    that is present but cannot be read gives NaN and a note in ``dropped``.
Isolated nodes
    Nodes left without any link are **kept** as sites (they may host compute); they are listed in
    ``filled`` so the user sees they are unreachable over this network. Topology Zoo
    ``hyperedge`` nodes (a shared medium drawn as a node) are kept as ordinary sites and listed too.
Notes
    ``dropped`` lists data the import threw away (nodes, edges, self-loops, unreadable coordinate
    or capacity values); ``filled`` lists data it made up, combined or renamed (filled positions,
    merged edges, suffixed ids, ids taken from node ids) and the isolated/hyperedge nodes kept.
    Each line summarises one kind of event and names the site ids concerned.
Name
    The graph attribute ``Network`` (blank-trimmed), else the file stem.
"""

from __future__ import annotations

import html
import math
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import WorkbenchError

__all__ = ["TopologyError", "TopologyImport", "read_topology", "SITE_COLUMNS", "LINK_COLUMNS", "FORMATS"]

SITE_COLUMNS = ("id", "name", "lon", "lat", "country", "tier", "source")
LINK_COLUMNS = ("id", "src", "dst", "capacity", "length", "tech", "source")

#: accepted ``format`` values and the file suffixes that select them
FORMATS = {"graphml": (".graphml", ".xml"), "gml": (".gml",)}
_FORMAT_ALIASES = {"graphml": "graphml", "xml": "graphml", "gml": "gml"}


class TopologyError(WorkbenchError, ValueError):
    """A topology file cannot be imported; the message is one line, ``<file>: <what is wrong>``."""


@dataclass(frozen=True, eq=False, repr=False)
class TopologyImport:
    """A topology read from a file.

    Attributes
    ----------
    sites : pandas.DataFrame
        Columns ``id`` (unique str), ``name``, ``lon`` (degree_east), ``lat`` (degree_north),
        ``country`` ("" if unknown), ``tier`` (``"pop"``), ``source`` (``"topology-zoo:<file name>"``).
    links : pandas.DataFrame
        Columns ``id`` (unique, ``"<src>--<dst>"``), ``src``, ``dst`` (site ids), ``capacity``
        (bit/s, NaN = unknown), ``length`` (km, always NaN), ``tech`` (``"fibre"``), ``source``.
        One row per connected pair; no self-loops.
    dropped : tuple of str
        One line per kind of data thrown away, with the reason.
    filled : tuple of str
        One line per kind of data filled in, merged or renamed, with the rule used.
    name : str
        Network name.
    """

    sites: pd.DataFrame
    links: pd.DataFrame
    dropped: tuple[str, ...] = field(default=())
    filled: tuple[str, ...] = field(default=())
    name: str = ""

    def __repr__(self) -> str:
        return (f"TopologyImport(name={self.name!r}, sites={len(self.sites)}, links={len(self.links)}, "
                f"dropped={len(self.dropped)} notes, filled={len(self.filled)} notes)")


def read_topology(path: str | os.PathLike, format: str | None = None) -> TopologyImport:
    """Read a GraphML or GML topology file (Internet Topology Zoo conventions).

    Parameters
    ----------
    path : str or path-like
        The file.
    format : {"graphml", "gml"} or None
        File format (``"xml"`` is accepted for GraphML); None picks it from the suffix:
        ``.graphml``/``.xml`` -> GraphML, ``.gml`` -> GML.

    Returns
    -------
    TopologyImport

    Raises
    ------
    TopologyError
        Unknown format, unreadable file, malformed XML/GML, no nodes, or no node with a position.
        The message is one line starting with the file name.

    Examples
    --------
    >>> topo = read_topology("../shared/data/topology-zoo/Chinanet.graphml")  # doctest: +SKIP
    >>> topo.sites[["id", "lon", "lat"]].head(2)  # doctest: +SKIP
    """
    path = Path(path)
    fmt = _resolve_format(path, format)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _error(path, f"cannot read the file ({exc.strerror or exc})") from None
    raw = _parse_graphml(path, data) if fmt == "graphml" else _parse_gml(path, data)
    return _build(path, raw)


# ----------------------------------------------------------------------------------------------
# helpers shared by both parsers


def _error(path: Path, message: str) -> TopologyError:
    return TopologyError(" ".join(f"{path}: {message}".split()))


def _resolve_format(path: Path, format: str | None) -> str:
    accepted = "; ".join(f"{name} ({', '.join(sfx)})" for name, sfx in FORMATS.items())
    if format is not None:
        key = str(format).strip().lower().lstrip(".")
        if key not in _FORMAT_ALIASES:
            raise _error(path, f"unknown topology format {format!r}; accepted formats: {accepted}")
        return _FORMAT_ALIASES[key]
    suffix = path.suffix.lower()
    for name, suffixes in FORMATS.items():
        if suffix in suffixes:
            return name
    raise _error(path, f"cannot tell the topology format from the suffix {path.suffix or '(none)'!r}; "
                       f"accepted formats: {accepted} (or pass format=)")


@dataclass
class _Raw:
    """What a parser found, before any cleaning. Values are as read (str, int or float)."""

    graph: dict[str, object]
    nodes: list[tuple[str | None, dict[str, object]]]          # (node id, attributes)
    edges: list[tuple[str | None, str | None, dict[str, object], bool]]  # (source, target, attributes, directed)
    dropped: list[str]


def _text(value: object) -> str:
    """A value as text with blanks collapsed; "" for absent values and the Zoo's literal "None"."""
    if value is None:
        return ""
    text = " ".join(str(value).split())
    return "" if text == "None" else text


def _number(value: object) -> float | None:
    """A float, or None if the value is absent; NaN if present but not a number."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    text = _text(value)
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return math.nan


def _list(items: list[str]) -> str:
    return ", ".join(items)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


# ----------------------------------------------------------------------------------------------
# GraphML


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _parse_graphml(path: Path, data: bytes) -> _Raw:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise _error(path, f"not valid XML ({exc})") from None
    if _local(root.tag) != "graphml":
        raise _error(path, f"not GraphML: the root element is <{_local(root.tag)}>, expected <graphml>")
    keys: dict[str, tuple[str, str]] = {}              # key id -> (attribute name, domain)
    defaults: dict[str, dict[str, str]] = {"node": {}, "edge": {}, "graph": {}}
    for el in root:
        if _local(el.tag) != "key" or el.get("id") is None:
            continue
        name, domain = el.get("attr.name") or el.get("id"), el.get("for", "all")
        keys[el.get("id")] = (name, domain)
        default = next((d for d in el if _local(d.tag) == "default"), None)
        if default is not None:
            for dom in (("node", "edge", "graph") if domain == "all" else (domain,)):
                if dom in defaults:
                    defaults[dom][name] = default.text or ""

    def attributes(el: ET.Element, domain: str) -> dict[str, object]:
        out: dict[str, object] = dict(defaults[domain])
        for d in el:
            if _local(d.tag) == "data":
                name = keys.get(d.get("key", ""), (d.get("key", ""), ""))[0]
                out[name] = d.text or ""
        return out

    graphs = [el for el in root if _local(el.tag) == "graph"]
    if not graphs:
        raise _error(path, "GraphML file without a <graph> element")
    g = graphs[0]
    dropped: list[str] = []
    if len(graphs) > 1:
        dropped.append(f"{len(graphs) - 1} further <graph> elements ignored (only the first graph is read)")
    directed_default = g.get("edgedefault", "undirected").strip().lower() == "directed"
    nodes, edges, hyper = [], [], 0
    for el in g.iter():
        tag = _local(el.tag)
        if tag == "node":
            nodes.append((el.get("id"), attributes(el, "node")))
        elif tag == "edge":
            flag = el.get("directed")
            directed = directed_default if flag is None else flag.strip().lower() in ("true", "1")
            edges.append((el.get("source"), el.get("target"), attributes(el, "edge"), directed))
        elif tag == "hyperedge":
            hyper += 1
    if hyper:
        dropped.append(f"{_plural(hyper, '<hyperedge> element')} ignored (not supported)")
    return _Raw(attributes(g, "graph"), nodes, edges, dropped)


# ----------------------------------------------------------------------------------------------
# GML

_GML_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"[^"]*")
  | (?P<open>\[)
  | (?P<close>\])
  | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![A-Za-z0-9_])
  | (?P<word>[+-]?[A-Za-z_][A-Za-z0-9_]*)
""", re.VERBOSE)

_GML_SPECIAL = {"inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "nan": math.nan, "+nan": math.nan,
                "-nan": math.nan}


def _gml_tree(path: Path, text: str) -> list[tuple[str, object]]:
    """Parse GML text into nested lists of (key, value) pairs (a list value is a ``[ ... ]`` block)."""
    root: list[tuple[str, object]] = []
    stack = [root]
    key: str | None = None
    pos, line = 0, 1
    while pos < len(text):
        m = _GML_TOKEN.match(text, pos)
        if m is None:
            what = "unterminated string" if text[pos] == '"' else f"unexpected character {text[pos]!r}"
            raise _error(path, f"not valid GML: line {line}: {what}")
        kind, tok = m.lastgroup, m.group()
        if kind in ("space", "comment"):
            pass
        elif key is None:
            if kind == "close":
                if len(stack) == 1:
                    raise _error(path, f"not valid GML: line {line}: ']' without a matching '['")
                stack.pop()
            elif kind == "word" and tok[0] not in "+-":
                key = tok
            else:
                raise _error(path, f"not valid GML: line {line}: expected a key, found {tok!r}")
        else:
            if kind == "open":
                block: list[tuple[str, object]] = []
                stack[-1].append((key, block))
                stack.append(block)
            elif kind == "close":
                raise _error(path, f"not valid GML: line {line}: key {key!r} has no value")
            else:
                if kind == "string":
                    value: object = html.unescape(tok[1:-1])
                elif kind == "number":
                    value = float(tok) if any(c in tok for c in ".eE") else int(tok)
                else:  # a bare word as value: INF / NAN, else kept as text
                    value = _GML_SPECIAL.get(tok.lower(), tok)
                stack[-1].append((key, value))
            key = None
        line += tok.count("\n")
        pos = m.end()
    if key is not None:
        raise _error(path, f"not valid GML: the file ends after key {key!r} without a value")
    if len(stack) > 1:
        raise _error(path, f"not valid GML: {len(stack) - 1} '[' not closed at the end of the file")
    return root


def _parse_gml(path: Path, data: bytes) -> _Raw:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")    # GML is ASCII with &#...; escapes; older tools wrote Latin-1
    tree = _gml_tree(path, text)
    graphs = [v for k, v in tree if k == "graph" and isinstance(v, list)]
    if not graphs:
        raise _error(path, "GML file without a 'graph [ ... ]' block")
    dropped: list[str] = []
    if len(graphs) > 1:
        dropped.append(f"{len(graphs) - 1} further graph blocks ignored (only the first graph is read)")

    def scalars(items: list[tuple[str, object]]) -> dict[str, object]:
        out: dict[str, object] = {}
        for k, v in items:
            if not isinstance(v, list) and k not in out:
                out[k] = v
        return out

    graph = scalars(graphs[0])
    directed = _number(graph.get("directed")) == 1
    nodes, edges = [], []
    for k, v in graphs[0]:
        if k == "node" and isinstance(v, list):
            attrs = scalars(v)
            node_id = attrs.pop("id", None)
            nodes.append((None if node_id is None else _gml_id(node_id), attrs))
        elif k == "edge" and isinstance(v, list):
            attrs = scalars(v)
            src, dst = attrs.pop("source", None), attrs.pop("target", None)
            edges.append((None if src is None else _gml_id(src), None if dst is None else _gml_id(dst), attrs,
                          directed))
    return _Raw(graph, nodes, edges, dropped)


def _gml_id(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# ----------------------------------------------------------------------------------------------
# cleaning: the rules of the module docstring

_UNIT_RE = re.compile(r"([kmgt]?)(?:b|bps|bit/s|bits/s|b/s|bit|bits)?", re.IGNORECASE)
_SPEED_RE = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(\S*)")
_PREFIX = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}


def _unit_factor(unit: str) -> float | None:
    if unit == "":
        return None
    m = _UNIT_RE.fullmatch(unit)
    return _PREFIX[m.group(1).lower()] if m else None


def _capacity(attrs: dict[str, object]) -> tuple[float, str | None]:
    """Capacity of one edge in bit/s, and a description of the unreadable value if any."""
    raw = attrs.get("LinkSpeedRaw")
    value = _number(raw)
    if value is not None and math.isfinite(value) and value > 0:
        return value, None
    problems = [] if value is None else [f"LinkSpeedRaw={_text(raw)!r}"]
    speed, unit = _text(attrs.get("LinkSpeed")), _text(attrs.get("LinkSpeedUnits"))
    if speed:
        m = _SPEED_RE.fullmatch(speed)
        if m:
            number, factor = float(m.group(1)), _unit_factor(unit or m.group(2))
            if factor is not None and math.isfinite(number) and number > 0:
                return number * factor, None
        problems.append(f"LinkSpeed={speed!r} LinkSpeedUnits={unit!r}")
    return math.nan, (" ".join(problems) or None)


def _mean_lon(lons: np.ndarray) -> float:
    if lons.max() - lons.min() > 180.0:    # straddles the antimeridian: average on [0, 360)
        m = float(np.where(lons < 0, lons + 360.0, lons).mean())
        return m - 360.0 if m > 180.0 else m
    return float(lons.mean())


def _unique_ids(bases: list[str]) -> list[str]:
    taken: set[str] = set()
    out = []
    for base in bases:
        candidate, k = base, 2
        while candidate in taken:
            candidate, k = f"{base} ({k})", k + 1
        taken.add(candidate)
        out.append(candidate)
    return out


def _build(path: Path, raw: _Raw) -> TopologyImport:
    dropped, filled = list(raw.dropped), []
    source = f"topology-zoo:{path.name}"

    # nodes: one per distinct node id, in file order
    index: dict[str, int] = {}
    node_attrs: list[dict[str, object]] = []
    node_ids: list[str] = []
    no_id, dup_id = 0, []
    for node_id, attrs in raw.nodes:
        node_id = None if node_id is None else str(node_id).strip()
        if not node_id:
            no_id += 1
        elif node_id in index:
            dup_id.append(node_id)
        else:
            index[node_id] = len(node_ids)
            node_ids.append(node_id)
            node_attrs.append(attrs)
    if no_id:
        dropped.append(f"{_plural(no_id, 'node')} without a node id dropped")
    if dup_id:
        dropped.append(f"{_plural(len(dup_id), 'node')} repeating a node id already used dropped (the first is "
                       f"kept): {_list(dup_id)}")
    n = len(node_ids)
    if n == 0:
        raise _error(path, "the graph has no nodes")

    # site ids and names
    labels = [_text(a.get("label")) for a in node_attrs]
    bases = [lab or nid for lab, nid in zip(labels, node_ids)]
    ids = _unique_ids(bases)
    unlabelled = [ids[i] for i in range(n) if not labels[i]]
    renamed = [ids[i] for i in range(n) if ids[i] != bases[i]]
    if unlabelled:
        filled.append(f"{_plural(len(unlabelled), 'node')} without a label identified by their node id: "
                      f"{_list(unlabelled)}")
    if renamed:
        filled.append(f"{_plural(len(renamed), 'repeated label')} made unique with a numeric suffix: "
                      f"{_list(renamed)}")

    # coordinates
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    unreadable, out_of_range = [], []
    for i, attrs in enumerate(node_attrs):
        x, y = _number(attrs.get("Longitude")), _number(attrs.get("Latitude"))
        if x is None or y is None:
            continue
        if not (math.isfinite(x) and math.isfinite(y)):
            unreadable.append(f"{ids[i]} (Longitude={_text(attrs.get('Longitude'))!r}, "
                              f"Latitude={_text(attrs.get('Latitude'))!r})")
        elif not (-180.0 <= x <= 180.0 and -90.0 <= y <= 90.0):
            out_of_range.append(f"{ids[i]} ({x:g}, {y:g})")
        else:
            lon[i], lat[i] = x, y
    if unreadable:
        dropped.append(f"{_plural(len(unreadable), 'node')} with non-numeric coordinates treated as without "
                       f"coordinates: {_list(unreadable)}")
    if out_of_range:
        dropped.append(f"{_plural(len(out_of_range), 'node')} with (lon, lat) outside [-180, 180] x [-90, 90] "
                       f"treated as without coordinates: {_list(out_of_range)}")

    # edges: known ends, no self-loops
    edges: list[tuple[int, int, dict[str, object], bool]] = []
    no_end, unknown_end, loops = 0, [], []
    for src, dst, attrs, directed in raw.edges:
        src = None if src is None else str(src).strip()
        dst = None if dst is None else str(dst).strip()
        if not src or not dst:
            no_end += 1
        elif src not in index or dst not in index:
            unknown_end.append(f"{src}--{dst}")
        elif src == dst:
            loops.append(ids[index[src]])
        else:
            edges.append((index[src], index[dst], attrs, directed))
    if no_end:
        dropped.append(f"{_plural(no_end, 'edge')} without source or target dropped")
    if unknown_end:
        dropped.append(f"{_plural(len(unknown_end), 'edge')} to undeclared node ids dropped: {_list(unknown_end)}")
    if loops:
        dropped.append(f"{_plural(len(loops), 'self-loop')} dropped: {_list(f'{s}--{s}' for s in loops)}")

    # fill missing positions from located neighbours, round after round
    neighbours: list[set[int]] = [set() for _ in range(n)]
    for s, t, _, _ in edges:
        neighbours[s].add(t)
        neighbours[t].add(s)
    located = ~np.isnan(lon)
    fill_round: dict[int, int] = {}
    rounds = 0
    while True:
        new = {}
        for i in np.flatnonzero(~located):
            near = sorted(j for j in neighbours[i] if located[j])
            if near:
                new[int(i)] = (_mean_lon(lon[near]), float(lat[near].mean()))
        if not new:
            break
        rounds += 1
        for i, (x, y) in new.items():
            lon[i], lat[i], located[i] = x, y, True
            fill_round[i] = rounds
    if fill_round:
        names = [ids[i] if rounds == 1 else f"{ids[i]} (round {fill_round[i]})" for i in sorted(fill_round)]
        how = "" if rounds == 1 else f" ({rounds} rounds; later rounds use positions filled before)"
        filled.append(f"{_plural(len(fill_round), 'node')} without coordinates placed at the mean position of "
                      f"their located neighbours{how}: {_list(names)}")

    lost = np.flatnonzero(~located)
    if len(lost) == n:
        raise _error(path, f"no usable nodes: none of the {n} nodes has coordinates (Longitude/Latitude) "
                           "or a linked node that has")
    if len(lost):
        gone = sum(1 for s, t, _, _ in edges if not (located[s] and located[t]))
        with_edges = f" together with {_plural(gone, 'edge')}" if gone else ""
        dropped.append(f"{_plural(len(lost), 'node')} without coordinates and without a located neighbour "
                       f"dropped{with_edges}: {_list([ids[i] for i in lost])}")
        edges = [e for e in edges if located[e[0]] and located[e[1]]]

    # one link per pair
    groups: dict[tuple[int, int], list[tuple[int, int, float, bool]]] = {}
    bad_capacity = []
    for s, t, attrs, directed in edges:
        cap, problem = _capacity(attrs)
        if problem:
            bad_capacity.append(f"{ids[s]}--{ids[t]} ({problem})")
        groups.setdefault((min(s, t), max(s, t)), []).append((s, t, cap, directed))
    if bad_capacity:
        dropped.append(f"{_plural(len(bad_capacity), 'edge')} with an unreadable capacity set to unknown (NaN): "
                       f"{_list(bad_capacity)}")
    rows = []
    link_ids: set[str] = set()
    parallel, reverse = [], []
    for group in groups.values():
        s0, t0 = group[0][0], group[0][1]
        fwd = [c for s, _, c, d in group if (s == s0 or not d) and not math.isnan(c)]
        bwd = [c for s, _, c, d in group if (s != s0 or not d) and not math.isnan(c)]
        directions = [sum(caps) for caps in (fwd, bwd) if caps]
        capacity = max(directions) if directions else math.nan
        if len(group) > 1:
            per_direction = max(sum(1 for s, _, _, d in group if s == s0 or not d),
                                sum(1 for s, _, _, d in group if s != s0 or not d))
            label = f"{ids[s0]}--{ids[t0]}"
            if per_direction > 1:
                parallel.append((label, len(group)))
            else:
                reverse.append(label)
        base = f"{ids[s0]}--{ids[t0]}"
        link_id, k = base, 2
        while link_id in link_ids:
            link_id, k = f"{base}#{k}", k + 1
        link_ids.add(link_id)
        rows.append((link_id, ids[s0], ids[t0], capacity))
    if parallel:
        total = sum(c for _, c in parallel)
        filled.append(f"{total} parallel edges merged into {_plural(len(parallel), 'link')}, capacity = sum of the "
                      f"known capacities per direction: {_list(f'{lab} ({c} edges)' for lab, c in parallel)}")
    if reverse:
        filled.append(f"{_plural(len(reverse), 'pair')} of opposite directed edges merged into one undirected link "
                      f"each, capacity = the larger direction: {_list(reverse)}")

    keep = np.flatnonzero(located)
    degree = np.zeros(n, dtype=int)
    for s, t in groups:
        degree[s] += 1
        degree[t] += 1
    isolated = [ids[i] for i in keep if degree[i] == 0]
    if isolated:
        filled.append(f"{_plural(len(isolated), 'node')} without links kept as sites (unreachable over this "
                      f"network): {_list(isolated)}")
    hyper = [ids[i] for i in keep if _number(node_attrs[i].get("hyperedge")) == 1]
    if hyper:
        filled.append(f"{_plural(len(hyper), 'Topology Zoo hyperedge node')} (a shared medium drawn as a node, "
                      f"not a point of presence) kept as sites: {_list(hyper)}")

    sites = pd.DataFrame({
        "id": pd.Series([ids[i] for i in keep], dtype=str),
        "name": pd.Series([labels[i] or node_ids[i] for i in keep], dtype=str),
        "lon": lon[keep].astype(float),
        "lat": lat[keep].astype(float),
        "country": pd.Series([_text(node_attrs[i].get("Country")) for i in keep], dtype=str),
        "tier": pd.Series(["pop"] * len(keep), dtype=str),
        "source": pd.Series([source] * len(keep), dtype=str),
    }, columns=list(SITE_COLUMNS))
    links = pd.DataFrame({
        "id": pd.Series([r[0] for r in rows], dtype=str),
        "src": pd.Series([r[1] for r in rows], dtype=str),
        "dst": pd.Series([r[2] for r in rows], dtype=str),
        "capacity": np.array([r[3] for r in rows], dtype=float),
        "length": np.full(len(rows), np.nan),
        "tech": pd.Series(["fibre"] * len(rows), dtype=str),
        "source": pd.Series([source] * len(rows), dtype=str),
    }, columns=list(LINK_COLUMNS))
    name = _text(raw.graph.get("Network")) or path.stem
    return TopologyImport(sites=sites, links=links, dropped=tuple(dropped), filled=tuple(filled), name=name)
