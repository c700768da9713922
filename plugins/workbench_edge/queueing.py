"""Per-site queueing of inference requests: an M/G/c approximation and a small simulation to check it.

A site's pool of replicas is treated as ``c`` servers ("slots"): ``replicas x b`` concurrent sequences
at the operating batch ``b``, each slot busy for the request's lifetime ``S = T(b)`` (the serving
model's cycle, so the pool completes ``c / S`` requests per second). Requests arrive as a Poisson
stream of rate ``lambda``.

* Probability of waiting: Erlang C, computed exactly through the identity Erlang B(c, a) =
  Poisson pmf(c; a) / Poisson cdf(c; a) (stable for any ``c``), with offered load ``a = lambda S``.
* Waiting time: the Allen-Cunneen (Kingman-type) approximation for M/G/c, exact for M/M/c:
  ``P(W > t) ~ C exp(-t (c mu - lambda) 2 / (1 + cs^2))`` with ``cs^2`` the squared coefficient of
  variation of the service time. Quantiles and SLO attainment follow in closed form.

:func:`simulate_mgc` is a first-come-first-served multi-server simulation (one Python loop over
requests with a heap; used by the tests and the notebook on small instances, never in the routing hot
path) against which the approximation is checked.

References
----------
A. O. Allen, *Probability, Statistics, and Queueing Theory*, 2nd ed., Academic Press, 1990 (the
Allen-Cunneen approximation). L. Kleinrock, *Queueing Systems, Vol. 1*, Wiley, 1975 (Erlang C).
"""

from __future__ import annotations

import heapq

import numpy as np
from scipy.stats import poisson

__all__ = ["erlang_c", "mgc_wait_mean", "mgc_wait_quantile", "simulate_mgc", "slo_attainment"]


def erlang_c(servers, offered_load) -> np.ndarray:
    """Probability that an arrival waits in an M/M/c queue (Erlang C).

    Parameters
    ----------
    servers : array_like
        Servers ``c`` [1] (integers, broadcast with ``offered_load``).
    offered_load : array_like
        ``a = lambda / mu`` [1] (erlangs).

    Returns
    -------
    ndarray
        Probability [1]; 1 where ``a >= c`` (unstable), 0 where ``a == 0``.

    Examples
    --------
    >>> round(float(erlang_c(2, 1.0)), 6)      # c = 2, a = 1: (1/2 * 2) / (1 + 1 + 1) = 1/3
    0.333333
    """
    c = np.asarray(servers, dtype=float)
    a = np.asarray(offered_load, dtype=float)
    c, a = np.broadcast_arrays(c, a)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        b = np.exp(poisson.logpmf(c, a) - poisson.logcdf(c, a))   # Erlang B
        ec = c * b / (c - a * (1.0 - b))
    ec = np.where(a <= 0, 0.0, ec)
    return np.where(a >= c, 1.0, np.clip(ec, 0.0, 1.0))


def _decay(servers, arrival_rate, service_time, cs2):
    c = np.asarray(servers, float)
    lam = np.asarray(arrival_rate, float)
    s = np.asarray(service_time, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (c / s - lam) * 2.0 / (1.0 + np.asarray(cs2, float))


def mgc_wait_mean(servers, arrival_rate, service_time, cs2=1.0) -> np.ndarray:
    """Mean waiting time in queue of an M/G/c system (Allen-Cunneen).

    Parameters
    ----------
    servers : array_like
        ``c`` [1].
    arrival_rate : array_like
        ``lambda`` [request/s].
    service_time : array_like
        Mean service time ``S`` [s].
    cs2 : array_like
        Squared coefficient of variation of the service time [1] (1 = exponential, 0 = deterministic).

    Returns
    -------
    ndarray
        Mean wait [s]; ``inf`` when ``lambda S >= c``.
    """
    a = np.asarray(arrival_rate, float) * np.asarray(service_time, float)
    theta = _decay(servers, arrival_rate, service_time, cs2)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = erlang_c(servers, a) / theta
    return np.where(a >= np.asarray(servers, float), np.inf, w)


def mgc_wait_quantile(q, servers, arrival_rate, service_time, cs2=1.0) -> np.ndarray:
    """Waiting-time quantile of an M/G/c queue: ``max(0, ln(C / (1 - q)) / theta)``.

    Parameters
    ----------
    q : array_like
        Quantile in (0, 1) [1] (0.5 for the median, 0.99 for p99).
    servers, arrival_rate, service_time, cs2
        As in :func:`mgc_wait_mean`.

    Returns
    -------
    ndarray
        Wait [s] exceeded with probability ``1 - q``; ``inf`` for an unstable queue.
    """
    q = np.asarray(q, float)
    a = np.asarray(arrival_rate, float) * np.asarray(service_time, float)
    c_wait = erlang_c(servers, a)
    theta = _decay(servers, arrival_rate, service_time, cs2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.log(c_wait / (1.0 - q)) / theta
    t = np.where(c_wait <= 1.0 - q, 0.0, t)
    return np.where(a >= np.asarray(servers, float), np.inf, t)


def slo_attainment(slack, servers, arrival_rate, service_time, cs2=1.0) -> np.ndarray:
    """Share of requests whose queueing wait is within ``slack``: ``1 - C exp(-theta slack)``.

    Parameters
    ----------
    slack : array_like
        Time left for waiting once network and processing are counted [s]; negative means the SLO is
        missed even without a wait.
    servers, arrival_rate, service_time, cs2
        As in :func:`mgc_wait_mean`.

    Returns
    -------
    ndarray
        Share [1].
    """
    slack = np.asarray(slack, float)
    a = np.asarray(arrival_rate, float) * np.asarray(service_time, float)
    c_wait = erlang_c(servers, a)
    theta = _decay(servers, arrival_rate, service_time, cs2)
    with np.errstate(over="ignore", invalid="ignore"):
        share = 1.0 - c_wait * np.exp(-theta * np.maximum(slack, 0.0))
    share = np.where(slack < 0, 0.0, share)
    return np.where(a >= np.asarray(servers, float), 0.0, np.clip(share, 0.0, 1.0))


def simulate_mgc(arrival_rate: float, service_sampler, servers: int, n: int = 20000, seed: int = 0,
                 warmup: int = 1000) -> np.ndarray:
    """Waiting times of a first-come-first-served M/G/c queue by simulation.

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate [1/s].
    service_sampler : callable
        ``service_sampler(rng, n) -> ndarray`` of service times [s].
    servers : int
        ``c`` [1].
    n : int
        Requests simulated [1].
    seed : int
        Random seed.
    warmup : int
        Leading requests dropped from the result [1].

    Returns
    -------
    ndarray
        Waiting time of each request after the warm-up [s].
    """
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1.0 / arrival_rate, n))
    service = np.asarray(service_sampler(rng, n), dtype=float)
    free = [0.0] * int(servers)          # time each server becomes free (a heap)
    heapq.heapify(free)
    wait = np.empty(n)
    for i in range(n):                   # FCFS: the next request takes the earliest free server
        t_free = heapq.heappop(free)
        start = max(arrivals[i], t_free)
        wait[i] = start - arrivals[i]
        heapq.heappush(free, start + service[i])
    return wait[warmup:]
