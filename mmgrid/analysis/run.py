"""The analysis entry point: model records and metric files in, tables, regression and figures out."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mmgrid.analysis import figures
from mmgrid.analysis.effects import base_replacement_table, recency_bias_table
from mmgrid.analysis.inputs import period_order, period_start_ms, read_stats, recency_statistic
from mmgrid.analysis.optimal import ESTIMATORS
from mmgrid.analysis.outputs import AnalysisOutputs
from mmgrid.analysis.records import parse_records
from mmgrid.analysis.regression import SE, SE_FLOOR, X, Y, fit_points, points_table
from mmgrid.analysis.scores import Scores
from mmgrid.analysis.settings import NEW_ITEM_SPLITS, AnalysisSettings
from mmgrid.analysis.split import PROTOCOLS
from mmgrid.analysis.tables import (
    baselines_table,
    cells_table,
    cross_domain_table,
    optimal_weights_table,
    temporal_table,
    weight_draws_table,
)
from mmgrid.atomic import atomic_paths, dumps_json
from mmgrid.errors import InputError

PathLike = str | os.PathLike[str]


def run_analysis(
    models: Sequence[Mapping[str, Any]],
    metrics_root: PathLike,
    items_dir: PathLike,
    stats_dir: PathLike,
    settings: AnalysisSettings,
    seed: int,
    out: AnalysisOutputs,
    *,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Turn the metric files of ``models`` (model records) into every output of ``out``.

    Outputs are written together, atomically: all of them or, on any error, none. Bad or missing
    inputs raise :class:`InputError` naming the file (or the record). Returns the regression
    document (also written to ``out.regression_json``).
    """
    records = parse_records(models)
    cells = [r for r in records if r.kind == "cell"]
    if not cells:
        raise InputError("model records: no cell among them; the analysis needs the grid's cells")
    domains = sorted({d for r in records for d in r.domains})
    stats_root = Path(stats_dir)
    stats = {d: read_stats(stats_root, d) for d in domains}
    periods = period_order(stats[domains[0]])
    latest = max({r.period for r in cells}, key=lambda p: periods.index(p) if p in periods else -1)
    period = settings.recency_period or latest
    recency = {
        d: recency_statistic(stats[d], stats_root / f"{d}.json", settings, period) for d in domains
    }
    latest_start = (
        {d: period_start_ms(stats[d], stats_root / f"{d}.json", latest) for d in domains}
        if settings.new_items == "latest_period"
        else {}
    )

    scores = Scores(Path(metrics_root), Path(items_dir), settings, seed, latest_start)
    cells_frame = cells_table(records, scores, periods)
    baselines = baselines_table(records, scores, periods)
    cross = cross_domain_table(records, scores)
    bias = recency_bias_table(records, scores, periods)
    replacement = base_replacement_table(records, scores)
    temporal, estimates = temporal_table(records, scores)
    optimal = optimal_weights_table(
        temporal, estimates, records, scores, recency, settings.recency_statistic
    )
    interval = ["weight_ci_low", "weight_ci_high"]
    points = optimal[["paradigm", "domain", X, Y, *interval, SE]].reset_index(drop=True)
    fits = {
        weighted: fit_points(
            points,
            bootstrap=settings.bootstrap,
            confidence=settings.confidence,
            seed=seed,
            weighted=weighted,
            weight_samples={key: e.samples for key, e in estimates.items()},
        )
        for weighted in (False, True)
    }
    pooled, per_paradigm = fits[False]
    document = {
        "statistic": {
            "name": settings.recency_statistic,
            "period": period,
            "definition": next(iter(recency.values())).definition,
        },
        "selection": {
            "protocol": settings.selection,
            "valid_fraction": settings.valid_fraction if settings.selection == "valid" else None,
            "metric": settings.metric,
            "seed": seed,
            "description": PROTOCOLS[settings.selection],
            "estimator": settings.weight_estimator,
            "estimator_definition": ESTIMATORS[settings.weight_estimator],
        },
        "y": "λ*: the selected weight of the later period in the temporal merge",
        "new_items": {
            "split": settings.new_items,
            "definition": NEW_ITEM_SPLITS[settings.new_items],
            **(
                {"latest_period": latest}
                if settings.new_items == "latest_period"
                else {"new_item_days": settings.new_item_days}
            ),
        },
        "bootstrap": {
            "draws": settings.bootstrap,
            "confidence": settings.confidence,
            "slope": "two levels where every point has λ* draws: the domains (each with all "
            "its points: one per paradigm in the pooled fit), then each point's λ* drawn from "
            "its bootstrap over selection users (conservative: the within-point noise counts "
            "twice); else the domains only. Each fit's bootstrap_levels says which",
        },
        "pooled": pooled,
        "per_paradigm": per_paradigm,
        "precision_weighted": {
            "definition": f"weighted least squares, weight 1 / max(se of λ*, {SE_FLOOR})²",
            "pooled": fits[True][0],
            "per_paradigm": fits[True][1],
        },
        "points": [
            {
                "paradigm": row.paradigm,
                "domain": row.domain,
                X: float(getattr(row, X)),
                Y: float(getattr(row, Y)),
                "weight_ci": [_number(row.weight_ci_low), _number(row.weight_ci_high)],
                SE: _number(getattr(row, SE)),
            }
            for row in points.itertuples(index=False)
        ],
    }
    point_rows = points_table(points, pooled, per_paradigm)
    draws = weight_draws_table(estimates)
    tables = {
        "cells": cells_frame,
        "baselines": baselines,
        "cross_domain": cross,
        "temporal": temporal,
        "optimal_weights": optimal,
        "regression_csv": point_rows,
        "weight_draws": draws,
        "recency_bias": bias,
        "base_replacement": replacement,
    }
    _write(out, settings, tables, document)
    log(
        f"analysis of {len(records)} models ({len(cells)} cells, {len(temporal)} temporal and "
        f"{cross['model'].nunique()} cross-domain merges): λ* at {len(points)} points, pooled "
        f"slope {pooled['slope']} (n={pooled['n']}); wrote "
        + ", ".join(str(p) for p in out.paths())
    )
    return document


def _number(value: Any) -> float | None:
    """A float, or None for a missing value (NaN or None)."""
    return None if value is None or pd.isna(value) else float(value)


def _write(
    out: AnalysisOutputs,
    settings: AnalysisSettings,
    tables: Mapping[str, pd.DataFrame],
    document: dict[str, Any],
) -> None:
    """Write every output (``tables`` by their :class:`AnalysisOutputs` field) into temporary
    files, renamed onto ``out`` only when all succeeded."""
    with atomic_paths(out.paths()) as tmp:
        o = AnalysisOutputs(*tmp)
        for name, frame in tables.items():
            frame.to_csv(getattr(o, name), index=False)
        o.regression_json.write_text(dumps_json(document))
        cells, metric = tables["cells"], settings.metric
        figures.plot_recency_bias(cells, metric, o.recency_bias_figure)
        figures.plot_weight_sweeps(
            tables["temporal"], cells, metric, settings.selection, o.weight_sweeps_figure
        )
        figures.plot_weight_vs_recency(
            tables["regression_csv"],
            document["pooled"],
            document["per_paradigm"],
            settings.recency_statistic,
            o.regression_figure,
        )
        figures.plot_cross_domain(tables["cross_domain"], cells, metric, o.cross_domain_figure)
