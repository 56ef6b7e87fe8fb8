"""Benchmark: dry run of configs/amazon2023_qwen3.yaml with placeholder raw files.

    .venv/bin/python bench/bench_dryrun.py [--repeats 3]

Creates empty placeholder files for the six domains in a temporary raw directory and a placeholder
model directory, points a copy of the config at them, and times `snakemake --dry-run results/all` (whole command, best of N).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        config = yaml.safe_load((ROOT / "configs/amazon2023_qwen3.yaml").read_text())
        raw = work / "raw"
        raw.mkdir()
        for d in config["domains"]:
            (raw / f"{d}.csv.gz").touch()
            (raw / f"meta_{d}.jsonl.gz").touch()
        config["data"]["raw_dir"] = str(raw)
        model = work / "Qwen3-0.6B"  # placeholder for the user's local model directory
        model.mkdir()
        (model / "tokenizer.json").touch()  # an input of ingest (data.description_max_tokens)
        config["base"]["path"] = str(model)
        cfg = work / "config.yaml"
        cfg.write_text(yaml.safe_dump(config, sort_keys=False))
        snakemake = Path(sys.executable).with_name("snakemake")
        cmd = [str(snakemake), "-s", str(ROOT / "Snakefile"), "-d", str(work), "--dry-run"]
        cmd += ["results/all", "--configfile", str(cfg)]
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
            times.append(time.perf_counter() - t0)
        total = re.search(r"^total\s+(\d+)", proc.stdout, re.M)
        print(f"jobs: {total.group(1) if total else '?'}")
        print(f"dry run wall: best {min(times):.2f} s, all {[round(t, 2) for t in times]}")


if __name__ == "__main__":
    main()
