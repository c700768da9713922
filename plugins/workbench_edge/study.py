"""Decision space and objectives for studies: how to deploy a large model behind an edge small model.

Space ``edge_deployment`` (no scenario needed): for the large (hub) tier the chip type, number format,
tensor-parallel degree and operating batch (a fraction of the largest batch that fits), and the share
of requests the edge small model escalates to it (the cascade of :mod:`workbench_edge.cascade`). The
space precomputes, once on the client, the serving figures of every (chip, dtype, tp) combination on
a batch grid with :func:`workbench_edge.serving.serving`; objectives are table look-ups, vectorised
over candidates (picklable module-level functions, no plugin manager).

Objectives (per request): ``inference_energy`` [J] (chip energy, both tiers), ``inference_latency`` [ms]
(mean processing latency, network excluded), ``inference_quality`` [1] (the cascade's quality proxy,
maximised), ``inference_chips_per_rps`` [1/(request/s)] (large-tier chips needed per request/s).
Constraint ``inference_tpot_slo`` [s]: large-tier TPOT minus the SLO (<= 0 feasible; infeasible
configurations get +1 s).
"""

from __future__ import annotations

import numpy as np

from . import cascade as _cascade
from .catalogue import EdgeError, chip_spec, model_spec
from .serving import ServingParams, serving, summary

__all__ = ["build_space", "chips_per_rps", "decode", "energy", "latency", "quality", "tpot_slo"]

TPS = (1, 2, 4, 8)
DTYPES = ("bf16", "fp8")
BATCH_GRID = np.unique(np.round(np.geomspace(1, 2048, 32))).astype(np.int64)


def build_space(large_model: str = "llama-3.1-70b", small_model: str = "llama-3.1-8b",
                chips=("h100-sxm", "h200-sxm", "b200", "mi300x", "ascend-910c"), small_chip: str = "h100-sxm",
                isl: int = 1000, osl: int = 500, tpot_slo_s: float = 0.04, ranking: float = 0.7):
    """Build the ``edge_deployment`` space (see module docstring).

    Parameters
    ----------
    large_model, small_model : str
        Catalogue ids.
    chips : sequence of str
        Candidate chip ids for the large tier.
    small_chip : str
        Chip of the small tier (one chip, fp8 if supported else bf16, batch 32 or its maximum).
    isl, osl : int
        Tokens per request [1].
    tpot_slo_s : float
        Large-tier TPOT limit [s] (default 40 ms: MLPerf llama2-70b-interactive).
    ranking : float
        Confidence ranking quality of the cascade [1].

    Returns
    -------
    workbench.optimize.space.Space
    """
    from workbench.optimize.space import Choice, Real, Space

    params = ServingParams()
    chips = tuple(chips)
    shape = (len(chips), len(DTYPES), len(TPS), BATCH_GRID.size)
    energy = np.full(shape, np.nan)
    lat = np.full(shape, np.nan)
    tpot = np.full(shape, np.nan)
    rps_chip = np.full(shape, np.nan)
    nmax = np.zeros(shape[:3], np.int64)
    for i, chip in enumerate(chips):
        c = chip_spec(chip)
        for j, dt in enumerate(DTYPES):
            for k, tp in enumerate(TPS):
                try:
                    ds = serving(large_model, c, tp, dt, isl, osl, tp=tp, batch=BATCH_GRID, params=params)
                except EdgeError:
                    continue
                nmax[i, j, k] = int(ds["max_batch"])
                energy[i, j, k] = ds["energy_per_request"].values
                lat[i, j, k] = (ds["ttft"] + (osl - 1) * ds["tpot"]).values * 1e3
                tpot[i, j, k] = ds["tpot"].values
                rps_chip[i, j, k] = ds["request_rate"].values / tp
    sm = model_spec(small_model)
    sc = chip_spec(small_chip)
    sdt = "fp8" if np.isfinite(sc.flops.get("fp8", np.nan)) and "fp8" in sm.dtypes else "bf16"
    sds = serving(sm, sc, 1, sdt, isl, osl)
    sb = min(int(sds["max_batch"]), 32)
    if sb < 1:
        raise EdgeError(f"{small_model} does not fit one {small_chip}")
    s = summary(serving(sm, sc, 1, sdt, isl, osl, batch=[sb]), sb)
    context = {"energy": energy, "latency": lat, "tpot": tpot, "rps_chip": rps_chip, "nmax": nmax,
               "small_energy": s["power"] / s["request_rate"],
               "small_latency": 1e3 * (s["ttft"] + (osl - 1) * s["tpot"]),
               "small_quality": sm.quality, "large_quality": model_spec(large_model).quality,
               "ranking": ranking, "tpot_slo_s": tpot_slo_s, "batch_grid": BATCH_GRID}
    variables = (Choice("chip", chips, long_name="large-tier chip"), Choice("dtype", DTYPES, long_name="number format"),
                 Choice("tp", TPS, long_name="tensor-parallel degree"),
                 Real("batch_fraction", 0.0, 1.0, long_name="operating batch / largest batch"),
                 Real("escalation_share", 0.0, 1.0, long_name="share of requests escalated to the large model"))
    return Space(variables, context=context, decode=decode, name="edge_deployment",
                 attrs={"large_model": large_model, "small_model": small_model, "isl": isl, "osl": osl})


