"""The study's tables from the model records and their scores (one pandas frame each).

- ``cells``: every cell, the pooled base and the baselines per domain on its report users: every
  metric, and the configured metric on targets that are new / old items (the recency-bias
  evidence);
- ``baselines``: per paradigm, the last training period's cells against each baseline (paired
  stratified bootstrap over report users, per domain and averaged over domains);
- ``cross_domain``: each cross-domain merge on each evaluated domain vs that domain's own cell;
- ``temporal``: each temporal merge weight: selection and test metric, and whether it is λ*;
- ``optimal_weights``: per (paradigm, domain): λ* with its bootstrap interval, and the test
  metric at the grid weight nearest λ*, at the uniform weight and of the latest checkpoint,
  with the domain's recency statistic;
- ``weight_draws``: per (paradigm, domain), λ* of every bootstrap draw over selection users
  (what ``optimal_weights``' interval summarises), for a bootstrap that carries λ*'s own
  uncertainty further, e.g. a regression over several runs' points.

"Test" numbers are on the report users of :mod:`.split`; "selection" numbers on its selection users.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mmgrid.analysis.bootstrap import paired_comparison
from mmgrid.analysis.inputs import Recency
from mmgrid.analysis.optimal import (
    WeightEstimate,
    bootstrap_weight,
    nearest_weight,
    optimal_weight,
    uniform_weight,
)
from mmgrid.analysis.records import BASELINE, POOLED, ModelRecord
from mmgrid.analysis.scores import Scores
from mmgrid.errors import InputError
from mmgrid.evaluate.baselines import PARADIGM as BASELINE_PARADIGM
from mmgrid.seeding import derive_seed

CROSS_DOMAIN_COLUMNS = (
    "paradigm",
    "model",
    "domain",
    "period",
    "members",
    "method",
    "reference",
    "source",
    "metric",
    "n_users",
    "merged",
    "own_cell",
    "difference",
    "members_best",
    "members_mean",
    "n_members_evaluated",
)
TEMPORAL_COLUMNS = (
    "paradigm",
    "domain",
    "weight",
    "model",
    "method",
    "reference",
    "period_old",
    "period_new",
    "metric",
    "selection",
    "test",
    "n_selection_users",
    "n_test_users",
    "is_optimal",
)
BASELINE_COLUMNS = (
    "paradigm",
    "domain",
    "model",
    "baseline",
    "metric",
    "n_users",
    "model_value",
    "baseline_value",
    "difference",
    "difference_ci_low",
    "difference_ci_high",
    "ratio",
    "ratio_ci_low",
    "ratio_ci_high",
)
ALL_DOMAINS = "mean over domains"
OPTIMAL_COLUMNS = (
    "paradigm",
    "domain",
    "period_old",
    "period_new",
    "method",
    "reference",
    "metric",
    "n_weights",
    "estimator",
    "weight_optimal",
    "weight_ci_low",
    "weight_ci_high",
    "weight_se",
    "weight_argmax",
    "weight_nearest",
    "selection_at_optimal",
    "test_at_optimal",
    "weight_uniform",
    "test_at_uniform",
    "test_latest",
    "gain_vs_uniform",
    "gain_vs_latest",
    "recency_statistic",
    "recency_period",
    "recency",
)
WEIGHT_DRAWS_COLUMNS = ("paradigm", "domain", "draw", "weight_optimal")


def period_rank(periods: Sequence[str]) -> dict[str, int]:
    """Each period's position in ``periods``."""
    return {p: i for i, p in enumerate(periods)}


def cell_record(
    records: Mapping[tuple[str, str], ModelRecord],
    paradigm: str,
    domain: str,
    period: str,
    user: str,
) -> ModelRecord:
    """The cell of (``paradigm``, ``domain``, ``period``) among ``records`` (by (paradigm,
    model)); an error names ``user``, what needs it, when it is missing."""
    record = records.get((paradigm, f"{domain}-{period}"))
    if record is None or record.kind != "cell":
        raise InputError(
            f"model records: {user} needs the cell {paradigm}/{domain}-{period}, which is not "
            "among the evaluated models; list every cell in the records"
        )
    return record


def index_records(records: Sequence[ModelRecord]) -> dict[tuple[str, str], ModelRecord]:
    """Records by (paradigm, model)."""
    return {(r.paradigm, r.model): r for r in records}


