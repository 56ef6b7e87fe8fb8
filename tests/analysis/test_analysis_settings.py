"""The ``analysis:`` config section."""

from __future__ import annotations

import pytest

from mmgrid.analysis.settings import AnalysisSettings, settings_from_config
from mmgrid.errors import InputError


def test_defaults():
    s = settings_from_config(None)
    assert s == AnalysisSettings()
    assert (s.metric, s.selection, s.valid_fraction, s.recency_statistic) == (
        "ndcg@10",
        "valid",
        0.5,
        "recent_item_share@90",
    )
    assert (s.recency_period, s.new_item_days, s.bootstrap, s.confidence) == (None, 90, 1000, 0.95)
    assert s.new_items == "latest_period"
    assert s.recency_days == 90


def test_values_and_statistic_forms():
    s = settings_from_config(
        {"metric": "mrr@5", "selection": "test", "recency_statistic": "mean_item_age_days"}
    )
    assert (s.metric, s.selection, s.recency_days) == ("mrr@5", "test", None)
    assert settings_from_config({"recency_statistic": "recent_item_share@30"}).recency_days == 30


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"metric": "hit@10"}, ["analysis.metric", "recall, ndcg, mrr"]),
        ({"metric": "ndcg"}, ["analysis.metric"]),
        ({"selection": "train"}, ["analysis.selection", "valid, test"]),
        ({"valid_fraction": 1.0}, ["analysis.valid_fraction"]),
        ({"valid_fraction": 0}, ["analysis.valid_fraction"]),
        (
            {"recency_statistic": "recent_share@90"},
            ["analysis.recency_statistic", "recent_item_share@N", "mean_item_age_days"],
        ),
        ({"recency_statistic": "recent_item_share@0"}, ["analysis.recency_statistic"]),
        ({"new_item_days": 0}, ["analysis.new_item_days"]),
        ({"new_items": "recent"}, ["analysis.new_items", "latest_period, age"]),
        ({"bootstrap": -1}, ["analysis.bootstrap"]),
        ({"confidence": 1.5}, ["analysis.confidence"]),
        ({"seed": 3}, ["analysis.seed"]),
        ({"bootstrap": "many"}, ["analysis.bootstrap"]),
    ],
)
def test_bad_values_name_the_key(raw, words):
    with pytest.raises(InputError) as error:
        settings_from_config(raw)
    for word in words:
        assert word in str(error.value)
