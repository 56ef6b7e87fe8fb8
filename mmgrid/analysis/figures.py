"""The study's figures (matplotlib, Agg backend, PNG) from the analysis tables.

- recency bias: each period's checkpoint on the test window, per domain, one panel per paradigm,
  on all targets and on new / old target items;
- weight sweeps: test (and selection) metric against the later period's weight, λ* marked;
- weight vs recency: λ* (with its bootstrap interval) against the recency statistic,
  per-paradigm colours and fitted lines, and the pooled line;
- cross-domain merging: merged model vs the evaluated domain's own cell, per method and reference.

The MostPop baseline is drawn as a reference line wherever a panel shows the test metric: per
domain (dash-dotted, in the domain's colour) or as the mean over domains (grey).

A figure without data still gets written, with a "no data" note, so the outputs are always complete.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmgrid.analysis.regression import X, Y

STYLES = {"all": "-", "new": "--", "old": ":"}
REFERENCE = "MostPop"
REFERENCE_STYLE = "-."


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _panels(plt: Any, names: list[str], title: str) -> tuple[Any, list[Any]]:
    fig, axes = plt.subplots(
        1, max(len(names), 1), figsize=(5.2 * max(len(names), 1), 4.2), squeeze=False
    )
    fig.suptitle(title)
    return fig, list(axes[0])


def _save(plt: Any, fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=120, format="png", metadata={"Software": None})
    plt.close(fig)


def _no_data(ax: Any, what: str) -> None:
    ax.text(0.5, 0.5, f"no {what}", ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _colours(plt: Any, names: list[str]) -> dict[str, Any]:
    cycle = plt.get_cmap("tab10")
    return {name: cycle(i % 10) for i, name in enumerate(names)}


def _reference(cells: pd.DataFrame, metric: str) -> pd.Series:
    """The MostPop baseline's metric per domain (empty without baseline rows)."""
    if cells.empty or "kind" not in cells:
        return pd.Series(dtype=float)
    rows = cells[(cells["kind"] == "baseline") & (cells["model"] == REFERENCE)]
    return rows.set_index("domain")[metric].astype(float)


def _reference_lines(ax: Any, reference: pd.Series, colours: Mapping[str, Any]) -> None:
    for domain, value in reference.items():
        if domain in colours:
            ax.axhline(value, ls=REFERENCE_STYLE, lw=1, color=colours[domain], alpha=0.7)
    if len(reference):
        ax.plot([], [], REFERENCE_STYLE, color="grey", label=f"{REFERENCE} (per domain)")


def plot_recency_bias(cells: pd.DataFrame, metric: str, path: Path) -> None:
    """Each period's cell per domain: the metric on all, new and old target items."""
    plt = _pyplot()
    frame = cells[cells["kind"] == "cell"] if not cells.empty else cells
    paradigms = sorted(frame["paradigm"].unique()) if not frame.empty else []
    fig, axes = _panels(plt, paradigms, f"Recency bias: {metric} of each period's checkpoint")
    if not paradigms:
        _no_data(axes[0], "cells")
    colours = _colours(plt, sorted(frame["domain"].unique()) if not frame.empty else [])
    for ax, paradigm in zip(axes, paradigms, strict=False):
        rows = frame[frame["paradigm"] == paradigm]
        periods = list(dict.fromkeys(rows["period"]))
        for domain, d in rows.groupby("domain", sort=True):
            x = [periods.index(p) for p in d["period"]]
            for part, column in (
                ("all", metric),
                ("new", f"{metric}_new_items"),
                ("old", f"{metric}_old_items"),
            ):
                ax.plot(
                    x,
                    d[column].astype(float),
                    STYLES[part],
                    marker="o" if part == "all" else None,
                    color=colours[domain],
                    label=domain if part == "all" else None,
                )
        _reference_lines(ax, _reference(cells, metric), colours)
        ax.set_xticks(range(len(periods)), periods)
        ax.set_title(paradigm)
        ax.set_xlabel("training period of the checkpoint")
        ax.set_ylabel(f"{metric} on the test window")
        ax.grid(alpha=0.3)
        for part, style in STYLES.items():
            ax.plot([], [], style, color="grey", label=f"{part} target items")
        ax.legend(fontsize=7)
    _save(plt, fig, path)


