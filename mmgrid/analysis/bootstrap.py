"""Bootstrap intervals: the percentile interval every bootstrap of the analysis reports, and the
paired, stratified bootstrap of a model against a baseline on the same users.

Strata are domains: each holds one value per user for the model and for the baseline (the same
users in the same order). The statistics are the mean over strata of the per-stratum means:

- ``difference``: mean over strata of mean(model - baseline);
- ``ratio``: mean over strata of mean(model) / mean over strata of mean(baseline).

A draw resamples the users of every stratum with replacement, keeping each user's pair
together, so the interval accounts for the users being shared by both sides. A draw whose
baseline mean is 0 has a ratio of +inf (undefined at 0 / 0, which counts as 0 for the lower
bound and +inf for the upper), and :func:`percentile_interval` keeps such draws instead of
dropping them, so a ratio's upper bound can be +inf.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np


def percentile_interval(
    samples: np.ndarray,
    confidence: float,
    support: tuple[float, float] = (-np.inf, np.inf),
) -> tuple[float | None, float | None]:
    """The central ``confidence`` percentile interval of the bootstrap ``samples``.

    Infinite draws are values like any other (a ratio over a zero baseline is +inf). A NaN draw
    is one where the statistic is undefined; it counts against both ends (at the lower end of
    the statistic's ``support`` for the lower bound, at its upper end for the upper bound), so
    a bound reaches the support's end when more than ``(1 - confidence) / 2`` of the draws lie
    beyond it or are undefined. Finite draws give numpy's linear quantiles; a quantile between
    a finite and an infinite draw takes the outer one. (None, None) when no draw is defined.
    """
    samples = np.asarray(samples, dtype=np.float64)
    undefined = np.isnan(samples)
    if undefined.all():
        return None, None
    alpha = (1.0 - confidence) / 2.0
    if np.isfinite(samples).all():
        low, high = np.quantile(samples, [alpha, 1.0 - alpha])
        return float(low), float(high)
    low = _linear_quantile(np.where(undefined, support[0], samples), alpha, outer="below")
    high = _linear_quantile(np.where(undefined, support[1], samples), 1.0 - alpha, outer="above")
    return low, high


def _linear_quantile(values: np.ndarray, q: float, outer: str) -> float:
    """numpy's linear quantile of ``values`` that may hold infinities; where the two draws it
    falls between include an infinite one, the ``outer`` (``below`` or ``above``) of the two."""
    ordered = np.sort(values)
    position = (len(ordered) - 1) * q
    below, above = ordered[int(np.floor(position))], ordered[int(np.ceil(position))]
    if np.isinf(below) or np.isinf(above):
        return float(below if outer == "below" else above)
    return float(below + (position - np.floor(position)) * (above - below))


def stratified_mean_draws(
    strata: Sequence[Sequence[np.ndarray]],
    *,
    draws: int,
    seed: int,
    groups: Sequence[Hashable] | None = None,
) -> np.ndarray:
    """``[draws, k]``: per draw, the mean over strata of the mean of each of the k aligned
    per-user arrays of a stratum, its users resampled with replacement (a user's k values stay
    together). Every stratum must have users.

    ``groups`` (one label per stratum) marks strata that hold the same users in the same order,
    e.g. one domain's report users in several merges: those share one resample per draw, so the
    users count once, not as independent strata.
    """
    rng = np.random.default_rng(seed)
    k = len(strata[0])
    means = np.zeros((draws, k))
    labels = list(range(len(strata))) if groups is None else list(groups)
    if len(labels) != len(strata):
        raise ValueError("groups needs one label per stratum")
    resamples: dict[Hashable, np.ndarray] = {}
    for stratum, label in zip(strata, labels, strict=True):
        n = len(stratum[0])
        if any(len(values) != n for values in stratum) or len(stratum) != k:
            raise ValueError("a stratum's value arrays must cover the same users")
        if label not in resamples:
            resamples[label] = rng.integers(0, n, size=(draws, n))
        idx = resamples[label]
        if idx.shape[1] != n:
            raise ValueError(f"strata of group {label!r} must hold the same users")
        for j, values in enumerate(stratum):
            means[:, j] += np.asarray(values, float)[idx].mean(axis=1)
    return means / len(strata)


def paired_comparison(
    strata: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    draws: int,
    confidence: float,
    seed: int,
) -> dict[str, Any]:
    """Difference and ratio of model vs baseline over ``strata`` [(model, baseline) per domain].

    Returns the point estimates, their percentile intervals (None without draws), the number
    of users and of strata with users (``n_domains``). Strata without users are skipped.
    """
    pairs = [(np.asarray(a, float), np.asarray(b, float)) for a, b in strata if len(a)]
    for a, b in pairs:
        if a.shape != b.shape:
            raise ValueError("a stratum's model and baseline values must cover the same users")
    if not pairs:
        return {
            "model": None,
            "baseline": None,
            "difference": None,
            "difference_ci": [None, None],
            "ratio": None,
            "ratio_ci": [None, None],
            "n_users": 0,
            "n_domains": 0,
        }
    model = float(np.mean([a.mean() for a, _ in pairs]))
    base = float(np.mean([b.mean() for _, b in pairs]))
    result: dict[str, Any] = {
        "model": model,
        "baseline": base,
        "difference": model - base,
        "difference_ci": [None, None],
        "ratio": model / base if base > 0 else (np.inf if model > 0 else None),
        "ratio_ci": [None, None],
        "n_users": int(sum(len(a) for a, _ in pairs)),
        "n_domains": len(pairs),
    }
    if draws <= 0:
        return result
    means = stratified_mean_draws(pairs, draws=draws, seed=seed)
    model_means, base_means = means[:, 0], means[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        # a draw with a zero baseline: +inf above a positive model, undefined (NaN) at 0 / 0
        ratios = np.where(base_means > 0, model_means / base_means, np.inf)
        ratios = np.where((base_means <= 0) & (model_means <= 0), np.nan, ratios)
    result["difference_ci"] = list(percentile_interval(model_means - base_means, confidence))
    result["ratio_ci"] = list(percentile_interval(ratios, confidence, support=(0.0, np.inf)))
    return result
