# ruff: noqa: RUF002 (math notation in docstrings)
"""``ties``: trim, elect sign, disjoint merge — every variant an explicit, named mode.

Per input, deltas dᵢ = τᵢ (times wᵢ when ``weighting: pre_trim``) are trimmed against a
threshold over the scope (all tensors together for ``global``, each tensor for ``per_tensor``):

- ``select: ge_threshold`` keeps |dᵢ| ≥ the k-th smallest |dᵢ| of the scope, k = ⌊d·mask_rate⌋
  (or d − ⌊d·density⌋); ties at the threshold are all kept (official TIES / MergeLM);
- ``select: exact_k`` keeps exactly n = ⌊d·density⌋ (or d − ⌊d·mask_rate⌋) elements, the largest
  |dᵢ|, ties at the threshold broken by lower flat index (tensors in name order, row-major).

The elected sign is sign(Σ tᵢ) (``mass``) or sign(Σ wᵢtᵢ) (``weighted_mass``); where that sum is
0 it is replaced by the scope's majority sign (``zero_sign: majority``) or +1 (``positive``).
Agreeing entries (tᵢ > 0 under sign +1, tᵢ < 0 otherwise) are summed (times wᵢ under
``weighting: in_merge``) and divided by their count, their weight sum, or nothing. The output is
θ_target + λ·merged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mmgrid.merge.fields import Fields
from mmgrid.merge.methods.descriptor import MergeMethod

PRESETS: dict[str, dict[str, str]] = {
    "study": {
        "scope": "global",
        "select": "ge_threshold",
        "weighting": "pre_trim",
        "elect": "mass",
        "divisor": "count",
        "zero_sign": "majority",
    },
    "mergekit": {
        "scope": "per_tensor",
        "select": "exact_k",
        "weighting": "in_merge",
        "elect": "weighted_mass",
        "divisor": "weight_sum",
        "zero_sign": "positive",
    },
}


@dataclass(frozen=True)
class TiesOptions:
    density: float | None = None  # keep fraction (official ``K``, mergekit ``density``)
    mask_rate: float | None = 0.8  # drop fraction (MergeLM ``param_value_mask_rate``)
    scope: str = "global"
    select: str = "ge_threshold"
    weighting: str = "pre_trim"
    elect: str = "mass"
    divisor: str = "count"
    zero_sign: str = "majority"
    scale: float = 1.0  # λ
    preset: str = "study"


def parse(f: Fields) -> TiesOptions:
    preset = f.choice("preset", tuple(PRESETS), "study")
    p = PRESETS[preset]
    density = f.fraction("density", None)
    mask_rate = f.fraction("mask_rate", None)
    if density is not None and mask_rate is not None:
        raise f.fail("mask_rate", "give either density (keep fraction) or mask_rate, not both")
    if density is None and mask_rate is None:
        if preset == "study":
            mask_rate = 0.8
        else:
            density = 1.0
    return TiesOptions(
        density=density,
        mask_rate=mask_rate,
        scope=f.choice("scope", ("global", "per_tensor"), p["scope"]),
        select=f.choice("select", ("ge_threshold", "exact_k"), p["select"]),
        weighting=f.choice("weighting", ("pre_trim", "in_merge"), p["weighting"]),
        elect=f.choice("elect", ("mass", "weighted_mass"), p["elect"]),
        divisor=f.choice("divisor", ("count", "weight_sum", "none"), p["divisor"]),
        zero_sign=f.choice("zero_sign", ("majority", "positive"), p["zero_sign"]),
        scale=f.get("scale", float, 1.0),
        preset=preset,
    )


def threshold_rank(d: int, opts: TiesOptions) -> int:
    """1-based rank (ascending |x|) of the threshold in a scope of d elements; 0 = keep all.

    ``ge_threshold``: k-th smallest, k = ⌊d·mask_rate⌋ or d − ⌊d·density⌋.
    ``exact_k``: the n-th largest, i.e. rank d − n + 1 (d + 1 when n = 0: keep nothing).
    """
    if opts.select == "ge_threshold":
        return int(d * opts.mask_rate) if opts.mask_rate is not None else d - int(d * opts.density)
    return d - keep_count(d, opts) + 1


def keep_count(d: int, opts: TiesOptions) -> int:
    """``exact_k``: number of elements kept in a scope of d elements."""
    return int(d * opts.density) if opts.density is not None else d - int(d * opts.mask_rate)


def scaled_deltas(deltas: Sequence[np.ndarray], weights: Sequence[float], opts: TiesOptions):
    """The values that are trimmed: wᵢτᵢ under ``pre_trim`` (in place), τᵢ under ``in_merge``."""
    if opts.weighting == "pre_trim":
        for d, w in zip(deltas, weights, strict=True):
            if w != 1.0:  # x·1 is exact: skip the multiply
                np.multiply(d, np.float32(w), out=d)
    return list(deltas)


def _mask_bits(keep: np.ndarray) -> np.ndarray:
    """0xFFFFFFFF where ``keep``, 0 elsewhere (for branch-free selection of float32 bits)."""
    m = keep.view(np.uint8).astype(np.uint32)
    return np.negative(m, out=m)


def where_bits(keep: np.ndarray, a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """``np.where(keep, a, b)`` (b = +0.0 when None) on float32 bit patterns, bit-exact."""
    m = _mask_bits(keep)
    out = m & a.view(np.uint32)
    if b is not None:
        np.invert(m, out=m)
        m &= b.view(np.uint32)
        out |= m
    return out.view(np.float32)


def trim_ge(x: np.ndarray, threshold: np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Keep entries with |x| ≥ threshold, zero the rest; returns (trimmed, keep mask)."""
    keep = np.abs(x) >= threshold
    return where_bits(keep, x), keep


