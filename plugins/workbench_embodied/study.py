"""The ``embodied_sites`` decision space: which candidate edge sites to open for device control loops.

Variables: one 0/1 per candidate site (``open_<site>``). A candidate is the access site of a metro whose devices
of the selected classes have no placement meeting their class's miss target on the scenario as it is
(``candidates="failing"``, the default) or every site but the hubs (``"all"``). Opening a site without
accelerators installs accelerators of type ``chip`` there as a ``metro_edge`` site; opening a site that has them
installs new ``chip`` accelerators for its device loops (its own reserved share goes back to other work; the
site's consumer pool keeps its chips but is timed on the new type, so keep consumer classes out of this study).
Either way the count is ``chips_per_site``, by default sized to the loops of the devices entering the network at that site at 70%
utilisation.

Evaluation: the one-way latencies from every device group to every existing serving site and every candidate
are computed once over the link graph (the context). A candidate solution re-runs the offload evaluation with
the new pools (all options, the same admission as the ``offload`` analysis; miss probability only), about
0.1 s on china-edwc.

Objectives: ``embodied_devices_missing`` [1] (devices whose assigned placement misses their class's target, as
``offload`` reports them: ``best_meets_target`` false),
``embodied_sites_opened`` [1] and ``embodied_chips_added`` [1].
"""

from __future__ import annotations

import re
from collections import OrderedDict

import numpy as np

from .dist import EmbodiedError

__all__ = ["build_space", "chips_added", "decode", "devices_missing", "evaluate_solution", "rank_sites", "sample", "sites_opened"]

_MEMO: OrderedDict = OrderedDict()
_MEMO_MAX = 4096


def build_space(scenario, classes="robot", hz=None, candidates: str = "failing", chip: str = "ascend-910c",
                chips_per_site="auto", target_utilisation: float = 0.7, params: dict | None = None,
                queueing: bool = True):
    """Build the space over ``scenario`` (groups, pools and latencies computed once here).

    ``chips_per_site``: an integer for every opened site, or ``"auto"``: enough for the loops of the devices that
    enter the network at that site to load it to ``target_utilisation`` (at least one).
    """
    from workbench.optimize.space import Binary, Space
    from workbench.paths import group_site_latency

    from .analyses import build_groups, evaluate, site_pools
    from .model import EmbodiedParams

    if candidates not in ("failing", "all"):
        raise EmbodiedError(f"candidates must be 'failing' or 'all', got {candidates!r}")
    if not (chips_per_site == "auto" or (isinstance(chips_per_site, (int, np.integer)) and chips_per_site >= 1)):
        raise EmbodiedError(f"chips_per_site must be 'auto' or a positive integer, got {chips_per_site!r}")
    if not 0 < float(target_utilisation) < 1:
        raise EmbodiedError(f"target_utilisation must be between 0 and 1, got {target_utilisation!r}")
    chip_ids = scenario["chip"]["chip"].values.astype(str).tolist()
    if chip not in chip_ids:
        raise EmbodiedError(f"chip {chip!r} is not in the scenario's chip catalogue ({', '.join(chip_ids)})")
    p = EmbodiedParams.from_scenario(scenario, **(params or {}))
    g = build_groups(scenario, classes, "auto", hz)
    pools = site_pools(scenario, p)
    base = evaluate(scenario, g, p, queueing=queueing)
    site = scenario["site"]
    tier = site["tier"].values.astype(str)
    metro = site["metro"].values.astype(str) if "metro" in site else np.full(tier.size, "")
    free = ~pools["serving"].to_numpy()
    if candidates == "failing":
        from workbench.paths import group_access_site

        pop = group_access_site(scenario, warn=False)[g["device_row"]]
        failing = ~base["best_meets_target"].values
        cand_mask = np.zeros(tier.size, bool)
        cand_mask[np.unique(pop[failing])] = True
    else:
        cand_mask = tier != "hub"
    cand = np.flatnonzero(cand_mask)
    if cand.size == 0:
        raise EmbodiedError(f"no candidate sites on scenario {scenario.name!r} (candidates={candidates!r}): every "
                            f"device group already meets its target, or every site already has accelerators")
    serving = np.flatnonzero(pools["serving"].to_numpy())
    cols = np.union1d(serving, cand)
    lat, idx = group_site_latency(scenario, sites=cols, include_access=False)
    oneway_all = np.full((lat.shape[0], tier.size), np.inf)
    oneway_all[:, idx] = lat
    ids = site["site"].values.astype(str)
    kinds = np.full(cand.size, chip, dtype=object)
    chips = _size(scenario, g, p, cand, kinds, chips_per_site, float(target_utilisation))
    names = [re.sub(r"\W", "_", f"open_{s}") for s in ids[cand]]
    variables = tuple(Binary(n, long_name=f"open {ids[c]} ({metro[c] or tier[c]})") for n, c in zip(names, cand))
    context = {"groups": g, "params": p, "pools": pools, "oneway_all": oneway_all, "candidates": cand,
               "candidate_ids": tuple(ids[cand].tolist()), "chip_kind": kinds, "chips": chips,
               "existing": ~free[cand],
               "devices": g["devices"], "queueing": bool(queueing),
               "scenario": _Light(scenario),
               "token": _fingerprint(g, pools, oneway_all, cand, chips, scenario["chip"], p, queueing)}
    return Space(variables, context=context, decode=decode, sample=sample, name="embodied_sites",
                 attrs={"scenario": scenario.name, "classes": str(classes), "chip": chip,
                        "chips_per_site": str(chips_per_site), "candidates": candidates})


