"""Settings of the ``analysis:`` config section (selection protocol, metric, recency statistic)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from mmgrid.analysis.optimal import ESTIMATORS
from mmgrid.errors import InputError
from mmgrid.evaluate.metrics import METRICS
from mmgrid.settings import from_mapping

SELECTIONS = ("valid", "test")
NEW_ITEM_SPLITS = {
    "latest_period": "new: the target item was first seen at or after the start of the latest "
    "training period (no earlier period's checkpoint had it in its data); old: first seen before",
    "age": "new: the target item was younger than new_item_days at the interaction (age from its "
    "first interaction); old: the others",
}
"""How the recency-bias slices split targets into new and old items, and what each means."""
RECENT_SHARE = "recent_item_share"
MEAN_AGE = "mean_item_age_days"
_METRIC = re.compile(r"(?P<name>[a-z]+)@(?P<k>[0-9]+)")
_RECENT = re.compile(rf"{RECENT_SHARE}@(?P<days>[0-9]+)")
RECENCY_FORMS = (f"{RECENT_SHARE}@N (N days, one of data.recency_days)", MEAN_AGE)


@dataclasses.dataclass(frozen=True)
class AnalysisSettings:
    """How the metric files become the study's tables, optimal weights and regression."""

    metric: str = "ndcg@10"
    """The metric every table, selection and figure uses (one of the evaluated metrics)."""
    selection: str = "valid"
    """``valid``: choose weights on a held-out share of test-window users, report on the rest;
    ``test``: choose and report on all users (peeks at the test users)."""
    valid_fraction: float = 0.5
    """``valid``: share of each domain's test-window users held out for selection."""
    recency_statistic: str = "recent_item_share@90"
    """The regression's x: ``recent_item_share@N`` or ``mean_item_age_days`` (data/stats.py)."""
    recency_period: str | None = None
    """The period the statistic is read from; null = the last training period (never the test
    window by default)."""
    weight_estimator: str = "bagged"
    """How λ* is read from a weight sweep: ``bagged`` (the best grid weight averaged over
    bootstrap resamples of the selection users), ``quadratic`` (maximum of the least-squares
    parabola through the sweep) or ``argmax`` (the best grid weight); see
    :mod:`mmgrid.analysis.optimal`."""
    new_items: str = "latest_period"
    """How targets split into *new* and *old* items (:data:`NEW_ITEM_SPLITS`): relative to the
    latest training period (``latest_period``: old items are the ones an earlier period's
    checkpoint could have learned, so a latest checkpoint that loses on them forgets) or by the
    item's age at the interaction (``age``, with ``new_item_days``)."""
    new_item_days: int = 90
    """``new_items: age``: a target item is *new* when its age at the interaction is below this
    many days."""
    bootstrap: int = 1000
    """Bootstrap draws of every interval: the regression slope, λ* and the comparison with the
    baselines (0 = no intervals)."""
    confidence: float = 0.95
    """Coverage of the bootstrap intervals."""

    @property
    def recency_days(self) -> int | None:
        """N of ``recent_item_share@N``; None for ``mean_item_age_days``."""
        match = _RECENT.fullmatch(self.recency_statistic)
        return int(match["days"]) if match else None


def settings_from_config(cfg: Mapping[str, Any] | None) -> AnalysisSettings:
    """Validate the ``analysis:`` section (missing keys take defaults) and return the settings.

    Whether ``metric`` was evaluated is checked later, against the metric files.
    """
    s = from_mapping(AnalysisSettings, cfg, "analysis")
    metric = _METRIC.fullmatch(s.metric)
    if metric is None or metric["name"] not in METRICS or int(metric["k"]) < 1:
        raise InputError(
            f"config key 'analysis.metric': {s.metric!r} is not a metric; write NAME@K with NAME "
            f"one of {', '.join(METRICS)} and K one of evaluate.k, e.g. 'ndcg@10'"
        )
    if s.selection not in SELECTIONS:
        raise InputError(
            f"config key 'analysis.selection' must be one of {', '.join(SELECTIONS)}, "
            f"got {s.selection!r}"
        )
    if not 0.0 < s.valid_fraction < 1.0:
        raise InputError(
            f"config key 'analysis.valid_fraction' must be between 0 and 1 (exclusive), "
            f"got {s.valid_fraction}"
        )
    recent = _RECENT.fullmatch(s.recency_statistic)
    if s.recency_statistic != MEAN_AGE and (recent is None or int(recent["days"]) < 1):
        raise InputError(
            f"config key 'analysis.recency_statistic': {s.recency_statistic!r} is not a recency "
            f"statistic; use {' or '.join(RECENCY_FORMS)}"
        )
    if s.weight_estimator not in ESTIMATORS:
        raise InputError(
            f"config key 'analysis.weight_estimator' must be one of {', '.join(ESTIMATORS)}, "
            f"got {s.weight_estimator!r}"
        )
    if s.new_items not in NEW_ITEM_SPLITS:
        raise InputError(
            f"config key 'analysis.new_items' must be one of {', '.join(NEW_ITEM_SPLITS)}, "
            f"got {s.new_items!r}"
        )
    if s.new_item_days < 1:
        raise InputError(f"config key 'analysis.new_item_days' must be >= 1, got {s.new_item_days}")
    if s.bootstrap < 0:
        raise InputError(
            f"config key 'analysis.bootstrap' must be >= 0 (0 = no interval), got {s.bootstrap}"
        )
    if not 0.0 < s.confidence < 1.0:
        raise InputError(
            f"config key 'analysis.confidence' must be between 0 and 1 (exclusive), "
            f"got {s.confidence}"
        )
    return s
