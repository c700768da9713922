"""Population spreading around metro centres, and population-weighted coverage shares.

Pure numpy/scipy; no Scenario. Used by :mod:`workbench.analyses.coverage`.

Population model
----------------
A group (a metro's residents, a city's devices) of ``count`` endpoints centred at ``(lon, lat)``
has a 2-D exponential density ``rho(r) ~ exp(-r / s)`` around its centre, ``s`` = ``spread_km``.
The population inside radius ``r`` is then the Gamma(2) distribution function of ``x = r / s``::

    F(x) = integral_0^r rho(u) 2 pi u du / integral_0^inf (...) = 1 - (1 + x) exp(-x)

(:func:`exponential_share_within`). :func:`spread_population` cuts the population into
``n_rings`` rings of **equal mass** (ring ``i`` holds quantiles ``i/n .. (i+1)/n`` of ``F``; the
outer ring extends to infinity, so nothing is truncated and nothing needs renormalising) and puts
each ring's mass at its mass-median radius ``F^-1((i + 1/2) / n)``, split over ``n_angles`` equally
spaced bearings. For any circle centred on the metro, the share of points inside it is therefore
within ``1 / (2 n_rings)`` of the exact ``F`` (half a ring's mass), whatever the radius.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaincinv

from .geo import EARTH_RADIUS_KM

#: Golden-ratio conjugate [1]: per-ring bearing offset (as a fraction of the angular step), so
#: points of successive rings do not line up radially. A low-discrepancy choice, not a physical figure.
_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0

__all__ = ["coverage_shares", "exponential_radius_km", "exponential_share_within", "spread_population"]


def exponential_share_within(radius_km, spread_km) -> np.ndarray:
    """Share of a 2-D exponential population profile within a radius of its centre (closed form).

    ``1 - (1 + R/s) exp(-R/s)``: the Gamma(2) distribution function of ``R/s`` (untruncated).

    Parameters
    ----------
    radius_km : array_like
        Radius [km], non-negative.
    spread_km : array_like
        Scale length ``s`` of ``rho(r) ~ exp(-r/s)`` [km]; ``0`` means all at the centre (share 1).

    Returns
    -------
    ndarray
        Share of the population [1].
    """
    r = np.asarray(radius_km, dtype=float)
    s = np.asarray(spread_km, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = r / s
        share = -np.expm1(-x) - x * np.exp(-x)        # 1 - e^-x - x e^-x, accurate for small x
    return np.where(s > 0, share, np.where(r >= 0, 1.0, 0.0))


def exponential_radius_km(share, spread_km) -> np.ndarray:
    """Radius containing a given share of a 2-D exponential population profile (inverse of the above).

    Parameters
    ----------
    share : array_like
        Population share [1] in ``[0, 1)``.
    spread_km : array_like
        Scale length ``s`` [km].

    Returns
    -------
    ndarray
        Radius [km]: ``s x P^-1(2, share)``, the Gamma(2) quantile (``inf`` for share 1).
    """
    return gammaincinv(2.0, np.asarray(share, dtype=float)) * np.asarray(spread_km, dtype=float)


def _destination(lon, lat, bearing_rad, dist_km, radius_km=EARTH_RADIUS_KM):
    """Exact destination point on the sphere [degree] from a start [degree], bearing and distance [km]."""
    phi1 = np.radians(lat)
    lam1 = np.radians(lon)
    delta = dist_km / radius_km
    sin_phi2 = np.sin(phi1) * np.cos(delta) + np.cos(phi1) * np.sin(delta) * np.cos(bearing_rad)
    phi2 = np.arcsin(np.clip(sin_phi2, -1.0, 1.0))
    lam2 = lam1 + np.arctan2(np.sin(bearing_rad) * np.sin(delta) * np.cos(phi1),
                             np.cos(delta) - np.sin(phi1) * sin_phi2)
    lon2 = (np.degrees(lam2) + 180.0) % 360.0 - 180.0
    return lon2, np.degrees(phi2)


def spread_population(lon, lat, count, spread_km, n_rings: int = 8, n_angles: int = 12) -> dict:
    """Expand population groups into weighted points with a 2-D exponential density profile.

    Parameters
    ----------
    lon, lat : array_like, shape (n_groups,)
        Group centres [degree].
    count : array_like, shape (n_groups,)
        Endpoints (people, devices) per group [1], finite and non-negative.
    spread_km : array_like, shape (n_groups,)
        Scale length ``s`` of ``rho(r) ~ exp(-r/s)`` [km]. ``0`` or ``NaN``: the group stays one
        point at its centre.
    n_rings : int
        Equal-mass rings per group; ring ``i`` sits at the Gamma(2) quantile ``(i + 1/2) / n_rings``
        (for 8 rings: 0.34 s ... 4.4 s; 50 % of the population lies within 1.68 s).
    n_angles : int
        Points per ring, at equally spaced bearings (offset ring by ring).

    Returns
    -------
    dict of ndarray, one entry per point, ordered by group
        ``lon``, ``lat`` [degree]; ``weight`` [1] (each group's weights sum to its ``count``);
        ``group`` (int index into the inputs); ``r_km`` (great-circle distance from the centre [km]).
    """
    lon = np.asarray(lon, dtype=float).ravel()
    lat = np.asarray(lat, dtype=float).ravel()
    count = np.asarray(count, dtype=float).ravel()
    spread = np.broadcast_to(np.asarray(spread_km, dtype=float), lon.shape).ravel()
    if not (lon.shape == lat.shape == count.shape):
        raise ValueError(f"lon, lat and count must have the same length, got {lon.size}, {lat.size}, {count.size}")
    if n_rings < 1 or n_angles < 1:
        raise ValueError(f"n_rings and n_angles must be >= 1, got {n_rings} and {n_angles}")
    if not np.all(np.isfinite(count)) or np.any(count < 0):
        raise ValueError("count must be finite and non-negative")
    if np.any(spread < 0) or np.any(np.isinf(spread)):
        raise ValueError("spread_km must be finite and non-negative (0 or NaN: no spread)")
    spread = np.nan_to_num(spread, nan=0.0)

    per_group = n_rings * n_angles
    spreads = spread > 0
    n_pts = np.where(spreads, per_group, 1)
    group = np.repeat(np.arange(lon.size), n_pts)
    starts = np.cumsum(n_pts) - n_pts
    pos = np.arange(group.size) - starts[group]            # position of a point within its group
    ring = pos // n_angles
    x_ring = gammaincinv(2.0, (np.arange(n_rings) + 0.5) / n_rings)   # radius / s of each ring
    offset = (np.arange(n_rings) * _GOLDEN) % 1.0
    spread_pt = spreads[group]
    r_km = np.where(spread_pt, x_ring[ring % n_rings] * spread[group], 0.0)
    bearing = 2.0 * np.pi * ((pos % n_angles) + offset[ring % n_rings]) / n_angles
    plon, plat = _destination(lon[group], lat[group], bearing, r_km)
    weight = count[group] / n_pts[group]
    return {"lon": plon, "lat": plat, "weight": weight, "group": group, "r_km": r_km}


def coverage_shares(point_latency_ms, weight, group, budgets_ms, n_groups: int) -> np.ndarray:
    """Weighted share of each group's population whose latency is within each budget.

    Parameters
    ----------
    point_latency_ms : array_like, shape (n_points,)
        One-way latency of each point [ms]; ``inf`` or ``NaN`` never counts as covered.
    weight : array_like, shape (n_points,)
        Endpoints represented by each point [1].
    group : array_like of int, shape (n_points,)
        Group index of each point, in ``[0, n_groups)``.
    budgets_ms : array_like, shape (n_budgets,)
        One-way latency budgets [ms]; a point is covered when ``latency <= budget``.
    n_groups : int
        Number of groups (groups without points get ``NaN``).

    Returns
    -------
    ndarray, shape (n_groups, n_budgets)
        Share of the group's weight within each budget [1]; ``NaN`` for a group of zero weight.
    """
    latency = np.asarray(point_latency_ms, dtype=float).ravel()
    weight = np.asarray(weight, dtype=float).ravel()
    group = np.asarray(group, dtype=np.int64).ravel()
    budgets = np.atleast_1d(np.asarray(budgets_ms, dtype=float))
    if not (latency.shape == weight.shape == group.shape):
        raise ValueError("point_latency_ms, weight and group must have the same length")
    if group.size and (group.min() < 0 or group.max() >= n_groups):
        raise ValueError(f"group indices must be in [0, {n_groups})")
    order = np.argsort(budgets, kind="stable")
    nb = budgets.size
    # first (sorted) budget each point fits in; nb = none (inf and NaN sort past every budget)
    first = np.searchsorted(budgets[order], latency, side="left")
    binned = np.bincount(group * (nb + 1) + first, weights=weight, minlength=n_groups * (nb + 1))
    covered = np.cumsum(binned.reshape(n_groups, nb + 1)[:, :nb], axis=1)
    total = np.bincount(group, weights=weight, minlength=n_groups)
    shares_sorted = np.divide(covered, total[:, None], out=np.full((n_groups, nb), np.nan), where=total[:, None] > 0)
    shares = np.empty_like(shares_sorted)
    shares[:, order] = shares_sorted
    return shares
