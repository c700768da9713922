"""From a scenario to a fault system: demands routed over the link graph, failure elements, memberships.

Two steps, so a study can rebuild the cheap part many times:

1. :func:`build_base` (once per scenario): the demands (the scenario's ``demand`` table, or derived from
   device groups and their serving sites, or a mesh of hub sites), their working path (shortest path on
   the optical layer, :class:`workbench.paths.Network`) and a backup path (shared-risk-group, link and
   node disjoint where the graph allows, else link and node disjoint, else link disjoint, else none:
   remove-and-reroute, which can miss a disjoint pair that Suurballe's algorithm would find in a trap
   topology), and the path incidence on the network's *components* (links, site nodes, access radio).
2. :func:`build_system` (per autonomy levels x guardrail set): the failure *elements* (independent
   alternating-renewal sources: each link's fibre, each site's hardware and software, each shared-risk
   group, each domain's stream of bad changes, each agent's harmful actions), their failure rates and
   restore chains, and ``cover`` (component x element: which elements take a component down). A demand's
   path is down while any element covering one of its components is down.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from workbench.errors import WorkbenchWarning
from workbench.paths import Network, group_access_site, link_length_km

from .model import (
    ACTIONS,
    DC_TIERS,
    DOMAINS,
    Chain,
    OpsError,
    OpsParams,
    build_chain,
    fault_class_row,
    guardrail_effects,
    human_review_catch,
    level_performers,
    load_table,
)

H_PER_YEAR = 8760.0
PROTECTIONS = ("none", "1+1", "restoration")


@dataclass
class Base:
    """Demands and their paths on a scenario's components (picklable numpy; no scenario inside)."""

    site_ids: np.ndarray
    site_tier: np.ndarray
    site_province: np.ndarray
    site_mtbf_h: np.ndarray
    site_mttr_h: np.ndarray
    site_srg: list
    link_ids: np.ndarray
    link_src: np.ndarray
    link_dst: np.ndarray
    link_km: np.ndarray
    link_srg: list
    demand_ids: np.ndarray
    demand_src: np.ndarray
    demand_dst: np.ndarray
    traffic_bps: np.ndarray
    people: np.ndarray
    metro: np.ndarray
    protection: np.ndarray
    radio: np.ndarray                 # demand enters through its src site's radio access (device demands)
    work: sp.csr_matrix               # demand x component (links, sites, radios)
    backup: sp.csr_matrix             # demand x component; empty row = no backup path
    backup_kind: np.ndarray           # "srg-disjoint" | "node-disjoint" | "link-disjoint" | "none"
    agents: pd.DataFrame = field(default_factory=pd.DataFrame)
    source: str = ""
    #: hour-of-day traffic of each demand relative to its mean (n_demands x 24, rows average 1), from the
    #: scenario's time axis where device groups have an endpoints or demand series; None = flat
    traffic_profile: np.ndarray | None = None

    @property
    def n_links(self) -> int:
        return self.link_ids.size

    @property
    def n_sites(self) -> int:
        return self.site_ids.size

    @property
    def n_components(self) -> int:
        return self.n_links + 2 * self.n_sites

    def site_domain(self) -> np.ndarray:
        return np.where(np.isin(self.site_tier, DC_TIERS), "dc", "ip")


def _srg_list(values) -> list[tuple[str, ...]]:
    out = []
    for v in values:
        s = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
        out.append(tuple(x.strip() for x in s.replace(",", ";").split(";") if x.strip()))
    return out


def derive_demands(scenario, net: Network, params: OpsParams, which: str = "devices") -> pd.DataFrame:
    """Demands derived from the scenario: ``devices`` (each device group from its access PoP to the nearest
    site with compute over the graph; traffic = endpoints x ``ops_traffic_per_endpoint``, people = endpoints)
    or ``hubs`` (every pair of hub-tier sites, 1+1)."""
    site = scenario["site"]
    ids = site["site"].values.astype(str)
    if which == "hubs":
        hubs = np.flatnonzero(site["tier"].values.astype(str) == "hub")
        if hubs.size < 2:
            return pd.DataFrame(columns=["demand", "src", "dst", "traffic", "people", "metro", "protection", "radio"])
        a, b = np.triu_indices(hubs.size, 1)
        return pd.DataFrame({"demand": [f"hub:{ids[hubs[i]]}~{ids[hubs[j]]}" for i, j in zip(a, b)],
                             "src": ids[hubs[a]], "dst": ids[hubs[b]],
                             "traffic": np.full(a.size, 100e9), "people": np.zeros(a.size), "metro": "",
                             "protection": "1+1", "radio": False})
    dev = scenario["device"]
    n = dev.sizes.get("device", 0)
    if n == 0:
        return pd.DataFrame(columns=["demand", "src", "dst", "traffic", "people", "metro", "protection", "radio"])
    pop = group_access_site(scenario, warn=False)
    compute = np.flatnonzero(scenario.compute_sites().values)
    if compute.size == 0:
        raise OpsError(f"scenario {scenario.name!r}: no site has compute (inventory), so device groups have no "
                       "serving site; give the scenario a demand table or an inventory")
    _, best = net.nearest(compute)
    dst = best[pop]
    ok = dst >= 0
    if (~ok).any():
        warnings.warn(f"{int((~ok).sum())} device group(s) reach no site with compute over the link graph; "
                      "they are left out of the availability analysis", WorkbenchWarning, stacklevel=3)
    endpoints = scenario.varying("device", "endpoints") if scenario.time_varying else None
    if endpoints is not None:
        w = np.asarray(scenario.snapshot_weight, float)
        ep = (np.asarray(endpoints.values, float) * w[:, None]).sum(0) / w.sum()
    else:
        ep = dev["endpoints"].values.astype(float)
    gid = dev["device"].values.astype(str)
    metro = dev["metro"].values.astype(str) if "metro" in dev else gid
    metro = np.where(metro == "", gid, metro)
    out = pd.DataFrame({"demand": gid[ok], "src": ids[pop[ok]], "dst": ids[dst[ok]],
                        "traffic": ep[ok] * params.traffic_per_endpoint, "people": ep[ok], "metro": metro[ok],
                        "protection": "none", "radio": True})
    prof = hourly_profile(scenario)
    if prof is not None:
        out.attrs["traffic_profile"] = prof[ok]
    return out


