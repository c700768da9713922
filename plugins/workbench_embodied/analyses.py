"""Scenario analyses ``offload`` and ``deadlines``: where each device group's control loop should run.

Device groups
    Groups whose ``device.class`` is a class of ``datasets/embodied/device_classes.csv`` are used as they are
    (``endpoints`` devices); the core's generic ``robot`` and ``drone`` stand for ``humanoid`` and ``drone-c2``.
    Otherwise (``population="auto"`` on a scenario of resident groups, or ``"residents"``) every resident group
    yields one group per selected class with ``endpoints x
    per_1000_people / 1000`` devices (an assumed 2028 density per class).

Options (:data:`workbench_embodied.model.OPTIONS`)
    ``device`` (the class's model on its own chip; not offered to ``remote_only`` classes such as drone C2, whose
    loop is the link itself), ``edge`` / ``regional`` / ``hub`` (the nearest site of that tier with accelerators,
    by one-way latency over the link graph from the group's access PoP; a ``pop`` site with accelerators counts
    as edge), ``split``
    (the on-device small model answers; an ``escalation_share`` of decisions go on to the nearest serving site
    of any tier, after the local inference).

One remote step (:mod:`workbench_embodied.dist`)
    ``L = c + A + W + H`` with ``c = 2 x one-way path (metro fibre + graph + site hop) + transmission
    (request bits / embodied_uplink_bps + response bits / embodied_downlink_bps) + inference (batch
    up to embodied_batch at the roofline knee, :func:`workbench_embodied.model.operating_point`) +
    embodied_processing_ms``; ``A`` the access
    round trip of the group's access technology; ``W`` the wait at the site; ``H`` a handover interruption.

Queueing
    A site has two pools: ``round(embodied_chip_share x n)`` chips of its main accelerator type (largest
    installed FLOP/s) for robot, vehicle and drone loops, the rest for consumer assistants; each chip runs its
    operating batch, so ``c = floor(chips x batch)`` M/G/c servers. A group offers ``devices x active_share x
    hz`` requests per second (x the escalation share for split) with its model's service time on that chip;
    Erlang C gives ``P(wait)``, the Allen-Cunneen decay the exponential wait (the service-time mix's ``cs^2``).
    Loads follow the choices (:func:`_admit`): every option is first seen alone, then groups take their
    preferred options in turn and a site's pool admits them nearest first, first fit, up to 90% of its chips
    (whichever option reaches it); the second pass loads each pool with its admitted groups and shows a group's
    other options as it would see them moving there alone; groups whose admitted option then misses their target
    are admitted once more (the others kept) with that option struck off, and a third pass evaluates that. A pool offered load at or above its servers is
    overloaded (miss probability 1).

Mobility
    A device moving at ``speed`` through cells ``cell_km`` apart hands over ``speed / cell_km`` times per
    unit time; a step of deadline ``D`` overlaps an interruption of length ``h`` with probability
    ``min(1, rate x (h + D))`` and then waits a uniform share of it.

Chunking and the local fallback
    A new chunk of ``chunk_steps`` actions is requested every ``1/hz``; the device executes actions at
    ``action_hz``, so a late chunk is covered by ``slack = (chunk_steps - action_hz / hz) / action_hz`` of
    remaining actions. ``miss`` = late (``L > D``); ``stall`` = the buffer runs dry (``L > D + slack``); the
    on-device loop then holds a safe state, and a stall longer than the class's survival time is a safety
    stop (``L > D + slack + survival``). Executed action rate = ``action_hz x (1 - hz x E[(L - D - slack)^+])``.

Energy per decision on the device
    device: chip power x inference time; remote: radio power x mean step time (the radio waits for the
    reply); split: local inference + escalation share x radio power x mean escalated step time.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import xarray as xr

from .dist import EmbodiedError, expected_lateness, miss_probability, sample_loop, wilson_interval
from .model import (
    ALIASES,
    OPTIONS,
    REMOTE_TIERS,
    EmbodiedParams,
    access_dist,
    class_table,
    device_power_w,
    inference_ms,
    load_table,
    operating_point,
)

__all__ = ["Groups", "build_groups", "deadlines_analysis", "evaluate", "offload_analysis", "site_pools"]


# ---------------------------------------------------------------------- groups


class Groups:
    """Device groups of one analysis (arrays over ``group``)."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame.reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.frame)

    def __getitem__(self, col) -> np.ndarray:
        return self.frame[col].to_numpy()


def _parse_classes(classes, cl: pd.DataFrame) -> list[str]:
    if classes is None or (isinstance(classes, str) and classes.strip().lower() in ("", "all")):
        return cl.index.tolist()
    if isinstance(classes, str):
        v = classes.strip().lower()
        cats = set(cl["category"])
        if v in cats:
            return cl.index[cl["category"] == v].tolist()
        classes = [c.strip() for c in classes.split(",") if c.strip()]
    out = []
    for c in classes:
        if c in cl.index:
            out.append(c)
        elif c in set(cl["category"]):
            out += [x for x in cl.index[cl["category"] == c] if x not in out]
        else:
            raise EmbodiedError(f"unknown device class {c!r}; expected all, a category ({', '.join(sorted(set(cl['category'])))}) "
                                f"or a comma list of: {', '.join(cl.index)}")
    return list(dict.fromkeys(out))


