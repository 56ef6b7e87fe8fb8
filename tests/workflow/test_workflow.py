"""Workflow tests: schema validation, dry-run job counts, a real tiny run, reruns and the manifest."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from mmgrid.manifest import sha256_file
from tests.workflow.smk import (
    ROOT,
    TINY,
    assert_same_outputs,
    copy_run,
    planned_jobs,
    snakemake,
)

pytestmark = pytest.mark.workflow


def test_schema_rejects_unknown_key_before_any_job(tmp_path):
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["domians"] = config.pop("domains")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    proc = snakemake(tmp_path, "--dry-run", configfile=bad, check=False)
    assert proc.returncode != 0
    assert "config key domians: unknown key" in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()


def test_schema_rejects_bad_enum(tmp_path):
    proc = snakemake(tmp_path, "--dry-run", "--config", "kcore=0", check=False)
    assert proc.returncode != 0
    assert "kcore" in proc.stdout + proc.stderr


def grid_jobs(
    n_domains: int, merges: int, families: int, paradigms: int = 2, periods: int = 4, hllm=False
) -> dict[str, int]:
    """Jobs of a full run: per domain data and index, per cell samples (hllm trains on the
    shards) and training, merges, and per paradigm one evaluation job per batch (a domain's
    cells, the pooled task base, and each merge family: a cross-domain set or a temporal sweep)."""
    lm_paradigms = paradigms - hllm
    return {
        "merge": merges,
        "evaluate": paradigms * (n_domains + 1 + families),
        "baselines": n_domains,
        "ingest": n_domains,
        "data_summary": 1,
        "item_index": n_domains,
        "paradigm_base": 1 + hllm,  # semid's (and hllm's)
        "samples": lm_paradigms * n_domains * periods,
        "train": paradigms * n_domains * (periods - 1),
        "train_pooled": paradigms,
        "analysis": 1,
        "manifest": 1,
        "all": 1,
    }


def test_dry_run_default_config(tmp_path):
    jobs = planned_jobs(tmp_path, configfile=ROOT / "config.yaml")
    n = len(yaml.safe_load((ROOT / "config.yaml").read_text())["domains"])
    assert n >= 4
    # merges: 2 pairs x (title: linear + 2 methods x 2 references = 5; semid: 5 per source = 10)
    # + temporal: 4 domains x 5 weights x 2 paradigms; families: 2 pairs + 4 sweeps
    assert jobs == {"synthetic_domain": n, "base": 1, **grid_jobs(n, 2 * 15 + 4 * 5 * 2, 2 + 4)}


def amazon_config(tmp_path: Path, placeholders: bool = True) -> Path:
    config = yaml.safe_load((ROOT / "configs" / "amazon2023_qwen3.yaml").read_text())
    raw = tmp_path / "raw"
    raw.mkdir()
    if placeholders:
        for d in config["domains"]:
            (raw / f"{d}.csv.gz").write_bytes(b"")
            (raw / f"meta_{d}.jsonl.gz").write_bytes(b"")
    config["data"]["raw_dir"] = str(raw)
    model = tmp_path / "Qwen3-0.6B"  # the user's local model directory (a placeholder here)
    model.mkdir()
    (model / "tokenizer.json").write_text("{}")  # read by ingest (data.description_max_tokens)
    config["base"]["path"] = str(model)
    path = tmp_path / "amazon.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_dry_run_amazon2023_config(tmp_path):
    config = amazon_config(tmp_path)
    jobs = planned_jobs(tmp_path, configfile=config)
    # 15 pairs x (title and hllm: linear 1 + extrapolate 2 sources + ties, mask x 2 references
    # = 7; semid per source: 1 + 1 + 2 + 2 = 6, x 2) + 6 domains x 11 weights x 3 paradigms
    assert jobs == grid_jobs(6, 15 * 26 + 6 * 11 * 3, 15 + 6, paradigms=3, hllm=True)
    planned = snakemake(tmp_path, "--dry-run", configfile=config).stdout
    merged = set(re.findall(r"results/merged/(\w+)/(\S+)", planned))
    pair = "cross-phase2-Books+Video_Games"
    assert {
        ("title", f"{pair}-extrapolate-src_Books"),
        ("title", f"{pair}-ties-ref_pooled"),
        ("semid", f"{pair}-mask_merging-ref_base-src_Video_Games"),
    } <= merged
    assert not any("task_arithmetic" in name for _, name in merged)


def test_gpu_jobs_get_the_configured_gpu_resources(tmp_path):
    proc = snakemake(tmp_path, "--dry-run", configfile=amazon_config(tmp_path))
    jobs = re.findall(r"\nrule (\w+):.*?resources: ([^\n]*)", proc.stdout, re.S)
    gpu = {rule for rule, res in jobs if "slurm_partition=gpu" in res}
    assert {"train", "train_pooled", "evaluate_hllm_cells_Books"} <= gpu
    assert all(("gpu=1" in res) == (rule in gpu) for rule, res in jobs), jobs


def test_amazon2023_missing_files_are_named(tmp_path):
    proc = snakemake(
        tmp_path, "--dry-run", configfile=amazon_config(tmp_path, placeholders=False), check=False
    )
    assert proc.returncode != 0
    assert "Books.csv.gz" in proc.stdout + proc.stderr


def test_slurm_profile_groups_short_jobs_into_fewer_submissions(tmp_path):
    profile = str(ROOT / "profiles" / "slurm")
    planned = snakemake(tmp_path, "--profile", profile, "--dry-run", "all", configfile=TINY).stdout
    # a submission is a group job or an ungrouped rule but the local rules manifest and all
    groups = Counter(re.findall(r"Group job (\w+) ", planned))
    rules = re.findall(r"^rule (\w+):", planned, re.M)
    single = sorted(r for r in rules if r not in ("manifest", "all"))
    assert re.search(r"^total +77$", planned, re.M)
    # per domain its data jobs and baselines; per paradigm and domain the training chain with its cells'
    # evaluation, per paradigm the pooled task base with its evaluation; per merge family its
    # merges with their evaluation
    assert groups == {"data": 2, "train": 2 * 2 + 2, "merges": 2 * 3}
    assert single == ["analysis", "base", "data_summary", "paradigm_base"]
    # without groups every one of the 75 cluster jobs is a submission of its own
    ungrouped = snakemake(
        tmp_path, "--profile", profile, "--dry-run", "all", "--config", "job_groups=[]",
        configfile=TINY,
    ).stdout  # fmt: skip
    assert "Group job" not in ungrouped
    assert len(re.findall(r"^rule \w+:", ungrouped, re.M)) == 75 + 2


def test_tiny_run_writes_every_stage(tiny_run):
    config = yaml.safe_load(TINY.read_text())
    for domain in config["domains"]:
        for period in ("pretrain", "phase1", "phase2", "test"):
            assert (tiny_run / f"results/shards/{domain}/{period}.parquet").is_file()
            for paradigm in ("title", "semid"):
                assert (
                    tiny_run / f"results/samples/{paradigm}/{domain}/{period}.parquet"
                ).is_file()
        assert (tiny_run / f"results/raw/{domain}.truth.json").is_file()
        assert (tiny_run / f"results/index/{domain}/semantic_ids.parquet").is_file()
    assert (tiny_run / "results/figures/interaction_ratio.png").stat().st_size > 10_000
    for cell in ("title/Books/phase2", "semid/Video_Games/phase1", "semid/pooled/pretrain"):
        summary = json.loads((tiny_run / f"results/checkpoints/{cell}/train.json").read_text())
        assert summary["heldout_loss_after"] < summary["heldout_loss_before"]
    phase1 = json.loads(
        (tiny_run / "results/checkpoints/semid/Books/phase1/train.json").read_text()
    )
    assert phase1["init"] == "../pretrain"


def test_merged_models_load_and_semid_keeps_the_source_domains_id_rows(tiny_run):
    from transformers import AutoModelForCausalLM

    from mmgrid.merge.grid_job import semantic_id_rows

    merged = (
        tiny_run / "results/merged/semid/cross-phase2-Books+Video_Games-ties-ref_pooled-src_Books"
    )
    model = AutoModelForCausalLM.from_pretrained(merged)
    books = AutoModelForCausalLM.from_pretrained(
        tiny_run / "results/checkpoints/semid/Books/phase2"
    )
    games = AutoModelForCausalLM.from_pretrained(
        tiny_run / "results/checkpoints/semid/Video_Games/phase2"
    )
    start, end = semantic_id_rows(tiny_run / "results/base/semid")
    rows = model.get_input_embeddings().weight[start:end]
    assert rows.equal(books.get_input_embeddings().weight[start:end])
    assert not rows.equal(games.get_input_embeddings().weight[start:end])
    other = model.get_input_embeddings().weight[:start]
    assert not other.equal(books.get_input_embeddings().weight[:start])  # the rest is merged
    linear = tiny_run / "results/merged/title/temporal-Books-phase1+phase2-linear-w1.00"
    phase2 = tiny_run / "results/checkpoints/title/Books/phase2"
    a = AutoModelForCausalLM.from_pretrained(linear).state_dict()
    b = AutoModelForCausalLM.from_pretrained(phase2).state_dict()
    assert all(a[k].equal(b[k]) for k in b)  # weight 1 on the later period = that checkpoint


def test_changing_one_domains_weight_grid_reruns_only_its_merges(tiny_run, tmp_path):
    work = copy_run(tiny_run, tmp_path)
    config = yaml.safe_load(TINY.read_text())
    config["merges"]["temporal"]["domains"] = {"Books": {"weights": [0.0, 0.25, 0.5, 1.0]}}
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(config, sort_keys=False))
    jobs = planned_jobs(work, "results/all", configfile=edited)
    assert jobs == {"merge": 2, "evaluate": 2, "analysis": 1, "manifest": 1}
    proc = snakemake(work, "--dry-run", "results/all", configfile=edited)
    planned = re.findall(r"wildcards: paradigm=\w+, spec=(\S+)", proc.stdout)
    assert sorted(planned) == ["temporal-Books-phase1+phase2-linear-w0.25"] * 2


def test_manifest_lists_every_output_with_checksums(tiny_run):
    manifest = json.loads((tiny_run / "results/all").read_text())
    listed = {a["path"]: a for a in manifest["artefacts"]}
    expected = {
        p.relative_to(tiny_run).as_posix()
        for sub in (
            "shards",
            "items",
            "stats",
            "tables",
            "figures",
            "base",
            "index",
            "samples",
            "checkpoints",
            "merged",
            "metrics",
            "regression",
        )
        for p in (tiny_run / "results" / sub).rglob("*")
        if p.is_file() and p.name != ".snakemake_timestamp"
    }
    assert set(listed) == expected
    for path, entry in listed.items():
        assert entry["sha256"] == sha256_file(tiny_run / path)
    assert len(manifest["provenance"]["config_sha256"]) == 64


def test_every_model_has_metric_files_for_its_domains(tiny_run):
    import pyarrow.parquet as pq

    expected = {
        "title/Books-phase2": ["Books"],
        "semid/Video_Games-pretrain": ["Video_Games"],
        "title/pooled-pretrain": ["Books", "Video_Games"],
        "title/cross-phase2-Books+Video_Games-ties-ref_pooled": ["Books", "Video_Games"],
        "semid/cross-phase2-Books+Video_Games-linear-src_Video_Games": ["Video_Games"],
        "semid/temporal-Books-phase1+phase2-linear-w0.50": ["Books"],
    }
    for model, domains in expected.items():
        folder = tiny_run / "results/metrics" / model
        assert sorted(p.name for p in folder.glob("*.json")) == [f"{d}.json" for d in domains]
        for domain in domains:
            metrics = json.loads((folder / f"{domain}.json").read_text())
            assert set(metrics["metrics"]) == {
                f"{m}@{k}" for m in ("recall", "ndcg", "mrr") for k in (5, 10)
            }
            ranks = pq.read_table(folder / f"{domain}.ranks.parquet")
            assert ranks.num_rows == metrics["n_users"] > 0
    # the baselines: the same test users and targets as the models
    models = pq.read_table(tiny_run / "results/metrics/title/Books-phase2/Books.ranks.parquet")
    for baseline in ("MostPop", "Random"):
        folder = tiny_run / "results/metrics/baselines" / baseline
        for domain in ("Books", "Video_Games"):
            metrics = json.loads((folder / f"{domain}.json").read_text())
            assert metrics["n_users"] > 0 and metrics["n_unranked"] == 0  # a full ranking
        ranks = pq.read_table(folder / "Books.ranks.parquet")
        assert ranks.column("user_id").to_pylist() == models.column("user_id").to_pylist()
        assert ranks.column("item_id").to_pylist() == models.column("item_id").to_pylist()
    # the cell evaluated on its own domain = the temporal merge with weight 1 on that period
    a = json.loads((tiny_run / "results/metrics/semid/Books-phase2/Books.json").read_text())
    b = json.loads(
        (
            tiny_run / "results/metrics/semid/temporal-Books-phase1+phase2-linear-w1.00/Books.json"
        ).read_text()
    )
    assert a["metrics"] == b["metrics"]


def test_analysis_tables_regression_and_figures(tiny_run):
    import pandas as pd

    from mmgrid.study.layout import Layout

    for path in (tiny_run / p for p in Layout().analysis().paths()):
        assert path.is_file() and path.stat().st_size > 0, path
    optimal = pd.read_csv(tiny_run / "results/tables/optimal_weights.csv")
    assert sorted(zip(optimal["paradigm"], optimal["domain"], strict=True)) == [
        (p, d) for p in ("semid", "title") for d in ("Books", "Video_Games")
    ]
    assert optimal["weight_nearest"].isin([0.0, 0.5, 1.0]).all()
    assert optimal["weight_optimal"].between(0.0, 1.0).all()
    assert (optimal["weight_ci_low"] <= optimal["weight_ci_high"]).all()
    baselines = pd.read_csv(tiny_run / "results/tables/baselines.csv")
    assert set(baselines["baseline"]) == {"MostPop", "Random"}
    assert set(baselines["domain"]) == {"Books", "Video_Games", "mean over domains"}
    regression = json.loads((tiny_run / "results/regression/weight_vs_recency.json").read_text())
    assert regression["pooled"]["n"] == 4
    assert regression["selection"]["protocol"] == "valid"
    cells = pd.read_csv(tiny_run / "results/tables/cells.csv")
    assert len(cells[cells["kind"] == "cell"]) == 2 * 2 * 3
    assert len(cells[cells["kind"] == "baseline"]) == 2 * 2


def test_report_command_succeeds(tiny_run, tmp_path):
    work = copy_run(tiny_run, tmp_path)
    snakemake(work, "--report", "results/report.html", configfile=TINY)
    html = (work / "results/report.html").read_text(errors="replace")
    assert "weight_vs_recency.png" in html and "cells.csv" in html


def test_changing_k_reruns_only_the_metric_jobs(tiny_run, tmp_path):
    work = copy_run(tiny_run, tmp_path)
    config = yaml.safe_load(TINY.read_text())
    config["evaluate"]["k"] = [1, 5, 10]
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(config, sort_keys=False))
    jobs = planned_jobs(work, "results/all", configfile=edited)
    # every evaluation batch (per paradigm 2 domains' cells, the pooled base, 1 pair, 2 sweeps)
    # and the analysis that reads them
    assert jobs == {"evaluate": 2 * (2 + 1 + 1 + 2), "baselines": 2, "analysis": 1, "manifest": 1}


def test_second_dry_run_has_nothing_to_do(tiny_run):
    assert planned_jobs(tiny_run, "results/all", configfile=TINY) == {}


def test_rerun_is_byte_identical(tiny_run, tmp_path):
    snakemake(tmp_path, "--cores", "2", "results/all", configfile=TINY)
    assert_same_outputs(tiny_run, tmp_path)


def test_changing_one_raw_file_reruns_only_that_domains_data_jobs(tiny_run, tmp_path):
    work = copy_run(tiny_run, tmp_path)
    raw = work / "results/raw/Books.csv.gz"
    with gzip.open(raw, "rt") as f:
        lines = f.read().splitlines()
    with gzip.open(raw, "wt") as f:
        f.write("\n".join(lines[:-1]) + "\n")  # drop one interaction
    data_targets = ["results/tables/domain_stats.csv", "results/stats/Video_Games.json"]
    jobs = planned_jobs(work, *data_targets, configfile=TINY)
    assert jobs == {"ingest": 1, "data_summary": 1}
    proc = snakemake(work, "--dry-run", *data_targets, configfile=TINY)
    assert "results/stats/Books.json" in proc.stdout
    assert "wildcards: domain=Video_Games" not in proc.stdout


def test_changing_one_domains_learning_rate_reruns_only_its_cells(tiny_run, tmp_path):
    work = copy_run(tiny_run, tmp_path)
    config = yaml.safe_load(TINY.read_text())
    config["train"]["domains"] = {"Books": {"lr": 3.0e-3}}
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(config, sort_keys=False))
    jobs = planned_jobs(work, "results/all", configfile=edited)
    # Books' cells, the merges that read them (cross-domain: title 3, semid 6; temporal 2 x 3),
    # and per paradigm the evaluation batches of those: Books' cells, the pair, Books' sweep
    assert jobs == {"train": 2 * 3, "merge": 15, "evaluate": 2 * 3, "analysis": 1, "manifest": 1}
    proc = snakemake(work, "--dry-run", "results/all", configfile=edited)
    assert "domain=Video_Games" not in proc.stdout


def test_spreading_the_id_rows_reruns_only_the_semid_half(tiny_run, tmp_path):
    work = copy_run(tiny_run, tmp_path)
    config = yaml.safe_load(TINY.read_text())
    config.setdefault("index", {})["token_init_noise"] = 1.0
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(config, sort_keys=False))
    jobs = planned_jobs(work, "results/all", configfile=edited)
    # the semid base, its 2 domains' chains of 3 cells and its pooled base, every semid merge
    # (6 cross-domain, 2 sweeps of 3 weights) and evaluation batch (2 domains' cells, the pooled
    # base, the pair, 2 sweeps); no item index, samples or title job
    assert jobs == {
        "paradigm_base": 1,
        "train": 6,
        "train_pooled": 1,
        "merge": 12,
        "evaluate": 6,
        "analysis": 1,
        "manifest": 1,
    }
    proc = snakemake(work, "--dry-run", "results/all", configfile=edited)
    assert "paradigm=title" not in proc.stdout


def test_chains_from_the_pooled_task_base_retrain_every_cell_but_not_the_pooled_bases(
    tiny_run, tmp_path
):
    work = copy_run(tiny_run, tmp_path)
    config = yaml.safe_load(TINY.read_text())
    config["chain_start"] = "pooled"
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(config, sort_keys=False))
    jobs = planned_jobs(work, "results/all", configfile=edited)
    # every chain (2 paradigms x 2 domains x 3 periods), every merge (title 3 cross-domain and
    # 2 sweeps of 3, semid 6 and 2 x 3) and every evaluation batch but the pooled bases'
    assert jobs == {"train": 12, "merge": 21, "evaluate": 10, "analysis": 1, "manifest": 1}
    proc = snakemake(work, "--dry-run", "results/all", configfile=edited)
    first = re.search(
        r"input: (.*)\n\s+output: results/checkpoints/semid/Books/pretrain\n", proc.stdout
    )
    assert first is not None and first.group(1).startswith(
        "results/checkpoints/semid/pooled/pretrain"
    )


def test_estimate_before_any_job_predicts_the_tiny_runs_tokens_and_queries(tiny_run, tmp_path):
    """`mmgrid estimate` in an empty directory (it generates, ingests and trains the tokenizer as
    the jobs would) predicts exactly what the run's training and evaluation jobs recorded."""
    import pandas as pd

    from mmgrid.cli import main

    out = tmp_path / "estimate.csv"
    args = ["estimate", "--configfile", str(TINY), "--directory", str(tmp_path), "--csv", str(out)]
    assert main([*args, "--quiet"]) == 0
    assert not (tmp_path / "results").exists()  # nothing written into the working directory
    frame = pd.read_csv(out)
    cells = frame[frame["kind"] == "cell"]
    assert len(cells) == 2 * 2 * 3 + 2
    for row in cells.itertuples():
        recorded = json.loads((tiny_run / f"results/checkpoints/{row.name}/train.json").read_text())
        training = recorded["training"]
        assert row.samples == recorded["examples"] + recorded["heldout_examples"], row.name
        assert row.examples == recorded["examples"], row.name
        assert row.steps == training["steps"], row.name
        assert row.input_tokens == training["input_tokens"], row.name
        assert row.trained_tokens == training["trained_tokens"], row.name
    models = frame[frame["kind"] == "model"]
    metrics = [
        p for p in (tiny_run / "results/metrics").glob("*/*") if p.parent.name != "baselines"
    ]
    assert len(models) == len(metrics)
    for row in models.itertuples():
        folder = tiny_run / "results/metrics" / row.paradigm / row.name
        users = [json.loads(f.read_text())["n_users"] for f in folder.glob("*.json")]
        assert len(users) == len(row.domains.split("+"))
        assert row.queries == sum(users), row.name
