"""Test users grouped by what the two checkpoints of a temporal merge saw of them.

Diagnostics of a weight sweep between an earlier and a later checkpoint: scored on each group
separately, they show which users pull the best weight towards the later checkpoint and which
towards the earlier one (``bench/user_groups.py``, ``bench/interpolation_loss.py``).

- :func:`activity_groups`: the users active in the later checkpoint's training period (it was
  trained on their latest interactions) and the others.
- :func:`target_groups`: by where the user's target item occurs in the two periods' training
  data: in both, only in the later, only in the earlier, in neither.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np


def _member(values: Sequence[str], known: Collection[str]) -> np.ndarray:
    known = set(known)
    return np.fromiter((v in known for v in values), dtype=bool, count=len(values))


def activity_groups(
    users: Sequence[str], new_period_users: Collection[str], new: str
) -> dict[str, np.ndarray]:
    """Boolean masks over ``users``: active in the period ``new`` (its shard's users), others."""
    active = _member(users, new_period_users)
    return {f"active in {new}": active, "others": ~active}


def target_groups(
    targets: Sequence[str],
    old_items: Collection[str],
    new_items: Collection[str],
    old: str,
    new: str,
) -> dict[str, np.ndarray]:
    """Boolean masks over ``targets`` (each test user's target item), disjoint and covering:
    the item occurs in both periods' data, only in ``new``'s, only in ``old``'s, in neither."""
    in_old, in_new = _member(targets, old_items), _member(targets, new_items)
    return {
        "target in both": in_old & in_new,
        f"only in {new}": in_new & ~in_old,
        f"only in {old}": in_old & ~in_new,
        "in neither": ~in_old & ~in_new,
    }
