"""Latency distributions of a control loop and the probability that it misses its deadline.

One remote control step of a device takes

    L = c + A + W + H

* ``c`` [ms], constant: two traversals of the path over the link graph (device's access PoP to the
  serving site and back), the payload's transmission time and the inference time;
* ``A`` [ms], the **round trip of the access segment** (device -> first network site -> device):
  ``shift`` + a lognormal body, optionally mixed with a second lognormal tail (heavy-tailed Wi-Fi), fitted
  to two quantiles (:meth:`AccessDist.from_quantiles`): with ``z_q`` the standard normal quantile,
  ``sigma = (ln(t2 - shift) - ln(t1 - shift)) / (z_q2 - z_q1)`` and ``mu = ln(t1 - shift) - sigma z_q1``
  (for a median and a p99: ``sigma = ln(p99 / median) / 2.3263``, FIGURES-M2 2.5 [D]);
* ``W`` [ms], the wait for an inference slot at the serving site: 0 with probability ``1 - p_wait``,
  else exponential with rate ``theta`` (Erlang C and the Allen-Cunneen decay of an M/G/c queue,
  :mod:`workbench_edge.queueing`);
* ``H`` [ms], a handover interruption: with probability ``p_ho`` the step overlaps an interruption of
  length ``h`` and waits for a uniform share of it (0 to ``h``).

The deadline-miss probability ``P(L > D)`` is computed by conditioning on ``W + H``, whose CDF has a
closed form (:func:`wait_handover_cdf`), and using the access distribution's closed-form survival
function: ``P(L > D) = sum_j m_j P(A > D - c - x_j)`` over a grid of ``W + H`` values ``x_j`` with masses
``m_j`` (the exact atom at 0 plus cell masses at cell midpoints; second-order accurate in the cell width).
Without queueing and handover it is exactly ``P(A > D - c)``. The expected lateness ``E[(L - D)^+]``
uses the same grid and the closed-form partial expectation of a lognormal (the Black-Scholes call).
:func:`sample_loop` draws the same model for the Monte Carlo check.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from workbench.errors import WorkbenchError

__all__ = ["AccessDist", "EmbodiedError", "expected_lateness", "miss_probability", "parse_access",
           "sample_loop", "wait_handover_cdf", "wilson_interval"]


class EmbodiedError(WorkbenchError, ValueError):
    """Bad input to the embodied plugin (names the parameter, field or file and what was expected)."""


def _z(q: float) -> float:
    return float(ndtri(q))


@dataclass(frozen=True)
class AccessDist:
    """Round-trip access latency [ms]: ``shift`` + lognormal(``mu``, ``sigma``), with probability ``tail_share``
    replaced by ``shift`` + lognormal(``tail_mu``, ``tail_sigma``) (a documented two-component mixture)."""

    shift: float = 0.0
    mu: float = 0.0
    sigma: float = 0.0
    tail_share: float = 0.0
    tail_mu: float = 0.0
    tail_sigma: float = 0.0
    name: str = ""

    def __post_init__(self) -> None:
        for f in ("shift", "mu", "sigma", "tail_share", "tail_mu", "tail_sigma"):
            v = getattr(self, f)
            if not (isinstance(v, (int, float)) and math.isfinite(v)):
                raise EmbodiedError(f"access distribution {self.name or ''}: {f} must be a finite number, got {v!r}")
        if self.shift < 0 or self.sigma < 0 or self.tail_sigma < 0 or not 0 <= self.tail_share < 1:
            raise EmbodiedError(f"access distribution {self.name!r}: expected shift >= 0 [ms], sigma >= 0 and "
                                f"0 <= tail_share < 1, got shift={self.shift}, sigma={self.sigma}, "
                                f"tail_share={self.tail_share}")

    # ------------------------------------------------------------------ construction
    @staticmethod
    def _fit(q1, t1, q2, t2, shift, what):
        if not (0 < q1 < q2 < 1):
            raise EmbodiedError(f"{what}: quantile levels must satisfy 0 < q1 < q2 < 1, got {q1}, {q2}")
        if not (shift < t1 < t2):
            raise EmbodiedError(f"{what}: times must satisfy shift < t1 < t2 [ms], got shift={shift}, t1={t1}, "
                                f"t2={t2}")
        sigma = (math.log(t2 - shift) - math.log(t1 - shift)) / (_z(q2) - _z(q1))
        mu = math.log(t1 - shift) - sigma * _z(q1)
        return mu, sigma

    @classmethod
    def from_quantiles(cls, q1: float, t1: float, q2: float, t2: float, shift: float = 0.0, tail_share: float = 0.0,
                       tail_median: float = math.nan, tail_p99: float = math.nan, name: str = "") -> AccessDist:
        """Fit the body to ``P(A <= t1) = q1`` and ``P(A <= t2) = q2`` (times in ms, ``t > shift``); the optional
        tail component (probability ``tail_share``) to its median and 99th percentile."""
        what = f"access distribution {name!r}" if name else "access distribution"
        mu, sigma = cls._fit(float(q1), float(t1), float(q2), float(t2), float(shift), what)
        tmu = tsig = 0.0
        share = 0.0 if tail_share is None or (isinstance(tail_share, float) and math.isnan(tail_share)) \
            else float(tail_share)
        if share > 0:
            tmu, tsig = cls._fit(0.5, float(tail_median), 0.99, float(tail_p99), float(shift), what + " tail")
        return cls(float(shift), mu, sigma, share, tmu, tsig, name)

    @classmethod
    def constant(cls, value_ms: float, name: str = "") -> AccessDist:
        """A fixed access round trip (no randomness)."""
        return cls(max(float(value_ms), 0.0), -50.0, 0.0, name=name)   # + exp(-50) ms = 2e-22 ms: zero

    # ------------------------------------------------------------------ distribution functions
    def _components(self):
        comps = [(1.0 - self.tail_share, self.mu, self.sigma)]
        if self.tail_share > 0:
            comps.append((self.tail_share, self.tail_mu, self.tail_sigma))
        return comps

    def _above_shift(self, t):
        """(``t - shift``, where it is positive, its log there (0 elsewhere)) for ``t`` [ms]."""
        y = np.asarray(t, float) - self.shift
        pos = y > 0
        return y, pos, np.log(np.where(pos, y, 1.0))

    def sf(self, t) -> np.ndarray:
        """``P(A > t)`` for ``t`` [ms] (array)."""
        _, pos, ly = self._above_shift(t)
        out = np.zeros(np.shape(pos))
        for w, mu, sig in self._components():
            if sig > 0:
                part = ndtr((mu - ly) / sig)
            else:
                part = (ly < mu).astype(float)
            out = out + w * np.where(pos, part, 1.0)
        return out

    def cdf(self, t) -> np.ndarray:
        """``P(A <= t)``."""
        return 1.0 - self.sf(t)

    def mean(self) -> float:
        """``E[A]`` [ms]."""
        return self.shift + sum(w * math.exp(mu + sig * sig / 2) for w, mu, sig in self._components())

    def partial_excess(self, y) -> np.ndarray:
        """``E[(A - y)^+]`` [ms] in closed form (lognormal partial expectation)."""
        z, pos, lz = self._above_shift(y)
        out = np.zeros(np.shape(pos))
        for w, mu, sig in self._components():
            m = math.exp(mu + sig * sig / 2)
            if sig > 0:
                d2 = (mu - lz) / sig
                part = m * ndtr(d2 + sig) - z * ndtr(d2)
            else:
                part = np.maximum(m - z, 0.0)
            out = out + w * np.where(pos, part, m - z)
        return out

    def quantile(self, q) -> np.ndarray:
        """Inverse CDF [ms] (exact for one component, bisection for a mixture)."""
        q = np.asarray(q, float)
        if self.tail_share == 0:
            return self.shift + np.exp(self.mu + self.sigma * ndtri(q))
        lo = np.full(q.shape, self.shift)
        hi = np.full(q.shape, self.shift + math.exp(max(self.mu, self.tail_mu) + 9 * max(self.sigma, self.tail_sigma)))
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            low = self.cdf(mid) < q
            lo = np.where(low, mid, lo)
            hi = np.where(low, hi, mid)
        return 0.5 * (lo + hi)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws [ms]."""
        z = rng.standard_normal(n)
        body = self.mu + self.sigma * z
        if self.tail_share > 0:
            tail = rng.random(n) < self.tail_share
            body = np.where(tail, self.tail_mu + self.tail_sigma * z, body)
        return self.shift + np.exp(body)

    def summary(self) -> dict:
        """Parameters and headline quantiles (for ``--json``)."""
        out = {"shift_ms": self.shift, "mu": self.mu, "sigma": self.sigma, "median_ms": float(self.quantile(0.5)),
               "p99_ms": float(self.quantile(0.99)), "p99_999_ms": float(self.quantile(0.99999)),
               "mean_ms": self.mean(), "distribution": "shifted lognormal"}
        if self.tail_share > 0:
            out.update(tail_share=self.tail_share, tail_mu=self.tail_mu, tail_sigma=self.tail_sigma,
                       distribution="shifted lognormal mixture (body + tail)")
        return out