def _size(scenario, g, p, cand, kinds, chips_per_site, target) -> np.ndarray:
    """Accelerators per candidate (of type ``kinds[i]``): fixed, or sized to the loops entering the network there
    (``auto``)."""
    if chips_per_site != "auto":
        return np.full(cand.size, float(chips_per_site))
    from workbench.paths import group_access_site

    from .model import operating_point

    pop = group_access_site(scenario, warn=False)[g["device_row"]]
    share = np.where(np.isfinite(g["active_share"]), g["active_share"], p.active_share)
    lam = g["devices"] * share * g["policy_hz"]
    need = np.zeros(cand.size)
    where = {c: j for j, c in enumerate(cand.tolist())}
    for kind in set(kinds.tolist()):
        ops = {m: operating_point(m, kind, p, scenario["chip"]) for m in set(g["model"])}
        busy = lam * np.array([ops[m][1] / 1e3 / ops[m][0] for m in g["model"]])   # chips kept busy
        per_site = np.bincount(pop, weights=busy, minlength=scenario["site"].sizes["site"])
        for c, j in where.items():
            if kinds[j] == kind:
                need[j] = per_site[c]
    return np.maximum(np.ceil(need / target), 1.0)


def _fingerprint(g, pools, oneway_all, cand, chips, chip_ds, p, queueing) -> str:
    """A digest of everything a solution's evaluation reads (the memo must follow an edited scenario that keeps
    its name)."""
    import hashlib

    h = hashlib.sha256()
    h.update(pd_bytes(g.frame) + pd_bytes(pools))
    for a in (oneway_all, cand, chips):
        h.update(np.ascontiguousarray(a).tobytes())
    for v in sorted(chip_ds.data_vars):
        if chip_ds[v].dtype.kind == "f":
            h.update(v.encode() + np.ascontiguousarray(chip_ds[v].values).tobytes())
    h.update(repr((p, bool(queueing))).encode())
    return h.hexdigest()


def pd_bytes(frame) -> bytes:
    """Stable bytes of a DataFrame's values (for fingerprints)."""
    return frame.to_csv(index=False).encode()


class _Light:
    """What :func:`workbench_embodied.analyses.evaluate` reads from a scenario, without the scenario (picklable)."""

    def __init__(self, scenario):
        from workbench.paths import group_access_site

        self.name = scenario.name
        self._tables = {"chip": scenario["chip"], "device": scenario["device"][["endpoints"]]}
        self.pop = group_access_site(scenario, warn=False)

    def __getitem__(self, key):
        return self._tables[key]


def sample(context, random_state, n: int) -> np.ndarray:
    """Initial population: row ``i`` opens each candidate with probability ``i / n`` (from none to all), so the
    front's cheap end is explored from the start (uniform 0/1 draws would open half the candidates)."""
    k = len(context["candidates"])
    share = np.linspace(0.0, 1.0, n)[:, None]
    return (random_state.random((n, k)) < share).astype(float)


