"""Ranking metrics at cut-offs K from 1-based ranks of the single target item per user.

With one relevant item per user:

- Recall@K (= Hit@K): 1 if rank <= K else 0
- NDCG@K: 1 / log2(rank + 1) if rank <= K else 0 (binary gain, ideal DCG 1)
- MRR@K: 1 / rank if rank <= K else 0

each averaged over users and reported as a fraction (the study prints them x100). A user
whose target was not ranked (``None``: not among the beams, or unrankable) counts as a miss.

Ranks from scores (:func:`rank_by_key`) break ties deterministically: among equal keys the item
with the lower catalogue row ranks first, so a tied target gets the rank of a stable sort.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mmgrid.errors import InputError

METRICS = ("recall", "ndcg", "mrr")


def metric_name(metric: str, k: int) -> str:
    """The key of a metric in the metrics file, e.g. ``recall@10``."""
    return f"{metric}@{k}"


def check_cutoffs(ks: Sequence[int]) -> None:
    """Raise :class:`InputError` unless ``ks`` (config key ``evaluate.k``) lists cut-offs >= 1."""
    if not ks or any(k < 1 for k in ks):
        raise InputError(f"config key 'evaluate.k' must list cut-offs >= 1, got {list(ks)}")


def metrics_from_ranks(ranks: Sequence[int | None], ks: Sequence[int]) -> dict[str, float]:
    """Recall, NDCG and MRR at every K, averaged over ``ranks`` (one entry per user).

    An empty ``ranks`` gives zeros, so that a domain without test users still has a metrics file.
    """
    for rank in ranks:
        if rank is not None and rank < 1:
            raise ValueError(f"ranks are 1-based, got {rank}")
    values = np.array([np.nan if r is None else r for r in ranks], dtype=np.float64)
    return {
        name: float(user_values(values, name).mean()) if len(values) else 0.0
        for name in (metric_name(metric, k) for k in ks for metric in METRICS)
    }


def user_values(ranks: np.ndarray, metric: str) -> np.ndarray:
    """Each user's value of ``metric`` (e.g. ``ndcg@10``) from float ranks (NaN = not ranked):
    the one definition of the gains; :func:`metrics_from_ranks` averages it."""
    name, _, cutoff = metric.partition("@")
    if name not in METRICS or not cutoff.isdigit():
        raise ValueError(f"not a metric: {metric!r} (write NAME@K, NAME one of {METRICS})")
    r = np.asarray(ranks, dtype=np.float64)
    hit = np.isfinite(r) & (r <= int(cutoff))
    safe = np.where(hit, r, 1.0)
    if name == "recall":
        gain = np.ones_like(safe)
    elif name == "ndcg":
        gain = 1.0 / np.log2(safe + 1.0)
    else:
        gain = 1.0 / safe
    return np.where(hit, gain, 0.0)


def rank_by_key(keys: np.ndarray, target: int) -> int | None:
    """1-based rank of row ``target`` when rows are sorted by ``keys`` ascending.

    Ties go to the lower row. A non-finite key (``inf``: excluded or unrankable) has no rank.
    """
    key = keys[target]
    if not np.isfinite(key):
        return None
    better = np.count_nonzero(keys < key)
    tied_before = np.count_nonzero(keys[:target] == key)
    return int(better + tied_before + 1)


def rank_in_list(ranked_rows: Sequence[int], target: int) -> int | None:
    """1-based position of ``target`` in a ranked list of item rows, ``None`` if absent."""
    for position, row in enumerate(ranked_rows, start=1):
        if row == target:
            return position
    return None


def rank_table(
    user_ids: Sequence[str],
    item_ids: Sequence[str],
    timestamps: Sequence[int],
    ranks: Sequence[int | None],
):
    """The per-user rank table: user_id, item_id (the target), timestamp, rank (null = miss)."""
    import pyarrow as pa

    return pa.table(
        {
            "user_id": pa.array(list(user_ids), pa.string()),
            "item_id": pa.array(list(item_ids), pa.string()),
            "timestamp": pa.array(list(timestamps), pa.int64()),
            "rank": pa.array(list(ranks), pa.int64()),
        }
    )
