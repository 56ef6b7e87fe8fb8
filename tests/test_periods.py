"""Periods from config: sorted, contiguous, half-open, with clear errors."""

from __future__ import annotations

import pytest

from mmgrid.errors import InputError
from mmgrid.periods import date_to_ms, evaluation_period, periods_from_config, training_periods

STUDY = {
    "phase1": ["2022-07-01", "2022-10-01"],
    "pretrain": ["2017-07-01", "2022-07-01"],
    "test": ["2023-01-01", "2023-04-01"],
    "phase2": ["2022-10-01", "2023-01-01"],
}


def test_periods_sorted_and_split_into_training_and_test():
    config = {"periods": STUDY, "test_period": "test"}
    assert [p.name for p in periods_from_config(config)] == ["pretrain", "phase1", "phase2", "test"]
    assert [p.name for p in training_periods(config)] == ["pretrain", "phase1", "phase2"]
    test = evaluation_period(config)
    assert test.start_ms == date_to_ms("2023-01-01") == 1672531200000
    assert test.contains(test.start_ms) and not test.contains(test.end_ms)


@pytest.mark.parametrize(
    ("periods", "message"),
    [
        (
            {"a": ["2020-01-01", "2020-06-01"], "b": ["2020-05-01", "2021-01-01"]},
            "'b' overlaps 'a'",
        ),
        ({"a": ["2020-01-01", "2020-06-01"], "b": ["2020-07-01", "2021-01-01"]}, "gap after 'a'"),
        ({"a": ["2020-06-01", "2020-01-01"], "b": ["2020-06-01", "2021-01-01"]}, "not after start"),
        (
            {"a": ["2020-01-32", "2020-06-01"], "b": ["2020-06-01", "2021-01-01"]},
            r"periods\.a\[0\]",
        ),
    ],
)
def test_bad_periods_name_the_key(periods, message):
    with pytest.raises(InputError, match=message):
        periods_from_config({"periods": periods})


def test_test_period_must_be_last():
    with pytest.raises(InputError, match="must name the last"):
        evaluation_period({"periods": STUDY, "test_period": "phase1"})