def rank_sites(scenario, max_sites: int | None = 50, **space_params):
    """The greedy answer to "which sites, in which order": open, one at a time, the candidate that fixes the most
    devices given the sites already opened (lazy greedy: a candidate's earlier gain bounds its gain now, so only
    the leaders are re-evaluated). A transparent companion to the NSGA-II study.

    Parameters
    ----------
    max_sites : int, optional
        Stop after this many sites (None: until no candidate fixes another device).
    **space_params
        As :func:`build_space` (``classes``, ``chip``, ``chips_per_site``, ...).

    Returns
    -------
    pandas.DataFrame
        One row per opened site in order: ``site``, ``metro``, ``chips`` [accelerators], ``fixed`` [devices fixed
        by this site given the ones above], ``missing_after`` [devices], ``chips_after`` [accelerators];
        ``.attrs["missing_before"]`` and ``.attrs["evaluations"]``.
    """
    import heapq

    import pandas as pd

    sp = build_space(scenario, **space_params)
    ctx = sp.context
    k = len(ctx["candidates"])
    before = evaluate_solution(ctx, ())["missing"]
    heap = [(-np.inf, i) for i in range(k)]           # (-upper bound of the gain, candidate)
    opened, rows, current, evals = [], [], before, 1
    limit = k if max_sites is None else min(int(max_sites), k)
    while heap and len(opened) < limit:
        bound, i = heapq.heappop(heap)
        gain = current - evaluate_solution(ctx, tuple(sorted(opened + [i])))["missing"]
        evals += 1
        if heap and gain < -heap[0][0] - 1e-9:         # no longer the leader: re-queue with its fresh gain
            heapq.heappush(heap, (-gain, i))
            continue
        if gain <= 1e-9:
            break
        opened.append(i)
        current -= gain
        rows.append((i, gain, current))
    site = scenario["site"]
    metro = site["metro"].values.astype(str)[ctx["candidates"]] if "metro" in site else np.full(k, "")
    idx = np.array([r[0] for r in rows], np.int64)
    out = pd.DataFrame({"site": np.asarray(ctx["candidate_ids"])[idx], "metro": metro[idx],
                        "chips": ctx["chips"][idx], "fixed": [r[1] for r in rows],
                        "missing_after": [r[2] for r in rows], "chips_after": np.cumsum(ctx["chips"][idx])})
    out.attrs["missing_before"] = before
    out.attrs["evaluations"] = evals
    out.attrs["units"] = {"chips": "accelerators", "fixed": "devices", "missing_after": "devices",
                          "chips_after": "accelerators"}
    return out


def decode(context, X) -> list:
    """Rows of X -> tuples of opened candidate indices (into ``context["candidates"]``)."""
    X = np.atleast_2d(np.asarray(X, float))
    return [tuple(np.flatnonzero(row >= 0.5).tolist()) for row in X]


def evaluate_solution(context, opened: tuple) -> dict:
    """``{"missing": devices without a placement meeting the target, "opened": sites}`` (memoised per process)."""
    key = (context["token"], opened)
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    from .analyses import evaluate

    pools = context["pools"].copy()
    o = np.asarray(opened, np.int64)
    grow = o[context["existing"][o]]
    new = o[~context["existing"][o]]
    if grow.size:          # an existing site: new accelerators serve its device loops (its own go to other work)
        s = context["candidates"][grow]
        pools.loc[s, "chip"] = context["chip_kind"][grow]
        pools.loc[s, "chips"] = context["chips"][grow]
    if new.size:
        s = context["candidates"][new]
        pools.loc[s, "tier"] = "metro_edge"
        pools.loc[s, "chip"] = context["chip_kind"][new]
        pools.loc[s, "chips"] = context["chips"][new]
        pools.loc[s, "chips_consumer"] = 0.0
        pools.loc[s, "serving"] = True
    ds = evaluate(context["scenario"], context["groups"], context["params"], pools=pools,
                  oneway_all=context["oneway_all"], queueing=context["queueing"], miss_only=True,
                  access_pop=context["scenario"].pop)
    meets = ds["best_meets_target"].values
    out = {"missing": float((context["devices"] * ~meets).sum()), "opened": float(len(opened)),
           "chips": float(context["chips"][list(opened)].sum())}
    _MEMO[key] = out
    if len(_MEMO) > _MEMO_MAX:
        _MEMO.popitem(last=False)
    return out


def devices_missing(context, d) -> np.ndarray:
    """Devices of the selected classes with no placement meeting their class's miss target [1]."""
    return np.array([evaluate_solution(context, s)["missing"] for s in d])


def sites_opened(context, d) -> np.ndarray:
    """Candidate sites opened [1]."""
    return np.array([float(len(s)) for s in d])


def chips_added(context, d) -> np.ndarray:
    """Accelerators installed at the opened sites [1]."""
    return np.array([float(context["chips"][list(s)].sum()) for s in d])
