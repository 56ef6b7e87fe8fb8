"""Per-domain statistics of the ingested interactions, including item-recency measures.

Definitions (all per period, over the period's interactions after filtering):

- ``users``, ``items``, ``interactions``: distinct users and items, and rows, in the period;
- ``new_items``: items whose first interaction falls inside the period;
- ``last_interaction_users``: users whose last interaction (within the data window) falls inside the
  period; for the test window these are the users that get a test sample;
- ``recent_item_share[N]``: share of the period's interactions on items first seen at most N days
  before the interaction (``0 <= t - first_seen < N days``); the higher, the more recency-driven;
- ``mean_item_age_days``: interaction-weighted mean of ``t - first_seen`` in days.

An item's ``first_seen`` is its first interaction in the whole raw file (before the date filter), the
closest proxy of its release date the rating files offer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mmgrid.periods import MS_PER_DAY, Period, ms_to_date


def _month_keys(ts: np.ndarray) -> np.ndarray:
    return ts.astype("datetime64[ms]").astype("datetime64[M]")


def domain_statistics(
    domain: str,
    interactions: pa.Table,
    items: pa.Table,
    periods: Sequence[Period],
    recency_days: Sequence[int],
) -> dict[str, Any]:
    """Statistics of one domain's filtered interactions (sorted by user, time)."""
    ts = interactions.column("timestamp").to_numpy()
    users = interactions.column("user_id").combine_chunks().dictionary_encode().indices.to_numpy()
    item_codes = pc.index_in(interactions.column("item_id"), items.column("item_id")).to_numpy()
    age_ms = ts - items.column("first_seen").to_numpy()[item_codes]

    last_ts = np.full(int(users.max()) + 1, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last_ts, users, ts)

    item_first = items.column("first_seen").to_numpy()
    per_period = {}
    for period in periods:
        mask = (ts >= period.start_ms) & (ts < period.end_ms)
        n = int(mask.sum())
        entry: dict[str, Any] = {
            "start": ms_to_date(period.start_ms),
            "end": ms_to_date(period.end_ms),
            "interactions": n,
            "users": int(np.unique(users[mask]).size),
            "items": int(np.unique(item_codes[mask]).size),
            "new_items": int(
                ((item_first >= period.start_ms) & (item_first < period.end_ms)).sum()
            ),
            "last_interaction_users": int(
                ((last_ts >= period.start_ms) & (last_ts < period.end_ms)).sum()
            ),
        }
        ages = age_ms[mask]
        entry["recent_item_share"] = {
            str(d): float(np.mean(ages < d * MS_PER_DAY)) if n else 0.0 for d in recency_days
        }
        entry["mean_item_age_days"] = float(ages.mean() / MS_PER_DAY) if n else 0.0
        per_period[period.name] = entry

    months, month_counts = np.unique(_month_keys(ts), return_counts=True)
    return {
        "domain": domain,
        "totals": {
            "interactions": len(ts),
            "users": int(np.unique(users).size),
            "items": int(items.num_rows),
        },
        "periods": per_period,
        "monthly_interactions": {str(m): int(c) for m, c in zip(months, month_counts, strict=True)},
        "definitions": {
            "recent_item_share": "share of interactions on items first seen < N days earlier",
            "mean_item_age_days": "interaction-weighted mean days since the item's first interaction",
            "first_seen": "first interaction of the item in the whole raw file",
        },
    }