_PAIR = re.compile(r"^\s*(?:(?P<pct>[0-9.]+)\s*%\s*<=\s*|p(?P<p>[0-9.]+)\s*=\s*|(?P<key>median|shift)\s*=\s*)"
                   r"(?P<t>[0-9.eE+-]+)\s*(?:ms)?\s*$")


def parse_access(spec: str, name: str = "--access") -> AccessDist:
    """An access distribution from text: two quantile pairs ``"99.9%<=6ms,99.999%<=10ms"`` or
    ``"median=5ms,p99=20ms"`` (``pNN=T`` means ``P(A <= T) = NN%``), and optionally ``shift=Tms``."""
    if not isinstance(spec, str) or not spec.strip():
        raise EmbodiedError(f"{name}: expected two quantiles such as '99.9%<=6ms,99.999%<=10ms' or "
                            f"'median=5ms,p99=20ms', got {spec!r}")
    pairs, shift, seen_shift = [], 0.0, False
    for part in spec.split(","):
        m = _PAIR.match(part)
        if not m:
            raise EmbodiedError(f"{name}: cannot read {part.strip()!r}; expected 'X%<=Tms', 'pNN=Tms', "
                                f"'median=Tms' or 'shift=Tms'")
        try:
            t = float(m["t"])
        except ValueError:
            raise EmbodiedError(f"{name}: cannot read the time in {part.strip()!r}; expected a number of ms") from None
        if m["key"] == "shift":
            if seen_shift:
                raise EmbodiedError(f"{name}: shift given twice in {spec!r}")
            seen_shift, shift = True, t
            continue
        try:
            q = 0.5 if m["key"] == "median" else float(m["pct"] or m["p"]) / 100.0
        except ValueError:
            raise EmbodiedError(f"{name}: cannot read the percentage in {part.strip()!r}") from None
        pairs.append((q, t))
    if len(pairs) != 2:
        raise EmbodiedError(f"{name}: expected exactly two quantile pairs, got {len(pairs)} in {spec!r}")
    (q1, t1), (q2, t2) = sorted(pairs)
    return AccessDist.from_quantiles(q1, t1, q2, t2, shift=shift, name=spec)


