# ruff: noqa: RUF002 (math notation in docstrings)
"""Counter-based random drop masks for DARE.

Element j of tensor ``name`` of input ``i`` draws the 32-bit word u_j = half (j mod 2) of
h = splitmix64(key + (⌊j/2⌋ + 1)·φ) (half 0 = low 32 bits), where
key = derive_seed(seed, "dare", name, i) and φ = 0x9E3779B97F4A7C15; it is dropped iff
u_j < ⌊p·2³²⌋. The mask therefore depends only on (seed, name, input index, flat element
index): never on chunk size, processing order or threads.
"""

from __future__ import annotations

import numpy as np

from mmgrid.seeding import derive_seed

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def splitmix64(z: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, vectorised over uint64 (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def drop_mask(seed: int, name: str, input_index: int, start: int, count: int, p: float):
    """Boolean drop mask for flat elements ``[start, start + count)`` (True = dropped)."""
    key = np.uint64(derive_seed(seed, "dare", name, input_index))
    first = start // 2
    counters = np.arange(first + 1, (start + count + 1) // 2 + 2, dtype=np.uint64)
    h = splitmix64(counters * _GOLDEN + key)
    words = h.astype("<u8", copy=False).view("<u4")  # low half first, on any platform
    off = start - 2 * first
    return words[off : off + count] < np.uint32(min(int(p * 2**32), 2**32 - 1))


def apply_drop(delta: np.ndarray, dropped: np.ndarray, p: float, rescale: bool) -> np.ndarray:
    """In place: set dropped entries to +0; with ``rescale``, divide the survivors by
    float32(1 − p). Returns ``delta``."""
    if rescale:
        np.divide(delta, np.float32(1.0 - p), out=delta)
    keep = dropped.reshape(delta.shape).astype(np.uint32)
    keep -= np.uint32(1)  # dropped -> 0, kept -> all ones
    bits = delta.view(np.uint32)
    np.bitwise_and(bits, keep, out=bits)
    return delta
