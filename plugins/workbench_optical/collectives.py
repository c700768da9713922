"""Collective-communication times with the alpha-beta (latency-bandwidth) model.

For ``p`` ranks, a message of ``M`` bytes per rank, a per-step latency ``alpha`` [s] and a per-rank
bandwidth ``B`` [B/s per direction] (Thakur, Rabenseifner and Gropp, IJHPCA 2005,
doi:10.1177/1094342005051521):

* ring all-reduce (reduce-scatter + all-gather): ``2 (p-1) alpha + 2 (p-1)/p M/B``
* binomial-tree all-reduce (reduce + broadcast): ``2 ceil(log2 p) (alpha + M/B)``
* ring all-gather / reduce-scatter (``M`` = the full gathered / reduced buffer): ``(p-1) alpha + (p-1)/p M/B``
* pairwise all-to-all (``M`` = bytes each rank sends in total): ``(p-1) alpha + max((p-1)/p M/B, p M / (2 X))``
  where ``X`` is the bisection bandwidth (both directions): half of every rank's data crosses the cut.

On a torus the bandwidth-optimal multi-dimensional algorithms keep every link busy, so ``B`` is the
chip's total link bandwidth and the ring/pairwise step counts become ``sum(k_i - 1)`` over the torus
dimensions. ``alpha`` = :data:`ALPHA_SOFTWARE_S` + switch hops x :data:`SWITCH_HOP_S`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

#: Per-step software/launch latency [s]. Assumed: 1 us (a collective library's per-step synchronisation).
ALPHA_SOFTWARE_S = 1e-6
#: Latency of one switch traversal [s]: 0.5 us, lower-middle of 0.3-2 us per data-centre switch hop (FIGURES 2 [W]).
SWITCH_HOP_S = 0.5e-6

OPERATIONS = ("allreduce_ring", "allreduce_tree", "allgather", "reduce_scatter", "alltoall")


def _attrs(units: str, long_name: str) -> dict:
    return {"units": units, "long_name": long_name}


def alpha_beta_times(p, message_bytes, bandwidth, alpha, bisection=None, ring_steps=None) -> xr.Dataset:
    """Alpha-beta times of the five collectives (vectorised over ``message_bytes``).

    Parameters
    ----------
    p : int
        Number of ranks [1].
    message_bytes : array-like
        Message size per rank [B] (see the module docstring for each operation's meaning).
    bandwidth : float
        Per-rank bandwidth per direction [B/s].
    alpha : float
        Latency per step [s].
    bisection : float, optional
        Bisection bandwidth, both directions [B/s]; bounds all-to-all. Default: non-blocking.
    ring_steps : int, optional
        Steps of one ring pass (default ``p - 1``; ``sum(k_i - 1)`` on a torus).

    Returns
    -------
    xarray.Dataset
        ``time`` [s] over ``operation`` x ``message``.
    """
    p = int(p)
    m = np.atleast_1d(np.asarray(message_bytes, dtype=float))
    steps = (p - 1) if ring_steps is None else int(ring_steps)
    frac = (p - 1) / p if p > 1 else 0.0
    log_p = int(np.ceil(np.log2(p))) if p > 1 else 0
    bw_term = frac * m / bandwidth
    if bisection is not None and bisection > 0 and p > 1:
        a2a_bw = np.maximum(bw_term, p * m / (2.0 * bisection))
    else:
        a2a_bw = bw_term
    times = np.stack([
        2 * steps * alpha + 2 * bw_term,
        2 * log_p * (alpha + m / bandwidth) if p > 1 else 0 * m,
        steps * alpha + bw_term,
        steps * alpha + bw_term,
        steps * alpha + a2a_bw,
    ])
    if p == 1:
        times = np.zeros_like(times)
    return xr.Dataset(
        {"time": (("operation", "message"), times, _attrs("s", "collective time"))},
        coords={"operation": list(OPERATIONS),
                "message": ("message", m, _attrs("B", "message size per rank"))},
        attrs={"ranks": p, "bandwidth": float(bandwidth), "alpha": float(alpha)})


def fabric_alpha(totals: xr.Dataset) -> float:
    """Per-step latency of a fabric [s]: software + switch hops x per-hop latency."""
    return ALPHA_SOFTWARE_S + float(totals["switch_hops"]) * SWITCH_HOP_S


def collective_times(totals: xr.Dataset, message_bytes, ranks: int | None = None) -> xr.Dataset:
    """Collective times over a computed fabric (:func:`~workbench_optical.fabric.fabric_totals`).

    Parameters
    ----------
    totals : xarray.Dataset
        Output of ``fabric_totals``.
    message_bytes : array-like
        Message size per rank [B].
    ranks : int, optional
        Ranks in the collective (default: every chip). A sub-group is treated as a ring at the
        chip's collective bandwidth.

    Returns
    -------
    xarray.Dataset
        ``time`` [s] over ``operation`` x ``message``.
    """
    chips = int(totals["chips"])
    p = chips if ranks is None else int(ranks)
    dims = [int(k) for k in totals.attrs.get("torus_dims", [])]
    ring_steps = sum(k - 1 for k in dims) if dims and p == chips else None
    bisection = float(totals["bisection_bw"]) if p == chips else None
    out = alpha_beta_times(p, message_bytes, float(totals["collective_bw"]), fabric_alpha(totals),
                           bisection=bisection, ring_steps=ring_steps)
    out.attrs["design"] = totals.attrs.get("design", "")
    return out


def allreduce_time(totals: xr.Dataset, message_bytes: float) -> float:
    """Ring all-reduce time over every chip of the fabric [s] for ``message_bytes`` [B] per rank."""
    return float(collective_times(totals, message_bytes)["time"].sel(operation="allreduce_ring")[0])


def hierarchical_allreduce_time(domain_totals: xr.Dataset, scale_out_totals: xr.Dataset | None,
                                domains: int, message_bytes: float) -> float:
    """All-reduce over ``domains`` supernodes: reduce-scatter inside each, all-reduce of the shards
    across supernodes on the scale-out network, all-gather inside each [s].

    Parameters
    ----------
    domain_totals : xarray.Dataset
        Totals of one supernode.
    scale_out_totals : xarray.Dataset or None
        Totals of the scale-out network joining the supernodes (None when ``domains == 1``).
    domains : int
        Number of supernodes [1].
    message_bytes : float
        Message size per rank [B].
    """
    inside = collective_times(domain_totals, message_bytes)["time"]
    rs = float(inside.sel(operation="reduce_scatter")[0])
    ag = float(inside.sel(operation="allgather")[0])
    if domains <= 1 or scale_out_totals is None:
        return float(inside.sel(operation="allreduce_ring")[0])
    d = int(domain_totals["chips"])
    across = alpha_beta_times(domains, message_bytes / d, float(scale_out_totals["collective_bw"]),
                              fabric_alpha(scale_out_totals))
    return rs + float(across["time"].sel(operation="allreduce_ring")[0]) + ag


def hierarchical_alltoall_time(domain_totals: xr.Dataset, scale_out_totals: xr.Dataset | None,
                               domains: int, message_bytes: float) -> float:
    """All-to-all over ``domains`` supernodes [s]: the share of each rank's ``message_bytes`` [B] bound
    for its own supernode goes over the scale-up fabric, the rest over the scale-out network
    (pairwise exchange on each, run one after the other)."""
    inside = collective_times(domain_totals, message_bytes / domains)["time"]
    t = float(inside.sel(operation="alltoall")[0])
    if domains <= 1 or scale_out_totals is None:
        return t
    out_bytes = message_bytes * (domains - 1) / domains
    return t + (domains - 1) * fabric_alpha(scale_out_totals) + out_bytes / float(scale_out_totals["collective_bw"])


def parallel_step_time(totals: xr.Dataset, *, params: float = 70e9, active_params: float | None = None,
                       layers: int = 80, hidden: int = 8192, tokens: float = 4e6, tp: int = 8,
                       ep: int = 1, top_k: int = 1, moe_layers: int = 0, bytes_per_value: float = 2.0,
                       mfu: float = 0.4) -> xr.Dataset:
    """One training step of a data/tensor/expert-parallel job on a fabric: a simple worked example.

    Data-parallel degree ``dp = chips / tp``. Compute is ``6 x active_params x tokens / (chips x
    bf16 x mfu)``. Communication (not overlapped with compute, an upper bound):

    * tensor parallel: 4 ring all-reduces per layer (2 forward, 2 backward) of the activations of
      one DP rank's tokens, ``tokens / dp x hidden x bytes_per_value`` [B], over ``tp`` ranks;
    * data parallel: one ring all-reduce of the gradients, ``params / tp x bytes_per_value`` [B],
      over ``dp`` ranks;
    * expert parallel: 4 all-to-alls per MoE layer (dispatch + combine, forward and backward) of
      ``tokens / dp x hidden x bytes_per_value x top_k`` [B] over ``ep`` ranks.

    Parameters
    ----------
    totals : xarray.Dataset
        Output of ``fabric_totals``.
    params, active_params : float
        Parameters [1] (active per token for MoE; default = params).
    layers, hidden, tokens, tp, ep, top_k, moe_layers : int or float
        Model and parallelism [1]; ``tokens`` per step.
    bytes_per_value : float
        Bytes per activation/gradient value [B] (2 = BF16).
    mfu : float
        Model FLOP utilisation of the compute phase [1]. Assumed default 0.4.

    Returns
    -------
    xarray.Dataset
        ``time`` [s] over ``phase`` (compute, tensor_parallel, data_parallel, expert_parallel, total).
    """
    chips = int(totals["chips"])
    if chips % tp:
        raise ValueError(f"tp={tp} does not divide {chips} chips")
    dp = chips // tp
    if ep > dp or dp % ep:
        raise ValueError(f"ep={ep} must divide the data-parallel degree {dp}")
    active = params if active_params is None else active_params
    compute = 6 * active * tokens / (float(totals["bf16_flops"]) * mfu)
    act = tokens / dp * hidden * bytes_per_value
    t_tp = 4 * layers * float(collective_times(totals, act, ranks=tp)["time"].sel(operation="allreduce_ring")[0]) \
        if tp > 1 else 0.0
    t_dp = float(collective_times(totals, params / tp * bytes_per_value, ranks=dp)["time"]
                 .sel(operation="allreduce_ring")[0]) if dp > 1 else 0.0
    t_ep = 4 * moe_layers * float(collective_times(totals, act * top_k, ranks=ep)["time"]
                                  .sel(operation="alltoall")[0]) if ep > 1 and moe_layers else 0.0
    phases = ["compute", "tensor_parallel", "data_parallel", "expert_parallel", "total"]
    values = [compute, t_tp, t_dp, t_ep, compute + t_tp + t_dp + t_ep]
    return xr.Dataset({"time": ("phase", np.array(values), _attrs("s", "step time"))},
                      coords={"phase": phases},
                      attrs={"dp": dp, "tp": tp, "ep": ep, "design": totals.attrs.get("design", "")})


def all_reduce_time_s(message_bytes, n_chips: int, chip: str) -> np.ndarray:
    """Ring all-reduce time [s] over ``n_chips`` chips of type ``chip`` in one switched scale-up domain.

    The adapter other plugins call (the edge plugin's tensor-parallel communication): each rank
    sends at its full scale-up bandwidth per direction (links x link rate, ``chip_links.csv``),
    and each ring step crosses one switch (``alpha`` = software + one switch hop).

    Parameters
    ----------
    message_bytes : array-like
        Bytes reduced per chip [B].
    n_chips : int
        Ranks [1].
    chip : str
        Chip id of the core catalogue (``h100-sxm``, ``gb200``, ...).

    Raises
    ------
    CatalogueError
        When the chip has no scale-up link data (e.g. ``ascend-910b``).
    """
    from .catalogues import chip_links, lookup

    row = lookup(chip_links(), chip, "chip")
    per_direction = float(row["scale_up_links"]) * float(row["link_rate"]) / 8.0
    if not np.isfinite(per_direction) or per_direction <= 0:
        from .catalogues import CatalogueError

        raise CatalogueError(f"chip {chip!r}: no scale-up bandwidth in chip_links.csv")
    m = np.asarray(message_bytes, dtype=float)
    out = alpha_beta_times(n_chips, m.ravel(), per_direction, ALPHA_SOFTWARE_S + SWITCH_HOP_S)
    return out["time"].sel(operation="allreduce_ring").values.reshape(m.shape)
