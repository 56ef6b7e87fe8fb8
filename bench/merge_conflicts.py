"""Why base model replacement helps or not: a cross-domain merge's task vectors with either reference.

    .venv/bin/python bench/merge_conflicts.py RUN_DIR [RUN_DIR ...] [--mask-rate 0.8]

``RUN_DIR`` holds a finished run's ``config.yaml`` (as ``bench/bench_recency.py --keep`` leaves
it) and its ``results/``. For each paradigm and each domain set of ``merges.cross_domain`` (at its
period), the task vectors are τ_d = cell_d - reference, with the two references the cross-domain
table compares: the paradigm's base (``base``: where every cell's chain starts) and the pooled
task base (``pooled``). Printed per (paradigm, set, reference):

- ‖τ‖ of each member: how far its cell moved from the reference;
- cos(τ_A, τ_B): how much the members' changes agree;
- TIES sign conflicts: among the coordinates that both members keep after TIES' trim (the
  study's preset: |τ| at or above the k-th smallest of all coordinates, k = ⌊d·mask_rate⌋), the
  share with opposite signs, which TIES' sign election then drops from one of them;

and per (paradigm, set) cos(cell_d - base, pooled - base): how much of each cell's change the
pooled task base carries. Base model replacement can only help where that is large: it removes
the shared, task-aware part of the change and leaves the context-specific part.

Semantic-ID rows of the vocabulary matrices (which the merge copies from the source domain
instead of merging) are left out. Nothing here merges or evaluates: it describes the inputs of
the merges whose results are in ``tables/cross_domain.csv`` and ``tables/base_replacement.csv``.
It holds five float64 copies of the model at once (base, pooled base and the set's cells): 2 s
and a few MB for the demo's tiny models, about 25 GB for Qwen3-0.6B.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import yaml
from safetensors.torch import load_file

from mmgrid.merge.grid_job import semantic_id_rows
from mmgrid.merge.methods.ties import TiesOptions, threshold_rank
from mmgrid.paradigms import PARADIGMS
from mmgrid.periods import periods_from_config
from mmgrid.study.layout import Layout

VOCAB_TENSORS = ("embed_tokens", "lm_head")


def flat_weights(directory: Path, sid_rows: tuple[int, int] | None) -> np.ndarray:
    """Every tensor of a checkpoint in name order, as one float64 vector; ``sid_rows`` of the
    vocabulary matrices left out."""
    tensors = load_file(str(directory / "model.safetensors"))
    parts = []
    for name in sorted(tensors):
        t = tensors[name].to(torch.float64)
        if sid_rows is not None and any(v in name for v in VOCAB_TENSORS):
            t = torch.cat([t[: sid_rows[0]], t[sid_rows[1] :]])
        parts.append(t.flatten().numpy())
    return np.concatenate(parts)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def kept(tau: np.ndarray, mask_rate: float) -> np.ndarray:
    """TIES' trim with the study's preset: |τ| at or above the threshold rank's value."""
    rank = threshold_rank(len(tau), TiesOptions(mask_rate=mask_rate))
    if rank == 0:
        return np.ones(len(tau), dtype=bool)
    magnitude = np.abs(tau)
    return magnitude >= np.partition(magnitude, rank - 1)[rank - 1]


def sign_conflicts(a: np.ndarray, b: np.ndarray, mask_rate: float) -> tuple[float, float]:
    """(share of coordinates both keep, share of those with opposite signs)."""
    both = kept(a, mask_rate) & kept(b, mask_rate)
    opposite = np.sign(a[both]) != np.sign(b[both])
    return float(both.mean()), float(opposite.mean()) if both.any() else float("nan")


def run_rows(run: Path, mask_rate: float) -> list[str]:
    config = yaml.safe_load((run / "config.yaml").read_text())
    layout = Layout(root=str(run / "results"))
    cross = config["merges"]["cross_domain"]
    period = cross["period"]
    rows = []
    for paradigm in config["paradigms"]:
        base_dir = Path(PARADIGMS[paradigm].base_dir(layout))
        first = periods_from_config(config)[0].name  # the pooled task base's period
        pooled_dir = Path(layout.checkpoint(paradigm, "pooled", first))
        sid = semantic_id_rows(base_dir) if paradigm == "semid" else None
        base = flat_weights(base_dir, sid)
        pooled = flat_weights(pooled_dir, sid)
        for members in cross["sets"]:
            cells = {
                d: flat_weights(Path(layout.checkpoint(paradigm, d, period)), sid) for d in members
            }
            carried = ", ".join(
                f"{d} {cosine(cells[d] - base, pooled - base):+.2f}" for d in members
            )
            for name, reference in (("base", base), ("pooled", pooled)):
                tau = [cells[d] - reference for d in members]
                norms = ", ".join(f"{np.linalg.norm(t):.1f}" for t in tau)
                agree = cosine(tau[0], tau[1]) if len(tau) == 2 else float("nan")
                overlap, conflict = (
                    sign_conflicts(tau[0], tau[1], mask_rate) if len(tau) == 2 else (np.nan,) * 2
                )
                rows.append(
                    f"| {run.name} | {config['seed']} | {paradigm} | {' + '.join(members)} | "
                    f"{name} | {norms} | {agree:+.2f} | {overlap:.3f} | {conflict:.2f} | "
                    f"{carried if name == 'pooled' else ''} |"
                )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path, help="directories with config.yaml and results/")
    ap.add_argument("--mask-rate", type=float, default=0.8, help="TIES' drop fraction (study: 0.8)")
    args = ap.parse_args()
    rows = [
        "| run | seed | paradigm | set | reference | ‖τ‖ per member | cos(τ_A, τ_B) | kept by both "
        "| sign conflicts among them | cos(cell - base, pooled - base) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in args.runs:
        if not (run / "config.yaml").is_file():
            raise SystemExit(f"{run}: no config.yaml; pass a finished run's directory")
        rows += run_rows(run, args.mask_rate)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
