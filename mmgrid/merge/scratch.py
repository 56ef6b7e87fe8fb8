"""Per-thread scratch buffers reused from block to block (no allocation in the inner loop)."""

from __future__ import annotations

import threading

import numpy as np

_ALIGN = 64


class Scratch:
    """Named buffers, one set per thread; ``get`` returns a view of at least ``n`` elements.

    A name always refers to the same memory within a thread, so callers give operands that
    are alive at the same time distinct names.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def get(self, name: str, n: int, dtype: type = np.float32) -> np.ndarray:
        bufs: dict[tuple[str, type], np.ndarray] = self._local.__dict__.setdefault("bufs", {})
        buf = bufs.get((name, dtype))
        if buf is None or buf.size < n:
            nbytes = n * np.dtype(dtype).itemsize
            raw = bufs.get((name, np.uint8))
            if raw is None or raw.size < nbytes:
                raw = np.empty(nbytes + _ALIGN, np.uint8)
                start = -raw.ctypes.data % _ALIGN
                raw = raw[start : start + nbytes]
                bufs = {k: v for k, v in bufs.items() if k[0] != name}
                self._local.bufs = bufs
                bufs[(name, np.uint8)] = raw
            buf = raw[: raw.size // np.dtype(dtype).itemsize * np.dtype(dtype).itemsize]
            buf = buf.view(dtype)
            bufs[(name, dtype)] = buf
        return buf[:n]

    def const(self, name: str, n: int, value: float | int, dtype: type = np.float32) -> np.ndarray:
        """A buffer of at least ``n`` elements all equal to ``value`` (filled when allocated);
        callers never write to it. Array operands keep numpy off its slow scalar paths."""
        key = f"const:{name}:{value!r}"
        consts: dict[str, np.ndarray] = self._local.__dict__.setdefault("consts", {})
        buf = consts.get(key)
        if buf is None or buf.size < n:
            buf = np.full(n, value, dtype)
            consts[key] = buf
        return buf[:n]
