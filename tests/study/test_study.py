"""The Study of the tiny config by hand: the chain, what each job reads, every job's params
through JSON, the layout, and the outputs."""

from __future__ import annotations

import json

import pytest

from mmgrid.errors import InputError
from mmgrid.study import Study
from mmgrid.study.layout import Layout
from tests.study.test_config_checks import tiny

CKPT = "results/checkpoints"


@pytest.fixture(scope="module")
def study() -> Study:
    return Study.from_config(tiny(paradigms=["title", "semid", "hllm"]))


def test_the_chain_starts_at_the_paradigms_base(study):
    first = {p: study.init_dir(study.cell(p, "Books", "pretrain")) for p in study.paradigms}
    assert first == {
        "hllm": "results/base/hllm",
        "semid": "results/base/semid",
        "title": "results/base/llm",
    }
    assert study.init_dir(study.cell("semid", "Books", "phase2")) == f"{CKPT}/semid/Books/phase1"
    assert study.init_dir(study.cell("title", "pooled", "pretrain")) == "results/base/llm"
    assert [c.key for c in study.cells if c.paradigm == "title"][-1] == (
        "title",
        "pooled",
        "pretrain",
    )
    with pytest.raises(InputError, match="no such cell"):
        study.cell("title", "pooled", "phase1")


def test_a_chain_can_start_from_the_pooled_task_base():
    """chain_start: pooled. Every domain's first cell starts from its paradigm's pooled task base
    (which still starts from the paradigm's base); later cells are unchanged."""
    pooled = Study.from_config(tiny(paradigms=["title", "semid", "hllm"], chain_start="pooled"))
    for p in pooled.paradigms:
        assert pooled.init_dir(pooled.cell(p, "Books", "pretrain")) == f"{CKPT}/{p}/pooled/pretrain"
        assert pooled.init_dir(pooled.cell(p, "Books", "phase1")) == f"{CKPT}/{p}/Books/pretrain"
    assert pooled.init_dir(pooled.cell("semid", "pooled", "pretrain")) == "results/base/semid"
    assert [c.key for c in pooled.cells] == [
        c.key for c in Study.from_config(tiny(paradigms=["title", "semid", "hllm"])).cells
    ]
    with pytest.raises(InputError, match="chain_start"):
        Study.from_config(tiny(chain_start="phase1"))


def test_what_a_cell_trains_on(study):
    assert study.train_inputs("title", "Books", "phase1") == {
        "init": f"{CKPT}/title/Books/pretrain",
        "samples": ["results/samples/title/Books/phase1.parquet"],
    }
    pooled = study.train_inputs("semid", "pooled", "pretrain")
    assert pooled["samples"] == [
        "results/samples/semid/Books/pretrain.parquet",
        "results/samples/semid/Video_Games/pretrain.parquet",
    ]
    hllm = study.train_inputs("hllm", "Books", "phase1")  # the shards up to the period
    assert hllm["shards"] == [
        "results/shards/Books/pretrain.parquet",
        "results/shards/Books/phase1.parquet",
    ]
    assert hllm["item_tables"] == ["results/items/Books.parquet"]
    assert study.samples_inputs("semid", "Books", "test")["index"] == "results/index/Books"
    assert "index" not in study.samples_inputs("title", "Books", "test")
    assert study.sample_paradigms == ["semid", "title"]
    assert study.base_paradigms == ["hllm", "semid"]


def test_merge_and_evaluation_inputs(study):
    name = "cross-phase2-Books+Video_Games-ties-ref_pooled-src_Books"
    assert study.merge_inputs("semid", name) == {
        "cells": [f"{CKPT}/semid/Books/phase2", f"{CKPT}/semid/Video_Games/phase2"],
        "reference": f"{CKPT}/semid/pooled/pretrain",
        "sid_base": "results/base/semid",  # where the semantic-ID rows are, read at job time
    }
    assert "sid_base" not in study.merge_inputs("title", "cross-phase2-Books+Video_Games-linear")
    with pytest.raises(InputError, match="no such merge"):
        study.merge_inputs("title", "nope")
    inputs = study.batch_inputs("title", "cells-Books")
    assert inputs["models"] == [f"{CKPT}/title/Books/{p}" for p in ("phase1", "phase2", "pretrain")]
    assert inputs["samples"] == ["results/samples/title/Books/test.parquet"]
    assert study.batch_inputs("hllm", "pooled")["item_table"] == [
        "results/items/Books.parquet",
        "results/items/Video_Games.parquet",
    ]


def every_job(study: Study):
    """(name, typed params) of every job of the study."""
    yield from ((f"synthetic {d}", study.synthetic_job(d)) for d in study.domains)
    yield "ingest", study.ingest_job()
    yield "data_summary", study.data_summary_job()
    yield "base", study.base_job()
    yield from ((f"base {p}", study.paradigm_base_job(p)) for p in study.base_paradigms)
    yield "index", study.index_job()
    for p in study.sample_paradigms:
        yield from (
            (f"samples {p} {t.name}", study.samples_job(p, "Books", t.name)) for t in study.periods
        )
    yield from ((f"train {c.key}", study.train_job(*c.key)) for c in study.cells)
    yield from ((f"merge {k}", study.merge_job(*k)) for k in study.merges)
    yield from ((f"evaluate {k}", study.batch_job(*k)) for k in study.batches)
    yield "analysis", study.analysis_job()
    yield "manifest", study.manifest_job("/checkout")


