"""Benchmark: ingest one synthetic domain with >= 5M interactions (wall time, peak RSS).

    .venv/bin/python bench/bench_ingest.py [--users 420000 --items 250000] [--workdir DIR]

Generates the raw files once (cached in the work directory), then runs the ingestion in a fresh
subprocess (the way a Snakemake job runs it) with 2 threads and reports wall time and the child's
peak RSS, twice, and checks that both runs wrote byte-identical shards.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOMAIN = "Health_and_Household"
INGEST = """
import sys
from pathlib import Path
from mmgrid.data.ingest import IngestSettings, ingest_domain
from mmgrid.periods import periods_from_config
periods = periods_from_config({"periods": {
    "pretrain": ["2017-07-01", "2022-07-01"], "phase1": ["2022-07-01", "2022-10-01"],
    "phase2": ["2022-10-01", "2023-01-01"], "test": ["2023-01-01", "2023-04-01"]}})
settings = IngestSettings(periods=tuple(periods), kcore=5, description_max_chars=200,
    recency_days=(30, 90))
raw, out = Path(sys.argv[1]), Path(sys.argv[2])
domain = sys.argv[3]
stats = ingest_domain(domain, raw / f"{domain}.csv.gz", raw / f"meta_{domain}.jsonl.gz", settings,
    {p.name: out / f"{p.name}.parquet" for p in settings.periods}, out / "items.parquet",
    out / "stats.json")
print(stats["totals"])
"""


def digest(directory: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(directory.glob("*.parquet")):
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=420_000)  # ~5.7M interactions
    ap.add_argument("--items", type=int, default=250_000)
    ap.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "mmgrid-bench-ingest"
    )
    args = ap.parse_args()
    raw = args.workdir / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    ratings = raw / f"{DOMAIN}.csv.gz"
    if not ratings.exists():
        from mmgrid.data.synthetic import generate_domain, settings_from_config

        settings = settings_from_config({"n_users": args.users, "n_items": args.items}, DOMAIN)
        t0 = time.perf_counter()
        summary = generate_domain(
            DOMAIN,
            settings,
            0,
            ratings,
            raw / f"meta_{DOMAIN}.jsonl.gz",
            raw / f"{DOMAIN}.truth.json",
        )
        print(f"generated {summary} in {time.perf_counter() - t0:.1f} s")
    rows = sum(1 for _ in __import__("gzip").open(ratings, "rt")) - 1
    print(f"raw: {rows:,} interactions, {ratings.stat().st_size / 2**20:.1f} MiB gzipped")
    digests = []
    for run in (1, 2):
        out = args.workdir / f"out{run}"
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", INGEST, str(raw), str(out), DOMAIN], check=True)
        wall = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        digests.append(digest(out))
        print(
            json.dumps(
                {
                    "run": run,
                    "wall_s": round(wall, 1),
                    "peak_rss_mib": round(peak / 1024),
                    "peak_rss_grew": peak > before,
                    "shards_sha256": digests[-1],
                }
            )
        )
    print("byte-identical shards:", digests[0] == digests[1])


if __name__ == "__main__":
    main()
