"""Bootstrap intervals: the percentile interval every bootstrap of the analysis reports, and the
paired, stratified bootstrap of a model against a baseline on the same users.

Strata are domains: each holds one value per user for the model and for the baseline (the same
users in the same order). The statistics are the mean over strata of the per-stratum means:

- ``difference``: mean over strata of mean(model - baseline);
- ``ratio``: mean over strata of mean(model) / mean over strata of mean(baseline).

A draw resamples the users of every stratum with replacement, keeping each user's pair
together, so the interval accounts for the users being shared by both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def percentile_interval(
    samples: np.ndarray, confidence: float
) -> tuple[float | None, float | None]:
    """The central ``confidence`` percentile interval of the finite bootstrap ``samples``
    (None, None when there is none)."""
    finite = samples[np.isfinite(samples)]
    if len(finite) == 0:
        return None, None
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(finite, [alpha, 1.0 - alpha])
    return float(low), float(high)


def stratified_mean_draws(
    strata: Sequence[Sequence[np.ndarray]], *, draws: int, seed: int
) -> np.ndarray:
    """``[draws, k]``: per draw, the mean over strata of the mean of each of the k aligned
    per-user arrays of a stratum, its users resampled with replacement (a user's k values stay
    together). Every stratum must have users."""
    rng = np.random.default_rng(seed)
    k = len(strata[0])
    means = np.zeros((draws, k))
    for stratum in strata:
        n = len(stratum[0])
        if any(len(values) != n for values in stratum) or len(stratum) != k:
            raise ValueError("a stratum's value arrays must cover the same users")
        idx = rng.integers(0, n, size=(draws, n))
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

    Returns the point estimates, their percentile intervals (None without draws) and the number
    of users. Strata without users are skipped.
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
        }
    model = float(np.mean([a.mean() for a, _ in pairs]))
    base = float(np.mean([b.mean() for _, b in pairs]))
    result: dict[str, Any] = {
        "model": model,
        "baseline": base,
        "difference": model - base,
        "difference_ci": [None, None],
        "ratio": model / base if base > 0 else None,
        "ratio_ci": [None, None],
        "n_users": int(sum(len(a) for a, _ in pairs)),
    }
    if draws <= 0:
        return result
    means = stratified_mean_draws(pairs, draws=draws, seed=seed)
    model_means, base_means = means[:, 0], means[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(base_means > 0, model_means / base_means, np.nan)
    result["difference_ci"] = list(percentile_interval(model_means - base_means, confidence))
    result["ratio_ci"] = list(percentile_interval(ratios, confidence))
    return result
