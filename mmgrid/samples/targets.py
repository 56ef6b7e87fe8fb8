"""Which interactions become samples: training targets per period, and one test target per user."""

from __future__ import annotations

import numpy as np

from mmgrid.periods import Period
from mmgrid.samples.sequences import UserSequences
from mmgrid.seeding import derive_seed


def training_targets(
    seqs: UserSequences,
    period: Period,
    *,
    min_history: int,
    max_per_user: int | None,
    rng: np.random.Generator,
) -> np.ndarray:
    """Row indices of the training targets of ``period``, in row order.

    A row is eligible when its timestamp lies in ``[period.start, period.end)`` and the user has at
    least ``min_history`` earlier rows (the history may reach into earlier periods). Users with more
    than ``max_per_user`` eligible rows keep a random subset of that size.
    """
    users = seqs.row_users()
    position = np.arange(len(users)) - seqs.offsets[users]
    ts = seqs.timestamps
    eligible = np.flatnonzero(
        (ts >= period.start_ms) & (ts < period.end_ms) & (position >= min_history)
    )
    if max_per_user is None or eligible.size == 0:
        return eligible
    # a random rank within each user: keep the rows ranked below the cap
    owner = users[eligible]
    order = np.lexsort((rng.random(eligible.size), owner))
    starts = np.flatnonzero(np.r_[True, owner[order][1:] != owner[order][:-1]])
    rank = np.arange(order.size) - np.repeat(starts, np.diff(np.r_[starts, order.size]))
    return np.sort(eligible[order[rank < max_per_user]])


def evaluation_users_seed(seed: int, domain: str, period: str) -> int:
    """The seed of a domain's test-user draw: the same for every paradigm, so that all
    paradigms are evaluated on the same users."""
    return derive_seed(seed, "test-users", domain, period)


def evaluation_targets(
    seqs: UserSequences, test: Period, *, max_users: int | None, rng: np.random.Generator
) -> np.ndarray:
    """Row index of each test user's target: the user's last interaction before ``test.end``,
    if it lies inside the test window; at most ``max_users`` users (random sample, then row order;
    None: all).
    """
    ts = seqs.timestamps
    before_end = ts < test.end_ms
    # the last row before test.end of each user (rows are time-sorted within a user)
    cum = np.r_[0, np.cumsum(before_end)]
    counts = cum[seqs.offsets[1:]] - cum[seqs.offsets[:-1]]
    has = counts > 0
    last = (seqs.offsets[:-1] + counts - 1)[has]
    last = last[ts[last] >= test.start_ms]
    if max_users is not None and last.size > max_users:
        last = np.sort(rng.choice(last, size=max_users, replace=False))
    return last


def sample_order(seqs: UserSequences, rows: np.ndarray) -> np.ndarray:
    """``rows`` in the order the samples files list them (and every ranks file after them): by
    timestamp, then user id."""
    users = seqs.row_users(rows)
    return rows[np.lexsort((seqs.users[users].astype(str), seqs.timestamps[rows]))]
