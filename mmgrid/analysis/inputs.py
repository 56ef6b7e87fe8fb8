"""Readers of the analysis inputs, each failing with an :class:`InputError` naming the file.

- metric files ``{metrics_root}/{paradigm}/{model}/{domain}.json`` and their per-user rank files
  ``{domain}.ranks.parquet`` (see :mod:`mmgrid.evaluate.model_evaluation`);
- item tables ``{items_dir}/{domain}.parquet`` (item_id, first_seen in ms);
- domain statistics ``{stats_dir}/{domain}.json`` (see :mod:`mmgrid.data.stats`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmgrid.analysis.settings import MEAN_AGE, RECENT_SHARE, AnalysisSettings
from mmgrid.errors import InputError
from mmgrid.evaluate.metrics import metrics_from_ranks, user_values
from mmgrid.parquet_columns import read_columns

RANK_COLUMNS = ("user_id", "item_id", "timestamp", "rank")
ITEM_COLUMNS = ("item_id", "first_seen")


@dataclass(frozen=True)
class Evaluation:
    """One model evaluated on one domain: the metric file's cut-offs and the per-user ranks."""

    path: Path
    """The metric file."""
    ks: tuple[int, ...]
    ranks: pd.DataFrame
    """user_id, item_id, timestamp (ms), rank (float: NaN = not ranked), in file order."""

    def rank_list(self, mask: np.ndarray | None = None) -> list[int | None]:
        """The ranks (None = not ranked) of the users selected by ``mask`` (default: all)."""
        values = self.ranks["rank"].to_numpy()
        chosen = values if mask is None else values[mask]
        return [None if math.isnan(r) else int(r) for r in chosen.tolist()]

    def metrics(self, mask: np.ndarray | None = None) -> dict[str, float]:
        """Every metric of the metric file, recomputed on the users selected by ``mask``."""
        return metrics_from_ranks(self.rank_list(mask), self.ks)

    def values(self, metric: str, mask: np.ndarray | None = None) -> np.ndarray:
        """Each selected user's value of ``metric`` (its mean is :meth:`metrics`' value)."""
        ranks = self.ranks["rank"].to_numpy(dtype=np.float64)
        return user_values(ranks if mask is None else ranks[mask], metric)


def _read_json(path: Path, what: str, fix: str) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(f"{path}: {what} not found; {fix}")
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not valid JSON ({error}); {fix}") from None
    if not isinstance(document, dict):
        raise InputError(f"{path}: expected a JSON object; {fix}")
    return document


def read_evaluation(
    metrics_root: Path, paradigm: str, model: str, domain: str, metric: str
) -> Evaluation:
    """Read one metric file and its rank file; ``metric`` must be among the evaluated metrics.

    The metrics recomputed from the ranks must match the metric file (same evaluation run).
    """
    path = metrics_root / paradigm / model / f"{domain}.json"
    fix = "run the evaluate stage for this model"
    document = _read_json(path, "metric file", fix)
    metrics = document.get("metrics")
    ks = (document.get("settings") or {}).get("k")
    if not isinstance(metrics, dict) or not isinstance(ks, list) or not ks:
        raise InputError(f"{path}: needs 'metrics' and 'settings.k'; {fix}")
    broken = [
        name
        for name, value in metrics.items()
        if not isinstance(value, int | float) or not math.isfinite(value)
    ]
    if broken:
        raise InputError(
            f"{path}: metric {broken[0]} is {metrics[broken[0]]!r}, not a finite number; {fix}"
        )
    if metric not in metrics:
        raise InputError(
            f"{path}: config key 'analysis.metric' is {metric!r}, which was not evaluated; use one "
            f"of {', '.join(sorted(metrics))} or add its cut-off to evaluate.k"
        )
    ranks_path = path.with_name(f"{domain}.ranks.parquet")
    ranks = read_columns(ranks_path, RANK_COLUMNS, what="rank file", fix=fix)
    ranks["rank"] = ranks["rank"].astype("float64")
    _check_ranks(ranks, ranks_path, fix)
    evaluation = Evaluation(path, tuple(int(k) for k in ks), ranks)
    recomputed = evaluation.metrics()
    stale = [
        name
        for name, value in recomputed.items()
        if name in metrics and not math.isclose(value, metrics[name], abs_tol=1e-9)
    ]
    if stale:
        raise InputError(
            f"{ranks_path}: the ranks give {stale[0]} = {recomputed[stale[0]]}, the metric "
            f"file {metrics[stale[0]]}; the two files come from different runs, {fix} again"
        )
    return evaluation


