"""Where the later cell's edge comes from: a domain's test users split into groups, with the two
cells and the temporal sweep between them scored on each group.

    .venv/bin/python bench/user_groups.py RESULTS_DIR [--by activity|target] [--old phase1]
        [--new phase2] [--metric ndcg@10]

``RESULTS_DIR`` is a finished run's ``results/``. ``--by activity`` (the default) splits the
users into those active in the later cell's training period and the others: does the later
cell win because it was trained on the very users it is tested on? ``--by target`` splits them
by where their target item occurs in the two periods' shards (in both, only in the later, only
in the earlier, in neither): which users pull the sweep's best weight up or down?

Prints one Markdown row per (paradigm, domain, group): its users (n and share), the metric of
the two cells, and, where the run has the linear sweep between them, the grid weight that
scores best on the group (``flat`` where every weight scores the same, e.g. no hit at all) with
the metric along the sweep. All users of the evaluation are scored (selection and report users
alike).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import pandas as pd

from mmgrid.analysis.user_groups import activity_groups, target_groups
from mmgrid.evaluate.metrics import user_values
from mmgrid.study.layout import Layout


def sweep(layout: Layout, paradigm: str, domain: str, old: str, new: str) -> dict[float, Path]:
    """The linear temporal sweep's rank files by weight (empty without a sweep)."""
    pattern = re.compile(rf"temporal-{re.escape(domain)}-{old}\+{new}-linear-w([0-9.]+)")
    found = {}
    for d in Path(layout.metrics_root, paradigm).iterdir():
        match = pattern.fullmatch(d.name)
        if match:
            found[float(match.group(1))] = d / f"{domain}.ranks.parquet"
    return dict(sorted(found.items()))


def shard_column(layout: Layout, domain: str, period: str, column: str) -> list[str]:
    """One column of a period shard."""
    return pd.read_parquet(layout.shard(domain, period), columns=[column])[column].tolist()


def read_ranks(path: Path, users: pd.Series) -> np.ndarray:
    """The float ranks of ``path`` (NaN = not ranked), checked to be of ``users`` in order."""
    frame = pd.read_parquet(path)
    if not frame["user_id"].equals(users):
        raise SystemExit(f"{path} ranks other users than the cells' rank files")
    return frame["rank"].to_numpy(dtype=np.float64)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", help="a finished run's results/ directory")
    ap.add_argument("--by", choices=("activity", "target"), default="activity")
    ap.add_argument("--old", default="phase1")
    ap.add_argument("--new", default="phase2")
    ap.add_argument("--metric", default="ndcg@10")
    args = ap.parse_args()
    layout = Layout(root=args.results)
    print(
        f"| paradigm | domain | group | users (share) | {args.old} cell | {args.new} cell "
        f"| best weight | {args.metric} along the sweep |\n|---|---|---|---|---|---|---|---|"
    )
    for paradigm_dir in sorted(Path(layout.metrics_root).iterdir()):
        paradigm = paradigm_dir.name
        for new_dir in sorted(paradigm_dir.glob(f"*-{args.new}")):
            domain = new_dir.name.removesuffix(f"-{args.new}")
            if domain == "pooled" or not Path(layout.shard(domain, args.new)).exists():
                continue
            cells = pd.read_parquet(new_dir / f"{domain}.ranks.parquet")
            users = cells["user_id"]
            old_dir = Path(layout.metrics(paradigm, f"{domain}-{args.old}"))
            ranks = [read_ranks(old_dir / f"{domain}.ranks.parquet", users)]
            ranks.append(cells["rank"].to_numpy(dtype=np.float64))
            weights = sweep(layout, paradigm, domain, args.old, args.new)
            swept = [read_ranks(p, users) for p in weights.values()]
            groups = (
                activity_groups(
                    users.tolist(), shard_column(layout, domain, args.new, "user_id"), args.new
                )
                if args.by == "activity"
                else target_groups(
                    cells["item_id"].tolist(),
                    shard_column(layout, domain, args.old, "item_id"),
                    shard_column(layout, domain, args.new, "item_id"),
                    args.old,
                    args.new,
                )
            )
            for name, mask in groups.items():
                if not mask.any():
                    continue
                old_v, new_v = (user_values(r[mask], args.metric).mean() for r in ranks)
                curve = [user_values(r[mask], args.metric).mean() for r in swept]
                flat = not curve or max(curve) == min(curve)
                best = "flat" if flat else f"{list(weights)[int(np.argmax(curve))]:g}"
                along = " ".join(f"{v:.3f}" for v in curve)
                print(
                    f"| {paradigm} | {domain} | {name} | {int(mask.sum())} ({mask.mean():.2f}) "
                    f"| {old_v:.3f} | {new_v:.3f} | {best} | {along} |"
                )


if __name__ == "__main__":
    main()