def build_groups(scenario, classes=None, population: str = "auto", hz=None) -> Groups:
    """The device groups an analysis evaluates (module docstring)."""
    if population not in ("auto", "scenario", "residents"):
        raise EmbodiedError(f"population must be auto, scenario or residents, got {population!r}")
    cl = class_table()
    wanted = _parse_classes(classes, cl)
    dev = scenario["device"]
    n = dev.sizes["device"]
    cls = dev["class"].values.astype(str) if n else np.zeros(0, str)
    cls = np.array([ALIASES.get(c, c) for c in cls.tolist()], dtype=str) if n else cls
    ids = dev["device"].values.astype(str)
    names = dev["name"].values.astype(str) if "name" in dev else ids
    metro = dev["metro"].values.astype(str) if "metro" in dev else np.full(n, "")
    label = np.where(metro != "", metro, ids)           # a unique key (display names repeat: two Suzhous)
    count = dev["endpoints"].values.astype(float) if n else np.zeros(0)
    techs = set(load_table("access_networks").index)
    tech = dev["access_tech"].values.astype(str) if n else np.zeros(0, str)
    explicit = np.isin(cls, list(cl.index)) & np.isin(cls, wanted)

    def col(name, default):
        return dev[name].values if name in dev else np.full(n, default)

    g_hz, g_dl, g_pl = col("embodied_hz", np.nan), col("embodied_deadline", np.nan), col("embodied_placement", "auto")
    rows = []
    if population in ("auto", "scenario"):
        for i in np.flatnonzero(explicit):
            rows.append((ids[i], i, cls[i], label[i], names[i], count[i],
                         tech[i] if tech[i] in techs else cl.loc[cls[i], "access_tech"],
                         float(g_hz[i]), float(g_dl[i]), str(g_pl[i])))
    if population == "residents" or (population == "auto" and not rows):
        resid = np.flatnonzero(~np.isin(cls, list(cl.index)))
        for c in wanted:
            share = float(cl.loc[c, "per_1000_people"]) / 1000.0
            for i in resid:
                rows.append((f"{ids[i]}:{c}", i, c, label[i], names[i], count[i] * share, cl.loc[c, "access_tech"],
                             np.nan, np.nan, "auto"))
    if not rows:
        raise EmbodiedError(f"scenario {scenario.name!r} has no device groups of classes {', '.join(wanted)} and "
                            f"no resident groups to derive them from (population={population!r})")
    f = pd.DataFrame(rows, columns=["group", "device_row", "class", "metro", "metro_name", "devices", "access_tech",
                                    "g_hz", "g_deadline", "placement"])
    c = cl.loc[f["class"]].reset_index(drop=True)
    for col in ("policy_hz", "active_share", "remote_only", "deadline", "miss_target", "survival", "chunk_steps", "action_hz", "request_bytes",
                "response_bytes", "escalation_share", "speed", "radio_power"):
        f[col] = c[col].to_numpy(float)
    for col in ("model", "local_model", "device_chip", "category"):
        f[col] = c[col].to_numpy(str)
    # the group's own attributes, then the hz argument, override the class
    own = np.isfinite(f["g_hz"])
    f.loc[own, "policy_hz"] = f.loc[own, "g_hz"]
    f.loc[own, "deadline"] = 1000.0 / f.loc[own, "g_hz"]
    dl = np.isfinite(f["g_deadline"])
    f.loc[dl, "deadline"] = f.loc[dl, "g_deadline"]
    if hz is not None:
        hz = float(hz)
        if not (hz > 0 and math.isfinite(hz)):
            raise EmbodiedError(f"hz must be a positive number [Hz], got {hz!r}")
        f["policy_hz"] = hz
        f["deadline"] = 1000.0 / hz
    f = f.drop(columns=["g_hz", "g_deadline"])
    f["deadline"] = np.where(np.isfinite(f["deadline"]), f["deadline"], 1000.0 / f["policy_hz"])
    return Groups(f)


# ---------------------------------------------------------------------- sites


def site_pools(scenario, params: EmbodiedParams) -> pd.DataFrame:
    """Every site: tier, main chip type (largest installed FLOP/s), the chips reserved for control loops (robot,
    vehicle, drone classes: ``chips``) and the rest of that type (consumer assistants: ``chips_consumer``)."""
    site = scenario["site"]
    n = site.sizes["site"]
    if "inventory" not in scenario or scenario["inventory"]["installed"].size == 0:
        return pd.DataFrame({"site": site["site"].values.astype(str), "tier": site["tier"].values.astype(str),
                             "chip": np.full(n, ""), "chips": np.zeros(n), "chips_consumer": np.zeros(n),
                             "serving": np.zeros(n, bool)})
    inv = scenario["inventory"]["installed"]
    chips = scenario["chip"]
    flops = chips["bf16_flops"].reindex(chip=inv["chip"]).fillna(0.0)
    installed = inv.values.astype(float)
    total = installed * flops.values[None, :]
    has = installed.sum(axis=1) > 0
    main = np.asarray(inv["chip"].values).astype(str)[total.argmax(axis=1)]
    n_main = installed[np.arange(installed.shape[0]), total.argmax(axis=1)]
    reserved = np.where(n_main > 0, np.maximum(np.rint(params.chip_share * n_main), 1.0 if params.chip_share > 0 else 0), 0)
    reserved = np.minimum(reserved, n_main)
    out = pd.DataFrame({"site": site["site"].values.astype(str), "tier": site["tier"].values.astype(str),
                        "chip": main, "chips": reserved, "chips_consumer": n_main - reserved, "serving": has})
    return out


# ---------------------------------------------------------------------- evaluation


_OP_CACHE: dict = {}


def _catalogue_token(chip_ds) -> bytes:
    """A digest of the chip catalogue's numbers (the inference-time memo must follow edits to it)."""
    import hashlib

    h = hashlib.sha256(",".join(chip_ds["chip"].values.astype(str)).encode())
    for v in sorted(chip_ds.data_vars):
        if chip_ds[v].dtype.kind == "f":
            h.update(v.encode() + np.ascontiguousarray(chip_ds[v].values).tobytes())
    return h.digest()


def _cached(kind, model, chip, params, chip_ds, token):
    key = (kind, model, chip, params, token)
    if key not in _OP_CACHE:
        if len(_OP_CACHE) > 4096:
            _OP_CACHE.clear()
        _OP_CACHE[key] = (operating_point(model, chip, params, chip_ds) if kind == "op"
                          else inference_ms(model, chip, 1, params, chip_ds))
    return _OP_CACHE[key]


