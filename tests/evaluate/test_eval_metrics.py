"""Metrics against hand-computed cases, an oracle and the chance level of a random ranking."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmgrid.evaluate.metrics import (
    metrics_from_ranks,
    rank_by_key,
    rank_in_list,
    rank_table,
)


def test_hand_computed_ranks_with_a_missing_prediction():
    got = metrics_from_ranks([1, 3, None, 12], ks=[5, 10, 20])
    expected = {
        "recall@5": 2 / 4,
        "ndcg@5": (1 + 1 / 2) / 4,  # 1/log2(2) + 1/log2(4)
        "mrr@5": (1 + 1 / 3) / 4,
        "recall@10": 2 / 4,
        "ndcg@10": (1 + 1 / 2) / 4,
        "mrr@10": (1 + 1 / 3) / 4,
        "recall@20": 3 / 4,
        "ndcg@20": (1 + 1 / 2 + 1 / math.log2(13)) / 4,
        "mrr@20": (1 + 1 / 3 + 1 / 12) / 4,
    }
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value), key


def test_rank_exactly_k_counts_and_rank_k_plus_one_does_not():
    got = metrics_from_ranks([5, 6], ks=[5])
    assert got == pytest.approx({"recall@5": 0.5, "ndcg@5": 0.5 / math.log2(6), "mrr@5": 0.1})


def test_no_users_and_bad_ranks():
    assert set(metrics_from_ranks([], ks=[5]).values()) == {0.0}
    with pytest.raises(ValueError, match="1-based"):
        metrics_from_ranks([0], ks=[5])


def test_oracle_scores_one_on_every_metric():
    assert set(metrics_from_ranks([1] * 7, ks=[1, 5, 10, 20]).values()) == {1.0}
    keys = np.array([0.3, 0.1, 0.7])
    assert rank_by_key(keys, 1) == 1
    assert rank_in_list([4, 2, 9], 4) == 1


def test_ties_go_to_the_lower_row_like_a_stable_sort():
    keys = np.array([0.5, 0.2, 0.2, 0.9, np.inf, 0.2])
    assert [rank_by_key(keys, t) for t in range(6)] == [4, 1, 2, 5, None, 3]
    order = np.argsort(keys, kind="stable")  # independent reference
    for target in range(4):
        assert rank_by_key(keys, target) == int(np.flatnonzero(order == target)[0]) + 1


def test_rank_in_list_missing_target():
    assert rank_in_list([3, 1], 7) is None
    assert rank_in_list([], 0) is None


def test_random_ranking_scores_near_chance():
    n_items, n_users, ks = 50, 4000, [5, 10, 20]
    rng = np.random.default_rng(0)
    ranks = [rank_by_key(rng.random(n_items), int(rng.integers(n_items))) for _ in range(n_users)]
    got = metrics_from_ranks(ranks, ks)
    for k in ks:
        chance = {
            "recall": k / n_items,
            "ndcg": sum(1 / math.log2(r + 1) for r in range(1, k + 1)) / n_items,
            "mrr": sum(1 / r for r in range(1, k + 1)) / n_items,
        }
        for metric, value in chance.items():
            stderr = math.sqrt(value * (1 - value) / n_users)  # bound for a [0, 1] mean
            assert abs(got[f"{metric}@{k}"] - value) < 4 * stderr, (metric, k)


def test_rank_table_columns_and_nulls():
    table = rank_table(["u1", "u2"], ["i1", "i2"], [10, 20], [3, None])
    assert table.column_names == ["user_id", "item_id", "timestamp", "rank"]
    assert table.column("rank").to_pylist() == [3, None]
    assert str(table.schema.field("rank").type) == "int64"
