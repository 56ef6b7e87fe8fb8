"""Safetensors dtypes and exact conversions between them and float32 (numpy has no bfloat16)."""

from __future__ import annotations

import numpy as np

#: safetensors dtype name -> numpy storage dtype (bf16 is stored as its raw uint16 bits).
STORAGE: dict[str, np.dtype] = {
    "BF16": np.dtype(np.uint16),
    "F16": np.dtype(np.float16),
    "F32": np.dtype(np.float32),
}

#: user-facing output dtype names -> safetensors dtype names.
ALIASES: dict[str, str] = {
    "bf16": "BF16",
    "bfloat16": "BF16",
    "fp16": "F16",
    "float16": "F16",
    "fp32": "F32",
    "float32": "F32",
}


def itemsize(dtype: str) -> int:
    """Bytes per element of a supported safetensors dtype."""
    return STORAGE[dtype].itemsize


def to_fp32(raw: np.ndarray, dtype: str) -> np.ndarray:
    """Widen stored values to float32 exactly (bf16: shift the bits into the high half)."""
    if dtype == "BF16":  # a widening copy, then an in-place shift: both fast SIMD loops
        bits = raw.astype(np.uint32)
        bits <<= np.uint32(16)
        return bits.view(np.float32)
    if dtype == "F32":
        return raw.astype(np.float32, copy=True)
    return raw.astype(np.float32)


def from_fp32(x: np.ndarray, dtype: str) -> np.ndarray:
    """Round float32 values to ``dtype`` storage with round-to-nearest-even (NaN stays NaN)."""
    if dtype == "BF16":
        bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
        t = bits >> np.uint32(16)
        t &= np.uint32(1)
        t += np.uint32(0x7FFF)
        t += bits
        t >>= np.uint32(16)
        out = t.astype(np.uint16)
        if x.size and np.isnan(x.max()):  # max propagates NaN: one cheap pass
            nan = np.isnan(x)
            out[nan] = ((bits[nan] >> np.uint32(16)) | np.uint32(0x0040)).astype(np.uint16)
        return out
    if dtype == "F16":
        with np.errstate(over="ignore"):  # out of range rounds to ±inf, as IEEE requires
            return x.astype(np.float16)
    return np.ascontiguousarray(x, dtype=np.float32)