def _inference_table(models, chips_used, params, chip_ds, token) -> dict:
    """(model, chip) -> (batch, latency [ms]) at the operating point."""
    return {(m, ch): _cached("op", m, ch, params, chip_ds, token) for m in models for ch in chips_used}


def _per_pair(a, b, f) -> np.ndarray:
    """``f(a_i, b_i)`` for every row, computed once per distinct pair."""
    keys = list(zip(a.tolist(), b.tolist()))
    table = {k: f(*k) for k in set(keys)}
    return np.array([table[k] for k in keys], float)


def _own_assigned(ng: int, geoms: list, assigned) -> dict:
    """Each group's own contribution to the pool of the option it is assigned to (pool -1 where none)."""
    out = {"pool": np.full(ng, -1, np.int64), **{k: np.zeros(ng) for k in ("L", "a", "s2", "cs")}}
    for k, geo in geoms:
        sel = (geo["pool"] >= 0) & (assigned == k)
        ts = geo["t_inf"][sel] / 1e3
        lam = geo["lam"][sel]
        out["pool"][sel] = geo["pool"][sel]
        out["L"][sel], out["a"][sel], out["s2"][sel] = lam, lam * ts, lam * ts ** 2
        out["cs"][sel] = lam * ts / geo["batch"][sel]
    return out


def _pool_loads(n_pools: int, geoms: list, assigned) -> dict:
    """Load of every pool from the groups assigned to it, whichever option they reach it through: arrivals ``L``
    [1/s], offered erlangs ``a``, ``s2`` (sum of rate x service time squared) and ``cs`` (chips kept busy: rate x
    service time / batch, the measure admission uses).
    ``geoms``: (option index, geometry) pairs; ``assigned``: option index per group (-1 = none)."""
    out = {k: np.zeros(n_pools) for k in ("L", "a", "s2", "cs")}
    for k, geo in geoms:
        sel = (geo["pool"] >= 0) & (assigned == k)
        if not sel.any():
            continue
        pool, lam, ts, b = geo["pool"][sel], geo["lam"][sel], geo["t_inf"][sel] / 1e3, geo["batch"][sel]
        out["L"] += np.bincount(pool, weights=lam, minlength=n_pools)
        out["a"] += np.bincount(pool, weights=lam * ts, minlength=n_pools)
        out["s2"] += np.bincount(pool, weights=lam * ts ** 2, minlength=n_pools)
        out["cs"] += np.bincount(pool, weights=lam * ts / b, minlength=n_pools)
    return out


def _queue(geo, loads, counted, chips_pool, mine):
    """M/G/c seen by each group of one option: its pool carries the groups assigned to it (``loads``); a group not
    counted there (assigned elsewhere) adds its own load ("what if I moved here alone") and takes away what it
    puts on that pool through its assigned option (``mine``, :func:`_own_assigned`). The servers are the
    pool's chips x the request-weighted batch, whole numbers (Erlang C needs them). Returns per group ``p_wait``
    and ``theta`` [1/ms], and the utilisation of every pool by its assigned load."""
    from workbench_edge.queueing import erlang_c

    pool, lam, ts, b = geo["pool"], geo["lam"], geo["t_inf"] / 1e3, geo["batch"]
    ok = pool >= 0
    p = np.maximum(pool, 0)
    own = ok & ~counted
    same = own & (mine["pool"] == pool)            # assigned elsewhere but through this very pool
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        Lg = loads["L"][p] + np.where(own, lam, 0.0) - np.where(same, mine["L"], 0.0)
        ag = loads["a"][p] + np.where(own, lam * ts, 0.0) - np.where(same, mine["a"], 0.0)
        s2g = loads["s2"][p] + np.where(own, lam * ts ** 2, 0.0) - np.where(same, mine["s2"], 0.0)
        csg = loads["cs"][p] + np.where(own, lam * ts / b, 0.0) - np.where(same, mine["cs"], 0.0)
        # servers = chips x the pool's effective batch (erlangs per busy chip), so erlangs / servers equals
        # chips kept busy / chips: the queue and the admission measure load the same way
        c = np.floor(chips_pool[p] * np.where(csg > 0, ag / np.where(csg > 0, csg, 1), 1.0))
        tbar = np.where(Lg > 0, ag / Lg, 0.0)
        cs2 = np.where(Lg > 0, s2g / Lg / np.where(tbar > 0, tbar ** 2, 1.0) - 1.0, 0.0)
        pw = np.where(c > 0, erlang_c(np.maximum(c, 1), ag), 1.0)
        theta = np.where((Lg > 0) & (ag < c), 2.0 * (c / tbar - Lg) / (1.0 + np.maximum(cs2, 0)) / 1e3, np.inf)
        servers = np.floor(chips_pool * np.where(loads["cs"] > 0, loads["a"] / np.where(loads["cs"] > 0, loads["cs"], 1),
                                                 1.0))
        util = np.where(servers > 0, loads["a"] / servers, np.where(loads["a"] > 0, np.inf, 0.0))
    pw = np.where(~ok | (ag >= c), 1.0, np.where(Lg > 0, pw, 0.0))
    return pw, theta, util


