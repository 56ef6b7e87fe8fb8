"""``mmgrid estimate``: the work and device hours of a run, before it runs.

Counts the samples and tokens of every training cell and the test queries of every evaluated
model exactly, with the jobs' own code, from what the working directory holds: samples files,
else period shards, else the raw files (ingested into a scratch directory, which takes the
ingest job's time). With a calibration row for the device kind and the base LLM's shape
(``mmgrid/estimate/calibration.csv``; refresh it with ``bench/calibrate.py``), it gives device
hours per rule and in total. Prints a summary and writes every cell and model to ``--csv``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mmgrid.errors import InputError


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--configfile",
        nargs="+",
        default=[],
        metavar="FILE",
        help="config files merged over the workflow's config.yaml, as snakemake --configfile",
    )
    parser.add_argument(
        "--directory", default=".", help="the run's working directory (holding results/)"
    )
    parser.add_argument(
        "--device-kind",
        help="estimate for this device kind, e.g. 'NVIDIA H200' (default: this machine's)",
    )
    parser.add_argument("--calibration", help="a calibration table (default: the package's)")
    parser.add_argument("--csv", help="write every cell and evaluated model to this CSV file")
    parser.add_argument(
        "--no-ingest",
        action="store_true",
        help="fail instead of ingesting raw files when a domain has no shards yet",
    )
    parser.add_argument(
        "--max-samples",
        type=int,
        help="tokenize at most this many samples per cell and scale (faster, an estimate)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the summary")


def run(args: argparse.Namespace) -> int:
    try:
        return _estimate(args)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _estimate(args: argparse.Namespace) -> int:
    from mmgrid.estimate.calibration import CALIBRATION, device_kind, model_key, read_rates
    from mmgrid.estimate.counts import count_work
    from mmgrid.estimate.report import estimate, format_table, summary, write_csv
    from mmgrid.study import Study
    from mmgrid.study.config import run_config_files

    if args.max_samples is not None and args.max_samples < 1:
        raise InputError(f"--max-samples must be >= 1, got {args.max_samples}")
    root = Path(args.directory)
    study = Study.from_config_files(run_config_files(root, args.configfile))
    device = args.device_kind or device_kind(study.config["device"])
    model = model_key(study.config, root)
    log = (lambda _: None) if args.quiet else print
    cells, models = count_work(
        study, root, ingest=not args.no_ingest, max_samples=args.max_samples, log=log
    )
    lines = estimate(cells, models, read_rates(args.calibration or CALIBRATION), device, model)
    if args.csv:
        write_csv(lines, args.csv)
    print(f"\ndevice kind: {device}\nbase LLM: {model}\n")
    print(format_table(summary(lines)))
    missing = sorted({f"{line.kind} {line.paradigm}" for line in lines if line.hours is None})
    if missing:
        print(
            f"\nno calibration for {', '.join(missing)} on this device kind and model: "
            "hours are n/a (measure them with bench/calibrate.py)"
        )
    if args.csv:
        print(f"\nwrote {len(lines)} cells and models to {args.csv}")
    return 0
