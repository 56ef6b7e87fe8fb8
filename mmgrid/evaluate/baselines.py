"""Non-learned reference recommenders, scored on the same test users as every model.

- ``MostPop``: every catalogue item ranked by its number of interactions in the popularity
  period (the last training period by default), then by its interactions in all earlier
  periods, then by catalogue row; the user's history is excluded.
- ``Random``: every catalogue item in a random order, seeded per (seed, domain, user); the
  user's history is excluded.

:func:`blend_orders` is the popularity analogue of the linear temporal merge (two periods'
popularity mixed with a weight); ``bench/popularity_sweep.py`` sweeps it to ask whether a
world's data carry the recency a merge weight should follow.

The test users are drawn exactly as the samples stage draws them
(:func:`mmgrid.samples.targets.evaluation_targets` with the shared per-domain seed), so a
baseline and every paradigm's models are scored on the same users and targets, listed in the
same order (:func:`~mmgrid.samples.targets.sample_order`). The history of
a user is every interaction before the target. Outputs have the format of
:mod:`mmgrid.evaluate.model_evaluation`: ``{domain}.json`` (metrics and provenance) and
``{domain}.ranks.parquet`` (each user's rank of the target).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from mmgrid.atomic import atomic_paths, dumps_json
from mmgrid.errors import InputError
from mmgrid.evaluate.metrics import metrics_from_ranks, rank_by_key, rank_table
from mmgrid.items.index import read_items
from mmgrid.periods import Period
from mmgrid.samples.sequences import UserSequences, load_sequences
from mmgrid.samples.targets import evaluation_targets, evaluation_users_seed, sample_order
from mmgrid.seeding import derive_seed

BASELINES = ("MostPop", "Random")
PARADIGM = "baselines"
"""The metrics root folder of the baselines: ``metrics/baselines/{name}/{domain}.json``."""


_BEGINNING = int(np.iinfo(np.int64).min)
"""A start time before every interaction."""


def _item_rows(seqs: UserSequences, row_of: Mapping[str, int]) -> np.ndarray:
    """The catalogue row of every interaction of ``seqs``; -1 for an item not in the catalogue."""
    return np.array([row_of.get(i, -1) for i in seqs.items], dtype=np.int64)


def _counts(
    rows: np.ndarray, timestamps: np.ndarray, n_items: int, start_ms: int, end_ms: int
) -> np.ndarray:
    """Interactions per catalogue row (``rows`` from :func:`_item_rows`) in [start, end)."""
    inside = (rows >= 0) & (timestamps >= start_ms) & (timestamps < end_ms)
    return np.bincount(rows[inside], minlength=n_items)


def popularity_order(
    seqs: UserSequences, row_of: Mapping[str, int], n_items: int, period: Period
) -> np.ndarray:
    """Catalogue rows by popularity: interactions in ``period``, then earlier ones, then row."""
    rows = _item_rows(seqs, row_of)
    recent = _counts(rows, seqs.timestamps, n_items, period.start_ms, period.end_ms)
    earlier = _counts(rows, seqs.timestamps, n_items, _BEGINNING, period.start_ms)
    return np.lexsort((np.arange(n_items), -earlier, -recent))


def blend_orders(
    seqs: UserSequences,
    row_of: Mapping[str, int],
    n_items: int,
    old: Period,
    new: Period,
    weights: Sequence[float],
) -> list[np.ndarray]:
    """For each weight w, the catalogue rows by ``(1 - w) * share_old + w * share_new``, where
    share_P is an item's share of the interactions in period P (weights above 1 extrapolate, as
    linear merges do), then by interactions before ``old``, then by row: the popularity analogue
    of the linear temporal merge of the two periods' cells."""
    rows = _item_rows(seqs, row_of)
    share_old, share_new = (
        counts / max(counts.sum(), 1)
        for counts in (
            _counts(rows, seqs.timestamps, n_items, p.start_ms, p.end_ms) for p in (old, new)
        )
    )
    earlier = _counts(rows, seqs.timestamps, n_items, _BEGINNING, old.start_ms)
    ties = (np.arange(n_items), -earlier)
    return [np.lexsort((*ties, -((1.0 - w) * share_old + w * share_new))) for w in weights]


def ordered_ranks(
    order: np.ndarray,
    seqs: UserSequences,
    targets: np.ndarray,
    row_of: Mapping[str, int],
) -> list[int | None]:
    """Each test user's 1-based rank of the target when every user sees the catalogue in
    ``order`` (rows, best first) with their own history removed."""
    position = np.empty(len(order), dtype=np.float64)
    position[order] = np.arange(len(order))
    users = seqs.row_users(targets)
    return [
        _rank_after_history(position.copy(), seqs, user, target, row_of)
        for user, target in zip(users.tolist(), targets.tolist(), strict=True)
    ]


