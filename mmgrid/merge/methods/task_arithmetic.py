# ruff: noqa: RUF002 (math notation in docstrings)
"""``task_arithmetic``: θ_target + λ·Σ wᵢ(θᵢ − θ_reference) (optionally divided by Σ wᵢ)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mmgrid.merge.fields import Fields
from mmgrid.merge.methods.linear import weight_total, weighted_sum


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
    acc = weighted_sum(deltas, weights)
    if opts.normalize:
        acc /= weight_total(weights)
    return target + np.float32(opts.scale) * acc
