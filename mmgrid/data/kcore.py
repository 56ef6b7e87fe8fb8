"""Iterative k-core filtering of a user-item interaction list."""

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
