"""Run Snakemake on this repository's workflow from tests and read what it planned or did."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
TINY = ROOT / "tests" / "config.tiny.yaml"
# files that record wall times (everything else of a rerun must be byte-identical)
NONDETERMINISTIC = {"report.json", "train.json", "train_log.csv", "merge.json"}
# every deterministic output of a run, by folder under results/
RESULT_FOLDERS = (
    "raw",
    "shards",
    "items",
    "stats",
    "samples",
    "index",
    "checkpoints",
    "merged",
    "metrics",
    "tables",
    "regression",
    "figures",
)


def command(workdir: Path, *args: str, configfile: Path | None = None) -> list[str]:
    """The Snakemake command line for the workflow in ``workdir`` (default config: the
    repository's config.yaml)."""
    cmd = [str(SNAKEMAKE), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir)]
    # --configfile takes several values: keep it last so it cannot swallow targets
    return [*cmd, *args, "--configfile", str(configfile or ROOT / "config.yaml")]


ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONHASHSEED": "0"}


def snakemake(
    workdir: Path,
    *args: str,
    configfile: Path | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the workflow's Snakefile in ``workdir`` (default config: the repository's config.yaml;
    ``env``: extra environment variables)."""
    proc = subprocess.run(
        command(workdir, *args, configfile=configfile),
        capture_output=True,
        text=True,
        env={**ENV, **(env or {})},
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def planned_jobs(workdir: Path, *targets: str, configfile: Path | None = None) -> Counter[str]:
    """Jobs per rule that a dry run would execute (empty when there is nothing to do); the
    per-batch evaluation rules are counted together as ``evaluate``."""
    proc = snakemake(workdir, "--dry-run", *targets, configfile=configfile)
    text = proc.stdout + proc.stderr
    counts: Counter[str] = Counter()
    table = re.search(r"Job stats:\n(.*?)\n\n", text, re.S)
    if table is None:
        assert "Nothing to be done" in text, text
        return counts
    for line in table.group(1).splitlines()[2:]:
        rule, n = line.split()
        if rule != "total":
            # evaluation rules are one per batch of models (evaluate_{paradigm}_{batch})
            counts["evaluate" if rule.startswith("evaluate_") else rule] += int(n)
    return counts


def copy_run(run: Path, tmp_path: Path) -> Path:
    """A copy of a finished run (modification times and Snakemake's records kept)."""
    work = tmp_path / "copy"
    shutil.copytree(run, work, symlinks=True)
    return work


def assert_same_outputs(run: Path, other: Path) -> None:
    """Every deterministic output file of ``run`` exists in ``other`` with the same bytes."""
    for sub in RESULT_FOLDERS:
        for f in (run / "results" / sub).rglob("*"):
            if f.is_file() and f.name not in NONDETERMINISTIC:
                twin = other / f.relative_to(run)
                assert f.read_bytes() == twin.read_bytes(), f
