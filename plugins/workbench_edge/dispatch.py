"""Hourly dispatch of inference demand over sites, links and time: the LP behind the ``dispatch`` analysis.

The static ``routing`` analysis answers "where does each group's demand go" for one average hour. The
dispatch answers it for every snapshot (an hour, or an hour of a representative day) with hourly
demand, time-of-use prices, grid carbon and contracted green power, and lets a share of the demand
(batch inference) wait for cheaper or greener hours inside a window.

Problem (one **block** of consecutive snapshots ``j``; blocks are calendar days and independent)::

    min  sum_j w_j [ sum_k c_kj x_kj + sum_s g_sj r_sj + M sum_c u_cj ]
    s.t. sum_{k in c} x_kj + u_cj + (B_cj - B_c,j-1) / dt_j = D_cj     demand of class c (B_c,-1 = 0)
         sum_{k in p} x_kj                    <= K_p                     pool capacity [request/s]
         sum_{k at s} e_k x_kj                <= P_sj / pue_sj           site power [IT W]
         r_sj - sum_{k at s} e_k x_kj         <= 0                       green power used <= site load
         B_cj - B_c,j-1                       <= phi D_cj dt_j           only deferrable demand waits
         0 <= r_sj <= G_sj / pue_sj,  0 <= B_cj <= phi sum_{i=j-W+1..j} D_ci dt_i,  B_c,last = 0
         sum_k b_lk x_kj                      <= C_lj                    link capacity (lazy, below)

with ``x_kj`` [request/s] on candidate pair ``k`` (a group class and a pool within the latency SLO over
the link graph, from :func:`workbench_edge.analyses.routing_problem`, exactly the routing analysis's
candidates), ``u`` unserved, ``r_sj`` green power used at site ``s`` [IT W], ``B_cj`` the backlog of
deferred requests [request/s x h], ``e_k`` chip energy per request [J], ``w_j`` the snapshot weight [h].
Pair cost ``c_kj = e_k pue_sj (a price_sj + b carbon_sj) / 1000`` and green credit
``g_sj = pue_sj (a (green_price_s - price_sj) - b carbon_sj) / 1000`` with ``(a, b) = (1, 0)`` for
``objective="cost"``, ``(1e-4, 1)`` for ``"carbon"`` (cost breaks ties) and ``(1, carbon_price)`` for
``"weighted"``. Cost [CNY] = w [h] x power [kW] x price [CNY/kWh]; CO2 [kg] likewise.

Deferral. The backlog bound keeps a FIFO window: at the end of snapshot ``j`` no more than the last
``W`` snapshots' deferrable arrivals are waiting, so nothing waits longer than ``W`` snapshots, and the
backlog is empty at the end of each block (a window is cut short at midnight: named simplification).

Exact reductions. (1) Groups with identical candidate pools, proportional demand series and the same
east/west side are interchangeable, so they are merged into classes and each class's flows split in
proportion to demand (as :func:`workbench_edge.routing.solve_lp` does). (2) Link capacities are lazy:
each block is solved without them; only a block whose link loads exceed a capacity is solved again
with the link rows (and the access PoP in the class key). When the relaxed optimum meets every link
capacity it is optimal for the full problem, so nothing is lost. (3) Every block of a given length
has the same constraint matrix: the LP is built once and HiGHS re-solves it with new costs and bounds
from the previous basis (warm start), which is what makes a year of hourly snapshots fast.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from workbench.errors import WorkbenchWarning

from .catalogue import EdgeError

__all__ = ["DispatchInputs", "solve_dispatch"]

#: Cost weight of the tie-break when minimising carbon [1] (assumed: small enough never to trade CO2).
CARBON_TIE_BREAK = 1e-4
#: Relative cost added per ms of round trip so that equally priced pools go to the nearer one [1/ms]
#: (assumed: 1e-6 x 100 ms = 1e-4 of the cost, far below any price difference in the data).
LATENCY_TIE_BREAK_PER_MS = 1e-6


@dataclass
class DispatchInputs:
    """Per-snapshot inputs of the dispatch LP, arrays over ``snapshot`` (T) x sites (S) / groups (G).

    demand : (T, G) [request/s]; price : (T, S) [CNY/kWh]; carbon : (T, S) [kg/kWh]; pue : (T, S) [1];
    power_cap : (T, S) facility power [W] (NaN = unlimited); green_w : (T, S) contracted green power
    available [W] (facility side); green_price : (S,) [CNY/kWh]; weight : (T,) [h]; dt : (T,) hours to
    the next snapshot [h]; block : (T,) int, consecutive snapshots with equal block solve together;
    link_cap : (T, R) [bit/s] of the constrained link directions (R rows of the problem), or None.
    """

    demand: np.ndarray
    price: np.ndarray
    carbon: np.ndarray
    pue: np.ndarray
    power_cap: np.ndarray
    green_w: np.ndarray
    green_price: np.ndarray
    weight: np.ndarray
    dt: np.ndarray
    block: np.ndarray
    link_cap: np.ndarray | None = None


def _classes(pair_group, pair_pool, n_groups, demand_tg, key):
    """Merge interchangeable groups; returns class of each group, class-level pairs and the mapping."""
    from .routing import aggregate_groups

    cls, n_cls = aggregate_groups(n_groups, pair_group, pair_pool, key)
    kc = cls[pair_group].astype(np.int64) * (int(pair_pool.max(initial=0)) + 1) + pair_pool
    ukey, pair_cls_index = np.unique(kc, return_inverse=True)
    n_pool_span = int(pair_pool.max(initial=0)) + 1
    c_cls, c_pool = ukey // n_pool_span, ukey % n_pool_span
    tot = demand_tg.sum(0)
    cls_tot = np.bincount(cls, weights=tot, minlength=n_cls)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(cls_tot[cls] > 0, tot / cls_tot[cls], 0.0)
    return cls, n_cls, c_cls, c_pool, pair_cls_index.ravel(), frac


def _quiet_highs(highspy):
    """A ``highspy.Highs`` without its copyright banner on stdout (printed by the C++ constructor)."""
    import os
    import sys

    try:
        sys.stdout.flush()
        saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError, AttributeError):         # no file descriptor 1 to silence: print it
        return highspy.Highs()
    try:
        os.dup2(null, 1)
        return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


class _BlockLP:
    """One LP structure for blocks of ``n_b`` snapshots, re-solved warm with new costs and bounds."""

    def __init__(self, n_b, n_cls, c_cls, c_pool, pool_site, e_chip, pool_cap, cap_sites, green_sites,
                 defer: bool, link_rows=None):
        import highspy

        self.n_b, self.n_cls = n_b, n_cls
        nk = c_cls.size
        self.nk, self.c_cls, self.c_pool = nk, c_cls, c_pool
        self.pool_site, self.e_chip = pool_site, e_chip
        self.cap_sites, self.green_sites = cap_sites, green_sites
        self.defer = defer and n_b > 1
        pools = np.unique(c_pool)
        self.pools = pools
        ng, ncap = green_sites.size, cap_sites.size
        nb_cols = n_cls if self.defer else 0
        per = nk + n_cls + ng + nb_cols                           # columns per snapshot
        self.per, self.ng = per, ng
        self.o_u, self.o_r, self.o_b = nk, nk + n_cls, nk + n_cls + ng
        # --- one snapshot's rows (its own columns), then the backlog coupling to the previous snapshot
        k_site = pool_site[c_pool]
        rows, cols, vals = [], [], []
        r = 0
        # demand rows: x + u (+ B_j) ; - B_{j-1} added below
        rows += [c_cls, np.arange(n_cls)]
        cols += [np.arange(nk), self.o_u + np.arange(n_cls)]
        vals += [np.ones(nk), np.ones(n_cls)]
        self.r_dem = r
        r += n_cls
        pool_row = np.searchsorted(pools, c_pool)
        rows.append(r + pool_row)
        cols.append(np.arange(nk))
        vals.append(np.ones(nk))
        self.r_pool = r
        r += pools.size
        if ncap:
            where = np.searchsorted(cap_sites, k_site)
            hit = (where < ncap) & (cap_sites[np.minimum(where, ncap - 1)] == k_site)
            rows.append(r + where[hit])
            cols.append(np.flatnonzero(hit))
            vals.append(e_chip[hit])
        self.r_cap = r
        r += ncap
        if ng:
            where = np.searchsorted(green_sites, k_site)
            hit = (where < ng) & (green_sites[np.minimum(where, ng - 1)] == k_site)
            rows += [r + where[hit], r + np.arange(ng)]
            cols += [np.flatnonzero(hit), self.o_r + np.arange(ng)]
            vals += [-e_chip[hit], np.ones(ng)]
        self.r_green = r
        r += ng
        self.r_back = r
        if self.defer:
            # B_j in its demand row (dt = 1 h, checked by the caller) and in its backlog row
            rows += [self.r_dem + np.arange(n_cls)]
            cols += [self.o_b + np.arange(n_cls)]
            vals += [np.ones(n_cls)]
            rows.append(r + np.arange(n_cls))
            cols.append(self.o_b + np.arange(n_cls))
            vals.append(np.ones(n_cls))
            r += n_cls
        self.link_rows = link_rows
        self.r_link = r
        if link_rows is not None and link_rows.shape[0]:
            lr = sp.coo_matrix(link_rows)
            rows.append(r + lr.row)
            cols.append(lr.col)
            vals.append(lr.data)
            r += link_rows.shape[0]
        self.rows_per = r
        one = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, per))
        blocks = sp.block_diag([one] * n_b, format="csr")
        if self.defer:
            # -B_{j-1}/dt_j in demand rows and -B_{j-1} in backlog rows (dt = 1 here; scaled in bounds below)
            j = np.arange(1, n_b)
            rr = np.concatenate([(j * r)[:, None] + self.r_dem + np.arange(n_cls)[None, :],
                                 (j * r)[:, None] + self.r_back + np.arange(n_cls)[None, :]]).ravel()
            cc = np.concatenate([((j - 1) * per)[:, None] + self.o_b + np.arange(n_cls)[None, :]] * 2).ravel()
            blocks = (blocks + sp.csr_matrix((-np.ones(rr.size), (rr, cc)), shape=blocks.shape)).tocsr()
        self.n_col, self.n_row = per * n_b, r * n_b
        csc = blocks.tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_col, self.n_row
        lp.col_cost_ = np.zeros(self.n_col)
        lp.col_lower_ = np.zeros(self.n_col)
        lp.col_upper_ = np.full(self.n_col, highspy.kHighsInf)
        lp.row_lower_ = np.full(self.n_row, -highspy.kHighsInf)
        lp.row_upper_ = np.zeros(self.n_row)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data.astype(float)
        h = _quiet_highs(highspy)
        h.setOptionValue("output_flag", False)
        h.passModel(lp)
        self.h, self.inf = h, highspy.kHighsInf
        self.col_idx = np.arange(self.n_col, dtype=np.int32)
        self.row_idx = np.arange(self.n_row, dtype=np.int32)
        self.solves = 0

    def solve(self, cost, demand, pool_cap, it_cap, green_it, back_up, back_step, link_cap=None):
        """Solve one block. Arrays: cost (n_b, per); demand (n_b, n_cls); pool_cap (n_pools,);
        it_cap (n_b, ncap); green_it (n_b, ng); back_up, back_step (n_b, n_cls); link_cap (n_b, n_link)."""
        n_b, per, rp = self.n_b, self.per, self.rows_per
        lo = np.full((n_b, rp), -self.inf)
        up = np.full((n_b, rp), self.inf)
        lo[:, self.r_dem:self.r_dem + self.n_cls] = demand
        up[:, self.r_dem:self.r_dem + self.n_cls] = demand
        up[:, self.r_pool:self.r_pool + self.pools.size] = pool_cap[None, :]
        up[:, self.r_cap:self.r_cap + self.cap_sites.size] = it_cap
        up[:, self.r_green:self.r_green + self.ng] = 0.0
        if self.defer:
            up[:, self.r_back:self.r_back + self.n_cls] = back_step
        if link_cap is not None and self.link_rows is not None:
            up[:, self.r_link:self.rows_per] = link_cap
        cl = np.zeros((n_b, per))
        cu = np.full((n_b, per), self.inf)
        cu[:, self.o_r:self.o_r + self.ng] = green_it
        if self.defer:
            cu[:, self.o_b:self.o_b + self.n_cls] = back_up
        h = self.h
        h.changeColsCost(self.n_col, self.col_idx, np.ascontiguousarray(cost, float).ravel())
        h.changeColsBounds(self.n_col, self.col_idx, cl.ravel(), cu.ravel())
        h.changeRowsBounds(self.n_row, self.row_idx, lo.ravel(), up.ravel())
        h.run()
        self.solves += 1
        status = h.modelStatusToString(h.getModelStatus())
        if status != "Optimal":
            raise EdgeError(f"dispatch LP of a block failed: {status}")
        sol = np.asarray(h.getSolution().col_value).reshape(n_b, per)
        return sol


def solve_dispatch(pb, inp: DispatchInputs, *, objective: str = "cost", carbon_price: float = 0.1,
                   deferrable_share: float = 0.0, defer_window: int = 4, west_site=None, west_group=None,
                   progress=None) -> dict:
    """Solve the dispatch LP over every block of snapshots (module docstring).

    Parameters
    ----------
    pb : SimpleNamespace
        The routing problem (:func:`workbench_edge.analyses.routing_problem`).
    inp : DispatchInputs
    objective : {"cost", "carbon", "weighted"}
    carbon_price : float
        [CNY/kg] of CO2 in the weighted objective.
    deferrable_share : float
        Share of every group's demand that may wait [1].
    defer_window : int
        Snapshots a deferrable request may wait at most [1] (hours for hourly snapshots).
    west_site, west_group : array of bool, optional
        Side of each site and group (kept apart when merging groups).

    Returns
    -------
    dict of arrays over snapshots: ``x_cls`` (T, class pairs) [request/s] and the class mapping, ``unserved_cls``,
    ``green_it`` (T, green sites) [W IT], ``backlog_cls`` (T, classes) [request/s x h], solver counts and seconds.
    """
    if objective not in ("cost", "carbon", "weighted"):
        raise EdgeError(f"objective must be cost, carbon or weighted, got {objective!r}")
    if not 0.0 <= deferrable_share <= 1.0:
        raise EdgeError(f"deferrable_share must be within [0, 1], got {deferrable_share!r}")
    if int(defer_window) < 1:
        raise EdgeError(f"defer_window must be >= 1 snapshot, got {defer_window!r}")
    t0 = time.perf_counter()
    a, b = {"cost": (1.0, 0.0), "carbon": (CARBON_TIE_BREAK, 1.0), "weighted": (1.0, float(carbon_price))}[objective]
    T, G = inp.demand.shape
    pair_group, pair_pool = pb.pair_group, pb.pair_pool
    s_of_pool = pb.s_of_pool
    chip_e = np.nan_to_num(np.asarray(pb.pools["energy_per_request"].values, float))
    capacity = np.asarray(pb.capacity, float)
    # --- classes: same candidates, proportional demand series, same side
    tot = inp.demand.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        norm = np.where(tot[None, :] > 0, inp.demand / tot[None, :], 0.0)
    _, shape_id = np.unique(np.round(norm.T, 12), axis=0, return_inverse=True)
    shape_id = np.asarray(shape_id).ravel()
    side = np.zeros(G, np.int64) if west_group is None else np.asarray(west_group, bool).astype(np.int64)

    def build(with_pop: bool):
        key = shape_id * 2 + side
        if with_pop:
            key = key * (pb.n_site + 1) + np.asarray(pb.gpop, np.int64)
        cls, n_cls, c_cls, c_pool, pair_cls, frac = _classes(pair_group, pair_pool, G, inp.demand, key)
        onehot = sp.csr_matrix((np.ones(G), (np.arange(G), cls)), shape=(G, n_cls))
        nk = c_cls.size
        site_k = s_of_pool[c_pool]
        cf = {"cls": cls, "n_cls": n_cls, "c_cls": c_cls, "c_pool": c_pool, "pair_cls": pair_cls, "frac": frac,
              "onehot": onehot,
              "site_map": sp.csr_matrix((np.ones(nk), (np.arange(nk), site_k)), shape=(nk, pb.n_site)),
              "site_map_e": sp.csr_matrix((chip_e[c_pool], (np.arange(nk), site_k)), shape=(nk, pb.n_site)),
              "cls_map": sp.csr_matrix((np.ones(nk), (np.arange(nk), c_cls)), shape=(nk, n_cls))}
        # demand-weighted round trip of each class pair: its groups' pairs in proportion to demand [ms]
        cf["rttw"] = np.bincount(pair_cls, weights=frac[pair_group] * 2.0 * pb.pair_one_way, minlength=nk)
        within = np.bincount(pair_cls, weights=frac[pair_group], minlength=nk)
        with np.errstate(invalid="ignore", divide="ignore"):
            cf["rtt_pair"] = np.nan_to_num(cf["rttw"] / within)
        ws = np.zeros(pb.n_site, bool) if west_site is None else np.asarray(west_site, bool)
        cls_west = np.zeros(n_cls, bool)
        cls_west[cls] = side.astype(bool)
        cf["to_west"] = ws[site_k].astype(float)
        cf["e2w"] = (ws[site_k] & ~cls_west[c_cls]).astype(float)
        cf["link"] = None
        if link_m is not None:
            p = sp.csr_matrix((frac[pair_group], (np.arange(pair_group.size), pair_cls)),
                              shape=(pair_group.size, nk))
            cf["link"] = (link_m @ p).tocsr()                     # (link rows, class pairs) [bit/request]
        return cf

    # link usage of every group pair on every link direction a candidate path uses [bit/request]
    link_m = pb.matrix if pb.matrix is not None and pb.matrix.shape[0] else None
    relaxed = build(False)
    linked_cf: list = []

    def linked():
        if not linked_cf:
            linked_cf.append(build(True))
        return linked_cf[0]
    green_sites = np.flatnonzero(np.nanmax(inp.green_w, axis=0, initial=0.0) > 0)
    used_sites = np.unique(s_of_pool[np.unique(pair_pool)]) if pair_pool.size else np.zeros(0, np.int64)
    green_sites = np.intersect1d(green_sites, used_sites)
    cap_sites = np.intersect1d(np.flatnonzero(np.isfinite(inp.power_cap).any(axis=0)), used_sites)
    blocks = inp.block
    starts = np.flatnonzero(np.r_[True, blocks[1:] != blocks[:-1]])
    stops = np.r_[starts[1:], T]
    defer = deferrable_share > 0

    lps: dict = {}

    def solver(cf, n_b, with_links):
        k = (id(cf), n_b, with_links)
        if k not in lps:
            link_rows = None
            if with_links:
                link_rows = cf["link"][np.flatnonzero(pb.constrained)]
                scale = np.asarray(abs(link_rows).max(axis=1).todense()).ravel()
                scale = np.where(scale > 0, scale, 1.0)
                link_rows = sp.diags(1.0 / scale) @ link_rows
                cf["link_scale"] = scale
            lps[k] = _BlockLP(n_b, cf["n_cls"], cf["c_cls"], cf["c_pool"], s_of_pool, chip_e[cf["c_pool"]],
                              capacity, cap_sites, green_sites, defer, link_rows)
        return lps[k]

    penalty = None
    res = {"site_req": np.zeros((T, pb.n_site)), "site_it_w": np.zeros((T, pb.n_site)), "served": np.zeros((T, G)),
           "unserved": np.zeros((T, G)), "backlog": np.zeros((T, G)), "green_it": np.zeros((T, pb.n_site)),
           "rtt_sum": np.zeros(T), "east_to_west": np.zeros(T), "served_west": np.zeros(T),
           "link_load": None if link_m is None else np.zeros((T, link_m.shape[0]))}
    relinked = []
    for s0, s1 in zip(starts, stops, strict=True):
        sl = slice(s0, s1)
        n_b = s1 - s0
        if defer and n_b > 1 and not np.allclose(inp.dt[sl][:-1], 1.0):
            raise EdgeError("deferrable demand needs hourly snapshots within each day (1 h apart)")
        pue = inp.pue[sl]
        price, carbon = inp.price[sl], inp.carbon[sl]
        w = inp.weight[sl]
        unit = pue * (a * price + b * carbon) / 1000.0           # (n_b, S) objective per IT W per h
        if penalty is None:
            # per unserved request/s per hour: 10 x the dearest pair of the horizon, + 1
            worst = np.nanmax(np.abs(inp.pue * (a * inp.price + b * inp.carbon))) / 1000.0 * chip_e.max(initial=0.0)
            penalty = 10.0 * float(worst) + 1.0
        green_unit = pue * (a * (inp.green_price[None, :] - price) - b * carbon) / 1000.0
        dem = inp.demand[sl]
        it_cap = inp.power_cap[sl][:, cap_sites] / pue[:, cap_sites]
        it_cap = np.where(np.isfinite(it_cap), it_cap, np.inf)  # NaN = not limited
        green_it = np.nan_to_num(inp.green_w[sl][:, green_sites] / pue[:, green_sites])
        dt = inp.dt[sl]
        for with_links in (False, True):
            cf = relaxed if not with_links else linked()
            lp = solver(cf, n_b, with_links)
            dc = np.asarray(cf["onehot"].T @ dem.T).T            # (n_b, classes) [request/s]
            cost = np.zeros((n_b, lp.per))
            site_k = s_of_pool[cf["c_pool"]]
            cost[:, :lp.nk] = w[:, None] * unit[:, site_k] * chip_e[cf["c_pool"]][None, :]
            # among equally priced pools the nearer one (relative 1e-6 per ms: never trades money for latency)
            cost[:, :lp.nk] *= 1.0 + LATENCY_TIE_BREAK_PER_MS * cf["rtt_pair"][None, :]
            cost[:, lp.o_u:lp.o_u + cf["n_cls"]] = w[:, None] * penalty
            cost[:, lp.o_r:lp.o_r + lp.ng] = w[:, None] * green_unit[:, green_sites]
            back_up = back_step = None
            if lp.defer:
                arr = deferrable_share * dc * dt[:, None]        # deferrable arrivals [request/s x h]
                csum = np.cumsum(arr, axis=0)
                lag = np.zeros_like(csum)
                if defer_window < n_b:
                    lag[defer_window:] = csum[:-defer_window]
                back_up = csum - lag                              # FIFO: only the last W snapshots' arrivals wait
                back_up[-1] = 0.0                                 # nothing waits past the block
                back_step = arr
            lcap = None
            if with_links and inp.link_cap is not None:
                lcap = inp.link_cap[sl][:, np.flatnonzero(pb.constrained)] / cf["link_scale"][None, :]
                lcap = np.where(np.isfinite(lcap), lcap, np.inf)  # a capacity unknown in some hours: unlimited
            sol = lp.solve(cost, dc, capacity[lp.pools], it_cap, green_it, back_up, back_step, lcap)
            x = sol[:, :lp.nk]
            if not with_links and cf["link"] is not None and inp.link_cap is not None:
                load = np.asarray(cf["link"][np.flatnonzero(pb.constrained)] @ x.T).T
                cap_rows = inp.link_cap[sl][:, np.flatnonzero(pb.constrained)]
                if np.any(load > cap_rows * (1 + 1e-7) + 1e-6):
                    relinked.append(int(s0))
                    continue                                      # solve the block again with the link rows
            break
        # --- results of the block, back on groups and sites
        frac = cf["frac"]
        res["site_req"][sl] = np.asarray(cf["site_map"].T @ x.T).T
        res["site_it_w"][sl] = np.asarray(cf["site_map_e"].T @ x.T).T
        served_c = np.asarray(cf["cls_map"].T @ x.T).T
        res["served"][sl] = served_c[:, cf["cls"]] * frac[None, :]
        res["unserved"][sl] = sol[:, lp.o_u:lp.o_u + cf["n_cls"]][:, cf["cls"]] * frac[None, :]
        res["green_it"][sl, green_sites] = sol[:, lp.o_r:lp.o_r + lp.ng]
        if lp.defer:
            res["backlog"][sl] = sol[:, lp.o_b:lp.o_b + cf["n_cls"]][:, cf["cls"]] * frac[None, :]
        res["rtt_sum"][sl] = x @ cf["rttw"]
        res["east_to_west"][sl] = x @ cf["e2w"]
        res["served_west"][sl] = x @ cf["to_west"]
        if res["link_load"] is not None:
            res["link_load"][sl] = np.asarray(cf["link"] @ x.T).T
    res.update({"relinked_blocks": relinked, "penalty": penalty, "blocks": int(starts.size),
                "lp_solves": int(sum(lp.solves for lp in lps.values())), "lp_builds": len(lps),
                "seconds": time.perf_counter() - t0, "classes": relaxed["n_cls"],
                "class_pairs": int(relaxed["c_cls"].size)})
    return res


# --------------------------------------------------------------------------- the analysis

#: Carbon price of the ``weighted`` objective [CNY/kg]. **Assumed** 0.1 CNY/kg = 100 CNY/t, a round
#: value above China's national ETS allowance prices of 2024-2025 (no price series in FIGURES.md).
CARBON_PRICE_CNY_PER_KG = 0.1
#: Longest wait of deferrable (batch) requests [h]. **Assumed** 4 h: batch APIs promise completion
#: within a day, but a 4 h window keeps answers the same working day.
DEFER_WINDOW_H = 4


def _snapshots(scenario, snapshots):
    """Resolve the ``snapshots`` parameter to (DatetimeIndex, weights [h], label)."""
    import pandas as pd

    own = getattr(scenario, "snapshots", None)
    if (snapshots is None and own is None) or (isinstance(snapshots, str) and snapshots in ("representative", "year")):
        from workbench import profiles
    if snapshots is None:
        if own is not None:
            return own, np.asarray(scenario.snapshot_weight.values, float), "scenario"
        idx, w = profiles.representative_days()
        return idx, np.asarray(w, float), "representative days"
    if isinstance(snapshots, str):
        if snapshots == "representative":
            idx, w = profiles.representative_days()
            return idx, np.asarray(w, float), "representative days"
        if snapshots == "year":
            idx = profiles.year_snapshots()
            return idx, np.ones(idx.size), "year"
        if snapshots == "scenario":
            if own is None:
                raise EdgeError(f"scenario {scenario.name!r} has no snapshots (snapshots='scenario')")
            return own, np.asarray(scenario.snapshot_weight.values, float), "scenario"
        raise EdgeError(f"snapshots must be 'representative', 'year', 'scenario' or timestamps, got {snapshots!r}")
    try:
        idx = pd.DatetimeIndex(snapshots)
    except (TypeError, ValueError) as err:
        raise EdgeError(f"snapshots: not timestamps: {err}") from None
    if idx.size == 0 or idx.has_duplicates or not idx.is_monotonic_increasing:
        raise EdgeError("snapshots must be non-empty, increasing and without duplicates")
    if own is not None and idx.isin(own).all():
        w = np.asarray(scenario.snapshot_weight.sel(snapshot=idx.values).values, float)
        return idx, w, "scenario subset"
    return idx, np.ones(idx.size), "given (1 h each)"


def _series(scenario, kind, attribute, idx):
    """(T, n) values of a time-varying attribute at ``idx``, or None when the scenario has no series."""
    get = getattr(scenario, "timeseries", None)
    da = get(kind, attribute) if get is not None else None
    if da is None:
        return None
    missing = ~idx.isin(da["snapshot"].values)
    if missing.any():
        raise EdgeError(f"{kind}.{attribute} has no value at snapshot {idx[missing][0]} (its series covers "
                        f"{da['snapshot'].values[0]} .. {da['snapshot'].values[-1]})")
    return np.asarray(da.sel(snapshot=idx.values).transpose("snapshot", ...).values, float)


def dispatch_inputs(scenario, pb, idx, weights, profiles: str = "default", green: bool = True,
                    rate_per_endpoint: float | None = None, request_class: str = "chat") -> DispatchInputs:
    """Per-snapshot inputs of the dispatch (see :func:`dispatch_analysis` for the rules)."""
    from .analyses import DEFAULT_REQUEST_CLASS

    if profiles not in ("default", "flat"):
        raise EdgeError(f"profiles must be 'default' or 'flat', got {profiles!r}")
    shaped = profiles == "default"
    if shaped or green:
        from workbench import profiles as prof
    T = idx.size
    site, dev = scenario["site"], scenario["device"]
    province = site["province"].values.astype(str)
    ones = np.ones((T, 1))

    def site_attr(name, shape=None):
        ts = _series(scenario, "site", name, idx)
        if ts is not None:
            return ts
        static = np.asarray(site[name].values, float)[None, :] * ones
        return static * shape if shape is not None else static

    price = site_attr("power_price", prof.tou_multiplier(province, idx) if shaped else None)
    carbon = site_attr("carbon_intensity", prof.carbon_multiplier(province, idx) if shaped else None)
    pue = site_attr("pue")
    power_cap = site_attr("capacity")
    # demand: the scenario's series if it has any, else the static demand x the class's daily shape
    ends, per = _series(scenario, "device", "endpoints", idx), _series(scenario, "device", "demand", idx)
    if ends is not None or per is not None:
        rc_rate = float(pb.rc["rate_per_endpoint"] if rate_per_endpoint is None else rate_per_endpoint)
        ends = ends if ends is not None else np.asarray(dev["endpoints"].values, float)[None, :] * ones
        static_per = np.asarray(dev["demand"].values, float)
        if per is None:                                   # static rule: 0 = the class's rate per endpoint
            per = np.where(static_per > 0, static_per, rc_rate)[None, :] * ones
        else:
            # a series is literal (0 = no requests that hour), except a group whose series is 0 throughout and
            # whose static demand is 0: its demand was never set, so it keeps the class's rate
            unset = np.all(per == 0, axis=0) & ~(static_per > 0)
            if unset.any():
                warnings.warn(f"device.demand is 0 at every snapshot for {int(unset.sum())} device groups (e.g. "
                              f"{dev['device'].values[unset][0]!r}): they use the class's {rc_rate:g} request/s per "
                              "endpoint, without a time shape; shape device.endpoints instead, or give rates",
                              WorkbenchWarning, stacklevel=3)
            per = np.where(unset[None, :], rc_rate, per)
        demand = ends * per
        if "edge_request_class" in dev:
            cls = dev["edge_request_class"].values.astype(str)
            cls = np.where(cls == "", DEFAULT_REQUEST_CLASS, cls)
            demand = np.where((cls == request_class)[None, :], demand, 0.0)
    else:
        shape = prof.demand_shape(dev["class"].values.astype(str), idx) if shaped else ones
        demand = pb.demand[None, :] * shape
    # contracted green power: nameplate x hourly capacity factor
    cap_w = np.asarray(site["green_capacity"].values, float) if "green_capacity" in site else np.zeros(pb.n_site)
    green_w = np.zeros((T, pb.n_site))
    if green and np.any(cap_w > 0):
        # the shipped profile of each site's green_source, then a static green_cf, then the series, each
        # only where it is given (NaN = not given), so a series for one site leaves the others' profiles
        source = site["green_source"].values.astype(str) if "green_source" in site else \
            np.full(pb.n_site, "solar+wind")
        source = np.where(source == "", "solar+wind", source)
        has = cap_w > 0
        cf = np.zeros((T, pb.n_site))
        cf[:, has] = prof.green_cf(source[has], site["lon"].values[has], site["lat"].values[has], province[has], idx)
        if not shaped:                                            # flat: the weighted mean of the profile
            cf = np.average(cf, axis=0, weights=weights)[None, :] * ones
        if "green_cf" in site:
            fixed = np.asarray(site["green_cf"].values, float)
            cf = np.where(np.isfinite(fixed)[None, :], fixed[None, :] * ones, cf)
        given = _series(scenario, "site", "green_cf", idx)
        if given is not None:
            cf = np.where(np.isfinite(given), given, cf)
        green_w = cap_w[None, :] * np.nan_to_num(cf)
    gprice = np.asarray(site["green_price"].values, float) if "green_price" in site else np.full(pb.n_site, 0.30)
    link_cap = None
    if pb.matrix is not None:
        lc = _series(scenario, "link", "capacity", idx)
        lc = lc if lc is not None else np.asarray(scenario["link"]["capacity"].values, float)[None, :] * ones
        link_cap = lc[:, pb.row_link]
    day = np.asarray(idx.normalize().asi8)
    block = np.unique(day, return_inverse=True)[1].ravel()
    # hours between snapshots, whatever the index's resolution (pandas 3 may hold us, not ns)
    step = np.diff(idx.values).astype("timedelta64[s]").astype(float) / 3600.0 if T > 1 else np.ones(0)
    dt = np.r_[step, step[-1] if step.size else 1.0]
    return DispatchInputs(demand=demand, price=price, carbon=carbon, pue=pue, power_cap=power_cap, green_w=green_w,
                          green_price=gprice, weight=np.asarray(weights, float), dt=dt, block=block, link_cap=link_cap)


def dispatch_analysis(scenario, snapshots=None, objective: str = "cost", request_class: str = "chat",
                      carbon_price: float = CARBON_PRICE_CNY_PER_KG, deferrable_share: float = 0.0,
                      defer_window: int = DEFER_WINDOW_H, profiles: str = "default", green: bool = True,
                      green_contract: str = "flexible", layer: str = "ip", path_model: str = "graph", k_max: int = 64, model: str | None = None,
                      dtype: str | None = None, rate_per_endpoint: float | None = None, serving_params=None,
                      latency_reserve: float | None = None, max_utilisation: float | None = None):
    """Hourly dispatch of inference demand over sites, links and time (LP, module docstring).

    Every snapshot routes each device group's requests to pools within the request class's latency SLO
    over the link graph (the candidates of the ``routing`` analysis), under pool, site-power and link
    capacities, at that hour's electricity price, grid carbon and contracted green power.

    Parameters
    ----------
    snapshots : None, "representative", "year", "scenario" or timestamps
        None: the scenario's own snapshots, else one representative day per season (4 x 24, weighted to
        the year: :func:`workbench.profiles.representative_days`). ``"year"``: 8,760 hourly snapshots.
        Timestamps: those (weights from the scenario if it has them, else 1 h each).
    objective : {"cost", "carbon", "weighted"}
        Minimise electricity cost [CNY], CO2 [kg] or cost + ``carbon_price`` x CO2.
    carbon_price : float
        [CNY/kg] for ``weighted`` (assumed default 0.1 CNY/kg = 100 CNY/t).
    deferrable_share : float
        Share of every group's requests that may wait (batch inference) [1].
    defer_window : int
        Longest wait of a deferrable request [snapshots = h] (assumed default 4).
    profiles : {"default", "flat"}
        Where the scenario has no time series: ``default`` shapes the static values with the shipped
        profiles (demand by device class, time-of-use tariffs by province, grid carbon, green capacity
        factors; :mod:`workbench.profiles`); ``flat`` keeps them constant (without green power the dispatch then equals the
        static ``routing`` analysis in every snapshot, as long as no site's power ``capacity`` binds: the
        routing analysis has no site-power limit).
    green : bool
        Use the sites' contracted green power (``green_capacity``, ``green_price``, ``green_source`` /
        ``green_cf``); False prices everything at the grid.
    green_contract : {"flexible", "as_produced"}
        ``flexible``: the site pays ``green_price`` on the green energy it takes; what it does not take is
        curtailed and costs nothing (so the cost objective takes green power only when it is cheaper than
        the grid that hour). ``as_produced`` (take-or-pay): the whole output is paid whether used or not,
        so its marginal cost is zero and the payment is a fixed cost in ``cost``.
    layer, path_model, k_max, model, dtype, rate_per_endpoint, serving_params, latency_reserve, max_utilisation
        As the ``routing`` analysis.

    Returns
    -------
    xr.Dataset
        Over ``snapshot``: ``demand``/``served``/``unserved`` [request/s], ``backlog`` [request] (deferred,
        waiting at the end of the snapshot), ``west_share`` [1] (served in a western province),
        ``east_to_west_share`` [1] (share of eastern groups' served requests served in the west),
        ``mean_rtt`` [ms], ``cost`` [CNY] and ``co2`` [kg] over the hours the snapshot stands for,
        ``energy``, ``green_used``, ``green_available``, ``green_curtailed`` [kWh], ``renewable_share``
        [1] (contracted green energy / facility energy; the grid's own renewables are in its carbon
        factor, not here), ``price_mean`` [CNY/kWh] (load-weighted), ``snapshot_weight`` [h],
        ``max_link_utilisation`` [1]; over ``snapshot x site``: ``site_load`` [request/s], ``site_power``
        [W] (facility), ``site_green`` [W]; over ``snapshot x device``: ``served_device``,
        ``unserved_device`` [request/s]; over ``snapshot x link x direction``: ``link_utilisation`` [1].
        ``attrs["summary_json"]``/``summary_text``: annual (weighted) totals and solver figures.
    """
    import json

    import pandas as pd
    import xarray as xr

    from workbench import paths as _paths

    from .analyses import DEFAULT_LATENCY_RESERVE, DEFAULT_MAX_UTILISATION, WESTERN_PROVINCES, routing_problem

    if objective not in ("cost", "carbon", "weighted"):
        raise EdgeError(f"objective must be cost, carbon or weighted, got {objective!r}")
    if green_contract not in ("flexible", "as_produced"):
        raise EdgeError(f"green_contract must be 'flexible' or 'as_produced', got {green_contract!r}")
    if not (isinstance(carbon_price, (int, float)) and np.isfinite(carbon_price) and carbon_price >= 0):
        raise EdgeError(f"carbon_price must be a number >= 0 [CNY/kg], got {carbon_price!r}")
    t0 = time.perf_counter()
    pb = routing_problem(scenario, request_class, model=model, dtype=dtype, rate_per_endpoint=rate_per_endpoint,
                         k_max=k_max, serving_params=serving_params,
                         latency_reserve=DEFAULT_LATENCY_RESERVE if latency_reserve is None else latency_reserve,
                         max_utilisation=DEFAULT_MAX_UTILISATION if max_utilisation is None else max_utilisation,
                         layer=layer, path_model=path_model)
    idx, weights, label = _snapshots(scenario, snapshots)
    inp = dispatch_inputs(scenario, pb, idx, weights, profiles=profiles, green=green,
                          rate_per_endpoint=rate_per_endpoint, request_class=request_class)
    site, dev = scenario["site"], scenario["device"]
    west = np.isin(site["province"].values.astype(str), WESTERN_PROVINCES)
    dev_west = np.isin(dev["province"].values.astype(str), WESTERN_PROVINCES)
    if inp.link_cap is not None:
        # a link direction is constrained where its capacity is known in any snapshot (a series may give
        # a capacity to a link whose static value is unknown)
        pb.constrained = np.isfinite(inp.link_cap).any(axis=0)
    # flexible: the contract's energy is paid as taken; as produced: all of it is paid whatever is used,
    # so the LP sees green energy at zero marginal cost and the payment is added to the cost below
    lp_inp = inp if green_contract == "flexible" else replace(inp, green_price=np.zeros_like(inp.green_price))
    r = solve_dispatch(pb, lp_inp, objective=objective, carbon_price=float(carbon_price),
                       deferrable_share=float(deferrable_share), defer_window=int(defer_window),
                       west_site=west, west_group=dev_west)
    T = idx.size
    w = inp.weight
    fac_w = r["site_it_w"] * inp.pue                                # facility power [W]
    green_fac = r["green_it"] * inp.pue                             # green power used [W] (facility side)
    grid_w = np.maximum(fac_w - green_fac, 0.0)
    kwh = w[:, None] / 1000.0                                       # W -> kWh over each snapshot's hours
    paid_green = green_fac if green_contract == "flexible" else inp.green_w
    cost_s = ((grid_w * inp.price + paid_green * inp.green_price[None, :]) * kwh).sum(1)
    co2_s = (grid_w * inp.carbon * kwh).sum(1)
    energy = (fac_w * kwh).sum(1)
    g_used = (green_fac * kwh).sum(1)
    g_avail = (inp.green_w * kwh).sum(1)
    served = r["served"].sum(1)
    east_served = r["served"][:, ~dev_west].sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        # shares are ratios of sums of LP values: clip the last-digit noise to [0, 1]
        west_share = np.clip(np.where(served > 0, r["served_west"] / served, np.nan), 0.0, 1.0)
        e2w = np.clip(np.where(east_served > 0, r["east_to_west"] / east_served, np.nan), 0.0, 1.0)
        rtt = np.where(served > 0, r["rtt_sum"] / served, np.nan)
        ren = np.where(energy > 0, g_used / energy, np.nan)
        price_mean = np.where(fac_w.sum(1) > 0, (fac_w * inp.price).sum(1) / fac_w.sum(1), np.nan)
    n_links = scenario["link"].sizes.get("link", 0)
    util = np.full((T, n_links, 2), np.nan)
    if r["link_load"] is not None:
        load = np.zeros((T, n_links, 2))
        load[:, pb.row_link, np.where(pb.row_fwd, 0, 1)] = r["link_load"]
        cap = np.asarray(scenario["link"]["capacity"].values, float)
        lc = _series(scenario, "link", "capacity", idx)
        capt = lc if lc is not None else cap[None, :] * np.ones((T, 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            util = np.where(capt[:, :, None] > 0, load / capt[:, :, None], np.nan)
    max_util = np.nanmax(np.where(np.isfinite(util), util, -np.inf).reshape(T, -1), axis=1, initial=-np.inf)
    max_util = np.where(np.isfinite(max_util), max_util, np.nan)
    sn, ss, sd = ("snapshot",), ("snapshot", "site"), ("snapshot", "device")

    def v(dims, values, units, long_name):
        return dims, values, {"units": units, "long_name": long_name}

    ds = xr.Dataset(
        {
            "demand": v(sn, inp.demand.sum(1), "request/s", "request demand"),
            "served": v(sn, served, "request/s", "requests served"),
            "unserved": v(sn, r["unserved"].sum(1), "request/s", "requests not served"),
            "backlog": v(sn, r["backlog"].sum(1) * 3600.0, "request", "deferred requests waiting"),
            "west_share": v(sn, west_share, "1", "share of served requests served in the west"),
            "east_to_west_share": v(sn, e2w, "1", "share of eastern demand served in the west"),
            "mean_rtt": v(sn, rtt, "ms", "network round trip (demand-weighted)"),
            "cost": v(sn, cost_s, "CNY", "electricity cost over the snapshot's hours"),
            "co2": v(sn, co2_s, "kg", "CO2 over the snapshot's hours"),
            "energy": v(sn, energy, "kWh", "facility energy over the snapshot's hours"),
            "green_used": v(sn, g_used, "kWh", "contracted green energy used"),
            "green_available": v(sn, g_avail, "kWh", "contracted green energy available"),
            "green_curtailed": v(sn, np.maximum(g_avail - g_used, 0.0), "kWh",
                                 "contracted green energy not used (curtailed)"),
            "renewable_share": v(sn, ren, "1", "contracted green share of facility energy"),
            "price_mean": v(sn, price_mean, "CNY/kWh", "grid price at the load (load-weighted)"),
            "snapshot_weight": v(sn, w, "h", "hours each snapshot stands for"),
            "max_link_utilisation": v(sn, max_util, "1", "highest inference traffic / link capacity"),
            "site_load": v(ss, r["site_req"], "request/s", "requests served at site"),
            "site_power": v(ss, fac_w, "W", "facility power for the served requests"),
            "site_green": v(ss, green_fac, "W", "contracted green power used"),
            "served_device": v(sd, r["served"], "request/s", "requests of the group served"),
            "unserved_device": v(sd, r["unserved"], "request/s", "requests of the group not served"),
            "link_utilisation": v(("snapshot", "link", "direction"), util, "1", "inference traffic / link capacity"),
            "west": v(("site",), west, "1", "site in a western province"),
        },
        coords={"snapshot": ("snapshot", idx.values), "site": site["site"].values, "device": dev["device"].values,
                "link": scenario["link"]["link"].values, "direction": ["forward", "reverse"]},
    )
    hours = pd.DatetimeIndex(idx).hour
    fin = np.isfinite(e2w)
    by_hour = [float(np.average(e2w[(hours == h) & fin], weights=w[(hours == h) & fin]))
               if np.any((hours == h) & fin) else None for h in range(24)]
    tot_w = float(w.sum())
    summ = {"objective": objective, "snapshots": label, "n_snapshots": int(T), "hours": tot_w,
            "cost_CNY": float(cost_s.sum()), "co2_t": float(co2_s.sum()) / 1000.0,
            "energy_GWh": float(energy.sum()) / 1e6, "green_used_GWh": float(g_used.sum()) / 1e6,
            "green_curtailed_GWh": float(np.maximum(g_avail - g_used, 0).sum()) / 1e6,
            "renewable_share": float(g_used.sum() / energy.sum()) if energy.sum() > 0 else math.nan,
            "west_share": float(np.nansum(r["served_west"] * w) / np.nansum(served * w)) if served.sum() else math.nan,
            "east_to_west_share": float(np.nansum(r["east_to_west"] * w) / np.nansum(east_served * w))
            if east_served.sum() else math.nan,
            "east_to_west_share_by_hour": by_hour,
            "mean_rtt_ms": float(np.nansum(r["rtt_sum"] * w) / np.nansum(served * w)) if served.sum() else math.nan,
            "unserved_share": float((r["unserved"].sum(1) * w).sum() / (inp.demand.sum(1) * w).sum())
            if inp.demand.sum() else math.nan,
            "max_link_utilisation": float(np.nanmax(max_util)) if np.isfinite(max_util).any() else math.nan,
            "deferrable_share": float(deferrable_share), "defer_window_h": int(defer_window),
            "profiles": profiles, "green": bool(green), "green_contract": green_contract,
            "request_class": request_class,
            "layer": _paths.get_layer(layer).name if path_model == "graph" else "", "path_model": path_model,
            "blocks": r["blocks"], "lp_solves": r["lp_solves"], "lp_builds": r["lp_builds"],
            "blocks_with_link_rows": len(r["relinked_blocks"]), "classes": r["classes"],
            "class_pairs": r["class_pairs"], "solver_seconds": r["seconds"],
            "seconds": time.perf_counter() - t0}
    text = [f"dispatch ({objective}) over {T} snapshots ({label}, {tot_w:,.0f} h)",
            f"cost: {summ['cost_CNY'] / 1e6:,.2f} MCNY   CO2: {summ['co2_t']:,.0f} t   energy: "
            f"{summ['energy_GWh']:,.2f} GWh",
            f"renewable (contracted green) share: {100 * summ['renewable_share']:.1f}%   green used "
            f"{summ['green_used_GWh']:,.2f} GWh, curtailed {summ['green_curtailed_GWh']:,.2f} GWh",
            f"served in the west: {100 * summ['west_share']:.1f}%   eastern demand served west: "
            f"{100 * summ['east_to_west_share']:.1f}%   mean RTT {summ['mean_rtt_ms']:.1f} ms",
            f"LP: {summ['blocks']} blocks, {summ['classes']} classes, {summ['class_pairs']} class pairs, "
            f"{summ['blocks_with_link_rows']} blocks re-solved with link rows, {summ['solver_seconds']:.2f} s"]
    ds.attrs.update({"summary_json": json.dumps(summ), "summary_text": "\n".join(text), "objective": objective,
                     "scenario": scenario.name, "request_class": request_class})
    return ds
