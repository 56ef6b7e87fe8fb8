"""HLLM data from period shards and the item table: training chunks and test cases (no torch).

Training data of a period ``[start, end)`` (the study's HLLM loader): interactions before
``end`` of every user whose last such interaction lies at or after ``start``, i.e. the *full*
history of the users active in the window (for the first period: every user). A user's
sequence of ``n`` items is one training sequence when ``n <= max_items + 1``; a longer one
loses its ``n mod (max_items + 1)`` oldest items and is cut into chunks of ``max_items + 1``.
Sequences need two items (one prediction). Every position predicts the next item, also
positions before the window.

Test cases are the test users, targets and histories of the other paradigms: the targets come
from :func:`mmgrid.samples.targets.evaluation_targets`, in the samples files' order.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mmgrid.errors import InputError
from mmgrid.items.index import read_items
from mmgrid.periods import Period
from mmgrid.samples.sequences import UserSequences, load_sequences
from mmgrid.samples.targets import evaluation_targets, sample_order


@dataclass(frozen=True)
class Catalogue:
    """One domain's items in items-file order: the rows every item index refers to."""

    path: str
    item_ids: list[str]
    titles: list[str]
    descriptions: list[str]

    def __len__(self) -> int:
        return len(self.item_ids)

    def rows(self, item_ids: Sequence[str], where: str) -> np.ndarray:
        """Catalogue rows of ``item_ids``; an unknown id is an error naming ``where``."""
        rows = pd.Index(self.item_ids).get_indexer(pd.Index(list(item_ids), dtype=object))
        if (rows < 0).any():
            missing = item_ids[int(np.flatnonzero(rows < 0)[0])]
            raise InputError(
                f"{where}: item {missing} is not in the items file {self.path}; build the "
                "shards, samples and items file from the same domain data"
            )
        return rows.astype(np.int64)