def trim_ge_inplace(x: np.ndarray, threshold: np.float32, work: np.ndarray) -> np.ndarray:
    """:func:`trim_ge` in place on bit patterns, in four integer passes (``work``: int32 scratch).

    Bit-identical to ``trim_ge`` except for NaN, which this keeps (its pattern lies above
    every threshold's): a kept NaN makes the merged value NaN, so callers that see a NaN in
    their result redo the block with ``trim_ge``.
    """
    bits = x.view(np.uint32)
    w = work[: x.size].reshape(x.shape)
    np.bitwise_and(bits.view(np.int32), np.int32(0x7FFFFFFF), out=w)  # |x| as int32
    limit = np.int32(int(np.array(threshold, np.float32).view(np.uint32)) - 1)
    np.subtract(limit, w, out=w)  # negative exactly where |x| >= threshold
    np.right_shift(w, np.int32(31), out=w)  # -1 (all ones) there, 0 elsewhere
    np.bitwise_and(bits, w.view(np.uint32), out=bits)
    return x


def trim_exact(x: np.ndarray, threshold: np.float32, eq_budget: int, order=None):
    """Keep |x| > threshold and the first ``eq_budget`` entries with |x| == threshold.

    "First" is flat order, or the order of ``order(positions)`` (element indices of flat
    positions) when ``x`` holds its elements in another order. Returns the trimmed array, the
    keep mask and how many threshold ties it kept.
    """
    a = np.abs(x)
    keep = a > threshold
    if eq_budget > 0:
        eq = np.flatnonzero(a == threshold)
        if order is not None and len(eq) > eq_budget:
            eq = eq[np.argsort(order(eq), kind="stable")]
        eq = eq[:eq_budget]
        keep.reshape(-1)[eq] = True
        used = len(eq)
    else:
        used = 0
    return where_bits(keep, x), keep, used


def elect_sum(
    trimmed: Sequence[np.ndarray],
    weights: Sequence[float],
    opts: TiesOptions,
    out: np.ndarray | None = None,
):
    """Σ tᵢ (``mass``) or Σ wᵢtᵢ (``weighted_mass``), left to right in float32."""
    out = np.empty_like(trimmed[0]) if out is None else out
    if opts.elect == "mass":
        if len(trimmed) > 1:
            np.add(trimmed[0], trimmed[1], out=out)
        else:
            np.copyto(out, trimmed[0])
        for t in trimmed[2:]:
            np.add(out, t, out=out)
        return out
    np.multiply(trimmed[0], np.float32(weights[0]), out=out)
    for t, w in zip(trimmed[1:], weights[1:], strict=True):
        out += t * np.float32(w)
    return out


def elected_direction(total: np.ndarray, zero_positive: bool, out=None) -> np.ndarray:
    """True where the elected sign is +1: total > 0, and total == 0 if ``zero_positive``
    (a zero or negative majority counts as negative, as in the official code)."""
    f = np.greater_equal if zero_positive else np.greater
    return f(total, np.float32(0), out=out)


def sign_balance(total: np.ndarray) -> int:
    """Σ sign(total) over the chunk (for the scope's majority sign)."""
    return int(np.count_nonzero(total > 0)) - int(np.count_nonzero(total < 0))


