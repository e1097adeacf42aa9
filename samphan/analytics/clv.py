"""BG/NBD and Gamma-Gamma, fitted by maximum likelihood: plain NumPy/SciPy, no Django.

References
- BG/NBD: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An
  Alternative to the Pareto/NBD Model", Marketing Science 24(2) — equations (6),
  (10) and (13) and Hardie's note "Computing P(alive) using the BG/NBD model".
- Gamma-Gamma: Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves
  for Customer Base Analysis", J. Marketing Research 42(4), and Fader & Hardie's
  note "The Gamma-Gamma Model of Monetary Value" (2013).

Inputs per customer, all in one time unit (days or weeks):
- ``x``   — repeat purchases: distinct purchase days after the first one;
- ``t_x`` — time from the first purchase to the last one (recency);
- ``T``   — time from the first purchase to the end of the calibration period;
- ``m``   — mean value of the repeat purchases (Gamma-Gamma, only for x > 0).

Speed: the log-likelihood and its analytic gradient run on the *unique*
(x, t_x, T) triples with a count each, and the terms that depend on x alone
run on the unique x values; a million customers with daily data collapse to a
few hundred thousand triples and a few hundred x values.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1


class FitError(ValueError):
    """The data cannot support a fit (too few customers or repeat buyers)."""


# --- grouping ----------------------------------------------------------------------


@dataclass(frozen=True)
class Grouped:
    """Unique rows of the inputs, how many customers share each, and the way back."""

    columns: tuple[np.ndarray, ...]
    counts: np.ndarray
    inverse: np.ndarray  # row i of the input is unique row inverse[i]


def group_rows(*columns: np.ndarray) -> Grouped:
    """Group equal rows of several same-length 1-D arrays (np.unique over rows).

    Whole non-negative numbers below 2**20 (day counts) are packed into one
    int64 key first, which makes grouping a million rows a 1-D sort.
    """
    arrays = [np.asarray(c) for c in columns]
    if arrays and len(arrays) <= 3 and all(
        a.size and np.issubdtype(a.dtype, np.integer) and a.min() >= 0 and a.max() < 2**20 for a in arrays
    ):
        key = np.zeros(arrays[0].shape, dtype=np.int64)
        for a in arrays:
            key = (key << 20) | a.astype(np.int64)
        ukey, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
        cols = []
        for i in range(len(arrays)):
            shift = 20 * (len(arrays) - 1 - i)
            cols.append(((ukey >> shift) & (2**20 - 1)).astype(np.float64))
        return Grouped(tuple(cols), counts.astype(np.float64), inverse.reshape(-1))
    stacked = np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
    if stacked.shape[0] == 0:
        return Grouped(tuple(np.empty(0) for _ in columns), np.empty(0), np.empty(0, dtype=np.int64))
    unique, inverse, counts = np.unique(stacked, axis=0, return_inverse=True, return_counts=True)
    return Grouped(tuple(unique[:, i] for i in range(unique.shape[1])), counts.astype(np.float64),
                   inverse.reshape(-1))


# --- BG/NBD ------------------------------------------------------------------------


@dataclass(frozen=True)
class BGNBDParams:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")
    customers: int = 0
    iterations: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _bgnbd_terms(log_params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
                 w: np.ndarray, ux: np.ndarray, ux_inv: np.ndarray, ux_w: np.ndarray,
                 ) -> tuple[float, np.ndarray]:
    """Total log-likelihood and its gradient w.r.t. the log-parameters.

    Per customer (Fader, Hardie & Lee 2005, eq. 6, rearranged):
        ll = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
             + ln[ (α+T)^−(r+x) + 1{x>0} · a/(b+x−1) · (α+t_x)^−(r+x) ]
    The first five terms depend on x only and are summed over unique x.
    """
    r, alpha, a, b = np.exp(log_params)
    # x-only part, on unique x with the summed weights.
    part_x = gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + betaln(a, b + ux) - betaln(a, b)
    total = float(ux_w @ part_x)
    d_r = float(ux_w @ (digamma(r + ux) - digamma(r) + np.log(alpha)))
    d_alpha = float(ux_w.sum() * r / alpha)
    dig_ab = digamma(a + b)
    d_a = float(ux_w @ (dig_ab - digamma(a + b + ux)))
    d_b = float(ux_w @ (digamma(b + ux) - digamma(a + b + ux) - digamma(b) + dig_ab))

    # The mixture over "still alive at T" / "dropped out after the last purchase".
    rx = r + x
    log_alive = -rx * np.log(alpha + T)
    has_repeat = x > 0
    log_drop = np.full_like(x, -np.inf)
    xr = x[has_repeat]
    log_drop[has_repeat] = (np.log(a) - np.log(b + xr - 1) - rx[has_repeat] * np.log(alpha + t_x[has_repeat]))
    lse = np.logaddexp(log_alive, log_drop)
    total += float(w @ lse)
    share_drop = np.exp(log_drop - lse)  # 0 where x == 0
    share_alive = 1.0 - share_drop
    d_r += float(w @ (-share_alive * np.log(alpha + T) - share_drop * np.log(alpha + t_x)))
    d_alpha += float(w @ (-rx * (share_alive / (alpha + T) + share_drop / (alpha + t_x))))
    d_a += float(w @ share_drop) / a
    bx1 = np.where(has_repeat, b + x - 1, 1.0)
    d_b -= float(w @ (share_drop / bx1))
    grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return total, grad


def bgnbd_log_likelihood(params: BGNBDParams | tuple[float, float, float, float],
                         x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> float:
    """Total log-likelihood of the data under the given parameters."""
    if isinstance(params, BGNBDParams):
        params = (params.r, params.alpha, params.a, params.b)
    g = group_rows(x, t_x, T)
    ux, ux_inv = np.unique(g.columns[0], return_inverse=True)
    ux_w = np.bincount(ux_inv, weights=g.counts)
    gx, gt_x, gT = g.columns
    total, _ = _bgnbd_terms(np.log(np.asarray(params, dtype=float)), gx, gt_x, gT, g.counts, ux, ux_inv, ux_w)
    return total


def bgnbd_fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, *, min_customers: int = 20,
              grouped: Grouped | None = None) -> BGNBDParams:
    """Maximum-likelihood BG/NBD parameters (L-BFGS-B on log-parameters, analytic gradient)."""
    g = grouped or group_rows(x, t_x, T)
    n = int(g.counts.sum())
    ux_all = g.columns[0]
    if n < min_customers:
        raise FitError(f"a BG/NBD fit needs at least {min_customers} customers with a purchase, not {n}")
    if not np.any(ux_all > 0):
        raise FitError("a BG/NBD fit needs some repeat purchases; no customer bought twice")
    if np.any(g.columns[2] <= 0):
        raise FitError("every customer needs T > 0 (a first purchase before the calibration end)")
    ux, ux_inv = np.unique(ux_all, return_inverse=True)
    ux_w = np.bincount(ux_inv, weights=g.counts)
    gx, gt_x, gT = g.columns

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad = _bgnbd_terms(theta, gx, gt_x, gT, g.counts, ux, ux_inv, ux_w)
        return -ll / n, -grad / n

    # Start from moment-like guesses: r = 1, α = mean T / mean purchases, a = b = 1.
    mean_rate = float(g.counts @ (ux_all + 1)) / float(g.counts @ g.columns[2])
    theta0 = np.log([1.0, 1.0 / max(mean_rate, 1e-9), 1.0, 1.0])
    result = _minimise(objective, theta0)
    r, alpha, a, b = np.exp(result.x)
    return BGNBDParams(r=float(r), alpha=float(alpha), a=float(a), b=float(b),
                       log_likelihood=float(-result.fun * n), customers=n, iterations=int(result.nit))


def _minimise(objective: Any, theta0: np.ndarray) -> Any:
    bounds = [(-20.0, 20.0)] * len(theta0)
    # L-BFGS-B calls BLAS on 4-element vectors; a multi-threaded OpenBLAS then spends more time
    # waking threads than computing (3x slower on a busy 2-core machine), so one thread here.
    with _single_blas_thread():
        result = minimize(objective, theta0, jac=True, method="L-BFGS-B", bounds=bounds,
                          options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9})
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise FitError("the fit did not converge (the data may be too sparse)")
    return result


def _single_blas_thread() -> Any:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: only a speed-up
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def bgnbd_p_alive(p: BGNBDParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(still active at T | x, t_x, T) (Fader, Hardie & Lee 2005; Hardie's P(alive) note)."""
    x = np.asarray(x, dtype=float)
    ratio = np.exp((p.r + x) * (np.log(p.alpha + T) - np.log(p.alpha + t_x)))
    odds = np.where(x > 0, p.a / np.maximum(p.b + x - 1, 1e-12) * ratio, 0.0)
    return 1.0 / (1.0 + odds)


