"""Availability engines over a :class:`~workbench_ops.system.FaultSystem`.

Analytic (exact for independent elements, steady state)
    Each element is an alternating renewal process: exponential time to failure (rate ``lambda``), any
    restore-time distribution (mean ``R``); its availability is ``1 / (1 + lambda R)`` = MTBF/(MTBF+MTTR).
    A demand's working path ``W`` is a series system of the elements covering its components, its backup
    ``B`` another; elements in both (shared: the end sites, a shared-risk group, a fleet-wide change) are
    factored out: ``A = A(W and B) [1 - (1 - A(W only))(1 - A(B only))]``. The switch to the backup takes
    time: each failure of the working path while the backup is up costs ``E[min(T, D)]`` (``T`` the switch,
    restoration or re-provisioning time, ``D`` the outage), integrated numerically by seeded sampling of
    both distributions (:func:`expected_min`). The failure frequency of a series system is
    ``A_W sum(lambda_e)`` (exact for exponential up times). Two named approximations remain in the switch
    term: an outage is taken to be the failed element's own restore time (overlapping failures on the same
    path are second order), and a backup failing during a switch window is not subtracted (also second
    order); the Monte Carlo has neither.
    :func:`state_enumeration` checks small systems by enumerating every element state.

Monte Carlo (seeded, vectorised)
    Every element's up/down history over the horizon is drawn at once, one vectorised step per failure
    cycle across all elements (numpy; no Python object per element); restore times come from the same
    chains as the analytic means (working hours from each failure's time of day). A demand's downtime is
    the measure of the union of its elements' down intervals (a segmented running maximum over intervals
    sorted by demand and start), combined with the backup exactly: ``|W and B| + |S| - |S and B|`` where
    ``S`` are the switch windows ``[s_k, s_k + min(t_k, d_k)]`` of the working path's outages.
    Replications are independent streams from ``numpy.random.SeedSequence(seed).spawn(n)``: the same seed
    gives the same result serially and on Dask, whatever the number of workers.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy import stats

from .system import H_PER_YEAR, FaultSystem

MIN_PER_YEAR = H_PER_YEAR * 60.0   # 525,600 min: the same 365-day year as every rate [1/a]


# ------------------------------------------------------------------------------------------- analytic

def analytic(system: FaultSystem) -> dict:
    """Per-demand unavailability and its parts (analytic engine; see the module docstring)."""
    R = system.mean_restore_h()
    lam = system.rate_per_h
    A = 1.0 / (1.0 + lam * R)
    logA = np.log(A)
    W, B = system.W, system.B
    S = W.multiply(B).tocsr()                     # shared elements
    Wo = (W - S).tocsr()
    Bo = (B - S).tocsr()
    Wo.eliminate_zeros()
    Bo.eliminate_zeros()
    lW = W @ logA
    lS = S @ logA
    lWo = Wo @ logA
    lBo = Bo @ logA
    has_b = np.asarray(B.sum(1)).ravel() > 0
    u_unprot = -np.expm1(lW)
    u_prot = 1.0 - np.exp(lS) * (1.0 - (-np.expm1(lWo)) * (-np.expm1(lBo)))
    # switching windows: working-path failures caused by W-only elements while the backup is up, each
    # costing E[min(T, D)] (T the demand's switch, restoration or re-provisioning time, D the outage)
    lam_wo = np.asarray(Wo @ lam).ravel()
    nu_w = np.exp(lW) * lam_wo * np.exp(lBo)                                               # per hour
    emin = Wo.copy().astype(float)
    if emin.nnz:
        col = emin.indices
        row = np.repeat(np.arange(W.shape[0]), np.diff(emin.indptr))
        emin.data = expected_min(system, col, system.switch_kind[row]) * lam[col]
    emin_w = np.asarray(emin.sum(1)).ravel()
    with np.errstate(invalid="ignore", divide="ignore"):
        wmean = np.where(lam_wo > 0, emin_w / lam_wo, 0.0)
    u_switch = np.where(has_b, nu_w * wmean, 0.0)
    u = np.where(has_b, u_prot + u_switch, u_unprot)
    return {"unavailability": np.clip(u, 0.0, 1.0), "u_switch": u_switch, "element_availability": A,
            "element_mttr_h": R, "failures_per_year": lam * A * H_PER_YEAR}


#: draws per (element restore distribution, switch kind) for E[min(T, D)]; standard error of the switch
#: term ~ 1/sqrt(QUAD_DRAWS) of its value
QUAD_DRAWS = 4_000
_EMIN_CACHE: dict = {}


def expected_min(system: FaultSystem, elem: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """E[min(T, D)] [h] for failures of elements ``elem`` on demands switching by ``kind`` ("switch",
    "restore", "reprovision"): ``D`` the element's outage (its chain plus physical repair), ``T`` the fixed
    1+1 switch or restoration time or the re-provisioning chain. Numerical integration by seeded sampling
    (:data:`QUAD_DRAWS` draws, both times at one uniform hour of the day, so the on-call waits of T and D are
    correlated as they are in the simulation), cached per (chain, physical repair, switch)."""
    out = np.zeros(elem.size)
    p = system.params
    repro = system.chains[system.reprovision_chain]
    t_fixed = {"switch": p.protection_switch_ms / 3.6e6, "restore": p.restoration_s / 3600.0}
    keys = np.stack([system.chain_index[elem].astype(float), system.phys_h[elem]], 1)
    ukeys, inv = np.unique(keys, axis=0, return_inverse=True)
    inv = inv.ravel()
    for u, (ci, ph) in enumerate(ukeys):
        chain = system.chains[int(ci)]
        ck = (chain.key, float(ph), repro.key, t_fixed["switch"], t_fixed["restore"], p.work_start_h,
              p.off_hours_share, p.repair_cv)
        if ck not in _EMIN_CACHE:
            rng = np.random.default_rng(20261202)
            off = system.off_hours(rng.uniform(0.0, 24.0, QUAD_DRAWS))
            base, human, oncall = chain.sample_parts(rng, QUAD_DRAWS)
            if ph > 0:
                s2 = math.log1p(p.repair_cv ** 2)
                base = base + rng.lognormal(math.log(ph) - s2 / 2, math.sqrt(s2), QUAD_DRAWS)
                human = np.ones(QUAD_DRAWS, bool)
            D = base + np.where(human & off, oncall, 0.0)
            tb, th, to = repro.sample_parts(rng, QUAD_DRAWS)
            T = tb + np.where(th & off, to, 0.0)
            if len(_EMIN_CACHE) > 10_000:
                _EMIN_CACHE.clear()
            _EMIN_CACHE[ck] = {"switch": float(np.minimum(t_fixed["switch"], D).mean()),
                               "restore": float(np.minimum(t_fixed["restore"], D).mean()),
                               "reprovision": float(np.minimum(T, D).mean()), "none": 0.0}
        vals = _EMIN_CACHE[ck]
        sel = inv == u
        out[sel] = np.array([vals[k] for k in kind[sel]])
    return out


def state_enumeration(system: FaultSystem, max_elements: int = 20) -> np.ndarray:
    """Exact unavailability of each demand by enumerating all 2^n element states (small systems only;
    switching time ignored). For tests of the analytic composition."""
    lam = system.rate_per_h
    used = np.flatnonzero(lam > 0)
    if used.size > max_elements:
        raise ValueError(f"{used.size} elements: state enumeration is limited to {max_elements}")
    A = system.availability()[used]
    W = system.W[:, used].toarray() > 0
    B = system.B[:, used].toarray() > 0
    has_b = B.any(1)
    n = used.size
    states = ((np.arange(2 ** n)[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)    # True = up
    p = np.prod(np.where(states, A, 1 - A), axis=1)
    w_up = ~((~states)[:, None, :] & W[None]).any(2)          # state x demand
    b_up = ~((~states)[:, None, :] & B[None]).any(2)
    up = np.where(has_b[None, :], w_up | b_up, w_up)
    return 1.0 - p @ up


# ------------------------------------------------------------------------------------------ Monte Carlo

@dataclass
class Intervals:
    element: np.ndarray
    start: np.ndarray
    end: np.ndarray


#: cycles drawn per element per round of :func:`simulate_elements` are capped so that a round holds at most
#: this many draws (memory: ~6 arrays of 8 bytes each)
BLOCK_DRAWS = 2_000_000


def simulate_elements(system: FaultSystem, horizon_h: float, rng) -> Intervals:
    """Down intervals of every element over ``[0, horizon_h)``, all elements starting up.

    Rounds of ``K`` failure cycles for every still-active element: the up times, the restore times without
    the on-call wait, the people flags and the on-call waits of all ``K`` cycles are drawn at once (one
    vectorised call per restore chain); a short loop over the ``K`` cycles then places them in time (the
    on-call wait applies where the failure falls outside working hours) across all elements at once."""
    lam = system.rate_per_h
    active = np.flatnonzero(lam > 0)
    t = np.zeros(lam.size)
    els, sts, ens = [], [], []
    while active.size:
        # enough cycles for the busiest element to finish, within the memory cap
        need = (horizon_h - t[active]) * lam[active] * (1 + 1e-9)
        k = int(np.clip(np.ceil(need.max() * 1.2 + 4), 4, max(4, BLOCK_DRAWS // active.size)))
        up = rng.exponential(1.0, (active.size, k)) / lam[active][:, None]
        base, human, oncall = system.sample_restore_parts(np.repeat(active[:, None], k, 1), rng)
        cur = t[active].copy()
        alive = np.ones(active.size, bool)
        for j in range(k):
            s = cur + up[:, j]
            alive &= s < horizon_h
            if not alive.any():
                break
            off = system.off_hours(s)
            e = s + base[:, j] + np.where(human[:, j] & off, oncall[:, j], 0.0)
            els.append(active[alive])
            sts.append(s[alive])
            ens.append(np.minimum(e[alive], horizon_h))
            cur = np.where(alive, e, cur)
            alive &= e < horizon_h
        t[active] = cur
        active = active[alive]
    if not els:
        z = np.zeros(0)
        return Intervals(np.zeros(0, np.int64), z, z)
    return Intervals(np.concatenate(els), np.concatenate(sts), np.concatenate(ens))


def _by_element(iv: Intervals, n_el: int):
    """The intervals sorted by element (stable: each element's intervals stay in time order), the number
    per element and the offsets."""
    order = np.argsort(iv.element, kind="stable")
    counts = np.bincount(iv.element, minlength=n_el)
    offs = np.concatenate([[0], np.cumsum(counts)])
    return iv.start[order], iv.end[order], counts, offs


def _gather(member: sp.csr_matrix, iv: Intervals, by_element=None):
    """Intervals of every (group, element) membership: group index, start, end (grouped by membership,
    each membership's intervals in the order of ``iv``)."""
    n_el = member.shape[1]
    st, en, counts, offs = by_element if by_element is not None else _by_element(iv, n_el)
    coo = member.tocoo()
    g, e = coo.row, coo.col
    c = counts[e]
    total = int(c.sum())
    if total == 0:
        z = np.zeros(0)
        return np.zeros(0, np.int64), z, z
    grp = np.repeat(g, c)
    base = np.repeat(offs[e] - np.concatenate([[0], np.cumsum(c)[:-1]]), c)
    idx = base + np.arange(total)
    return grp.astype(np.int64), st[idx], en[idx]


class TrafficClock:
    """Cumulative traffic weight of each group (demand) over time: ``F(g, t) = integral_0^t profile_g``,
    with ``profile`` (n_groups x 24) the hour-of-day traffic relative to the mean (each row averages 1),
    piecewise constant by hour. Measuring intervals with ``F(g, end) - F(g, start)`` instead of
    ``end - start`` gives traffic-weighted downtime [h at mean traffic]."""

    def __init__(self, profile: np.ndarray):
        self.profile = np.asarray(profile, float)
        self.cum = np.concatenate([np.zeros((self.profile.shape[0], 1)), np.cumsum(self.profile, 1)], 1)
        self.day = self.cum[:, -1]

    def __call__(self, g, t):
        t = np.asarray(t, float)
        days = np.floor(t / 24.0)
        h = t - 24.0 * days
        k = np.minimum(h.astype(np.int64), 23)
        return days * self.day[g] + self.cum[g, k] + self.profile[g, k] * (h - k)


def _identity_clock(g, t):
    return t


def union_measure(group, start, end, n_groups: int, horizon_h: float, return_merged: bool = False, clock=None):
    """Measure of the union of intervals per group (and the merged intervals with ``return_merged``).

    Sort by (group, start); a running maximum of the end times, restarted per group by offsetting each
    group by a multiple of ``2 horizon``, tells where an interval starts a new merged run."""
    if group.size == 0:
        z = np.zeros(n_groups)
        if return_merged:
            e = np.zeros(0)
            return z, np.zeros(0, np.int64), e, e
        return z
    big = 2.0 * horizon_h + 1.0
    # by group, then start (one float key: exact to ~1e-6 h); stable = timsort, which merges the sorted runs
    # that :func:`_gather` hands over (each element's intervals in time order) in near-linear time
    o = np.argsort(group * big + start, kind="stable")
    g, s, e = group[o], start[o], end[o]
    off = g * big
    run = np.maximum.accumulate(e + off)
    run -= off
    prev = np.empty_like(run)
    prev[0] = -np.inf
    prev[1:] = run[:-1]
    prev[np.flatnonzero(g[1:] != g[:-1]) + 1] = -np.inf
    lo = np.maximum(s, prev)
    if clock is None:
        contrib = np.maximum(0.0, e - lo)
    else:                                       # weighted measure of the part not yet covered
        contrib = np.where(e > lo, clock(g, e) - clock(g, np.minimum(lo, e)), 0.0)
    meas = np.bincount(g, weights=contrib, minlength=n_groups)
    if not return_merged:
        return meas
    starts = s > prev                          # a merged run begins here
    first = np.flatnonzero(starts)
    m_start = s[first]
    m_end = np.maximum.reduceat(e, first) if first.size else np.zeros(0)
    return meas, g[first], m_start, m_end


def split_periods(group, start, end, period_h: float, n_groups: int):
    """Cut intervals at multiples of ``period_h``; each piece's group becomes ``group + n_groups x period``
    and its times are counted from the start of its period (so that the group offsets of
    :func:`union_measure` stay small: ``horizon`` = one period)."""
    y0 = np.floor(start / period_h).astype(np.int64)
    y1 = np.maximum(np.ceil(end / period_h).astype(np.int64) - 1, y0)
    count = y1 - y0 + 1
    idx = np.repeat(np.arange(group.size), count)
    k = np.arange(idx.size) - np.repeat(np.cumsum(count) - count, count)
    y = y0[idx] + k
    s = np.maximum(start[idx], y * period_h)
    e = np.minimum(end[idx], (y + 1) * period_h)
    keep = e > s
    return (group[idx] + n_groups * y)[keep], (s - y * period_h)[keep], (e - y * period_h)[keep]


def demand_downtime(system: FaultSystem, iv: Intervals, horizon_h: float, rng, period_h: float | None = None,
                    clock=None):
    """Downtime of every demand [h] over the horizon from the elements' down intervals, and the number of
    working-path outages.

    With ``period_h`` the downtime is returned per period (``n_periods x n_demands``, e.g. per simulated
    year): outages and switch windows are found on the whole timeline, then every interval set is cut at
    the period boundaries before it is measured (no outage is restarted at a boundary).

    With ``clock`` (a :class:`TrafficClock`) the downtime is weighted by each demand's hour-of-day traffic
    (not with ``period_h``)."""
    if clock is not None and period_h is not None:
        raise ValueError("demand_downtime: a traffic clock and periods together are not supported")
    n = system.W.shape[0]
    by_el = _by_element(iv, system.W.shape[1])
    gw, sw, ew = _gather(system.W, iv, by_el)
    uw, mg, ms, me = union_measure(gw, sw, ew, n, horizon_h, return_merged=True, clock=clock)
    outages = np.bincount(mg, minlength=n)
    has_b = system.switch_kind != "none"
    n_per = 1 if period_h is None else int(math.ceil(horizon_h / period_h - 1e-9))

    def measure(g, s_, e_):
        if period_h is None:
            return union_measure(g, s_, e_, n, horizon_h)
        g2_, s2_, e2_ = split_periods(g, s_, e_, period_h, n)
        return union_measure(g2_, s2_, e2_, n * n_per, period_h).reshape(n_per, n)

    if not has_b.any():
        return (uw if period_h is None else measure(gw, sw, ew)), outages
    gb, sb, eb = _gather(system.B, iv, by_el)
    if period_h is None:
        return _downtime_with_backup(system, n, horizon_h, rng, uw, mg, ms, me, gb, sb, eb, has_b, clock), outages
    uw = uw if period_h is None else measure(gw, sw, ew)
    ub = measure(gb, sb, eb)
    uwb = measure(np.concatenate([gw, gb]), np.concatenate([sw, sb]), np.concatenate([ew, eb]))
    both = uw + ub - uwb                                   # |W down and B down|
    g2, s2, e2 = _switch_windows(system, mg, ms, me, has_b, rng)
    win = measure(g2, s2, e2)                              # windows never overlap within a demand
    u_rb = measure(np.concatenate([g2, gb]), np.concatenate([s2, sb]), np.concatenate([e2, eb]))
    win_and_b = win + ub - u_rb
    down = np.where(has_b, both + win - win_and_b, uw)
    return np.maximum(down, 0.0), outages


class _CumulativeDown:
    """The cumulative down measure of merged intervals (``bg``, ``bs``, ``be``: sorted by group then start,
    disjoint within a group): :meth:`before` gives, for queries (group, time), the measure of the group's
    intervals that lies before that time (one searchsorted)."""

    def __init__(self, bg, bs, be, n_groups: int, big: float, clock=None):
        self.bg, self.bs, self.be, self.big = bg, bs, be, big
        self.clock = clock or _identity_clock
        self.length = self.clock(bg, be) - self.clock(bg, bs)
        self.excl = np.cumsum(self.length) - self.length           # measure of all earlier intervals
        first = np.zeros(n_groups, np.int64)
        if bg.size:
            starts = np.flatnonzero(np.r_[True, bg[1:] != bg[:-1]])
            first[bg[starts]] = starts
        self.group_base = self.excl[first] if bg.size else np.zeros(n_groups)
        self.keys = bg * big + bs

    def before(self, qg, qt):
        if self.bg.size == 0:
            return np.zeros(qg.size)
        idx = np.searchsorted(self.keys, qg * self.big + qt, side="right") - 1
        i = np.maximum(idx, 0)
        ok = (idx >= 0) & (self.bg[i] == qg)
        inside = self.clock(qg, np.minimum(np.maximum(qt, self.bs[i]), self.be[i])) - self.clock(qg, self.bs[i])
        val = self.excl[i] - self.group_base[qg] + inside
        return np.where(ok, val, 0.0)


def _switch_windows(system, mg, ms, me, has_b, rng):
    """The switch window ``[s, s + min(t, d)]`` of every working-path outage of a demand with a backup path:
    ``t`` the demand's 1+1 switch or restoration time, or a re-provisioning time drawn from its chain at
    the outage's hour of the day."""
    t = system.switch_h[mg]
    repro = np.isnan(t)
    if repro.any():
        t[repro] = system.chains[system.reprovision_chain].sample(rng, np.mod(ms[repro], 24.0))
    sel = has_b[mg]
    g2, s2 = mg[sel], ms[sel]
    return g2, s2, np.minimum(s2 + t[sel], me[sel])


def _downtime_with_backup(system, n, horizon_h, rng, uw, mg, ms, me, gb, sb, eb, has_b, clock=None):
    """Downtime of demands with a backup path: ``|W and B| + |S| - |S and B|``; the intersections with the
    backup's merged outages come from its cumulative down measure (searchsorted), so only the working and
    the backup intervals are ever sorted."""
    ub, bg, bs, be = union_measure(gb, sb, eb, n, horizon_h, return_merged=True)
    cum = _CumulativeDown(bg, bs, be, n, 2.0 * horizon_h + 1.0, clock)
    both = np.bincount(mg, weights=cum.before(mg, me) - cum.before(mg, ms), minlength=n)
    g2, s2, e2 = _switch_windows(system, mg, ms, me, has_b, rng)
    ck = clock or _identity_clock
    win = np.bincount(g2, weights=ck(g2, e2) - ck(g2, s2), minlength=n)
    win_and_b = np.bincount(g2, weights=cum.before(g2, e2) - cum.before(g2, s2), minlength=n)
    down = np.where(has_b, both + win - win_and_b, uw)
    return np.maximum(down, 0.0)


def replicate(system: FaultSystem, years: float, seed_seq) -> dict:
    """One Monte Carlo replication: downtime per demand [h], outages, and restore statistics by fault class."""
    rng = np.random.default_rng(seed_seq)
    horizon = years * H_PER_YEAR
    iv = simulate_elements(system, horizon, rng)
    profile = system.base.traffic_profile
    rng_w = copy.deepcopy(rng)                 # the weighted pass draws the same re-provisioning times
    down, outages = demand_downtime(system, iv, horizon, rng)
    down_w = (demand_downtime(system, iv, horizon, rng_w, clock=TrafficClock(profile))[0]
              if profile is not None else down)
    # restore durations by fault class (intervals cut at the horizon are excluded: their length is censored)
    done = iv.end < horizon
    classes = system.fault_class[iv.element[done]]
    dur = (iv.end - iv.start)[done]
    stats_ = {}
    for c in np.unique(system.fault_class):
        m = classes == c
        stats_[c] = (float(dur[m].sum()), int(m.sum()))
    return {"downtime_h": down, "traffic_weighted_downtime_h": down_w, "outages": outages, "restore": stats_,
            "events": int(iv.element.size), "horizon_h": horizon}


def monte_carlo(system: FaultSystem, years: float = 10.0, replications: int = 20, seed: int = 0,
                client=None) -> dict:
    """Replications of :func:`replicate` (serially, or as Dask tasks on ``client``); per-demand mean
    unavailability with a 95% confidence interval (Student t over the replications)."""
    if replications < 2:
        raise ValueError("replications must be >= 2 for a confidence interval")
    children = np.random.SeedSequence(seed).spawn(replications)
    if client is None:
        reps = [replicate(system, years, c) for c in children]
    else:
        fut_sys = client.scatter(system, broadcast=True)
        futs = [client.submit(replicate, fut_sys, years, c, pure=False) for c in children]
        reps = client.gather(futs)
    horizon = years * H_PER_YEAR
    U = np.array([r["downtime_h"] / horizon for r in reps])             # replication x demand
    mean = U.mean(0)
    half = stats.t.ppf(0.975, replications - 1) * U.std(0, ddof=1) / math.sqrt(replications)
    restore = {}
    for c in np.unique(system.fault_class):
        tot = sum(r["restore"].get(c, (0.0, 0))[0] for r in reps)
        cnt = sum(r["restore"].get(c, (0.0, 0))[1] for r in reps)
        restore[c] = (tot / cnt if cnt else float("nan"), cnt)
    Uw = np.array([r["traffic_weighted_downtime_h"] / horizon for r in reps])
    return {"unavailability": mean, "ci95_half": half, "per_replication": U, "restore": restore,
            "traffic_weighted_unavailability": Uw.mean(0),
            "events": sum(r["events"] for r in reps), "element_years": system.n_elements * years * replications,
            "outages_per_year": np.mean([r["outages"] for r in reps], 0) / years}
