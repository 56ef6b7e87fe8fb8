"""Ingestion: one domain's raw files -> per-period parquet shards, an item table and statistics.

Order of operations (each step's row counts are recorded in the statistics):

1. stream the ratings; record each item's first interaction time over the *whole* file (the best
   available proxy of its release date), and keep rows inside ``[min_date, max_date)``;
2. keep rows whose item has metadata with a non-empty title;
3. drop exact duplicate rows (same user, item, rating and timestamp);
4. iterative k-core on users and items (see :mod:`mmgrid.data.kcore`);
5. sort by (user, timestamp, item) and split into the configured half-open periods.

Nothing is written until every check has passed, and each file is written atomically.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mmgrid.atomic import atomic_paths, dumps_json
from mmgrid.data.amazon2023 import iter_ratings, read_meta
from mmgrid.data.kcore import kcore_mask
from mmgrid.data.stats import domain_statistics
from mmgrid.errors import InputError
from mmgrid.grid import Period, ms_to_date
from mmgrid.items.text import truncate_description

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestSettings:
    """Everything that determines one domain's shards."""

    periods: tuple[Period, ...]
    kcore: int
    description_max_chars: int
    recency_days: tuple[int, ...]

    @property
    def window(self) -> tuple[int, int]:
        return self.periods[0].start_ms, self.periods[-1].end_ms


def _read_window(path: Path, window: tuple[int, int]) -> tuple[pa.Table, pa.Table, int]:
    """Stream ratings; return (rows inside window, per-item first-seen over the whole file, rows read)."""
    lo, hi = window
    kept: list[pa.RecordBatch] = []
    firsts: list[pa.Table] = []
    rows = 0
    for batch in iter_ratings(path):
        rows += batch.num_rows
        table = pa.Table.from_batches([batch])
        firsts.append(table.group_by("item_id").aggregate([("timestamp", "min")]))
        ts = batch.column("timestamp")
        inside = pc.and_(pc.greater_equal(ts, lo), pc.less(ts, hi))
        kept.append(batch.filter(inside))
    first_seen = (
        pa.concat_tables(firsts)
        .group_by("item_id")
        .aggregate([("timestamp_min", "min")])
        .rename_columns(["item_id", "first_seen"])
    )
    return pa.Table.from_batches(kept), first_seen, rows


def _rank(values: pa.Array) -> np.ndarray:
    """Rank of each dictionary value in byte order (stable ids independent of input order)."""
    order = pc.array_sort_indices(values).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


