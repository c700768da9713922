"""Roofline serving model of one deployment: model x chip x count x tensor parallelism x dtype.

A deployment of ``count`` chips runs ``count / tp`` identical **replicas**, each spread over ``tp``
chips by tensor parallelism (weights, KV cache, FLOP/s and HBM bandwidth are split across them).
For a replica serving ``b`` concurrent sequences (the batch) with ``isl`` input and ``osl`` output
tokens per request:

* **Prefill** of one request: ``max(FLOPs / (F u_p), weight bytes / (BW u_m)) + 2 L all-reduce(isl h)``
  with FLOPs = ``2 A isl`` (weights, A = active parameters) ``+ 2 L isl^2 n_h d_h`` (causal attention).
* **Decode step** for the batch: ``max(b (2 A + 4 L c n_h d_h) / (F u_d), (W(b) + b c k) / (BW u_m))
  + 2 L all-reduce(b h)`` with ``c = isl + osl/2`` the mean context, ``k`` the KV bytes per token and
  ``W(b)`` the weight bytes read (all of them for dense models; for MoE the shared part plus the
  routed experts touched by ``b`` tokens, ``1 - (1 - k/E)^b`` of them).
* **Continuous batching** in steady state: in one request lifetime a replica runs ``osl`` decode steps
  and ``b`` prefills, so ``T = b t_prefill + osl t_step``; output throughput ``= replicas b osl / T``,
  **TPOT** (mean time between a user's tokens, prefill stalls included) ``= T / osl``; **TTFT** =
  ``t_prefill`` plus, for ``b > 1``, half a decode step and an M/D/1 wait behind other prefills
  (utilisation ``b t_prefill / T``), scaled by ``(b-1)/b`` (a single user never waits).
* **Maximum batch** from HBM: ``floor(f_kv (tp HBM - weights) / ((isl + osl) k))``, ``f_kv`` the share
  of free memory given to the KV cache (TensorRT-LLM's ``kv_cache_free_gpu_mem_fraction``).
* **Energy**: replica power = ``tp x TDP x power_fraction``; tokens per joule = output tokens/s / W.

The utilisation factors are explicit parameters (:class:`ServingParams`) with documented defaults;
the same single set is used everywhere (the validation table in ``tests/data/edge`` is not fitted row
by row).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass

import numpy as np
import xarray as xr

from . import collectives
from .catalogue import ChipSpec, EdgeError, ModelSpec, bytes_per_param, chip_spec, model_spec

__all__ = ["ServingParams", "decode_step_time_s", "default_kv_dtype", "kv_bytes_per_token", "max_batch",
           "prefill_time_s", "serving", "summary", "weights_read_bytes"]


@dataclass(frozen=True)
class ServingParams:
    """Utilisation factors and constants of the serving model (one documented set of defaults).

    Attributes
    ----------
    prefill_compute_util : float
        Achieved share of dense peak FLOP/s in prefill [1]. **Assumed 0.5**: large-GEMM prefill
        typically reaches 40-60% model-FLOPs utilisation; no sourced figure in FIGURES.md.
    decode_compute_util : float
        Achieved share of peak FLOP/s in decode when compute-bound (large batch) [1]. **Assumed 0.5**.
    memory_bw_util : float
        Model bandwidth utilisation (MBU): achieved share of HBM bandwidth in decode [1]. **Assumed 0.6**,
        the low end of the 60-85% rule of thumb for optimised serving stacks (open-source-ai.tech glossary
        [W]); checked against NVIDIA's NIM single-stream ITL (tests/data/edge/serving_validation.csv).
    kv_memory_fraction : float
        Share of HBM left after the weights that holds the KV cache [1]. 0.9 = TensorRT-LLM's default
        ``kv_cache_free_gpu_mem_fraction`` (TensorRT-LLM perf overview [P]).
    link_efficiency : float
        Achieved share of per-direction scale-up bandwidth in all-reduces [1] (assumed 0.8, see
        :mod:`workbench_edge.collectives`).
    collective_latency_s : float
        Latency per ring step [s] (assumed 1 us).
    activation_bytes : float
        Bytes per activation element in tensor-parallel all-reduces [B]; 2 (BF16 activations).
    power_fraction : float
        Chip power while serving / TDP [1]. **Assumed 1.0**: TDP as an upper bound (no measured serving
        power in FIGURES.md); site PUE is applied by the routing analysis, not here.
    use_optical : bool
        Ask the optical plugin for collective times when installed.
    """

    prefill_compute_util: float = 0.5
    decode_compute_util: float = 0.5
    memory_bw_util: float = 0.6
    kv_memory_fraction: float = 0.9
    link_efficiency: float = collectives.LINK_EFFICIENCY
    collective_latency_s: float = collectives.COLLECTIVE_LATENCY_S
    activation_bytes: float = 2.0
    power_fraction: float = 1.0
    use_optical: bool = True

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "use_optical":
                continue
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise EdgeError(f"ServingParams.{f.name} must be a finite number >= 0, got {v!r}")
            if f.name.endswith("_util") or f.name in ("kv_memory_fraction", "link_efficiency"):
                if not 0 < v <= 1:
                    raise EdgeError(f"ServingParams.{f.name} must be in (0, 1], got {v!r}")

    def replace(self, **changes) -> ServingParams:
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise EdgeError(f"unknown serving parameter(s) {sorted(unknown)}; known: "
                            f"{', '.join(f.name for f in dataclasses.fields(self))}")
        return dataclasses.replace(self, **changes)


# --------------------------------------------------------------------------- pure functions


def kv_bytes_per_token(layers, kv_heads, head_dim, kv_bytes, kv_latent_dim=math.nan) -> np.ndarray:
    """KV-cache bytes per token of context.

    ``2 x layers x kv_heads x head_dim x kv_bytes`` (keys and values, grouped-query or multi-head
    attention), or ``layers x kv_latent_dim x kv_bytes`` for multi-head latent attention (MLA).

    Parameters
    ----------
    layers, kv_heads, head_dim : array_like
        Transformer layers, key/value heads, head dimension [1].
    kv_bytes : array_like
        Bytes per cached element [B] (2 for BF16, 1 for FP8).
    kv_latent_dim : array_like
        MLA latent width per layer [1]; NaN for GQA/MHA.

    Returns
    -------
    ndarray
        Bytes per token [B].

    Examples
    --------
    >>> float(kv_bytes_per_token(80, 8, 128, 2))    # Llama 3 70B in BF16 (FIGURES 6.3)
    327680.0
    """
    gqa = 2.0 * np.asarray(layers, float) * np.asarray(kv_heads, float) * np.asarray(head_dim, float) \
        * np.asarray(kv_bytes, float)
    mla = np.asarray(layers, float) * np.asarray(kv_latent_dim, float) * np.asarray(kv_bytes, float)
    return np.where(np.isfinite(mla), mla, gqa)


def weights_read_bytes(total_params, active_params, bytes_per_param, tokens, n_experts=math.nan,
                       experts_per_token=math.nan) -> np.ndarray:
    """Weight bytes read from HBM by one forward pass over ``tokens`` tokens.

    Dense models read every weight. A mixture of experts with ``E`` routed experts and ``k`` per
    token reads the shared part ``S`` and the routed experts any of the tokens selects: with
    uniformly random routing ``R (1 - (1 - k/E)^tokens)`` of the routed part ``R``, where
    ``A = S + (k/E) R`` and ``T = S + R`` give ``R = (T - A) / (1 - k/E)``.

    Parameters
    ----------
    total_params, active_params : array_like
        Parameters stored and used per token [1].
    bytes_per_param : array_like
        [B].
    tokens : array_like
        Tokens in the forward pass (the batch in decode) [1].
    n_experts, experts_per_token : array_like
        Routed experts and experts per token; NaN for dense models.

    Returns
    -------
    ndarray
        Bytes read [B].
    """
    t = np.asarray(total_params, float)
    a = np.asarray(active_params, float)
    f = np.asarray(experts_per_token, float) / np.asarray(n_experts, float)
    tokens = np.asarray(tokens, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        routed = (t - a) / (1.0 - f)
        shared = t - routed
        moe = shared + routed * (1.0 - (1.0 - f) ** tokens)
    dense = np.broadcast_to(t, np.broadcast_shapes(np.shape(t), np.shape(tokens), np.shape(f)))
    return np.where(np.isfinite(moe) & (f > 0) & (f < 1), moe, dense) * np.asarray(bytes_per_param, float)


def prefill_time_s(flops_per_s, hbm_bw, weight_bytes_read, active_params, layers, heads, head_dim, isl,
                   comm_s=0.0, compute_util=0.5, memory_util=0.6) -> np.ndarray:
    """Prefill time of one request of ``isl`` tokens on one replica.

    Parameters
    ----------
    flops_per_s : array_like
        Replica dense peak [FLOP/s] (tp x chip FLOP/s for the dtype).
    hbm_bw : array_like
        Replica HBM bandwidth [B/s].
    weight_bytes_read : array_like
        Weight bytes read by the pass [B].
    active_params, layers, heads, head_dim : array_like
        Model shape [1].
    isl : array_like
        Input tokens [1].
    comm_s : array_like
        Tensor-parallel communication time of the pass [s].
    compute_util, memory_util : float
        Achieved shares of peak FLOP/s and bandwidth [1].

    Returns
    -------
    ndarray
        Time [s].
    """
    isl = np.asarray(isl, float)
    flops = 2.0 * np.asarray(active_params, float) * isl \
        + 2.0 * np.asarray(layers, float) * isl ** 2 * np.asarray(heads, float) * np.asarray(head_dim, float)
    t_c = flops / (np.asarray(flops_per_s, float) * compute_util)
    t_m = np.asarray(weight_bytes_read, float) / (np.asarray(hbm_bw, float) * memory_util)
    return np.maximum(t_c, t_m) + np.asarray(comm_s, float)


def decode_step_time_s(flops_per_s, hbm_bw, weight_bytes_read, active_params, layers, heads, head_dim, batch,
                       context, kv_bytes_token, comm_s=0.0, compute_util=0.5, memory_util=0.6,
                       return_parts: bool = False):
    """Time of one decode step (one token for each of ``batch`` sequences) on one replica.

    ``max(compute, memory) + comm`` with compute = ``batch (2 A + 4 L c n_h d_h) / (F u_d)`` and memory
    = ``(W + batch c k) / (BW u_m)``.

    Parameters
    ----------
    flops_per_s, hbm_bw : array_like
        Replica peak [FLOP/s] and HBM bandwidth [B/s].
    weight_bytes_read : array_like
        Weight bytes read in the step [B].
    active_params, layers, heads, head_dim : array_like
        Model shape [1].
    batch : array_like
        Sequences decoded together [1].
    context : array_like
        Mean context length (tokens in each sequence's KV cache) [1].
    kv_bytes_token : array_like
        KV bytes per token [B].
    comm_s : array_like
        Tensor-parallel communication time of the step [s].
    compute_util, memory_util : float
        [1].
    return_parts : bool
        Also return the compute and memory times.

    Returns
    -------
    ndarray or tuple
        Step time [s] (and compute [s], memory [s]).

    Examples
    --------
    Llama 3 70B in BF16 on one H100 (3.35 TB/s) at batch 1 and full utilisation: 141 GB / 3.35 TB/s
    = 42 ms, i.e. a ceiling of ~24 tokens/s (FIGURES 6.3):

    >>> w = 70.55e9 * 2
    >>> round(1 / float(decode_step_time_s(989e12, 3.35e12, w, 70.55e9, 80, 64, 128, 1, 0, 0,
    ...                                       compute_util=1.0, memory_util=1.0)), 1)
    23.7
    """
    b = np.asarray(batch, float)
    c = np.asarray(context, float)
    per_token = 2.0 * np.asarray(active_params, float) + 4.0 * np.asarray(layers, float) * c \
        * np.asarray(heads, float) * np.asarray(head_dim, float)
    t_c = b * per_token / (np.asarray(flops_per_s, float) * compute_util)
    t_m = (np.asarray(weight_bytes_read, float) + b * c * np.asarray(kv_bytes_token, float)) \
        / (np.asarray(hbm_bw, float) * memory_util)
    t = np.maximum(t_c, t_m) + np.asarray(comm_s, float)
    return (t, t_c, t_m) if return_parts else t


def max_batch(hbm_total, weight_bytes, isl, osl, kv_bytes_token, kv_memory_fraction=0.9) -> np.ndarray:
    """Largest number of concurrent sequences whose KV cache fits in HBM.

    Parameters
    ----------
    hbm_total : array_like
        HBM of the replica [B].
    weight_bytes : array_like
        Bytes of all weights [B].
    isl, osl : array_like
        Input and output tokens per sequence [1] (a sequence holds ``isl + osl`` tokens at the end).
    kv_bytes_token : array_like
        [B].
    kv_memory_fraction : float
        Share of free HBM given to the KV cache [1].

    Returns
    -------
    ndarray of int
        Sequences [1]; 0 when the weights do not fit.
    """
    free = np.asarray(hbm_total, float) - np.asarray(weight_bytes, float)
    per_seq = (np.asarray(isl, float) + np.asarray(osl, float)) * np.asarray(kv_bytes_token, float)
    n = np.floor(np.maximum(free, 0.0) * kv_memory_fraction / per_seq)
    return n.astype(np.int64)


def default_kv_dtype(dtype: str) -> str:
    """KV-cache format used with a weight format: FP8 for FP8/FP4 weights, BF16 otherwise.

    **Assumed** to follow NVIDIA's ModelOpt FP8/FP4 checkpoints (the ones in the TensorRT-LLM perf
    overview), which quantise the KV cache to FP8; INT8 (W8A8) deployments keep a BF16 cache.
    """
    return "fp8" if dtype in ("fp8", "fp4") else "bf16"


# --------------------------------------------------------------------------- the deployment model


def _check_int(name: str, value, minimum: int = 1) -> int:
    try:
        iv = int(value)
    except (TypeError, ValueError):
        raise EdgeError(f"{name} must be an integer >= {minimum}, got {value!r}") from None
    if iv != value or iv < minimum:
        raise EdgeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return iv


def _da(values, dims, units: str, long_name: str, **extra) -> tuple:
    return dims, values, {"units": units, "long_name": long_name, **extra}


def serving(model: str | ModelSpec, chip: str | ChipSpec, count: int = 1, dtype: str = "bf16", isl: int = 1000,
            osl: int = 1000, tp: int | None = None, batch=None, kv_dtype: str | None = None,
            params: ServingParams | None = None, chips: xr.Dataset | None = None,
            check_dtype: bool = True) -> xr.Dataset:
    """Throughput, latency and energy of a deployment over a range of batch sizes.

    Parameters
    ----------
    model : str or ModelSpec
        Catalogue id (``datasets/models/models.csv``) or a spec.
    chip : str or ChipSpec
        Chip id in the chip catalogue (``wb.load_dataset("chips")`` or ``chips``) or a spec.
    count : int
        Chips in the deployment [1].
    dtype : {"bf16", "fp8", "int8", "fp4"}
        Weight and compute format.
    isl, osl : int
        Input and output tokens per request [1].
    tp : int, optional
        Tensor-parallel degree [1] (default: ``count``, one replica); ``count`` must be a multiple.
    batch : array_like of int, optional
        Concurrent sequences per replica [1] to evaluate (default: 1 to the maximum, geometric).
    kv_dtype : str, optional
        KV-cache format (default :func:`default_kv_dtype`).
    params : ServingParams, optional
        Utilisation factors (defaults documented in :class:`ServingParams`).
    chips : xr.Dataset, optional
        Chip catalogue (e.g. ``scenario["chip"]``).
    check_dtype : bool
        Refuse a dtype the model is not listed as served in.

    Returns
    -------
    xr.Dataset
        Over ``batch``: ``throughput`` (output tokens/s of the deployment), ``total_throughput``
        (input + output), ``request_rate`` [request/s], ``ttft`` [s], ``tpot`` [s] (effective, prefill
        stalls included), ``decode_step`` [s], ``decode_compute``/``decode_memory``/``decode_comm`` [s],
        ``tokens_per_joule`` [token/J], ``energy_per_request`` [J], ``feasible`` (batch fits in HBM).
        Scalars: ``max_batch``, ``prefill_time`` [s], ``power`` [W], ``weight_bytes`` [B],
        ``kv_bytes_per_token`` [B]. Values at infeasible batches are NaN. ``attrs`` record the inputs,
        the parameters and the collective backend.

    Raises
    ------
    EdgeError
        Unknown model/chip/dtype, a chip without that dtype, bad counts, or ``tp > 1`` on a chip with
        unknown scale-up bandwidth.
    """
    params = params or ServingParams()
    m = model_spec(model)
    c = chip_spec(chip, chips)
    count = _check_int("count", count)
    tp = count if tp is None else _check_int("tp", tp)
    isl = _check_int("isl", isl)
    osl = _check_int("osl", osl)
    if count % tp:
        raise EdgeError(f"count ({count}) must be a multiple of tp ({tp}): the deployment is count/tp replicas "
                        f"of tp chips")
    if check_dtype and dtype not in m.dtypes:
        raise EdgeError(f"model {m.id!r} is not served in {dtype!r}; its dtypes: {', '.join(m.dtypes)}")
    kv_dtype = kv_dtype or default_kv_dtype(dtype)
    bpp = bytes_per_param(dtype)
    kvb_elem = bytes_per_param(kv_dtype)
    peak = c.flops_for(dtype)
    if tp > 1 and not (np.isfinite(c.scale_up_bw) and c.scale_up_bw > 0):
        raise EdgeError(f"chip {c.id!r} has no scale_up_bw in the chip catalogue, so tensor parallelism over "
                        f"{tp} chips cannot be modelled; use tp=1 or give the chip a scale-up bandwidth")
    replicas = count // tp
    flops = tp * peak
    bw = tp * c.hbm_bw
    hbm = tp * c.hbm
    weights = m.total_params * bpp
    kvb = float(kv_bytes_per_token(m.layers, m.kv_heads, m.head_dim, kvb_elem, m.kv_latent_dim))
    nmax = int(max_batch(hbm, weights, isl, osl, kvb, params.kv_memory_fraction))
    if batch is None:
        top = max(nmax, 1)
        batch = np.unique(np.concatenate([np.round(np.geomspace(1, top, 24)), [top]]).astype(np.int64))
    batch = np.atleast_1d(np.asarray(batch, dtype=float))
    if batch.ndim != 1 or np.any(batch < 1) or np.any(batch != np.round(batch)):
        raise EdgeError(f"batch must be positive integers, got {batch!r}")
    ctx = isl + osl / 2.0

    def comm(tokens):
        msg = np.asarray(tokens, float) * m.hidden * params.activation_bytes
        return 2.0 * m.layers * collectives.tp_all_reduce_s(msg, tp, c, params.link_efficiency,
                                                             params.collective_latency_s, params.use_optical)

    w_prefill = weights_read_bytes(m.total_params, m.active_params, bpp, isl, m.n_experts, m.experts_per_token)
    comm_prefill = comm(isl)
    t_pre = float(prefill_time_s(flops, bw, w_prefill, m.active_params, m.layers, m.heads, m.head_dim, isl,
                                 comm_prefill, params.prefill_compute_util, params.memory_bw_util))
    w_step = weights_read_bytes(m.total_params, m.active_params, bpp, batch, m.n_experts, m.experts_per_token)
    comm_step = comm(batch)
    backend = collectives.last_backend()
    t_step, t_c, t_m = decode_step_time_s(flops, bw, w_step, m.active_params, m.layers, m.heads, m.head_dim, batch,
                                          ctx, kvb, comm_step, params.decode_compute_util, params.memory_bw_util,
                                          return_parts=True)
    cycle = batch * t_pre + osl * t_step
    throughput = replicas * batch * osl / cycle
    rate = replicas * batch / cycle
    rho = np.clip(batch * t_pre / cycle, 0.0, 0.999)
    others = (batch - 1.0) / batch
    ttft = t_pre + others * (0.5 * t_step + rho / (2.0 * (1.0 - rho)) * t_pre)
    tpot = cycle / osl
    power = replicas * tp * c.tdp * params.power_fraction
    feasible = batch <= nmax
    nan = np.where(feasible, 1.0, np.nan)
    b = ("batch",)
    ds = xr.Dataset(
        {
            "throughput": _da(throughput * nan, b, "token/s", "output throughput"),
            "total_throughput": _da(replicas * batch * (isl + osl) / cycle * nan, b, "token/s",
                                    "input + output throughput"),
            "request_rate": _da(rate * nan, b, "request/s", "completed requests"),
            "ttft": _da(ttft * nan, b, "s", "time to first token"),
            "tpot": _da(tpot * nan, b, "s", "time per output token (prefill stalls included)"),
            "decode_step": _da(t_step * nan, b, "s", "decode step time"),
            "decode_compute": _da(t_c * nan, b, "s", "decode step, compute roofline"),
            "decode_memory": _da(t_m * nan, b, "s", "decode step, memory roofline"),
            "decode_comm": _da(np.broadcast_to(comm_step, batch.shape) * nan, b, "s",
                               "decode step, tensor-parallel all-reduces"),
            "tokens_per_joule": _da(throughput / power * nan, b, "token/J", "output tokens per joule (chips)"),
            "energy_per_request": _da(power / rate * nan, b, "J", "chip energy per request"),
            "feasible": _da(feasible, b, "1", "KV cache of the batch fits in HBM"),
            "max_batch": _da(nmax, (), "1", "maximum concurrent sequences per replica"),
            "prefill_time": _da(t_pre, (), "s", "prefill time of one request"),
            "power": _da(power, (), "W", "chip power of the deployment"),
            "weight_bytes": _da(weights, (), "B", "weight bytes per replica"),
            "kv_bytes_per_token": _da(kvb, (), "B", "KV-cache bytes per token"),
        },
        coords={"batch": ("batch", batch.astype(np.int64), {"units": "1", "long_name": "concurrent sequences per replica"})},
    )
    ds.attrs = {"model": m.id, "chip": c.id, "dtype": dtype, "kv_dtype": kv_dtype, "count": count, "tp": tp,
                "replicas": replicas, "isl": isl, "osl": osl, "collective_backend": backend,
                "params_json": json.dumps(dataclasses.asdict(params), sort_keys=True),
                "description": "Roofline serving model (workbench_edge.serving); see its module docstring"}
    return ds


def summary(ds: xr.Dataset, batch: int | None = None) -> dict:
    """Headline figures of a :func:`serving` result at one batch (default: the maximum batch).

    Returns
    -------
    dict
        ``batch``, ``max_batch``, ``throughput`` [token/s output], ``total_throughput`` [token/s],
        ``request_rate`` [request/s], ``ttft`` [s], ``tpot`` [s], ``decode_step`` [s],
        ``tokens_per_joule`` [token/J], ``power`` [W], plus the deployment attributes.
    """
    nmax = int(ds["max_batch"])
    if batch is None:
        batch = nmax
    if nmax < 1:
        raise EdgeError(f"{ds.attrs.get('model')} in {ds.attrs.get('dtype')} does not fit on "
                        f"{ds.attrs.get('tp')} x {ds.attrs.get('chip')}: weights {float(ds['weight_bytes']) / 1e9:.1f} GB"
                        " leave no room for a KV cache; use more chips (--count/--tp) or a smaller dtype")
    if batch not in ds["batch"].values:
        raise EdgeError(f"batch {batch} was not evaluated; evaluated: {ds['batch'].values.tolist()}")
    row = ds.sel(batch=batch)
    out = {k: ds.attrs[k] for k in ("model", "chip", "dtype", "kv_dtype", "count", "tp", "replicas", "isl", "osl",
                                    "collective_backend")}
    out.update({"batch": int(batch), "max_batch": nmax, "feasible": bool(row["feasible"])})
    for k in ("throughput", "total_throughput", "request_rate", "ttft", "tpot", "decode_step", "tokens_per_joule"):
        out[k] = float(row[k])
    out["power"] = float(ds["power"])
    return out