def _rank_after_history(
    keys: np.ndarray, seqs: UserSequences, user: int, target: int, row_of: Mapping[str, int]
) -> int | None:
    """The target's rank by ascending ``keys`` (modified in place) once the items the user had
    before the target are removed."""
    history = [row_of[i] for i in seqs.items[seqs.offsets[user] : target] if i in row_of]
    keys[np.asarray(history, dtype=np.int64)] = np.inf
    return rank_by_key(keys, row_of[seqs.items[target]])


def baseline_ranks(
    name: str,
    seqs: UserSequences,
    targets: np.ndarray,
    row_of: Mapping[str, int],
    n_items: int,
    *,
    popularity_period: Period,
    seed: int,
    domain: str,
) -> list[int | None]:
    """Each test user's 1-based rank of the target under baseline ``name`` (history excluded)."""
    if name not in BASELINES:
        raise InputError(f"unknown baseline {name!r}; use one of {', '.join(BASELINES)}")
    if name == "MostPop":
        order = popularity_order(seqs, row_of, n_items, popularity_period)
        return ordered_ranks(order, seqs, targets, row_of)
    users = seqs.row_users(targets)
    ranks: list[int | None] = []
    for user, target in zip(users.tolist(), targets.tolist(), strict=True):
        rng = np.random.default_rng(derive_seed(seed, "random-baseline", domain, seqs.users[user]))
        ranks.append(_rank_after_history(rng.random(n_items), seqs, user, target, row_of))
    return ranks


def draw_test_targets(
    seqs: UserSequences,
    row_of: Mapping[str, int],
    items_path: str | os.PathLike[str],
    domain: str,
    test_period: Period,
    max_users: int,
    seed: int,
) -> np.ndarray:
    """The evaluated users' target rows of ``seqs``, drawn and ordered as the samples stage
    draws them; raises when a target is not in the item table at ``items_path``."""
    rng = np.random.default_rng(evaluation_users_seed(seed, domain, test_period.name))
    targets = sample_order(
        seqs, evaluation_targets(seqs, test_period, max_users=max_users, rng=rng)
    )
    unknown = sorted({seqs.items[t] for t in targets} - set(row_of))
    if unknown:
        raise InputError(
            f"{items_path}: test target {unknown[0]} is not in the item table; build the shards "
            "and the item table from the same ingest"
        )
    return targets


def evaluate_baselines(
    domain: str,
    shards: Sequence[str | os.PathLike[str]],
    items_path: str | os.PathLike[str],
    *,
    test_period: Period,
    popularity_period: Period,
    max_users: int,
    ks: Sequence[int],
    seed: int,
    outputs: Mapping[str, tuple[str | os.PathLike[str], str | os.PathLike[str]]],
    log: Callable[[str], None] = print,
) -> dict[str, dict[str, float]]:
    """Score every baseline of ``outputs`` (name -> (metrics json, ranks parquet)) on ``domain``.

    ``shards`` are the domain's period shards up to and including the test window. Every file
    is written atomically, all together. Returns the metrics per baseline.
    """
    seqs = load_sequences(shards)
    item_ids = read_items(items_path)["item_id"].tolist()
    row_of = {item: row for row, item in enumerate(item_ids)}
    targets = draw_test_targets(seqs, row_of, items_path, domain, test_period, max_users, seed)
    users = [seqs.users[u] for u in seqs.row_users(targets)]
    results: dict[str, dict[str, float]] = {}
    paths = [Path(p) for name in sorted(outputs) for p in outputs[name]]
    with atomic_paths(paths) as tmp:
        written = iter(tmp)
        for name in sorted(outputs):
            ranks = baseline_ranks(
                name,
                seqs,
                targets,
                row_of,
                len(item_ids),
                popularity_period=popularity_period,
                seed=seed,
                domain=domain,
            )
            metrics = metrics_from_ranks(ranks, ks)
            document: dict[str, Any] = {
                "domain": domain,
                "paradigm": PARADIGM,
                "model": name,
                "shards": [str(s) for s in shards],
                "items": str(items_path),
                "seed": seed,
                "settings": {
                    "k": list(ks),
                    "popularity_period": popularity_period.name,
                    "max_users": max_users,
                },
                "n_users": len(ranks),
                "n_unranked": sum(r is None for r in ranks),
                "metrics": metrics,
            }
            table = rank_table(
                users, [seqs.items[t] for t in targets], seqs.timestamps[targets], ranks
            )
            js, pqt = next(written), next(written)
            js.write_text(dumps_json(document))
            pq.write_table(table, pqt, compression="zstd")
            results[name] = metrics
            log(f"{name} on {domain} ({len(ranks)} users): {metrics}")
    return results
