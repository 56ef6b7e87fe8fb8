"""The weight-vs-recency regression: λ* against a domain's item-recency statistic.

An ordinary least-squares line (scikit-learn ``LinearRegression``) with R², Pearson r and its
two-sided p-value (``scipy.stats.pearsonr``), and a percentile bootstrap interval of the slope.
With fewer than ``MIN_POINTS`` points or no spread in x there is no fit: every statistic is null
and ``note`` says why.

The bootstrap resamples *domains*: a draw picks as many domains as there are, with
replacement, and takes every point of each (the pooled fit has one point per paradigm and
domain). A domain's points share its data, its test users and its world draw, so their λ* move
together; resampling them as independent points would treat one domain's draw as several and
make the interval too narrow (in simulation, 80-93 % coverage at a nominal 95 %; bench/RESULTS.md,
"The slope's interval"). The bootstrap has two levels when every point brings the bootstrap
draws of its λ* (over its selection users, :mod:`.optimal`): every resampled point then takes a
λ* drawn from its own bootstrap distribution, so the interval carries both the scatter between
domains and each λ*'s own uncertainty. Resampling both levels counts the within-point noise a
second time (it is already part of the scatter), so the interval is conservative: wider than
nominal rather than narrower. Without those draws only the domains are resampled, as if each λ*
were exact (``bootstrap_levels`` says which). Either way draws whose x values are all equal have
no slope and are skipped, and the number of draws used is reported.

A second, precision-weighted fit weights each point by 1 / se² of its λ* (the bootstrap standard
error over selection users), with se floored at ``SE_FLOOR`` so that a λ* pinned to the end of
the grid in every draw does not take all the weight; its R² and Pearson r are weighted too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mmgrid.analysis.bootstrap import percentile_interval
from mmgrid.seeding import derive_seed

MIN_POINTS = 3
X, Y, SE = "recency", "weight_optimal", "weight_se"
SE_FLOOR = 0.05


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
        "bootstrap_levels": None,
        "note": note,
    }


LEVELS_POINTS = "points"
LEVELS_POINTS_USERS = "points, then each point's selection users"
LEVELS_DOMAINS = "domains"
LEVELS_DOMAINS_USERS = "domains, then each point's selection users"


def _cluster_members(clusters: np.ndarray) -> np.ndarray:
    """``[clusters, largest]`` point indices of each cluster (labels in order of first
    appearance), padded with -1."""
    codes, _ = pd.factorize(clusters)
    sizes = np.bincount(codes)
    members = np.full((len(sizes), sizes.max()), -1)
    for code in range(len(sizes)):
        where = np.flatnonzero(codes == code)
        members[code, : len(where)] = where
    return members


def bootstrap_slopes(
    x: np.ndarray,
    y: np.ndarray,
    draws: int,
    seed: int,
    w: np.ndarray | None = None,
    y_samples: np.ndarray | None = None,
    clusters: np.ndarray | None = None,
) -> np.ndarray:
    """(Weighted) least-squares slopes of ``draws`` resamples; draws with equal x are dropped.

    A draw resamples the ``clusters`` (a label per point; default: every point its own) with
    replacement and takes every point of each picked cluster. With ``y_samples`` ``[points, k]``
    (k bootstrap draws of each point's y) a resampled point takes one of its own draws, picked
    at random, instead of ``y``. With one point per cluster the draws are those of resampling
    the points."""
    rng = np.random.default_rng(seed)
    members = _cluster_members(np.arange(len(x)) if clusters is None else np.asarray(clusters))
    idx = members[rng.integers(0, len(members), size=(draws, len(members)))].reshape(draws, -1)
    taken = idx >= 0
    idx = np.where(taken, idx, 0)
    xs = x[idx]
    if y_samples is None:
        ys = y[idx]
    else:
        ys = y_samples[idx, rng.integers(0, y_samples.shape[1], size=idx.shape)]
    ws = (np.ones_like(xs) if w is None else w[idx]) * taken
    spread = np.where(taken, xs, -np.inf).max(axis=1) > np.where(taken, xs, np.inf).min(axis=1)
    xs, ys, ws = xs[spread], ys[spread], ws[spread]
    total = ws.sum(axis=1, keepdims=True)
    xc = xs - (ws * xs).sum(axis=1, keepdims=True) / total
    yc = ys - (ws * ys).sum(axis=1, keepdims=True) / total
    return (ws * xc * yc).sum(axis=1) / (ws * xc * xc).sum(axis=1)


def _weighted_pearson(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    xc = x - np.average(x, weights=w)
    yc = y - np.average(y, weights=w)
    return float((w * xc * yc).sum() / np.sqrt((w * xc * xc).sum() * (w * yc * yc).sum()))


def fit_line(
    x: Sequence[float],
    y: Sequence[float],
    *,
    bootstrap: int,
    confidence: float,
    seed: int,
    weights: Sequence[float] | None = None,
    y_samples: Sequence[np.ndarray] | None = None,
    domains: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """Fit ``y = intercept + slope * x``, by ordinary or (``weights``) weighted least squares;
    ``y_samples`` (each point's bootstrap draws of y, the same number for every point) makes
    the slope's bootstrap two-level; ``domains`` (a label per point) makes it resample domains,
    each with all its points, instead of points. See the module docstring for the statistics."""
    from scipy.stats import pearsonr
    from sklearn.linear_model import LinearRegression

    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    wa = None if weights is None else np.asarray(weights, dtype=np.float64)
    n = len(xa)
    labels = None if domains is None else np.asarray(domains)
    if labels is not None and len(labels) != n:
        raise ValueError("domains needs one label per point")
    if n < MIN_POINTS:
        return _null_fit(n, f"only {n} point(s): a fit needs at least {MIN_POINTS}")
    if xa.max() == xa.min():
        return _null_fit(n, "every point has the same recency statistic: the slope is undefined")
    model = LinearRegression().fit(xa[:, None], ya, sample_weight=wa)
    fit = {
        **_null_fit(n, ""),
        "slope": float(model.coef_[0]),
        "intercept": float(model.intercept_),
        "note": None,
    }
    if ya.max() == ya.min():
        fit["note"] = "λ* is the same at every point: R² and Pearson r are undefined"
    elif wa is None:
        result = pearsonr(xa, ya)
        fit.update(
            r2=float(model.score(xa[:, None], ya)),
            pearson_r=float(result.statistic),
            p_value=float(result.pvalue),
        )
    else:
        fit.update(
            r2=float(model.score(xa[:, None], ya, sample_weight=wa)),
            pearson_r=_weighted_pearson(xa, ya, wa),
        )
    if bootstrap > 0:
        inner = _stack_samples(y_samples, n)
        slopes = bootstrap_slopes(xa, ya, bootstrap, seed, wa, inner, labels)
        fit["bootstrap_used"] = len(slopes)
        fit["bootstrap_levels"] = {
            (False, False): LEVELS_POINTS,
            (False, True): LEVELS_POINTS_USERS,
            (True, False): LEVELS_DOMAINS,
            (True, True): LEVELS_DOMAINS_USERS,
        }[(labels is not None, inner is not None)]
        if len(slopes):
            fit["slope_ci"] = list(percentile_interval(slopes, confidence))
    return fit


def _stack_samples(samples: Sequence[np.ndarray] | None, n: int) -> np.ndarray | None:
    """The per-point draws as one ``[n, k]`` array; None when any point has none."""
    if samples is None or any(len(v) == 0 for v in samples):
        return None
    if len(samples) != n or len({len(v) for v in samples}) != 1:
        raise ValueError("y_samples needs the same number of draws for each of the n points")
    return np.stack([np.asarray(v, dtype=np.float64) for v in samples])


def predict(fit: dict[str, Any], x: float) -> float | None:
    """The fitted λ at ``x``, None without a fit."""
    if fit["slope"] is None:
        return None
    return fit["intercept"] + fit["slope"] * x


def precision_weights(se: Sequence[float | None]) -> np.ndarray | None:
    """1 / se² with se floored at ``SE_FLOOR``; None when any point has no standard error."""
    values = list(se)
    if any(v is None or not np.isfinite(v) for v in values):
        return None
    return 1.0 / np.maximum(np.asarray(values, dtype=np.float64), SE_FLOOR) ** 2


def fit_points(
    points: pd.DataFrame,
    *,
    bootstrap: int,
    confidence: float,
    seed: int,
    weighted: bool = False,
    weight_samples: Mapping[tuple[str, str], np.ndarray] | None = None,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The pooled fit over every (paradigm, domain) point and one fit per paradigm.

    ``points`` has columns paradigm, domain, ``recency`` (x), ``weight_optimal`` (y) and, for
    ``weighted`` fits, ``weight_se``. ``weight_samples`` maps (paradigm, domain) to the
    bootstrap draws of its λ*: with them the slope's bootstrap is two-level. Every fit's
    bootstrap resamples domains, so the pooled fit takes every paradigm's point of a picked
    domain together. Each fit's bootstrap is seeded from ``seed`` and the group's name
    (``pooled`` or the paradigm). A weighted fit without standard errors is null.
    """

    def fit(frame: pd.DataFrame, group: str) -> dict[str, Any]:
        weights = precision_weights(frame[SE]) if weighted else None
        if weighted and weights is None:
            return _null_fit(
                len(frame), "λ* has no bootstrap standard error (analysis.bootstrap 0)"
            )
        return fit_line(
            frame[X].to_numpy(),
            frame[Y].to_numpy(),
            bootstrap=bootstrap,
            confidence=confidence,
            seed=derive_seed(seed, "analysis-bootstrap", group, "weighted" if weighted else "ols"),
            weights=weights,
            domains=frame["domain"].to_numpy(),
            y_samples=None
            if weight_samples is None
            else [
                weight_samples.get(key, np.empty(0))
                for key in zip(frame["paradigm"], frame["domain"], strict=True)
            ],
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
