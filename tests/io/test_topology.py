"""Topology import from GraphML and GML (Internet Topology Zoo conventions): workbench.io.topology."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.errors import WorkbenchError
from workbench.io.topology import LINK_COLUMNS, SITE_COLUMNS, TopologyError, TopologyImport, read_topology

ZOO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "topology-zoo"
ZOO_FILES = sorted(ZOO.glob("*.graphml")) if ZOO.is_dir() else []
NO_ZOO = pytest.mark.skipif(not ZOO_FILES, reason=f"Topology Zoo files not found in {ZOO}")

# Files of the shared subset in which no node has Latitude/Longitude at all (the keys are not even
# declared), so there is nothing to place: they must fail with "no usable nodes".
ZOO_WITHOUT_COORDINATES = {"Harnet.graphml", "Nordu.graphml", "Opteglobe.graphml"}


# ----------------------------------------------------------------------------------------------
# writers for small hand-made files


def graphml(nodes: list[dict], edges: list[dict], *, directed: bool = False) -> str:
    """GraphML text in the Topology Zoo layout; ``nodes`` carry "id" plus attributes, edges "source"/"target"."""
    node_keys = ["label", "Longitude", "Latitude", "Country", "Internal", "hyperedge"]
    edge_keys = ["LinkSpeed", "LinkSpeedUnits", "LinkSpeedRaw", "LinkLabel"]
    types = {"Longitude": "double", "Latitude": "double", "LinkSpeedRaw": "double", "Internal": "int",
             "hyperedge": "int"}
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
           '  <key attr.name="Network" attr.type="string" for="graph" id="g0" />']
    out += [f'  <key attr.name="{k}" attr.type="{types.get(k, "string")}" for="node" id="n_{k}" />' for k in node_keys]
    out += [f'  <key attr.name="{k}" attr.type="{types.get(k, "string")}" for="edge" id="e_{k}" />' for k in edge_keys]
    out.append(f'  <graph edgedefault="{"directed" if directed else "undirected"}">')
    out.append('    <data key="g0">Test Net </data>')
    for node in nodes:
        out.append(f'    <node id="{node["id"]}">')
        out += [f'      <data key="n_{k}">{v}</data>' for k, v in node.items() if k != "id"]
        out.append("    </node>")
    for edge in edges:
        out.append(f'    <edge source="{edge["source"]}" target="{edge["target"]}">')
        out += [f'      <data key="e_{k}">{v}</data>' for k, v in edge.items() if k not in ("source", "target")]
        out.append("    </edge>")
    out += ["  </graph>", "</graphml>", ""]
    return "\n".join(out)


def gml(nodes: list[dict], edges: list[dict], *, directed: bool = False) -> str:
    """The same content as :func:`graphml`, in GML (numbers bare, text quoted, as the Zoo writes it)."""

    def value(v):
        return repr(v) if isinstance(v, int | float) else f'"{v}"'

    out = ["graph [", f"  directed {int(directed)}", "  multigraph 1", '  Network "Test Net "']
    for node in nodes:
        out.append("  node [")
        out += [f"    {k} {value(v)}" for k, v in node.items()]
        out.append("  ]")
    for edge in edges:
        out.append("  edge [")
        out += [f"    {k} {value(v)}" for k, v in edge.items()]
        out.append("  ]")
    out += ["]", ""]
    return "\n".join(out)


# One of everything the rules cover. Node "mid" lies between two located neighbours; "lost" and
# "ghost" have no coordinates and only each other as neighbour; "island" has no link; the second
# "Shanghai" label repeats; 北京 is non-ASCII; b--b is a self-loop; a--b comes three times.
NODES = [
    {"id": 0, "label": "北京", "Longitude": 116.0, "Latitude": 40.0, "Country": "China", "Internal": 1},
    {"id": 1, "label": "Shanghai", "Longitude": 121.0, "Latitude": 31.0, "Country": "China", "Internal": 1},
    {"id": 2, "label": "Mid", "Country": "China", "Internal": 1},
    {"id": 3, "label": "Lost", "Internal": 1},
    {"id": 4, "label": "Ghost", "Internal": 1},
    {"id": 5, "label": "Island", "Longitude": 100.0, "Latitude": 20.0, "Internal": 1},
    {"id": 6, "label": "Shanghai", "Longitude": 121.5, "Latitude": 31.25, "Internal": 0},
]
EDGES = [
    {"source": 0, "target": 2, "LinkSpeed": "10", "LinkSpeedUnits": "G"},
    {"source": 2, "target": 1, "LinkSpeed": "1", "LinkSpeedUnits": "G", "LinkSpeedRaw": 2.5e9},
    {"source": 0, "target": 1, "LinkSpeedRaw": 1e9},
    {"source": 1, "target": 1, "LinkSpeedRaw": 1e9},
    {"source": 1, "target": 0, "LinkSpeed": "10", "LinkSpeedUnits": "G"},
    {"source": 3, "target": 4},
    {"source": 6, "target": 1, "LinkSpeed": "fast", "LinkSpeedUnits": "G"},
    {"source": 0, "target": 1, "LinkLabel": "no speed"},
    {"source": 0, "target": 6, "LinkSpeed": "622", "LinkSpeedUnits": "M"},
]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(params=["graphml", "gml"])
def sample(request, tmp_path) -> TopologyImport:
    text = graphml(NODES, EDGES) if request.param == "graphml" else gml(NODES, EDGES)
    return read_topology(write(tmp_path, f"sample.{request.param}", text))


def check_consistent(topo: TopologyImport) -> None:
    sites, links = topo.sites, topo.links
    assert list(sites.columns) == list(SITE_COLUMNS)
    assert list(links.columns) == list(LINK_COLUMNS)
    assert len(sites) >= 1
    assert sites["id"].is_unique and links["id"].is_unique
    assert np.isfinite(sites["lon"]).all() and np.isfinite(sites["lat"]).all()
    assert sites["lon"].between(-180, 180).all() and sites["lat"].between(-90, 90).all()
    assert (sites["tier"] == "pop").all()
    ids = set(sites["id"])
    assert set(links["src"]) <= ids and set(links["dst"]) <= ids
    assert not (links["src"] == links["dst"]).any()
    pairs = [frozenset(p) for p in zip(links["src"], links["dst"])]
    assert len(pairs) == len(set(pairs))
    assert links["length"].isna().all() and (links["tech"] == "fibre").all()
    assert (links["capacity"].dropna() > 0).all()


# ----------------------------------------------------------------------------------------------
# hand-made files


def test_sample_sites(sample):
    check_consistent(sample)
    sites = sample.sites.set_index("id")
    # file order, Lost and Ghost dropped, the repeated label suffixed, Unicode kept as is
    assert list(sites.index) == ["北京", "Shanghai", "Mid", "Island", "Shanghai (2)"]
    assert list(sites["name"]) == ["北京", "Shanghai", "Mid", "Island", "Shanghai"]
    assert sites.loc["Mid", ["lon", "lat"]].tolist() == [118.5, 35.5]    # mean of (116, 40) and (121, 31)
    assert sites.loc["Shanghai (2)", ["lon", "lat"]].tolist() == [121.5, 31.25]
    assert list(sites["country"]) == ["China", "China", "China", "", ""]
    assert sites["source"].isin(["topology-zoo:sample.graphml", "topology-zoo:sample.gml"]).all()
    assert sample.name == "Test Net"


def test_sample_links(sample):
    links = sample.links.set_index("id")
    assert list(links.index) == ["北京--Mid", "Mid--Shanghai", "北京--Shanghai", "Shanghai (2)--Shanghai",
                                 "北京--Shanghai (2)"]
    cap = links["capacity"]
    assert cap["北京--Mid"] == 1e10                 # LinkSpeed "10" x unit "G"
    assert cap["Mid--Shanghai"] == 2.5e9            # LinkSpeedRaw wins over LinkSpeed "1" G
    assert cap["北京--Shanghai"] == 1e9 + 1e10      # three parallel edges: 1e9 + 10 G + unknown
    assert math.isnan(cap["Shanghai (2)--Shanghai"])  # LinkSpeed "fast": unreadable
    assert cap["北京--Shanghai (2)"] == pytest.approx(6.22e8)
    assert links.loc["Mid--Shanghai", ["src", "dst"]].tolist() == ["Mid", "Shanghai"]


def test_sample_notes(sample):
    dropped, filled = "\n".join(sample.dropped), "\n".join(sample.filled)
    assert "1 self-loop dropped: Shanghai--Shanghai" in dropped
    assert "2 nodes without coordinates and without a located neighbour dropped together with 1 edge: Lost, Ghost" \
        in dropped
    assert "1 edge with an unreadable capacity" in dropped and "'fast'" in dropped
    assert "1 node without coordinates placed at the mean position of their located neighbours: Mid" in filled
    assert "3 parallel edges merged into 1 link" in filled and "北京--Shanghai (3 edges)" in filled
    assert "1 repeated label made unique with a numeric suffix: Shanghai (2)" in filled
    assert "1 node without links kept as sites (unreachable over this network): Island" in filled
    assert len(sample.dropped) == 3 and len(sample.filled) == 4
    assert all("\n" not in line for line in sample.dropped + sample.filled)


def test_graphml_and_gml_agree(tmp_path):
    a = read_topology(write(tmp_path, "same.graphml", graphml(NODES, EDGES)))
    b = read_topology(write(tmp_path, "same.gml", gml(NODES, EDGES)))
    pd.testing.assert_frame_equal(a.sites.drop(columns="source"), b.sites.drop(columns="source"))
    pd.testing.assert_frame_equal(a.links.drop(columns="source"), b.links.drop(columns="source"))
    assert (a.dropped, a.filled, a.name) == (b.dropped, b.filled, b.name)
    assert set(a.sites["source"]) == {"topology-zoo:same.graphml"}
    assert set(b.links["source"]) == {"topology-zoo:same.gml"}


def test_chains_fill_in_rounds(tmp_path):
    # A(10, 0) - x - y - z and x - B(20, 10): round 1 x = mean(A, B), round 2 y = x, round 3 z = y
    nodes = [{"id": "a", "label": "A", "Longitude": 10.0, "Latitude": 0.0}, {"id": "x", "label": "X"},
             {"id": "y", "label": "Y"}, {"id": "z", "label": "Z"},
             {"id": "b", "label": "B", "Longitude": 20.0, "Latitude": 10.0}]
    edges = [{"source": "a", "target": "x"}, {"source": "x", "target": "y"}, {"source": "y", "target": "z"},
             {"source": "x", "target": "b"}]
    topo = read_topology(write(tmp_path, "chain.graphml", graphml(nodes, edges)))
    pos = topo.sites.set_index("id")[["lon", "lat"]]
    assert pos.loc["X"].tolist() == [15.0, 5.0]
    assert pos.loc["Y"].tolist() == [15.0, 5.0] and pos.loc["Z"].tolist() == [15.0, 5.0]
    assert topo.filled == ("3 nodes without coordinates placed at the mean position of their located neighbours "
                           "(3 rounds; later rounds use positions filled before): X (round 1), Y (round 2), "
                           "Z (round 3)",)
    assert topo.dropped == ()


def test_fill_across_the_antimeridian(tmp_path):
    nodes = [{"id": 0, "label": "Fiji", "Longitude": 178.0, "Latitude": -18.0}, {"id": 1, "label": "Sea"},
             {"id": 2, "label": "Samoa", "Longitude": -172.0, "Latitude": -14.0}]
    edges = [{"source": 0, "target": 1}, {"source": 1, "target": 2}]
    topo = read_topology(write(tmp_path, "pacific.gml", gml(nodes, edges)))
    sea = topo.sites.set_index("id").loc["Sea"]
    assert sea["lon"] == pytest.approx(-177.0) and sea["lat"] == pytest.approx(-16.0)   # not (3, -16)


def test_bad_coordinates_count_as_missing(tmp_path):
    nodes = [{"id": 0, "label": "A", "Longitude": 10.0, "Latitude": 50.0},
             {"id": 1, "label": "B", "Longitude": 200.0, "Latitude": 50.0},
             {"id": 2, "label": "C", "Longitude": "east", "Latitude": "north"},
             {"id": 3, "label": "D", "Longitude": 12.0, "Latitude": 52.0},
             {"id": 4, "label": "E", "Latitude": 1.0},
             {"id": 5, "label": "F", "Longitude": -190.0, "Latitude": 52.0},
             {"id": 6, "label": "G", "Longitude": 12.0, "Latitude": -95.0},
             {"id": 7, "label": "H", "Longitude": 12.0, "Latitude": 95.0}]
    edges = [{"source": 0, "target": 1}, {"source": 1, "target": 3}, {"source": 2, "target": 3},
             {"source": 4, "target": 0}, {"source": 5, "target": 3}, {"source": 6, "target": 3},
             {"source": 7, "target": 3}]
    topo = read_topology(write(tmp_path, "bad.graphml", graphml(nodes, edges)))
    pos = topo.sites.set_index("id")[["lon", "lat"]]
    assert pos.loc["B"].tolist() == [11.0, 51.0] and pos.loc["C"].tolist() == [12.0, 52.0]
    assert pos.loc["E"].tolist() == [10.0, 50.0]                          # latitude alone is no position
    assert pos.loc[["F", "G", "H"]].values.tolist() == [[12.0, 52.0]] * 3
    assert ("4 nodes with (lon, lat) outside [-180, 180] x [-90, 90] treated as without coordinates: "
            "B (200, 50), F (-190, 52), G (12, -95), H (12, 95)") in topo.dropped
    assert any(line.startswith("1 node with non-numeric coordinates") and "'east'" in line for line in topo.dropped)


def test_labels_missing_or_none_fall_back_to_node_id(tmp_path):
    nodes = [{"id": "n7", "Longitude": 1.0, "Latitude": 2.0}, {"id": "n8", "label": "None", "Longitude": 3.0,
                                                               "Latitude": 4.0},
             {"id": "n9", "label": "n7", "Longitude": 5.0, "Latitude": 6.0}]
    topo = read_topology(write(tmp_path, "nolabel.graphml", graphml(nodes, [{"source": "n7", "target": "n8"}])))
    assert list(topo.sites["id"]) == ["n7", "n8", "n7 (2)"]
    assert list(topo.sites["name"]) == ["n7", "n8", "n7"]
    assert topo.links["id"].tolist() == ["n7--n8"]
    assert "2 nodes without a label identified by their node id: n7, n8" in topo.filled


def test_directed_graph_reverse_edges_merge_to_the_larger_direction(tmp_path):
    nodes = [{"id": 0, "label": "A", "Longitude": 0.0, "Latitude": 0.0},
             {"id": 1, "label": "B", "Longitude": 1.0, "Latitude": 1.0}]
    edges = [{"source": 0, "target": 1, "LinkSpeedRaw": 1e9}, {"source": 1, "target": 0, "LinkSpeedRaw": 4e9},
             {"source": 0, "target": 1, "LinkSpeedRaw": 2e9}]
    for name, writer in (("d.graphml", graphml), ("d.gml", gml)):
        topo = read_topology(write(tmp_path, name, writer(nodes, edges, directed=True)))
        assert topo.links[["id", "capacity"]].values.tolist() == [["A--B", 4e9]]   # max(1e9 + 2e9, 4e9)
        assert any("parallel edges merged" in line for line in topo.filled)


def test_edges_to_undeclared_nodes_are_dropped(tmp_path):
    nodes = [{"id": 0, "label": "A", "Longitude": 0.0, "Latitude": 0.0}]
    topo = read_topology(write(tmp_path, "dangling.graphml", graphml(nodes, [{"source": 0, "target": 9}])))
    assert len(topo.links) == 0 and list(topo.links.columns) == list(LINK_COLUMNS)
    assert "1 edge to undeclared node ids dropped: 0--9" in topo.dropped


def test_format_argument_overrides_the_suffix(tmp_path):
    path = write(tmp_path, "net.txt", gml(NODES, EDGES))
    assert len(read_topology(path, format="GML").sites) == 5
    with pytest.raises(TopologyError, match=r"net\.txt: cannot tell the topology format from the suffix '\.txt'"):
        read_topology(path)
    with pytest.raises(TopologyError, match=r"unknown topology format 'sndlib'; accepted formats: graphml"):
        read_topology(path, format="sndlib")


# ----------------------------------------------------------------------------------------------
# failures: one line naming the file


def one_line_error(path: Path, **kwargs) -> str:
    with pytest.raises(TopologyError) as info:
        read_topology(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path) + ": ")
    assert isinstance(info.value, WorkbenchError) and isinstance(info.value, ValueError)
    # no parser traceback chained onto ours
    assert info.value.__cause__ is None and (info.value.__context__ is None or info.value.__suppress_context__)
    return message


def test_broken_xml(tmp_path):
    path = write(tmp_path, "broken.graphml", graphml(NODES, EDGES)[:-40])
    assert re.search(r"broken\.graphml: not valid XML \(unclosed token: line \d+, column \d+\)$", one_line_error(path))


def test_xml_that_is_not_graphml(tmp_path):
    path = write(tmp_path, "other.xml", "<svg><graph/></svg>")
    assert one_line_error(path).endswith("not GraphML: the root element is <svg>, expected <graphml>")


@pytest.mark.parametrize("text, expected", [
    ('graph [\n node [ id 0 label "A" \n', "not valid GML: 2 '[' not closed at the end of the file"),
    ('graph [\n node [ id 0 label "A ]\n]', "not valid GML: line 2: unterminated string"),
    ("graph [\n node [ id 0 ] ]\n]", "not valid GML: line 3: ']' without a matching '['"),
    ("graph [\n 12 ]", "not valid GML: line 2: expected a key, found '12'"),
    ('nodes [ id 0 ]', "GML file without a 'graph [ ... ]' block"),
])
def test_broken_gml(tmp_path, text, expected):
    assert one_line_error(write(tmp_path, "broken.gml", text)).endswith(expected)


def test_unknown_suffix(tmp_path):
    path = write(tmp_path, "net.json", "{}")
    message = one_line_error(path)
    assert "accepted formats: graphml (.graphml, .xml); gml (.gml)" in message


def test_missing_file(tmp_path):
    assert "cannot read the file (No such file or directory)" in one_line_error(tmp_path / "absent.graphml")


def test_no_nodes(tmp_path):
    assert one_line_error(write(tmp_path, "empty.gml", "graph [ directed 0 ]")).endswith("the graph has no nodes")
    assert one_line_error(write(tmp_path, "empty.graphml", graphml([], []))).endswith("the graph has no nodes")


def test_no_usable_nodes(tmp_path):
    nodes = [{"id": 0, "label": "A"}, {"id": 1, "label": "B"}]
    path = write(tmp_path, "nowhere.graphml", graphml(nodes, [{"source": 0, "target": 1}]))
    assert "no usable nodes: none of the 2 nodes has coordinates" in one_line_error(path)


# ----------------------------------------------------------------------------------------------
# the real Topology Zoo subset


@NO_ZOO
@pytest.mark.parametrize("path", ZOO_FILES, ids=[p.name for p in ZOO_FILES])
def test_zoo_file(path):
    try:
        topo = read_topology(path)
    except TopologyError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(f"{path}: ")
        assert path.name in ZOO_WITHOUT_COORDINATES, str(exc)
        return
    assert path.name not in ZOO_WITHOUT_COORDINATES
    check_consistent(topo)
    assert topo.name
    assert all(line and "\n" not in line for line in topo.dropped + topo.filled)


@NO_ZOO
def test_zoo_chinanet():
    topo = read_topology(ZOO / "Chinanet.graphml")
    # The README's 42 nodes / 66 links hold exactly: the file has no parallel edge, no self-loop and
    # no isolated node; its 4 nodes without coordinates ("International Link 1-4", the gateways
    # abroad) each have one located neighbour and are placed on it, so nothing is dropped.
    assert (len(topo.sites), len(topo.links)) == (42, 66)
    assert topo.name == "China Telecom" and topo.dropped == ()
    assert topo.filled == ("4 nodes without coordinates placed at the mean position of their located neighbours: "
                           "International Link 1, International Link 2, International Link 4, International Link 3",)
    pos = topo.sites.set_index("id")[["lon", "lat"]]
    assert pos.loc["International Link 1"].tolist() == pos.loc["Beijing"].tolist() == [116.39723, 39.9075]
    assert pos.loc["International Link 2"].tolist() == pos.loc["Shanghai"].tolist() == [121.45806, 31.22222]
    assert topo.links["capacity"].isna().all()                     # the file gives no link speeds
    assert (topo.sites["country"] == "China").sum() == 38


@NO_ZOO
def test_zoo_parallel_edges_are_merged_with_summed_capacity():
    cernet = read_topology(ZOO / "Cernet.graphml")
    # 41 nodes, 59 edges: the two 155 Mbit/s Beijing--Xi'an edges become one 310 Mbit/s link
    assert (len(cernet.sites), len(cernet.links)) == (41, 58)
    pair = cernet.links[cernet.links["id"].isin(["Beijing--Xi'an", "Xi'an--Beijing"])]
    assert pair["capacity"].tolist() == [3.1e8]
    assert "Shijiazhuang (2)" in set(cernet.sites["id"])
    garr = read_topology(ZOO / "Garr201103.graphml")
    # MI-1--BO: three edges, one without speed and two of 10 Gbit/s: sum of the known = 20 Gbit/s
    pair = garr.links[garr.links["id"].isin(["MI-1--BO", "BO--MI-1"])]
    assert pair["capacity"].tolist() == [2e10]
