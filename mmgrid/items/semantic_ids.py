"""Semantic IDs: residual k-means codes, last-level collision resolution and statistics.

Level 0 clusters the item embeddings into ``K`` codewords; each later level clusters what the
earlier levels left unexplained (the residuals), as the study's single-pass ResidualVQ with
k-means initialisation does. Items that end up with the same full code are then separated on
the last level, so that every item has a distinct ID.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from mmgrid.errors import InputError
from mmgrid.items.tokens import format_sid
from mmgrid.seeding import derive_seed


@dataclasses.dataclass(frozen=True)
class ResidualCodes:
    """Residual k-means output before collision resolution."""

    codes: np.ndarray
    """int64 [n_items, levels]: the nearest codeword per level."""
    codebooks: np.ndarray
    """float32 [levels, codebook_size, dim]; codewords a level did not need are zero."""
    residual_mse: tuple[float, ...]
    """Mean squared norm of what remains after each level (decreases with levels)."""


def kmeans_level(
    residuals: np.ndarray, codebook_size: int, *, seed: int, max_iter: int, n_init: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster one level's residuals; return (codebook [K, dim] float32, labels [n] int64).

    With fewer distinct residuals than ``codebook_size`` only that many codewords are fitted
    and the rest stay zero (never assigned). k-means runs on one thread: scikit-learn's
    multi-threaded Lloyd step sums per-thread buffers in arrival order, which would make the
    codebooks differ in the last bits from run to run.
    """
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    n_distinct = len(np.unique(residuals, axis=0))
    k = min(codebook_size, n_distinct)
    with threadpool_limits(limits=1):
        kmeans = KMeans(
            n_clusters=k,
            init="k-means++",
            n_init=n_init,
            max_iter=max_iter,
            random_state=seed % 2**32,
            algorithm="lloyd",
        ).fit(residuals)
    codebook = np.zeros((codebook_size, residuals.shape[1]), dtype=np.float32)
    codebook[:k] = kmeans.cluster_centers_
    return codebook, kmeans.labels_.astype(np.int64)


def residual_kmeans(
    embeddings: np.ndarray,
    levels: int,
    codebook_size: int,
    *,
    seed: int,
    max_iter: int = 100,
    n_init: int = 3,
) -> ResidualCodes:
    """Quantise ``embeddings`` [n, dim] with ``levels`` rounds of k-means on the residuals.

    Level ``l`` is seeded with ``derive_seed(seed, "residual_kmeans", l)``. Residuals are
    computed in float64 against the stored float32 codewords, so later levels quantise exactly
    what the saved codebooks leave unexplained.
    """
    if embeddings.ndim != 2 or len(embeddings) == 0:
        raise ValueError(f"embeddings must be a non-empty 2-D array, got shape {embeddings.shape}")
    residuals = np.asarray(embeddings, dtype=np.float64).copy()
    codes = np.zeros((len(residuals), levels), dtype=np.int64)
    codebooks = np.zeros((levels, codebook_size, residuals.shape[1]), dtype=np.float32)
    residual_mse: list[float] = []
    for level in range(levels):
        codebook, labels = kmeans_level(
            residuals,
            codebook_size,
            seed=derive_seed(seed, "residual_kmeans", level),
            max_iter=max_iter,
            n_init=n_init,
        )
        codebooks[level] = codebook
        codes[:, level] = labels
        residuals -= codebook.astype(np.float64)[labels]
        residual_mse.append(float(np.mean(np.sum(residuals**2, axis=1))))
    return ResidualCodes(codes=codes, codebooks=codebooks, residual_mse=tuple(residual_mse))


def prefix_group_sizes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group rows by their first L-1 codes; return (group id per row, size per group)."""
    _, group, sizes = np.unique(codes[:, :-1], axis=0, return_inverse=True, return_counts=True)
    return group.reshape(-1), sizes


def collision_rate(codes: np.ndarray) -> float:
    """Share of rows whose full code equals that of an earlier row."""
    return 1.0 - len(np.unique(codes, axis=0)) / len(codes)


def resolve_collisions(codes: np.ndarray, last_codebook: np.ndarray) -> np.ndarray:
    """Give every row a distinct full code by changing only last-level codes.

    Rows are grouped by their first L-1 codes and visited in row order. A row keeps its
    last-level code when no earlier row of its group holds it; otherwise it takes the unused
    code whose codeword is nearest (L2, ties to the lower code) to its own codeword. Raises
    ``InputError`` when a group has more rows than ``last_codebook`` has codes.
    """
    codebook_size = len(last_codebook)
    group, sizes = prefix_group_sizes(codes)
    largest = int(sizes.max())
    if largest > codebook_size:
        row = int(np.flatnonzero(group == int(np.argmax(sizes)))[0])
        prefix = format_sid(codes[row, :-1]) if codes.shape[1] > 1 else "(no prefix, levels=1)"
        raise InputError(
            f"{largest} items share the semantic-ID prefix {prefix}, more than the "
            f"{codebook_size} last-level codes, so their IDs cannot all be distinct; increase "
            "index.codebook_size or index.levels"
        )
    codebook = last_codebook.astype(np.float64)
    norms = (codebook**2).sum(axis=1)
    # squared L2 via norms (no K x K x dim temporary); same order as L2
    distances = np.maximum(norms[:, None] + norms[None, :] - 2.0 * codebook @ codebook.T, 0.0)
    np.fill_diagonal(distances, 0.0)
    nearest_first = np.argsort(distances, axis=1, kind="stable")
    resolved = codes.copy()
    used: dict[int, set[int]] = {}
    for row in range(len(codes)):
        taken = used.setdefault(int(group[row]), set())
        code = int(codes[row, -1])
        if code in taken:
            code = next(int(c) for c in nearest_first[code] if int(c) not in taken)
            resolved[row, -1] = code
        taken.add(code)
    return resolved


@dataclasses.dataclass(frozen=True)
class SemanticIds:
    """Distinct semantic IDs of a catalogue and how they were obtained."""

    codes: np.ndarray
    """int64 [n_items, levels], every row distinct."""
    codebooks: np.ndarray
    """float32 [levels, codebook_size, dim]."""
    stats: dict[str, Any]
    """Collision and quantisation statistics (JSON-able)."""


def build_semantic_ids(
    embeddings: np.ndarray,
    levels: int,
    codebook_size: int,
    *,
    seed: int,
    max_iter: int = 100,
    n_init: int = 3,
) -> SemanticIds:
    """Residual k-means followed by collision resolution, with statistics."""
    quantised = residual_kmeans(
        embeddings, levels, codebook_size, seed=seed, max_iter=max_iter, n_init=n_init
    )
    codes = resolve_collisions(quantised.codes, quantised.codebooks[-1])
    _, sizes = prefix_group_sizes(quantised.codes)
    stats = {
        "collision_rate": collision_rate(quantised.codes),
        "n_remapped": int(np.sum(codes[:, -1] != quantised.codes[:, -1])),
        "largest_prefix_group": int(sizes.max()),
        "codes_used_per_level": [len(np.unique(quantised.codes[:, lv])) for lv in range(levels)],
        "residual_mse_per_level": list(quantised.residual_mse),
        "unique": len(np.unique(codes, axis=0)) == len(codes),
    }
    return SemanticIds(codes=codes, codebooks=quantised.codebooks, stats=stats)
