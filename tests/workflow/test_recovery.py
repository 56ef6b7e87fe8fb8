"""Nothing lost, nothing silently wrong, on the tiny run: a reordered config plans nothing, a
deleted or corrupted artefact is noticed (by `snakemake all`, by `mmgrid verify`), a failed
forced job leaves no up-to-date target behind, and a run killed mid-training reruns to the same
bytes with no temporary left."""

from __future__ import annotations

import os
import random
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from mmgrid.cli import main
from mmgrid.temporaries import PREFIX
from tests.study.test_config_checks import permuted
from tests.workflow.smk import (
    ENV,
    NONDETERMINISTIC,
    TINY,
    command,
    copy_run,
    planned_jobs,
    snakemake,
)

pytestmark = pytest.mark.workflow


def same_config_spelled_out() -> dict:
    """The tiny config with the schema defaults that are lists or mappings written out (so
    that their order can be permuted too): the same config for the workflow."""
    config = yaml.safe_load(TINY.read_text())
    config["paradigms"] = ["title", "semid"]
    config["periods"] = {
        "pretrain": ["2017-07-01", "2022-07-01"],
        "phase1": ["2022-07-01", "2022-10-01"],
        "phase2": ["2022-10-01", "2023-01-01"],
        "test": ["2023-01-01", "2023-04-01"],
    }
    config["data"]["recency_days"] = [30, 90]
    return config


def test_reordering_every_order_free_list_and_mapping_plans_nothing(tiny_run, tmp_path):
    for seed in (None, 1):  # every list and mapping reversed, then shuffled
        path = tmp_path / f"permuted{seed}.yaml"
        config = permuted(same_config_spelled_out(), seed and random.Random(seed))
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        assert planned_jobs(tiny_run, "all", configfile=path) == {}, path.read_text()


def verify(work: Path, capsys) -> tuple[int, str]:
    code = main(["verify", "--directory", str(work)])
    return code, capsys.readouterr().out


def planned_by(work: Path, printed: str) -> dict[str, int]:
    """Jobs that the printed rebuild command would run (as a dry run, with the tiny config)."""
    args = shlex.split(printed.split("rebuild: ", 1)[1].splitlines()[0])
    assert args[:2] == ["snakemake", "all"]
    return planned_jobs(work, *args[1:], configfile=TINY)


def test_a_deleted_checkpoint_is_rebuilt_by_all_and_reported_by_verify(tiny_run, tmp_path, capsys):
    work = copy_run(tiny_run, tmp_path)
    assert verify(work, capsys)[0] == 0
    shutil.rmtree(work / "results/checkpoints/title/Books/phase1")
    # Snakemake reruns a job for a missing file only when a target needs it: the manifest file
    # alone does not notice; the target `all`, which names every artefact, does
    assert planned_jobs(work, "results/all", configfile=TINY) == {}
    rebuilt = {"train": 2, "merge": 6, "evaluate": 3, "analysis": 1, "manifest": 1, "all": 1}
    assert planned_jobs(work, "all", configfile=TINY) == rebuilt
    code, out = verify(work, capsys)
    assert code == 1
    assert "missing: results/checkpoints/title/Books/phase1\n" in out
    assert "--forcerun results/checkpoints/title/Books/phase1" in out
    assert planned_by(work, out)["train"] == 2


def test_a_corrupted_metric_file_is_reported_with_its_rebuild_command(tiny_run, tmp_path, capsys):
    work = copy_run(tiny_run, tmp_path)
    metric = work / "results/metrics/title/Books-phase1/Books.json"
    metric.write_text(metric.read_text()[:40])
    assert planned_jobs(work, "all", configfile=TINY) == {}  # a file inside a directory output
    code, out = verify(work, capsys)
    assert code == 1 and "results/metrics/title/Books-phase1/Books.json" in out
    assert "--forcerun results/metrics/title/Books-phase1\n" in out
    assert planned_by(work, out) == {"evaluate": 1, "analysis": 1, "manifest": 1, "all": 1}


def test_a_failed_forced_analysis_leaves_all_to_do(tiny_run, tmp_path, capsys):
    work = copy_run(tiny_run, tmp_path)
    (work / "results/metrics/title/Books-phase1/Books.json").write_text("{")
    proc = snakemake(
        work, "--cores", "1", "--forcerun", "analysis", "all", configfile=TINY, check=False
    )
    assert proc.returncode != 0  # correctly: a metric file is broken
    assert not (work / "results/tables/cells.csv").exists()  # Snakemake removed the outputs
    assert planned_jobs(work, "all", configfile=TINY) == {"analysis": 1, "manifest": 1, "all": 1}
    code, out = verify(work, capsys)
    assert code == 1 and "missing: results/tables/cells.csv" in out


def temporaries_under(root: Path) -> list[Path]:
    return [p for p in root.rglob(f"{PREFIX}*")]


def test_a_run_killed_mid_training_reruns_to_the_same_bytes(tiny_run, tmp_path):
    work = copy_run(tiny_run, tmp_path)
    cells = work / "results/checkpoints/title/Books"
    shutil.rmtree(cells)
    target = "results/checkpoints/title/Books/phase2"  # the chain pretrain -> phase1 -> phase2
    run = subprocess.Popen(
        command(work, "--cores", "1", target, configfile=TINY),
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # one process group: Snakemake and its job
    )
    deadline = time.monotonic() + 300
    while not temporaries_under(cells) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # inside the training loop
    assert run.poll() is None, "the run ended before it could be killed"
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    left = temporaries_under(cells)
    assert left and not (cells / "phase2").exists()  # what a killed job leaves behind

    snakemake(work, "--unlock", configfile=TINY)
    snakemake(work, "--cores", "1", target, configfile=TINY)
    for cell in ("pretrain", "phase1", "phase2"):
        for f in sorted((tiny_run / "results/checkpoints/title/Books" / cell).iterdir()):
            if f.name not in NONDETERMINISTIC:
                assert (cells / cell / f.name).read_bytes() == f.read_bytes(), f
    assert not temporaries_under(work / "results")
