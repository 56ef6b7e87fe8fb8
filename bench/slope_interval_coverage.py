"""How often does the slope's interval cover the true slope, and how often does it lie above 0?

    .venv/bin/python bench/slope_interval_coverage.py [--worlds 300] [--draws 1000] [--seed 0] \
        [--domains 4] [--even] [--seeds 1] [--slopes 0 0.5 0.9 1.5]

Simulated worlds in the design of the demo's regression: 4 domains at the recency statistics
the demo's world gives (two stationary, two recency-driven; bench/RESULTS.md), 2 paradigms
per domain (``--domains N`` other than 4, or ``--even``: N domains with statistics evenly
spaced over the same range). ``--seeds K`` reads K world draws of those domains together, as
``bench_recency.py``'s fit over all seeds does: each draw's statistics move by SD 0.03 (the
demo's seeds differ by about that), and every (seed, domain) is a domain of its own. The true
λ* is ``0.8 + slope * (x - 0.3)``. Each domain adds an offset that both paradigms share (its
world draw, SD ``domain``), and each point its own noise (SD ``point``).
A point brings 200 bootstrap draws of that noise, as the analysis's points bring their draws
over selection users. For each setting it reports, over ``--worlds`` worlds:

- coverage: the share of 95 % intervals that contain the true slope;
- above 0: the share whose lower end is above 0 (under slope 0: false positives; else power);
- the median width.

The intervals compared:

- ``points``: the pooled fit, its points resampled one by one (the analysis before domains
  were resampled);
- ``domains``: the pooled fit, domains resampled with both their points, then each point's
  λ* from its draws (the analysis now, and ``bench_recency.py``'s fit over all seeds);
- ``domains, one level``: the same, each λ* taken as exact (no draws of its own: the fit over
  all seeds in ``bench_recency.py`` on runs without ``regression/weight_draws.csv``);
- ``one paradigm``: one paradigm's fit on its points, one per domain (per-paradigm fits,
  unchanged);
- ``t, domain means``: the classical interval ``slope ± t(0.975, N - 2) se`` of ordinary least
  squares on the domains' mean λ* (exact under normal errors; shown as the yardstick).

No pipeline is run: this measures the interval, not the models.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmgrid.analysis.regression import fit_line

X = np.array([0.049, 0.643, 0.019, 0.531])
"""The demo world's mean recency statistic per domain (popularity sweep, seeds 20-29)."""
METHODS = ("points", "domains", "domains, one level", "one paradigm", "t, domain means")
SEED_SD = 0.03
"""SD of a domain's recency statistic from one world draw to the next (``--seeds``)."""


def intervals(
    domain_x: np.ndarray, y: np.ndarray, samples: list[np.ndarray], draws: int, seed: int
) -> dict:
    """Each method's 95 % interval of the slope for one world's points (two per domain)."""
    n = len(domain_x)
    x = np.tile(domain_x, 2)
    common = {"bootstrap": draws, "confidence": 0.95, "seed": seed, "y_samples": samples}
    line = stats.linregress(domain_x, y.reshape(2, n).mean(axis=0))
    half = stats.t.ppf(0.975, n - 2) * line.stderr
    first = {**common, "y_samples": samples[:n]}
    labels = np.tile(np.arange(n), 2)
    exact = {**common, "y_samples": None}
    return {
        "points": fit_line(x, y, **common)["slope_ci"],
        "domains": fit_line(x, y, domains=labels, **common)["slope_ci"],
        "domains, one level": fit_line(x, y, domains=labels, **exact)["slope_ci"],
        "one paradigm": fit_line(domain_x, y[:n], **first)["slope_ci"],
        "t, domain means": [line.slope - half, line.slope + half],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worlds", type=int, default=300)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--domains", type=int, default=4, help="domains (>= 3)")
    ap.add_argument("--even", action="store_true", help="even spacing for 4 domains too")
    ap.add_argument("--seeds", type=int, default=1, help="world draws read together")
    ap.add_argument("--slopes", type=float, nargs="+", default=[0.0, 0.5, 0.9, 1.5])
    args = ap.parse_args()
    if args.worlds < 1 or args.draws < 1:
        raise SystemExit("--worlds and --draws must be at least 1")
    if args.domains * args.seeds < 3:
        raise SystemExit("--domains x --seeds must be at least 3 (a line and its interval need 3)")
    even = args.even or args.domains != 4
    domain_x = np.linspace(X.min(), X.max(), args.domains) if even else X
    n = len(domain_x) * args.seeds
    rng = np.random.default_rng(args.seed)
    print(
        f"{len(domain_x)} domains at recency statistics "
        f"{', '.join(f'{v:.3f}' for v in domain_x)}, {args.seeds} world draw(s)\n"
    )
    print("| slope | domain SD | point SD | interval | coverage | above 0 | median width |")
    print("|---|---|---|---|---|---|---|")
    for slope in args.slopes:
        for domain_sd, point_sd in ((0.25, 0.15), (0.15, 0.15), (0.0, 0.2)):
            found = {m: [] for m in METHODS}
            for _ in range(args.worlds):
                x = np.tile(domain_x, args.seeds)
                if args.seeds > 1:
                    x = np.clip(x + rng.normal(0, SEED_SD, n), 0, 1)
                truth = 0.8 + slope * (np.tile(x, 2) - 0.3)
                offsets = np.tile(rng.normal(0, domain_sd, n), 2)
                y = truth + offsets + rng.normal(0, point_sd, 2 * n)
                samples = [v + rng.normal(0, point_sd, 200) for v in y]
                seed = int(rng.integers(2**31))
                for method, (low, high) in intervals(x, y, samples, args.draws, seed).items():
                    found[method].append((low <= slope <= high, low > 0, high - low))
            for method in METHODS:
                cover, above, width = np.array(found[method], dtype=float).T
                print(
                    f"| {slope:+.1f} | {domain_sd} | {point_sd} | {method} | {cover.mean():.2f} "
                    f"| {above.mean():.2f} | {np.median(width):.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
