# ruff: noqa: RUF002 (math notation in docstrings)
"""Exact k-th smallest |x| over data seen in streaming passes (radix select on float32 bits).

For non-negative float32 values the order of the bit patterns (as uint32) is the numeric order,
so the k-th smallest value is found by histogramming the high 16 bits (pass 1), then the low 16
bits of the elements in the chosen high bucket (pass 2): 2 × 65,536 counters per input, exact.
"""

from __future__ import annotations

import numpy as np

BUCKETS = 1 << 16


def _bits(x: np.ndarray) -> np.ndarray:
    return np.abs(x).reshape(-1).view(np.uint32)


class RadixSelect:
    """Finds, per input, the ``rank``-th smallest |x| (1-based) among ``d`` elements.

    ``rank`` 0 means "no threshold" (0.0: keep everything); ``rank`` > d means keep nothing.
    """

    def __init__(self, k: int, rank: int, d: int) -> None:
        self.k, self.rank, self.d = k, rank, d
        self.needs_passes = 1 <= rank <= d
        self.high = np.zeros((k, BUCKETS), np.int64)
        self.low = np.zeros((k, BUCKETS), np.int64)
        self.buckets: list[int] = []
        self.below: list[int] = []  # elements in buckets under the chosen one
        self.count_lt: list[int] = []
        self.count_eq: list[int] = []
        self.values: list[int] = []

    @staticmethod
    def high_hist(x: np.ndarray) -> np.ndarray:
        return np.bincount(_bits(x) >> np.uint32(16), minlength=BUCKETS)

    @staticmethod
    def low_hist(x: np.ndarray, bucket: int) -> np.ndarray:
        bits = _bits(x)
        sel = bits[(bits >> np.uint32(16)) == np.uint32(bucket)] & np.uint32(0xFFFF)
        return np.bincount(sel, minlength=BUCKETS)

    def add_high(self, hists: list[np.ndarray]) -> None:
        for i, h in enumerate(hists):
            self.high[i] += h

    def add_low(self, hists: list[np.ndarray]) -> None:
        for i, h in enumerate(hists):
            self.low[i] += h

    def finish_high(self) -> None:
        for i in range(self.k):
            cum = np.cumsum(self.high[i])
            b = int(np.searchsorted(cum, self.rank))
            self.buckets.append(b)
            self.below.append(int(cum[b] - self.high[i, b]))

    def finish_low(self) -> None:
        for i in range(self.k):
            cum = np.cumsum(self.low[i])
            residual = self.rank - self.below[i]
            lo = int(np.searchsorted(cum, residual))
            self.values.append((self.buckets[i] << 16) | lo)
            self.count_lt.append(self.below[i] + int(cum[lo] - self.low[i, lo]))
            self.count_eq.append(int(self.low[i, lo]))

    def thresholds(self) -> list[np.float32]:
        """The selected |x| per input (0.0 for rank 0, +inf for rank > d)."""
        if self.rank < 1:
            return [np.float32(0.0)] * self.k
        if self.rank > self.d:
            return [np.float32(np.inf)] * self.k
        return [np.array(v, np.uint32).view(np.float32)[()] for v in self.values]

    def tie_budgets(self, n_keep: int) -> list[int]:
        """How many elements equal to the threshold an exact-k selection keeps, per input."""
        if not self.needs_passes:
            return [0] * self.k
        return [
            n_keep - (self.d - lt - eq) for lt, eq in zip(self.count_lt, self.count_eq, strict=True)
        ]
