"""λ* estimators and their bootstrap interval; the paired bootstrap against a baseline."""

from __future__ import annotations

import numpy as np
import pytest

from mmgrid.analysis.bootstrap import (
    paired_comparison,
    percentile_interval,
    stratified_mean_draws,
)
from mmgrid.analysis.optimal import (
    BAGGING_DRAWS,
    argmax_weights,
    bootstrap_weight,
    estimate_weight,
    nearest_weight,
    optimal_weight,
    quadratic_weights,
)
from mmgrid.evaluate.metrics import metrics_from_ranks, user_values

GRID = [round(0.1 * i, 1) for i in range(11)]


def _curve(peak: float, grid=GRID) -> list[float]:
    return [0.3 - 0.2 * (w - peak) ** 2 for w in grid]


@pytest.mark.parametrize("peak", [0.0, 0.35, 0.6, 1.0])
def test_quadratic_recovers_the_vertex_of_a_parabola(peak: float) -> None:
    assert estimate_weight(GRID, _curve(peak), "quadratic") == pytest.approx(peak)


def test_quadratic_clips_a_vertex_outside_the_grid() -> None:
    assert estimate_weight(GRID, _curve(1.4), "quadratic") == 1.0
    assert estimate_weight(GRID, _curve(-0.5), "quadratic") == 0.0


def test_quadratic_takes_the_better_end_of_a_convex_or_straight_curve() -> None:
    assert estimate_weight(GRID, [0.1 + 0.05 * w for w in GRID], "quadratic") == 1.0
    assert estimate_weight(GRID, [(w - 0.3) ** 2 for w in GRID], "quadratic") == 1.0
    assert estimate_weight(GRID, [0.2] * len(GRID), "quadratic") == 0.5


def test_quadratic_is_vectorised_over_draws() -> None:
    scores = np.array([_curve(0.2), _curve(0.8), [0.1 + 0.05 * w for w in GRID]])
    assert quadratic_weights(GRID, scores) == pytest.approx([0.2, 0.8, 1.0])


def test_quadratic_falls_back_to_argmax_on_two_weights() -> None:
    assert estimate_weight([0.0, 1.0], [0.2, 0.3], "quadratic") == 1.0


def test_argmax_keeps_the_grid_and_the_tie_rule() -> None:
    assert estimate_weight(GRID, _curve(0.63), "argmax") == 0.6
    assert estimate_weight([0.0, 0.4, 0.6, 1.0], [0.2, 0.2, 0.2, 0.2], "argmax") == 0.4
    with pytest.raises(ValueError, match="unknown"):
        estimate_weight(GRID, _curve(0.5), "median")


def test_nearest_weight_prefers_the_centre_on_ties() -> None:
    assert nearest_weight(GRID, 0.63) == 0.6
    assert nearest_weight([0.0, 0.25, 0.75, 1.0], 0.5) == 0.25


def _users(peak: float, n: int, seed: int) -> np.ndarray:
    """Per-user hits at each weight: Bernoulli(strength * p(λ)), p maximal at ``peak``; a user's
    strength is shared by the weights, so the weights' values are correlated like real users'."""
    rng = np.random.default_rng(seed)
    p = np.array(_curve(peak))
    strength = 0.5 + rng.random((n, 1))
    return (rng.random((n, len(p))) < strength * p[None, :]).astype(float)


# bagging nests a bootstrap in each draw: fewer users and draws keep its tests quick
SIZES = {"quadratic": (4000, 300), "bagged": (1500, 100)}


@pytest.mark.parametrize("estimator", SIZES)
@pytest.mark.parametrize("peak", [0.3, 0.7])
def test_bootstrap_interval_covers_the_true_optimum(peak: float, estimator: str) -> None:
    users, draws = SIZES[estimator]
    estimate = bootstrap_weight(
        GRID, _users(peak, users, seed=1), estimator=estimator, draws=draws, confidence=0.95, seed=0
    )
    assert estimate.ci_low <= peak <= estimate.ci_high
    assert abs(estimate.weight - peak) < 0.15
    assert 0 < estimate.se < 0.2 and estimate.draws == draws
    # the draws themselves travel with the estimate, for the regression's two-level bootstrap
    assert estimate.samples.shape == (draws,)
    assert np.quantile(estimate.samples, [0.025, 0.975]) == pytest.approx(
        [estimate.ci_low, estimate.ci_high]
    )
    assert estimate.samples.std(ddof=1) == pytest.approx(estimate.se)


