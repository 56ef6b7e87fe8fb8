"""Title grounding: distances, history exclusion and the popularity rescale, by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmgrid.evaluate.grounding import (
    MS_PER_DAY,
    min_distances,
    popularity_coefficients,
    ranking_keys,
)
from mmgrid.evaluate.metrics import metrics_from_ranks, rank_by_key


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_min_distance_over_generations_matches_a_naive_loop():
    rng = np.random.default_rng(1)
    items, generated = unit(rng.normal(size=(9, 4))), unit(rng.normal(size=(3, 4)))
    naive = [
        min(np.linalg.norm(g) + np.linalg.norm(x) - 2 * float(g @ x) for g in generated)
        for x in items
    ]
    assert min_distances(generated, items) == pytest.approx(naive)
    # unit vectors: the distance is 2 - 2 cos
    assert min_distances(generated[:1], items) == pytest.approx(2 - 2 * items @ generated[0])
    assert np.isinf(min_distances(np.zeros((0, 4)), items)).all()


def test_history_items_are_excluded():
    items = unit(np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.7, 0.7]]))
    generated = items[:1]  # nearest: item 0, then item 1
    distances = min_distances(generated, items)
    assert rank_by_key(ranking_keys(distances, []), 1) == 2
    keys = ranking_keys(distances, history_rows=[0])
    assert np.isinf(keys[0])
    assert rank_by_key(keys, 1) == 1
    assert rank_by_key(keys, 0) is None


def test_popularity_coefficients_by_hand():
    ref = 100 * MS_PER_DAY
    rows = np.array([0, 0, 1, 1, 3])
    stamps = np.array(
        [
            70 * MS_PER_DAY,  # 30 whole days before: weight 1/2
            100 * MS_PER_DAY,  # at the reference date: ignored
            99 * MS_PER_DAY + MS_PER_DAY // 2,  # 0.5 days before -> 0 whole days: weight 1
            40 * MS_PER_DAY + MS_PER_DAY // 3,  # 59.67 days before -> 59 whole days
            120 * MS_PER_DAY,  # only after the reference date: unrankable
        ]
    )
    got = popularity_coefficients(rows, stamps, 4, reference_ms=ref, half_life_days=30, gamma=0.25)
    expected = [1.5**0.25, (2 + 2 ** (-59 / 30)) ** 0.25, 0.0, 0.0]
    assert got == pytest.approx(expected)


def test_rescaled_keys_and_unrankable_items():
    distances = np.array([0.4, 0.4, 0.1, 0.2])
    coeff = np.array([2.0, 1.0, 0.0, 4.0])
    keys = ranking_keys(distances, [], coeff)
    assert keys[[0, 1, 3]] == pytest.approx([0.2, 0.4, 0.05])
    assert np.isinf(keys[2])
    assert [rank_by_key(keys, t) for t in range(4)] == [2, 3, None, 1]
    # zero distance and zero coefficient is still unrankable, not nan
    assert np.isinf(ranking_keys(np.array([0.0]), [], np.array([0.0]))).all()


def test_oracle_generating_the_target_scores_one():
    rng = np.random.default_rng(2)
    items = unit(rng.normal(size=(30, 8)))
    coeff = popularity_coefficients(
        np.arange(30), np.zeros(30, np.int64), 30, reference_ms=1, half_life_days=30, gamma=0.25
    )
    ranks = []
    for _ in range(20):
        target = int(rng.integers(30))
        history = [int(h) for h in rng.choice(30, 4) if h != target]
        keys = ranking_keys(min_distances(items[[target]], items), history, coeff)
        ranks.append(rank_by_key(keys, target))
    assert set(metrics_from_ranks(ranks, [1, 5, 10]).values()) == {1.0}


def test_decay_halves_per_half_life():
    rows = np.array([0, 1])
    stamps = np.array([90, 60]) * MS_PER_DAY
    got = popularity_coefficients(
        rows, stamps, 2, reference_ms=100 * MS_PER_DAY, half_life_days=10, gamma=1.0
    )
    assert got == pytest.approx([1 + 2**-1, 1 + 2**-4])
    assert math.isclose(got[0] - 1, 0.5)