def ingest_domain(
    domain: str,
    ratings: Path,
    meta: Path,
    settings: IngestSettings,
    shard_paths: Mapping[str, Path],
    items_path: Path,
    stats_path: Path,
) -> dict[str, Any]:
    """Ingest one domain; write shards, the item table and the statistics; return the statistics.

    The files appear together: all of them, or (on any error) none.
    """
    missing = {p.name for p in settings.periods} - set(shard_paths)
    if missing:
        raise ValueError(f"no output path for period(s) {sorted(missing)}")
    table, first_seen, rows_read = _read_window(ratings, settings.window)
    counts: dict[str, int] = {"rows_read": rows_read, "rows_in_window": table.num_rows}
    log.info("%s: read %d rows, %d inside the window", ratings, rows_read, table.num_rows)

    wanted = set(pc.unique(table.column("item_id")).to_pylist())
    meta_items, meta_report = read_meta(meta, wanted)
    counts["meta_lines"] = meta_report.lines
    counts["meta_invalid_utf8_skipped"] = meta_report.invalid_utf8
    counts["meta_invalid_json_skipped"] = meta_report.invalid_json
    counts["meta_missing_asin_skipped"] = meta_report.missing_asin
    counts["meta_invalid_asin_skipped"] = meta_report.invalid_asin
    counts["items_without_title"] = len(wanted) - len(meta_items)
    table = table.filter(
        pc.is_in(table.column("item_id"), pa.array(sorted(meta_items), pa.string()))
    )
    counts["rows_with_title"] = table.num_rows
    if table.num_rows == 0 and counts["rows_in_window"] > 0:
        raise InputError(
            f"{meta}: none of the {len(wanted)} items rated in {ratings} has metadata with a "
            "title; is it the metadata file of the same domain?"
        )

    users_dict = table.column("user_id").combine_chunks().dictionary_encode()
    items_dict = table.column("item_id").combine_chunks().dictionary_encode()
    frame = pd.DataFrame(
        {
            "u": users_dict.indices.to_numpy(),
            "i": items_dict.indices.to_numpy(),
            "r": table.column("rating").to_numpy(),
            "t": table.column("timestamp").to_numpy(),
        }
    )
    dup = frame.duplicated().to_numpy()
    counts["duplicates_dropped"] = int(dup.sum())
    frame = frame[~dup]
    keep, passes = kcore_mask(frame["u"].to_numpy(), frame["i"].to_numpy(), settings.kcore)
    counts["kcore_passes"] = passes
    counts["rows_removed_by_kcore"] = int((~keep).sum())
    frame = frame[keep]
    if frame.empty:
        raise InputError(
            f"domain {domain}: no interaction survives filtering ({counts}); lower `kcore` "
            f"(now {settings.kcore}) or widen `periods`"
        )

    user_rank = _rank(users_dict.dictionary)
    item_rank = _rank(items_dict.dictionary)
    u, i, t = frame["u"].to_numpy(), frame["i"].to_numpy(), frame["t"].to_numpy()
    order = np.lexsort((item_rank[i], t, user_rank[u]))
    interactions = pa.table(
        {
            "user_id": users_dict.dictionary.take(pa.array(u[order])),
            "item_id": items_dict.dictionary.take(pa.array(i[order])),
            "rating": pa.array(frame["r"].to_numpy()[order], pa.float32()),
            "timestamp": pa.array(t[order], pa.int64()),
        }
    )
    items = _item_table(interactions, first_seen, meta_items, settings.description_max_chars)
    ts = interactions.column("timestamp").to_numpy()
    shards = {}
    for period in settings.periods:
        mask = (ts >= period.start_ms) & (ts < period.end_ms)
        if not mask.any():
            raise InputError(
                f"domain {domain}: period {period.name} [{ms_to_date(period.start_ms)}, "
                f"{ms_to_date(period.end_ms)}) has no interactions after filtering; "
                "check data.raw_dir files or change `periods`"
            )
        shards[period.name] = interactions.filter(pa.array(mask))

    stats = domain_statistics(domain, interactions, items, settings.periods, settings.recency_days)
    stats["filtering"] = counts | {"kcore": settings.kcore}
    finals = [*(shard_paths[name] for name in shards), items_path, stats_path]
    with atomic_paths(finals) as tmps:
        for shard, tmp in zip(shards.values(), tmps, strict=False):
            pq.write_table(shard, tmp, compression="zstd")
        pq.write_table(items, tmps[-2], compression="zstd")
        tmps[-1].write_text(dumps_json(stats))
    log.info(
        "%s: wrote %d shards (%d interactions, %d users, %d items)",
        domain,
        len(shards),
        interactions.num_rows,
        stats["totals"]["users"],
        stats["totals"]["items"],
    )
    return stats


def _item_table(
    interactions: pa.Table,
    first_seen: pa.Table,
    meta_items: Mapping[str, tuple[str, str]],
    max_chars: int,
) -> pa.Table:
    ids = sorted(pc.unique(interactions.column("item_id")).to_pylist())
    seen = dict(
        zip(
            first_seen.column("item_id").to_pylist(),
            first_seen.column("first_seen").to_pylist(),
            strict=True,
        )
    )
    return pa.table(
        {
            "item_id": pa.array(ids, pa.string()),
            "title": pa.array([meta_items[x][0] for x in ids], pa.string()),
            "description": pa.array(
                [truncate_description(meta_items[x][1], max_chars) for x in ids], pa.string()
            ),
            "first_seen": pa.array([seen[x] for x in ids], pa.int64()),
        }
    )


def settings_from_params(params: Mapping[str, Any]) -> IngestSettings:
    """Build settings from the JSON-able params of the ingest rule (see rules/common.smk)."""
    from mmgrid.grid import periods_from_config

    return IngestSettings(
        periods=tuple(periods_from_config({"periods": params["periods"]})),
        kcore=int(params["kcore"]),
        description_max_chars=int(params["description_max_chars"]),
        recency_days=tuple(int(d) for d in params["recency_days"]),
    )
