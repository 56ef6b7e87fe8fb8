"""λ* selection with its tie-breaking rule, and the user split behind it."""

from __future__ import annotations

import random

import numpy as np
import pytest

from mmgrid.analysis.optimal import optimal_weight, uniform_weight
from mmgrid.analysis.split import split_masks, user_draw

WEIGHTS = [0.0, 0.25, 0.5, 0.75, 1.0]


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([0.1, 0.2, 0.3, 0.4, 0.35], 0.75),  # unique best
        ([0.5, 0.2, 0.3, 0.4, 0.1], 0.0),  # best at an end
        ([0.1, 0.3, 0.3, 0.2, 0.1], 0.5),  # tie: 0.5 is uniform
        ([0.1, 0.3, 0.2, 0.3, 0.1], 0.25),  # tie at equal distance from 0.5: the smaller
        ([0.4, 0.1, 0.2, 0.1, 0.4], 0.0),  # tie at the ends: the smaller
        ([0.3, 0.3, 0.1, 0.1, 0.3 + 1e-15], 0.25),  # rounding-level differences are ties
        ([0.2] * 5, 0.5),  # all equal: uniform
    ],
)
def test_optimal_weight(scores, expected):
    assert optimal_weight(WEIGHTS, scores) == expected


def test_optimal_weight_ignores_order_of_the_grid():
    assert optimal_weight([1.0, 0.0, 0.6, 0.4], [0.2, 0.2, 0.2, 0.2]) == 0.4


@pytest.mark.parametrize(
    ("weights", "expected"),
    [([0.0, 0.5, 1.0], 0.5), ([0.0, 0.4, 0.6, 1.0], 0.4), ([0.0, 0.3, 1.0], 0.3), ([1.0], 1.0)],
)
def test_uniform_weight(weights, expected):
    assert uniform_weight(weights) == expected


def test_split_is_stable_per_user():
    ids = [f"user{i}" for i in range(300)]
    selected, report = split_masks(ids, "Books", 7, "valid", 0.5)
    assert np.array_equal(report, ~selected)
    chosen = {u for u, s in zip(ids, selected, strict=True) if s}
    # a subset, shuffled, with unknown users added: every shared user keeps its side
    subset = random.Random(0).sample(ids, 120) + [f"other{i}" for i in range(50)]
    sub_selected, _ = split_masks(subset, "Books", 7, "valid", 0.5)
    for user, side in zip(subset, sub_selected, strict=True):
        if user in ids:
            assert side == (user in chosen)
    # the draw is the hash of (seed, domain, user id): another seed or domain reshuffles
    assert not np.array_equal(selected, split_masks(ids, "Books", 8, "valid", 0.5)[0])
    assert not np.array_equal(selected, split_masks(ids, "Games", 7, "valid", 0.5)[0])
    assert all((user_draw(7, "Books", u) < 0.5) == s for u, s in zip(ids, selected, strict=True))


@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.8])
def test_split_has_the_requested_share(fraction):
    ids = [f"u{i}" for i in range(20_000)]
    selected, _ = split_masks(ids, "Books", 0, "valid", fraction)
    # binomial standard deviation <= 0.0036 at n = 20000
    assert abs(selected.mean() - fraction) < 0.015


def test_test_protocol_uses_every_user_for_both():
    selected, report = split_masks(["a", "b", "c"], "Books", 0, "test", 0.5)
    assert selected.all() and report.all()