def hourly_profile(scenario) -> np.ndarray | None:
    """Hour-of-day traffic of each device group relative to its mean (groups x 24, rows average 1) from the
    scenario's time axis: endpoints x demand per endpoint where either has a series; None without one.
    Hours the snapshots do not cover take the group's mean (1)."""
    if not scenario.time_varying:
        return None
    varying = scenario.time_varying.get("device", ())
    if not {"endpoints", "demand"} & set(varying):
        return None
    x = np.asarray(scenario.varying("device", "endpoints").values, float)
    if "demand" in varying:
        x = x * np.asarray(scenario.varying("device", "demand").values, float)
    w = np.asarray(scenario.snapshot_weight, float)
    hour = pd.DatetimeIndex(scenario.snapshots).hour.to_numpy()
    num = np.zeros((24, x.shape[1]))
    den = np.zeros(24)
    np.add.at(num, hour, w[:, None] * x)
    np.add.at(den, hour, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        prof = (num / den[:, None]).T                                # groups x 24
        mean = np.nanmean(prof, axis=1, keepdims=True)
        prof = np.where(np.isnan(prof), mean, prof) / mean
    return np.where(np.isfinite(prof), prof, 1.0)


def _table_demands(scenario) -> pd.DataFrame:
    d = scenario["demand"]
    if d.sizes.get("demand", 0) == 0:
        return pd.DataFrame()
    out = pd.DataFrame({"demand": d["demand"].values.astype(str), "src": d["src"].values.astype(str),
                        "dst": d["dst"].values.astype(str), "traffic": d["traffic"].values.astype(float),
                        "people": d["people"].values.astype(float) if "people" in d else 0.0,
                        "metro": d["metro"].values.astype(str) if "metro" in d else "",
                        "protection": d["protection"].values.astype(str), "radio": False})
    return out


def _agents(scenario, sites: pd.Index) -> pd.DataFrame:
    if "agent" not in scenario or scenario["agent"].sizes.get("agent", 0) == 0:
        return pd.DataFrame()
    a = scenario["agent"]
    df = pd.DataFrame({"agent": a["agent"].values.astype(str), "role": a["role"].values.astype(str),
                       "level": a["autonomy_level"].values.astype(int),
                       "domain": a["ops_domain"].values.astype(str) if "ops_domain" in a else "ip",
                       "scope": a["ops_scope"].values.astype(str) if "ops_scope" in a else "",
                       "exposure": a["ops_exposure"].values.astype(float) if "ops_exposure" in a else np.nan,
                       "actions": a["ops_actions"].values.astype(str) if "ops_actions" in a else "|".join(ACTIONS)})
    return df[df["role"] == "ops"].reset_index(drop=True)


def build_base(scenario, *, demands: str = "auto", protection: str | None = None,
               params: OpsParams | None = None) -> Base:
    """Demands, working and backup paths of ``scenario`` (see the module docstring).

    Parameters
    ----------
    demands : {"auto", "scenario", "devices", "hubs", "devices+hubs"}
        ``auto`` = the scenario's ``demand`` table if it has rows, else ``devices+hubs``.
    protection : {None, "none", "1+1", "restoration"}
        Override every demand's protection (None keeps the table's; derived device demands are ``none``,
        i.e. restored by operations re-provisioning them on the backup path; hub demands ``1+1``).
    """
    params = params or OpsParams.from_scenario(scenario)
    net = Network.from_scenario(scenario, layer="optical")
    site, link = scenario["site"], scenario["link"]
    sids = site["site"].values.astype(str)
    pos = {s: i for i, s in enumerate(sids.tolist())}
    if demands not in ("auto", "scenario", "devices", "hubs", "devices+hubs"):
        raise OpsError(f"demands={demands!r}: expected auto, scenario, devices, hubs or devices+hubs")
    table = _table_demands(scenario) if "demand" in scenario else pd.DataFrame()
    if demands == "scenario" or (demands == "auto" and len(table)):
        if not len(table):
            raise OpsError(f"scenario {scenario.name!r} has no demand table rows; use demands='devices' or 'hubs'")
        dem = table
    else:
        parts = []
        if demands in ("auto", "devices", "devices+hubs"):
            parts.append(derive_demands(scenario, net, params, "devices"))
        if demands in ("auto", "hubs", "devices+hubs"):
            parts.append(derive_demands(scenario, net, params, "hubs"))
        profiles = [p.attrs.get("traffic_profile", np.ones((len(p), 24))) for p in parts if len(p)]
        dem = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else table
        if any("traffic_profile" in p.attrs for p in parts):
            dem.attrs["traffic_profile"] = np.concatenate(profiles)
    if not len(dem):
        raise OpsError(f"scenario {scenario.name!r}: no demands (no demand table, device groups or hubs)")
    if protection is not None:
        if protection not in PROTECTIONS:
            raise OpsError(f"protection={protection!r}: expected one of {', '.join(PROTECTIONS)}")
        dem["protection"] = protection
    bad = ~dem["protection"].isin(PROTECTIONS)
    if bad.any():
        raise OpsError(f"demand[{dem['demand'][bad].iloc[0]}].protection = {dem['protection'][bad].iloc[0]!r}: "
                       f"expected one of {', '.join(PROTECTIONS)}")
    for col in ("src", "dst"):
        unknown = ~dem[col].isin(pos)
        if unknown.any():
            raise OpsError(f"demand[{dem['demand'][unknown].iloc[0]}].{col} = {dem[col][unknown].iloc[0]!r} is not "
                           f"a site of scenario {scenario.name!r}")
    src = dem["src"].map(pos).to_numpy(np.int64)
    dst = dem["dst"].map(pos).to_numpy(np.int64)
    nl, ns = net.link_src.size, net.n
    link_srg = _srg_list(link["ops_srg"].values if "ops_srg" in link else [""] * nl)
    site_srg = _srg_list(site["ops_srg"].values if "ops_srg" in site else [""] * ns)
    work, backup, kind = _paths(net, src, dst, link_srg, site_srg, dem["radio"].to_numpy(bool))
    unreachable = np.asarray(work[:, :nl].sum(1)).ravel() == 0
    unreachable &= src != dst
    if unreachable.any():
        raise OpsError(f"demand(s) {', '.join(dem['demand'][unreachable].head(5))} have no path over the link graph "
                       f"of scenario {scenario.name!r}")
    none_backup = (kind == "none") & (dem["protection"].to_numpy() != "none") & (src != dst)
    if none_backup.any():
        warnings.warn(f"{int(none_backup.sum())} protected demand(s) have no disjoint backup path (single-homed "
                      f"sites, e.g. {', '.join(dem['demand'][none_backup].head(3))}): they are as available as "
                      "their working path", WorkbenchWarning, stacklevel=2)
    mtbf = site["ops_mtbf"].values.astype(float) if "ops_mtbf" in site else np.full(ns, 8748.0)
    mttr = site["ops_mttr"].values.astype(float) if "ops_mttr" in site else np.full(ns, 12.0)
    return Base(site_ids=sids, site_tier=site["tier"].values.astype(str),
                site_province=site["province"].values.astype(str) if "province" in site else np.full(ns, ""),
                site_mtbf_h=mtbf, site_mttr_h=mttr, site_srg=site_srg,
                link_ids=net.link_ids.astype(str), link_src=net.link_src, link_dst=net.link_dst,
                link_km=link_length_km(scenario), link_srg=link_srg,
                demand_ids=dem["demand"].to_numpy(str), demand_src=src, demand_dst=dst,
                traffic_bps=dem["traffic"].to_numpy(float), people=dem["people"].to_numpy(float),
                metro=dem["metro"].astype(str).to_numpy(), protection=dem["protection"].to_numpy(str),
                radio=dem["radio"].to_numpy(bool), work=work, backup=backup, backup_kind=kind,
                agents=_agents(scenario, pd.Index(sids)), source=scenario.name,
                traffic_profile=dem.attrs.get("traffic_profile"))


def _path_rows(net: Network, src, dst, preds) -> list[tuple[np.ndarray, np.ndarray]]:
    """(links, sites) of each shortest path."""
    pair, lk, _ = net.path_links(src, dst, predecessors=preds)
    out = []
    by_pair = np.split(lk, np.searchsorted(pair, np.arange(1, src.size)))
    for i, links in enumerate(by_pair):
        sites = np.unique(np.concatenate([[src[i], dst[i]], net.link_src[links], net.link_dst[links]]))
        out.append((links, sites))
    return out


def _paths(net: Network, src, dst, link_srg, site_srg, radio):
    """Working (shortest) and backup (disjoint) paths as demand x component incidence matrices."""
    nl, ns = net.link_src.size, net.n
    n = src.size
    usrc = np.unique(src)
    _, preds = net.latency(usrc, return_predecessors=True)
    rows = _path_rows(net, src, dst, preds)
    # edges of the graph: one per link (parallel links kept: the fastest is what Network uses; a backup may
    # use a parallel link, which is a separate fibre)
    w = net.link_ms + 0.5 * (net.transit_ms[net.link_src] + net.transit_ms[net.link_dst])
    srg_links, srg_sites = _srg_members(link_srg), _srg_members(site_srg)
    wr, wc, br, bc = [], [], [], []
    kind = np.full(n, "none", dtype=object)
    cache: dict = {}

    def add_path(r, c, i, links, sites):
        """Components of one path (its links, its sites and, for a device demand, the radio at src)."""
        comps = np.concatenate([links, nl + sites, [nl + ns + src[i]] if radio[i] else []]).astype(np.int64)
        r.extend([i] * comps.size)
        c.extend(comps.tolist())

    for i, (links, sites) in enumerate(rows):
        add_path(wr, wc, i, links, sites)
        if src[i] == dst[i] or links.size == 0:
            continue
        key = (src[i], dst[i], tuple(links.tolist()))
        if key not in cache:
            cache[key] = _backup(net, w, src[i], dst[i], links, sites, link_srg, site_srg, srg_links, srg_sites)
        blinks, bsites, k = cache[key]
        if k == "none":
            continue
        kind[i] = k
        add_path(br, bc, i, blinks, bsites)
    shape = (n, nl + 2 * ns)
    work = sp.csr_matrix((np.ones(len(wr)), (wr, wc)), shape=shape)
    backup = sp.csr_matrix((np.ones(len(br)), (br, bc)), shape=shape)
    work.data[:] = 1.0
    backup.data[:] = 1.0
    return work, backup, kind.astype(str)


def _srg_members(srg_lists) -> dict[str, list[int]]:
    """Shared-risk group -> indices of the links (or sites) in it."""
    out: dict[str, list[int]] = {}
    for i, gs in enumerate(srg_lists):
        for g in gs:
            out.setdefault(g, []).append(i)
    return out


def _backup(net, w, s, t, links, sites, link_srg, site_srg, srg_links, srg_sites):
    nl, ns = net.link_src.size, net.n
    inner = sites[(sites != s) & (sites != t)]
    groups = set()
    for lk in links:
        groups.update(link_srg[lk])
    for st in inner:                                   # the end sites are on both paths anyway
        groups.update(site_srg[st])
    srg_l = np.array(sorted({x for g in groups for x in srg_links.get(g, [])}), np.int64)
    srg_s = np.array(sorted({x for g in groups for x in srg_sites.get(g, [])}), np.int64)
    srg_s = srg_s[(srg_s != s) & (srg_s != t)]
    attempts = [("srg-disjoint" if groups else "node-disjoint", np.union1d(links, srg_l), np.union1d(inner, srg_s)),
                ("node-disjoint", links, inner),
                ("link-disjoint", links, np.zeros(0, np.int64))]
    seen = set()
    for kind, drop_l, drop_s in attempts:
        key = (tuple(drop_l.tolist()), tuple(drop_s.tolist()))
        if key in seen:
            continue
        seen.add(key)
        keep = np.ones(nl, bool)
        keep[drop_l] = False
        if drop_s.size:
            keep &= ~np.isin(net.link_src, drop_s) & ~np.isin(net.link_dst, drop_s)
        keep &= net.link_src != net.link_dst
        idx = np.flatnonzero(keep)
        # a fresh graph per attempt; parallel links: the fastest kept link of each pair carries the edge
        a, b = np.minimum(net.link_src[idx], net.link_dst[idx]), np.maximum(net.link_src[idx], net.link_dst[idx])
        order = np.lexsort((w[idx], a * ns + b))
        key_ = (a * ns + b)[order]
        first = np.ones(order.size, bool)
        first[1:] = key_[1:] != key_[:-1]
        pick = idx[order[first]]
        g = sp.csr_matrix((w[pick] + 1e-12, (np.minimum(net.link_src[pick], net.link_dst[pick]),
                                             np.maximum(net.link_src[pick], net.link_dst[pick]))), shape=(ns, ns))
        d, pred = dijkstra(g, directed=False, indices=s, return_predecessors=True)
        if not np.isfinite(d[t]):
            continue
        blinks = []
        cur = t
        while cur != s:
            p = pred[cur]
            u, v = min(p, cur), max(p, cur)
            cand = pick[(np.minimum(net.link_src[pick], net.link_dst[pick]) == u)
                        & (np.maximum(net.link_src[pick], net.link_dst[pick]) == v)]
            blinks.append(int(cand[0]))
            cur = p
        blinks = np.array(blinks[::-1], np.int64)
        bsites = np.unique(np.concatenate([[s, t], net.link_src[blinks], net.link_dst[blinks]]))
        return blinks, bsites, kind
    return np.zeros(0, np.int64), np.zeros(0, np.int64), "none"


# ------------------------------------------------------------------------------------------ elements

@dataclass
class FaultSystem:
    """Failure elements of one operating point (autonomy levels x guardrails) over a :class:`Base`."""

    base: Base
    levels: dict
    guardrails: tuple
    params: OpsParams
    element_id: np.ndarray
    fault_class: np.ndarray
    domain: np.ndarray
    rate_per_h: np.ndarray
    phys_h: np.ndarray                # mean physical repair [h] (0 = none)
    chain_index: np.ndarray
    chains: list
    cover: sp.csr_matrix              # component x element
    W: sp.csr_matrix                  # demand x element (working path)
    B: sp.csr_matrix                  # demand x element (backup path)
    switch_kind: np.ndarray           # per demand: "switch" (1+1), "restore" (control plane), "reprovision", "none"
    switch_h: np.ndarray              # per demand: fixed switch/restoration time [h] (NaN = sampled reprovision)
    reprovision_chain: int
    agent_table: pd.DataFrame
    effects: dict
    #: domains that have elements (where operations agents exist at L1 and up)
    present_domains: tuple = DOMAINS

    @property
    def n_elements(self) -> int:
        return self.element_id.size

    def mean_restore_h(self) -> np.ndarray:
        """Mean time to restore of each element [h]: its chain's mean plus the physical repair (whose crew
        waits for the on-call call-out outside working hours even where the system closed the loop)."""
        cm = np.array([[c.mean(False), c.mean(True)] for c in self.chains]).reshape(-1, 2)
        return cm[self.chain_index, (self.phys_h > 0).astype(int)] + self.phys_h

    def availability(self) -> np.ndarray:
        """Steady-state availability of each element, MTBF / (MTBF + MTTR) = 1 / (1 + rate x MTTR)."""
        return 1.0 / (1.0 + self.rate_per_h * self.mean_restore_h())

    def sample_restore(self, elem: np.ndarray, t_fail_h: np.ndarray, rng) -> np.ndarray:
        """Restore times [h] of failures of elements ``elem`` at absolute times ``t_fail_h``."""
        base, human, oncall = self.sample_restore_parts(np.asarray(elem), rng)
        return base + np.where(human & self.off_hours(t_fail_h), oncall, 0.0)

    def off_hours(self, t_h) -> np.ndarray:
        """Whether times ``t_h`` [h since the start, hour 0 = midnight] fall outside working hours."""
        span = 24.0 * (1.0 - self.params.off_hours_share)
        return ((np.asarray(t_h, float) - self.params.work_start_h) % 24.0) >= span

    def sample_restore_parts(self, elem: np.ndarray, rng):
        """For failures of elements ``elem`` (any shape): restore time without the on-call wait [h] (physical
        repair included), whether people are involved, and the on-call wait outside working hours [h]."""
        shape = elem.shape
        flat = elem.ravel()
        base = np.empty(flat.size)
        human = np.zeros(flat.size, bool)
        oncall = np.zeros(flat.size)
        ci = self.chain_index[flat]
        for c in np.unique(ci):
            sel = np.flatnonzero(ci == c)
            base[sel], human[sel], oncall[sel] = self.chains[c].sample_parts(rng, sel.size)
        phys = self.phys_h[flat]
        has = phys > 0
        if has.any():
            cv = self.params.repair_cv
            s2 = math.log1p(cv * cv)
            base[has] += rng.lognormal(np.log(phys[has]) - s2 / 2, math.sqrt(s2))
            human |= has                      # a repair crew is people: the on-call wait applies to it
        return base.reshape(shape), human.reshape(shape), oncall.reshape(shape)

    def subsystem(self, keep: np.ndarray) -> FaultSystem:
        """The same system with only the elements where ``keep`` (others never fail)."""
        rate = np.where(keep, self.rate_per_h, 0.0)
        from dataclasses import replace as _r

        return _r(self, rate_per_h=rate)


def _domain_performers(levels: dict) -> dict:
    return {d: level_performers(levels[d]) for d in DOMAINS}


def default_agents(base: Base, levels: dict, params: OpsParams, present=DOMAINS) -> pd.DataFrame:
    """One operations agent per domain that has elements (``present``) and is run at L1 or above (L0 is
    manual: no agent), at the domain's level, scope the whole domain (used when the scenario has no
    ``agent`` rows of role ``ops``); exposure ``ops_exposure_per_day``."""
    doms = [d for d in DOMAINS if levels[d] >= 1 and d in present]
    return pd.DataFrame({"agent": [f"ops-{d}" for d in doms], "role": "ops", "level": [levels[d] for d in doms],
                         "domain": doms, "scope": "", "exposure": params.exposure_per_day,
                         "actions": "|".join(ACTIONS)})


#: who hands work to whom among the domain agents (tickets): assumed flows of a multi-domain NOC
HANDOFFS = (("radio", "ip"), ("ip", "transport"), ("transport", "ip"), ("ip", "dc"), ("dc", "ip"))


#: up to this many possible hand-offs the reach probabilities are computed exactly (2^n live-edge graphs)
EXACT_REACH_EDGES = 14


def reach_matrix(agents: pd.DataFrame, p_edge: np.ndarray, seed: int = 0, samples: int = 4000) -> np.ndarray:
    """R[i, j] = probability that an injection entering agent i reaches agent j through hand-offs (R[i, i] = 1).

    ``p_edge[i, j]``: probability that one compromise of i passes on to j. Exact (every combination of
    live and dead hand-offs) up to :data:`EXACT_REACH_EDGES` possible hand-offs, else estimated by
    percolation over ``samples`` seeded random live-edge graphs (standard error <= 0.008 at 4,000).
    """
    n = len(agents)
    if n == 0:
        return np.zeros((0, 0))
    ii, jj = np.nonzero(p_edge > 0)
    if ii.size <= EXACT_REACH_EDGES:
        # exact: every live/dead combination of the possible hand-offs, weighted by its probability
        states = ((np.arange(2 ** ii.size)[:, None] >> np.arange(ii.size)[None, :]) & 1).astype(bool)
        pe = p_edge[ii, jj]
        weight = np.prod(np.where(states, pe, 1 - pe), axis=1)
        live = np.zeros((states.shape[0], n, n), bool)
        live[:, ii, jj] = states
    else:
        rng = np.random.default_rng(seed)
        live = rng.random((samples, n, n)) < p_edge[None]
        weight = np.full(samples, 1.0 / samples)
    reach = np.broadcast_to(np.eye(n, dtype=bool), live.shape).copy()
    for _ in range(n):
        nxt = reach | (np.einsum("sij,sjk->sik", reach.astype(np.int32), live.astype(np.int32)) > 0)
        if np.array_equal(nxt, reach):
            break
        reach = nxt
    return np.tensordot(weight, reach.astype(float), axes=1)


def build_system(base: Base, levels, guardrails=(), params: OpsParams | None = None, *,
                 attacks: bool = True, agents: pd.DataFrame | None = None, seed: int = 0) -> FaultSystem:
    """Failure elements of ``base`` at autonomy ``levels`` (domain -> 0..5) with ``guardrails`` active."""
    from .model import parse_guardrails, parse_levels

    params = params or OpsParams()
    levels = parse_levels(levels)
    guardrails = parse_guardrails(guardrails)
    eff = guardrail_effects(guardrails, params)
    perf = _domain_performers(levels)
    nl, ns = base.n_links, base.n_sites
    ncomp = base.n_components
    site_dom = base.site_domain()
    ids, cls, dom, rate, phys, chain_key = [], [], [], [], [], []
    cov_r, cov_c = [], []
    chains: list[Chain] = []
    chain_pos: dict = {}

    def chain(fc, d, detect_h=float("nan")):
        key = (fc, d, None if math.isnan(detect_h) else detect_h)
        if key not in chain_pos:
            chain_pos[key] = len(chains)
            e = eff if fc != "attack" else None
            chains.append(build_chain(fc, d, levels[d], params, e, detect_h=detect_h))
        return chain_pos[key]

    def add(eid, fc, d, r_per_h, ph, ck, comps):
        k = len(ids)
        ids.append(eid)
        cls.append(fc)
        dom.append(d)
        rate.append(r_per_h)
        phys.append(ph)
        chain_key.append(ck)
        comps = np.asarray(comps, np.int64)
        cov_r.extend(comps.tolist())
        cov_c.extend([k] * comps.size)
        return k

    # one element per component, added as whole arrays: each link's fibre, each site's node hardware and
    # software, the radio network of each access site that is a radio entry point
    radio_sites = np.unique(base.demand_src[base.radio])
    blocks = []
    link_rate = params.fibre_cut_rate * base.link_km / 1000.0 / H_PER_YEAR
    blocks.append((np.char.add("link:", base.link_ids.astype(str)), "fibre_cut", np.full(nl, "transport"), link_rate,
                   np.full(nl, params.fibre_mttr), np.arange(nl)))
    with np.errstate(divide="ignore"):
        hw_rate = np.where(base.site_mtbf_h > 0, 1.0 / base.site_mtbf_h, 0.0)
    sid = base.site_ids.astype(str)
    blocks.append((np.char.add(np.char.add("site:", sid), ":hw"), "node_hw", site_dom, hw_rate, base.site_mttr_h,
                   nl + np.arange(ns)))
    blocks.append((np.char.add(np.char.add("site:", sid), ":sw"), "software", site_dom,
                   np.full(ns, params.software_fault_rate / H_PER_YEAR), np.zeros(ns), nl + np.arange(ns)))
    blocks.append((np.char.add("radio:", sid[radio_sites]), "software", np.full(radio_sites.size, "radio"),
                   np.full(radio_sites.size, params.radio_fault_rate / H_PER_YEAR), np.zeros(radio_sites.size),
                   nl + ns + radio_sites))
    for eids, fc, doms, rates, ph, comps in blocks:
        if str(fault_class_row(fc)["physical"]).lower() != "true":
            ph = np.zeros(eids.size)                   # fault_classes.csv says no one is sent on site
        k0 = len(ids)
        ids.extend(eids.tolist())
        cls.extend([fc] * eids.size)
        dom.extend(doms.tolist())
        rate.extend(np.asarray(rates, float).tolist())
        phys.extend(np.asarray(ph, float).tolist())
        by_dom = {d: chain(fc, d) for d in np.unique(doms).tolist()}
        chain_key.extend([by_dom[d] for d in doms.tolist()])
        cov_r.extend(np.asarray(comps).tolist())
        cov_c.extend(range(k0, k0 + eids.size))
    # shared-risk groups
    groups = _srg_members(base.link_srg)
    for g, members in _srg_members(base.site_srg).items():
        groups.setdefault(g, []).extend(nl + j for j in members)
    for g, comps in sorted(groups.items()):
        d = "transport" if min(comps) < nl else site_dom[min(comps) - nl]
        add(f"srg:{g}", "srg", d, params.srg_rate / H_PER_YEAR, params.srg_mttr, chain("srg", d), comps)
    # domain components (what a fleet-wide change of the domain touches)
    comps_of = {"transport": np.arange(nl), "ip": nl + np.flatnonzero(site_dom == "ip"),
                "dc": nl + np.flatnonzero(site_dom == "dc"), "radio": nl + ns + radio_sites}
    traffic_on = np.asarray(base.work.T @ base.traffic_bps).ravel()          # traffic through each component
    canary_sets = {d: _canary(comps_of[d], traffic_on, eff["canary"]) for d in DOMAINS}
    cap = eff["reach_cap"]
    q = eff["canary_catch"]                               # staged rollout only: a bad push stops at the canary
    for d in DOMAINS:
        if comps_of[d].size == 0:
            continue
        # fleet-wide changes by people or the domain's agents: staged rollout splits a bad one between the
        # canary and the fleet; a blast-radius limit lets it reach only `cap` elements (least traffic first,
        # as an operator orders a rollout) before it is noticed. Agent-only guardrails (intent verification,
        # two-agent approval, people in the loop, tool filtering) judge manipulated actions, not honest mistakes.
        by_system = perf[d][3] == "system"
        lam = params.change_rate * params.change_bad_prob * (params.agent_change_bad_factor if by_system else 1.0)
        lam /= H_PER_YEAR
        if cap and comps_of[d].size > cap:
            # a blast-radius limit: a bad change reaches one batch of `cap` elements before it is noticed; the
            # batch is any of the fleet's batches with equal probability (one element per batch)
            batches = np.array_split(comps_of[d], int(np.ceil(comps_of[d].size / cap)))
            for b_i, batch in enumerate(batches):
                add(f"change:{d}:batch{b_i}", "change", d, lam * (1 - q) / len(batches), 0.0, chain("change", d),
                    batch)
        else:
            add(f"change:{d}", "change", d, lam * (1 - q), 0.0, chain("change", d), comps_of[d])
        if q > 0:
            add(f"change:{d}:canary", "change", d, lam * q, 0.0, chain("change", d),
                canary_sets[d][:cap] if cap else canary_sets[d])
    # manipulated agents
    agent_tab = pd.DataFrame()
    if attacks:
        present = [d for d in DOMAINS if comps_of[d].size]
        agent_tab = agents if agents is not None else (base.agents if len(base.agents) else
                                                       default_agents(base, levels, params, present))
        agent_tab = agent_tab.copy()
        bad = ~agent_tab["domain"].isin(DOMAINS) if len(agent_tab) else np.zeros(0, bool)
        if bad.any():
            raise OpsError(f"agent[{agent_tab['agent'][bad].iloc[0]}].ops_domain = {agent_tab['domain'][bad].iloc[0]!r}:"
                           f" expected one of {', '.join(DOMAINS)}")
        for _, row in agent_tab.iterrows():          # check every agent, also those an operating point drops
            _scope(comps_of[row["domain"]], row["scope"], base, nl, ns, agent=str(row["agent"]))
            _actions(row)
        if len(agent_tab):
            idle = ~agent_tab["domain"].isin(present)
            if idle.any() and agents is None and len(base.agents):
                warnings.warn(f"agent(s) {', '.join(agent_tab['agent'][idle].head(5))} operate a domain with no "
                              f"elements in scenario {base.source!r}: left out of the security model",
                              WorkbenchWarning, stacklevel=2)
            agent_tab = agent_tab[~idle]
            # an agent acts at most at its domain's level of the operating point; none in a manual (L0) domain
            dom_level = agent_tab["domain"].map(levels).fillna(0).astype(int)
            agent_tab["level"] = np.minimum(agent_tab["level"].astype(int), dom_level)
            agent_tab = agent_tab[agent_tab["level"] >= 1].reset_index(drop=True)
        agent_tab["exposure"] = agent_tab["exposure"].fillna(params.exposure_per_day)
        asr = min(1.0, params.injection_success * eff["asr_factor"])
        lam0 = agent_tab["exposure"].to_numpy(float) * 365.0 * params.attack_prevalence * asr   # per year
        n_ag = len(agent_tab)
        p_edge = np.zeros((n_ag, n_ag))
        doms = agent_tab["domain"].tolist()
        pair = np.array([[(a, b) in HANDOFFS for b in DOMAINS] for a in DOMAINS])
        di = np.array([DOMAINS.index(x) for x in doms], np.int64)
        p_edge[:] = np.where(pair[di][:, di] & ~np.eye(n_ag, dtype=bool), params.handoff_share * asr, 0.0)
        R = reach_matrix(agent_tab, p_edge, seed=seed)
        lam_eff = lam0 @ R if n_ag else lam0             # compromise rate of each agent incl. spread [1/a]
        agent_tab["compromise_rate_per_year"] = lam0
        agent_tab["compromise_rate_with_spread_per_year"] = lam_eff
        agent_tab["agents_reached"] = R.sum(1) if n_ag else 0.0
        acts = load_table("attack_actions").set_index("action")
        for i, row in agent_tab.iterrows():
            d = row["domain"]
            scope = _scope(comps_of[d], row["scope"], base, nl, ns, agent=str(row["agent"]))
            if scope.size == 0:
                continue
            lv = int(row["level"])
            human_decides = level_performers(lv)[2] in ("human", "both")
            allowed = _actions(row)
            for a in ACTIONS:
                if a not in allowed:
                    continue
                share = float(acts.loc[a, "share"])
                # where people decide (L0-L3) they review every action: the human_in_loop guardrail adds nothing
                miss = (eff["miss_no_hitl"][a] * (1 - human_review_catch(a))) if human_decides else eff["miss"][a]
                lam = lam_eff[i] * share * miss / H_PER_YEAR
                if lam <= 0:
                    continue
                det = {"fault": float("nan"), "service": params.service_detect_min / 60.0,
                       "silent": params.drift_detect_h}[str(acts.loc[a, "detect"])]
                ck = chain("attack", d, det)
                if a == "push":
                    # the agent's push goes to everything in its scope, or (blast-radius limit) to the `cap`
                    # elements it picks, worst case the busiest; staged rollout stops it at the canary share
                    # with the staged_rollout row's probability
                    fleet = scope[np.argsort(-traffic_on[scope], kind="stable")[:cap]] if cap else scope
                    add(f"attack:{row['agent']}:push", "attack", d, lam * (1 - q), 0.0, ck, fleet)
                    if q > 0:
                        can = _canary(scope, traffic_on, eff["canary"])      # the canary share of its scope
                        add(f"attack:{row['agent']}:push:canary", "attack", d, lam * q, 0.0, ck,
                            can[:cap] if cap else can)
                    continue
                target = str(acts.loc[a, "target"])
                pool = scope if target != "sites" else scope[(scope >= nl) & (scope < nl + ns)]
                if pool.size == 0:
                    pool = scope
                k = int(params.attack_elements)
                if eff["reach_cap"]:
                    k = min(k, eff["reach_cap"])
                # worst case: the manipulated agent hits the components carrying the most traffic
                hit = pool[np.argsort(-traffic_on[pool], kind="stable")[:max(1, k)]]
                add(f"attack:{row['agent']}:{a}", "attack", d, lam, 0.0, ck, hit)
    n_el = len(ids)
    cover = sp.csr_matrix((np.ones(len(cov_r)), (cov_r, cov_c)), shape=(ncomp, n_el))
    cover.data[:] = 1.0
    W = (base.work @ cover).tocsr()
    B = (base.backup @ cover).tocsr()
    W.data[:] = 1.0
    B.data[:] = 1.0
    # how each demand switches to its backup path
    has_b = np.asarray(base.backup.sum(1)).ravel() > 0
    kind = np.where(~has_b, "none", np.where(base.protection == "1+1", "switch",
                                             np.where(base.protection == "restoration", "restore", "reprovision")))
    sw = np.where(kind == "switch", params.protection_switch_ms / 3.6e6,
                  np.where(kind == "restore", params.restoration_s / 3600.0, np.nan))
    repro = chain("reroute", "transport")
    return FaultSystem(base=base, levels=levels, guardrails=guardrails, params=params,
                       element_id=np.array(ids, dtype=object).astype(str), fault_class=np.array(cls, dtype=object).astype(str),
                       domain=np.array(dom, dtype=object).astype(str), rate_per_h=np.array(rate, float),
                       phys_h=np.array(phys, float), chain_index=np.array(chain_key, np.int64), chains=chains,
                       cover=cover, W=W, B=B, switch_kind=kind.astype(str), switch_h=sw, reprovision_chain=repro,
                       agent_table=agent_tab, effects=eff,
                       present_domains=tuple(d for d in DOMAINS if comps_of[d].size))


def _actions(row) -> set:
    """The harmful actions an agent row's permissions allow (checked)."""
    allowed = {x.strip() for x in str(row.get("actions", "|".join(ACTIONS))).split("|") if x.strip()}
    allowed.discard("none")
    if allowed - set(ACTIONS):
        raise OpsError(f"agent[{row['agent']}].ops_actions: unknown action(s) {sorted(allowed - set(ACTIONS))}; "
                       f"expected '|'-separated of {', '.join(ACTIONS)}, or none")
    return allowed


def _canary(comps: np.ndarray, traffic_on: np.ndarray, share: float) -> np.ndarray:
    """The canary set of a domain: the ``share`` of its components carrying the least traffic (at least one)."""
    if share <= 0 or comps.size == 0:
        return np.zeros(0, np.int64)
    k = max(1, int(round(share * comps.size)))
    return comps[np.argsort(traffic_on[comps], kind="stable")[:k]]


def _scope(comps: np.ndarray, scope: str, base: Base, nl: int, ns: int, agent: str = "") -> np.ndarray:
    """Components of a domain an agent may act on: all (``""``/``domain``), ``province=NAME`` or ``site=ID``."""
    scope = (scope or "").strip()
    if scope in ("", "domain"):
        return comps
    key, _, val = scope.partition("=")
    key = key.strip()
    vals = {v.strip() for v in val.split("|") if v.strip()}
    where = f"agent[{agent}].ops_scope = {scope!r}"
    if key not in ("province", "site") or not vals:
        raise OpsError(f"{where}: expected '' (whole domain), 'province=NAME[|NAME]' or 'site=ID[|ID]'")
    attr = base.site_province if key == "province" else base.site_ids
    unknown = sorted(vals - set(attr.tolist()))
    if unknown:
        raise OpsError(f"{where}: {', '.join(map(repr, unknown))} is not a {key} of scenario {base.source!r}")
    ok_site = np.isin(attr, list(vals))
    link_ok = ok_site[base.link_src] | ok_site[base.link_dst]
    comp_ok = np.concatenate([link_ok, ok_site, ok_site])
    return comps[comp_ok[comps]]