def evaluate(scenario, groups: Groups, params: EmbodiedParams, options=OPTIONS, return_components: bool = False, *,
             pools: pd.DataFrame | None = None, oneway_all: np.ndarray | None = None, queueing: bool = True,
             miss_only: bool = False, access_pop: np.ndarray | None = None):
    """Every group x option: miss, stall, safety stops, rates, energy, traffic (see module docstring).

    With ``return_components`` also returns, per option, each group's step terms (``const`` [ms], ``p_wait``,
    ``theta`` [1/ms], ``p_ho``, ``ho`` [ms]; for ``split`` the local time ``local`` [ms] and ``share``) for the
    Monte Carlo. ``pools`` (:func:`site_pools` rows) and ``oneway_all`` (device row x site one-way latency [ms])
    may be given to evaluate variants of the scenario's sites without recomputing paths (the study), with the access
    PoP of every device row (``access_pop``); ``miss_only`` skips the stall, stop and lateness terms (NaN)."""
    from workbench.paths import group_site_latency

    g = groups
    ng = len(g)
    pools = site_pools(scenario, params) if pools is None else pools
    serving = np.flatnonzero(pools["serving"].to_numpy())
    if oneway_all is not None:
        oneway, idx = oneway_all[:, serving], serving
    elif serving.size:
        oneway, idx = group_site_latency(scenario, sites=serving, include_access=False)
    else:
        oneway, idx = np.zeros((scenario["device"].sizes["device"], 0)), serving
    oneway = oneway[g["device_row"]]
    tiers = pools["tier"].to_numpy()[idx]
    chip_ds = scenario["chip"]
    token = _catalogue_token(chip_ds)
    inf = _inference_table(sorted(set(g["model"])), sorted(set(pools["chip"].to_numpy()[serving])), params, chip_ds,
                           token)
    hz = g["policy_hz"]
    D = g["deadline"]
    act = g["action_hz"]
    steps_per_period = np.where(np.isfinite(act), act / hz, 1.0)
    slack = np.where(np.isfinite(act) & (act > 0), np.maximum(g["chunk_steps"] - steps_per_period, 0.0) / act * 1e3, 0.0)
    surv = np.nan_to_num(g["survival"], nan=0.0)
    lam = g["devices"] * np.where(np.isfinite(g["active_share"]), g["active_share"], params.active_share) * hz
    consumer = (g["category"] == "consumer").astype(np.int64)
    tx = (g["request_bytes"] * 8 / params.uplink_bps + g["response_bytes"] * 8 / params.downlink_bps) * 1e3
    # access, handover per group
    techs = sorted(set(g["access_tech"]))
    dists = [access_dist(t) for t in techs]
    tidx = np.searchsorted(techs, g["access_tech"])
    acc = load_table("access_networks")
    ho = acc.loc[g["access_tech"], "handover"].to_numpy(float)
    cell = acc.loc[g["access_tech"], "cell_km"].to_numpy(float)
    ho = np.nan_to_num(ho)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_ms = np.where(np.nan_to_num(cell) > 0, np.nan_to_num(g["speed"]) / 3.6e6 / cell, 0.0)   # handovers per ms
    p_ho = np.clip(rate_ms * (ho + D), 0.0, 1.0)
    mean_acc = np.array([d.mean() for d in dists])[tidx]

    shape = (ng, len(options))

    chips_pool = np.stack([pools["chips"].to_numpy(), pools["chips_consumer"].to_numpy()], axis=1).ravel()

    def geometry(cols, share):
        """Where a remote option's requests go: serving site and pool per group, path, inference and batch."""
        reach = cols >= 0
        j = np.where(reach, cols, 0)
        path = oneway[np.arange(ng), j] if oneway.shape[1] else np.full(ng, np.inf)
        sidx = np.where(reach, idx[j] if idx.size else -1, -1)
        chip = pools["chip"].to_numpy()[np.maximum(sidx, 0)]
        t_inf = _per_pair(g["model"], chip, lambda m, c: inf[(m, c)][1] if (m, c) in inf else np.inf)
        b_inf = _per_pair(g["model"], chip, lambda m, c: inf[(m, c)][0] if (m, c) in inf else 1)
        # two pools per site: control loops on the reserved chips, consumer assistants on the rest
        pool = np.where(reach, 2 * sidx + consumer, -1)
        return {"reach": reach, "path": path, "sidx": sidx, "t_inf": np.where(reach, t_inf, np.inf),
                "batch": b_inf, "pool": pool, "lam": np.where(reach, lam * share, 0.0)}

    def remote(geo, extra_const, loads, counted, mine):
        """Loop metrics of a remote option (its ``geometry``) with the pools carrying ``loads``."""
        reach, path, t_inf = geo["reach"], geo["path"], geo["t_inf"]
        pw_g, th_g, util = _queue(geo, loads, counted, chips_pool, mine)
        if not queueing:
            pw_g = np.where(reach, 0.0, 1.0)
        util = util.reshape(-1, 2)
        const = np.where(reach & np.isfinite(path), 2 * path + tx + t_inf + params.processing_ms + extra_const, np.inf)
        args = dict(p_wait=pw_g, theta=th_g, p_ho=p_ho, ho_ms=ho)
        miss = miss_probability((dists, tidx), const, D, **args)
        if miss_only:
            stall = stop = late = np.full(ng, np.nan)
        else:
            stall = miss_probability((dists, tidx), const, D + slack, **args)
            stop = miss_probability((dists, tidx), const, D + slack + surv, **args)
            late = expected_lateness((dists, tidx), const, D + slack, **args)
        with np.errstate(invalid="ignore"):
            wait = np.where(pw_g >= 1, np.inf, np.where(np.isfinite(th_g) & (pw_g > 0), pw_g / th_g, 0.0))
        mean = const + mean_acc + wait + p_ho * ho / 2
        with np.errstate(invalid="ignore"):
            chip_s = np.where(reach, geo["lam"] * t_inf / 1e3 / np.maximum(geo["batch"], 1), 0.0)   # chips kept busy
        return dict(miss=miss, stall=stall, stop=stop, lateness=late, latency=mean, queue_wait=wait,
                    inference=t_inf, site=geo["sidx"], util=util, const=const, p_wait=pw_g, theta=th_g,
                    pool=geo["pool"], chip_s=chip_s, chips=chips_pool)

    tier_cols = {}
    missing = [o for o in ("edge", "regional", "hub") if o in options and not np.isin(tiers, REMOTE_TIERS[o]).any()]
    if missing and ng and not miss_only:
        import warnings

        from workbench.errors import WorkbenchWarning

        warnings.warn(f"no site with accelerators of tier {' / '.join(sorted({t for o in missing for t in REMOTE_TIERS[o]}))}"
                      f": option{'s' if len(missing) > 1 else ''} {', '.join(missing)} cannot serve any group (set "
                      f"site.tier, e.g. metro_edge, cluster or hub, on sites with accelerators)",
                      WorkbenchWarning, stacklevel=3)
    for o in ("edge", "regional", "hub"):
        mask = np.isin(tiers, REMOTE_TIERS[o])
        lat = np.where(mask[None, :], oneway, np.inf) if oneway.shape[1] else oneway
        best = np.argmin(lat, axis=1) if lat.shape[1] else np.zeros(ng, np.int64)
        ok = np.isfinite(lat[np.arange(ng), best]) if lat.shape[1] else np.zeros(ng, bool)
        tier_cols[o] = np.where(ok, best, -1)
    anycol = np.argmin(oneway, axis=1) if oneway.shape[1] else np.zeros(ng, np.int64)
    anyok = np.isfinite(oneway[np.arange(ng), anycol]) if oneway.shape[1] else np.zeros(ng, bool)
    tier_cols["split"] = np.where(anyok, anycol, -1)

    dev_chip = g["device_chip"]
    t_dev = _per_pair(g["model"], dev_chip,
                      lambda m, c: _cached("t1", m, c, params, chip_ds, token) if (m and c) else np.inf)
    t_dev = np.where(np.nan_to_num(g["remote_only"]) > 0, np.inf, t_dev)     # a remote loop by definition (C2)
    t_loc = _per_pair(g["local_model"], dev_chip,
                      lambda m, c: _cached("t1", m, c, params, chip_ds, token) if (m and c) else np.inf)
    p_dev = _per_pair(dev_chip, dev_chip, lambda c, _: device_power_w(c) if c else np.nan)
    e_share = np.nan_to_num(g["escalation_share"], nan=1.0)
    radio = np.nan_to_num(g["radio_power"])
    bits = lam * g["request_bytes"] * 8

    geoms = {o: geometry(tier_cols[o], e_share if o == "split" else np.ones(ng))
             for o in options if o != "device"}

    def run(assigned, admitted=None):
        """Every option for every group, the pools loaded by the groups ``assigned`` (option index per group,
        -1 = none) and ``admitted``, whichever option reaches them."""
        if admitted is not None:
            assigned = np.where(admitted, assigned, -1)
        res = {k: np.full(shape, np.nan) for k in ("miss", "stall", "stop", "lateness", "latency", "energy",
                                                   "uplink", "queue_wait", "inference")}
        site_of = np.full(shape, -1, np.int64)
        util_out, comps = {}, {}
        pairs = [(k, geoms[o]) for k, o in enumerate(options) if o in geoms]
        loads = _pool_loads(chips_pool.size, pairs, assigned)
        mine = _own_assigned(ng, pairs, assigned)
        for k, o in enumerate(options):
            _option(k, o, res, site_of, util_out, comps, loads, assigned == k, mine)
        return res, site_of, util_out, comps

    def _option(k, o, res, site_of, util_out, comps, loads, counted, mine):
        """Fill column ``k`` (option ``o``) of the results; pools carry the groups ``counted``."""
        if o == "device":
            for key, lim in (("miss", D), ("stall", D + slack), ("stop", D + slack + surv)):
                res[key][:, k] = (t_dev > lim).astype(float)
            res["lateness"][:, k] = np.maximum(t_dev - D - slack, 0.0)
            res["latency"][:, k] = t_dev
            res["inference"][:, k] = t_dev
            res["queue_wait"][:, k] = 0.0
            res["energy"][:, k] = p_dev * t_dev / 1e3
            res["uplink"][:, k] = 0.0
            comps[o] = {"const": t_dev}
            return
        split = o == "split"
        share = e_share if split else np.ones(ng)
        r = remote(geoms[o], t_loc if split else 0.0, loads, counted, mine)
        site_of[:, k] = r["site"]
        comps[o] = {"const": r["const"], "p_wait": r["p_wait"], "theta": r["theta"], "p_ho": p_ho, "ho": ho,
                    "local": t_loc, "share": share, "pool": r["pool"], "chip_s": r["chip_s"], "chips": r["chips"]}
        util_out[o] = r["util"]
        if split:
            def mix(local, remote_, share=share):
                with np.errstate(invalid="ignore"):
                    both = (1 - share) * local + share * remote_
                return np.where(share >= 1, remote_, np.where(share <= 0, local, both))

            for key, lim in (("miss", D), ("stall", D + slack), ("stop", D + slack + surv)):
                res[key][:, k] = mix((t_loc > lim).astype(float), r[key])
            res["lateness"][:, k] = mix(np.maximum(t_loc - D - slack, 0), r["lateness"])
            res["latency"][:, k] = mix(t_loc, r["latency"])
            with np.errstate(invalid="ignore"):
                res["energy"][:, k] = np.where(np.isfinite(t_loc), p_dev * t_loc / 1e3, np.inf) \
                    + np.where(share > 0, share * radio * (r["latency"] - np.where(np.isfinite(t_loc), t_loc, 0)) / 1e3, 0)
        else:
            for key in ("miss", "stall", "stop", "lateness", "latency"):
                res[key][:, k] = r[key]
            res["energy"][:, k] = radio * r["latency"] / 1e3
        res["inference"][:, k] = r["inference"]
        res["queue_wait"][:, k] = r["queue_wait"]
        res["uplink"][:, k] = bits * share

    # loads follow the choices: every option seen alone (no other group), then groups admitted to their
    # preferred options while the pool has capacity (:func:`_admit`), then every option evaluated with the pools
    # carrying the admitted groups
    pos = {o: k for k, o in enumerate(options)}
    fixed = np.array([pos.get(pl, -1) for pl in g["placement"]], np.int64)
    bad = sorted({pl for pl in g["placement"] if pl != "auto" and pl not in pos})
    if bad:
        raise EmbodiedError(f"device.embodied_placement {bad} is not among the evaluated options {', '.join(options)}")
    res, site_of, util_out, comps = run(np.full(ng, -1, np.int64))
    best = _best(res, g["miss_target"], fixed)
    admitted = np.ones(ng, bool)
    passes = 1
    if queueing:
        best, admitted = _admit(res, comps, options, g["miss_target"], fixed, ADMIT_UTILISATION)
        res, site_of, util_out, comps = run(best, admitted)
        passes = 2
        # groups whose admitted option misses under the admitted load (the first pass saw every option alone) are
        # admitted once more, the others kept where they are, with that option struck off
        rows = np.arange(ng)
        fail = ((res["miss"][rows, best] > g["miss_target"]) | ~admitted) & (fixed < 0)
        if fail.any():
            seen = {k: v.copy() for k, v in res.items()}
            seen["miss"][rows[fail], best[fail]] = 1.0
            # a failing group moves only to an option that meets its target as the second pass saw it
            off = fail[:, None] & (seen["miss"] > g["miss_target"][:, None])
            seen["latency"] = np.where(off, np.inf, seen["latency"])
            again, adm = _admit(seen, comps, options, g["miss_target"], np.where(fail, fixed, best),
                                ADMIT_UTILISATION, fallback=best, fallback_admitted=admitted)
            if (again != best).any() or (adm != admitted).any():
                best, admitted = again, adm
                res, site_of, util_out, comps = run(best, admitted)
                passes = 3
    if access_pop is None:
        from workbench.paths import group_access_site

        access_pop = group_access_site(scenario, warn=False)
    ds = _dataset(g, options, res, site_of, util_out, pools, slack, hz, act, lam, access_pop, best, admitted)
    ds.attrs["assignment_passes"] = passes
    return (ds, comps) if return_components else ds


