"""The positive and the negative control of the weight-vs-recency regression, across seeds.

    .venv/bin/python bench/bench_recency.py --seeds 0 1 2 \
        [--configs config.yaml configs/null_recency.yaml] [--base FILE] [--set key=value ...] \
        [--cores 2] [--keep DIR]

Each ``--configs`` file is read on top of the default ``config.yaml`` (and of ``--base``, when
given), as Snakemake reads ``--configfile`` files (``configs/null_recency.yaml`` holds only what
differs). ``--base configs/recency_demo.yaml --configs configs/recency_demo.yaml
configs/null_recency.yaml`` runs the demonstration and its negative control. For every config and
seed the whole pipeline runs in its own work directory (nothing is shared) with a copy of the
resulting config holding ``seed`` and the ``--set`` overrides (dotted keys, YAML
values): ``snakemake --cores N results/all``. From each run the script reads the regression
(``results/regression/weight_vs_recency.json``), the optimal weights and the comparison with
the baselines (``results/tables/{optimal_weights,baselines}.csv``) and prints Markdown tables:

- the regression per config and seed: pooled and per-paradigm slope, its bootstrap interval,
  Pearson r and p, and the run's wall time;
- λ* per (config, seed, paradigm, domain) with its bootstrap interval and the recency statistic;
- the last cells against MostPop per (config, seed, paradigm): ratio and difference with intervals;
- the recency bias (``tables/recency_bias.csv``): the last training period's cells against the
  previous period's on new and on old items, mean over domains with its interval, and in how
  many domains the intervals show a gain on new items and a loss on old ones;
- base model replacement (``tables/base_replacement.csv``): per cross-domain merge method, what
  merging with the base LLM loses against the domains' own cells, what the pooled task base as
  reference gains over that, and the share of the loss it recovers, with intervals;
- the verdicts: a config whose name contains ``null`` is the negative control (its pooled slope
  interval must contain 0 for every seed); any other is the positive control (pooled slope > 0
  with an interval above 0, and every paradigm's slope > 0, for every seed);
- with two seeds or more, the regression over all seeds together: every seed's (paradigm,
  domain) points in one fit, whose bootstrap resamples the (seed, domain) pairs, each a world
  draw of its own, with all their points, then gives each point a λ* drawn from its own
  bootstrap over selection users (``results/regression/weight_draws.csv``): two levels, as
  within a run, so conservative. A run without that file (made before it existed) makes the
  fit one level (each λ* taken as exact), which is slightly liberal; the table says which. A
  diagnostic of what the seeds show jointly (4 domains a seed resolve little on their own:
  bench/RESULTS.md, "The slope's interval"), not a verdict: after the verdicts, a line per
  config says whether its pooled interval lies above 0, contains 0 or lies below 0.

Work directories are removed unless ``--keep`` names where to leave them; a later call with
the same ``--keep`` brings the finished runs up to date (Snakemake reruns only what changed, e.g.
the analysis after its settings changed) instead of running them again.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from mmgrid.analysis.regression import X, Y, fit_points
from mmgrid.analysis.tables import ALL_DOMAINS
from mmgrid.study.config import load_config_files

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIGS = [ROOT / "config.yaml", ROOT / "configs" / "null_recency.yaml"]


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


def write_config(config: dict[str, Any], seed: int, work: Path) -> bool:
    """Write ``config`` with ``seed`` to ``work/config.yaml``; whether the file held it already."""
    cfg = work / "config.yaml"
    text = yaml.safe_dump({**config, "seed": seed}, sort_keys=False)
    same = cfg.is_file() and cfg.read_text() == text
    work.mkdir(parents=True, exist_ok=True)
    cfg.write_text(text)
    return same


def snakemake(work: Path, targets: list[str], cores: int) -> float:
    """Build ``targets`` in ``work`` with its ``config.yaml``; the wall time in seconds. A run
    stopped mid-job (a kept one) resumes: its incomplete files are built again."""
    cmd = [sys.executable, "-m", "snakemake", *targets, "-s", str(ROOT / "Snakefile")]
    cmd += ["-d", str(work), "--cores", str(cores), "--configfile", str(work / "config.yaml")]
    cmd += ["--rerun-incomplete"]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{work}: snakemake failed\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def stacked_config(path: Path | None, base: Path | None, settings: list[str]) -> dict[str, Any]:
    """The default ``config.yaml`` with ``base``, then ``path``, read on top (as Snakemake reads
    ``--configfile`` files), then the ``--set`` overrides."""
    stack = [ROOT / "config.yaml", *(f for f in (base, path) if f is not None)]
    files = dict.fromkeys(f.resolve() for f in stack)
    return with_overrides(load_config_files(list(files)), settings)


def run(config: dict[str, Any], seed: int, work: Path, cores: int) -> dict[str, Any]:
    """Run the pipeline for one seed in ``work``; its wall time and result files. A ``work``
    holding a finished run of the same config (``--keep`` of an earlier call) is brought up to
    date instead: Snakemake reruns only what changed (the analysis, after a change to its
    settings' defaults), and the wall time reported stays the first run's."""
    timing = work / "wall_seconds.txt"
    kept = write_config(config, seed, work) and (work / "results/all").is_file()
    seconds = snakemake(work, ["results/all"], cores)
    if kept:
        seconds = float(timing.read_text()) if timing.is_file() else None
    else:
        timing.write_text(f"{seconds:.1f}\n")
    results = work / "results"

    def table(name: str) -> list[dict[str, str]]:
        with open(results / f"tables/{name}.csv", newline="") as f:
            return list(csv.DictReader(f))

    return {
        "seconds": seconds,
        "regression": json.loads((results / "regression/weight_vs_recency.json").read_text()),
        "optimal": table("optimal_weights"),
        "baselines": table("baselines"),
        "recency_bias": table("recency_bias"),
        "base_replacement": table("base_replacement"),
        "weight_draws": weight_draws(results / "regression/weight_draws.csv"),
    }


def weight_draws(path: Path) -> dict[tuple[str, str], np.ndarray] | None:
    """Each (paradigm, domain)'s λ* bootstrap draws; None when the run has no such file."""
    if not path.is_file():
        return None
    frame = pd.read_csv(path).sort_values("draw", kind="stable")
    return {
        (paradigm, domain): group[Y].to_numpy()
        for (paradigm, domain), group in frame.groupby(["paradigm", "domain"], sort=False)
    }


def _f(value: Any, fmt: str = "+.2f") -> str:
    return "n/a" if value in (None, "") else format(float(value), fmt)


def _minutes(result: dict[str, Any]) -> str:
    """The run's wall time in minutes (n/a for a kept run that did not record it)."""
    return _f(result["seconds"] and result["seconds"] / 60, ".1f")


def regression_rows(name: str, seed: int, result: dict[str, Any]) -> list[str]:
    doc = result["regression"]
    rows = []
    for group, fit in {"pooled": doc["pooled"], **doc["per_paradigm"]}.items():
        lo, hi = fit.get("slope_ci") or (None, None)
        rows.append(
            f"| {name} | {seed} | {group} | {fit['n']} | {_f(fit['slope'])} | "
            f"[{_f(lo)}, {_f(hi)}] | {_f(fit['pearson_r'])} | {_f(fit['p_value'], '.3f')} | "
            f"{_minutes(result)} |"
        )
    return rows


def weight_rows(name: str, seed: int, result: dict[str, Any]) -> list[str]:
    return [
        f"| {name} | {seed} | {r['paradigm']} | {r['domain']} | {_f(r['recency'], '.3f')} | "
        f"{_f(r['weight_optimal'], '.2f')} | [{_f(r['weight_ci_low'], '.2f')}, "
        f"{_f(r['weight_ci_high'], '.2f')}] | {_f(r['weight_argmax'], '.1f')} |"
        for r in result["optimal"]
    ]


def baseline_rows(name: str, seed: int, result: dict[str, Any]) -> list[str]:
    return [
        f"| {name} | {seed} | {r['paradigm']} | {_f(r['model_value'], '.4f')} | "
        f"{_f(r['baseline_value'], '.4f')} | {_f(r['ratio'], '.2f')} [{_f(r['ratio_ci_low'], '.2f')}, "
        f"{_f(r['ratio_ci_high'], '.2f')}] | {_f(r['difference'], '+.4f')} "
        f"[{_f(r['difference_ci_low'], '+.4f')}, {_f(r['difference_ci_high'], '+.4f')}] |"
        for r in result["baselines"]
        if r["baseline"] == "MostPop" and r["domain"] == "mean over domains"
    ]


def _interval(row: dict[str, str], name: str, fmt: str = "+.3f") -> str:
    """A table value with its interval: ``value [low, high]``."""
    low, high = row[f"{name}_ci_low"], row[f"{name}_ci_high"]
    return f"{_f(row[name], fmt)} [{_f(low, fmt)}, {_f(high, fmt)}]"


def _below(row: dict[str, str], name: str) -> bool:
    return row[f"{name}_ci_high"] not in ("", None) and float(row[f"{name}_ci_high"]) < 0


def _above(row: dict[str, str], name: str) -> bool:
    return row[f"{name}_ci_low"] not in ("", None) and float(row[f"{name}_ci_low"]) > 0


def recency_bias_rows(name: str, seed: int, result: dict[str, Any]) -> list[str]:
    """Per paradigm (``tables/recency_bias.csv``): the latest period's cells minus the previous
    period's on old and on new items, mean over domains with its interval, and in how many
    domains the interval shows the bias (loss on old items below 0, gain on new ones above)."""
    split = result["regression"]["new_items"]["split"]
    rows = []
    for paradigm in sorted({r["paradigm"] for r in result["recency_bias"]}):
        at = {
            (r["domain"], r["items"]): r
            for r in result["recency_bias"]
            if r["paradigm"] == paradigm
        }
        domains = sorted({d for d, _ in at} - {ALL_DOMAINS})
        both = sum(
            _below(at[(d, "old")], "difference") and _above(at[(d, "new")], "difference")
            for d in domains
        )
        mean_old, mean_new = at[(ALL_DOMAINS, "old")], at[(ALL_DOMAINS, "new")]
        rows.append(
            f"| {name} | {seed} | {paradigm} | {mean_old['model']} vs "
            f"{mean_old['previous_model']} | {split} | {_interval(mean_new, 'difference')} | "
            f"{_interval(mean_old, 'difference')} | {both} of {len(domains)} |"
        )
    return rows


def cross_domain_rows(name: str, seed: int, result: dict[str, Any]) -> list[str]:
    """Per paradigm and merge method (``tables/base_replacement.csv``, mean over domains): what
    merging with the base LLM loses against the domains' own cells, what the pooled task base
    as reference gains over it, and the share of the loss it recovers, with intervals."""
    return [
        f"| {name} | {seed} | {r['paradigm']} | {r['method']} | {_interval(r, 'loss')} | "
        f"{_interval(r, 'gain')} | {_interval(r, 'recovered', '+.2f')} |"
        for r in result["base_replacement"]
        if r["domain"] == ALL_DOMAINS
    ]


def seeds_together(name: str, results: dict[int, dict[str, Any]]) -> tuple[list[str], str]:
    """The pooled and per-paradigm fits over every seed's points, resampling (seed, domain)
    pairs, then each point's λ* draws where every run has them (see the module docstring):
    table rows, and a line saying where the pooled interval lies."""
    points = pd.DataFrame(
        [
            {
                "paradigm": r["paradigm"],
                "domain": f"{seed}/{r['domain']}",
                X: float(r["recency"]),
                Y: float(r["weight_optimal"]),
            }
            for seed, result in results.items()
            for r in result["optimal"]
            if r["recency"] not in ("", None) and r["weight_optimal"] not in ("", None)
        ]
    )
    samples = None
    if all(result["weight_draws"] is not None for result in results.values()):
        samples = {
            (paradigm, f"{seed}/{domain}"): draws
            for seed, result in results.items()
            for (paradigm, domain), draws in result["weight_draws"].items()
        }
    pooled, per_paradigm = fit_points(
        points, bootstrap=2000, confidence=0.95, seed=0, weight_samples=samples
    )
    seeds = " ".join(str(seed) for seed in results)
    rows = []
    for group, fit in {"pooled": pooled, **per_paradigm}.items():
        chosen = points if group == "pooled" else points[points["paradigm"] == group]
        lo, hi = fit["slope_ci"] or (None, None)
        rows.append(
            f"| {name} | {seeds} | {group} | {fit['n']} | {chosen['domain'].nunique()} | "
            f"{_f(fit['slope'])} | [{_f(lo)}, {_f(hi)}] | {fit['bootstrap_levels']} |"
        )
    lo, hi = pooled["slope_ci"] or (None, None)
    where = (
        "has no interval"
        if lo is None
        else "lies above 0"
        if lo > 0
        else "lies below 0"
        if hi < 0
        else "contains 0"
    )
    reading = (
        f"- {name}, seeds {seeds} together (a diagnostic, not the control): the pooled "
        f"interval {where}, {_f(pooled['slope'])} [{_f(lo)}, {_f(hi)}]; bootstrap: "
        f"{pooled['bootstrap_levels']}"
    )
    return rows, reading


def verdict(name: str, results: dict[int, dict[str, Any]]) -> str:
    """Whether the config passes its control (see the module docstring)."""
    fails = []
    for seed, result in results.items():
        doc = result["regression"]
        lo, hi = doc["pooled"].get("slope_ci") or (None, None)
        if "null" in name:
            if lo is None or not lo <= 0 <= hi:
                fails.append(f"seed {seed}: interval [{_f(lo)}, {_f(hi)}] excludes 0")
        else:
            slope = doc["pooled"]["slope"]
            if slope is None or slope <= 0 or lo is None or lo <= 0:
                fails.append(f"seed {seed}: pooled {_f(slope)} [{_f(lo)}, {_f(hi)}]")
            for paradigm, fit in doc["per_paradigm"].items():
                if fit["slope"] is None or fit["slope"] <= 0:
                    fails.append(f"seed {seed}: {paradigm} slope {_f(fit['slope'])}")
    kind = "negative" if "null" in name else "positive"
    return f"- {name} ({kind} control): " + (
        "passes" if not fails else "FAILS: " + "; ".join(fails)
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--configs", type=Path, nargs="+", default=DEFAULT_CONFIGS)
    ap.add_argument("--base", type=Path, default=None, help="read under every --configs file")
    ap.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--keep", type=Path, default=None, help="leave the work directories here")
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="mmgrid-recency-"))
    results: dict[str, dict[int, dict[str, Any]]] = {}
    try:
        for path in args.configs:
            config = stacked_config(path, args.base, args.settings)
            name = path.stem
            for seed in args.seeds:
                results.setdefault(name, {})[seed] = run(
                    config, seed, root / f"{name}-seed{seed}", args.cores
                )
                print(f"{name} seed {seed}: {_minutes(results[name][seed])} min", flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    tables = (
        ("fit | n | slope | 95 % CI | Pearson r | p | run (min)", regression_rows),
        ("paradigm | domain | recency | λ* | 95 % CI | grid argmax", weight_rows),
        (
            "paradigm | last cells | MostPop | ratio [95 % CI] | difference [95 % CI]",
            baseline_rows,
        ),
        (
            "paradigm | cells | item split | Δ on new items [95 % CI] | Δ on old items [95 % CI] "
            "| domains whose intervals show the bias",
            recency_bias_rows,
        ),
        (
            "paradigm | method | loss, reference base [95 % CI] | gain, reference pooled "
            "[95 % CI] | share of the loss recovered [95 % CI]",
            cross_domain_rows,
        ),
    )
    for columns, rows in tables:
        header = f"config | seed | {columns}"
        print(f"\n| {header} |\n|{'---|' * (header.count('|') + 1)}")
        for name, by_seed in results.items():
            for seed, result in by_seed.items():
                print("\n".join(rows(name, seed, result)))
    together = {name: seeds_together(name, s) for name, s in results.items() if len(s) > 1}
    if together:
        print(
            "\n| config | seeds | fit, all seeds together | points | world draws (seed, domain) "
            "| slope | 95 % CI | bootstrap resamples |\n|---|---|---|---|---|---|---|---|"
        )
        for rows, _ in together.values():
            print("\n".join(rows))
    print()
    for name, by_seed in results.items():
        print(verdict(name, by_seed))
    for _, reading in together.values():
        print(reading)


if __name__ == "__main__":
    main()
