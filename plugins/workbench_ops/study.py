"""The ``ops_autonomy`` decision space: autonomy level per domain x guardrail set.

Variables: ``level_transport``, ``level_ip``, ``level_dc``, ``level_radio`` (integers 0-5) and one 0/1
variable per guardrail of ``datasets/ops/guardrails.csv``. The context holds the scenario's demands and
paths (:class:`workbench_ops.system.Base`, built once on the client) and the ``ops_*`` parameters; each
candidate builds its fault system (manipulated agents included) and runs the analytic engine (~15 ms on
china-edwc). The three objectives of one candidate share one evaluation (memoised per process).

Objectives: ``ops_unavailability`` [1] (1 - traffic-weighted availability), ``ops_cost`` [CNY/a] (people
hours x wage + agents + guardrails), ``ops_damage`` [min/a] (customer-minutes lost to manipulated agents).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pandas as pd

from .model import DOMAINS, OpsParams, guardrail_names

__all__ = ["build_space", "cost", "damage", "decode", "evaluate", "unavailability"]

_MEMO: OrderedDict = OrderedDict()
_MEMO_MAX = 4096


def build_space(scenario, demands: str = "auto", protection: str | None = None, params: dict | None = None,
                min_level: int = 0, max_level: int = 5, seed: int = 0):
    """Build the space over ``scenario`` (demands and paths computed once here)."""
    from workbench.optimize.space import Binary, Integer, Space

    from .system import build_base

    p = OpsParams.from_scenario(scenario, **(params or {}))
    base = build_base(scenario, demands=demands, protection=protection, params=p)
    names = guardrail_names()
    variables = tuple(Integer(f"level_{d}", min_level, max_level, long_name=f"autonomy level, {d}") for d in DOMAINS) \
        + tuple(Binary(f"guard_{g}", long_name=f"guardrail {g.replace('_', ' ')}") for g in names)
    context = {"base": base, "params": p, "guardrails": tuple(names), "seed": seed,
               "token": _fingerprint(base)}
    return Space(variables, context=context, decode=decode, name="ops_autonomy",
                 attrs={"scenario": scenario.name, "demands": demands})


def _fingerprint(base) -> str:
    """A digest of the demands and paths (the memo key must not depend on an object's id)."""
    import dataclasses
    import hashlib

    h = hashlib.sha256()
    for f in dataclasses.fields(base):                 # every field: arrays, sparse paths, SRG lists, agents
        v = getattr(base, f.name)
        h.update(f.name.encode())
        if hasattr(v, "indptr"):
            for a in (v.indptr, v.indices, v.data):
                h.update(np.ascontiguousarray(a).tobytes())
        elif isinstance(v, np.ndarray):
            h.update(np.ascontiguousarray(v).tobytes() if v.dtype.kind not in "UO" else "\x1f".join(map(str, v)).encode())
        elif isinstance(v, pd.DataFrame):
            h.update(repr(v.to_dict("list")).encode())
        else:
            h.update(repr(v).encode())
    return h.hexdigest()


def decode(context, X) -> list:
    """Rows of X -> [(levels dict, guardrail tuple)]."""
    X = np.atleast_2d(np.asarray(X, float))
    nd = len(DOMAINS)
    out = []
    for row in X:
        lv = {d: int(np.clip(np.rint(row[i]), 0, 5)) for i, d in enumerate(DOMAINS)}
        gs = tuple(g for g, x in zip(context["guardrails"], row[nd:]) if x >= 0.5)
        out.append((lv, gs))
    return out


def evaluate(context, levels: dict, guardrails: tuple) -> dict:
    """(unavailability, cost, damage) of one candidate (memoised per process)."""
    key = (context["token"], context["params"], context["seed"], tuple(levels[d] for d in DOMAINS), guardrails)
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    from .analyses import operations
    from .engine import MIN_PER_YEAR, analytic
    from .system import build_system

    base = context["base"]
    sysA = build_system(base, levels, guardrails, context["params"], attacks=True, seed=context["seed"])
    res = analytic(sysA)
    u = res["unavailability"]
    u0 = analytic(sysA.subsystem(sysA.fault_class != "attack"))["unavailability"]
    w = base.traffic_bps if base.traffic_bps.sum() > 0 else np.ones_like(u)
    out = {"unavailability": float((w * u).sum() / w.sum()),
           "cost": operations(sysA, res["failures_per_year"])["operating_cost_cny_per_year"],
           "damage": float((base.people * np.maximum(u - u0, 0)).sum() * MIN_PER_YEAR)}
    _MEMO[key] = out
    if len(_MEMO) > _MEMO_MAX:
        _MEMO.popitem(last=False)
    return out


def _column(context, d, key) -> np.ndarray:
    return np.array([evaluate(context, lv, gs)[key] for lv, gs in d])


def unavailability(context, d) -> np.ndarray:
    """1 - traffic-weighted availability incl. manipulated agents [1]."""
    return _column(context, d, "unavailability")


def cost(context, d) -> np.ndarray:
    """Operating cost [CNY/a]."""
    return _column(context, d, "cost")


def damage(context, d) -> np.ndarray:
    """Expected customer-minutes per year lost to manipulated agents [min/a]."""
    return _column(context, d, "damage")