# ---------------------------------------------------------------------- wait + handover


def wait_handover_cdf(x, p_wait, theta, p_ho, ho_ms) -> np.ndarray:
    """CDF of ``W + H`` at ``x`` [ms] (broadcast): ``W`` = 0 w.p. ``1 - p_wait`` else Exp(``theta`` [1/ms]);
    ``H`` = 0 w.p. ``1 - p_ho`` else Uniform(0, ``ho_ms``).

    ``F(x) = (1 - p_ho) F_W(x) + p_ho / h * integral_0^min(x, h) F_W(x - u) du`` with
    ``F_W(t) = 1 - p_wait exp(-theta t)``, whose integral over ``u`` in ``[0, a]`` is
    ``a - p_wait / theta (exp(-theta (x - a)) - exp(-theta x))``.
    """
    x = np.asarray(x, float)
    pw = np.asarray(p_wait, float)
    th = np.asarray(theta, float)
    ph = np.asarray(p_ho, float)
    h = np.asarray(ho_ms, float)
    pw = np.where(np.isfinite(th) & (th > 0), pw, 0.0)       # an infinitely fast decay is no wait
    th = np.where(pw > 0, th, 1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        fw = np.where(x >= 0, 1.0 - pw * np.exp(-th * np.maximum(x, 0.0)), 0.0)
        a = np.clip(x, 0.0, h)
        integral = a - pw / th * (np.exp(-th * (x - a)) - np.exp(-th * x))
        fh = np.where(h > 0, integral / np.where(h > 0, h, 1.0), fw)
    return np.where(x < 0, 0.0, (1.0 - ph) * fw + ph * fh)


def _grid(budget, p_wait, theta, p_ho, ho_ms, cells):
    """Grid of ``W + H`` [ms] per row: returns (points (k, J+1), masses (k, J+1), remaining mass (k,)). Point 0
    carries the atom ``P(W + H = 0)``, the cells ``(x_j, x_j+1]`` their mass at the midpoint; each row's grid runs
    from 0 to its own budget (beyond it the step misses whatever ``A`` is), so a short deadline next to a long
    one keeps its resolution."""
    top = np.maximum(np.where(np.isfinite(budget), budget, 0.0), 1e-9)
    unit = np.linspace(0.0, 1.0, cells + 1)
    edges = top[:, None] * unit[None, :]
    F = wait_handover_cdf(edges, p_wait[:, None], theta[:, None], p_ho[:, None], ho_ms[:, None])
    atom = (1.0 - np.where(np.isfinite(theta) & (theta > 0), p_wait, 0.0)) * (1.0 - p_ho)
    mass = np.diff(F, axis=1)
    mass[:, 0] += F[:, 0] - atom                       # F(0) = atom (continuous parts start after 0)
    pts = np.concatenate([np.zeros((top.size, 1)), 0.5 * (edges[:, 1:] + edges[:, :-1])], axis=1)
    m = np.concatenate([atom[:, None], mass], axis=1)
    rest = np.clip(1.0 - F[:, -1], 0.0, 1.0)
    return pts, m, rest


def _prep(access, const_ms, deadline_ms, p_wait, theta, p_ho, ho_ms):
    const = np.asarray(const_ms, float)
    dl = np.asarray(deadline_ms, float)
    shape = np.broadcast_shapes(const.shape, dl.shape, np.shape(p_wait), np.shape(theta), np.shape(p_ho),
                                np.shape(ho_ms))
    if isinstance(access, AccessDist):
        idx = np.zeros(shape, np.int64)
        dists = [access]
    else:
        dists, idx = access
        idx = np.broadcast_to(np.asarray(idx, np.int64), shape)
    b = [np.broadcast_to(np.asarray(v, float), shape).ravel() for v in (dl - const, p_wait, theta, p_ho, ho_ms)]
    b[3] = np.where(b[4] > 0, b[3], 0.0)             # an interruption of 0 ms is no interruption
    return dists, idx.ravel(), b, shape


def miss_probability(access, const_ms, deadline_ms, p_wait=0.0, theta=np.inf, p_ho=0.0, ho_ms=0.0,
                     cells: int = 256, chunk: int = 4096) -> np.ndarray:
    """``P(c + A + W + H > D)`` (broadcast over every argument).

    Parameters
    ----------
    access : AccessDist or (list of AccessDist, index array)
        The access round trip, one distribution for all, or one per element through an index.
    const_ms, deadline_ms : array_like
        Constant part ``c`` and deadline ``D`` [ms]; ``inf`` constant (unreachable) misses with probability 1.
    p_wait, theta : array_like
        Probability of waiting [1] and the exponential decay of the wait [1/ms]; ``p_wait >= 1`` (an
        overloaded site) misses with probability 1.
    p_ho, ho_ms : array_like
        Probability that a step overlaps a handover [1] and the interruption length [ms].
    cells : int
        Grid cells for ``W + H`` per row, from 0 to the row's budget (only used where they are random). The
        midpoint rule converges fast while a cell is narrower than the access distribution's spread: 256 cells
        agree with 8,000 to about 1e-4 of the value for public 5G and 5G-A; a very narrow access distribution
        (URLLC) under a long interruption errs up to ~1%.
    """
    dists, idx, (budget, pw, th, ph, h), shape = _prep(access, const_ms, deadline_ms, p_wait, theta, p_ho, ho_ms)
    out = np.ones(budget.shape)
    simple = ((pw <= 0) | ~np.isfinite(th) & (th > 0)) & ((ph <= 0) | (h <= 0))
    ok = np.isfinite(budget) & (pw < 1)
    for d_i, d in enumerate(dists):
        sel = ok & (idx == d_i)
        s1 = sel & simple
        out[s1] = d.sf(budget[s1])
        rows = np.flatnonzero(sel & ~simple)
        if d.sigma == 0 and d.tail_share == 0:           # a fixed access time: exact through the CDF of W + H
            a0 = d.shift + math.exp(d.mu)
            out[rows] = 1.0 - wait_handover_cdf(budget[rows] - a0, pw[rows], th[rows], ph[rows], h[rows])
            continue
        for start in range(0, rows.size, chunk):
            r = rows[start:start + chunk]
            pts, m, rest = _grid(np.maximum(budget[r], 0.0), pw[r], th[r], ph[r], h[r], cells)
            # W + H beyond the row's budget (``rest``): the step misses whatever A is
            out[r] = (m * d.sf(budget[r][:, None] - pts)).sum(axis=1) + rest
    return np.clip(out, 0.0, 1.0).reshape(shape)


def expected_lateness(access, const_ms, deadline_ms, p_wait=0.0, theta=np.inf, p_ho=0.0, ho_ms=0.0,
                      cells: int = 256, chunk: int = 4096) -> np.ndarray:
    """``E[(L - D)^+]`` [ms]: the mean time a step is late (0 when on time). ``inf`` where unreachable or
    overloaded. Uses the same ``W + H`` grid as :func:`miss_probability`, extended to cover the wait's tail."""
    dists, idx, (budget, pw, th, ph, h), shape = _prep(access, const_ms, deadline_ms, p_wait, theta, p_ho, ho_ms)
    out = np.full(budget.shape, np.inf)
    ok = np.isfinite(budget) & (pw < 1)
    th_eff = np.where(np.isfinite(th) & (pw > 0), th, np.inf)
    for d_i, d in enumerate(dists):
        rows = np.flatnonzero(ok & (idx == d_i))
        for start in range(0, rows.size, chunk):
            r = rows[start:start + chunk]
            # grid long enough for W + H: the budget, the interruption and 30 decay lengths of the wait
            span = np.maximum(budget[r], 0.0) + h[r] * (ph[r] > 0) + np.where(np.isfinite(th_eff[r]), 30.0 / th_eff[r], 0)
            top = np.maximum(span, 1e-6)
            pts, m, rest = _grid(top, pw[r], th[r], ph[r], h[r], cells)
            out[r] = (m * d.partial_excess(budget[r][:, None] - pts)).sum(axis=1)
    return out.reshape(shape)


# ---------------------------------------------------------------------- Monte Carlo


def sample_loop(access: AccessDist, const_ms, n: int, rng, p_wait=0.0, theta=np.inf, p_ho=0.0, ho_ms=0.0):
    """``n`` draws of ``L = c + A + W + H`` [ms] for one combination (scalars)."""
    a = access.sample(n, rng)
    w = np.where(rng.random(n) < p_wait, rng.exponential(1.0 / theta if np.isfinite(theta) and theta > 0 else 0.0,
                                                         n), 0.0) if p_wait > 0 else 0.0
    hh = np.where(rng.random(n) < p_ho, rng.random(n) * ho_ms, 0.0) if p_ho > 0 and ho_ms > 0 else 0.0
    return float(const_ms) + a + w + hh


def wilson_interval(k, n, z: float = 1.959964) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion ``k / n`` (95% by default)."""
    k = np.asarray(k, float)
    n = np.asarray(n, float)
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
