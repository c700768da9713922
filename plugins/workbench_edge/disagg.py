"""Distributed inference across sites: prefill/decode disaggregation and cross-site pipelines.

**Disaggregation.** Prefill runs at site P (e.g. a compute-rich western cluster), decode at site D
near the user; the KV cache of the prompt crosses the optical link between them:
``bytes = isl x KV bytes per token`` and ``time = bytes x 8 / link bandwidth + one-way propagation``.
Compared with serving everything at D (**colocated**, where prefills stall the decode batch):

* TTFT grows by the KV transfer plus the detour: the prompt travels user -> P and the KV P -> D
  (``2 x`` the P-D one-way latency in all, the user being next to D);
* TPOT falls to the pure decode step (no prefill stalls), and decode chips serve more requests;
* the link must carry ``request rate x bytes``: at most ``link bandwidth / bytes`` requests/s.

It **pays off** where the disaggregated TTFT meets the SLO and the decode side gains (lower TPOT,
or more requests per decode chip) - typically for long prompts and short distances/fast links.

**Cross-site pipeline.** The layers are split over ``n`` sites (stages); every decode step crosses
``n - 1`` links one way, carrying ``batch x hidden x 2 B`` of activations. TPOT =
``sum of stage step times + (n - 1) x (one-way latency + bytes / bandwidth)``. It pays off when the
model does not fit one site's chips at all (single-site infeasible) and the pipeline still meets the
TPOT SLO.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from workbench.latency import DEFAULT_HOP_DELAY_MS, FIBRE_DELAY_MS_PER_KM

from .catalogue import EdgeError, chip_spec, model_spec
from .collectives import tp_all_reduce_s
from .serving import ServingParams, serving

__all__ = ["disaggregation", "kv_transfer_s", "link_one_way_s", "pipeline_across_sites"]


def link_one_way_s(distance_km, hop_delay_ms: float = DEFAULT_HOP_DELAY_MS) -> np.ndarray:
    """One-way latency of an optical link of a given route length [s].

    Parameters
    ----------
    distance_km : array_like
        Fibre route length [km].
    hop_delay_ms : float
        Equipment delay (transponders) [ms]; default 0.1 ms (core latency engine, assumed).

    Returns
    -------
    ndarray
        [s].
    """
    return (np.asarray(distance_km, float) * FIBRE_DELAY_MS_PER_KM + hop_delay_ms) / 1e3


def kv_transfer_s(context_tokens, kv_bytes_token, bandwidth_bps, distance_km,
                  hop_delay_ms: float = DEFAULT_HOP_DELAY_MS) -> np.ndarray:
    """Time to ship a KV cache over an inter-site link: ``bytes x 8 / bandwidth + propagation``.

    Parameters
    ----------
    context_tokens : array_like
        Tokens whose KV is shipped [1].
    kv_bytes_token : array_like
        [B].
    bandwidth_bps : array_like
        Link bandwidth available to the transfer [bit/s].
    distance_km : array_like
        Route length [km].
    hop_delay_ms : float
        Equipment delay [ms].

    Returns
    -------
    ndarray
        [s].

    Examples
    --------
    1,000 tokens of Llama 3 70B in BF16 (327.68 MB) over 400 Gbit/s and 1,000 km:
    2.62144 Gbit / 400 Gbit/s = 6.55 ms, plus 4.9 ms + 0.1 ms = 11.55 ms.

    >>> round(float(kv_transfer_s(1000, 327680, 400e9, 1000)) * 1e3, 2)
    11.55
    """
    size_bits = np.asarray(context_tokens, float) * np.asarray(kv_bytes_token, float) * 8.0
    return size_bits / np.asarray(bandwidth_bps, float) + link_one_way_s(distance_km, hop_delay_ms)


def _best_batch(ds: xr.Dataset, tpot_slo_s: float) -> int:
    ok = ds["feasible"].values & (ds["tpot"].values <= tpot_slo_s)
    if not ok.any():
        return 0
    return int(ds["batch"].values[ok].max())


def disaggregation(model, prefill_chip, decode_chip, *, prefill_count: int = 8, decode_count: int = 8,
                   dtype: str = "fp8", isl: int = 8000, osl: int = 500, tp: int | None = None,
                   distance_km=(0, 100, 300, 1000, 2000), bandwidth_bps=(100e9, 400e9, 1.6e12),
                   ttft_slo_s: float = 2.0, tpot_slo_s: float = 0.2, params: ServingParams | None = None,
                   chips=None, one_way_s=None) -> xr.Dataset:
    """Colocated serving at the decode site versus prefill/decode disaggregation across a link.

    Parameters
    ----------
    model : str or ModelSpec
    prefill_chip, decode_chip : str or ChipSpec
        Chips at the prefill site P and the decode site D.
    prefill_count, decode_count : int
        Chips in each pool [1].
    dtype : str
    isl, osl : int
        Tokens per request [1].
    tp : int, optional
        Tensor-parallel degree in both pools (default: the pool size).
    distance_km : array_like
        P-D route lengths to evaluate [km].
    bandwidth_bps : array_like
        P-D link bandwidths to evaluate [bit/s].
    one_way_s : array_like, optional
        One-way P-D latency for each distance [s] (a path over the link graph, with all its equipment);
        default: one link of that length (:func:`link_one_way_s`).
    ttft_slo_s, tpot_slo_s : float
        SLOs [s] (defaults: MLPerf llama2-70b server limits, 2 s and 200 ms).
    params : ServingParams, optional
    chips : xr.Dataset, optional

    Returns
    -------
    xr.Dataset
        Over ``distance`` x ``bandwidth``: ``ttft_disagg`` [s], ``kv_transfer`` [s],
        ``link_request_limit`` [request/s], ``pays_off`` (bool); scalars ``ttft_colocated``,
        ``tpot_colocated``, ``tpot_disagg`` [s], ``requests_per_decode_chip_colocated`` /
        ``_disagg`` [request/s], ``kv_bytes`` [B].
    """
    m = model_spec(model)
    dist = np.atleast_1d(np.asarray(distance_km, float))
    bw = np.atleast_1d(np.asarray(bandwidth_bps, float))
    if np.any(dist < 0) or np.any(bw <= 0):
        raise EdgeError("distances must be >= 0 km and bandwidths > 0 bit/s")
    co = serving(m, decode_chip, decode_count, dtype, isl, osl, tp=tp, params=params, chips=chips)
    b_co = _best_batch(co, tpot_slo_s)
    pre = serving(m, prefill_chip, prefill_count, dtype, isl, osl, tp=tp, params=params, chips=chips)
    if b_co < 1 or int(pre["max_batch"]) < 1:
        raise EdgeError(f"{m.id} in {dtype} cannot be served within TPOT {tpot_slo_s} s on {decode_count} x "
                        f"{chip_spec(decode_chip, chips).id} or does not fit {prefill_count} x "
                        f"{chip_spec(prefill_chip, chips).id}")
    row = co.sel(batch=b_co)
    # decode pool without prefills: the pure decode step sets TPOT; find its best batch
    steps = co["decode_step"]
    ok = co["feasible"].values & (steps.values <= tpot_slo_s)
    b_dis = int(co["batch"].values[ok].max())
    tpot_dis = float(steps.sel(batch=b_dis))
    replicas_d = int(co.attrs["replicas"])
    rate_dis_decode = replicas_d * b_dis / (osl * tpot_dis)             # requests/s the decode pool finishes
    kvb = float(co["kv_bytes_per_token"])
    kv_bytes = isl * kvb
    if one_way_s is None:
        one_way = link_one_way_s(dist)
    else:
        one_way = np.atleast_1d(np.asarray(one_way_s, float))
        if one_way.shape != dist.shape or np.any(one_way < 0) or not np.all(np.isfinite(one_way)):
            raise EdgeError("one_way_s needs one finite latency >= 0 s per distance")
    transfer = kv_bytes * 8.0 / bw[None, :] + one_way[:, None]
    ttft_dis = float(pre["prefill_time"]) + transfer + one_way[:, None]
    link_limit = bw[None, :] / (kv_bytes * 8.0) + 0.0 * dist[:, None]
    gain = (tpot_dis < float(row["tpot"])) or (rate_dis_decode > float(row["request_rate"]))
    pays = (ttft_dis <= ttft_slo_s) & gain & (link_limit >= rate_dis_decode)
    dims = ("distance", "bandwidth")
    ds = xr.Dataset(
        {
            "ttft_disagg": (dims, ttft_dis, {"units": "s", "long_name": "TTFT, disaggregated"}),
            "kv_transfer": (dims, transfer, {"units": "s", "long_name": "KV-cache transfer time"}),
            "link_request_limit": (dims, link_limit, {"units": "request/s",
                                                      "long_name": "requests/s the link can carry"}),
            "pays_off": (dims, pays, {"units": "1", "long_name": "disaggregation pays off"}),
            "ttft_colocated": ((), float(row["ttft"]), {"units": "s", "long_name": "TTFT, colocated"}),
            "tpot_colocated": ((), float(row["tpot"]), {"units": "s", "long_name": "TPOT, colocated"}),
            "tpot_disagg": ((), tpot_dis, {"units": "s", "long_name": "TPOT, disaggregated (pure decode)"}),
            "requests_per_decode_chip_colocated": ((), float(row["request_rate"]) / decode_count,
                                                   {"units": "request/s", "long_name": "requests/s per decode chip, colocated"}),
            "requests_per_decode_chip_disagg": ((), rate_dis_decode / decode_count,
                                                {"units": "request/s", "long_name": "requests/s per decode chip, disaggregated"}),
            "kv_bytes": ((), kv_bytes, {"units": "B", "long_name": "KV cache shipped per request"}),
        },
        coords={"distance": ("distance", dist, {"units": "km", "long_name": "prefill-decode route length"}),
                "bandwidth": ("bandwidth", bw, {"units": "bit/s", "long_name": "prefill-decode link bandwidth"})},
    )
    ds.attrs.update({"model": m.id, "dtype": dtype, "isl": isl, "osl": osl, "batch_colocated": b_co,
                     "batch_disagg": b_dis, "ttft_slo_s": ttft_slo_s, "tpot_slo_s": tpot_slo_s})
    return ds


def pipeline_across_sites(model, chip, chips_per_site: int, n_sites: int = 2, *, dtype: str = "bf16",
                          isl: int = 1000, osl: int = 1000, batch: int = 16, distance_km=(0, 50, 200, 1000),
                          bandwidth_bps: float = 400e9, tpot_slo_s: float = 0.2,
                          params: ServingParams | None = None, chips=None) -> xr.Dataset:
    """A model's layers split over ``n_sites`` sites (pipeline parallelism over optical links).

    Each site holds ``1 / n_sites`` of the layers on ``chips_per_site`` chips (tensor parallel inside
    the site). Per decode step every stage runs for its share of the single-site step time and the
    activations (``batch x hidden x 2 B``) cross ``n_sites - 1`` links.

    Parameters
    ----------
    model, chip
        Catalogue ids or specs.
    chips_per_site : int
        [1].
    n_sites : int
        Pipeline stages (sites) [1].
    dtype : str
    isl, osl : int
        [1].
    batch : int
        Sequences per micro-batch [1].
    distance_km : array_like
        Route length between consecutive sites [km].
    bandwidth_bps : float
        Link bandwidth [bit/s].
    tpot_slo_s : float
        [s].
    params, chips
        As in :func:`serving`.

    Returns
    -------
    xr.Dataset
        Over ``distance``: ``tpot_pipeline`` [s], ``link_time`` [s] (per step, all links),
        ``meets_slo`` (bool); scalars ``single_site_fits`` (the model fits one site's chips),
        ``pipeline_fits``, ``tpot_single_site`` [s] (NaN if it does not fit), ``pays_off`` per distance.
    """
    m = model_spec(model)
    if n_sites < 2:
        raise EdgeError("a cross-site pipeline needs n_sites >= 2")
    dist = np.atleast_1d(np.asarray(distance_km, float))
    single = serving(m, chip, chips_per_site, dtype, isl, osl, batch=[batch], params=params, chips=chips)
    whole = serving(m, chip, chips_per_site * n_sites, dtype, isl, osl, batch=[batch], params=params, chips=chips)
    fits_single = int(single["max_batch"]) >= batch
    # Stage k holds L/n layers on chips_per_site chips: its compute and memory time equal the step of
    # one replica over all n x chips_per_site chips (same work per chip) without that replica's
    # all-reduces; the n stages run in series, plus the all-reduces inside each site (2 per layer).
    step_all = float((whole["decode_step"] - whole["decode_comm"]).sel(batch=batch))
    stage_sum = step_all * n_sites                    # n stages in series, each 1/n of the work on 1/n of the chips
    c = chip_spec(chip, chips)
    p = params or ServingParams()
    intra = float(2.0 * m.layers * tp_all_reduce_s(batch * m.hidden * p.activation_bytes, chips_per_site, c,
                                                    p.link_efficiency, p.collective_latency_s, p.use_optical))
    act_bits = batch * m.hidden * p.activation_bytes * 8.0
    link = (n_sites - 1) * (link_one_way_s(dist) + act_bits / bandwidth_bps)
    stage_sum = stage_sum + intra
    tpot_pipe = stage_sum + link
    fits_pipe = int(whole["max_batch"]) >= batch
    tpot_single = float(single["decode_step"].sel(batch=batch)) if fits_single else np.nan
    meets = tpot_pipe <= tpot_slo_s
    pays = meets & fits_pipe & (not fits_single)
    ds = xr.Dataset(
        {
            "tpot_pipeline": (("distance",), tpot_pipe, {"units": "s", "long_name": "TPOT, pipeline across sites"}),
            "link_time": (("distance",), link, {"units": "s", "long_name": "link time per decode step"}),
            "meets_slo": (("distance",), meets, {"units": "1", "long_name": "pipeline meets the TPOT SLO"}),
            "pays_off": (("distance",), pays, {"units": "1", "long_name": "pipeline pays off"}),
            "single_site_fits": ((), fits_single, {"units": "1", "long_name": "model + batch fit one site"}),
            "pipeline_fits": ((), fits_pipe, {"units": "1", "long_name": "model + batch fit the sites together"}),
            "tpot_single_site": ((), tpot_single, {"units": "s", "long_name": "decode step on one site"}),
        },
        coords={"distance": ("distance", dist, {"units": "km", "long_name": "route length between stages"})},
    )
    ds.attrs.update({"model": m.id, "chip": chip_spec(chip, chips).id, "n_sites": n_sites,
                     "chips_per_site": chips_per_site, "batch": batch, "dtype": dtype})
    return ds
