"""Refresh the calibration table of ``mmgrid estimate`` (mmgrid/estimate/calibration.csv).

Two sources of rows, keyed by device kind, the base LLM's shape and the rule:

- ``--run DIR``: a finished run of the workflow in working directory DIR on this machine (its
  Snakemake ``benchmark:`` files): per paradigm, training jobs fitted as overhead + seconds per
  input token, evaluation jobs as overhead + seconds per model + seconds per query;
- ``--gpu-results FILE``: the ``gpu_results.json`` that ``bench/gpu_bench.sh`` writes
  (throughputs of the training and evaluation benchmarks on a GPU, Qwen3-0.6B shape).

Usage: .venv/bin/python bench/calibrate.py --run DIR [--configfile FILE ...]
       python bench/calibrate.py --gpu-results FILE
       [--table mmgrid/estimate/calibration.csv] [--device-kind KIND]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def from_run(args) -> list:
    from mmgrid.estimate.calibration import device_kind, fit_to_run, model_key
    from mmgrid.estimate.counts import count_work
    from mmgrid.study import Study
    from mmgrid.study.config import run_config_files

    run = Path(args.run)
    study = Study.from_config_files(run_config_files(run, args.configfile))
    config = study.config
    cells, models = count_work(study, run, ingest=False, log=lambda _: None)
    device = args.device_kind or device_kind(config["device"])
    files = " ".join(f"--configfile {c}" for c in args.configfile)
    source = f"bench/calibrate.py --run DIR {files} ({dt.date.today()})".replace("  ", " ")
    return fit_to_run(run, cells, models, device, model_key(config, run), source)


def from_gpu_results(args) -> list:
    """Rows from the ``calibration`` part of bench/bench_gpu.py's JSON: the packed training
    throughput for both chat paradigms, the static backend's queries/s per paradigm measured,
    and the fresh-process import time as every job's overhead."""
    from mmgrid.estimate.calibration import Rate

    c = json.loads(Path(args.gpu_results).read_text())["calibration"]
    source = f"bench/gpu_bench.sh ({c['date']})"
    overhead = c["job_overhead_s"] or 0.0
    rates = []
    if c["train"]["tokens_per_s"]:
        for paradigm in ("title", "semid"):
            per_token = 1 / c["train"]["tokens_per_s"]
            note = f"{source}; {c['train']['what']}; overhead: imports"
            rule = f"train_{paradigm}"
            rates.append(
                Rate(c["device"], c["model"], rule, overhead, 0.0, per_token, "input token", note)
            )
    for paradigm, e in c["evaluate"].items():
        note = f"{source}; {e['what']}; overhead: imports; model loading not measured"
        rule = f"evaluate_{paradigm}"
        per_query = 1 / e["queries_per_s"]
        rates.append(
            Rate(
                c["device"], c["model"], rule, overhead, e["per_model_s"], per_query, "query", note
            )
        )
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", help="working directory of a finished run")
    source.add_argument("--gpu-results", help="gpu_results.json of bench/gpu_bench.sh")
    parser.add_argument("--configfile", nargs="+", default=[], help="the run's config files")
    parser.add_argument("--device-kind", help="override the device kind of --run rows")
    parser.add_argument("--table", default=None, help="calibration table to update")
    args = parser.parse_args()

    from mmgrid.estimate.calibration import CALIBRATION, write_rates

    rates = from_run(args) if args.run else from_gpu_results(args)
    table = Path(args.table) if args.table else CALIBRATION
    write_rates(rates, table)
    for r in rates:
        units = {"query": "queries"}.get(r.unit, f"{r.unit}s")
        rate = f"{1 / r.s_per_unit:,.1f} {units}/s" if r.s_per_unit else "no per-unit cost"
        print(
            f"{r.device} | {r.model} | {r.rule}: {r.overhead_s:.2f} s per job + "
            f"{r.per_model_s:.2f} s per model + {rate}"
        )
    print(f"updated {table}")


if __name__ == "__main__":
    main()
