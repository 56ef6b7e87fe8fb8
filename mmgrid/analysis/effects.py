"""The study's two merging effects, each with paired bootstrap intervals over report users.

- ``recency_bias``: per paradigm, the latest training period's cell against the previous
  period's, on the report users whose target is an old item and on those whose target is a new
  one (``analysis.new_items``), per domain and averaged over domains. The recency bias of
  incremental training is a gain on new items with a loss on old ones.
- ``base_replacement``: per paradigm and merge method, each cross-domain merge with the pooled
  task base as reference against the same merge with the base LLM, and both against the
  domain's own cell: what merging loses (``loss``), what replacing the reference buys
  (``gain``) and the share of the loss it recovers (``recovered``).

Both resample the report users within each domain, keeping each user's values together
(:func:`~mmgrid.analysis.bootstrap.stratified_mean_draws`). The recency-bias "mean over
domains" rows average the per-domain means of the domains whose slice has users, as
:mod:`.tables`' baselines table does (``n_domains`` counts them); the base-replacement rows
average over the (merge, domain) pairs, and a domain's users, being the same in each of its
merges, are resampled once per draw.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mmgrid.analysis.bootstrap import percentile_interval, stratified_mean_draws
from mmgrid.analysis.records import POOLED, ModelRecord
from mmgrid.analysis.scores import Scores
from mmgrid.analysis.tables import (
    ALL_DOMAINS,
    cell_record,
    domain_comparisons,
    index_records,
    period_rank,
)
from mmgrid.seeding import derive_seed

RECENCY_BIAS_COLUMNS = (
    "paradigm",
    "domain",
    "items",
    "model",
    "previous_model",
    "metric",
    "n_users",
    "n_domains",
    "latest",
    "previous",
    "difference",
    "difference_ci_low",
    "difference_ci_high",
)
EFFECT_COLUMNS = (
    "own_cell",
    "merged_base",
    "merged_pooled",
    "loss",
    "loss_ci_low",
    "loss_ci_high",
    "gain",
    "gain_ci_low",
    "gain_ci_high",
    "recovered",
    "recovered_ci_low",
    "recovered_ci_high",
)
BASE_REPLACEMENT_COLUMNS = (
    "paradigm",
    "method",
    "domain",
    "model_base",
    "model_pooled",
    "metric",
    "n_users",
    *EFFECT_COLUMNS,
)
BASE = "base"


def recency_bias_table(
    records: Sequence[ModelRecord], scores: Scores, periods: Sequence[str]
) -> pd.DataFrame:
    """Per paradigm, domain and item slice (``old``, ``new``): the latest period's cell minus
    the previous period's on the same report users, with its paired bootstrap interval; and
    the mean over domains. Empty with fewer than two training periods."""
    settings = scores.settings
    cells = [r for r in records if r.kind == "cell"]
    rank = period_rank(periods)
    trained = sorted({r.period for r in cells}, key=lambda p: rank.get(p, -1))
    if len(trained) < 2:
        return pd.DataFrame(columns=list(RECENCY_BIAS_COLUMNS))
    previous_period, last = trained[-2], trained[-1]
    by_name = index_records(records)
    rows = []
    for paradigm in sorted({r.paradigm for r in cells}):
        latest = sorted(
            (r for r in cells if r.paradigm == paradigm and r.period == last),
            key=lambda r: r.domain,
        )
        pairs = []  # (latest cell, previous cell, [users, 2] values, new-item target per user)
        for cell in latest:
            before = cell_record(
                by_name, paradigm, cell.domain, previous_period, f"the recency bias of {cell.model}"
            )
            models = [(paradigm, cell.model), (paradigm, before.model)]
            values = scores.aligned_values(models, cell.domain, "report")  # rows: cell's users
            new = scores.report_new_targets(paradigm, cell.model, cell.domain)  # the same order
            pairs.append((cell, before, values, new.to_numpy()))
        names = {c.domain: (c.model, b.model) for c, b, _, _ in pairs}
        names[ALL_DOMAINS] = (f"*-{last}", f"*-{previous_period}")
        for items in ("old", "new"):
            strata = []
            for cell, _, values, is_new in pairs:
                rows_of = is_new if items == "new" else ~is_new
                strata.append((cell.domain, (values[rows_of, 0], values[rows_of, 1])))
            for domain, result in domain_comparisons(
                strata, scores, "recency-bias", paradigm, items
            ):
                model, previous = names[domain]
                rows.append(
                    {
                        "paradigm": paradigm,
                        "domain": domain,
                        "items": items,
                        "model": model,
                        "previous_model": previous,
                        "metric": settings.metric,
                        "n_users": result["n_users"],
                        "n_domains": result["n_domains"],
                        "latest": result["model"],
                        "previous": result["baseline"],
                        "difference": result["difference"],
                        "difference_ci_low": result["difference_ci"][0],
                        "difference_ci_high": result["difference_ci"][1],
                    }
                )
    return pd.DataFrame(rows, columns=list(RECENCY_BIAS_COLUMNS))


def _replacement_effects(
    strata: Sequence[tuple[str, tuple[np.ndarray, np.ndarray, np.ndarray]]],
    *,
    draws: int,
    confidence: float,
    seed: int,
) -> dict[str, float | None]:
    """Loss (merged with the base LLM - own cell), gain (merged with the pooled base - merged
    with the base LLM) and recovered (gain / -loss, where there is a loss; a draw without a
    loss is undefined) over ``strata`` of (domain, (own, base, pooled) per-user values), with
    percentile intervals. The strata of one domain hold its report users in every merge: they
    are resampled together."""
    strata = [(d, s) for d, s in strata if len(s[0])]
    if not strata:
        return dict.fromkeys(EFFECT_COLUMNS)
    domains = [d for d, _ in strata]
    strata_values = [s for _, s in strata]
    means = np.array([[float(np.mean(v)) for v in s] for s in strata_values]).mean(axis=0)
    out: dict[str, float | None] = {
        "own_cell": means[0],
        "merged_base": means[1],
        "merged_pooled": means[2],
    }
    estimates = _effects(means[None, :])
    for name, value in estimates.items():
        out[name] = float(value[0]) if np.isfinite(value[0]) else None
        out[f"{name}_ci_low"] = out[f"{name}_ci_high"] = None
    if draws > 0:
        draws_of_means = stratified_mean_draws(
            strata_values, draws=draws, seed=seed, groups=domains
        )
        for name, samples in _effects(draws_of_means).items():
            out[f"{name}_ci_low"], out[f"{name}_ci_high"] = percentile_interval(samples, confidence)
    return out


def _effects(means: np.ndarray) -> dict[str, np.ndarray]:
    """Loss, gain and recovered share from ``[draws, 3]`` means of (own, base, pooled)."""
    own, base, pooled = means[:, 0], means[:, 1], means[:, 2]
    loss, gain = base - own, pooled - base
    with np.errstate(divide="ignore", invalid="ignore"):
        recovered = np.where(loss < 0, gain / -loss, np.nan)
    return {"loss": loss, "gain": gain, "recovered": recovered}


def base_replacement_table(records: Sequence[ModelRecord], scores: Scores) -> pd.DataFrame:
    """Per paradigm, method and evaluated domain: each cross-domain merge whose reference is the
    pooled task base, paired with the same merge (members, period, source) whose reference is
    the base LLM, against the domain's own cell of the merged period; and per paradigm and
    method the mean over its (merge, domain) pairs. Merges without both references are left
    out (methods that take no reference)."""
    settings = scores.settings
    by_name = index_records(records)
    merges = [r for r in records if r.kind == "cross_domain" and r.reference in (BASE, POOLED)]
    by_key = {(r.paradigm, r.period, r.members, r.method, r.source, r.reference): r for r in merges}
    groups: dict[tuple[str, str], list[tuple[str, str, str, tuple]]] = {}
    for r in merges:
        if r.reference != POOLED:
            continue
        twin = by_key.get((r.paradigm, r.period, r.members, r.method, r.source, BASE))
        if twin is None:
            continue
        assert r.period is not None and r.method is not None
        for domain in r.domains:
            if domain not in twin.domains:
                continue
            own = cell_record(by_name, r.paradigm, domain, r.period, f"{r.paradigm}/{r.model}")
            values = scores.aligned_values(
                [(r.paradigm, own.model), (r.paradigm, twin.model), (r.paradigm, r.model)],
                domain,
                "report",
            )
            # rows follow the own cell's rank file, the same in every merge of the domain, so
            # the domain's strata line up user by user and can share a resample
            stratum = (domain, (values[:, 0], values[:, 1], values[:, 2]))
            groups.setdefault((r.paradigm, r.method), []).append(
                (domain, twin.model, r.model, stratum)
            )
    rows = []
    for (paradigm, method), pairs in sorted(groups.items()):
        entries = [(d, b, p, [s]) for d, b, p, s in sorted(pairs, key=lambda e: (e[0], e[2]))]
        entries.append((ALL_DOMAINS, "*", "*", [s for _, _, _, s in pairs]))
        for domain, model_base, model_pooled, strata in entries:
            users = {d: len(values[0]) for d, values in strata}  # each domain's users once
            effects = _replacement_effects(
                strata,
                draws=settings.bootstrap,
                confidence=settings.confidence,
                seed=derive_seed(
                    scores.seed, "base-replacement", paradigm, method, domain, model_pooled
                ),
            )
            rows.append(
                {
                    "paradigm": paradigm,
                    "method": method,
                    "domain": domain,
                    "model_base": model_base,
                    "model_pooled": model_pooled,
                    "metric": settings.metric,
                    "n_users": int(sum(users.values())),
                    **effects,
                }
            )
    return pd.DataFrame(rows, columns=list(BASE_REPLACEMENT_COLUMNS))