def read_catalogue(
    items_path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> Catalogue:
    """Read a domain's items file (validated by :func:`mmgrid.items.index.read_items`).

    Several files (a pooled cell's domains) are concatenated in order; an item id listed twice
    keeps its first row.
    """
    paths = [items_path] if isinstance(items_path, str | os.PathLike) else list(items_path)
    items = pd.concat([read_items(p) for p in paths], ignore_index=True)
    items = items.drop_duplicates("item_id", keep="first")
    return Catalogue(
        path=", ".join(map(str, paths)),
        item_ids=items["item_id"].astype(str).tolist(),
        titles=items["title"].astype(str).str.strip().tolist(),
        descriptions=items["description"].astype(str).str.strip().tolist(),
    )


def item_texts(catalogue: Catalogue, prompt: str) -> list[str]:
    """The study's item-LLM input: ``{prompt}title: {title}description: {description}``.

    Fields are concatenated without separators (as in the study); an empty description is left
    out.
    """
    return [
        f"{prompt}title: {t}" + (f"description: {d}" if d else "")
        for t, d in zip(catalogue.titles, catalogue.descriptions, strict=True)
    ]


@dataclass(frozen=True)
class TrainingSequences:
    """Chunks of catalogue rows, oldest chunk end first (ties: by user id, then chunk order)."""

    rows: list[np.ndarray]
    end_ms: np.ndarray
    """Timestamp of each chunk's last interaction."""
    users: int
    """Users that contributed at least one chunk."""


def chunk_bounds(n: int, chunk: int) -> list[tuple[int, int]]:
    """``[start, end)`` of the chunks of a sequence of ``n`` items (the study's rule)."""
    if n <= chunk:
        return [(0, n)] if n >= 2 else []
    first = n % chunk
    return [(s, s + chunk) for s in range(first, n, chunk)]


def training_sequences(
    seqs: UserSequences, period: Period, max_items: int, catalogue: Catalogue, where: str
) -> TrainingSequences:
    """The training chunks of ``period`` (see the module docstring)."""
    before_end = seqs.timestamps < period.end_ms
    cum = np.r_[0, np.cumsum(before_end)]
    counts = cum[seqs.offsets[1:]] - cum[seqs.offsets[:-1]]
    last = seqs.offsets[:-1] + counts - 1
    active = (counts >= 2) & (seqs.timestamps[np.maximum(last, 0)] >= period.start_ms)
    chunks: list[tuple[int, str, int, int, int]] = []  # (end ms, user, chunk, first row, end row)
    for user in np.flatnonzero(active):
        offset = int(seqs.offsets[user])
        for k, (a, b) in enumerate(chunk_bounds(int(counts[user]), max_items + 1)):
            ts = int(seqs.timestamps[offset + b - 1])
            chunks.append((ts, str(seqs.users[user]), k, offset + a, offset + b))
    chunks.sort()
    used = np.unique(np.concatenate([np.arange(a, b) for *_, a, b in chunks])) if chunks else []
    item_rows = np.full(len(seqs.items), -1, np.int64)
    if len(used):
        item_rows[used] = catalogue.rows(seqs.items[used].tolist(), where)
    return TrainingSequences(
        rows=[item_rows[a:b] for *_, a, b in chunks],
        end_ms=np.array([c[0] for c in chunks], np.int64),
        users=len({c[1] for c in chunks}),
    )


def load_training_sequences(
    shards: Sequence[str | os.PathLike[str]],
    period: Period,
    max_items: int,
    catalogue: Catalogue,
) -> TrainingSequences:
    """Read the period shards (any that exist before ``period.end``) and chunk them."""
    where = ", ".join(map(str, shards))
    if not shards:
        raise InputError("no shards given: pass the domain's period shards up to the cell's")
    return training_sequences(load_sequences(shards), period, max_items, catalogue, where)


@dataclass(frozen=True)
class EvalCases:
    """Test users with their target item and history (item ids, oldest first), in order."""

    user_ids: list[str]
    item_ids: list[str]
    timestamps: list[int]
    histories: list[list[str]]
    source: str
    """Where the cases come from (recorded in the metrics file)."""
    notes: dict[str, int | str] = field(default_factory=dict)
    """How they were drawn (recorded in the metrics file's settings)."""

    def __len__(self) -> int:
        return len(self.user_ids)


def cases_from_sequences(
    seqs: UserSequences,
    test: Period,
    *,
    max_users: int | None,
    max_history: int,
    seed: int,
    source: str,
) -> EvalCases:
    """Test cases as the samples stage draws them (same targets, same order); ``max_users``
    None keeps every test user (the study's HLLM evaluation).

    ``seed`` seeds the ``max_users`` draw: ``evaluation_users_seed(config_seed, domain, test.name)``
    (:mod:`mmgrid.samples.targets`) reproduces the test samples files' users exactly.
    """
    rng = np.random.default_rng(seed)
    rows = evaluation_targets(seqs, test, max_users=max_users, rng=rng)
    rows = sample_order(seqs, rows)
    owner = seqs.row_users(rows)
    starts = np.maximum(seqs.offsets[owner], rows - max_history)
    return EvalCases(
        user_ids=[str(u) for u in seqs.users[owner]],
        item_ids=[str(i) for i in seqs.items[rows]],
        timestamps=[int(t) for t in seqs.timestamps[rows]],
        histories=[[str(i) for i in seqs.items[s:r]] for s, r in zip(starts, rows, strict=True)],
        source=source,
        notes={"max_users": max_users, "max_history": max_history, "sample_seed": seed},
    )


def cases_from_shards(
    shards: Sequence[str | os.PathLike[str]],
    test: Period,
    *,
    max_users: int | None,
    max_history: int,
    seed: int,
) -> EvalCases:
    """Read the domain's shards and draw the test cases (see :func:`cases_from_sequences`)."""
    return cases_from_sequences(
        load_sequences(shards),
        test,
        max_users=max_users,
        max_history=max_history,
        seed=seed,
        source=", ".join(map(str, shards)),
    )


def cases_from_samples(path: str | os.PathLike[str]) -> EvalCases:
    """The users, targets and histories of another paradigm's test samples file, in its order."""
    from mmgrid.evaluate.model_evaluation import read_test_samples

    frame = read_test_samples(Path(path))
    return EvalCases(
        user_ids=frame["user_id"].astype(str).tolist(),
        item_ids=frame["item_id"].astype(str).tolist(),
        timestamps=[int(t) for t in frame["timestamp"]],
        histories=[[str(i) for i in h] for h in frame["history"]],
        source=str(path),
    )
