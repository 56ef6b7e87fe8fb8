# ruff: noqa: RUF002 (math notation in docstrings)
"""Exact k-th smallest |x| over data seen in streaming passes (radix select on float32 bits).

For non-negative float32 values the order of the bit patterns (as uint32) is the numeric order,
so the k-th smallest value is found by histogramming the high 16 bits (pass 1), then the low 16
bits of the elements in the chosen high bucket (pass 2): 2 × 65,536 counters per input, exact.

The engine first tries :class:`BracketSelect`, which needs one pass: a small sample suggests a
narrow range of bit patterns; the pass counts the elements below it and histograms those inside.
When the rank lands inside, that is exact too; otherwise :class:`RadixSelect` runs.
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

    def resolve(self, found: list[tuple[int, int, int]]) -> None:
        """Take per-input (threshold bits, count below, count equal) found another way."""
        self.values = [v for v, _, _ in found]
        self.count_lt = [lt for _, lt, _ in found]
        self.count_eq = [eq for _, _, eq in found]

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


# -- one-pass selection: a bracket guessed from a sample, counted exactly ------------------------

SMALL_SCOPE = 1 << 20  # scopes up to this many elements keep every |x| of the pass (4 B each)
SAMPLE_ROWS = 16  # the sample reads the first 1/16 of the rows of every chunk
SAMPLE_BUDGET = 1 << 18  # sampled values kept per input
BRACKET_MASS = 0.004  # quantile mass on each side of the sampled estimate
MAX_BRACKET = 1 << 20  # bit patterns (histogram counters) per input: 8 MiB
FLUSH_AT = 1 << 20  # bracket members buffered before they are histogrammed
ALL_BITS = 1 << 32


def abs_bits(x: np.ndarray) -> np.ndarray:
    """|x| as uint32 bit patterns (a new array): their order is the numeric order of |x|."""
    return np.abs(x).reshape(-1).view(np.uint32)


def bracket_from_sample(sample: np.ndarray, rank: int, d: int) -> tuple[int, int]:
    """``(lo, width)``: bit patterns ``[lo, lo + width)`` likely to hold the rank-th smallest.

    ``sample`` holds |x| bit patterns drawn evenly from the scope. The bracket spans
    ``BRACKET_MASS`` of quantile on each side of the estimate, at most ``MAX_BRACKET`` patterns;
    a miss only costs the radix fallback, never exactness.
    """
    n = len(sample)
    if n == 0:
        return 0, MAX_BRACKET
    q = (rank - 0.5) / d
    pos = [min(n - 1, max(0, int(f * n))) for f in (q - BRACKET_MASS, q, q + BRACKET_MASS)]
    part = np.partition(sample, sorted(set(pos)))
    lo, mid, hi = (int(part[p]) for p in pos)
    if q - BRACKET_MASS <= 0:
        lo = 0
    if q + BRACKET_MASS >= 1:
        hi = ALL_BITS - 1
    if hi - lo + 1 > MAX_BRACKET:  # too wide: centre the widest allowed bracket on the estimate
        lo = min(max(lo, mid - MAX_BRACKET // 2), hi - MAX_BRACKET + 1)
        hi = lo + MAX_BRACKET - 1
    return lo, hi - lo + 1


class BracketSelect:
    """Finds, per input, the ``rank``-th smallest |x| of ``d`` elements in one streaming pass.

    Each input has a bracket of bit patterns ``[lo, lo + width)``: the pass counts the elements
    below it and histograms the ones inside it. If the rank falls inside, the result is exact
    (value, and the counts below and at it); otherwise :meth:`result` returns None and the
    caller runs :class:`RadixSelect`. ``width`` = ``ALL_BITS`` keeps every value instead (small
    scopes). Memory: at most ``MAX_BRACKET`` counters plus ``FLUSH_AT`` buffered values per input.
    """

    def __init__(self, rank: int, d: int, brackets: list[tuple[int, int]]) -> None:
        self.rank, self.d = rank, d
        self.brackets = brackets
        self.below = [0] * len(brackets)
        self.pending: list[list[np.ndarray]] = [[] for _ in brackets]
        self.pending_n = [0] * len(brackets)
        self.hists = [None if w == ALL_BITS else np.zeros(w, np.int64) for _, w in brackets]

    @staticmethod
    def chunk_stats(
        bits: np.ndarray, lo: int, width: int, masks: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[int, np.ndarray]:
        """(elements below the bracket, offsets from ``lo`` of those inside, a new array).

        ``masks``: optional bool scratch arrays of at least ``bits.size`` elements.
        """
        if width == ALL_BITS:
            return 0, bits.copy()
        if masks is None:
            masks = (np.empty(bits.shape, np.bool_), np.empty(bits.shape, np.bool_))
        below, inside = (m[: bits.size] for m in masks)
        n_below = int(np.count_nonzero(np.less(bits, np.uint32(lo), out=below)))
        if lo + width < ALL_BITS:
            np.less(bits, np.uint32(lo + width), out=inside)
            np.not_equal(inside, below, out=inside)  # [lo, lo + width): below hi, not below lo
        else:
            np.logical_not(below, out=inside)
        members = bits[inside]
        members -= np.uint32(lo)
        return n_below, members

    def add(self, stats: list[tuple[int, np.ndarray]]) -> None:
        for i, (below, inside) in enumerate(stats):
            self.below[i] += below
            self.pending[i].append(inside)
            self.pending_n[i] += len(inside)
            if self.hists[i] is not None and self.pending_n[i] >= FLUSH_AT:
                self._flush(i)

    def _flush(self, i: int) -> None:
        if self.pending[i]:
            values = np.concatenate(self.pending[i])
            self.hists[i] += np.bincount(values, minlength=len(self.hists[i]))
        self.pending[i], self.pending_n[i] = [], 0

    def result(self) -> list[tuple[int, int, int]] | None:
        """Per input (threshold bits, count below it, count equal to it), or None on a miss."""
        out = []
        for i, (lo, _) in enumerate(self.brackets):
            residual = self.rank - self.below[i]
            if self.hists[i] is None:
                values = np.concatenate(self.pending[i])
                v = int(np.partition(values, residual - 1)[residual - 1])
                out.append(
                    (v, int(np.count_nonzero(values < v)), int(np.count_nonzero(values == v)))
                )
                continue
            self._flush(i)
            cum = np.cumsum(self.hists[i])
            if residual < 1 or residual > cum[-1]:
                return None
            j = int(np.searchsorted(cum, residual))
            eq = int(self.hists[i][j])
            out.append((lo + j, self.below[i] + int(cum[j]) - eq, eq))
        return out
