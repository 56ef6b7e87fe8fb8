"""``linear``: weighted average of whole checkpoints, Σ wᵢθᵢ / Σ wᵢ (or Σ wᵢθᵢ unnormalized)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mmgrid.merge.fields import Fields


@dataclass(frozen=True)
class LinearOptions:
    normalize: bool = True  # divide by Σ wᵢ


def parse(f: Fields) -> LinearOptions:
    return LinearOptions(normalize=f.get("normalize", bool, True))


def weighted_sum(arrays: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Σ float32(wᵢ)·xᵢ accumulated left to right in float32 (each product rounded once).

    ``arrays[0]`` may be reused as the accumulator (callers pass temporaries). x·1 is exact,
    so weights of 1 skip their multiply; the first product is kept when it is the only term,
    so that a lone signalling NaN is still quieted exactly as x·1 would.
    """
    reuse = weights[0] == 1.0 and len(arrays) > 1
    acc = arrays[0] if reuse else arrays[0] * np.float32(weights[0])
    tmp = np.empty_like(acc)
    for x, w in zip(arrays[1:], weights[1:], strict=True):
        if w == 1.0:  # x·1 is exact: skip the multiply
            acc += x
        else:
            acc += np.multiply(x, np.float32(w), out=tmp)
    return acc


def weight_total(weights: Sequence[float]) -> np.float32:
    """Σ wᵢ summed in float64, then rounded to float32 (the divisor used by ``normalize``)."""
    return np.float32(sum(weights))


def combine(values: Sequence[np.ndarray], weights: Sequence[float], opts: LinearOptions):
    acc = weighted_sum(values, weights)
    if opts.normalize:
        acc /= weight_total(weights)
    return acc
