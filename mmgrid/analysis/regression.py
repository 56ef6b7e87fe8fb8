"""The weight-vs-recency regression: λ* against a domain's item-recency statistic.

An ordinary least-squares line (scikit-learn ``LinearRegression``) with R², Pearson r and its
two-sided p-value (``scipy.stats.pearsonr``), and a percentile bootstrap interval of the slope:
points are resampled with replacement (seeded), draws whose x values are all equal have no slope
and are skipped, and the number of draws used is reported. With fewer than ``MIN_POINTS`` points
or no spread in x there is no fit: every statistic is null and ``note`` says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mmgrid.seeding import derive_seed

MIN_POINTS = 3
X, Y = "recency", "weight_optimal"


def _null_fit(n: int, note: str) -> dict[str, Any]:
    return {
        "n": n,
        "slope": None,
        "intercept": None,
        "r2": None,
        "pearson_r": None,
        "p_value": None,
        "slope_ci": None,
        "bootstrap_used": 0,
        "note": note,
    }


def bootstrap_slopes(x: np.ndarray, y: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """Least-squares slopes of ``draws`` resamples of the points; draws with equal x are dropped."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(draws, len(x)))
    xs, ys = x[idx], y[idx]
    spread = xs.max(axis=1) > xs.min(axis=1)
    xs, ys = xs[spread], ys[spread]
    xc = xs - xs.mean(axis=1, keepdims=True)
    yc = ys - ys.mean(axis=1, keepdims=True)
    return (xc * yc).sum(axis=1) / (xc * xc).sum(axis=1)


def fit_line(
    x: Sequence[float],
    y: Sequence[float],
    *,
    bootstrap: int,
    confidence: float,
    seed: int,
) -> dict[str, Any]:
    """Fit ``y = intercept + slope * x``; see the module docstring for the statistics."""
    from scipy.stats import pearsonr
    from sklearn.linear_model import LinearRegression

    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    n = len(xa)
    if n < MIN_POINTS:
        return _null_fit(n, f"only {n} point(s): a fit needs at least {MIN_POINTS}")
    if xa.max() == xa.min():
        return _null_fit(n, "every point has the same recency statistic: the slope is undefined")
    model = LinearRegression().fit(xa[:, None], ya)
    fit = {
        **_null_fit(n, ""),
        "slope": float(model.coef_[0]),
        "intercept": float(model.intercept_),
        "note": None,
    }
    if ya.max() == ya.min():
        fit["note"] = "λ* is the same at every point: R² and Pearson r are undefined"
    else:
        result = pearsonr(xa, ya)
        fit.update(
            r2=float(model.score(xa[:, None], ya)),
            pearson_r=float(result.statistic),
            p_value=float(result.pvalue),
        )
    if bootstrap > 0:
        slopes = bootstrap_slopes(xa, ya, bootstrap, seed)
        fit["bootstrap_used"] = len(slopes)
        if len(slopes):
            alpha = (1.0 - confidence) / 2.0
            low, high = np.quantile(slopes, [alpha, 1.0 - alpha])
            fit["slope_ci"] = [float(low), float(high)]
    return fit


def predict(fit: dict[str, Any], x: float) -> float | None:
    """The fitted λ at ``x``, None without a fit."""
    if fit["slope"] is None:
        return None
    return fit["intercept"] + fit["slope"] * x


def fit_points(
    points: pd.DataFrame, *, bootstrap: int, confidence: float, seed: int
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The pooled fit over every (paradigm, domain) point and one fit per paradigm.

    ``points`` has columns paradigm, domain, ``recency`` (x) and ``weight_optimal`` (y). Each fit's
    bootstrap is seeded from ``seed`` and the group's name (``pooled`` or the paradigm).
    """

    def fit(frame: pd.DataFrame, group: str) -> dict[str, Any]:
        return fit_line(
            frame[X].to_numpy(),
            frame[Y].to_numpy(),
            bootstrap=bootstrap,
            confidence=confidence,
            seed=derive_seed(seed, "analysis-bootstrap", group),
        )

    pooled = fit(points, "pooled")
    per_paradigm = {p: fit(f, p) for p, f in points.groupby("paradigm", sort=True)}
    return pooled, per_paradigm


def points_table(
    points: pd.DataFrame, pooled: dict[str, Any], per_paradigm: dict[str, dict[str, Any]]
) -> pd.DataFrame:
    """One row per point with the pooled and the paradigm's fitted λ."""
    table = points.copy()
    table["fitted_pooled"] = [predict(pooled, x) for x in table[X]]
    table["fitted_paradigm"] = [
        predict(per_paradigm[p], x) for p, x in zip(table["paradigm"], table[X], strict=True)
    ]
    return table
