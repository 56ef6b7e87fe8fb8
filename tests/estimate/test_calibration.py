"""The calibration table: reading, writing, keys, and the fit to a run's job times."""

from __future__ import annotations

import json

import pytest

from mmgrid.errors import InputError
from mmgrid.estimate.calibration import (
    FIELDS,
    Rate,
    fit_to_run,
    lookup,
    model_key,
    read_rates,
    write_rates,
)
from mmgrid.estimate.counts import CellWork, EvalWork


def _rate(rule="train_title", overhead=5.0, device="cpu: X", source="s") -> Rate:
    return Rate(device, "m", rule, overhead, 0.0, 1e-4, "input token", source)


def test_a_job_costs_overhead_plus_models_plus_units():
    rate = Rate("d", "m", "evaluate_semid", 6.0, 2.0, 0.5, "query", "s")
    assert rate.seconds(10, models=3) == 6.0 + 3 * 2.0 + 10 * 0.5


def test_write_replaces_rows_of_the_same_key_and_keeps_the_others(tmp_path):
    table = tmp_path / "calibration.csv"
    write_rates([_rate(), _rate("evaluate_title")], table)
    write_rates([_rate(overhead=7.0, source="new"), _rate(device="cpu: Y")], table)
    rates = read_rates(table)
    assert len(rates) == 3
    assert lookup(rates, "cpu: X", "m", "train_title") == _rate(overhead=7.0, source="new")
    assert lookup(rates, "cpu: X", "m", "evaluate_title").overhead_s == 5.0
    assert lookup(rates, "cpu: Z", "m", "train_title") is None
    assert read_rates(tmp_path / "missing.csv") == []


def test_a_table_with_other_columns_is_refused(tmp_path):
    table = tmp_path / "bad.csv"
    table.write_text("device,rule\nx,y\n")
    with pytest.raises(InputError, match="columns device, model"):
        read_rates(table)
    table.write_text(",".join(FIELDS) + "\nd,m,r,1,zero,3,u,s\n")
    with pytest.raises(InputError, match="line 2"):
        read_rates(table)


def test_the_committed_table_reads():
    rates = read_rates()
    assert rates and all(r.s_per_unit > 0 for r in rates)


def test_model_key_of_a_built_base_and_of_a_local_directory(tmp_path):
    config = {"base": {"model": {"hidden_size": 32, "num_attention_heads": 2}}}
    assert model_key(config, tmp_path) == "qwen3 h32 L2 ff256 heads2/2 d16 v2048"
    model = tmp_path / "Qwen3-0.6B"
    model.mkdir()
    shape = {
        "model_type": "qwen3",
        "hidden_size": 1024,
        "num_hidden_layers": 28,
        "intermediate_size": 3072,
        "num_attention_heads": 16,
        "num_key_value_heads": 8,
        "head_dim": 128,
        "vocab_size": 151936,
    }
    (model / "config.json").write_text(json.dumps(shape))
    key = model_key({"base": {"path": "Qwen3-0.6B"}}, tmp_path)
    assert key == "qwen3 h1024 L28 ff3072 heads16/8 d128 v151936"
    with pytest.raises(InputError, match=r"base\.path"):
        model_key({"base": {"path": "missing"}}, tmp_path)


def _cell(domain, units) -> CellWork:
    return CellWork("train", "title", domain, "p1", 10, 9, 1, 1, units, 5, "input token", units, "")


def _benchmark(path, seconds):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"s\th:m:s\tmax_rss\n{seconds}\t0:00:01\t100\n")


@pytest.mark.parametrize("logs", [True, False])
def test_fit_to_run_recovers_linear_job_costs(tmp_path, logs):
    results = tmp_path / "results"
    cells = [_cell(d, u) for d, u in (("A", 1000), ("B", 3000), ("C", 6000))]
    for c in cells:  # the loop: 2 ms per token; the job: 4 s more
        summary = results / "checkpoints" / "title" / c.domain / "p1" / "train.json"
        summary.parent.mkdir(parents=True)
        summary.write_text(json.dumps({"training": {"wall_s": 0.002 * c.units}}))
        _benchmark(
            results / "benchmarks" / "train" / "title" / c.domain / "p1.tsv", 4 + 0.002 * c.units
        )
    models = [
        EvalWork("evaluate_title_cells_A", "title", "cells-A", "A-p1", ("A",), 10),
        EvalWork("evaluate_title_cells_A", "title", "cells-A", "A-p2", ("A",), 10),
        EvalWork("evaluate_title_pooled", "title", "pooled", "pooled-p1", ("A", "B"), 30),
        EvalWork("evaluate_title_x", "title", "x", "m1", ("B",), 20),
        EvalWork("evaluate_title_x", "title", "x", "m2", ("B",), 20),
        EvalWork("evaluate_title_x", "title", "x", "m3", ("B",), 20),
    ]
    # 5 s per job + 1 s per model + 0.25 s per query (decoding)
    for batch, n, queries in (
        ("cells-A", 2, [10, 10]),
        ("pooled", 1, [15, 15]),
        ("x", 3, [20] * 3),
    ):
        decode = [0.25 * q for q in queries]
        _benchmark(
            results / "benchmarks" / "evaluate" / "title" / f"{batch}.tsv", 5 + n + sum(decode)
        )
        if logs:
            log = results / "logs" / "evaluate" / "title" / f"{batch}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text("".join(f"x: wrote a.json; decode and rank {d}s\n" for d in decode))
    train, evaluate = fit_to_run(tmp_path, cells, models, "cpu: X", "m", "fit")
    assert (train.rule, train.unit) == ("train_title", "input token")
    assert train.overhead_s == pytest.approx(4.0)
    assert train.s_per_unit == pytest.approx(0.002)
    assert evaluate.rule == "evaluate_title"
    assert (evaluate.overhead_s, evaluate.per_model_s, evaluate.s_per_unit) == pytest.approx(
        (5.0, 1.0, 0.25)
    )
    assert "3 training jobs" in train.source
    with pytest.raises(InputError, match="no benchmark files"):
        fit_to_run(tmp_path / "elsewhere", cells, models, "d", "m", "fit")