#: pools admit groups up to this utilisation of their chips (assumed: a margin so that the wait stays short)
ADMIT_UTILISATION = 0.9


def _preference(res, miss_target) -> np.ndarray:
    """Options of each group in order of preference: those meeting the target by device energy, then the rest
    by miss probability (group x rank -> option index)."""
    meets = res["miss"] <= miss_target[:, None]
    energy = np.where(meets, np.nan_to_num(res["energy"], nan=np.inf), np.inf)
    miss = np.nan_to_num(res["miss"], nan=1.0)
    return np.lexsort((miss, energy, ~meets), axis=-1)


def _admit(res, comps, options, miss_target, fixed, cap, fallback=None, fallback_admitted=None):
    """Assign each group an option: groups take their preferred options in turn (rank 0 first, ...); a pool (a
    site's control or consumer chips, whichever option reaches it) admits the groups asking for it nearest first
    (smallest constant part of the step), first fit: a group whose chips kept busy would push the pool past ``cap``
    of its chips is refused and later, smaller ones may still fit. The device option has no limit; a pinned group
    keeps its placement; only options the group can use at all are taken (finite step time: reachable, not
    overloaded by the group alone, a device option only where the class has one; not a sure miss); a group no
    pool admits is placed on its first usable preference (or its ``fallback``) but not admitted: it loads no
    pool and counts as missing its target. Returns (option index per group, admitted per group)."""
    ng = res["miss"].shape[0]
    if ng == 0:
        return np.zeros(0, np.int64), np.zeros(0, bool)
    pref = _preference(res, miss_target)
    # usable: reachable, not overloaded by the group alone, and not a sure miss
    avail = np.isfinite(res["latency"]) & (np.nan_to_num(res["miss"], nan=1.0) < 1.0)
    first = pref[np.arange(ng), np.argmax(np.take_along_axis(avail, pref, axis=1), axis=1)]
    out = np.where(fixed >= 0, fixed, -1)
    remote = [o for o in options if "pool" in comps[o]]
    chips = comps[remote[0]]["chips"] if remote else np.zeros(0)
    load = np.zeros(chips.size)
    for k, o in enumerate(options):                  # pinned groups load their pools first
        if o in remote:
            sel = (out == k) & (comps[o]["pool"] >= 0)
            load += np.bincount(comps[o]["pool"][sel], weights=comps[o]["chip_s"][sel], minlength=load.size)
    room = cap * chips
    for r in range(pref.shape[1]):
        for k, o in enumerate(options):
            ask = (out < 0) & (pref[:, r] == k) & avail[:, k]
            if not ask.any():
                continue
            if o not in remote:                      # on the device: always room
                out[ask] = k
                continue
            c = comps[o]
            idx = np.flatnonzero(ask & (c["pool"] >= 0))
            for i in idx[np.lexsort((c["const"][idx], c["pool"][idx]))]:   # first fit, nearest first per pool
                pl, need = c["pool"][i], c["chip_s"][i]
                if load[pl] + need <= room[pl]:
                    load[pl] += need
                    out[i] = k
    admitted = out >= 0
    if fallback_admitted is not None:
        admitted = np.where(admitted, True, fallback_admitted)
    return np.where(out >= 0, out, first if fallback is None else fallback), admitted


