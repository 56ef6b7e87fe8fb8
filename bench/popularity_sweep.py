"""Does the data carry the planted recency? The temporal sweep of a popularity recommender.

    .venv/bin/python bench/popularity_sweep.py RUN_DIR [RUN_DIR ...]
    .venv/bin/python bench/popularity_sweep.py --build DIR --seeds 20 21 ... \
        [--base configs/recency_demo.yaml] [--set data.synthetic.KEY=VALUE ...] [--cores 2]

``RUN_DIR`` holds a run's ``config.yaml`` (the whole config, seed included, as
``bench/bench_recency.py --keep`` leaves it) and its ``results/`` with at least the shards, the
item tables and the statistics (``snakemake ... results/stats/{domain}.json`` for every domain
is enough; a finished run adds its models' λ* for comparison). ``--build DIR`` makes such
directories itself, ``DIR/seed{S}`` for each ``--seeds``: the config is the default
``config.yaml`` with ``--base`` read on top and the ``--set`` overrides (as
``bench/bench_recency.py`` builds its configs), and only the data are built (statistics and
item tables with their shards; no model). A directory built before is brought up to date, so
a world variant is one command: e.g. ``--set data.synthetic.burst_rate=0``.

For each domain the popularity analogue of the linear temporal merge ranks every catalogue item
by ``(1 - λ) share_old + λ share_new`` (an item's share of the interactions of the two merged
periods; λ > 1 extrapolates as the linear merge does; the user's history excluded:
:func:`mmgrid.evaluate.baselines.blend_orders`) on the run's own test users, at every weight of
the run's temporal grid. λ* and its interval come from the analysis's estimator on the run's
selection users, and the weight-vs-recency slope from the analysis's two-level bootstrap, so
every number is read as the analysis reads the models'. No model is involved: this asks
whether the world plants an effect that a recommender which only counts could find, which
bounds what the merged models can show. It is a diagnostic of the data, not the positive
control (that must come from real merges of trained models).

The same counts give the popularity analogue of the recency-bias table: on the report users,
the older period's popularity (λ = 0) against the later period's (λ = 1) on targets that are old
and new items, split as the analysis splits them (``analysis.new_items``, relative to the later
merged period). A loss on old items with a gain on new ones says the data plant forgetting that a
recommender trained on the later period alone shows.

Prints one Markdown row per (run, domain), one per run with the slope, and one per (run,
domain) with the recency-bias analogue.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from bench_recency import snakemake, stacked_config, write_config

from mmgrid.analysis.inputs import read_first_seen, read_stats, recency_statistic
from mmgrid.analysis.optimal import WeightEstimate, bootstrap_weight
from mmgrid.analysis.regression import fit_line
from mmgrid.analysis.scores import new_item_mask, new_item_split
from mmgrid.analysis.settings import AnalysisSettings, settings_from_config
from mmgrid.analysis.split import split_masks
from mmgrid.evaluate.baselines import blend_orders, draw_test_targets, ordered_ranks
from mmgrid.evaluate.metrics import user_values
from mmgrid.items.index import read_items
from mmgrid.periods import evaluation_period, periods_from_config
from mmgrid.samples.sequences import load_sequences
from mmgrid.seeding import derive_seed
from mmgrid.study.layout import Layout


@dataclass(frozen=True)
class DomainSweep:
    """The popularity sweep of one domain."""

    recency: float
    estimate: WeightEstimate
    n_selection: int
    bias: dict[str, tuple[float, float, int]] | None
    """Per target slice (``old``, ``new``): the report users' metric at λ = 0 and at λ = 1 and
    their number; None when the grid lacks 0 or 1."""


def domain_sweep(
    config: dict[str, Any], layout: Layout, domain: str, settings: AnalysisSettings
) -> DomainSweep:
    """The popularity sweep on one domain (see the module docstring)."""
    periods = {p.name: p for p in periods_from_config(config)}
    test = evaluation_period(config)
    old, new = (periods[name] for name in config["merges"]["temporal"]["periods"])
    weights = [float(w) for w in config["merges"]["temporal"]["weights"]]
    seed = int(config["seed"])
    shards = [layout.shard(domain, name) for name in periods]
    items_path = layout.item_table(domain)
    missing = [f for f in [*shards, items_path, layout.stats(domain)] if not Path(f).is_file()]
    if missing:
        raise SystemExit(
            f"{missing[0]} is missing; build the data first, in the run's directory: snakemake "
            f"--cores 2 --configfile config.yaml results/stats/{domain}.json "
            f"results/items/{domain}.parquet"
        )
    seqs = load_sequences(shards)
    item_ids = read_items(items_path)["item_id"].tolist()
    row_of = {item: row for row, item in enumerate(item_ids)}
    max_users = int(config["samples"]["eval_max_users"])
    targets = draw_test_targets(seqs, row_of, items_path, domain, test, max_users, seed)
    orders = blend_orders(seqs, row_of, len(item_ids), old, new, weights)
    values = np.stack(
        [
            user_values(
                np.array(ordered_ranks(order, seqs, targets, row_of), dtype=np.float64),
                settings.metric,
            )
            for order in orders
        ],
        axis=1,
    )
    users = [seqs.users[u] for u in seqs.row_users(targets)]
    selection, report = split_masks(
        users, domain, seed, settings.selection, settings.valid_fraction
    )
    estimate = bootstrap_weight(
        weights,
        values[selection],
        estimator=settings.weight_estimator,
        draws=settings.bootstrap,
        confidence=settings.confidence,
        seed=derive_seed(seed, "popularity-sweep", domain),
    )
    period = settings.recency_period or new.name
    stats = read_stats(Path(layout.stats_dir), domain)
    x = recency_statistic(stats, Path(layout.stats(domain)), settings, period).value
    bias = None
    if 0.0 in weights and 1.0 in weights:
        first_seen = read_first_seen(Path(items_path).parent, domain)
        is_new = new_item_mask(
            seqs.timestamps[targets],
            first_seen.loc[seqs.items[targets]].to_numpy(),
            **new_item_split(settings, new.start_ms),
        )
        at = [weights.index(0.0), weights.index(1.0)]
        bias = {}
        for name, mask in (("old", report & ~is_new), ("new", report & is_new)):
            low, high = (float(values[mask, j].mean()) if mask.any() else float("nan") for j in at)
            bias[name] = (low, high, int(mask.sum()))
    return DomainSweep(x, estimate, int(selection.sum()), bias)


def model_weights(layout: Layout) -> dict[tuple[str, str], float]:
    """The run's models' λ* per (paradigm, domain), where the analysis ran."""
    path = Path(layout.root, "tables", "optimal_weights.csv")
    if not path.exists():
        return {}
    table = pd.read_csv(path)
    return {
        (p, d): float(w)
        for p, d, w in zip(table["paradigm"], table["domain"], table["weight_optimal"], strict=True)
    }


def build(
    root: Path, seeds: list[int], base: Path | None, settings: list[str], cores: int
) -> list[Path]:
    """``root/seed{S}`` for each seed with its config and data (see the module docstring)."""
    config = stacked_config(None, base, settings)
    layout = Layout()
    targets = [f for d in config["domains"] for f in (layout.stats(d), layout.item_table(d))]
    runs = []
    for seed in seeds:
        work = root / f"seed{seed}"
        write_config(config, seed, work)
        seconds = snakemake(work, targets, cores)
        print(f"{work}: data in {seconds:.0f} s", flush=True)
        runs.append(work)
    return runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="*", type=Path, help="directories with config.yaml and results/")
    ap.add_argument("--build", type=Path, help="build each --seeds world's data under this")
    ap.add_argument("--seeds", type=int, nargs="+", default=[], help="world seeds of --build")
    ap.add_argument("--base", type=Path, help="--build: read on top of config.yaml")
    ap.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args()
    if args.build is not None and not args.seeds:
        raise SystemExit("--build needs --seeds: the world seeds whose data to build")
    if args.build is None and (args.seeds or args.base or args.settings):
        raise SystemExit("--seeds, --base and --set choose what --build builds: pass --build DIR")
    if args.build is not None:
        args.runs += build(args.build, args.seeds, args.base, args.settings, args.cores)
    if not args.runs:
        raise SystemExit("pass run directories, or --build DIR --seeds S ...")
    rows = [
        "| run | seed | domain | selection users | recency | popularity λ* | 95 % CI | models' λ* |",
        "|---|---|---|---|---|---|---|---|",
    ]
    slopes = ["| run | seed | popularity slope | 95 % CI |", "|---|---|---|---|"]
    biases = [
        "| run | seed | domain | split | old items: λ=0, λ=1 (users) | new items: λ=0, λ=1 "
        "(users) | loss on old, gain on new |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in args.runs:
        if not (run / "config.yaml").is_file():
            raise SystemExit(
                f"{run}: no config.yaml; pass a directory with the run's whole config (as "
                "bench/bench_recency.py --keep leaves it) and its results/"
            )
        config = yaml.safe_load((run / "config.yaml").read_text())
        settings = settings_from_config(config.get("analysis"))
        layout = Layout(root=str(run / "results"))
        models = model_weights(layout)
        xs, ys, draws = [], [], []
        for domain in config["domains"]:
            sweep = domain_sweep(config, layout, domain, settings)
            x, est, n = sweep.recency, sweep.estimate, sweep.n_selection
            xs.append(x)
            ys.append(est.weight)
            draws.append(est.samples)
            theirs = ", ".join(
                f"{p} {w:.2f}" for (p, d), w in sorted(models.items()) if d == domain
            )
            rows.append(
                f"| {run.name} | {config['seed']} | {domain} | {n} | {x:.3f} | {est.weight:.2f} "
                f"| [{est.ci_low:.2f}, {est.ci_high:.2f}] | {theirs or '-'} |"
            )
            if sweep.bias is not None:
                old, new = sweep.bias["old"], sweep.bias["new"]
                biases.append(
                    f"| {run.name} | {config['seed']} | {domain} | {settings.new_items} "
                    f"| {old[0]:.3f}, {old[1]:.3f} ({old[2]}) | {new[0]:.3f}, {new[1]:.3f} "
                    f"({new[2]}) | {'yes' if old[1] < old[0] and new[1] > new[0] else 'no'} |"
                )
        fit = fit_line(
            xs,
            ys,
            bootstrap=settings.bootstrap,
            confidence=settings.confidence,
            seed=derive_seed(int(config["seed"]), "popularity-sweep", "slope"),
            y_samples=draws,
        )
        low, high = fit["slope_ci"] or (float("nan"), float("nan"))
        slopes.append(
            f"| {run.name} | {config['seed']} | {fit['slope']:+.2f} | [{low:+.2f}, {high:+.2f}] |"
        )
    print("\n".join(rows), "\n", "\n".join(slopes), "\n", "\n".join(biases), sep="\n")


if __name__ == "__main__":
    main()
