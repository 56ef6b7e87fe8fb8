# ruff: noqa: RUF002 (math notation in docstrings)
"""``task_arithmetic``: θ_target + λ·Σ wᵢ(θᵢ − θ_reference) (optionally divided by Σ wᵢ)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mmgrid.merge.fields import Fields
from mmgrid.merge.methods.linear import divide, weight_total, weighted_sum


@dataclass(frozen=True)
class TaskArithmeticOptions:
    scale: float = 1.0  # λ
    normalize: bool = False  # divide Σ wᵢτᵢ by Σ wᵢ


def parse(f: Fields) -> TaskArithmeticOptions:
    return TaskArithmeticOptions(
        scale=f.get("scale", float, 1.0), normalize=f.get("normalize", bool, False)
    )


def combine(
    target: np.ndarray,
    deltas: Sequence[np.ndarray],
    weights: Sequence[float],
    opts: TaskArithmeticOptions,
) -> np.ndarray:
    """θ_target + λ·Σ wᵢτᵢ (Σ divided by Σ wᵢ under ``normalize``), in place in ``deltas``."""
    acc = weighted_sum(deltas, weights)
    if opts.normalize:
        divide(acc, weight_total(weights))
    if opts.scale != 1.0:  # λ·x = x·λ; a product by 1 is exact (and the sum quiets NaN anyway)
        np.multiply(acc, np.float32(opts.scale), out=acc)
    return np.add(target, acc, out=acc)