def _best(res, miss_target, fixed=None) -> np.ndarray:
    """Index of each group's best option: meets the target with the least device energy, else the least miss;
    ``fixed`` (index per group, -1 = free) pins a group's placement (``device.embodied_placement``)."""
    meets = res["miss"] <= miss_target[:, None]
    energy_key = np.where(meets, np.nan_to_num(res["energy"], nan=np.inf), np.inf)
    best = np.where(meets.any(axis=1), np.argmin(energy_key, axis=1),
                    np.argmin(np.nan_to_num(res["miss"], nan=1.0), axis=1))
    return best if fixed is None else np.where(fixed >= 0, fixed, best)


def _dataset(g, options, res, site_of, util_out, pools, slack, hz, act, lam, access_pop, assigned,
             admitted) -> xr.Dataset:
    go = ("group", "option")
    stall_share = np.clip(hz[:, None] * res["lateness"] / 1e3, 0.0, 1.0)
    target = g["miss_target"][:, None]
    meets = res["miss"] <= target
    best = assigned
    any_meet = meets[np.arange(len(g)), best] & admitted      # a group no pool admitted is not served
    rows = np.arange(len(g))
    sites = pools["site"].to_numpy()
    serving_site = np.where(site_of >= 0, sites[np.maximum(site_of, 0)], "")
    opts = np.array(options)

    def da(v, dims, units, long_name):
        return xr.DataArray(v, dims=dims, attrs={"units": units, "long_name": long_name})

    ds = xr.Dataset(
        {
            "miss_probability": da(res["miss"], go, "1", "deadline-miss probability per step"),
            "stall_probability": da(res["stall"], go, "1", "probability the action buffer runs dry (chunking)"),
            "safety_stop_probability": da(res["stop"], go, "1", "probability a stall outlasts the survival time"),
            "safety_stops_per_hour": da(res["stop"] * hz[:, None] * 3600, go, "1/h", "safety stops per device-hour"),
            "decision_rate": da(hz[:, None] * (1 - res["miss"]), go, "Hz", "on-time decisions per second"),
            "action_rate": da(np.where(np.isfinite(act), act, hz)[:, None] * (1 - stall_share), go, "Hz",
                              "executed actions per second (stalls removed)"),
            "stall_share": da(stall_share, go, "1", "share of time the device holds its safe state"),
            "latency_mean": da(res["latency"], go, "ms", "mean step time (request to action)"),
            "inference_time": da(res["inference"], go, "ms", "inference time per request (batched)"),
            "queue_wait_mean": da(res["queue_wait"], go, "ms", "mean wait for an inference slot"),
            "energy_per_decision": da(res["energy"], go, "J", "device energy per decision"),
            "uplink": da(res["uplink"], go, "bit/s", "uplink traffic of the group's loops"),
            "meets_target": da(meets, go, "1", "miss probability within the class target"),
            "serving_site": da(serving_site.astype(str), go, "", "serving site of the remote loop"),
            "best_option": da(opts[best], ("group",), "", "best placement under the miss target (or the fixed one)"),
            "best_meets_target": da(any_meet, ("group",), "1", "admitted at its placement, which meets the miss target"),
            "admitted": da(admitted, ("group",), "1", "a pool admitted the group at its placement (device: always)"),
            "best_miss_probability": da(res["miss"][rows, best], ("group",), "1", "miss probability, best option"),
            "slack": da(slack, ("group",), "ms", "action-buffer slack from chunking"),
            "requests": da(lam, ("group",), "1/s", "remote-loop requests offered at the peak hour (all remote)"),
        },
        coords={
            "group": ("group", g["group"].astype(str)),
            "option": ("option", opts),
            "class": ("group", g["class"].astype(str)),
            "metro": ("group", g["metro"].astype(str)),
            "metro_name": ("group", g["metro_name"].astype(str)),
            "devices": ("group", g["devices"], {"units": "1", "long_name": "devices"}),
            "access_tech": ("group", g["access_tech"].astype(str)),
            "policy_hz": ("group", hz, {"units": "Hz", "long_name": "remote policy rate"}),
            "deadline": ("group", g["deadline"], {"units": "ms", "long_name": "deadline per step"}),
            "miss_target": ("group", g["miss_target"], {"units": "1", "long_name": "allowed miss probability"}),
        },
    )
    # uplink per access PoP for the best options
    pop = access_pop[g["device_row"]]
    up = np.bincount(pop, weights=res["uplink"][rows, best], minlength=sites.size)
    ds["site_uplink"] = xr.DataArray(up, dims=("site",), coords={"site": sites},
                                     attrs={"units": "bit/s", "long_name": "uplink of device loops per access site (best options)"})
    if util_out:
        u = next(iter(util_out.values()))          # the same pools for every option: their admitted load
        ds["utilisation"] = xr.DataArray(u, dims=("site", "pool"), coords={"pool": ["control", "consumer"]},
                                         attrs={"units": "1",
                                                "long_name": "utilisation of each site's pools by the groups assigned to them"})
    return ds