def cells_table(
    records: Sequence[ModelRecord], scores: Scores, periods: Sequence[str]
) -> pd.DataFrame:
    """Every cell, pooled base and baseline on each of its domains (sorted by paradigm, domain,
    kind, period)."""
    metric = scores.settings.metric
    rows = []
    for r in records:
        if r.kind not in ("cell", POOLED, BASELINE):
            continue
        for domain in r.domains:
            values, n, unranked = scores.report(r.paradigm, r.model, domain)
            slices = scores.age_slices(r.paradigm, r.model, domain)
            rows.append(
                {
                    "paradigm": r.paradigm,
                    "domain": domain,
                    "period": r.period,
                    "kind": r.kind,
                    "model": r.model,
                    "n_users": n,
                    "n_unranked": unranked,
                    **values,
                    f"{metric}_new_items": slices["new"][0],
                    "n_users_new_items": slices["new"][1],
                    f"{metric}_old_items": slices["old"][0],
                    "n_users_old_items": slices["old"][1],
                }
            )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    rank = period_rank(periods)
    frame["_kind"] = frame["kind"].map({"cell": 0, POOLED: 1, BASELINE: 2})
    frame["_period"] = frame["period"].map(lambda p: rank.get(p, len(rank)))
    frame = frame.sort_values(["paradigm", "domain", "_kind", "_period"], kind="stable")
    return frame.drop(columns=["_kind", "_period"]).reset_index(drop=True)


def cross_domain_table(records: Sequence[ModelRecord], scores: Scores) -> pd.DataFrame:
    """Each cross-domain merge on each evaluated domain vs the domain's own cell of the period.

    ``members_best`` / ``members_mean``: over the merged domains' cells of that period that were
    evaluated on the domain (usually only the domain's own cell).
    """
    metric = scores.settings.metric
    by_name = index_records(records)
    rows = []
    for r in records:
        if r.kind != "cross_domain":
            continue
        assert r.period is not None
        for domain in r.domains:
            merged, n, _ = scores.report(r.paradigm, r.model, domain)
            own = cell_record(by_name, r.paradigm, domain, r.period, f"{r.paradigm}/{r.model}")
            own_value = scores.report(r.paradigm, own.model, domain)[0][metric]
            members = [
                scores.report(r.paradigm, cell.model, domain)[0][metric]
                for m in r.members
                if (cell := by_name.get((r.paradigm, f"{m}-{r.period}"))) is not None
                and cell.kind == "cell"
                and domain in cell.domains
            ]
            rows.append(
                {
                    "paradigm": r.paradigm,
                    "model": r.model,
                    "domain": domain,
                    "period": r.period,
                    "members": "+".join(r.members),
                    "method": r.method,
                    "reference": r.reference,
                    "source": r.source,
                    "metric": metric,
                    "n_users": n,
                    "merged": merged[metric],
                    "own_cell": own_value,
                    "difference": merged[metric] - own_value,
                    "members_best": max(members) if members else None,
                    "members_mean": float(np.mean(members)) if members else None,
                    "n_members_evaluated": len(members),
                }
            )
    frame = pd.DataFrame(rows, columns=list(CROSS_DOMAIN_COLUMNS))
    return frame.sort_values(["paradigm", "domain", "model"], kind="stable").reset_index(drop=True)


def _sweep_key(r: ModelRecord) -> tuple[Any, ...]:
    return (r.periods, r.method, r.reference)


