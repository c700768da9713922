"""Design studies: build a design from a few choices, enumerate a grid, find the Pareto front.

:func:`design_from_choice` turns (chip, domain size, topology, medium) into a
:class:`~workbench_optical.fabric.SupernodeDesign` with a fixed packaging rule (``chips_per_node``,
``nodes_per_rack``), so designs differ only in what was chosen. The medium is used for every cabled
tier ("pure" designs: copper everywhere, DSP pluggables everywhere, ...), which makes the copper
reach limit visible. :func:`pareto_designs` enumerates the small discrete grid topology x medium x
domain size for ``count`` chips (``count / domain`` supernodes joined by a fixed scale-out network)
and marks the non-dominated designs; exhaustive enumeration is exact for a grid this small.
:func:`build_fabric_space` exposes the same grid to the study machinery as the ``fabric_design``
decision space with the objectives ``fabric_power``, ``fabric_cost`` and ``allreduce_time``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import xarray as xr

from . import catalogues as cat
from .collectives import hierarchical_allreduce_time, hierarchical_alltoall_time
from .fabric import FabricDesignError, SupernodeDesign, Tier, fabric_totals, link_structure

DEFAULT_TOPOLOGIES = ("switched", "clos2", "torus3d", "torus3d_ocs")
DEFAULT_MEDIA = ("copper-dac", "dsp-1.6t", "lpo-1.6t", "cpo-1.6t")
DEFAULT_DOMAINS = (64, 128, 256, 512, 1024)

#: Scale-up switch by chip lane class [bit/s] when none is given (NVLink-class switch chips).
SWITCH_BY_LANE_CLASS = {200e9: "nvswitch-4", 100e9: "nvswitch-3"}
#: Cube of a torus3d_ocs design (64 chips: one rack of 16 nodes x 4 chips, as the TPU v4 cube).
OCS_CUBE = (4, 4, 4)
#: Scale-out network joining supernodes: one 800G NIC port per chip (assumed), a two-tier Clos of
#: 51.2T Ethernet switches and 800G DSP pluggables, the same for every candidate.
SCALE_OUT = {"link_rate": 800e9, "lanes_per_link": 8, "lane_class": 100e9, "switch": "eps-51.2t",
             "medium": "dsp-800g"}


def torus_shape(count: int, ndim: int = 3, multiple: int = 1) -> tuple[int, ...]:
    """Most cubic torus shape of ``count`` chips (each side a multiple of ``multiple``), sides ascending."""
    divisors = [k for k in range(multiple, count + 1, multiple) if count % k == 0]
    best = None
    for dims in itertools.combinations_with_replacement(divisors, ndim - 1):
        prod = math.prod(dims)
        if count % prod or (count // prod) % multiple:
            continue
        shape = tuple(sorted((*dims, count // prod)))
        score = max(shape) / min(shape)
        if best is None or score < best[0]:
            best = (score, shape)
    if best is None:
        raise FabricDesignError(f"{count} chips cannot form a {ndim}-D torus with sides that are multiples "
                                f"of {multiple}")
    return best[1]


def design_from_choice(chip: str, count: int, topology: str, medium: str, *, chips_per_node: int = 4,
                       nodes_per_rack: int = 16, switch: str | None = None, node_overhead_w: float = 0.0,
                       pue: float = 1.0, ocs: str = "ocs-palomar") -> SupernodeDesign:
    """A supernode design from a handful of choices (the CLI's ``--chip/--count/--topology/--medium``).

    Parameters
    ----------
    chip : str
        Chip id.
    count : int
        Chips in the supernode [1].
    topology : str
        ``switched``, ``clos2``, ``torus2d``, ``torus3d`` or ``torus3d_ocs``.
    medium : str
        Medium id used for every cabled tier.
    chips_per_node, nodes_per_rack : int
        Packaging [1]; default 4 x 16 = 64 chips per rack.
    switch : str, optional
        Switch id (switched/clos2); default by the chip's lane class (:data:`SWITCH_BY_LANE_CLASS`).
    node_overhead_w : float
        Power per node beyond its chips [W].
    pue : float
        Power usage effectiveness [1].
    ocs : str
        OCS id for ``torus3d_ocs``.
    """
    count = int(count)
    per_rack = chips_per_node * nodes_per_rack
    racks = math.ceil(count / per_rack)
    cross = "rack" if racks <= 1 else "row"
    base = {"chip": chip, "count": count, "chips_per_node": chips_per_node, "nodes_per_rack": nodes_per_rack,
            "node_overhead_w": node_overhead_w, "pue": pue, "name": f"{chip} x {count} {topology} {medium}"}
    if topology in ("switched", "clos2"):
        if switch is None:
            lane = link_structure(SupernodeDesign(chip, count, topology, (Tier("rack", medium),)))["lane_class"]
            switch = SWITCH_BY_LANE_CLASS.get(lane)
            if switch is None:
                raise FabricDesignError(f"no default scale-up switch for {chip} ({lane / 1e9:g} Gbit/s lanes); "
                                        f"pass switch=... (switches.csv: {', '.join(cat.switches().index)})")
        if topology == "switched":
            return SupernodeDesign(tiers=(Tier(cross, medium, switch),), topology=topology, **base)
        return SupernodeDesign(tiers=(Tier("rack", medium, switch), Tier(cross, medium, switch)),
                               topology=topology, **base)
    if topology in ("torus2d", "torus3d"):
        dims = torus_shape(count, 2 if topology == "torus2d" else 3)
        return SupernodeDesign(tiers=(Tier("board", "board"), Tier("rack", medium), Tier("row", medium)),
                               topology=topology, torus_dims=dims, **base)
    if topology == "torus3d_ocs":
        dims = torus_shape(count, 3, multiple=OCS_CUBE[0])
        return SupernodeDesign(tiers=(Tier("board", "board"), Tier("rack", medium), Tier("row", medium)),
                               topology=topology, torus_dims=dims, cube_dims=OCS_CUBE, ocs=ocs, **base)
    raise FabricDesignError(f"unknown topology {topology!r}; expected switched, clos2, torus2d, torus3d, "
                            "torus3d_ocs")


def scale_out_design(chip: str, count: int, chips_per_node: int = 4, nodes_per_rack: int = 16) -> SupernodeDesign:
    """The fixed scale-out network of :data:`SCALE_OUT` over ``count`` chips (one port per chip)."""
    racks = math.ceil(count / (chips_per_node * nodes_per_rack))
    so = SCALE_OUT
    return SupernodeDesign(chip=chip, count=count, topology="clos2", chips_per_node=chips_per_node,
                           nodes_per_rack=nodes_per_rack, planes=1, links_per_chip=1, link_rate=so["link_rate"],
                           lanes_per_link=so["lanes_per_link"], lane_class=so["lane_class"],
                           tiers=(Tier("rack", so["medium"], so["switch"]),
                                  Tier("rack" if racks <= 1 else "row", so["medium"], so["switch"])),
                           name=f"scale-out {count} x 800G")


def evaluate_cluster(chip: str, count: int, topology: str, medium: str, domain: int, message_bytes: float = 1e9,
                     **kwargs) -> dict:
    """Power, cost and all-reduce time of ``count`` chips as ``count / domain`` supernodes.

    Returns
    -------
    dict
        fabric_power [W], fabric_cost [USD], total_power [W], allreduce_time [s], bf16_flops [FLOP/s],
        supernodes [1]. Raises :class:`FabricDesignError` for an impossible design.
    """
    if domain < 1 or count % domain:
        raise FabricDesignError(f"domain size {domain} does not divide {count} chips")
    k = count // domain
    dom = fabric_totals(design_from_choice(chip, domain, topology, medium, **kwargs))
    pack = {key: kwargs[key] for key in ("chips_per_node", "nodes_per_rack") if key in kwargs}
    out_t = fabric_totals(scale_out_design(chip, count, **pack)) if k > 1 else None
    so_power = float(out_t["fabric_power_w"]) if out_t is not None else 0.0
    so_cost = float(out_t["fabric_cost_usd"]) if out_t is not None else 0.0
    return {"fabric_power": k * float(dom["fabric_power_w"]) + so_power,
            "fabric_cost": k * float(dom["fabric_cost_usd"]) + so_cost,
            "total_power": k * float(dom["total_power_w"]) + so_power,
            "allreduce_time": hierarchical_allreduce_time(dom, out_t, k, message_bytes),
            "alltoall_time": hierarchical_alltoall_time(dom, out_t, k, message_bytes),
            "bf16_flops": k * float(dom["bf16_flops"]), "supernodes": k}


def pareto_mask(objectives: np.ndarray) -> np.ndarray:
    """Non-dominated rows of an ``(n, m)`` array to minimise (rows with NaN/inf are never Pareto)."""
    f = np.asarray(objectives, dtype=float)
    ok = np.all(np.isfinite(f), axis=1)
    le = np.all(f[:, None, :] <= f[None, :, :], axis=2)
    lt = np.any(f[:, None, :] < f[None, :, :], axis=2)
    dominated = np.any(le & lt & ok[:, None], axis=0)  # row j dominated by some feasible row i
    return ok & ~dominated


def _grid(*args) -> tuple:
    """The evaluated design grid, cached on the plugin manager (it reads the manager's chip catalogue)."""
    from workbench.plugins import get_plugin_manager

    return get_plugin_manager().cached(f"workbench_optical.grid.{args!r}", lambda: tuple(_evaluate_grid(*args)))


def _evaluate_grid(chip, count, topologies, media, domains, message_bytes, chips_per_node, nodes_per_rack):
    rows = []
    for topo, med, dom in itertools.product(topologies, media, domains):
        try:
            r = evaluate_cluster(chip, count, topo, med, dom, message_bytes, chips_per_node=chips_per_node,
                                 nodes_per_rack=nodes_per_rack)
            r.update(feasible=True, reason="")
        except FabricDesignError as err:
            r = {"fabric_power": np.nan, "fabric_cost": np.nan, "total_power": np.nan, "allreduce_time": np.nan,
                 "alltoall_time": np.nan, "bf16_flops": np.nan, "supernodes": count // dom if count % dom == 0 else np.nan,
                 "feasible": False, "reason": str(err).split(": ", 1)[-1]}
        rows.append((topo, med, dom, r))
    return rows


def pareto_designs(chip: str = "gb200", count: int = 1024, topologies=DEFAULT_TOPOLOGIES, media=DEFAULT_MEDIA,
                   domains=DEFAULT_DOMAINS, message_bytes: float = 1e9, chips_per_node: int = 4,
                   nodes_per_rack: int = 16,
                   objectives=("fabric_power", "fabric_cost", "allreduce_time")) -> xr.Dataset:
    """Enumerate topology x medium x domain size for ``count`` chips and mark the Pareto front.

    The grid is small (tens of designs), so exhaustive enumeration gives the exact front of the
    three objectives fabric power, fabric cost and all-reduce time (all minimised). Impossible
    designs (copper beyond reach, radix exceeded, ...) are kept with ``feasible=False`` and the
    reason.

    Parameters
    ----------
    chip : str
        Chip id.
    count : int
        Chips in the cluster [1].
    topologies, media, domains : sequence
        Grid axes (domain = chips per supernode; ``count / domain`` supernodes are joined by the
        fixed scale-out network of :data:`SCALE_OUT`).
    message_bytes : float
        All-reduce message per rank [B].
    chips_per_node, nodes_per_rack : int
        Packaging [1].
    objectives : sequence of str
        Variables minimised for the ``pareto`` mask (default fabric power, fabric cost, all-reduce
        time; add ``alltoall_time`` for expert-parallel traffic).

    Returns
    -------
    xarray.Dataset
        Over ``design``: topology, medium, domain, fabric_power [W], fabric_cost [USD],
        total_power [W], allreduce_time [s], alltoall_time [s], bf16_flops [FLOP/s], supernodes,
        feasible, reason, pareto.
    """
    rows = _grid(chip, int(count), tuple(topologies), tuple(media), tuple(int(d) for d in domains),
                 float(message_bytes), int(chips_per_node), int(nodes_per_rack))
    n = len(rows)
    ds = xr.Dataset(coords={"design": np.arange(n)})
    ds["topology"] = ("design", np.array([r[0] for r in rows], dtype=object))
    ds["medium"] = ("design", np.array([r[1] for r in rows], dtype=object))
    ds["domain"] = ("design", np.array([r[2] for r in rows]), {"units": "1", "long_name": "chips per supernode"})
    meta = {"fabric_power": ("W", "fabric power"), "fabric_cost": ("USD", "fabric cost"),
            "total_power": ("W", "total IT power"), "allreduce_time": ("s", "all-reduce time"),
            "alltoall_time": ("s", "all-to-all time"),
            "bf16_flops": ("FLOP/s", "dense BF16 throughput"), "supernodes": ("1", "supernodes")}
    for key, (unit, ln) in meta.items():
        ds[key] = ("design", np.array([r[3][key] for r in rows], dtype=float), {"units": unit, "long_name": ln})
    ds["feasible"] = ("design", np.array([r[3]["feasible"] for r in rows]), {"long_name": "design is possible"})
    ds["reason"] = ("design", np.array([r[3]["reason"] for r in rows], dtype=object))
    unknown = [k for k in objectives if k not in meta]
    if unknown:
        raise ValueError(f"unknown objective(s) {unknown}; expected some of {list(meta)}")
    f = np.stack([ds[k].values for k in objectives], axis=1)
    ds["pareto"] = ("design", pareto_mask(f), {"long_name": "on the Pareto front"})
    ds.attrs = {"chip": chip, "count": int(count), "message_bytes": float(message_bytes),
                "objectives": ",".join(objectives),
                "method": "exhaustive enumeration of the discrete grid (exact front)"}
    return ds


# -- the study interface ------------------------------------------------------------------------
def build_fabric_space(chip: str = "gb200", count: int = 1024, topologies=DEFAULT_TOPOLOGIES, media=DEFAULT_MEDIA,
                       domains=DEFAULT_DOMAINS, message_bytes: float = 1e9, chips_per_node: int = 4,
                       nodes_per_rack: int = 16):
    """Build the ``fabric_design`` decision space (topology x medium x domain size).

    The context is the precomputed grid of :func:`pareto_designs` as arrays indexed
    ``[topology, medium, domain]`` (infeasible designs = +inf), so objectives are vectorised
    look-ups that pickle without the plugin manager.
    """
    from workbench.optimize.space import Choice, Space

    grid = pareto_designs(chip, count, topologies, media, domains, message_bytes, chips_per_node, nodes_per_rack)
    shape = (len(topologies), len(media), len(domains))
    context = {"shape": shape}
    for key in ("fabric_power", "fabric_cost", "allreduce_time"):
        context[key] = np.where(grid["feasible"].values, grid[key].values, np.inf).reshape(shape)
    context["feasible"] = grid["feasible"].values.reshape(shape)
    variables = (Choice("topology", tuple(topologies), long_name="fabric topology"),
                 Choice("medium", tuple(media), long_name="interconnect medium"),
                 Choice("domain", tuple(int(d) for d in domains), long_name="chips per supernode"))
    return Space(variables=variables, context=context, decode=decode_fabric, name="fabric_design",
                 attrs={"chip": chip, "count": int(count)})


def decode_fabric(context, X) -> dict:
    """Encoded candidates -> option indices ``{"topology", "medium", "domain"}`` (vectorised)."""
    X = np.asarray(X, dtype=float)
    shape = context["shape"]
    idx = [np.clip(np.rint(X[..., j]).astype(np.int64), 0, shape[j] - 1) for j in range(3)]
    return {"topology": idx[0], "medium": idx[1], "domain": idx[2]}


def _lookup(context, decoded, key):
    return context[key][decoded["topology"], decoded["medium"], decoded["domain"]]


def objective_fabric_power(context, decoded):
    """Fabric power of each candidate [W] (inf when the design is impossible)."""
    return _lookup(context, decoded, "fabric_power")


def objective_fabric_cost(context, decoded):
    """Fabric cost of each candidate [USD] (inf when the design is impossible)."""
    return _lookup(context, decoded, "fabric_cost")


def objective_allreduce_time(context, decoded):
    """Ring/hierarchical all-reduce time of each candidate [s] (inf when the design is impossible)."""
    return _lookup(context, decoded, "allreduce_time")


def constraint_feasible(context, decoded):
    """0 for a possible design, 1 for an impossible one (copper beyond reach, radix exceeded...)."""
    return np.where(_lookup(context, decoded, "feasible"), 0.0, 1.0)
