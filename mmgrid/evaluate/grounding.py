"""Grounding generated titles to catalogue items: nearest neighbours, history, popularity.

A user's generated titles are embedded with the item index's text encoder (as
``item_text(title)``). Item ``i`` is scored by its smallest distance over the generations,
``d(g, i) = |g| + |i| - 2 g.i`` (the study's formula; with unit vectors it is 2 - 2 cos, in
squared-L2 order). History items get ``inf``. The optional popularity rescale of the study
divides the distance by

    coeff(i) = (1 + sum over interactions of i before the reference date of
                exp(-days * ln 2 / half_life)) ** gamma

where ``days`` is the number of whole days from the interaction to the reference date; items
without any interaction before the reference date get coeff 0, i.e. key ``inf`` (unrankable).
The ranking key is ascending; ties are broken by catalogue row (see :mod:`.metrics`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

MS_PER_DAY = 86_400_000


def min_distances(generated: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Smallest distance from each item to any generation: ``[n_items]``, ``inf`` if none.

    ``generated`` is ``[n_generations, dim]``, ``items`` is ``[n_items, dim]``.
    """
    if len(generated) == 0:
        return np.full(len(items), np.inf)
    g = generated.astype(np.float64)
    x = items.astype(np.float64)
    dist = np.linalg.norm(g, axis=1)[:, None] + np.linalg.norm(x, axis=1)[None, :] - 2.0 * (g @ x.T)
    return dist.min(axis=0)


def popularity_coefficients(
    item_rows: np.ndarray,
    timestamps_ms: np.ndarray,
    n_items: int,
    *,
    reference_ms: int,
    half_life_days: float,
    gamma: float,
) -> np.ndarray:
    """``coeff`` per catalogue row from interactions (item row, timestamp in ms).

    Interactions at or after ``reference_ms`` are ignored; rows never seen before it get 0.
    """
    before = timestamps_ms < reference_ms
    rows = np.asarray(item_rows)[before]
    days = (reference_ms - np.asarray(timestamps_ms, dtype=np.int64)[before]) // MS_PER_DAY
    decay = np.exp(-days.astype(np.float64) * math.log(2.0) / half_life_days)
    mass = np.bincount(rows, weights=decay, minlength=n_items)
    seen = np.bincount(rows, minlength=n_items) > 0
    return np.where(seen, (1.0 + mass) ** gamma, 0.0)


def ranking_keys(
    distances: np.ndarray, history_rows: Sequence[int], coeff: np.ndarray | None = None
) -> np.ndarray:
    """Ascending ranking keys: distance (/ coeff), ``inf`` for history and unrankable items."""
    keys = np.array(distances, dtype=np.float64)
    if coeff is not None:
        positive = coeff > 0
        keys = np.where(positive, keys / np.where(positive, coeff, 1.0), np.inf)
    keys[np.asarray(list(history_rows), dtype=np.int64)] = np.inf
    return keys
