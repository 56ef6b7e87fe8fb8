"""Small hand-made analysis inputs: metric and rank files, item tables and domain statistics."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from mmgrid.evaluate.metrics import metrics_from_ranks, rank_table
from mmgrid.periods import MS_PER_DAY, date_to_ms

KS = (5, 10)
T0 = date_to_ms("2023-01-15")
N_USERS = 8
NEW_AGE_DAYS = 10
OLD_AGE_DAYS = 400


def users(n: int = N_USERS) -> list[str]:
    return [f"u{i}" for i in range(n)]


def write_evaluation(
    metrics_root: Path,
    paradigm: str,
    model: str,
    domain: str,
    ranks: Sequence[int | None],
    user_ids: Sequence[str] | None = None,
) -> Path:
    """A metric file and its rank file: user j targets item ``i{j}`` at time T0 + j minutes."""
    user_ids = list(user_ids) if user_ids is not None else users(len(ranks))
    out = metrics_root / paradigm / model
    out.mkdir(parents=True, exist_ok=True)
    items = [f"i{j}" for j in range(len(ranks))]
    stamps = [T0 + 60_000 * j for j in range(len(ranks))]
    pq.write_table(
        rank_table(user_ids, items, stamps, list(ranks)), out / f"{domain}.ranks.parquet"
    )
    document = {
        "domain": domain,
        "paradigm": paradigm,
        "model": model,
        "n_users": len(ranks),
        "n_unranked": sum(r is None for r in ranks),
        "metrics": metrics_from_ranks(list(ranks), KS),
        "settings": {"k": list(KS)},
    }
    path = out / f"{domain}.json"
    path.write_text(json.dumps(document))
    return path


def write_items(items_dir: Path, domain: str, n: int = N_USERS) -> None:
    """Items ``i0..i{n-1}``: the first half new at T0 (10 days old), the rest 400 days old."""
    import pyarrow as pa

    items_dir.mkdir(parents=True, exist_ok=True)
    ages = [NEW_AGE_DAYS if j < n // 2 else OLD_AGE_DAYS for j in range(n)]
    pq.write_table(
        pa.table(
            {
                "item_id": [f"i{j}" for j in range(n)],
                "title": [f"item {j}" for j in range(n)],
                "description": [""] * n,
                "first_seen": pa.array([T0 - a * MS_PER_DAY for a in ages], pa.int64()),
            }
        ),
        items_dir / f"{domain}.parquet",
    )


def write_stats(stats_dir: Path, domain: str, share_p2: float, share_test: float) -> None:
    """Statistics with periods p1, p2, test; ``recent_item_share@90`` as given (p1: 0)."""
    stats_dir.mkdir(parents=True, exist_ok=True)

    def period(start: str, share: float) -> dict[str, Any]:
        return {
            "start": start,
            "recent_item_share": {"30": share / 2, "90": share},
            "mean_item_age_days": 100.0 * (1 - share),
        }

    document = {
        "domain": domain,
        "periods": {
            "p1": period("2022-07-01", 0.0),
            "p2": period("2022-10-01", share_p2),
            "test": period("2023-01-01", share_test),
        },
    }
    (stats_dir / f"{domain}.json").write_text(json.dumps(document))


def record(paradigm: str, model: str, kind: str, domains: Sequence[str], **extra: Any) -> dict:
    """A model record as the workflow writes it."""
    base = {
        "paradigm": paradigm,
        "model": model,
        "kind": kind,
        "domains": list(domains),
        "period": None,
        "method": None,
        "reference": None,
        "weight": None,
        "periods": None,
        "source": None,
    }
    return {**base, **extra}
