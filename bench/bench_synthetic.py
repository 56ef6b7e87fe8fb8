"""Benchmark: generate one synthetic domain at benchmark scale; report time, peak RSS, sizes.

Usage: python bench/bench_synthetic.py [--domain D] [--users N] [--items M] [--out DIR]
The defaults write about 5M interactions. Numbers go to bench/SYNTHETIC.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from mmgrid.data.synthetic import generate_domain, settings_from_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domain", default="Health_and_Household")
    parser.add_argument("--users", type=int, default=420_000)
    parser.add_argument("--items", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch)
        settings = settings_from_config({"n_users": args.users, "n_items": args.items}, args.domain)
        paths = [
            out / f"{args.domain}.csv.gz",
            out / f"meta_{args.domain}.jsonl.gz",
            out / f"{args.domain}.truth.json",
        ]
        before = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        summary = generate_domain(args.domain, settings, args.seed, *paths)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        result = {
            "domain": args.domain,
            "users": args.users,
            "items": args.items,
            "interactions_written": summary["interactions"],
            "users_written": summary["users"],
            "items_written": summary["items"],
            "wall_s": round(wall, 2),
            "interactions_per_s": round(summary["interactions"] / wall),
            "cpu_s": round(cpu, 2),
            "peak_rss_mib": round(after.ru_maxrss / 1024, 1),  # ru_maxrss is in KiB on Linux
            "rss_before_mib": round(before.ru_maxrss / 1024, 1),
            "file_mib": {p.name: round(p.stat().st_size / 2**20, 2) for p in paths},
            "python": sys.version.split()[0],
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