# ---------------------------------------------------------------------- analyses


def _summary(ds: xr.Dataset) -> pd.DataFrame:
    f = pd.DataFrame({"class": ds["class"].values, "devices": ds["devices"].values,
                      "meets": ds["best_meets_target"].values, "best": ds["best_option"].values})
    f["devices_meeting"] = f["devices"] * f["meets"]
    out = f.groupby("class").agg(devices=("devices", "sum"), devices_meeting=("devices_meeting", "sum"))
    out["share_meeting"] = out["devices_meeting"] / out["devices"].where(out["devices"] > 0)
    return out


def offload_analysis(scenario, classes=None, population: str = "auto", hz=None, options=None,
                     params: dict | None = None, queueing: bool = True) -> xr.Dataset:
    """Every device group x placement option: deadline misses, chunk stalls, safety stops, achieved rates, device
    energy per decision and uplink traffic; the best placement per group under its class's miss target.

    Parameters
    ----------
    classes : str or list, optional
        Device classes (ids of ``device_classes.csv``), a category (robot, drone, vehicle, consumer) or ``all``.
    population : {"auto", "scenario", "residents"}
        Which groups (module docstring).
    hz : float, optional
        Override every class's policy rate [Hz] (deadline = 1 / hz).
    options : list of str, optional
        Subset of ``device, edge, regional, hub, split``.
    params : dict, optional
        ``embodied_*`` parameter overrides.
    queueing : bool
        False: no wait at the sites (latency alone, unlimited accelerators), to separate what the network allows
        from what the installed capacity allows.
    """
    p = EmbodiedParams.from_scenario(scenario, **(params or {}))
    opts = tuple(OPTIONS if options is None else ([options] if isinstance(options, str) else options))
    bad = [o for o in opts if o not in OPTIONS]
    if bad:
        raise EmbodiedError(f"unknown option(s) {bad}; expected a subset of {', '.join(OPTIONS)}")
    g = build_groups(scenario, classes, population, hz)
    ds = evaluate(scenario, g, p, opts, queueing=bool(queueing))
    s = _summary(ds)
    ds.attrs.update({"analysis": "offload", "scenario": scenario.name, "params": repr(p),
                     "queueing": int(bool(queueing)),
                     "summary": "; ".join(f"{c}: {r.share_meeting:.0%} of {r.devices:,.0f} devices meet the target"
                                          for c, r in s.iterrows())})
    return ds