def bgnbd_expected_purchases(p: BGNBDParams, t: float, x: np.ndarray, t_x: np.ndarray,
                             T: np.ndarray) -> np.ndarray:
    """E[purchases in (T, T+t] | x, t_x, T] (Fader, Hardie & Lee 2005, eq. 10).

        E = (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · ₂F₁(r+x, b+x; a+b+x−1; z)] · P(alive)
        z = t / (α+T+t)

    The product (1−z)^(r+x) ₂F₁(r+x, b+x; c; z) is evaluated through Euler's
    transformation as (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; c; z): the original series
    diverges near z = 1 for heavy buyers and overflows; this one stays tame.
    """
    x = np.asarray(x, dtype=float)
    T = np.asarray(T, dtype=float)
    if t <= 0:
        return np.zeros_like(x)
    r, alpha, a, b = p.r, p.alpha, p.a, p.b
    if abs(a - 1) < 1e-9:  # the limit a → 1 is finite; nudge to keep the formula usable
        a = 1 + 1e-9
    c = a + b + x - 1
    z = t / (alpha + T + t)
    with np.errstate(all="ignore"):
        euler = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, c, z)
        if_alive = (c / (a - 1)) * (1 - euler)
    bad = ~np.isfinite(if_alive)
    if bad.any():
        # Very large a and b (a dropout probability nearly the same for everyone): the
        # series overflows, but then Beta(a, b+x) is so narrow that quadrature is exact.
        if_alive = np.where(bad, 0.0, if_alive)
        if_alive[bad] = _expected_if_alive_quadrature(r, alpha, a, b, x[bad], np.broadcast_to(T, x.shape)[bad], t)
    return if_alive * bgnbd_p_alive(p, x, t_x, T)


