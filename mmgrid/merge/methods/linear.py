"""``linear``: weighted average of whole checkpoints, Σ wᵢθᵢ / Σ wᵢ (or Σ wᵢθᵢ unnormalized)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mmgrid.merge.fields import Fields
from mmgrid.merge.methods.descriptor import BlockOperands, MergeMethod


@dataclass(frozen=True)
class LinearOptions:
    normalize: bool = True  # divide by Σ wᵢ


def parse(f: Fields) -> LinearOptions:
    return LinearOptions(normalize=f.get("normalize", bool, True))


def weighted_sum(arrays: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Σ float32(wᵢ)·xᵢ accumulated left to right in float32 (each product rounded once).

    Computed in place: the callers' temporaries are overwritten (products in ``arrays[i]``, the
    sum in ``arrays[0]``, which is returned). x·1 is exact, so weights of 1 skip their multiply;
    the first product is kept when it is the only term, so that a lone signalling NaN is still
    quieted exactly as x·1 would.
    """
    acc = arrays[0]
    if weights[0] != 1.0 or len(arrays) == 1:
        np.multiply(acc, np.float32(weights[0]), out=acc)
    for x, w in zip(arrays[1:], weights[1:], strict=True):
        if w != 1.0:  # x·1 is exact: skip the multiply
            np.multiply(x, np.float32(w), out=x)
        np.add(acc, x, out=acc)
    return acc


def divide(x: np.ndarray, divisor: np.float32) -> np.ndarray:
    """x /= divisor in place; a power-of-two divisor multiplies by its exact reciprocal instead
    (the same correctly rounded quotient, and a cheaper operation)."""
    mantissa, exponent = math.frexp(float(divisor))
    if mantissa == 0.5 and -125 <= exponent <= 127:  # 1/divisor is a normal float32
        return np.multiply(x, np.float32(2.0 ** (1 - exponent)), out=x)
    return np.divide(x, divisor, out=x)


def weight_total(weights: Sequence[float]) -> np.float32:
    """Σ wᵢ summed in float64, then rounded to float32 (the divisor used by ``normalize``)."""
    return np.float32(sum(weights))


def combine(values: Sequence[np.ndarray], weights: Sequence[float], opts: LinearOptions):
    """Σ wᵢθᵢ (/ Σ wᵢ), computed in place in the temporaries ``values``."""
    acc = weighted_sum(values, weights)
    if opts.normalize:
        divide(acc, weight_total(weights))
    return acc


def combine_block(ops: BlockOperands, opts: LinearOptions) -> np.ndarray:
    return combine([ops.value(i) for i in range(len(ops.weights))], ops.weights, opts)


def lora_coefficients(weights: Sequence[float], opts: LinearOptions) -> list[float]:
    total = float(weight_total(weights)) if opts.normalize else 1.0
    return [x / total for x in weights]


def lora_problem(weights: Sequence[float], opts: LinearOptions, target_is_base: bool) -> str | None:
    if not opts.normalize and weight_total(weights) != 1:
        return "with normalize: false needs weights summing to 1"
    return None


METHOD = MergeMethod(
    name="linear",
    parse=parse,
    reads=lambda _opts: "values",
    needs_reference=lambda _opts: False,
    combine=combine_block,
    lora_coefficients=lora_coefficients,
    lora_problem=lora_problem,
)
