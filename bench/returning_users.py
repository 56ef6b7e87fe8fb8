"""Two cells of one domain compared on the test users who were active in the later cell's
training period and on the others: does the later cell win because it was trained on the very
users it is tested on?

    .venv/bin/python bench/returning_users.py RESULTS_DIR [--old phase1] [--new phase2]
        [--metric ndcg@10]

``RESULTS_DIR`` is a finished run's ``results/``. Prints one Markdown row per (paradigm, domain).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from mmgrid.evaluate.metrics import user_values
from mmgrid.study.layout import Layout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", help="a finished run's results/ directory")
    ap.add_argument("--old", default="phase1")
    ap.add_argument("--new", default="phase2")
    ap.add_argument("--metric", default="ndcg@10")
    args = ap.parse_args()
    layout = Layout(root=args.results)
    print(
        f"| paradigm | domain | users active in {args.new}: n, {args.old} cell, {args.new} cell "
        f"| other users: n, {args.old} cell, {args.new} cell |\n|---|---|---|---|"
    )
    for paradigm_dir in sorted(Path(layout.metrics_root).iterdir()):
        paradigm = paradigm_dir.name
        for new_dir in sorted(paradigm_dir.glob(f"*-{args.new}")):
            domain = new_dir.name.removesuffix(f"-{args.new}")
            if domain == "pooled" or not Path(layout.shard(domain, args.new)).exists():
                continue
            old_dir = Path(layout.metrics(paradigm, f"{domain}-{args.old}"))
            old, new = (pd.read_parquet(d / f"{domain}.ranks.parquet") for d in (old_dir, new_dir))
            if not old["user_id"].equals(new["user_id"]):
                raise SystemExit(f"{old_dir} and {new_dir} rank different users")
            active = old["user_id"].isin(pd.read_parquet(layout.shard(domain, args.new))["user_id"])
            cells = [user_values(r["rank"].to_numpy(), args.metric) for r in (old, new)]
            parts = [
                f"{int(m.sum())}, {cells[0][m].mean():.3f}, {cells[1][m].mean():.3f}"
                for m in (active.to_numpy(), ~active.to_numpy())
            ]
            print(f"| {paradigm} | {domain} | {parts[0]} | {parts[1]} |")


if __name__ == "__main__":
    main()
