# ruff: noqa: RUF002 (math notation in docstrings)
"""``task_arithmetic``: θ_target + λ·Σ wᵢ(θᵢ − θ_reference) (optionally divided by Σ wᵢ)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mmgrid.merge.fields import Fields
from mmgrid.merge.methods.descriptor import BlockOperands, MergeMethod
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


def combine_block(ops: BlockOperands, opts: TaskArithmeticOptions) -> np.ndarray:
    return combine(ops.target(), ops.deltas(), ops.weights, opts)


def lora_coefficients(weights: Sequence[float], opts: TaskArithmeticOptions) -> list[float]:
    total = float(weight_total(weights)) if opts.normalize else 1.0
    return [opts.scale * x / total for x in weights]


def lora_problem(
    weights: Sequence[float], opts: TaskArithmeticOptions, target_is_base: bool
) -> str | None:
    return None if target_is_base else "needs target to be the adapters' base checkpoint"


def averages(opts: TaskArithmeticOptions, total: float) -> bool:
    """θ_ref + λ·Σ wᵢτᵢ with λ·Σ wᵢ = 1 (λ = 1 under normalize) is weight averaging."""
    effective = opts.scale if opts.normalize else opts.scale * total
    return abs(effective - 1.0) < 1e-12


METHOD = MergeMethod(
    name="task_arithmetic",
    parse=parse,
    combine=combine_block,
    lora_coefficients=lora_coefficients,
    lora_problem=lora_problem,
    averages=averages,
)
