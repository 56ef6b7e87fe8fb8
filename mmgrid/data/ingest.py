"""Ingestion: one domain's raw files -> per-period parquet shards, an item table and statistics.

Order of operations (each step's row counts are recorded in the statistics):

1. stream the ratings; record each item's first interaction time over the *whole* file (the best
   available proxy of its release date), and keep rows inside ``[min_date, max_date)``;
2. keep rows whose item has metadata with a non-empty title;
3. drop exact duplicate rows (same user, item, rating and timestamp);
4. iterative k-core on users and items (see :mod:`mmgrid.data.kcore`);
5. sort by (user, timestamp, item) and split into the configured half-open periods.

``kcore_mode: study`` reproduces the study's reference preprocessing instead: rows are kept from
the first period's start to the end of the file (no end cut), duplicates are kept, and steps 3-4
become its single pass (:func:`mmgrid.data.kcore.study_filter_mask`) on user and item counts
taken over the whole file's titled rows, before the date filter. Rows after the last period
then belong to no shard, but their items are in the item table, as in the study's item file.

Descriptions are cut to ``description_max_chars`` characters, or, with
``description_max_tokens``, as the study cuts them with the base LLM's tokenizer
(:func:`mmgrid.items.text.truncate_by_tokens`).

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
from mmgrid.data.kcore import kcore_mask, study_filter_mask
from mmgrid.data.stats import domain_statistics
from mmgrid.errors import InputError
from mmgrid.items.text import truncate_by_tokens, truncate_description
from mmgrid.periods import Period, ms_to_date

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestSettings:
    """Everything that determines one domain's shards."""

    periods: tuple[Period, ...]
    kcore: int
    description_max_chars: int
    recency_days: tuple[int, ...]
    kcore_mode: str = "iterative"
    """``iterative`` (k-core fixpoint inside the window) or ``study`` (see the module)."""
    description_max_tokens: int | None = None
    """Cut descriptions as the study does, to this many tokens of title + description."""
    meta_text: str = "normalized"
    """How titles and descriptions are read (:func:`mmgrid.data.amazon2023.read_meta`)."""

    @property
    def window(self) -> tuple[int, int]:
        return self.periods[0].start_ms, self.periods[-1].end_ms

    @property
    def read_window(self) -> tuple[int, int]:
        """Rows read for filtering: the window, or (study) from its start to the file's end."""
        start, end = self.window
        return (start, np.iinfo(np.int64).max) if self.kcore_mode == "study" else (start, end)


def _read_window(path: Path, window: tuple[int, int]) -> tuple[pa.Table, pa.Table, int]:
    """Stream ratings; return (rows inside window, per item over the whole file its first-seen
    time and its number of rows, rows read)."""
    lo, hi = window
    kept: list[pa.RecordBatch] = []
    firsts: list[pa.Table] = []
    rows = 0
    for batch in iter_ratings(path):
        rows += batch.num_rows
        table = pa.Table.from_batches([batch])
        firsts.append(
            table.group_by("item_id").aggregate([("timestamp", "min"), ("timestamp", "count")])
        )
        ts = batch.column("timestamp")
        inside = pc.and_(pc.greater_equal(ts, lo), pc.less(ts, hi))
        kept.append(batch.filter(inside))
    first_seen = (
        pa.concat_tables(firsts)
        .group_by("item_id")
        .aggregate([("timestamp_min", "min"), ("timestamp_count", "sum")])
        .rename_columns(["item_id", "first_seen", "rows"])
    )
    return pa.Table.from_batches(kept), first_seen, rows


def _user_rows(path: Path, items: pa.Array) -> pa.Table:
    """Per user, the rows of the whole ratings file whose item is in ``items``."""
    counts = [
        pa.Table.from_batches([b.filter(pc.is_in(b.column("item_id"), items))])
        .group_by("user_id")
        .aggregate([("item_id", "count")])
        for b in iter_ratings(path)
    ]
    return (
        pa.concat_tables(counts)
        .group_by("user_id")
        .aggregate([("item_id_count", "sum")])
        .rename_columns(["user_id", "rows"])
    )