def temporal_table(
    records: Sequence[ModelRecord], scores: Scores
) -> tuple[pd.DataFrame, dict[tuple[str, str], WeightEstimate]]:
    """Each temporal merge weight per (paradigm, domain), and λ* of each sweep.

    A (paradigm, domain) holds one sweep: the same periods, method and reference at every weight,
    each weight once. λ* comes from the selection users' metric with the configured estimator
    and its bootstrap interval (:mod:`.optimal`); ``is_optimal`` marks the grid weight nearest λ*.
    """
    settings = scores.settings
    metric = settings.metric
    sweeps: dict[tuple[str, str], list[ModelRecord]] = {}
    for r in records:
        if r.kind == "temporal":
            sweeps.setdefault((r.paradigm, r.domain), []).append(r)
    rows = []
    estimates: dict[tuple[str, str], WeightEstimate] = {}
    for (paradigm, domain), sweep in sorted(sweeps.items()):
        if len({_sweep_key(r) for r in sweep}) > 1:
            raise InputError(
                f"model records: the temporal merges of {paradigm}/{domain} mix periods, methods "
                "or references; the analysis takes one weight sweep per paradigm and domain"
            )
        weights = [r.weight for r in sweep]
        if len(set(weights)) != len(weights):
            raise InputError(
                f"model records: two temporal merges of {paradigm}/{domain} have the same weight"
            )
        sweep = sorted(sweep, key=lambda r: r.weight)
        group = []
        for r in sweep:
            assert r.periods is not None
            selected, n_selection = scores.selection(paradigm, r.model, domain)
            reported, n_test, _ = scores.report(paradigm, r.model, domain)
            group.append(
                {
                    "paradigm": paradigm,
                    "domain": domain,
                    "weight": r.weight,
                    "model": r.model,
                    "method": r.method,
                    "reference": r.reference,
                    "period_old": r.periods[0],
                    "period_new": r.periods[1],
                    "metric": metric,
                    "selection": selected,
                    "test": reported[metric],
                    "n_selection_users": n_selection,
                    "n_test_users": n_test,
                }
            )
        grid = [r.weight for r in sweep]
        values = scores.aligned_values([(paradigm, r.model) for r in sweep], domain, "selection")
        if len(values) == 0:
            raise InputError(_no_selection_users(scores, paradigm, sweep[0].model, domain))
        estimate = bootstrap_weight(
            grid,
            values,
            estimator=settings.weight_estimator,
            draws=settings.bootstrap,
            confidence=settings.confidence,
            seed=derive_seed(scores.seed, "weight-bootstrap", paradigm, domain),
        )
        estimates[(paradigm, domain)] = estimate
        chosen = nearest_weight(grid, estimate.weight)
        rows += [{**g, "is_optimal": g["weight"] == chosen} for g in group]
    return pd.DataFrame(rows, columns=list(TEMPORAL_COLUMNS)), estimates


def _no_selection_users(scores: Scores, paradigm: str, model: str, domain: str) -> str:
    """Why a weight sweep has nobody to choose λ* on, and the fix."""
    path = scores.evaluation(paradigm, model, domain).path
    n_report = scores.report(paradigm, model, domain)[1]
    if n_report == 0:
        return (
            f"{path}: the weight sweep of {paradigm}/{domain} was evaluated on no test users, so "
            "λ* cannot be chosen; check that the domain has users in the test window "
            "(tables/domain_stats.csv) or leave it out of merges.temporal"
        )
    return (
        f"{path}: none of the {n_report} users the weight sweep of {paradigm}/{domain} was "
        "evaluated on is a selection user, so λ* cannot be chosen; raise "
        "analysis.valid_fraction or evaluate more test users (samples.eval_max_users)"
    )


def optimal_weights_table(
    temporal: pd.DataFrame,
    estimates: Mapping[tuple[str, str], WeightEstimate],
    records: Sequence[ModelRecord],
    scores: Scores,
    recency: Mapping[str, Recency],
    statistic: str,
) -> pd.DataFrame:
    """Per (paradigm, domain): λ* with its interval, the test metric at the grid weight nearest
    λ*, at the uniform weight and of the latest checkpoint (the later period's cell), and the
    domain's recency statistic."""
    metric = scores.settings.metric
    by_name = index_records(records)
    rows = []
    if temporal.empty:
        return pd.DataFrame(columns=list(OPTIMAL_COLUMNS))
    for (paradigm, domain), sweep in temporal.groupby(["paradigm", "domain"], sort=True):
        at = sweep.set_index("weight")
        best = float(at.index[at["is_optimal"]][0])
        estimate = estimates[(paradigm, domain)]
        uniform = uniform_weight(list(at.index))
        new = at["period_new"].iloc[0]
        latest = cell_record(by_name, paradigm, domain, new, f"the weight sweep of {domain}")
        latest_value = scores.report(paradigm, latest.model, domain)[0][metric]
        rows.append(
            {
                "paradigm": paradigm,
                "domain": domain,
                "period_old": at["period_old"].iloc[0],
                "period_new": new,
                "method": at["method"].iloc[0],
                "reference": at["reference"].iloc[0],
                "metric": metric,
                "n_weights": len(at),
                "estimator": scores.settings.weight_estimator,
                "weight_optimal": estimate.weight,
                "weight_ci_low": estimate.ci_low,
                "weight_ci_high": estimate.ci_high,
                "weight_se": estimate.se,
                "weight_argmax": optimal_weight(list(at.index), list(at["selection"])),
                "weight_nearest": best,
                "selection_at_optimal": at.loc[best, "selection"],
                "test_at_optimal": at.loc[best, "test"],
                "weight_uniform": uniform,
                "test_at_uniform": at.loc[uniform, "test"],
                "test_latest": latest_value,
                "gain_vs_uniform": at.loc[best, "test"] - at.loc[uniform, "test"],
                "gain_vs_latest": at.loc[best, "test"] - latest_value,
                "recency_statistic": statistic,
                "recency_period": recency[domain].period,
                "recency": recency[domain].value,
            }
        )
    return pd.DataFrame(rows, columns=list(OPTIMAL_COLUMNS))