def test_every_jobs_params_survive_json(study):
    kinds = set()
    for name, job in every_job(study):
        params = json.loads(json.dumps(job.to_params()))
        assert type(job).from_params(params) == job, name
        kinds.add(type(job).__name__)
    assert len(kinds) == 15  # one params type per rule kind (and per paradigm where they differ)


def test_params_hold_what_the_job_needs(study):
    samples = study.samples_job("title", "Books", "test")
    assert (samples.is_test, samples.is_first, samples.period.name) == (True, False, "test")
    assert study.samples_job("title", "Books", "pretrain").is_first
    semid = study.train_job("semid", "Books", "phase1")
    assert (semid.semantic_ids.levels, semid.semantic_ids.codebook_size) == (2, 32)
    assert study.train_job("title", "Books", "phase1").semantic_ids is None
    hllm = study.train_job("hllm", "pooled", "pretrain")
    assert (hllm.domain, hllm.period) == ("pooled", study.period("pretrain"))
    batch = study.batch_job("hllm", "cells-Books")
    assert batch.max_users == 50 and batch.test_period == study.test_period
    assert study.data_summary_job().recency_days == 90


def test_job_groups_follow_the_config(study):
    assert [study.job_group(s) for s in ("data", "train", "merges")] == ["data", "train", "merges"]
    # an evaluation batch runs with the jobs that made its models
    assert study.evaluation_group("title", "cells-Books") == "train"
    assert study.evaluation_group("hllm", "pooled") == "train"
    assert study.evaluation_group("semid", "cross-phase2-Books+Video_Games") == "merges"
    assert study.evaluation_group("title", "temporal-Books-phase1+phase2") == "merges"
    default = Study.from_config({k: v for k, v in tiny().items() if k != "job_groups"})
    assert default.config["job_groups"] == ["data", "merges"]  # the schema's default
    assert default.evaluation_group("title", "cells-Books") is None
    assert default.job_group("merges") == "merges"
    with pytest.raises(ValueError, match="no job group 'merge'"):
        study.job_group("merge")


def test_layout_gives_rule_patterns_and_respects_base_path(tmp_path):
    paths = Layout()
    assert paths.shard("{domain}", "{period}") == "results/shards/{domain}/{period}.parquet"
    assert paths.log("train", "{paradigm}", "pooled", "{period}") == (
        "results/logs/train/{paradigm}/pooled/{period}.log"
    )
    assert paths.log("analysis") == "results/logs/analysis.log"
    assert (
        paths.benchmark("evaluate", "title", "pooled")
        == "results/benchmarks/evaluate/title/pooled.tsv"
    )
    assert paths.analysis().cells == "results/tables/cells.csv"
    (tmp_path / "Qwen3").mkdir()
    study = Study.from_config(tiny(base__path=str(tmp_path / "Qwen3")))
    assert study.paths.base_llm == str(tmp_path / "Qwen3")
    assert study.paths.built_base_llm == "results/base/llm"  # never the user's directory
    assert study.init_dir(study.cell("title", "Books", "pretrain")) == str(tmp_path / "Qwen3")
    assert str(tmp_path) not in " ".join(study.grid_outputs())
    real = Study.from_config(tiny(data__source="amazon2023", data__raw_dir="downloads"))
    assert real.ingest_inputs("Books") == {
        "ratings": "downloads/Books.csv.gz",
        "meta": "downloads/meta_Books.jsonl.gz",
    }
    # the generator writes under results/raw only, never into the user's downloads
    assert real.paths.generated_raw_files("Books")["ratings"] == "results/raw/Books.csv.gz"


def test_outputs_are_every_artefact_once(study):
    outputs = study.outputs()
    assert len(outputs) == len(set(outputs)) and all(o.startswith("results/") for o in outputs)
    assert len(study.models) == sum(map(len, study.batches.values()))
    # every model's metrics directory, then a metric and a rank file per baseline and domain
    assert len(study.metric_outputs()) == len(study.models) + 2 * 2 * 2
    assert study.metric_outputs()[-4:] == [
        "results/metrics/baselines/MostPop/Video_Games.json",
        "results/metrics/baselines/MostPop/Video_Games.ranks.parquet",
        "results/metrics/baselines/Random/Video_Games.json",
        "results/metrics/baselines/Random/Video_Games.ranks.parquet",
    ]
    assert len(study.grid_outputs()) == 1 + 2 + 2 + 2 * 2 * 4 + 3 * (2 * 3 + 1)
    assert study.wildcard_constraints()["domain"] == "Books|Video_Games"
