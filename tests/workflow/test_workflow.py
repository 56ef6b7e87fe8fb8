"""Workflow tests: schema validation, dry-run job counts, a real tiny run, reruns and the manifest."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
import yaml

from mmgrid.manifest import sha256_file
from tests.workflow.smk import ROOT, planned_jobs, snakemake

TINY = ROOT / "tests" / "config.tiny.yaml"
pytestmark = pytest.mark.workflow


def test_schema_rejects_unknown_key_before_any_job(tmp_path):
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["domians"] = config.pop("domains")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    proc = snakemake(tmp_path, "--dry-run", configfile=bad, check=False)
    assert proc.returncode != 0
    assert "'domians' was unexpected" in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()


def test_schema_rejects_bad_enum(tmp_path):
    proc = snakemake(tmp_path, "--dry-run", "--config", "kcore=0", check=False)
    assert proc.returncode != 0
    assert "kcore" in proc.stdout + proc.stderr


def test_dry_run_default_config(tmp_path):
    jobs = planned_jobs(tmp_path, configfile=ROOT / "config.yaml")
    n = len(yaml.safe_load((ROOT / "config.yaml").read_text())["domains"])
    assert n >= 4
    assert jobs == {"synthetic_domain": n, "ingest": n, "data_summary": 1, "all": 1}


def amazon_config(tmp_path: Path, placeholders: bool = True) -> Path:
    config = yaml.safe_load((ROOT / "configs" / "amazon2023_qwen3.yaml").read_text())
    raw = tmp_path / "raw"
    raw.mkdir()
    if placeholders:
        for d in config["domains"]:
            (raw / f"{d}.csv.gz").write_bytes(b"")
            (raw / f"meta_{d}.jsonl.gz").write_bytes(b"")
    config["data"]["raw_dir"] = str(raw)
    path = tmp_path / "amazon.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_dry_run_amazon2023_config(tmp_path):
    jobs = planned_jobs(tmp_path, configfile=amazon_config(tmp_path))
    assert jobs == {"ingest": 6, "data_summary": 1, "all": 1}


def test_amazon2023_missing_files_are_named(tmp_path):
    proc = snakemake(
        tmp_path, "--dry-run", configfile=amazon_config(tmp_path, placeholders=False), check=False
    )
    assert proc.returncode != 0
    assert "Books.csv.gz" in proc.stdout + proc.stderr


def test_slurm_profile_dry_run(tmp_path):
    proc = snakemake(tmp_path, "--profile", str(ROOT / "profiles" / "slurm"), "--dry-run")
    assert "ingest" in proc.stdout


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("tiny")
    snakemake(work, "--cores", "2", "results/all", configfile=TINY)
    return work


def test_tiny_run_writes_every_stage(tiny_run):
    config = yaml.safe_load(TINY.read_text())
    for domain in config["domains"]:
        for period in ("pretrain", "phase1", "phase2", "test"):
            assert (tiny_run / f"results/shards/{domain}/{period}.parquet").is_file()
        assert (tiny_run / f"results/raw/{domain}.truth.json").is_file()
    assert (tiny_run / "results/figures/interaction_ratio.png").stat().st_size > 10_000


def test_manifest_lists_every_output_with_checksums(tiny_run):
    manifest = json.loads((tiny_run / "results/all").read_text())
    listed = {a["path"]: a for a in manifest["artefacts"]}
    expected = {
        p.relative_to(tiny_run).as_posix()
        for sub in ("shards", "items", "stats", "tables", "figures")
        for p in (tiny_run / "results" / sub).rglob("*")
        if p.is_file()
    }
    assert set(listed) == expected
    for path, entry in listed.items():
        assert entry["sha256"] == sha256_file(tiny_run / path)
    assert len(manifest["provenance"]["config_sha256"]) == 64


def test_second_dry_run_has_nothing_to_do(tiny_run):
    assert planned_jobs(tiny_run, "results/all", configfile=TINY) == {}


def test_rerun_is_byte_identical(tiny_run, tmp_path):
    snakemake(tmp_path, "--cores", "2", "results/all", configfile=TINY)
    for sub in ("raw", "shards", "items", "stats"):
        for f in (tiny_run / "results" / sub).rglob("*"):
            if f.is_file():
                twin = tmp_path / f.relative_to(tiny_run)
                assert f.read_bytes() == twin.read_bytes(), f


def test_changing_one_raw_file_reruns_only_that_domain(tiny_run, tmp_path):
    work = tmp_path / "copy"
    shutil.copytree(tiny_run, work, symlinks=True)
    raw = work / "results/raw/Books.csv.gz"
    with gzip.open(raw, "rt") as f:
        lines = f.read().splitlines()
    with gzip.open(raw, "wt") as f:
        f.write("\n".join(lines[:-1]) + "\n")  # drop one interaction
    jobs = planned_jobs(work, "results/all", configfile=TINY)
    assert jobs == {"ingest": 1, "data_summary": 1, "all": 1}
    proc = snakemake(work, "--dry-run", "results/all", configfile=TINY)
    assert "results/stats/Books.json" in proc.stdout
    assert "results/stats/Video_Games.json" not in proc.stdout.split("rule data_summary")[0]
