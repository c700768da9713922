"""Collective-communication time for tensor parallelism, with the optical plugin when it is installed.

Tensor-parallel inference runs two all-reduces per transformer layer (after attention and after the
MLP, Megatron-LM style). Their time comes from the optical fabric plugin (``workbench_optical``) when
it provides a collective model, else from a simple alpha-beta **ring all-reduce** over the chip's
scale-up links:

.. math::

    t = 2 (p - 1) \\alpha + \\frac{2 (p - 1)}{p} \\frac{S}{\\eta B_{uni}}

with ``p`` chips, message ``S`` [B], per-direction bandwidth ``B_uni = scale_up_bw / 2`` (the chip
catalogue gives the bidirectional aggregate), link efficiency ``eta`` and a per-step latency
``alpha``. The optical plugin is looked up lazily, inside a ``try``: this plugin works (and its
tests pass) whether or not ``workbench_optical`` is installed.

Expected optical contract (any of these names, first found wins):
``workbench_optical.collectives.all_reduce_time_s(message_bytes, n_chips, chip) -> seconds``
(``chip`` the chip id; array ``message_bytes`` allowed). If the module, the function or the call fails,
the ring fallback is used and :func:`last_backend` reports ``"ring"``.
"""

from __future__ import annotations

import importlib

import numpy as np

#: Fraction of the per-direction scale-up bandwidth a ring all-reduce achieves [1]. **Assumed** 0.8:
#: NCCL-style bus bandwidth is typically 75-85% of the NVLink line rate; no measurement in FIGURES.md.
LINK_EFFICIENCY = 0.8

#: Latency per ring step (one hop send/receive and synchronisation) [s]. **Assumed** 1 us, the order of
#: a NVLink/switch hop plus kernel synchronisation; FIGURES 2 gives 0.3-2 us per switch hop [W].
COLLECTIVE_LATENCY_S = 1e-6

_OPTICAL_CANDIDATES = (("workbench_optical.collectives", "all_reduce_time_s"),
                       ("workbench_optical.collectives", "allreduce_time_s"),
                       ("workbench_optical", "all_reduce_time_s"))
_last = {"backend": "ring"}

__all__ = ["COLLECTIVE_LATENCY_S", "LINK_EFFICIENCY", "last_backend", "optical_all_reduce", "ring_all_reduce_s",
           "tp_all_reduce_s"]


def ring_all_reduce_s(message_bytes, n_chips, scale_up_bw, link_efficiency: float = LINK_EFFICIENCY,
                      alpha_s: float = COLLECTIVE_LATENCY_S) -> np.ndarray:
    """Ring all-reduce time, alpha-beta model (see module docstring).

    Parameters
    ----------
    message_bytes : array_like
        Bytes reduced per chip [B].
    n_chips : array_like of int
        Chips in the ring [1]; 1 gives 0 s.
    scale_up_bw : array_like
        Scale-up bandwidth per chip, bidirectional aggregate [B/s].
    link_efficiency : float
        Achieved fraction of the per-direction bandwidth [1].
    alpha_s : float
        Latency per ring step [s].

    Returns
    -------
    ndarray
        Time [s]; NaN where ``n_chips > 1`` and the bandwidth is unknown (NaN).
    """
    s = np.asarray(message_bytes, dtype=float)
    p = np.asarray(n_chips, dtype=float)
    bw = np.asarray(scale_up_bw, dtype=float) / 2.0 * link_efficiency
    with np.errstate(divide="ignore", invalid="ignore"):
        t = 2.0 * (p - 1.0) * alpha_s + 2.0 * (p - 1.0) / p * s / bw
    return np.where(p <= 1, 0.0, t)


def optical_all_reduce():
    """The optical plugin's all-reduce function, or None when it is not installed / provides none."""
    for module, name in _OPTICAL_CANDIDATES:
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        func = getattr(mod, name, None)
        if callable(func):
            return func
    return None


def tp_all_reduce_s(message_bytes, n_chips: int, chip, link_efficiency: float = LINK_EFFICIENCY,
                    alpha_s: float = COLLECTIVE_LATENCY_S, use_optical: bool = True) -> np.ndarray:
    """All-reduce time for tensor parallelism over ``n_chips`` chips of type ``chip``.

    Parameters
    ----------
    message_bytes : array_like
        Bytes reduced per chip [B].
    n_chips : int
        Tensor-parallel degree [1].
    chip : ChipSpec
        The chip (its ``scale_up_bw`` [B/s] feeds the ring fallback; its ``id`` the optical model).
    link_efficiency, alpha_s
        Ring fallback parameters (see :func:`ring_all_reduce_s`).
    use_optical : bool
        Try the optical plugin first.

    Returns
    -------
    ndarray
        Time [s]. :func:`last_backend` tells which model produced it.
    """
    if n_chips <= 1:
        _last["backend"] = "none"
        return np.zeros_like(np.asarray(message_bytes, dtype=float))
    if use_optical:
        func = optical_all_reduce()
        if func is not None:
            try:
                out = np.asarray(func(message_bytes=np.asarray(message_bytes, dtype=float), n_chips=int(n_chips),
                                      chip=chip.id), dtype=float)
                out = np.broadcast_to(out, np.shape(message_bytes)).copy()
                if np.all(np.isfinite(out)) and np.all(out >= 0):
                    _last["backend"] = "optical"
                    return out
            except Exception:  # noqa: BLE001 - any failure of the optional plugin falls back to the ring
                pass
    _last["backend"] = "ring"
    return ring_all_reduce_s(message_bytes, n_chips, chip.scale_up_bw, link_efficiency, alpha_s)


def last_backend() -> str:
    """Which collective model the last :func:`tp_all_reduce_s` call used: ``optical``, ``ring`` or ``none``."""
    return _last["backend"]
