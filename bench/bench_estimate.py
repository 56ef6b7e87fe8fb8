"""Check ``mmgrid estimate`` against a finished run: its counts against what the jobs recorded,
and its device seconds (from the calibration table) against the jobs' wall times.

Usage: .venv/bin/python bench/bench_estimate.py --run DIR [--configfile FILE ...]
       [--table mmgrid/estimate/calibration.csv] [--device-kind KIND]

Prints, per rule and paradigm, the estimated and the measured seconds (Snakemake's
``benchmark:`` files) and their ratio, and how many cells and models were counted exactly.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--configfile", nargs="+", default=[])
    parser.add_argument("--table", default=None)
    parser.add_argument("--device-kind", default=None)
    args = parser.parse_args()

    from mmgrid.estimate.calibration import (
        CALIBRATION,
        device_kind,
        job_seconds,
        model_key,
        read_rates,
    )
    from mmgrid.estimate.counts import count_work
    from mmgrid.estimate.report import estimate, rule_of
    from mmgrid.study import Study
    from mmgrid.study.config import run_config_files

    run = Path(args.run)
    study = Study.from_config_files(run_config_files(run, args.configfile))
    config = study.config
    cells, models = count_work(study, run, ingest=False, log=lambda _: None)
    device = args.device_kind or device_kind(config["device"])
    rates = read_rates(args.table or CALIBRATION)
    lines = estimate(cells, models, rates, device, model_key(config, run))

    exact = 0
    for c in cells:
        checkpoint = run / study.paths.checkpoint(c.paradigm, c.domain, c.period)
        recorded = json.loads((checkpoint / "train.json").read_text())
        t = recorded["training"]
        exact += (t["input_tokens"], t["trained_tokens"]) == (c.input_tokens, c.trained_tokens)
    for m in models:
        folder = run / study.paths.metrics(m.paradigm, m.model)
        exact += m.queries == sum(
            json.loads(f.read_text())["n_users"] for f in folder.glob("*.json")
        )
    print(f"counted exactly: {exact} of {len(cells) + len(models)} cells and models")

    estimated: dict[tuple[str, str], float] = defaultdict(float)
    for line in lines:
        estimated[(rule_of(line), line.paradigm)] += (line.hours or 0.0) * 3600
    measured: dict[tuple[str, str], float] = defaultdict(float)
    for c in cells:
        tsv = run / study.paths.benchmark("train", c.paradigm, c.domain, c.period)
        measured[(c.rule, c.paradigm)] += job_seconds(tsv)
    for paradigm, batch in sorted({(m.paradigm, m.batch) for m in models}):
        tsv = run / study.paths.benchmark("evaluate", paradigm, batch)
        measured[(f"evaluate_{paradigm}_*", paradigm)] += job_seconds(tsv)
    print(f"device kind: {device}\n")
    print("| rule | paradigm | estimated s | measured s | estimated / measured |")
    print("| --- | --- | --- | --- | --- |")
    for key in sorted(measured):
        ratio = estimated[key] / measured[key]
        print(
            f"| {key[0]} | {key[1]} | {estimated[key]:,.0f} | {measured[key]:,.0f} | {ratio:.2f} |"
        )
    total_e, total_m = sum(estimated.values()), sum(measured.values())
    print(f"| total | | {total_e:,.0f} | {total_m:,.0f} | {total_e / total_m:.2f} |")


if __name__ == "__main__":
    main()
