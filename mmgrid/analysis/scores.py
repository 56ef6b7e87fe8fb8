"""Per-user scores of the evaluated models on the split's users and item-age slices.

Every number is recomputed from the per-user rank files with
:func:`mmgrid.evaluate.metrics.metrics_from_ranks`, so any subset of users (selection users,
report users, users whose target is a new or an old item) is scored exactly like the full set.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from mmgrid.analysis.inputs import Evaluation, read_evaluation, read_first_seen
from mmgrid.analysis.settings import AnalysisSettings
from mmgrid.analysis.split import split_masks
from mmgrid.errors import InputError
from mmgrid.periods import MS_PER_DAY


def new_item_mask(
    timestamps: np.ndarray,
    first_seen: np.ndarray,
    *,
    since_ms: int | None = None,
    days: int | None = None,
) -> np.ndarray:
    """True where the target item is *new*: first seen at or after ``since_ms`` (the latest
    training period's start), or, with ``days``, ``timestamp - first_seen < days`` days."""
    if (since_ms is None) == (days is None):
        raise ValueError("new_item_mask: give exactly one of since_ms and days")
    if since_ms is not None:
        return first_seen >= since_ms
    return (timestamps - first_seen) < days * MS_PER_DAY


def new_item_split(settings: AnalysisSettings, latest_start_ms: int | None) -> dict[str, int]:
    """:func:`new_item_mask`'s keyword for ``analysis.new_items``: ``days`` for ``age``,
    ``since_ms`` (the latest training period's start) for ``latest_period``; {} when that start
    is unknown."""
    if settings.new_items == "age":
        return {"days": settings.new_item_days}
    return {} if latest_start_ms is None else {"since_ms": latest_start_ms}


def _metrics(evaluation: Evaluation, mask: np.ndarray) -> dict[str, float]:
    """Every metric on the users of ``mask``; NaN when it selects none (a mean over no users is
    undefined, not 0)."""
    metrics = evaluation.metrics(mask)
    return metrics if mask.any() else dict.fromkeys(metrics, float("nan"))


class Scores:
    """Reads evaluations on demand (each file once) and scores them on subsets of users."""

    def __init__(
        self,
        metrics_root: Path,
        items_dir: Path,
        settings: AnalysisSettings,
        seed: int,
        latest_start_ms: Mapping[str, int] | None = None,
    ) -> None:
        """``latest_start_ms``: per domain, the start of the latest training period (Unix ms),
        needed by the ``latest_period`` split of :meth:`new_targets`."""
        self.metrics_root = Path(metrics_root)
        self.latest_start_ms = dict(latest_start_ms or {})
        self.items_dir = Path(items_dir)
        self.settings = settings
        self.seed = seed
        self._evaluations: dict[tuple[str, str, str], Evaluation] = {}
        self._first_seen: dict[str, pd.Series] = {}
        self._masks: dict[Path, tuple[np.ndarray, np.ndarray]] = {}
        self._reports: dict[tuple[str, str, str], tuple[dict[str, float], int, int]] = {}

    def evaluation(self, paradigm: str, model: str, domain: str) -> Evaluation:
        """The metric and rank files of ``model`` on ``domain``."""
        key = (paradigm, model, domain)
        if key not in self._evaluations:
            self._evaluations[key] = read_evaluation(
                self.metrics_root, paradigm, model, domain, self.settings.metric
            )
        return self._evaluations[key]

    def masks(self, evaluation: Evaluation, domain: str) -> tuple[np.ndarray, np.ndarray]:
        """(selection users, report users) of an evaluation (see :mod:`.split`)."""
        if evaluation.path not in self._masks:
            self._masks[evaluation.path] = split_masks(
                evaluation.ranks["user_id"].tolist(),
                domain,
                self.seed,
                self.settings.selection,
                self.settings.valid_fraction,
            )
        return self._masks[evaluation.path]

    def side_mask(self, evaluation: Evaluation, domain: str, side: str) -> np.ndarray:
        """The ``side`` users (``selection`` or ``report``) of an evaluation."""
        return self.masks(evaluation, domain)[0 if side == "selection" else 1]

    def report(self, paradigm: str, model: str, domain: str) -> tuple[dict[str, float], int, int]:
        """Every metric on the report users (NaN without any), their number and how many
        targets were not ranked."""
        key = (paradigm, model, domain)
        if key not in self._reports:
            evaluation = self.evaluation(paradigm, model, domain)
            report = self.masks(evaluation, domain)[1]
            unranked = int(np.isnan(evaluation.ranks["rank"].to_numpy()[report]).sum())
            self._reports[key] = (_metrics(evaluation, report), int(report.sum()), unranked)
        return self._reports[key]

    def selection(self, paradigm: str, model: str, domain: str) -> tuple[float, int]:
        """The configured metric on the selection users (NaN without any), and their number."""
        evaluation = self.evaluation(paradigm, model, domain)
        chosen = self.masks(evaluation, domain)[0]
        return _metrics(evaluation, chosen)[self.settings.metric], int(chosen.sum())

    def user_values(self, paradigm: str, model: str, domain: str, side: str) -> pd.Series:
        """The configured metric of every ``side`` user (``selection`` or ``report``), by user id."""
        evaluation = self.evaluation(paradigm, model, domain)
        mask = self.side_mask(evaluation, domain, side)
        return pd.Series(
            evaluation.values(self.settings.metric, mask),
            index=evaluation.ranks["user_id"].to_numpy()[mask],
        )

    def aligned_values(self, models: list[tuple[str, str]], domain: str, side: str) -> np.ndarray:
        """``[users, models]`` values of the configured metric; every model must have been
        evaluated on the same users and targets (``models`` holds (paradigm, model) pairs)."""
        columns = [self.user_values(p, m, domain, side) for p, m in models]
        users = columns[0].index
        first = self._targets(*models[0], domain, side)
        for (paradigm, model), column in zip(models, columns, strict=True):
            if len(column) != len(users) or set(column.index) != set(users):
                raise InputError(
                    f"{paradigm}/{model} on {domain} was evaluated on other users than "
                    f"{models[0][0]}/{models[0][1]}; evaluate every model on the same test users"
                )
            targets = self._targets(paradigm, model, domain, side).loc[users]
            differ = (targets != first).any(axis=1).to_numpy()
            if differ.any():
                user = users[int(np.argmax(differ))]
                raise InputError(
                    f"{self.evaluation(paradigm, model, domain).path} and "
                    f"{self.evaluation(*models[0], domain).path}: user {user} has another target "
                    f"(item, time) in each; the two come from different test samples, evaluate "
                    "both models on the same samples again"
                )
        return np.stack([c.loc[users].to_numpy() for c in columns], axis=1)

    def _targets(self, paradigm: str, model: str, domain: str, side: str) -> pd.DataFrame:
        """The target (item_id, timestamp) of every ``side`` user, by user id."""
        evaluation = self.evaluation(paradigm, model, domain)
        mask = self.side_mask(evaluation, domain, side)
        return evaluation.ranks.loc[mask, ["user_id", "item_id", "timestamp"]].set_index("user_id")

    def new_targets(self, paradigm: str, model: str, domain: str) -> np.ndarray:
        """Over every evaluated user of ``model`` on ``domain`` (rank-file order): whether the
        target is a *new* item, split by ``analysis.new_items``."""
        evaluation = self.evaluation(paradigm, model, domain)
        first_seen = self._item_first_seen(domain)
        targets = evaluation.ranks["item_id"]
        unknown = sorted(set(targets) - set(first_seen.index))
        if unknown:
            raise InputError(
                f"{evaluation.path}: target item {unknown[0]} is not in "
                f"{self.items_dir / domain}.parquet; evaluate on the same domain data"
            )
        split = new_item_split(self.settings, self.latest_start_ms.get(domain))
        if not split:
            raise InputError(
                f"analysis.new_items: latest_period needs the start of the latest training "
                f"period of {domain}, which the statistics did not give; rebuild them with the "
                "data stage or set analysis.new_items to age"
            )
        return new_item_mask(
            evaluation.ranks["timestamp"].to_numpy(dtype=np.int64),
            first_seen.loc[targets].to_numpy(dtype=np.int64),
            **split,
        )

    def report_new_targets(self, paradigm: str, model: str, domain: str) -> pd.Series:
        """Whether each report user's target is a new item, by user id (the order of
        :meth:`user_values` on the report side)."""
        evaluation = self.evaluation(paradigm, model, domain)
        report = self.masks(evaluation, domain)[1]
        new = self.new_targets(paradigm, model, domain)
        return pd.Series(new[report], index=evaluation.ranks["user_id"].to_numpy()[report])

    def age_slices(
        self, paradigm: str, model: str, domain: str
    ) -> dict[str, tuple[float | None, int]]:
        """The configured metric on the report users whose target is new / old (split by
        ``analysis.new_items``): (value, users).

        The value is None for a slice without users.
        """
        evaluation = self.evaluation(paradigm, model, domain)
        report = self.masks(evaluation, domain)[1]
        new = self.new_targets(paradigm, model, domain)
        out = {}
        for name, mask in (("new", report & new), ("old", report & ~new)):
            n = int(mask.sum())
            value = evaluation.metrics(mask)[self.settings.metric] if n else None
            out[name] = (value, n)
        return out

    def _item_first_seen(self, domain: str) -> pd.Series:
        if domain not in self._first_seen:
            self._first_seen[domain] = read_first_seen(self.items_dir, domain)
        return self._first_seen[domain]
