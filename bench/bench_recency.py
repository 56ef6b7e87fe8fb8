"""How stable is the weight-vs-recency regression? The whole pipeline, once per seed.

    .venv/bin/python bench/bench_recency.py --seeds 0 1 2 [--config config.yaml]
        [--set train.epochs=6 ...] [--cores 2] [--keep DIR]

Each seed gets its own work directory (nothing is shared between seeds) and a copy of the
config with ``seed`` and the ``--set`` overrides (dotted keys, YAML values); the script runs
``snakemake --cores N results/all`` there and reads
``results/regression/weight_vs_recency.json``. It prints, per seed, the pooled and
per-paradigm slope, Pearson r, its p-value and the bootstrap interval of the slope, and the
wall time of the run. Work directories are removed unless ``--keep`` names where to leave them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def with_overrides(config: dict[str, Any], settings: list[str]) -> dict[str, Any]:
    """``config`` with each ``dotted.key=value`` of ``settings`` set (value parsed as YAML)."""
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set {item!r}: expected dotted.key=value")
        node = config
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    return config


def run_seed(config: dict[str, Any], seed: int, work: Path, cores: int) -> tuple[float, dict]:
    """Run the pipeline for one seed in ``work``; (wall seconds, regression document)."""
    work.mkdir(parents=True)
    cfg = work / "config.yaml"
    cfg.write_text(yaml.safe_dump({**config, "seed": seed}, sort_keys=False))
    cmd = [sys.executable, "-m", "snakemake", "results/all", "-s", str(ROOT / "Snakefile")]
    cmd += ["-d", str(work), "--cores", str(cores), "--configfile", str(cfg)]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"seed {seed}: snakemake failed\n{done.stderr[-3000:]}")
    return seconds, json.loads((work / "results/regression/weight_vs_recency.json").read_text())


def row(seed: int, seconds: float, name: str, fit: dict) -> str:
    lo, hi = fit.get("slope_ci") or (float("nan"), float("nan"))
    return (
        f"| {seed} | {name} | {fit['n']} | {fit['slope']:+.2f} | [{lo:+.2f}, {hi:+.2f}] | "
        f"{fit['pearson_r']:+.2f} | {fit['p_value']:.2f} | {seconds / 60:.1f} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--config", type=Path, default=ROOT / "config.yaml")
    ap.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--keep", type=Path, default=None, help="leave the work directories here")
    args = ap.parse_args()
    config = with_overrides(yaml.safe_load(args.config.read_text()), args.settings)
    root = args.keep or Path(tempfile.mkdtemp(prefix="mmgrid-recency-"))
    print("| seed | fit | n | slope | 95 % CI | Pearson r | p | run (min) |")
    print("|---|---|---|---|---|---|---|---|")
    try:
        for seed in args.seeds:
            seconds, doc = run_seed(config, seed, root / f"seed{seed}", args.cores)
            fits = {"pooled": doc["pooled"], **doc["per_paradigm"]}
            for name, fit in fits.items():
                print(row(seed, seconds, name, fit), flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