def decode(context, X) -> dict:
    """Encoded candidates -> table indices ``i, j, k, b`` and the ``share`` (vectorised)."""
    X = np.atleast_2d(np.asarray(X, float))
    i = np.clip(np.rint(X[:, 0]).astype(np.int64), 0, context["energy"].shape[0] - 1)
    j = np.clip(np.rint(X[:, 1]).astype(np.int64), 0, context["energy"].shape[1] - 1)
    k = np.clip(np.rint(X[:, 2]).astype(np.int64), 0, context["energy"].shape[2] - 1)
    grid = context["batch_grid"]
    nmax = context["nmax"][i, j, k]
    top = np.searchsorted(grid, nmax, side="right") - 1                   # last grid batch that fits
    b = np.clip(np.rint(X[:, 3] * np.maximum(top, 0)).astype(np.int64), 0, grid.size - 1)
    return {"i": i, "j": j, "k": k, "b": b, "fits": top >= 0, "share": np.clip(X[:, 4], 0.0, 1.0)}


def _large(context, d, key):
    v = context[key][d["i"], d["j"], d["k"], d["b"]]
    return np.where(d["fits"], v, np.nan)


def energy(context, d) -> np.ndarray:
    """Chip energy per request of the cascade [J] (``probe="full"``); NaN-safe: infeasible -> inf."""
    v = _cascade.cascade_metric(d["share"], context["small_energy"], _large(context, d, "energy"))
    return np.where(np.isfinite(v), v, np.inf)


def latency(context, d) -> np.ndarray:
    """Mean processing latency per request of the cascade [ms] (network excluded)."""
    v = _cascade.cascade_metric(d["share"], context["small_latency"], _large(context, d, "latency"))
    return np.where(np.isfinite(v), v, np.inf)


def quality(context, d) -> np.ndarray:
    """Quality proxy of the cascade [1] (maximised)."""
    return _cascade.quality_proxy(d["share"], context["small_quality"], context["large_quality"], context["ranking"])


def chips_per_rps(context, d) -> np.ndarray:
    """Large-tier chips per request/s of total demand: ``share / (requests/s per chip)`` [1/(request/s)]."""
    v = d["share"] / _large(context, d, "rps_chip")
    return np.where(np.isfinite(v), v, np.inf)


def tpot_slo(context, d) -> np.ndarray:
    """Large-tier TPOT minus the SLO [s]; <= 0 is feasible, infeasible configurations give +1."""
    v = _large(context, d, "tpot") - context["tpot_slo_s"]
    return np.where(np.isfinite(v), v, 1.0)
