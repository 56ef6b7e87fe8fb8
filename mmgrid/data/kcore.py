"""Filtering a user-item interaction list to a k-core: iterative (the default) or the study's
single pass."""

from __future__ import annotations

import numpy as np


def kcore_mask(users: np.ndarray, items: np.ndarray, k: int) -> tuple[np.ndarray, int]:
    """Return the rows that survive the iterative k-core, and the number of passes.

    Users and items are dense integer codes. Each pass drops the rows of every user and every item
    with fewer than ``k`` remaining rows; passes repeat until nothing changes, so at the fixpoint every
    remaining user and item has at least ``k`` rows. (A single pass, as in the study's reference
    preprocessing, can leave users or items below ``k`` after the other side was filtered.)
    """
    keep = np.ones(len(users), dtype=bool)
    if k <= 1:
        return keep, 0
    n_users = int(users.max()) + 1 if len(users) else 0
    n_items = int(items.max()) + 1 if len(items) else 0
    passes = 0
    while True:
        passes += 1
        user_counts = np.bincount(users[keep], minlength=n_users)
        item_counts = np.bincount(items[keep], minlength=n_items)
        new_keep = keep & (user_counts[users] >= k) & (item_counts[items] >= k)
        if np.array_equal(new_keep, keep):
            return keep, passes
        keep = new_keep


def study_filter_mask(
    users: np.ndarray,
    items: np.ndarray,
    user_totals: np.ndarray,
    item_totals: np.ndarray,
    k: int,
) -> np.ndarray:
    """The study's filter (its reference preprocessing), for rows from the start date on.

    ``user_totals`` and ``item_totals`` (indexed by the dense codes) count each user's and
    item's rows in the whole file, before the date filter. A row is kept when both totals are at
    least ``k``; then, in a single pass, the rows of users left with fewer than ``k`` kept rows
    are dropped. Items are not checked again, so users and items can end up below ``k``.
    """
    keep = (user_totals[users] >= k) & (item_totals[items] >= k)
    remaining = np.bincount(users[keep], minlength=len(user_totals))
    return keep & (remaining[users] >= k)