def domain_comparisons(
    strata: Sequence[tuple[str, tuple[np.ndarray, np.ndarray]]], scores: Scores, *keys: str
) -> list[tuple[str, dict[str, Any]]]:
    """The paired comparison (:func:`~.bootstrap.paired_comparison`) of each domain's (model,
    reference) values on the same users, then of their mean over domains (``ALL_DOMAINS``),
    each bootstrap seeded by the run's seed, ``keys`` and the domain."""
    groups = [(domain, [stratum]) for domain, stratum in strata]
    groups.append((ALL_DOMAINS, [stratum for _, stratum in strata]))
    return [
        (
            domain,
            paired_comparison(
                group,
                draws=scores.settings.bootstrap,
                confidence=scores.settings.confidence,
                seed=derive_seed(scores.seed, *keys, domain),
            ),
        )
        for domain, group in groups
    ]


def baselines_table(
    records: Sequence[ModelRecord], scores: Scores, periods: Sequence[str]
) -> pd.DataFrame:
    """Per paradigm and baseline: the last training period's cell of every domain against the
    baseline on the same report users, and the mean over domains (paired, stratified bootstrap;
    see :mod:`.bootstrap`)."""
    settings = scores.settings
    cells = [r for r in records if r.kind == "cell"]
    baselines = sorted({r.model for r in records if r.kind == BASELINE})
    if not cells or not baselines:
        return pd.DataFrame(columns=list(BASELINE_COLUMNS))
    rank = period_rank(periods)
    last = max({r.period for r in cells}, key=lambda p: rank.get(p, -1))
    rows = []
    for paradigm in sorted({r.paradigm for r in cells}):
        latest = sorted(
            (r for r in cells if r.paradigm == paradigm and r.period == last),
            key=lambda r: r.domain,
        )
        for baseline in baselines:
            strata = []
            for cell in latest:
                base_record = (BASELINE_PARADIGM, baseline)
                values = scores.aligned_values(
                    [(paradigm, cell.model), base_record], cell.domain, "report"
                )
                strata.append((values[:, 0], values[:, 1]))
            model_of = {c.domain: c.model for c in latest} | {ALL_DOMAINS: f"*-{last}"}
            compared = domain_comparisons(
                [(c.domain, s) for c, s in zip(latest, strata, strict=True)],
                scores,
                "baseline-bootstrap",
                paradigm,
                baseline,
            )
            for domain, result in compared:
                model = model_of[domain]
                rows.append(
                    {
                        "paradigm": paradigm,
                        "domain": domain,
                        "model": model,
                        "baseline": baseline,
                        "metric": settings.metric,
                        "n_users": result["n_users"],
                        "model_value": result["model"],
                        "baseline_value": result["baseline"],
                        "difference": result["difference"],
                        "difference_ci_low": result["difference_ci"][0],
                        "difference_ci_high": result["difference_ci"][1],
                        "ratio": result["ratio"],
                        "ratio_ci_low": result["ratio_ci"][0],
                        "ratio_ci_high": result["ratio_ci"][1],
                    }
                )
    return pd.DataFrame(rows, columns=list(BASELINE_COLUMNS))


def weight_draws_table(estimates: Mapping[tuple[str, str], WeightEstimate]) -> pd.DataFrame:
    """λ* of each bootstrap draw, one row per (paradigm, domain, draw); empty without draws."""
    rows = [
        (paradigm, domain, draw, float(weight))
        for (paradigm, domain), estimate in sorted(estimates.items())
        for draw, weight in enumerate(estimate.samples)
    ]
    return pd.DataFrame(rows, columns=list(WEIGHT_DRAWS_COLUMNS))