def _check_ranks(ranks: pd.DataFrame, path: Path, fix: str) -> None:
    """A rank file holds each user once, a target for each, and ranks that are whole numbers
    from 1 (NaN = not ranked)."""
    for column in ("user_id", "item_id", "timestamp"):
        if ranks[column].isna().any():
            row = int(np.flatnonzero(ranks[column].isna().to_numpy())[0])
            raise InputError(f"{path}: row {row} has no {column}; {fix}")
    if ranks["user_id"].duplicated().any():
        raise InputError(f"{path}: a user appears more than once; {fix}")
    rank = ranks["rank"].to_numpy()
    bad = ~np.isnan(rank) & ~(np.isfinite(rank) & (rank >= 1) & (rank == np.floor(rank)))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{path}: user {ranks['user_id'].iloc[row]} has rank {rank[row]}; ranks are whole "
            f"numbers from 1, or empty for a target that was not ranked; {fix}"
        )


def read_first_seen(items_dir: Path, domain: str) -> pd.Series:
    """The ``first_seen`` time (ms) of every item of a domain, indexed by item_id."""
    path = items_dir / f"{domain}.parquet"
    fix = "build it with the data stage"
    items = read_columns(path, ITEM_COLUMNS, what="items file", fix=fix)
    if items["item_id"].duplicated().any():
        item = items["item_id"][items["item_id"].duplicated()].iloc[0]
        raise InputError(f"{path}: item {item} appears more than once; {fix}")
    if items["first_seen"].isna().any():
        item = items["item_id"][items["first_seen"].isna()].iloc[0]
        raise InputError(f"{path}: item {item} has no first_seen time; {fix}")
    return items.set_index("item_id")["first_seen"].astype("int64")


@dataclass(frozen=True)
class Recency:
    """A domain's recency statistic."""

    value: float
    period: str
    definition: str


def read_stats(stats_dir: Path, domain: str) -> dict[str, Any]:
    """A domain statistics file (needs ``periods``)."""
    path = stats_dir / f"{domain}.json"
    document = _read_json(path, "statistics file", "build it with the data stage first")
    if not isinstance(document.get("periods"), dict) or not document["periods"]:
        raise InputError(f"{path}: no 'periods'; rebuild it with the data stage")
    return document


def period_order(stats: dict[str, Any]) -> list[str]:
    """The periods of a statistics file, by start date."""
    periods = stats["periods"]
    return sorted(periods, key=lambda p: periods[p].get("start", ""))


def period_start_ms(stats: dict[str, Any], path: Path, period: str) -> int:
    """The start of ``period`` in a statistics file, as Unix ms (UTC)."""
    start = (stats["periods"].get(period) or {}).get("start")
    try:
        if not isinstance(start, str):
            raise ValueError(start)
        return int(np.datetime64(start, "ms").astype(np.int64))
    except ValueError:
        raise InputError(
            f"{path}: period {period!r} has no start date (got {start!r}); rebuild it with the "
            "data stage"
        ) from None


def recency_statistic(
    stats: dict[str, Any], path: Path, settings: AnalysisSettings, period: str
) -> Recency:
    """The configured recency statistic of one domain in ``period``."""
    entry = stats["periods"].get(period)
    if entry is None:
        raise InputError(
            f"{path}: no period {period!r} (has {', '.join(stats['periods'])}); set "
            "analysis.recency_period to one of them"
        )
    days = settings.recency_days
    if days is None:
        value = entry.get(MEAN_AGE)
        definition = (
            f"{MEAN_AGE} in {period}: interaction-weighted mean days since the item's first "
            "interaction"
        )
    else:
        shares = entry.get(RECENT_SHARE) or {}
        value = shares.get(str(days))
        if value is None:
            raise InputError(
                f"{path}: no {RECENT_SHARE} for {days} days (has {', '.join(shares) or 'none'}); "
                "set analysis.recency_statistic to one of them or add it to data.recency_days"
            )
        definition = (
            f"{RECENT_SHARE}@{days} in {period}: share of the period's interactions on items "
            f"first seen less than {days} days earlier"
        )
    if not isinstance(value, int | float):
        raise InputError(f"{path}: {settings.recency_statistic} in {period} is not a number")
    return Recency(float(value), period, definition)
