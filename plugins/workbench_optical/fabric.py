"""Supernode fabric model: counts, bandwidth, power and cost computed from structural inputs only.

A :class:`SupernodeDesign` says what a researcher would draw on a whiteboard: which chip and how
many, how many chips per node and nodes per rack, the topology, and for each tier of the fabric
where its cables run (``span``), which medium carries them and which switch terminates them.
:func:`fabric_totals` turns that into chip, node, rack, switch, OCS, transceiver and cable counts,
aggregate FLOP/s and HBM, scale-up and bisection bandwidth, power (chips + node overhead + optics +
switches, times PUE), W per PFLOP/s, cost where prices are known and the blast radius of a failure.
Nothing is typed in: the presets (:mod:`workbench_optical.presets`) are structural inputs too, and
their computed totals are compared with published figures in the tests.

Topologies
----------
``switched``
    Single tier (NVLink-switch style): each chip's links spread over ``planes`` switches; every
    switch reaches every chip, so a plane needs ``ceil(N x links / planes)`` ports.
``clos2``
    Two-tier leaf/spine per plane (rail), non-blocking when leaf ``down_ports`` = up ports.
``torus2d`` / ``torus3d``
    Wrap-around torus of ``torus_dims``; ``links // (2 x dims)`` parallel links per neighbour.
``torus3d_ocs``
    3D torus built from cubes (``cube_dims``) whose face links run through optical circuit switches
    (TPU v4 style); one OCS group per (dimension, face position).

Cable lengths by span (assumed geometry, see the constants below): ``board`` = no cable, ``rack``
= :data:`IN_RACK_CABLE_M`, ``row`` = two vertical runs plus the Manhattan distance from the centre of
a square grid of racks to its corner. A tier whose cable is longer than its medium's reach at the
chip's lane rate raises :class:`FabricDesignError` naming the tier, the length and the reach.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import xarray as xr

from workbench.errors import WorkbenchError
from workbench.schema import did_you_mean

from . import catalogues as cat

SPANS = ("board", "rack", "row")
TOPOLOGIES = ("switched", "clos2", "torus2d", "torus3d", "torus3d_ocs")

#: Longest cable inside one rack [m]. Assumed: half of a 42-48U rack (~1.1 m) plus 0.4 m routing slack.
IN_RACK_CABLE_M = 1.5
#: Vertical run from a device to the top of its rack [m]. Assumed: half a rack height.
RACK_VERTICAL_RUN_M = 1.0
#: Rack width [m]. Assumed: the common 600 mm rack.
RACK_PITCH_M = 0.6
#: Distance between rack rows [m]. Assumed: 1.2 m rack depth + 1.2 m aisle.
ROW_PITCH_M = 2.4

_BITS = 8.0  # bit per byte


class FabricDesignError(WorkbenchError, ValueError):
    """A supernode design is impossible (copper beyond reach, radix exceeded, bad dimensions...)."""


@dataclass(frozen=True)
class Tier:
    """One tier of a fabric.

    Parameters
    ----------
    span : {"board", "rack", "row"}
        Where the tier's cables run: inside a node, inside a rack, or between racks.
    medium : str
        Medium id from ``datasets/optical/media.csv`` (``board``, ``copper-dac``, ``dsp-800g``...).
    switch : str, optional
        Switch id from ``switches.csv`` terminating the tier (switched and Clos topologies).
    down_ports : int, optional
        Clos leaf ports facing the chips; default half the leaf radix (non-blocking).
    """

    span: str
    medium: str
    switch: str | None = None
    down_ports: int | None = None


@dataclass(frozen=True)
class SupernodeDesign:
    """Structural inputs of one supernode (scale-up domain).

    Parameters
    ----------
    chip : str
        Chip id of the core chip catalogue (``wb.load_dataset("chips")``).
    count : int
        Chips in the supernode [1].
    topology : str
        One of :data:`TOPOLOGIES`.
    tiers : tuple of Tier
        Switched: one tier; clos2: leaf tier then spine tier; tori: one tier per span used.
    chips_per_node, nodes_per_rack : int
        Packaging [1].
    planes : int, optional
        Independent switch planes (switched/clos2); default = links per chip.
    torus_dims, cube_dims : tuple of int, optional
        Torus shape; cube shape for ``torus3d_ocs``.
    ocs : str, optional
        OCS id for ``torus3d_ocs``.
    spine_switches_per_rack : int
        Top-tier switches (or OCSes) per dedicated switch rack; 0 = they sit in the compute racks.
    node_overhead_w : float
        Power per node beyond its chips (host CPUs, memory, NICs) [W].
    pue : float
        Power usage effectiveness applied to the IT power [1].
    links_per_chip, link_rate, lanes_per_link, lane_class : optional
        Overrides of ``chip_links.csv`` (link_rate and lane_class in [bit/s] per direction).
    name : str
        Label.
    """

    chip: str
    count: int
    topology: str
    tiers: tuple[Tier, ...]
    chips_per_node: int = 8
    nodes_per_rack: int = 4
    planes: int | None = None
    torus_dims: tuple[int, ...] | None = None
    cube_dims: tuple[int, ...] | None = None
    ocs: str | None = None
    spine_switches_per_rack: int = 0
    node_overhead_w: float = 0.0
    pue: float = 1.0
    links_per_chip: int | None = None
    link_rate: float | None = None
    lanes_per_link: int | None = None
    lane_class: float | None = None
    name: str = ""

    def __post_init__(self) -> None:
        tiers = tuple(t if isinstance(t, Tier) else Tier(**t) for t in self.tiers)
        object.__setattr__(self, "tiers", tiers)
        for attr in ("torus_dims", "cube_dims"):
            v = getattr(self, attr)
            if v is not None:
                object.__setattr__(self, attr, tuple(int(x) for x in v))


@dataclass
class _Group:
    """Links of one kind (one tier/span) with their two sets of endpoints."""

    label: str
    tier: Tier
    links: float
    #: (number of endpoints, links terminating on each) for each side that carries modules
    ends: list[tuple[float, float]] = field(default_factory=list)
    lanes_per_link: float = 1.0
    length_m: float = 0.0
    reach_m: float = math.inf
    modules: float = 0.0
    cables: float = 0.0
    through_ocs: bool = False


def _err(design: SupernodeDesign, msg: str) -> FabricDesignError:
    return FabricDesignError(f"design {design.name or design.chip + ' x ' + str(design.count)}: {msg}")


def _chips() -> xr.Dataset:
    """The chip catalogue of the current plugin manager (read-only, cached on that manager: another
    manager, whose plugins may replace the catalogue, reads its own)."""
    import workbench as wb
    from workbench.model import read_only

    return wb.get_plugin_manager().cached("workbench_optical.chips", lambda: read_only(wb.load_dataset("chips")))


def chip_row(chip: str) -> dict:
    """Per-chip specs from the core catalogue (bf16_flops [FLOP/s], hbm [B], hbm_bw [B/s], tdp [W], price [USD])."""
    ds = _chips()
    ids = ds["chip"].values.tolist()
    if chip not in ids:
        raise FabricDesignError(f"unknown chip {chip!r}{did_you_mean(chip, ids)}; the chip catalogue has: "
                                f"{', '.join(ids)}")
    row = ds.sel(chip=chip)
    return {k: float(row[k]) for k in ("bf16_flops", "hbm", "hbm_bw", "tdp", "price")}


def link_structure(design: SupernodeDesign) -> dict:
    """Links per chip [1], link rate per direction [bit/s], lanes per link [1], lane class [bit/s]."""
    table = cat.chip_links()
    if design.chip not in table.index:
        chip_row(design.chip)  # an unknown chip: say so (with a did-you-mean) before the missing link data
    row = table.loc[design.chip] if design.chip in table.index else None
    out = {}
    for key, col in (("links", "scale_up_links"), ("link_rate", "link_rate"),
                     ("lanes_per_link", "lanes_per_link"), ("lane_class", "lane_class")):
        override = {"links": design.links_per_chip, "link_rate": design.link_rate,
                    "lanes_per_link": design.lanes_per_link, "lane_class": design.lane_class}[key]
        value = override if override is not None else (row[col] if row is not None else math.nan)
        if value is None or not np.isfinite(value):
            raise _err(design, f"chip {design.chip!r} has no scale-up {col} in datasets/optical/chip_links.csv "
                               f"(source unconfirmed); pass {key}=... explicitly")
        out[key] = float(value)
    return out


def cable_length_m(span: str, racks: int) -> float:
    """Longest cable of a span [m] for a domain of ``racks`` racks (see the module constants)."""
    if span == "board":
        return 0.0
    if span == "rack":
        return IN_RACK_CABLE_M
    side = math.ceil(math.sqrt(max(racks, 1)))
    return 2 * RACK_VERTICAL_RUN_M + (side - 1) * (RACK_PITCH_M + ROW_PITCH_M) / 2


def _check_medium(design: SupernodeDesign, label: str, tier: Tier, lane_class: float, length: float) -> tuple:
    media = cat.media()
    med = cat.lookup(media, tier.medium, "medium")
    kind = med["kind"]
    if tier.span not in SPANS:
        raise _err(design, f"tier {label}: span {tier.span!r} is not one of {', '.join(SPANS)}")
    if kind == "board" and tier.span != "board":
        raise _err(design, f"tier {label}: medium 'board' (PCB traces) only joins chips inside a node, "
                           f"not across a {tier.span}")
    if kind == "copper":
        reach = float(cat.copper_reach_m(lane_class))
        if not np.isfinite(reach):
            raise _err(design, f"tier {label}: no sourced copper reach at {lane_class / 1e9:g} Gbit/s per lane")
    else:
        reach = float(med["reach"])
    if bool(med["linear"]) and np.isfinite(med["lane_class"]) and kind != "copper" \
            and not math.isclose(float(med["lane_class"]), lane_class):
        raise _err(design, f"tier {label}: {tier.medium} is linear (no DSP/gearbox) with "
                           f"{med['lane_class'] / 1e9:g} Gbit/s lanes, but the links use "
                           f"{lane_class / 1e9:g} Gbit/s lanes; use a DSP module or a matching medium")
    if length > reach + 1e-9:
        raise _err(design, f"tier {label} ({tier.span}, {tier.medium}) needs cables of {length:.2f} m but "
                           f"{tier.medium} reaches {reach:.2f} m at {lane_class / 1e9:g} Gbit/s per lane; "
                           "use an optical medium for this tier or a smaller domain")
    return med, reach


def _switch(design: SupernodeDesign, switch_id: str | None, label: str, link_rate: float):
    if not switch_id:
        raise _err(design, f"tier {label} needs a switch id (switches.csv: {', '.join(cat.switches().index)})")
    sw = cat.lookup(cat.switches(), switch_id, "switch")
    if sw["kind"] != "eps":
        raise _err(design, f"tier {label}: {switch_id} is an {sw['kind']}, not a packet switch")
    if link_rate > float(sw["port_rate"]) * (1 + 1e-9):
        raise _err(design, f"tier {label}: links of {link_rate / 1e9:g} Gbit/s exceed {switch_id}'s port rate "
                           f"of {sw['port_rate'] / 1e9:g} Gbit/s")
    return sw


def _torus_links(design: SupernodeDesign, dims: tuple[int, ...], lpn: int, cube: tuple[int, ...] | None):
    """Classify every torus link by span (vectorised): returns per-span link counts and per-chip ends.

    Chips are numbered so that consecutive ids share nodes and racks (row-major over ``dims``, or
    cube-major for cubes). A link in the + direction of each dimension of size >= 2 is counted once;
    a dimension of size 2 thus has two links per pair (the wrap), as the torus does.
    """
    n = int(np.prod(dims))
    coords = np.stack(np.unravel_index(np.arange(n), dims), axis=1)  # torus coordinates
    if cube is None:
        chip_id = np.arange(n)
    else:
        cube_n = tuple(d // c for d, c in zip(dims, cube))
        cube_idx = np.ravel_multi_index(tuple((coords // np.array(cube)).T), cube_n)
        local = np.ravel_multi_index(tuple((coords % np.array(cube)).T), cube)
        chip_id = cube_idx * int(np.prod(cube)) + local
    node = chip_id // design.chips_per_node
    rack = node // design.nodes_per_rack
    counts = {s: 0 for s in (*SPANS, "ocs")}
    ends = {s: np.zeros(n) for s in counts}
    for d, k in enumerate(dims):
        if k < 2:
            continue
        nb = coords.copy()
        nb[:, d] = (coords[:, d] + 1) % k
        j = np.ravel_multi_index(tuple(nb.T), dims)
        if cube is not None:
            through_ocs = (coords[:, d] % cube[d]) == cube[d] - 1
        else:
            through_ocs = np.zeros(n, bool)
        span = np.where(through_ocs, 3, np.where(node == node[j], 0, np.where(rack == rack[j], 1, 2)))
        for s_i, s in enumerate((*SPANS, "ocs")):
            mask = span == s_i
            counts[s] += int(mask.sum()) * lpn
            ends[s] += np.bincount(chip_id[mask], minlength=n) * lpn
            ends[s] += np.bincount(chip_id[j[mask]], minlength=n) * lpn
    return counts, ends


def _tier_for_span(design: SupernodeDesign, span: str) -> Tier:
    for t in design.tiers:
        if t.span == span:
            return t
    raise _err(design, f"the topology has links that run across a {span} but no tier with span={span!r}; "
                       f"add Tier(span={span!r}, medium=...)")


def _modules_per_end(links_per_end, lanes: float, lane_class: float, med) -> np.ndarray:
    """Modules at an endpoint carrying ``links_per_end`` links: ceil(lanes x lane class / module rate)."""
    if med["kind"] in ("board", "copper"):
        return np.zeros_like(np.asarray(links_per_end, dtype=float))
    return np.ceil(np.asarray(links_per_end, dtype=float) * lanes * lane_class / float(med["rate"]) - 1e-9)


def fabric_totals(design: SupernodeDesign) -> xr.Dataset:
    """Compute every total of a supernode from its structural inputs.

    Parameters
    ----------
    design : SupernodeDesign

    Returns
    -------
    xarray.Dataset
        Scalars (each with ``units`` and ``long_name``): chips, nodes, racks, switches, ocs,
        transceivers, cables, lanes, bf16_flops [FLOP/s], hbm_bytes [B], hbm_bw [B/s],
        scale_up_bw_per_chip and scale_up_bw_total [B/s, both directions], bisection_bw [B/s, both
        directions across the worst equal cut], chip/node/switch/ocs/optics/fabric/it/total power
        [W], w_per_pflops [W/(PFLOP/s)], fabric_cost_usd, chip_cost_usd, cost_usd [USD],
        blast_radius_chips, blast_radius_bw_frac, blast_radius_link_chips, switch_hops,
        diameter_hops; plus per-group variables over ``group`` (links, modules, cables, cable
        length and reach [m]).

    Raises
    ------
    FabricDesignError
        Copper beyond its reach (naming tier, length and reach), radix exceeded, bad dimensions,
        linear optics on mismatched lanes, unknown ids.
    """
    d = design
    if d.topology not in TOPOLOGIES:
        raise _err(d, f"topology {d.topology!r} is not one of {', '.join(TOPOLOGIES)}")
    for attr in ("count", "chips_per_node", "nodes_per_rack"):
        if int(getattr(d, attr)) < 1:
            raise _err(d, f"{attr} must be >= 1, got {getattr(d, attr)}")
    if not d.tiers:
        raise _err(d, "needs at least one tier")
    chip = chip_row(d.chip)
    ls = link_structure(d)
    n = int(d.count)
    links, rate, lanes, lane_class = int(ls["links"]), ls["link_rate"], ls["lanes_per_link"], ls["lane_class"]
    nodes = math.ceil(n / d.chips_per_node)
    compute_racks = math.ceil(nodes / d.nodes_per_rack)
    switch_counts: dict[str, float] = {}
    groups: list[_Group] = []
    n_ocs, ocs_row = 0.0, None
    extra_racks = 0
    chip_bw_dir = links * rate / _BITS  # B/s per direction per chip
    blast_chips, blast_frac, link_chips = 0.0, 0.0, 1.0
    switch_hops, diameter = 0, 0
    bisection = 0.0  # B/s both directions

    if d.topology in ("switched", "clos2"):
        planes = int(d.planes or links)
        if planes < 1 or planes > links:
            raise _err(d, f"planes must be between 1 and the {links} links per chip, got {planes}")
    if d.topology == "switched":
        if len(d.tiers) != 1:
            raise _err(d, f"a switched (single-tier) fabric has exactly one tier, got {len(d.tiers)}")
        t = d.tiers[0]
        sw = _switch(d, t.switch, "1", rate)
        ports_needed = math.ceil(n * links / planes)
        if ports_needed > sw["ports"]:
            raise _err(d, f"single-tier switched: each of the {planes} planes needs {ports_needed} ports but "
                          f"{t.switch} has {sw['ports']:.0f}; use clos2, more planes or a smaller domain")
        switch_counts[t.switch] = planes
        groups.append(_Group("tier1", t, n * links, [(n, links), (planes, n * links / planes)], lanes))
        bisection = (n // 2) * chip_bw_dir * 2
        blast_chips, blast_frac = n, 1 / planes
        switch_hops, diameter = 1, 2
        if d.spine_switches_per_rack:
            extra_racks = math.ceil(planes / d.spine_switches_per_rack)
    elif d.topology == "clos2":
        if len(d.tiers) != 2:
            raise _err(d, f"a two-tier Clos has a leaf tier and a spine tier, got {len(d.tiers)} tiers")
        if links % planes:
            raise _err(d, f"clos2 needs the {links} links per chip to split evenly over {planes} planes")
        p = links // planes
        leaf_t, spine_t = d.tiers
        leaf = _switch(d, leaf_t.switch, "1 (leaf)", rate)
        spine = _switch(d, spine_t.switch, "2 (spine)", rate)
        radix1, radix2 = int(leaf["ports"]), int(spine["ports"])
        down = int(leaf_t.down_ports or radix1 // 2)
        up = radix1 - down
        if not 0 < down < radix1:
            raise _err(d, f"leaf down_ports must be between 1 and {radix1 - 1}, got {down}")
        leaves_pp = math.ceil(n * p / down)
        uplinks_pp = leaves_pp * up
        spines_pp = math.ceil(uplinks_pp / radix2)
        if leaves_pp > radix2 or spines_pp > up:
            raise _err(d, f"two-tier Clos: {leaves_pp} leaves per plane need {spines_pp} spines of radix {radix2}; "
                          f"a leaf has {up} up ports and a spine {radix2} ports, so at most "
                          f"{radix2 * down // p} chips per plane fit; use more planes, bigger switches or a "
                          "smaller domain")
        switch_counts[leaf_t.switch] = switch_counts.get(leaf_t.switch, 0) + planes * leaves_pp
        switch_counts[spine_t.switch] = switch_counts.get(spine_t.switch, 0) + planes * spines_pp
        groups.append(_Group("tier1", leaf_t, n * links, [(n, links), (planes * leaves_pp, n * p / leaves_pp)],
                             lanes))
        groups.append(_Group("tier2", spine_t, planes * uplinks_pp,
                             [(planes * leaves_pp, up), (planes * spines_pp, uplinks_pp / spines_pp)], lanes))
        ratio = min(1.0, up / down)
        bisection = (n // 2) * chip_bw_dir * ratio * 2
        blast_chips, blast_frac = down / p, p / links
        switch_hops, diameter = 3, 4
        if d.spine_switches_per_rack:
            extra_racks = math.ceil(planes * spines_pp / d.spine_switches_per_rack)
    else:
        dims = d.torus_dims
        want = {"torus2d": 2, "torus3d": 3, "torus3d_ocs": 3}[d.topology]
        if dims is None or len(dims) != want or min(dims) < 1:
            raise _err(d, f"{d.topology} needs torus_dims with {want} positive sizes, got {dims}")
        if int(np.prod(dims)) != n:
            raise _err(d, f"torus_dims {dims} hold {int(np.prod(dims))} chips, not count={n}")
        active = sum(k >= 2 for k in dims)
        lpn = links // (2 * active) if active else 0
        if active and lpn < 1:
            raise _err(d, f"a {d.topology} needs {2 * active} links per chip, {d.chip} has {links}")
        cube = None
        if d.topology == "torus3d_ocs":
            cube = d.cube_dims
            if cube is None or len(cube) != 3 or any(k % c for k, c in zip(dims, cube)):
                raise _err(d, f"torus3d_ocs needs cube_dims of 3 sizes dividing torus_dims {dims}, got {cube}")
            if not d.ocs:
                raise _err(d, "torus3d_ocs needs an ocs id (switches.csv, kind ocs)")
            ocs_row = cat.lookup(cat.switches(), d.ocs, "OCS")
            if ocs_row["kind"] != "ocs":
                raise _err(d, f"{d.ocs} is not an optical circuit switch")
        counts, ends = _torus_links(d, dims, lpn, cube)
        for s in (*SPANS, "ocs"):
            if counts[s] == 0:
                continue
            tier = _tier_for_span(d, "row" if s == "ocs" else s)
            per_chip = ends[s]
            used = per_chip[per_chip > 0]
            vals, freq = np.unique(used, return_counts=True)
            groups.append(_Group("ocs" if s == "ocs" else s, tier, counts[s],
                                 [(float(f), float(v)) for v, f in zip(vals, freq)], lanes,
                                 through_ocs=s == "ocs"))
        big = max(dims)
        cut_links = 2 * (n // big) * lpn if big >= 2 else 0  # the wrap doubles the cut
        bisection = cut_links * rate / _BITS * 2
        chip_bw_dir = 2 * active * lpn * rate / _BITS
        link_chips, switch_hops = 2.0, 0
        diameter = int(sum(k // 2 for k in dims))
        if cube is not None:
            n_cubes = n // int(np.prod(cube))
            ports_group = 2 * n_cubes * lpn
            per_group = math.ceil(ports_group / float(ocs_row["ports"]))
            positions = sum(int(np.prod(cube)) // c for c in cube)
            n_ocs = float(positions * per_group)
            blast_chips = math.ceil(ports_group / per_group) / lpn
            blast_frac = lpn / links
            if d.spine_switches_per_rack:
                extra_racks = math.ceil(n_ocs / d.spine_switches_per_rack)

    racks = compute_racks + extra_racks
    media = cat.media()
    module_power = module_price = cable_cost = 0.0
    n_modules = n_cables = n_lanes = copper_pairs = 0.0
    for g in groups:
        g.length_m = cable_length_m(g.tier.span, racks)
        if g.through_ocs and cat.lookup(media, g.tier.medium, "medium")["kind"] not in ("dsp", "lpo", "cpo"):
            raise _err(d, f"links through an optical circuit switch need an optical medium, not {g.tier.medium}")
        med, g.reach_m = _check_medium(d, g.label, g.tier, lane_class, g.length_m)
        if g.through_ocs:
            # torus ends: each chip end goes to an OCS port (no module at the OCS, it is all-optical)
            mods = float(sum(c * _modules_per_end(k, lanes, lane_class, med) for c, k in g.ends))
            g.modules, g.cables = mods, mods
        else:
            sides = [float(c * _modules_per_end(k, lanes, lane_class, med)) for c, k in g.ends]
            if d.topology.startswith("torus"):
                g.modules = float(sum(sides))  # both ends of every link are in the per-chip counts
                g.cables = g.modules / 2 if med["kind"] not in ("board", "copper") else g.links
            else:
                g.modules = float(sum(sides))
                g.cables = max(sides) if med["kind"] not in ("board", "copper") else g.links
        if med["kind"] == "board":
            g.cables = 0.0
        n_lanes += g.links * lanes
        if med["kind"] == "copper":
            copper_pairs += g.links * lanes * 2
        n_modules += g.modules
        n_cables += g.cables
        module_power += g.modules * float(med["power"])
        module_price += g.modules * float(med["price"])
        cable_cost += g.cables * float(med["cable_price"])

    sw_table = cat.switches()
    n_switches = float(sum(switch_counts.values()))
    switch_power = float(sum(c * sw_table.loc[s, "power"] for s, c in switch_counts.items()))
    switch_price = float(sum(c * sw_table.loc[s, "price"] for s, c in switch_counts.items()))
    ocs_power = n_ocs * float(ocs_row["power"]) if ocs_row is not None else 0.0
    ocs_price = n_ocs * float(ocs_row["price"]) if ocs_row is not None else 0.0
    chip_power = n * chip["tdp"]
    node_power = nodes * float(d.node_overhead_w)
    fabric_power = switch_power + ocs_power + module_power
    it_power = chip_power + node_power + fabric_power
    total_power = it_power * float(d.pue)
    bf16 = n * chip["bf16_flops"]
    fabric_cost = switch_price + ocs_price + module_price + cable_cost
    chip_cost = n * chip["price"]

    values = {
        "chips": (n, "1", "accelerator chips"),
        "nodes": (nodes, "1", "nodes (trays/servers)"),
        "racks": (racks, "1", "racks (compute + dedicated switch/OCS racks)"),
        "switches": (n_switches, "1", "electrical packet switch chips"),
        "ocs": (n_ocs, "1", "optical circuit switches"),
        "transceivers": (n_modules, "1", "optical transceivers and active-cable ends (each link end counted)"),
        "cables": (n_cables, "1", "cable assemblies (copper per link, fibre per module pair or OCS port)"),
        "lanes": (n_lanes, "1", "SerDes lanes per direction in the scale-up fabric"),
        "copper_pairs": (copper_pairs, "1", "copper differential pairs (one per lane per direction)"),
        "bf16_flops": (bf16, "FLOP/s", "aggregate dense BF16 throughput"),
        "hbm_bytes": (n * chip["hbm"], "B", "aggregate HBM capacity"),
        "hbm_bw": (n * chip["hbm_bw"], "B/s", "aggregate HBM bandwidth"),
        "scale_up_bw_per_chip": (links * rate / _BITS * 2, "B/s", "scale-up bandwidth per chip (both directions)"),
        "scale_up_bw_total": (n * links * rate / _BITS * 2, "B/s", "aggregate scale-up bandwidth (both directions)"),
        "bisection_bw": (bisection, "B/s", "bisection bandwidth (both directions across the worst equal cut)"),
        "collective_bw": (chip_bw_dir, "B/s", "per-chip bandwidth per direction available to collectives"),
        "chip_power_w": (chip_power, "W", "chip power (TDP)"),
        "node_overhead_power_w": (node_power, "W", "node overhead power (hosts, memory, NICs)"),
        "switch_power_w": (switch_power, "W", "packet switch power"),
        "ocs_power_w": (ocs_power, "W", "optical circuit switch power"),
        "optics_power_w": (module_power, "W", "transceiver / active cable power"),
        "fabric_power_w": (fabric_power, "W", "fabric power (switches + OCS + optics)"),
        "it_power_w": (it_power, "W", "IT power (chips + node overhead + fabric)"),
        "total_power_w": (total_power, "W", "total power (IT power x PUE)"),
        "w_per_pflops": (total_power / (bf16 / 1e15), "W/(PFLOP/s)", "total power per dense BF16 PFLOP/s"),
        "fabric_cost_usd": (fabric_cost, "USD", "fabric cost (switches, OCS, optics, cables)"),
        "chip_cost_usd": (chip_cost, "USD", "chip cost (NaN where no price is sourced)"),
        "cost_usd": (chip_cost + fabric_cost, "USD", "chip + fabric cost (NaN where a price is unknown)"),
        "blast_radius_chips": (blast_chips, "1", "chips whose own links end on one failed switch or OCS"),
        "blast_radius_bw_frac": (blast_frac, "1", "share of their scale-up bandwidth those chips lose"),
        "blast_radius_link_chips": (link_chips, "1", "chips losing a link when one cable fails"),
        "blast_radius_link_bw_frac": (1 / links, "1", "share of a chip's scale-up bandwidth one link carries"),
        "switch_hops": (switch_hops, "1", "switch traversals between neighbours in a collective step"),
        "diameter_hops": (diameter, "1", "largest number of link hops between two chips"),
    }
    ds = xr.Dataset({k: xr.DataArray(float(v), attrs={"units": u, "long_name": ln}) for k, (v, u, ln) in values.items()})
    if groups:
        gdim = [g.label for g in groups]
        for key, vals, unit, ln in (
                ("group_links", [g.links for g in groups], "1", "links in the group"),
                ("group_transceivers", [g.modules for g in groups], "1", "transceivers in the group"),
                ("group_cables", [g.cables for g in groups], "1", "cables in the group"),
                ("group_cable_length", [g.length_m for g in groups], "m", "longest cable of the group"),
                ("group_reach", [g.reach_m for g in groups], "m", "reach of the group's medium")):
            ds[key] = xr.DataArray(np.asarray(vals, float), dims="group", coords={"group": gdim},
                                   attrs={"units": unit, "long_name": ln})
        ds["group_medium"] = xr.DataArray([g.tier.medium for g in groups], dims="group",
                                          attrs={"long_name": "medium"})
    ds.attrs = {"design": d.name or f"{d.chip} x {n} {d.topology}", "chip": d.chip, "topology": d.topology,
                "torus_dims": list(d.torus_dims or ()), "media": ",".join(t.medium for t in d.tiers),
                "pue": float(d.pue)}
    return ds


#: Keys of :func:`totals_dict` (the CLI's ``--json`` output), in order, with their units.
JSON_KEYS = ("chips", "nodes", "racks", "switches", "ocs", "transceivers", "cables", "lanes", "copper_pairs",
             "bf16_flops", "hbm_bytes", "hbm_bw", "scale_up_bw_per_chip", "scale_up_bw_total", "bisection_bw",
             "chip_power_w", "node_overhead_power_w", "switch_power_w", "ocs_power_w", "optics_power_w",
             "fabric_power_w", "it_power_w", "total_power_w", "w_per_pflops", "fabric_cost_usd",
             "chip_cost_usd", "cost_usd", "blast_radius_chips", "blast_radius_bw_frac",
             "blast_radius_link_chips", "allreduce_time_s")


def totals_dict(ds: xr.Dataset) -> dict:
    """The scalar totals as a plain dict (NaN -> None) with the keys of :data:`JSON_KEYS`."""
    out = {}
    for k in JSON_KEYS:
        if k in ds:
            v = float(ds[k])
            out[k] = None if not np.isfinite(v) else (int(v) if v.is_integer() and abs(v) < 2**53 else v)
    return out


def with_pue(design: SupernodeDesign, pue: float) -> SupernodeDesign:
    """The same design at another PUE [1]."""
    return replace(design, pue=float(pue))