def plot_weight_sweeps(
    temporal: pd.DataFrame, cells: pd.DataFrame, metric: str, selection: str, path: Path
) -> None:
    """Test metric (solid; dashed: selection metric under ``valid``) against λ, the grid
    weight nearest λ* starred, MostPop per domain as reference."""
    plt = _pyplot()
    paradigms = sorted(temporal["paradigm"].unique()) if not temporal.empty else []
    fig, axes = _panels(plt, paradigms, f"Temporal merges: {metric} against the merge weight")
    if not paradigms:
        _no_data(axes[0], "temporal merges")
    colours = _colours(plt, sorted(temporal["domain"].unique()) if not temporal.empty else [])
    for ax, paradigm in zip(axes, paradigms, strict=False):
        rows = temporal[temporal["paradigm"] == paradigm]
        for domain, d in rows.groupby("domain", sort=True):
            ax.plot(d["weight"], d["test"], "-o", ms=3, color=colours[domain], label=domain)
            if selection == "valid":
                ax.plot(d["weight"], d["selection"], "--", color=colours[domain], alpha=0.6)
            best = d[d["is_optimal"]]
            ax.plot(best["weight"], best["test"], "*", ms=14, color=colours[domain], mec="black")
        _reference_lines(ax, _reference(cells, metric), colours)
        ax.plot([], [], "*", ms=10, color="grey", mec="black", label="λ* (nearest grid weight)")
        if selection == "valid":
            ax.plot([], [], "--", color="grey", label="selection users")
        ax.set_title(paradigm)
        ax.set_xlabel("λ: weight of the later period")
        ax.set_ylabel(f"{metric} ({'report' if selection == 'valid' else 'all'} users)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    _save(plt, fig, path)


def _fit_label(name: str, fit: Mapping[str, Any]) -> str:
    if fit["slope"] is None:
        return f"{name}: no fit"
    r2 = "n/a" if fit["r2"] is None else f"{fit['r2']:.2f}"
    return f"{name}: slope {fit['slope']:.3g}, R² {r2}, n={fit['n']}"


def plot_weight_vs_recency(
    points: pd.DataFrame,
    pooled: Mapping[str, Any],
    per_paradigm: Mapping[str, Mapping[str, Any]],
    statistic: str,
    path: Path,
) -> None:
    """λ* against the recency statistic: per-paradigm points and lines, and the pooled line."""
    plt = _pyplot()
    fig, (ax,) = _panels(plt, ["all"], "Optimal merge weight against domain recency")
    if points.empty:
        _no_data(ax, "optimal weights")
    colours = _colours(plt, sorted(per_paradigm))
    span = np.linspace(points[X].min(), points[X].max(), 50) if not points.empty else []
    for paradigm, p in points.groupby("paradigm", sort=True):
        fit = per_paradigm[paradigm]
        errors = None
        if "weight_ci_low" in p and p["weight_ci_low"].notna().all():
            errors = [p[Y] - p["weight_ci_low"], p["weight_ci_high"] - p[Y]]
        ax.errorbar(
            p[X],
            p[Y],
            yerr=errors,
            fmt="o",
            capsize=3,
            color=colours[paradigm],
            label=_fit_label(paradigm, fit),
        )
        for x, y, domain in zip(p[X], p[Y], p["domain"], strict=True):
            ax.annotate(domain, (x, y), fontsize=6, xytext=(3, 3), textcoords="offset points")
        if fit["slope"] is not None:
            ax.plot(span, fit["intercept"] + fit["slope"] * span, "--", color=colours[paradigm])
    if pooled["slope"] is not None:
        ax.plot(
            span,
            pooled["intercept"] + pooled["slope"] * span,
            "-",
            color="black",
            label=_fit_label("pooled", pooled),
        )
    elif not points.empty:
        ax.plot([], [], " ", label=f"pooled: {pooled['note']}")
    ax.set_xlabel(statistic)
    ax.set_ylabel("λ* of the later period (bars: bootstrap interval)")
    ax.grid(alpha=0.3)
    if not points.empty:
        ax.legend(fontsize=7)
    _save(plt, fig, path)


def plot_cross_domain(cross: pd.DataFrame, cells: pd.DataFrame, metric: str, path: Path) -> None:
    """Mean metric of the merged models vs the evaluated domains' own cells, per method x
    reference; MostPop's mean over the same domains as reference."""
    plt = _pyplot()
    paradigms = sorted(cross["paradigm"].unique()) if not cross.empty else []
    fig, axes = _panels(plt, paradigms, f"Cross-domain merging: {metric}, merged vs own cell")
    if not paradigms:
        _no_data(axes[0], "cross-domain merges")
    for ax, paradigm in zip(axes, paradigms, strict=False):
        rows = cross[cross["paradigm"] == paradigm].fillna({"reference": "none"})
        means = rows.groupby(["method", "reference"], sort=True)[["merged", "own_cell"]].mean()
        x = np.arange(len(means))
        ax.bar(x - 0.2, means["merged"], 0.4, label="merged model")
        ax.bar(x + 0.2, means["own_cell"], 0.4, label="own cell")
        reference = _reference(cells, metric).reindex(rows["domain"].unique()).dropna()
        if len(reference):
            ax.axhline(
                reference.mean(), ls=REFERENCE_STYLE, color="grey", label=f"{REFERENCE} (mean)"
            )
        labels = [f"{m}\nref: {r}" for m, r in means.index]
        ax.set_xticks(x, labels, fontsize=7)
        ax.set_title(paradigm)
        ax.set_xlabel("merge method and reference base")
        ax.set_ylabel(f"mean {metric} over merges and domains")
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=7)
    _save(plt, fig, path)
