"""Hours from counted work and rates; the summary per rule, the CSV and the printed table."""

from __future__ import annotations

import pandas as pd
import pytest

from mmgrid.estimate.calibration import Rate
from mmgrid.estimate.counts import CellWork, EvalWork
from mmgrid.estimate.report import estimate, format_table, summary, write_csv


def _cells() -> list[CellWork]:
    return [
        CellWork(
            "train",
            "title",
            "A",
            "p1",
            100,
            90,
            2,
            6,
            36_000,
            3_000,
            "input token",
            36_000,
            "shards",
        ),
        CellWork(
            "train_pooled",
            "title",
            "pooled",
            "p1",
            200,
            180,
            2,
            12,
            72_000,
            6_000,
            "input token",
            72_000,
            "shards",
        ),
    ]


def _models() -> list[EvalWork]:
    return [
        EvalWork("evaluate_title_cells_A", "title", "cells-A", "A-p1", ("A",), 40),
        EvalWork("evaluate_title_cells_A", "title", "cells-A", "A-p2", ("A",), 40),
        EvalWork("evaluate_title_pooled", "title", "pooled", "pooled-p1", ("A", "B"), 100),
    ]


RATES = [
    Rate("gpu", "m", "train_title", 36.0, 0.0, 0.001, "input token", "s"),
    Rate("gpu", "m", "evaluate_title", 72.0, 18.0, 0.9, "query", "s"),
]


def test_hours_per_cell_and_per_model():
    lines = estimate(_cells(), _models(), RATES, "gpu", "m")
    hours = {line.name: line.hours for line in lines}
    assert hours["title/A/p1"] == pytest.approx((36 + 36.0) / 3600)
    assert hours["title/pooled/p1"] == pytest.approx((36 + 72.0) / 3600)
    # a job's overhead is shared by its models: 72 s over 2 models, then 18 s + 0.9 s per query
    assert hours["A-p1"] == pytest.approx((36 + 18 + 36) / 3600)
    assert hours["pooled-p1"] == pytest.approx((72 + 18 + 90) / 3600)
    rows = {(r["rule"], r["paradigm"]): r for r in summary(lines)}
    assert rows[("train", "title")]["input tokens"] == 36_000
    assert rows[("evaluate_title_*", "title")]["jobs"] == 2
    assert rows[("evaluate_title_*", "title")]["queries"] == 180
    total = rows[("total", "")]
    assert total["jobs"] == 4
    assert total["hours"] == pytest.approx(sum(hours.values()))


def test_uncalibrated_rules_have_no_hours_and_no_total():
    lines = estimate(_cells(), _models(), RATES[:1], "gpu", "m")
    rows = {(r["rule"], r["paradigm"]): r for r in summary(lines)}
    assert rows[("train", "title")]["hours"] is not None
    assert rows[("evaluate_title_*", "title")]["hours"] is None
    assert rows[("total", "")]["hours"] is None
    assert "n/a" in format_table(summary(lines))
    other_device = estimate(_cells(), _models(), RATES, "cpu", "m")
    assert all(line.hours is None for line in other_device)


def test_csv_has_one_row_per_cell_and_model(tmp_path):
    lines = estimate(_cells(), _models(), RATES, "gpu", "m")
    write_csv(lines, tmp_path / "estimate.csv")
    frame = pd.read_csv(tmp_path / "estimate.csv")
    assert list(frame["kind"]) == ["cell", "cell", "model", "model", "model"]
    assert list(frame["queries"].dropna()) == [40, 40, 100]
    assert frame["hours"].sum() == pytest.approx(sum(line.hours for line in lines))