@pytest.mark.parametrize("estimator", SIZES)
def test_bootstrap_interval_shrinks_with_more_users(estimator: str) -> None:
    users, draws = SIZES[estimator]

    def width(n: int) -> float:
        e = bootstrap_weight(
            GRID, _users(0.5, n, seed=2), estimator=estimator, draws=draws, confidence=0.9, seed=0
        )
        return e.ci_high - e.ci_low

    assert width(2 * users) < width(users // 8)


def test_bootstrap_without_draws_has_no_interval() -> None:
    estimate = bootstrap_weight(
        GRID, _users(0.5, 100, 0), estimator="argmax", draws=0, confidence=0.95, seed=0
    )
    assert (estimate.ci_low, estimate.se, estimate.draws) == (None, None, 0)


def test_user_values_average_to_the_metric() -> None:
    ranks = [1, 3, None, 12, 2, None, 7]
    values = user_values(np.array([np.nan if r is None else r for r in ranks]), "ndcg@10")
    assert values.mean() == pytest.approx(metrics_from_ranks(ranks, [10])["ndcg@10"])
    recall = user_values(np.array([1.0, 5.0, np.nan]), "recall@3")
    assert list(recall) == [1.0, 0.0, 0.0]
    with pytest.raises(ValueError):
        user_values(np.array([1.0]), "auc@10")


def _pair(n: int, difference: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A baseline and a model that adds ``difference`` on average, strongly correlated."""
    rng = np.random.default_rng(seed)
    base = rng.random(n) * 0.4
    return base + difference + rng.normal(0.0, 0.05, n), base


@pytest.mark.parametrize("difference", [0.0, 0.03])
def test_paired_bootstrap_covers_the_true_difference(difference: float) -> None:
    strata = [_pair(400, difference, seed) for seed in range(3)]
    result = paired_comparison(strata, draws=2000, confidence=0.95, seed=0)
    low, high = result["difference_ci"]
    assert low <= difference <= high
    assert result["n_users"] == 1200
    if difference:
        assert low > 0  # a small effect on correlated pairs is resolved


def test_paired_bootstrap_statistics_are_means_over_strata() -> None:
    strata = [(np.array([0.2, 0.4]), np.array([0.1, 0.1])), (np.array([0.5]), np.array([0.25]))]
    result = paired_comparison(strata, draws=0, confidence=0.95, seed=0)
    assert result["model"] == pytest.approx((0.3 + 0.5) / 2)
    assert result["baseline"] == pytest.approx((0.1 + 0.25) / 2)
    assert result["ratio"] == pytest.approx(0.4 / 0.175)
    assert result["difference_ci"] == [None, None]
    with pytest.raises(ValueError, match="same users"):
        paired_comparison([(np.ones(2), np.ones(3))], draws=10, confidence=0.9, seed=0)


def test_stratified_draws_keep_each_users_values_together() -> None:
    rng = np.random.default_rng(1)
    strata = []
    for n in (5, 40, 300):
        a = rng.random(n)
        strata.append((a, a + 1.0, 2.0 * a))
    draws = stratified_mean_draws(strata, draws=500, seed=3)
    assert draws.shape == (500, 3)
    # paired: the second array is the first plus 1 and the third twice it, in every draw
    np.testing.assert_allclose(draws[:, 1] - draws[:, 0], 1.0)
    np.testing.assert_allclose(draws[:, 2], 2.0 * draws[:, 0])
    # a draw is a mean over strata of means: centred on the mean of the stratum means
    target = np.mean([a.mean() for a, _, _ in strata])
    assert draws[:, 0].mean() == pytest.approx(target, abs=0.01)
    assert 0 < draws[:, 0].std() < 0.1
    constant = stratified_mean_draws([(np.full(7, 0.25),)], draws=20, seed=0)
    np.testing.assert_array_equal(constant, 0.25)
    with pytest.raises(ValueError, match="same users"):
        stratified_mean_draws([(np.ones(2), np.ones(3))], draws=10, seed=0)


def test_strata_of_one_group_share_their_resample() -> None:
    """One domain's users in two merges count once: the two strata move together, so their
    mean varies exactly as the one stratum's does (the same seed draws the same users)."""
    a = np.random.default_rng(2).random(50)
    alone = stratified_mean_draws([(a,)], draws=300, seed=5)
    grouped = stratified_mean_draws([(a,), (a,)], draws=300, seed=5, groups=["D", "D"])
    np.testing.assert_allclose(grouped, alone)
    apart = stratified_mean_draws([(a,), (a,)], draws=300, seed=5)
    assert apart[:, 0].std() < 0.8 * alone[:, 0].std()  # as if independent: about 1/sqrt(2)
    with pytest.raises(ValueError, match="same users"):
        stratified_mean_draws([(a,), (a[:10],)], draws=3, seed=0, groups=["D", "D"])


def test_percentile_interval_keeps_infinite_and_undefined_draws() -> None:
    draws = np.linspace(0.0, 1.0, 1001)
    assert percentile_interval(draws, 0.95) == pytest.approx((0.025, 0.975))
    # 1 % undefined: each bound moves out by those draws, as if they lay beyond it
    some = draws.copy()
    some[::100] = np.nan
    low, high = percentile_interval(some, 0.95)
    assert low < 0.025 < 0.975 < high < 1.0
    # 5 % undefined or infinite: more than the 2.5 % an end may leave out
    many = draws.copy()
    many[::20] = np.nan
    assert percentile_interval(many, 0.95) == (-np.inf, np.inf)
    infinite = draws.copy()
    infinite[::20] = np.inf
    low, high = percentile_interval(infinite, 0.95)
    assert 0.0 < low < 0.05 and high == np.inf
    assert percentile_interval(np.full(10, np.nan), 0.95) == (None, None)
    # few draws: between a finite and an infinite draw a bound takes the outer one
    assert percentile_interval(np.array([5.0, np.inf]), 0.95) == (5.0, np.inf)
    assert percentile_interval(np.array([-np.inf, 0.0]), 0.95) == (-np.inf, 0.0)
    assert percentile_interval(np.array([-np.inf, np.inf]), 0.95) == (-np.inf, np.inf)
    assert percentile_interval(np.array([2.0] + [np.inf] * 19), 0.95) == (2.0, np.inf)
    # undefined draws sit at the ends of the statistic's support (a ratio's: 0 and +inf)
    assert percentile_interval(many, 0.95, support=(0.0, np.inf)) == (0.0, np.inf)


def test_a_ratio_over_a_baseline_that_a_resample_can_miss_is_unbounded() -> None:
    """The baseline hits 1 user of 20: about (19/20)^20 = 36 % of resamples miss that user,
    and the ratio is +inf there (not dropped), so its upper bound is +inf."""
    model, baseline = np.full(20, 0.5), np.zeros(20)
    baseline[0] = 1.0
    result = paired_comparison([(model, baseline)], draws=1000, confidence=0.95, seed=0)
    assert result["ratio"] == pytest.approx(10.0)
    assert result["ratio_ci"][1] == np.inf and np.isfinite(result["ratio_ci"][0])
    assert result["n_domains"] == 1
    # no baseline hit at all: the ratio is +inf, as in every draw; nothing on either side: none
    never = paired_comparison([(model, np.zeros(20))], draws=50, confidence=0.95, seed=0)
    assert never["ratio"] == np.inf and never["ratio_ci"] == [np.inf, np.inf]
    zeros = np.zeros(20)
    nothing = paired_comparison([(zeros, zeros)], draws=50, confidence=0.95, seed=0)
    assert nothing["ratio"] is None and nothing["ratio_ci"] == [None, None]


def test_vectorised_argmax_keeps_the_tie_rule() -> None:
    rows = np.random.default_rng(0).integers(0, 3, size=(300, len(GRID))).astype(float)
    assert argmax_weights(GRID, rows).tolist() == [optimal_weight(GRID, list(r)) for r in rows]


# a lopsided sweep like the demo's semid ones: low and flat up to 0.5, a peak at 1.0, a decline
LOPSIDED_GRID = [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5]
LOPSIDED = [0.032, 0.031, 0.028, 0.047, 0.082, 0.075, 0.058]


def _hits(means: list[float], n: int) -> np.ndarray:
    """``n`` users whose hits (1 or 0) at each weight average to ``means`` (rounded to 1 / n)."""
    return np.stack([np.arange(n) < round(m * n) for m in means], axis=1).astype(float)


def test_bagged_finds_the_peak_of_a_lopsided_sweep_where_the_parabola_does_not() -> None:
    values = _hits(LOPSIDED, 1000)
    assert estimate_weight(LOPSIDED_GRID, list(values.mean(axis=0)), "quadratic") == 1.5
    estimate = bootstrap_weight(
        LOPSIDED_GRID, values, estimator="bagged", draws=100, confidence=0.95, seed=0
    )
    assert estimate.weight == pytest.approx(1.0, abs=0.1)
    assert estimate.ci_low <= 1.0 <= estimate.ci_high


def test_bagged_is_the_mean_of_the_resamples_argmax() -> None:
    """An independent reference: resample by hand with the estimator's stream and tie rule."""
    values = _users(0.6, 300, seed=3)
    estimate = bootstrap_weight(GRID, values, estimator="bagged", draws=0, confidence=0.95, seed=7)
    rng = np.random.default_rng([7, 0])
    idx = rng.integers(0, len(values), size=(BAGGING_DRAWS, len(values)))
    by_hand = np.mean([optimal_weight(GRID, list(values[i].mean(axis=0))) for i in idx])
    assert estimate.weight == pytest.approx(by_hand)
    again = bootstrap_weight(GRID, values, estimator="bagged", draws=0, confidence=0.95, seed=7)
    assert again.weight == estimate.weight  # seeded


def test_bagged_needs_the_users() -> None:
    with pytest.raises(ValueError, match="bootstrap_weight"):
        estimate_weight(GRID, _curve(0.5), "bagged")
