"""The user split behind weight selection: selection users and report users of a domain.

Protocols (config key ``analysis.selection``):

- ``valid`` (default): a seeded share ``valid_fraction`` of each domain's test-window users is
  held out to *select* merge weights; every reported (test) number uses the remaining users only,
  so the reported gain of the selected weight is not fitted to the users it is reported on.
  A user's side depends only on a hash of (seed, domain, user id): the split is the same whichever
  users or models are present, and every model of a domain is scored on the same users.
- ``test``: weights are selected and reported on all test-window users. This peeks at the test
  users (as the code accompanying the study does) and overstates the selected weight's gain.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import numpy as np

from mmgrid.seeding import derive_seed

_SEED_RANGE = float(2**63)
PROTOCOLS = {
    "valid": "weights selected on a seeded held-out share of each domain's test-window users "
    "(hash of seed, domain, user id); test metrics reported on the remaining users",
    "test": "weights selected and reported on all test-window users (peeks at the test users)",
}


@functools.lru_cache(maxsize=1 << 20)
def user_draw(seed: int, domain: str, user_id: str) -> float:
    """A uniform number in [0, 1) fixed by (seed, domain, user_id)."""
    return derive_seed(seed, "analysis-split", domain, user_id) / _SEED_RANGE


def selection_mask(user_ids: Iterable[str], domain: str, seed: int, fraction: float) -> np.ndarray:
    """True for the users held out for weight selection (``valid`` protocol)."""
    return np.array([user_draw(seed, domain, u) < fraction for u in user_ids], dtype=bool)


def split_masks(
    user_ids: Iterable[str], domain: str, seed: int, selection: str, fraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """(selection users, report users) as boolean masks over ``user_ids``.

    ``valid``: the two are complementary; ``test``: both are every user.
    """
    users = list(user_ids)
    if selection == "test":
        every = np.ones(len(users), dtype=bool)
        return every, every.copy()
    held_out = selection_mask(users, domain, seed, fraction)
    return held_out, ~held_out