def _expected_if_alive_quadrature(r: float, alpha: float, a: float, b: float, x: np.ndarray, T: np.ndarray,
                                  t: float, nodes: int = 48) -> np.ndarray:
    """E_p[(1 − ((α+T)/(α+T+p t))^(r+x)) / p] for p ~ Beta(a, b+x), by Gauss–Legendre over ±12 sd."""
    bx = b + x
    mean = a / (a + bx)
    sd = np.sqrt(a * bx / ((a + bx) ** 2 * (a + bx + 1)))
    lo = np.maximum(mean - 12 * sd, 1e-300)[:, None]
    hi = np.minimum(mean + 12 * sd, 1 - 1e-16)[:, None]
    u, w = np.polynomial.legendre.leggauss(nodes)
    q = lo + (hi - lo) * (u + 1) / 2
    log_pdf = (a - 1) * np.log(q) + (bx[:, None] - 1) * np.log1p(-q) - betaln(a, bx)[:, None]
    log_pdf -= log_pdf.max(axis=1, keepdims=True)  # normalised below: only the shape matters
    dens = np.exp(log_pdf) * w
    g = -np.expm1(-(r + x[:, None]) * np.log1p(q * t / (alpha + T[:, None]))) / q
    return (g * dens).sum(axis=1) / dens.sum(axis=1)


def bgnbd_expected_purchases_new(p: BGNBDParams, t: float) -> float:
    """E[X(t)] for a new customer (eq. 7): purchases in the first t periods."""
    r, alpha, a, b = p.r, p.alpha, p.a, p.b
    z = t / (alpha + t)
    return float((a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z)))


