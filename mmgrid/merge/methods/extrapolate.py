# ruff: noqa: RUF002 (math notation in docstrings)
"""``extrapolate``: the study's temporal fusers over checkpoints C₁..Cₙ given oldest first.

- ``linear_velocity`` (the study's "task arithmetic"): Cₙ + α(Cₙ − Cₙ₋₁), α default 0.05;
- ``moving_average``: Cₙ + α·mean_j(C_j − C_{j−1}), α default 1.0;
- ``acceleration``: Cₙ + αVₙ + β(Vₙ − Vₙ₋₁) with V_j = C_j − C_{j−1}, α 1.0, β 0.5;
- ``exponential_decay``: θ_target + Σ wᵢ(Cᵢ − θ_reference), wᵢ ∝ decay^(n−i), decay 0.8.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mmgrid.merge.fields import Fields
from mmgrid.merge.methods.descriptor import BlockOperands, MergeMethod

STRATEGIES = ("linear_velocity", "moving_average", "acceleration", "exponential_decay")
MIN_INPUTS = {"linear_velocity": 2, "moving_average": 2, "acceleration": 3, "exponential_decay": 1}
_DEFAULT_ALPHA = {"linear_velocity": 0.05, "moving_average": 1.0, "acceleration": 1.0}


@dataclass(frozen=True)
class ExtrapolateOptions:
    strategy: str = "linear_velocity"
    alpha: float = 0.05
    beta: float = 0.5
    decay: float = 0.8


def parse(f: Fields) -> ExtrapolateOptions:
    strategy = f.choice("strategy", STRATEGIES, "linear_velocity")
    alpha = f.get("alpha", float, _DEFAULT_ALPHA.get(strategy, 0.0))
    beta = f.get("beta", float, 0.5)
    decay = f.get("decay", float, 0.8)
    if strategy != "exponential_decay" and "decay" in f.data:
        raise f.fail("decay", f"only applies to strategy exponential_decay, not {strategy}")
    if strategy != "acceleration" and "beta" in f.data:
        raise f.fail("beta", f"only applies to strategy acceleration, not {strategy}")
    if strategy == "exponential_decay" and "alpha" in f.data:
        raise f.fail("alpha", "does not apply to strategy exponential_decay (use decay)")
    if strategy == "exponential_decay" and not decay > 0:
        raise f.fail("decay", f"must be > 0, got {decay}")
    return ExtrapolateOptions(strategy, alpha, beta, decay)


def uses_deltas(opts: ExtrapolateOptions) -> bool:
    return opts.strategy == "exponential_decay"


def decay_weights(n: int, decay: float) -> list[float]:
    """wᵢ = decay^(n−i) / Σ_j decay^(n−j) for i = 1..n (float64)."""
    raw = [decay ** (n - i) for i in range(1, n + 1)]
    total = sum(raw)
    return [r / total for r in raw]


def combine_values(values: Sequence[np.ndarray], opts: ExtrapolateOptions) -> np.ndarray:
    """Fuse checkpoint values (oldest first) with a velocity-based strategy."""
    alpha = np.float32(opts.alpha)
    last = values[-1]
    if opts.strategy == "linear_velocity":
        return last + alpha * (last - values[-2])
    if opts.strategy == "moving_average":
        acc = values[1] - values[0]
        for prev, cur in itertools.pairwise(values[1:]):
            acc += cur - prev
        return last + alpha * (acc / np.float32(len(values) - 1))
    if opts.strategy == "acceleration":
        v_now = last - values[-2]
        v_prev = values[-2] - values[-3]
        return last + alpha * v_now + np.float32(opts.beta) * (v_now - v_prev)
    raise ValueError(f"strategy {opts.strategy} works on deltas")


def combine_deltas(
    target: np.ndarray, deltas: Sequence[np.ndarray], opts: ExtrapolateOptions
) -> np.ndarray:
    """exponential_decay: θ_target + Σ wᵢτᵢ, accumulated oldest first."""
    weights = decay_weights(len(deltas), opts.decay)
    acc = deltas[0] * np.float32(weights[0])
    for d, w in zip(deltas[1:], weights[1:], strict=True):
        acc += d * np.float32(w)
    return target + acc


def combine_block(ops: BlockOperands, opts: ExtrapolateOptions) -> np.ndarray:
    if uses_deltas(opts):
        return combine_deltas(ops.target(), ops.deltas(), opts)
    return combine_values([ops.value(i) for i in range(len(ops.weights))], opts)


METHOD = MergeMethod(
    name="extrapolate",
    parse=parse,
    reads=lambda opts: "deltas" if uses_deltas(opts) else "values",
    needs_reference=uses_deltas,
    combine=combine_block,
    weighted=False,
    min_inputs=lambda opts: MIN_INPUTS[opts.strategy],
)
