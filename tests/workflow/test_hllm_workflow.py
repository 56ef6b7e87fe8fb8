"""The hllm paradigm through the whole grid on a tiny config: chain, merges, evaluation, analysis."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.workflow.smk import ROOT, planned_jobs, snakemake

pytestmark = pytest.mark.workflow
DOMAINS = ("Books", "Video_Games")


@pytest.fixture(scope="module")
def hllm_run(tmp_path_factory) -> tuple[Path, Path]:
    config = yaml.safe_load((ROOT / "tests" / "config.tiny.yaml").read_text())
    config["paradigms"] = ["hllm"]
    config["hllm"] = {"max_items": 5, "num_negatives": 32, "max_text_tokens": 24}
    config["merges"]["cross_domain"]["methods"] = ["linear", "ties"]
    work = tmp_path_factory.mktemp("hllm")
    path = work / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    snakemake(work, "--cores", "2", "results/all", configfile=path)
    return work, path


def test_every_hllm_model_is_evaluated(hllm_run):
    work, path = hllm_run
    models = [
        *(f"{d}-{p}" for d in DOMAINS for p in ("pretrain", "phase1", "phase2")),
        "pooled-pretrain",
        "cross-phase2-Books+Video_Games-linear",
        "cross-phase2-Books+Video_Games-ties-ref_base",
        "cross-phase2-Books+Video_Games-ties-ref_pooled",
        *(f"temporal-{d}-phase1+phase2-linear-w{w}" for d in DOMAINS for w in ("0.00", "0.50")),
    ]
    for model in models:
        folder = work / "results/metrics/hllm" / model
        # cells and sweeps serve their domain; the pooled base and the pair's merges both
        domains = [d for d in DOMAINS if d in model] or list(DOMAINS)
        for domain in domains:
            metrics = json.loads((folder / f"{domain}.json").read_text())
            assert metrics["paradigm"] == "hllm"
            assert metrics["n_users"] > 0
            assert 0.0 <= metrics["metrics"]["recall@10"] <= 1.0
    assert planned_jobs(work, "results/all", configfile=path) == {}


def test_hllm_chain_and_merges_are_real(hllm_run):
    from mmgrid.hllm import load_hllm

    work, _ = hllm_run
    cells = work / "results/checkpoints/hllm/Books"
    # each cell starts from the previous one; the first from the base LLM turned into an HLLM
    assert json.loads((cells / "phase1/train.json").read_text())["init"] == "../pretrain"
    pretrain_init = json.loads((cells / "pretrain/train.json").read_text())["init"]
    assert Path(pretrain_init).parts[-2:] == ("base", "hllm")
    average, _ = load_hllm(
        work / "results/merged/hllm/temporal-Books-phase1+phase2-linear-w0.50", "cpu"
    )
    phase1, _ = load_hllm(cells / "phase1", "cpu")
    phase2, _ = load_hllm(cells / "phase2", "cpu")
    a, b, m = phase1.state_dict(), phase2.state_dict(), average.state_dict()
    assert set(m) == set(a)
    for name in a:
        assert m[name].float().allclose((a[name].float() + b[name].float()) / 2, atol=1e-6)


def test_analysis_covers_hllm(hllm_run):
    work, _ = hllm_run
    optimal = pd.read_csv(work / "results/tables/optimal_weights.csv")
    assert sorted(optimal["domain"]) == list(DOMAINS)
    assert set(optimal["paradigm"]) == {"hllm"}
    cells = pd.read_csv(work / "results/tables/cells.csv")
    assert set(cells["paradigm"]) == {"hllm", "baselines"}
    assert set(cells.loc[cells["kind"] == "baseline", "model"]) == {"MostPop", "Random"}


def test_estimate_counts_the_hllm_runs_sequences_and_queries(hllm_run, tmp_path):
    from mmgrid.cli import main

    work, _ = hllm_run  # its config.yaml is the run's config
    out = tmp_path / "estimate.csv"
    assert main(["estimate", "--directory", str(work), "--csv", str(out), "--quiet"]) == 0
    frame = pd.read_csv(out)
    cells = frame[frame["kind"] == "cell"]
    assert len(cells) == 2 * 3 + 1
    for row in cells.itertuples():
        recorded = json.loads((work / f"results/checkpoints/{row.name}/train.json").read_text())
        assert row.samples == recorded["sequences"] + recorded["heldout_sequences"], row.name
        assert row.examples == recorded["sequences"], row.name
        assert row.steps == recorded["training"]["steps"], row.name
    for row in frame[frame["kind"] == "model"].itertuples():
        folder = work / "results/metrics/hllm" / row.name
        assert row.queries == sum(
            json.loads(f.read_text())["n_users"] for f in folder.glob("*.json")
        )
