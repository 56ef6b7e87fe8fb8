"""Experimental numba kernels for the two TIES passes, measured by ``bench_ties_numba.py``.

Not part of the engine (see bench/MERGE.md, "Compiled kernels"): the fused trim / elect /
disjoint merge of the merge pass and the bracket statistics of the selection pass, each one
loop over tiles of ``TILE`` elements instead of whole-block numpy passes. Arithmetic is IEEE
float32 in the engine's order (no fast-math: no reassociation, no fused multiply-add), so the
results are bit-identical to :mod:`mmgrid.merge.methods.ties`. Needs ``pip install numba``.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

TILE = 1024

#: ``elect`` codes
ELECT_MASS, ELECT_WEIGHTED_MASS = 0, 1
#: ``divisor`` codes
DIVIDE_BY_COUNT, DIVIDE_BY_WEIGHT_SUM, DIVIDE_BY_NOTHING = 0, 1, 2
#: which zero sums :func:`merge` marks as cancellations
MARK_NONE, MARK_IF_MERGED_NONZERO, MARK_IF_ANY_ENTRY = 0, 1, 2

_JIT = {"cache": True, "nogil": True, "boundscheck": False, "error_model": "numpy"}
_F0, _F1 = np.float32(0.0), np.float32(1.0)


@intrinsic
def _bits(typingctx, x):
    """The uint32 bit pattern of a float32 (an LLVM bitcast, no memory round trip)."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.uint32(types.float32), codegen


@nb.njit(
    types.Tuple((types.int64, types.int64))(
        types.uint32[::1], types.int64, types.int64, types.uint32[::1]
    ),
    **_JIT,
)
def bracket_members(bits, lo, width, members):
    """For float32 bit patterns ``bits`` (sign ignored): how many |x| patterns lie below
    ``lo``, and the offsets from ``lo`` of those in ``[lo, lo + width)``, written to the front
    of ``members``. Returns ``(below, number of members)``."""
    n = bits.shape[0]
    below = 0
    inside = 0
    for j in range(n):  # vectorised counts; half the elements may lie below
        a = np.int64(bits[j] & np.uint32(0x7FFFFFFF))
        below += a < lo
        inside += (a >= lo) & (a - lo < width)
    count = 0
    if inside:
        for j in range(n):  # a rarely taken, well predicted branch
            offset = np.int64(bits[j] & np.uint32(0x7FFFFFFF)) - lo
            if (offset >= 0) & (offset < width):  # one branch, not two
                members[count] = np.uint32(offset)
                count += 1
    return below, count


@nb.njit(
    types.Tuple((types.int64, types.int64, types.boolean))(
        types.float32[:, ::1],  # values: K x n, trimmed in place
        types.float32[::1],  # thresholds (|x| >= threshold is kept)
        types.float32[::1],  # weights
        types.boolean,  # pre_trim: weights were applied before trimming
        types.int64,  # elect code
        types.int64,  # divisor code
        types.boolean,  # zero_positive: a zero sum elects +1
        types.float32,  # scale λ
        types.float32[::1],  # target
        types.float32[::1],  # out: θ_target + λ·merged
        types.int64,  # mark code
        types.uint8[::1],  # cancel: 1 where a zero sum is marked
    ),
    **_JIT,
)
def merge(values, thresholds, weights, pre_trim, elect, divisor, zero_positive, scale, target,
          out, mark, cancel):  # fmt: skip
    """Trim, elect and merge ``n`` elements of ``K`` inputs; ``out`` = θ_target + λ·merged.

    Semantics (those of :mod:`mmgrid.merge.methods.ties`): tᵢ = xᵢ where |xᵢ| ≥ thresholdᵢ,
    else 0 (NaN is dropped); the sum Σ tᵢ (or Σ wᵢtᵢ) left to right elects +1 where it is
    > 0, or = 0 with ``zero_positive``. ``pre_trim``: the agreeing entries' sum is
    s·Σ max(s·tᵢ, 0), s = ±1, divided by their count or weight sum, then +0 (no -0).
    Otherwise the elected side's Σ wᵢ·max(tᵢ, 0) (or min), from +0, over the count or weight
    sum. A division by zero divides by 1. Returns (Σ sign(sum), marked zero sums, any NaN in
    ``out``).
    """
    k, n = values.shape
    total = np.empty(TILE, np.float32)
    sign = np.empty(TILE, np.float32)
    num = np.empty(TILE, np.float32)
    den = np.empty(TILE, np.float32)
    anybits = np.empty(TILE, np.uint32)
    balance = 0
    marked = 0
    has_nan = False
    # loop-invariant choices become factors (a product by 1 is exact) or separate loops, so
    # that every inner loop is branch-free and vectorises
    for j0 in range(0, n, TILE):
        m = min(TILE, n - j0)
        # trim in place; the elected sum (left to right); which entries are non-zero
        for i in range(k):
            row = values[i, j0 : j0 + m]
            thr = thresholds[i]
            we = weights[i] if elect == ELECT_WEIGHTED_MASS else _F1
            for j in range(m):
                x = row[j]
                row[j] = x if abs(x) >= thr else _F0
            if i == 0:
                for j in range(m):
                    total[j] = row[j] * we
                    anybits[j] = _bits(row[j])
            else:
                for j in range(m):
                    total[j] = total[j] + row[j] * we
                    anybits[j] |= _bits(row[j])
        for j in range(m):
            tj = total[j]
            up = (tj > _F0) | (zero_positive & (tj == _F0))
            sign[j] = _F1 if up else -_F1
            num[j] = _F0
            den[j] = _F0
            balance += np.int64(tj > _F0) - np.int64(tj < _F0)
        # the agreeing entries' sum (an agreeing part is never -0, so +0 + part = part) and
        # their count (factor 1) or weight sum (factor w)
        for i in range(k):
            row = values[i, j0 : j0 + m]
            w = weights[i]
            dw = w if divisor == DIVIDE_BY_WEIGHT_SUM else _F1
            if pre_trim:
                for j in range(m):
                    u = row[j] * sign[j]
                    a = u > _F0
                    num[j] = num[j] + (u if a else _F0)
                    den[j] = den[j] + (_F1 if a else _F0) * dw
            else:
                for j in range(m):
                    t = row[j]
                    a = t * sign[j] > _F0
                    num[j] = num[j] + (t if a else _F0) * w
                    den[j] = den[j] + (_F1 if a else _F0) * dw
        if divisor != DIVIDE_BY_NOTHING:  # a count is >= 0: max(count, 1) is count or 1
            for j in range(m):
                d = den[j]
                num[j] = num[j] / (d + _F1 if d == _F0 else d)
        if pre_trim:
            for j in range(m):
                num[j] = num[j] * sign[j] + _F0
        if mark != MARK_NONE:
            for j in range(m):
                if mark == MARK_IF_MERGED_NONZERO:
                    hit = (total[j] == _F0) & (num[j] != _F0)
                else:
                    hit = (total[j] == _F0) & (anybits[j] != 0)
                cancel[j0 + j] = hit
                marked += hit
        if scale != _F1:
            for j in range(m):
                num[j] = num[j] * scale
        o = out[j0 : j0 + m]
        tgt = target[j0 : j0 + m]
        for j in range(m):
            o[j] = tgt[j] + num[j]
        for j in range(m):
            has_nan |= o[j] != o[j]
    return balance, marked, has_nan
