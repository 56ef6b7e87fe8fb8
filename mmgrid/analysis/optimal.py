"""The optimal merge weight λ* of a temporal sweep, and its bootstrap interval.

A sweep gives, for each grid weight λ (of the later period), every selection user's metric.
Three estimators of λ*:

- ``bagged`` (default): bootstrap aggregation of the argmax. The selection users are resampled
  with replacement ``BAGGING_DRAWS`` times (seeded), the grid weight with the best mean metric is
  taken on each resample, and λ* is the mean of those weights. It is not confined to the grid,
  moves little when one grid point is noisy, and makes no assumption about the curve's shape.
  Near an end of the grid it leans towards the inside (a resample's argmax cannot pass the end).
- ``quadratic``: the least-squares parabola through the (λ, mean metric) points of the sweep;
  λ* is its maximum on the grid's range: the vertex of a concave parabola, clipped to the range,
  else the better end point. Precise when the curve is close to a parabola, but on a lopsided
  curve (flat and low on one side, a peak on the other, as semid sweeps are) its vertex can fall
  far from the peak, at a weight where the metric is well below its best.
- ``argmax``: the grid weight with the best mean metric.

Scores within ``TIE_TOLERANCE`` count as tied; ties go to the weight closest to the uniform weight
0.5, then to the smaller one, so a tie never claims a stronger tilt towards either period than the
data support. `bench/lambda_estimators.py` compares the three on curves with a known maximum.

Uncertainty: the selection users are resampled with replacement (seeded) and λ* is
re-estimated on every draw (for ``bagged``, by bagging within the draw: a nested bootstrap); the
percentile interval and the standard deviation of the draws are reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from mmgrid.analysis.bootstrap import percentile_interval

UNIFORM = 0.5
TIE_TOLERANCE = 1e-12
TIE_RULE = "ties go to the weight closest to 0.5, then the smaller"
BAGGING_DRAWS = 200
"""Resamples of the selection users behind one ``bagged`` λ*."""
ESTIMATORS = {
    "bagged": f"mean over {BAGGING_DRAWS} bootstrap resamples of the selection users of the grid "
    f"weight with the highest mean selection metric; {TIE_RULE}",
    "quadratic": "maximum over the grid's range of the least-squares parabola through the mean "
    "selection metric at each weight (vertex of a concave fit, else the better end)",
    "argmax": f"grid weight with the highest mean selection metric; {TIE_RULE}",
}


def _closest_to_uniform(weights: Sequence[float]) -> float:
    return min(weights, key=lambda w: (abs(w - UNIFORM), w))


def optimal_weight(weights: Sequence[float], scores: Sequence[float]) -> float:
    """The grid weight with the best score; ties go to the weight closest to 0.5, then the smaller."""
    if not weights or len(weights) != len(scores):
        raise ValueError("optimal_weight needs one score per weight and at least one weight")
    best = max(scores)
    tied = [w for w, s in zip(weights, scores, strict=True) if best - s <= TIE_TOLERANCE]
    return _closest_to_uniform(tied)


def uniform_weight(weights: Sequence[float]) -> float:
    """The grid weight standing for the uniform merge: 0.5, or the closest (then smaller) one."""
    if not weights:
        raise ValueError("uniform_weight needs at least one weight")
    return _closest_to_uniform(weights)


def nearest_weight(weights: Sequence[float], value: float) -> float:
    """The grid weight closest to ``value``; ties go to the one closest to 0.5, then the smaller."""
    gap = min(abs(w - value) for w in weights)
    return _closest_to_uniform([w for w in weights if abs(w - value) - gap <= TIE_TOLERANCE])


def argmax_weights(weights: Sequence[float], scores: np.ndarray) -> np.ndarray:
    """:func:`optimal_weight` of each row of ``scores`` ``[draws, n_weights]`` (vectorised)."""
    w = np.asarray(weights, dtype=np.float64)
    s = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    preference = np.array(sorted(range(len(w)), key=lambda i: (abs(w[i] - UNIFORM), w[i])))
    tied = (s.max(axis=1, keepdims=True) - s)[:, preference] <= TIE_TOLERANCE
    return w[preference[np.argmax(tied, axis=1)]]


def bagged_weight(weights: Sequence[float], values: np.ndarray, rng: np.random.Generator) -> float:
    """λ* of the ``bagged`` estimator from per-user ``values`` ``[users, n_weights]``."""
    n = len(values)
    idx = rng.integers(0, n, size=(BAGGING_DRAWS, n))
    # each resample's mean as (times each user is drawn) @ values: a matrix product instead
    # of gathering BAGGING_DRAWS copies of the users
    counts = np.bincount((idx + n * np.arange(BAGGING_DRAWS)[:, None]).ravel(), minlength=idx.size)
    means = counts.reshape(BAGGING_DRAWS, n).astype(np.float64) @ values / n
    return float(argmax_weights(weights, means).mean())


def quadratic_weights(weights: Sequence[float], scores: np.ndarray) -> np.ndarray:
    """λ* of the ``quadratic`` estimator for each row of ``scores`` ``[draws, n_weights]``.

    With fewer than three distinct weights there is no parabola: the argmax is used.
    """
    w = np.asarray(weights, dtype=np.float64)
    s = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    if len(np.unique(w)) < 3:
        return np.array([optimal_weight(list(w), list(row)) for row in s])
    lo, hi = float(w.min()), float(w.max())
    design = np.stack([w**2, w, np.ones_like(w)], axis=1)
    a, b, c = np.linalg.lstsq(design, s.T, rcond=None)[0]
    at_lo, at_hi = a * lo**2 + b * lo + c, a * hi**2 + b * hi + c
    end = np.where(at_hi > at_lo, hi, lo)
    end = np.where(np.isclose(at_hi, at_lo, rtol=0.0, atol=TIE_TOLERANCE), 0.5 * (lo + hi), end)
    concave = a < -TIE_TOLERANCE
    vertex = np.clip(-b / np.where(concave, 2.0 * a, -1.0), lo, hi)
    return np.where(concave, vertex, end)


def estimate_weight(weights: Sequence[float], scores: Sequence[float], estimator: str) -> float:
    """λ* of one sweep (``scores``: the mean selection metric at each weight) for the estimators
    that need only the means (``bagged`` needs every user's: :func:`bootstrap_weight`)."""
    if estimator == "bagged":
        raise ValueError("the bagged estimator resamples users: call bootstrap_weight")
    if estimator == "argmax":
        return optimal_weight(weights, scores)
    if estimator == "quadratic":
        return float(quadratic_weights(weights, np.asarray(scores, dtype=np.float64))[0])
    raise ValueError(f"unknown λ* estimator {estimator!r}; use one of {', '.join(ESTIMATORS)}")


@dataclass(frozen=True)
class WeightEstimate:
    """λ* of one sweep with its bootstrap distribution summarised; ``samples`` holds the λ* of
    every draw (empty without draws) for a bootstrap that carries this uncertainty further."""

    weight: float
    ci_low: float | None
    ci_high: float | None
    se: float | None
    draws: int
    samples: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False, compare=False)


