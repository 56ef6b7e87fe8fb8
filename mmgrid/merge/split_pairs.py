"""The split-pair layout in which the engine computes a block of elements.

A block of ``n`` consecutive elements is held as its even-numbered elements followed by its
odd-numbered ones (h = ⌈n/2⌉ of each; an odd ``n`` gets one padding element, the last position).
bf16 values stored as uint16 pairs read as one uint32 w = e₀ | e₁·2¹⁶, so both halves widen
with one operation each (e₀ → w << 16, e₁ → w & 0xFFFF0000), and the rounded result packs back
into pairs the same way. Merge arithmetic is elementwise, so it runs unchanged on this order;
whatever depends on element order (exact-k tie order, patch positions, DARE masks) maps positions
with :func:`flat_positions`. ``x[:n]`` of a split array drops the padding element.
"""

from __future__ import annotations

import numpy as np

from mmgrid.merge.dtypes import from_fp32

_LOW = np.uint32(0xFFFF0000)
_SHIFT = np.uint32(16)


def half(n: int) -> int:
    """Elements in each half of a split block of ``n`` elements (⌈n/2⌉)."""
    return (n + 1) // 2


def split(flat: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Write ``flat`` (n elements, any dtype) in split order into ``out[:2h]``; pad with 0."""
    n = flat.size
    h = half(n)
    np.copyto(out[:h], flat[0::2], casting="unsafe")
    np.copyto(out[h : h + n // 2], flat[1::2], casting="unsafe")
    if n % 2:
        out[2 * h - 1] = 0
    return out[: 2 * h]


def unsplit(x: np.ndarray, n: int, out: np.ndarray) -> np.ndarray:
    """Back to element order: ``out[:n]`` from the split array ``x``."""
    h = half(n)
    out[0:n:2] = x[:h]
    out[1:n:2] = x[h : h + n // 2]
    return out[:n]


def flat_positions(pos: np.ndarray, n: int) -> np.ndarray:
    """Element index within the block of each split position in ``pos`` (int64)."""
    pos = np.asarray(pos, np.int64)
    h = half(n)
    return np.where(pos < h, 2 * pos, 2 * (pos - h) + 1)


def widen_bf16(raw: np.ndarray, out: np.ndarray) -> np.ndarray:
    """bf16 bits ``raw`` (uint16, even length 2h) -> float32 ``out[:2h]`` in split order, exact."""
    h = raw.size // 2
    w = raw.view(np.uint32)
    bits = out[: 2 * h].view(np.uint32)
    np.left_shift(w, _SHIFT, out=bits[:h])
    np.bitwise_and(w, _LOW, out=bits[h:])
    return out[: 2 * h]


def round_bf16(
    x: np.ndarray, n: int, tmp: np.ndarray, out: np.ndarray, nan_free: bool = False
) -> np.ndarray:
    """Round split float32 ``x`` to bf16 (nearest even, as :func:`dtypes.from_fp32`) and write
    its first ``n`` elements in element order to ``out`` (uint16); ``tmp``: uint32 scratch.
    ``x`` is left unchanged; ``nan_free``: the caller has checked that ``x`` holds no NaN."""
    size = x.size
    if not nan_free and np.isnan(x.max()):  # rare: NaN payloads need the general rounding
        flat = unsplit(x, n, np.empty(n, np.float32))
        out[:n] = from_fp32(flat, "BF16")
        return out[:n]
    h = size // 2
    bits = x.view(np.uint32)
    t = tmp[:size]
    np.right_shift(bits, _SHIFT, out=t)
    t &= np.uint32(1)
    t += np.uint32(0x7FFF)
    t += bits
    np.right_shift(t[:h], _SHIFT, out=t[:h])
    np.bitwise_and(t[h:], _LOW, out=t[h:])
    if n == size:
        np.bitwise_or(t[:h], t[h:], out=out[:size].view(np.uint32))
    else:  # odd n: the last pair holds the padding element
        np.bitwise_or(t[:h], t[h:], out=t[:h])
        out[:n] = t[:h].view(np.uint16)[:n]
    return out[:n]


def to_storage(
    x: np.ndarray, n: int, dtype: str, tmp: np.ndarray, out: np.ndarray, nan_free: bool = False
) -> np.ndarray:
    """Round split float32 ``x`` to ``dtype`` storage, in element order (first ``n``)."""
    if dtype == "BF16":
        return round_bf16(x, n, tmp, out, nan_free)
    flat = unsplit(x, n, tmp.view(np.float32))
    out[:n] = from_fp32(flat, dtype)
    return out[:n]