def deadlines_analysis(scenario, classes=None, population: str = "auto", hz=None, placement: str = "best",
                       method: str = "analytic", samples: int = 20000, seed: int = 0,
                       params: dict | None = None, queueing: bool = True) -> xr.Dataset:
    """Deadline misses per class and metro at one placement (``best`` or an option), device-weighted, with the
    Monte Carlo check (``method="monte_carlo"``: ``samples`` steps per group, Wilson 95% interval)."""
    if method not in ("analytic", "monte_carlo"):
        raise EmbodiedError(f"method must be 'analytic' or 'monte_carlo', got {method!r}")
    if placement != "best" and placement not in OPTIONS:
        raise EmbodiedError(f"placement must be best or one of {', '.join(OPTIONS)}, got {placement!r}")
    ds = offload_analysis(scenario, classes, population, hz, None, params, queueing)
    k = ds["best_option"].values if placement == "best" else np.full(ds.sizes["group"], placement)
    sel = {v: ds[v].sel(option=xr.DataArray(k, dims="group")).drop_vars("option")
           for v in ("miss_probability", "stall_probability", "safety_stops_per_hour", "decision_rate", "action_rate",
                     "latency_mean", "energy_per_decision", "serving_site", "meets_target")}
    out = xr.Dataset(sel)
    if placement == "best":             # a group placed but not admitted by any pool is not served
        out["meets_target"] = (out["meets_target"] & ds["admitted"]).assign_attrs(ds["meets_target"].attrs)
    out["placement"] = xr.DataArray(k.astype(str), dims="group")
    if method == "monte_carlo":
        p = EmbodiedParams.from_scenario(scenario, **(params or {}))
        out = _monte_carlo(scenario, out, ds, p, samples, seed, classes, population, hz, queueing)
    # class x metro, device-weighted
    f = pd.DataFrame({"class": ds["class"].values, "metro": ds["metro"].values, "devices": ds["devices"].values,
                      "miss": out["miss_probability"].values, "meets": out["meets_target"].values})
    f["w_miss"] = f["miss"] * f["devices"]
    f["w_meet"] = f["meets"] * f["devices"]
    agg = f.groupby(["class", "metro"]).agg(devices=("devices", "sum"), w_miss=("w_miss", "sum"),
                                            w_meet=("w_meet", "sum"))
    with np.errstate(invalid="ignore", divide="ignore"):
        agg["miss_probability"] = agg["w_miss"] / agg["devices"]
        agg["share_meeting"] = agg["w_meet"] / agg["devices"]
    grid = agg[["devices", "miss_probability", "share_meeting"]].to_xarray()
    for v, (u, ln) in {"devices": ("1", "devices"), "miss_probability": ("1", "device-weighted miss probability"),
                       "share_meeting": ("1", "share of devices meeting the class target")}.items():
        out[f"{v}_by_metro"] = grid[v].rename({"class": "device_class", "metro": "metro_name"}).assign_attrs(
            units=u, long_name=ln)
    out.attrs.update(ds.attrs)
    out.attrs.update({"analysis": "deadlines", "placement": placement, "method": method})
    return out


def _monte_carlo(scenario, out, ds, p, samples, seed, classes, population, hz, queueing):
    """Draw ``samples`` steps per group at its placement and compare with the analytic miss probability."""
    if int(samples) < 100:
        raise EmbodiedError(f"samples must be at least 100, got {samples!r}")
    g = build_groups(scenario, classes, population, hz)
    _, comp = evaluate(scenario, g, p, OPTIONS, return_components=True, queueing=queueing)
    rng = np.random.default_rng(seed)
    k = out["placement"].values
    mc = np.full(len(g), np.nan)
    lo = np.full(len(g), np.nan)
    hi = np.full(len(g), np.nan)
    for i in range(len(g)):                                   # one vectorised draw of `samples` steps per group
        c = comp[k[i]]
        if k[i] == "device":
            x = np.full(samples, c["const"][i])
        elif not np.isfinite(c["const"][i]) or c["p_wait"][i] >= 1 or (k[i] == "split" and c["share"][i] <= 0):
            x = np.full(samples, np.inf)
        else:
            x = sample_loop(access_dist(g["access_tech"][i]), c["const"][i], samples, rng, c["p_wait"][i],
                            c["theta"][i], c["p_ho"][i], c["ho"][i])
        if k[i] == "split":
            esc = rng.random(samples) < c["share"][i]
            x = np.where(esc, x, c["local"][i])
        miss = int((x > g["deadline"][i]).sum())
        mc[i] = miss / samples
        lo[i], hi[i] = wilson_interval(miss, samples)
    out["mc_miss_probability"] = xr.DataArray(mc, dims="group", attrs={"units": "1", "long_name": "Monte Carlo miss"})
    out["mc_low"] = xr.DataArray(lo, dims="group", attrs={"units": "1", "long_name": "95% interval, low"})
    out["mc_high"] = xr.DataArray(hi, dims="group", attrs={"units": "1", "long_name": "95% interval, high"})
    inside = (out["miss_probability"].values >= lo - 1e-12) & (out["miss_probability"].values <= hi + 1e-12)
    out.attrs["mc_inside_interval"] = float(inside.mean())
    out.attrs["mc_samples"] = int(samples)
    return out