def signed_merges(
    trimmed: Sequence[np.ndarray], weights: Sequence[float], opts: TiesOptions
) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint merges for both possible elected signs: (merge of tᵢ > 0, merge of tᵢ < 0).

    Agreeing entries are summed in input order (wᵢtᵢ under ``in_merge``) and divided by their
    count, their weight sum (no agreeing entry: divide by 1) or nothing.
    """
    out = []
    zero = np.float32(0)
    for agree_with, clip in ((np.greater, np.maximum), (np.less, np.minimum)):
        num = np.zeros(trimmed[0].shape, np.float32)
        count = np.zeros(trimmed[0].shape, np.uint8)
        den = np.zeros(trimmed[0].shape, np.float32)
        for t, w in zip(trimmed, weights, strict=True):
            # clip(t, 0) is t where t agrees and ±0 elsewhere; adding ±0 leaves num unchanged
            part = clip(t, zero)
            if opts.weighting == "in_merge":
                part *= np.float32(w)
            num += part
            if opts.divisor != "none":
                agree = agree_with(t, zero)
                if opts.divisor == "count":
                    count += agree.view(np.uint8)
                else:
                    den += agree * np.float32(w)
        if opts.divisor == "count":
            num /= np.maximum(count, 1).astype(np.float32)
        elif opts.divisor == "weight_sum":
            num /= np.where(den == 0, np.float32(1), den)
        out.append(num)
    return out[0], out[1]


def _buffer(scratch, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    if scratch is None:
        return np.empty(shape, dtype)
    return scratch.get(name, math.prod(shape), dtype).reshape(shape)


def elected_merge(
    trimmed: Sequence[np.ndarray],
    weights: Sequence[float],
    opts: TiesOptions,
    positive: np.ndarray,
    scratch=None,
) -> np.ndarray:
    """The disjoint merge for the elected sign (+1 where ``positive``, −1 elsewhere).

    Bit-identical to ``where_bits(positive, *signed_merges(...))``. Under ``pre_trim`` only the
    elected side is computed: with s = ±1, agreeing entries are those with s·tᵢ > 0, their sum
    is s·Σ max(s·tᵢ, 0) (negation is exact and rounding is symmetric), and adding +0 turns the
    −0 of an empty negative sum into the +0 that ``signed_merges`` gives. Trimmed values are
    never NaN (trimming drops NaN), so ``max`` selects exactly the agreeing entries.
    ``scratch`` (a :class:`mmgrid.merge.scratch.Scratch`) provides the buffers when given.
    """
    if opts.weighting != "pre_trim":
        return where_bits(positive, *signed_merges(trimmed, weights, opts))
    shape, n = positive.shape, positive.size

    def buf(name: str, dtype: type = np.float32) -> np.ndarray:
        return _buffer(scratch, "ties." + name, shape, dtype)

    zeros = np.zeros(shape, np.float32) if scratch is None else scratch.const("ties", n, 0.0)
    s = buf("s")
    np.copyto(s, positive)
    s *= np.float32(2)
    s -= np.float32(1)
    num = buf("num")
    u = buf("u")
    agree = buf("agree", np.bool_)
    count = den = part = None
    if opts.divisor == "count":
        count = buf("count", np.uint8)
        count.fill(0)
    elif opts.divisor == "weight_sum":
        den, part = buf("den"), buf("part")
        den.fill(0)
    for i, (t, w) in enumerate(zip(trimmed, weights, strict=True)):
        np.multiply(t, s, out=u)
        if count is not None or den is not None:
            np.greater(u, zeros, out=agree)
            if count is not None:
                np.add(count, agree.view(np.uint8), out=count)
            else:
                np.copyto(part, agree)
                part *= np.float32(w)
                den += part
        if i == 0:
            np.maximum(u, zeros, out=num)
        else:
            num += np.maximum(u, zeros, out=u)
    if count is not None:
        divisor = buf("divisor")
        np.copyto(divisor, count)
        ones = np.ones(shape, np.float32) if scratch is None else scratch.const("ties", n, 1.0)
        num /= np.maximum(divisor, ones, out=divisor)
    elif den is not None:
        np.equal(den, zeros, out=agree)
        np.copyto(part, agree)
        den += part  # a zero weight sum divides by 1
        num /= den
    num *= s
    num += zeros  # an empty negative sum (-0) becomes +0
    return num


def finish(target: np.ndarray, merged: np.ndarray, opts: TiesOptions) -> np.ndarray:
    """θ_target + λ·merged, in place in ``merged``."""
    if opts.scale != 1.0:  # a product by 1 is exact (and the sum quiets NaN anyway)
        np.multiply(merged, np.float32(opts.scale), out=merged)
    return np.add(target, merged, out=merged)


METHOD = MergeMethod(name="ties", parse=parse, ties=lambda opts: opts, source_weighted=True)
"""TIES has no single-pass combine: the engine's TIES runner (:mod:`mmgrid.merge.ties_runner`)
finds the thresholds in a first pass and merges in a second."""
