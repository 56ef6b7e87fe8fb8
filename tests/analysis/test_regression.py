"""The weight-vs-recency fit against hand-computed values and independent references."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mmgrid.analysis.regression import fit_line, fit_points, points_table


def fit(x, y, bootstrap=0, seed=0, confidence=0.95):
    return fit_line(x, y, bootstrap=bootstrap, confidence=confidence, seed=seed)


def test_hand_computed_line():
    # x mean 1.5, y mean 3.75; Sxx = 5, Sxy = 8.5, Syy = 14.75
    x, y = [0.0, 1.0, 2.0, 3.0], [1.0, 3.0, 5.0, 6.0]
    f = fit(x, y)
    assert f["n"] == 4
    assert f["slope"] == pytest.approx(1.7, abs=1e-12)
    assert f["intercept"] == pytest.approx(1.2, abs=1e-12)
    # residuals -0.2, 0.1, 0.4, -0.3: SSE 0.3
    assert f["r2"] == pytest.approx(1 - 0.3 / 14.75, abs=1e-12)
    assert f["pearson_r"] == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-12)
    assert f["pearson_r"] == pytest.approx(8.5 / math.sqrt(5 * 14.75), abs=1e-12)
    r = f["pearson_r"]
    t = r * math.sqrt((4 - 2) / (1 - r * r))
    assert f["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), 4 - 2), rel=1e-9)
    assert f["note"] is None and f["slope_ci"] is None and f["bootstrap_used"] == 0


def test_negative_slope_three_points():
    # λ* falls with x: (0.2, 1.0), (0.4, 0.5), (0.6, 0.5): Sxx 0.08, Sxy -0.1
    f = fit([0.2, 0.4, 0.6], [1.0, 0.5, 0.5])
    assert f["slope"] == pytest.approx(-1.25, abs=1e-12)
    assert f["intercept"] == pytest.approx(2 / 3 + 0.5, abs=1e-12)
    assert f["r2"] == pytest.approx(0.75, abs=1e-12)  # Sxy^2 / (Sxx Syy) = 0.01 / (0.08 * 1/6)


def test_bootstrap_interval_of_noiseless_data_is_the_slope():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    f = fit(x, 0.5 + 2.0 * x, bootstrap=500, seed=3)
    low, high = f["slope_ci"]
    assert low <= f["slope"] + 1e-12 and high >= f["slope"] - 1e-12
    assert high - low < 1e-9 and f["slope"] == pytest.approx(2.0)
    assert 490 <= f["bootstrap_used"] <= 500  # a draw of one repeated point (p = 1/625) is skipped


def test_bootstrap_skips_draws_without_x_spread():
    # x = (0, 0, 1): a draw has no spread when all three picks are among the first two points
    # (8/27) or all are the third (1/27), so about 2/3 of the draws are used.
    f = fit([0.0, 0.0, 1.0], [0.0, 1.0, 2.0], bootstrap=3000, seed=1)
    assert abs(f["bootstrap_used"] - 2000) < 130  # binomial sd ~ 26
    again = fit([0.0, 0.0, 1.0], [0.0, 1.0, 2.0], bootstrap=3000, seed=1)
    assert again == f
    other = fit([0.0, 0.0, 1.0], [0.0, 1.0, 2.0], bootstrap=3000, seed=2)
    assert other["slope_ci"] != f["slope_ci"] or other["bootstrap_used"] != f["bootstrap_used"]


def test_interval_covers_noisy_slope():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 40)
    y = 0.3 + 0.5 * x + rng.normal(0, 0.05, 40)
    f = fit(x, y, bootstrap=1000, seed=0, confidence=0.9)
    low, high = f["slope_ci"]
    assert low < f["slope"] < high and low < 0.5 < high
    assert f["bootstrap_used"] == 1000


@pytest.mark.parametrize(
    ("x", "y", "words"),
    [
        ([], [], "only 0 point"),
        ([0.1, 0.2], [0.5, 1.0], "only 2 point"),
        ([0.3, 0.3, 0.3], [0.0, 0.5, 1.0], "same recency"),
    ],
)
def test_degenerate_inputs_give_null_statistics(x, y, words):
    f = fit(x, y, bootstrap=100)
    assert words in f["note"]
    assert f["n"] == len(x)
    for key in ("slope", "intercept", "r2", "pearson_r", "p_value", "slope_ci"):
        assert f[key] is None
    assert f["bootstrap_used"] == 0


def test_constant_weight_has_a_flat_line_but_no_correlation():
    f = fit([0.1, 0.2, 0.3], [0.5, 0.5, 0.5], bootstrap=50)
    assert f["slope"] == pytest.approx(0.0, abs=1e-12) and f["intercept"] == pytest.approx(0.5)
    assert f["r2"] is None and f["pearson_r"] is None and f["p_value"] is None
    assert "undefined" in f["note"]


def test_pooled_and_per_paradigm_fits():
    points = pd.DataFrame(
        {
            "paradigm": ["semid"] * 3 + ["title"] * 3,
            "domain": ["A", "B", "C"] * 2,
            "recency": [0.0, 1.0, 2.0, 0.0, 1.0, 2.0],
            "weight_optimal": [0.0, 0.5, 1.0, 0.2, 0.2, 0.2],
        }
    )
    pooled, per = fit_points(points, bootstrap=10, confidence=0.95, seed=0)
    assert sorted(per) == ["semid", "title"]
    assert per["semid"]["slope"] == pytest.approx(0.5) and per["semid"]["r2"] == pytest.approx(1.0)
    assert per["title"]["slope"] == pytest.approx(0.0, abs=1e-12)
    # pooled: x mean 1, y mean 0.35; Sxy = (-1)(-0.35) + (1)(0.65) + (-1)(-0.15) + (1)(-0.15) = 1.0
    assert pooled["n"] == 6 and pooled["slope"] == pytest.approx(1.0 / 4.0)
    table = points_table(points, pooled, per)
    assert table["fitted_paradigm"].tolist() == pytest.approx([0.0, 0.5, 1.0, 0.2, 0.2, 0.2])
    assert table["fitted_pooled"].iloc[0] == pytest.approx(pooled["intercept"])


def test_two_level_bootstrap_with_exact_points_is_the_one_level_bootstrap():
    # every draw of every point's λ* equals the point: the inner level changes nothing
    x = np.array([0.1, 0.2, 0.3, 0.5, 0.8])
    y = np.array([0.0, 0.5, 0.25, 1.0, 0.75])
    one = fit_line(x, y, bootstrap=400, confidence=0.9, seed=4)
    two = fit_line(
        x, y, bootstrap=400, confidence=0.9, seed=4, y_samples=[np.full(7, v) for v in y]
    )
    assert two["slope_ci"] == one["slope_ci"] and two["bootstrap_used"] == one["bootstrap_used"]
    assert one["bootstrap_levels"] == "points"
    assert two["bootstrap_levels"] == "points, then each point's selection users"


def test_two_level_interval_covers_a_null_slope_that_the_one_level_one_misses():
    # No relation (true slope 0); each λ* is measured with noise sd 0.3 and brings 200 draws of
    # that noise. Over 300 worlds of 8 points with narrow x, the one-level interval (λ* taken as
    # exact) misses 0 more often than its nominal 5 %; the two-level interval holds its level.
    rng = np.random.default_rng(11)
    missed = {"points": 0, "two": 0}
    worlds = 300
    for _ in range(worlds):
        x = rng.uniform(0.14, 0.20, 8)
        y = 0.5 + rng.normal(0, 0.3, 8)
        samples = [v + rng.normal(0, 0.3, 200) for v in y]
        for name, extra in (("points", {}), ("two", {"y_samples": samples})):
            low, high = fit_line(x, y, bootstrap=300, confidence=0.95, seed=0, **extra)["slope_ci"]
            missed[name] += not low <= 0.0 <= high
    assert missed["two"] <= 0.05 * worlds
    assert missed["points"] > missed["two"]


def test_two_level_bootstrap_needs_as_many_draws_per_point():
    with pytest.raises(ValueError, match="same number of draws"):
        fit_line([0, 1, 2], [0, 1, 2], bootstrap=10, confidence=0.9, seed=0,
                 y_samples=[np.zeros(3), np.zeros(3), np.zeros(4)])  # fmt: skip


def test_fit_points_takes_each_points_draws_by_paradigm_and_domain():
    points = pd.DataFrame(
        {
            "paradigm": ["semid"] * 3,
            "domain": ["A", "B", "C"],
            "recency": [0.0, 1.0, 2.0],
            "weight_optimal": [0.0, 0.5, 1.0],
        }
    )
    exact = {("semid", d): np.full(5, v) for d, v in zip("ABC", [0.0, 0.5, 1.0], strict=True)}
    pooled, per = fit_points(points, bootstrap=50, confidence=0.9, seed=0, weight_samples=exact)
    assert pooled["slope_ci"] == pytest.approx([0.5, 0.5])
    assert per["semid"]["bootstrap_levels"] == "domains, then each point's selection users"
    swapped = {**exact, ("semid", "A"): np.full(5, 1.0), ("semid", "C"): np.full(5, 0.0)}
    pooled, _ = fit_points(points, bootstrap=50, confidence=0.9, seed=0, weight_samples=swapped)
    assert pooled["slope"] == pytest.approx(0.5) and pooled["slope_ci"] == pytest.approx(
        [-0.5, -0.5]
    )
    missing = {k: v for k, v in exact.items() if k[1] != "B"}
    pooled, _ = fit_points(points, bootstrap=50, confidence=0.9, seed=0, weight_samples=missing)
    assert pooled["bootstrap_levels"] == "domains"


def test_one_point_per_domain_resamples_as_the_points_do():
    x = np.array([0.1, 0.2, 0.3, 0.5, 0.8])
    y = np.array([0.0, 0.5, 0.25, 1.0, 0.75])
    samples = [v + np.linspace(-0.2, 0.2, 9) for v in y]
    points = fit_line(x, y, bootstrap=400, confidence=0.9, seed=4, y_samples=samples)
    domains = fit_line(x, y, bootstrap=400, confidence=0.9, seed=4, y_samples=samples,
                       domains=list("ABCDE"))  # fmt: skip
    assert domains["slope_ci"] == points["slope_ci"]
    assert domains["bootstrap_levels"] == "domains, then each point's selection users"


def test_a_domains_points_are_resampled_together():
    # two paradigms with the same λ* in each of 4 domains: a draw of domains takes both copies,
    # so the pooled slopes are exactly those of the 4 domains' own bootstrap (same seed); the
    # 8 points resampled one by one would count each domain twice and give a narrower interval
    x = np.array([0.02, 0.05, 0.55, 0.64])
    y = np.array([0.9, 0.5, 1.3, 0.9])
    four = fit_line(x, y, bootstrap=2000, confidence=0.95, seed=3)
    pooled = fit_line(np.tile(x, 2), np.tile(y, 2), bootstrap=2000, confidence=0.95, seed=3,
                      domains=list("ABCDABCD"))  # fmt: skip
    naive = fit_line(np.tile(x, 2), np.tile(y, 2), bootstrap=2000, confidence=0.95, seed=3)
    assert pooled["slope"] == pytest.approx(four["slope"])
    assert pooled["slope_ci"] == pytest.approx(four["slope_ci"])
    assert np.diff(naive["slope_ci"])[0] < np.diff(pooled["slope_ci"])[0]


def test_resampling_domains_covers_a_null_slope_when_paradigms_share_the_domain():
    # No relation (true slope 0). Each domain's λ* has a shared offset (sd 0.25: its world
    # draw), seen by both paradigms, and each point its own noise (sd 0.15) with 200 draws of
    # it. Over 200 worlds of 4 domains x 2 paradigms, resampling the 8 points misses 0 more
    # often than its nominal 5 %; resampling the domains holds the level.
    rng = np.random.default_rng(12)
    x = np.tile([0.045, 0.64, 0.019, 0.53], 2)
    missed = {"points": 0, "domains": 0}
    worlds = 200
    for _ in range(worlds):
        y = 0.8 + np.tile(rng.normal(0, 0.25, 4), 2) + rng.normal(0, 0.15, 8)
        samples = [v + rng.normal(0, 0.15, 200) for v in y]
        for name, extra in (("points", {}), ("domains", {"domains": list("ABCDABCD")})):
            low, high = fit_line(
                x, y, bootstrap=300, confidence=0.95, seed=0, y_samples=samples, **extra
            )["slope_ci"]
            missed[name] += not low <= 0.0 <= high
    assert missed["domains"] <= 0.05 * worlds
    assert missed["points"] > 0.05 * worlds


def test_domain_labels_must_match_the_points():
    with pytest.raises(ValueError, match="one label per point"):
        fit_line([0, 1, 2], [0, 1, 2], bootstrap=10, confidence=0.9, seed=0, domains=["A", "B"])