def _totals(keys: pa.Array, table: pa.Table, key: str) -> np.ndarray:
    """``table.rows`` of every value in ``keys`` (0 where absent), aligned with ``keys``."""
    at = pc.index_in(keys, table.column(key))
    rows = table.column("rows").combine_chunks().take(pc.fill_null(at, 0)).to_numpy()
    return np.where(pc.is_null(at).to_numpy(zero_copy_only=False), 0, rows)


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
    tokenizer_file: Path | None = None,
) -> dict[str, Any]:
    """Ingest one domain; write shards, the item table and the statistics; return the statistics.

    ``tokenizer_file`` (the base LLM's ``tokenizer.json``) is needed by
    ``settings.description_max_tokens``. The files appear together: all of them, or (on any
    error) none.
    """
    missing = {p.name for p in settings.periods} - set(shard_paths)
    if missing:
        raise ValueError(f"no output path for period(s) {sorted(missing)}")
    if settings.description_max_tokens is not None and tokenizer_file is None:
        raise ValueError("description_max_tokens needs the base LLM's tokenizer_file")
    study = settings.kcore_mode == "study"
    table, first_seen, rows_read = _read_window(ratings, settings.read_window)
    counts: dict[str, int] = {"rows_read": rows_read, "rows_in_window": table.num_rows}
    log.info("%s: read %d rows, %d inside the window", ratings, rows_read, table.num_rows)

    # study: items of the whole file, whose rows count before the date filter
    source = first_seen if study else table
    wanted = set(pc.unique(source.column("item_id")).to_pylist())
    meta_items, meta_report = read_meta(meta, wanted, settings.meta_text)
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
    if study:  # the study keeps them
        counts["duplicates_kept"] = int(dup.sum())
        counts["duplicates_dropped"] = 0
        titled = pa.array(sorted(meta_items), pa.string())
        keep = study_filter_mask(
            frame["u"].to_numpy(),
            frame["i"].to_numpy(),
            _totals(users_dict.dictionary, _user_rows(ratings, titled), "user_id"),
            _totals(items_dict.dictionary, first_seen, "item_id"),
            settings.kcore,
        )
        counts["kcore_passes"] = 1
    else:
        counts["duplicates_dropped"] = int(dup.sum())
        frame = frame[~dup]
        keep, counts["kcore_passes"] = kcore_mask(
            frame["u"].to_numpy(), frame["i"].to_numpy(), settings.kcore
        )
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
    items = _item_table(interactions, first_seen, meta_items, settings, tokenizer_file)
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

    if study:  # rows after the last period: in the item table, in no shard or statistic
        inside = ts < settings.window[1]
        counts["rows_after_window"] = int((~inside).sum())
        interactions = interactions.filter(pa.array(inside))
    stats = domain_statistics(domain, interactions, items, settings.periods, settings.recency_days)
    stats["filtering"] = counts | {"kcore": settings.kcore, "kcore_mode": settings.kcore_mode}
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
    settings: IngestSettings,
    tokenizer_file: Path | None,
) -> pa.Table:
    ids = sorted(pc.unique(interactions.column("item_id")).to_pylist())
    seen = dict(
        zip(
            first_seen.column("item_id").to_pylist(),
            first_seen.column("first_seen").to_pylist(),
            strict=True,
        )
    )
    titles = [meta_items[x][0] for x in ids]
    texts = [meta_items[x][1] for x in ids]
    if settings.description_max_tokens is not None:
        assert tokenizer_file is not None
        descriptions = truncate_by_tokens(
            titles, texts, tokenizer_file, settings.description_max_tokens
        )
    else:
        descriptions = [truncate_description(t, settings.description_max_chars) for t in texts]
    return pa.table(
        {
            "item_id": pa.array(ids, pa.string()),
            "title": pa.array(titles, pa.string()),
            "description": pa.array(descriptions, pa.string()),
            "first_seen": pa.array([seen[x] for x in ids], pa.int64()),
        }
    )
