"""Would compiled kernels make global TIES meet "<= 4x linear"? numpy stages vs numba kernels.

Times, on the same blocks in one process, the two TIES hot spots of the engine as numpy runs
them (``mmgrid.merge.methods.ties`` and ``BracketSelect.chunk_stats``) against the numba
kernels of ``bench/ties_numba_kernels.py``, checks that both give the same bits, and times
numba's start-up in fresh interpreters (``import numba`` and loading the cached kernels).
The blocks: K = 4 deltas of N(0, 1e-3) in blocks of 262,144 elements (the engine's block
size), thresholds at the 80 % quantile of |delta| (the study's mask rate), and a selection
bracket holding 0.8 % of the values around it (what the engine's sample gives).

Usage: pip install numba==0.68.1   # not a dependency of mmgrid
       .venv/bin/python bench/bench_ties_numba.py [--elements 4194304] [--repeats 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from timing import best_time  # noqa: E402

from mmgrid.merge.methods import ties  # noqa: E402
from mmgrid.merge.scratch import Scratch  # noqa: E402
from mmgrid.merge.select import BracketSelect  # noqa: E402

K, BLOCK = 4, 1 << 18
STARTUP = (
    "import time; t0 = time.perf_counter(); import numba; t1 = time.perf_counter(); "
    "import ties_numba_kernels; t2 = time.perf_counter(); print(t1 - t0, t2 - t1)"
)


def numpy_merge(deltas, thresholds, target, scratch) -> list[np.ndarray]:
    """The engine's fast path for the study preset, block by block."""
    opts, weights, outs = ties.TiesOptions(), [1.0] * K, []
    for b0 in range(0, deltas.shape[1], BLOCK):
        xs = [scratch.get(f"d{i}", BLOCK) for i in range(K)]
        for x, d in zip(xs, deltas[:, b0 : b0 + BLOCK], strict=True):
            np.copyto(x, d)
        work = scratch.get("trim", BLOCK, np.int32)
        trimmed = [ties.trim_ge_inplace(x, t, work) for x, t in zip(xs, thresholds, strict=True)]
        total = ties.elect_sum(trimmed, weights, opts, out=scratch.get("total", BLOCK))
        positive = ties.elected_direction(total, True, out=scratch.get("pos", BLOCK, np.bool_))
        merged = ties.elected_merge(trimmed, weights, opts, positive, scratch)
        int(np.sign(total).sum())
        outs.append(ties.finish(target[b0 : b0 + BLOCK], merged, opts).copy())
    return outs


def numba_merge(kernels, deltas, thresholds, target) -> list[np.ndarray]:
    values = np.empty((K, BLOCK), np.float32)
    out = np.empty(BLOCK, np.float32)
    cancel = np.empty(BLOCK, np.uint8)
    weights = np.ones(K, np.float32)
    outs = []
    for b0 in range(0, deltas.shape[1], BLOCK):
        np.copyto(values, deltas[:, b0 : b0 + BLOCK])
        kernels.merge(values, thresholds, weights, True, kernels.ELECT_MASS,
                      kernels.DIVIDE_BY_COUNT, True, np.float32(1.0), target[b0 : b0 + BLOCK],
                      out, kernels.MARK_IF_MERGED_NONZERO, cancel)  # fmt: skip
        outs.append(out.copy())
    return outs


def copy_only(deltas) -> None:
    """The block copies both merge variants make (subtracted from their times)."""
    values = np.empty((K, BLOCK), np.float32)
    for b0 in range(0, deltas.shape[1], BLOCK):
        np.copyto(values, deltas[:, b0 : b0 + BLOCK])


def numpy_bracket(deltas, lo, width) -> list[tuple[int, int]]:
    out = []
    for b0 in range(0, deltas.shape[1], BLOCK):
        for d in deltas[:, b0 : b0 + BLOCK]:
            bits = np.bitwise_and(d.view(np.uint32), np.uint32(0x7FFFFFFF))
            below, members = BracketSelect.chunk_stats(bits, lo, width)
            out.append((below, len(members)))
    return out


def numba_bracket(kernels, deltas, lo, width) -> list[tuple[int, int]]:
    members = np.empty(BLOCK, np.uint32)
    return [
        kernels.bracket_members(d.view(np.uint32), lo, width, members)
        for b0 in range(0, deltas.shape[1], BLOCK)
        for d in deltas[:, b0 : b0 + BLOCK]
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements", type=int, default=1 << 22)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    try:
        import ties_numba_kernels as kernels
    except ImportError as err:
        sys.exit(f"{err}: this benchmark needs numba (pip install numba==0.68.1)")

    n = args.elements // BLOCK * BLOCK
    rng = np.random.default_rng(0)
    deltas = rng.normal(0, 1e-3, (K, n)).astype(np.float32)
    target = rng.normal(0, 0.02, n).astype(np.float32)
    thresholds = np.array([np.quantile(np.abs(d), 0.8) for d in deltas], np.float32)
    lo, hi = (
        int(np.float32(np.quantile(np.abs(deltas[0]), q)).view(np.uint32)) for q in (0.796, 0.804)
    )
    scratch = Scratch()

    rows = []
    copy_s, _ = best_time(lambda: copy_only(deltas), args.repeats, warmup=True)
    np_s, want = best_time(
        lambda: numpy_merge(deltas, thresholds, target, scratch), args.repeats, warmup=True
    )
    nb_s, got = best_time(
        lambda: numba_merge(kernels, deltas, thresholds, target), args.repeats, warmup=True
    )
    same = all(
        np.array_equal(a.view(np.uint32), b.view(np.uint32)) for a, b in zip(want, got, strict=True)
    )
    rows.append(
        ("merge pass: trim, elect, disjoint merge, finish", np_s - copy_s, nb_s - copy_s, same, n)
    )
    np_s, want = best_time(lambda: numpy_bracket(deltas, lo, hi - lo), args.repeats, warmup=True)
    nb_s, got = best_time(
        lambda: numba_bracket(kernels, deltas, lo, hi - lo), args.repeats, warmup=True
    )
    rows.append(("selection pass: bracket statistics, K inputs", np_s, nb_s, want == list(got), n))

    print(f"K = {K}, {n:,} elements in blocks of {BLOCK:,}; best of {args.repeats}\n")
    print("| stage | numpy (ns/element) | numba (ns/element) | speed-up | same result |")
    print("| --- | --- | --- | --- | --- |")
    for name, a, b, ok, count in rows:
        print(
            f"| {name} | {a / count * 1e9:.2f} | {b / count * 1e9:.2f} | {a / b:.1f}x | {'yes' if ok else 'NO'} |"
        )
    starts = []
    for _ in range(3):
        run = subprocess.run(
            [sys.executable, "-c", STARTUP],
            cwd=ROOT / "bench",
            capture_output=True,
            text=True,
            check=True,
        )
        starts.append(tuple(float(v) for v in run.stdout.split()))
    print("\nstart-up in a fresh interpreter (import numba + load the cached kernels), s:")
    print(", ".join(f"{a:.2f} + {b:.2f}" for a, b in starts))


if __name__ == "__main__":
    main()
