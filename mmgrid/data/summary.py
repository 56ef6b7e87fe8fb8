"""Cross-domain summaries of the data layer: the per-domain counts table and the interaction-ratio figure."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmgrid.atomic import atomic_path
from mmgrid.periods import Period

PERIOD_COLOURS = ("#a6cee3", "#b2df8a", "#fb9a99", "#fdbf6f", "#cab2d6", "#ffff99")


def domain_stats_table(
    stats: Sequence[dict[str, Any]], periods: Sequence[Period], recency_days: int
) -> pd.DataFrame:
    """The study's per-domain table: users, items and interactions per period, plus recency measures.

    ``users_{last period}`` counts the users whose last interaction falls in the last (test) period.
    """
    rows = []
    last = periods[-1].name
    for s in stats:
        row: dict[str, Any] = {"domain": s["domain"]}
        row.update((k, s["totals"][k]) for k in ("users", "items", "interactions"))
        row.update(
            (f"interactions_{p.name}", s["periods"][p.name]["interactions"]) for p in periods
        )
        row[f"users_{last}"] = s["periods"][last]["last_interaction_users"]
        row.update(
            (
                f"recent_share_{recency_days}d_{p.name}",
                round(s["periods"][p.name]["recent_item_share"][str(recency_days)], 4),
            )
            for p in periods
        )
        rows.append(row)
    return pd.DataFrame(rows).sort_values("domain", kind="stable").reset_index(drop=True)


def cumulative_monthly_ratio(stats: dict[str, Any]) -> pd.Series:
    """Cumulative share of a domain's interactions through the end of each month."""
    counts = pd.Series(stats["monthly_interactions"], dtype=float)
    counts.index = pd.PeriodIndex(counts.index, freq="M")
    full = counts.reindex(
        pd.period_range(counts.index.min(), counts.index.max(), freq="M"), fill_value=0
    )
    return full.cumsum() / full.sum()


def plot_interaction_ratio(
    stats: Sequence[dict[str, Any]], periods: Sequence[Period], path: Path
) -> None:
    """Cumulative interaction ratio by month per domain, with the periods shaded (the study's figure)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(13, 3.6))
    for p, colour in zip(periods, PERIOD_COLOURS, strict=False):
        start = np.datetime64(p.start_ms, "ms")
        end = np.datetime64(p.end_ms, "ms")
        ax.axvspan(start, end, color=colour, alpha=0.3, lw=0)
        ax.text(start, 1.02, p.name, fontsize=8, va="bottom")
    for s in sorted(stats, key=lambda s: s["domain"]):
        ratio = cumulative_monthly_ratio(s)
        month_ends = (ratio.index + 1).to_timestamp()
        ax.plot(month_ends, ratio.to_numpy(), marker=".", ms=3, lw=1.2, label=s["domain"])
    ax.set_ylim(0, 1.08)
    ax.set_xlabel("Month")
    ax.set_ylabel("Cumulative Ratio")
    ax.set_title("Cumulative Interaction Ratio by Domain Over Time", pad=16)
    ax.legend(title="domain", fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png", metadata={"Software": None})
    plt.close(fig)


def write_summary(
    stats_paths: Sequence[Path],
    periods: Sequence[Period],
    recency_days: int,
    table_path: Path,
    figure_path: Path,
) -> None:
    """Read the per-domain statistics; write the counts table (CSV) and the interaction-ratio figure."""
    import json

    from mmgrid.atomic import write_csv

    stats = [json.loads(Path(p).read_text()) for p in stats_paths]
    write_csv(domain_stats_table(stats, periods, recency_days), table_path)
    plot_interaction_ratio(stats, periods, figure_path)