# --- Gamma-Gamma -------------------------------------------------------------------


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float
    log_likelihood: float = float("nan")
    customers: int = 0
    iterations: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _gg_terms(log_params: np.ndarray, x: np.ndarray, m: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """Log-likelihood of mean spends m over x repeat purchases, and its gradient.

        ll = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m + px ln x − (px+q) ln(γ + m x)
    """
    p, q, gamma = np.exp(log_params)
    px = p * x
    log_gmx = np.log(gamma + m * x)
    ll = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma) + (px - 1) * np.log(m)
          + px * np.log(x) - (px + q) * log_gmx)
    dig = digamma(px + q)
    d_p = x * (dig - digamma(px) + np.log(m) + np.log(x) - log_gmx)
    d_q = dig - digamma(q) + np.log(gamma) - log_gmx
    d_g = q / gamma - (px + q) / (gamma + m * x)
    grad = np.array([float(w @ d_p) * p, float(w @ d_q) * q, float(w @ d_g) * gamma])
    return float(w @ ll), grad


def gamma_gamma_fit(x: np.ndarray, m: np.ndarray, *, min_customers: int = 10) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma parameters, on customers with x > 0 and m > 0 only."""
    x = np.asarray(x, dtype=float)
    m = np.asarray(m, dtype=float)
    keep = (x > 0) & (m > 0) & np.isfinite(m)
    # Mean spends are continuous: grouping equal (x, m) pairs would save little and cost a sort.
    xs, ms = x[keep], m[keep]
    weights = np.ones(len(xs))
    n = len(xs)
    if n < min_customers:
        raise FitError(f"a Gamma-Gamma fit needs at least {min_customers} repeat buyers with a spend, not {n}")

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad = _gg_terms(theta, xs, ms, weights)
        return -ll / n, -grad / n

    # Start near a method-of-moments guess: E[M] = pγ/(q−1).
    mean_m = float(ms.mean())
    theta0 = np.log([1.0, 2.0, max(mean_m, 1e-6)])
    result = _minimise(objective, theta0)
    p, q, gamma = np.exp(result.x)
    return GammaGammaParams(p=float(p), q=float(q), gamma=float(gamma), log_likelihood=float(-result.fun * n),
                            customers=n, iterations=int(result.nit))


def gamma_gamma_log_likelihood(params: GammaGammaParams | tuple[float, float, float],
                               x: np.ndarray, m: np.ndarray) -> float:
    if isinstance(params, GammaGammaParams):
        params = (params.p, params.q, params.gamma)
    x = np.asarray(x, dtype=float)
    m = np.asarray(m, dtype=float)
    keep = (x > 0) & (m > 0)
    ll, _ = _gg_terms(np.log(np.asarray(params, dtype=float)), x[keep], m[keep], np.ones(int(keep.sum())))
    return ll


def gamma_gamma_expected_spend(g: GammaGammaParams, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """E[mean spend | x, m] = (p (γ + x m)) / (p x + q − 1); the population mean pγ/(q−1) when x = 0."""
    x = np.asarray(x, dtype=float)
    m = np.where(x > 0, np.nan_to_num(np.asarray(m, dtype=float)), 0.0)
    return (g.p * (g.gamma + x * m)) / (g.p * x + g.q - 1)


# --- CLV ---------------------------------------------------------------------------


def customer_lifetime_value(bg: BGNBDParams, gg: GammaGammaParams, x: np.ndarray, t_x: np.ndarray,
                            T: np.ndarray, m: np.ndarray, *, months: int = 12, monthly_discount: float = 0.01,
                            periods_per_month: float = 30.0) -> np.ndarray:
    """Discounted value of the next `months` months, month by month:

        CLV = Σ_{i=1..months} (E[Y(i·k)] − E[Y((i−1)·k)]) · E[M] / (1 + d)^i

    where E[Y(t)] is the BG/NBD expected number of purchases in the next t
    periods, k the periods in a month (30 for days, 4.345 for weeks), E[M] the
    Gamma-Gamma expected spend and d the monthly discount rate — the formula of
    lifetimes' `GammaGammaFitter.customer_lifetime_value`.
    """
    spend = gamma_gamma_expected_spend(gg, x, m)
    value = np.zeros(np.shape(x), dtype=float)
    previous = np.zeros(np.shape(x), dtype=float)
    for i in range(1, months + 1):
        current = bgnbd_expected_purchases(bg, i * periods_per_month, x, t_x, T)
        value += (current - previous) * spend / (1 + monthly_discount) ** i
        previous = current
    return value