def bootstrap_weight(
    weights: Sequence[float],
    values: np.ndarray,
    *,
    estimator: str,
    draws: int,
    confidence: float,
    seed: int,
) -> WeightEstimate:
    """λ* from per-user metric ``values`` ``[users, n_weights]`` and its bootstrap interval.

    Users are resampled with replacement ``draws`` times (0 = no interval); ``seed`` seeds the
    resampling, and the bagging of ``bagged``.
    """
    values = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    bagged = estimator == "bagged"
    if bagged and len(values):
        weight = bagged_weight(weights, values, np.random.default_rng([seed, 0]))
    elif bagged:
        weight = uniform_weight(weights)
    else:
        weight = estimate_weight(weights, list(values.mean(axis=0)), estimator)
    if draws <= 0 or len(values) == 0:
        return WeightEstimate(weight, None, None, None, 0)
    idx = rng.integers(0, len(values), size=(draws, len(values)))
    if bagged:
        stars = np.array([bagged_weight(weights, values[i], rng) for i in idx])
    elif estimator == "quadratic":
        stars = quadratic_weights(weights, values[idx].mean(axis=1))
    else:
        stars = argmax_weights(weights, values[idx].mean(axis=1))
    low, high = percentile_interval(stars, confidence)
    return WeightEstimate(weight, low, high, float(stars.std(ddof=1)), draws, stars)
