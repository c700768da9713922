"""Large-small model collaboration: a confidence-threshold cascade from an edge model to a hub model.

A small model at the edge answers every request first; requests whose confidence falls below a
threshold are **escalated** to a large model at a hub. With a confidence score that is uniform on
[0, 1] (a calibrated score's probability integral transform), a threshold ``tau`` escalates a share
``e = tau``; the curves below are functions of that share.

Per request, with ``L``, ``E``, ``C`` the user-perceived latency, energy and cost of the pure small
deployment (subscript s, network to the edge included) and of the pure large one (subscript l, network
to the hub included):

* ``probe="full"`` (default, a real cascade: the small model's answer and its confidence come first)::

      latency = L_s + e L_l        energy = E_s + e E_l        cost = C_s + e C_l      for 0 <= e < 1

  (an escalated request waits for the small answer, then takes the large model's path; the forward
  from the edge to the hub is taken as long as the user's own path to the hub).
* ``probe="prefill"``: the decision needs only the small model's prefill (e.g. a scoring head), so an
  escalated request pays the small model's TTFT and prefill energy instead of its whole answer.
* ``probe="none"``: a free oracle router; every metric is the mix ``(1 - e) X_s + e X_l``.

At the limits the router is trivial and the cascade **is** a pure deployment: ``e = 0`` gives the small
model's figures and ``e = 1`` the large model's (nothing is sent to the small tier); curves are
therefore discontinuous at ``e = 1`` for ``probe="full"`` and ``"prefill"``, by construction.

Quality proxy (documented, simple). Request difficulty ``d ~ U(0, 1)``; the small model answers
correctly iff ``d < a_s``, the large iff ``d < a_l`` (``a`` = its benchmark accuracy, MMLU CoT from the
model catalogue). A perfectly ranked confidence escalates the hardest share ``e``, giving
``Q* = min(1 - e, a_s) + max(0, a_l - (1 - e))``; an uninformative one escalates at random,
``Q0 = (1 - e) a_s + e a_l``. With a ranking quality ``r`` in [0, 1], ``Q = r Q* + (1 - r) Q0``. Both
limits are exact: ``Q(0) = a_s``, ``Q(1) = a_l``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .catalogue import EdgeError

__all__ = ["PROBES", "cascade_curves", "cascade_metric", "quality_proxy"]

PROBES = ("full", "prefill", "none")


def quality_proxy(share, small_accuracy, large_accuracy, ranking: float = 0.7) -> np.ndarray:
    """Expected share of correct answers of the cascade (see module docstring).

    Parameters
    ----------
    share : array_like
        Share of requests escalated ``e`` [1], in [0, 1].
    small_accuracy, large_accuracy : float
        Accuracies ``a_s``, ``a_l`` [1].
    ranking : float
        Confidence ranking quality ``r`` [1]: 1 = escalates exactly the hardest requests, 0 = random.
        **Assumed 0.7** by default (no sourced calibration figure for LLM confidence).

    Returns
    -------
    ndarray
        Quality [1].

    Examples
    --------
    >>> float(quality_proxy(0.0, 0.73, 0.86)), float(quality_proxy(1.0, 0.73, 0.86))
    (0.73, 0.86)
    """
    e = np.asarray(share, float)
    if np.any((e < 0) | (e > 1)):
        raise EdgeError("escalation share must be in [0, 1]")
    if not 0 <= ranking <= 1:
        raise EdgeError(f"ranking must be in [0, 1], got {ranking}")
    a_s, a_l = float(small_accuracy), float(large_accuracy)
    perfect = np.minimum(1.0 - e, a_s) + np.maximum(0.0, a_l - (1.0 - e))
    random = (1.0 - e) * a_s + e * a_l
    return ranking * perfect + (1.0 - ranking) * random


def cascade_metric(share, small, large, probe: str = "full", small_probe=None) -> np.ndarray:
    """One per-request metric (latency, energy or cost) of the cascade as a function of the share.

    Parameters
    ----------
    share : array_like
        Escalated share ``e`` [1].
    small, large : float or array_like
        The metric of the pure small and pure large deployments (same unit).
    probe : {"full", "prefill", "none"}
        What the small tier costs an escalated request (module docstring).
    small_probe : float, optional
        The metric of the small model's prefill alone (needed for ``probe="prefill"``).

    Returns
    -------
    ndarray
        The metric (same unit), exactly ``small`` at ``e = 0`` and ``large`` at ``e = 1``.
    """
    if probe not in PROBES:
        raise EdgeError(f"probe must be one of {', '.join(PROBES)}, got {probe!r}")
    e = np.asarray(share, float)
    s = np.asarray(small, float)
    lg = np.asarray(large, float)
    if probe == "none":
        mid = (1.0 - e) * s + e * lg
    elif probe == "full":
        mid = s + e * lg
    else:
        if small_probe is None:
            raise EdgeError("probe='prefill' needs small_probe (the small model's prefill-only figure)")
        p = np.asarray(small_probe, float)
        mid = (1.0 - e) * s + e * (p + lg)
    return np.where(e <= 0.0, s, np.where(e >= 1.0, lg, mid))


def cascade_curves(share, small: dict, large: dict, small_accuracy: float, large_accuracy: float,
                   probe: str = "full", ranking: float = 0.7, small_probe: dict | None = None) -> xr.Dataset:
    """Latency, energy, cost and quality of the cascade over escalated shares.

    Parameters
    ----------
    share : array_like
        Escalated shares [1].
    small, large : dict
        Per-request figures of the pure deployments: ``latency`` [ms], ``energy`` [J], ``cost`` [CNY].
    small_accuracy, large_accuracy : float
        [1].
    probe : str
        See :func:`cascade_metric`.
    ranking : float
        See :func:`quality_proxy`.
    small_probe : dict, optional
        The small model's prefill-only ``latency``, ``energy``, ``cost`` (for ``probe="prefill"``).

    Returns
    -------
    xr.Dataset
        Over ``share``: ``latency`` [ms], ``energy`` [J], ``cost`` [CNY], ``quality`` [1],
        ``threshold`` [1] (the confidence threshold giving that share).
    """
    e = np.atleast_1d(np.asarray(share, float))
    out = {}
    units = {"latency": ("ms", "mean latency per request"), "energy": ("J", "energy per request"),
             "cost": ("CNY", "electricity cost per request")}
    for key, (unit, long_name) in units.items():
        if key not in small or key not in large:
            raise EdgeError(f"small and large need a {key!r} figure [{unit}]")
        probe_value = None if small_probe is None else small_probe.get(key)
        out[key] = (("share",), cascade_metric(e, small[key], large[key], probe, probe_value),
                    {"units": unit, "long_name": long_name})
    out["quality"] = (("share",), quality_proxy(e, small_accuracy, large_accuracy, ranking),
                      {"units": "1", "long_name": "quality proxy (expected share correct)"})
    out["threshold"] = (("share",), e.copy(), {"units": "1", "long_name": "confidence threshold (uniform score)"})
    ds = xr.Dataset(out, coords={"share": ("share", e, {"units": "1", "long_name": "share of requests escalated"})})
    ds.attrs.update({"probe": probe, "ranking": ranking, "small_accuracy": small_accuracy,
                     "large_accuracy": large_accuracy})
    return ds
