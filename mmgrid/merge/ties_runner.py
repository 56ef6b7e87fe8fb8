# ruff: noqa: RUF002 (math notation in docstrings)
"""TIES over streamed checkpoints: thresholds from a sample and a counting pass, then the merge.

Per scope (all tensors, or each tensor; ``TiesOptions.scope``) a 1/16 sample and one pass find
every input's trimming threshold exactly (:mod:`mmgrid.merge.select`; 2 more radix passes when
one falls outside its sampled bracket), then a merge pass trims, elects the sign and merges
each block. Where the elected sign of a zero sum waits for the scope's majority sign, the
merge pass keeps the alternative values and patches them afterwards (or merges the scope once
more when there are too many).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mmgrid.merge import select as selection
from mmgrid.merge.dtypes import from_fp32
from mmgrid.merge.methods import ties
from mmgrid.merge.plan import TensorJob
from mmgrid.merge.select import BracketSelect, RadixSelect
from mmgrid.merge.streaming import Block, Chunk, Rows, Streamer, ordered_map

PENDING_CAP = 1 << 22  # majority-sign patches kept in memory before falling back to a rerun


class TiesRunner:
    """TIES over scopes (all tensors, or each tensor): per scope, a 1/16 sample and one pass
    find the thresholds (2 more radix passes if one falls outside its sampled bracket), then
    the merge pass."""

    def __init__(self, streamer: Streamer, opts: ties.TiesOptions):
        self.e = streamer
        self.opts = opts
        # elect mass: an exactly zero sum with a non-zero entry has a positive entry, hence a
        # non-zero +1 merge (a count divisor cannot round it to 0), so that marks cancellations
        self.cancel_by_merge = (
            opts.weighting == "pre_trim" and opts.elect == "mass" and opts.divisor != "weight_sum"
        )

    def run(self) -> None:
        jobs = self.e.plan.jobs
        groups = [jobs] if self.opts.scope == "global" else [[j] for j in jobs]
        for n, group in enumerate(groups):
            if self.opts.scope == "global" or n == 0:
                self.e.log(
                    f"TIES scope {self.opts.scope}: {len(groups)} scope(s), "
                    "a threshold pass and a merge pass each"
                )
            self._group(group)

    def _scaled(self, blk: Block) -> list[np.ndarray]:
        return ties.scaled_deltas(self.e.deltas(blk), self.e.weights, self.opts)

    def _each_block(self, chunk: Chunk, fn: Callable[[Block, list[np.ndarray]], None]) -> None:
        """Call ``fn(block, scaled deltas)`` for every block of ``chunk``."""
        rows = Rows(self.e, *chunk)
        for blk in rows.blocks():
            fn(blk, self._scaled(blk))

    def _abs_bits(self, x: np.ndarray, n: int) -> np.ndarray:
        """|x| bit patterns of the first ``n`` (real) elements, in scratch."""
        out = self.e.scratch.get("abs", n, np.uint32)
        return np.bitwise_and(x[:n].view(np.uint32), np.uint32(0x7FFFFFFF), out=out)

    def _group(self, group: list[TensorJob]) -> None:
        k = len(group[0].inputs)
        d = sum(j.numel for j in group)
        rank = ties.threshold_rank(d, self.opts)
        select = RadixSelect(k, rank, d)
        if select.needs_passes:
            chunks = list(self.e.chunks(group))
            found = self._bracket_select(chunks, k, rank, d)
            if found is None:
                self.e.log("TIES threshold outside the sampled bracket: exact radix select")
                self._radix_select(chunks, select)
            else:
                select.resolve(found)
        thresholds = select.thresholds()
        if self.opts.select == "exact_k":
            n_keep = ties.keep_count(d, self.opts)
            budgets = select.tie_budgets(n_keep)
        else:
            budgets = None
        self._merge(group, thresholds, budgets)

    def _bracket_select(self, chunks: list[Chunk], k: int, rank: int, d: int):
        """One pass: count each input's |dᵢ| below a sampled bracket, histogram those inside."""
        if d <= selection.SMALL_SCOPE:
            brackets = [(0, selection.ALL_BITS)] * k
        else:
            brackets = self._sample_brackets(chunks, k, rank, d)
        bracket = BracketSelect(rank, d, brackets)

        def stats(chunk: Chunk):
            below, inside = [0] * k, [[] for _ in range(k)]

            def block(blk: Block, xs: list[np.ndarray]) -> None:
                masks = tuple(self.e.scratch.get(m, blk.n, np.bool_) for m in ("below", "inside"))
                for i, (x, (lo, width)) in enumerate(zip(xs, brackets, strict=True)):
                    bits = self._abs_bits(x, blk.n)
                    b, members = BracketSelect.chunk_stats(bits, lo, width, masks)
                    below[i] += b
                    inside[i].append(members)

            self._each_block(chunk, block)
            return [(b, np.concatenate(m)) for b, m in zip(below, inside, strict=True)]

        for found in ordered_map(stats, chunks, self.e.threads):
            bracket.add(found)
        return bracket.result()

    def _sample_brackets(self, chunks: list[Chunk], k: int, rank: int, d: int):
        """Brackets from the first 1/``SAMPLE_ROWS`` of the rows of every chunk (evenly thinned
        to ``SAMPLE_BUDGET`` values per input)."""
        heads = [
            (job, r0, r0 + max(1, (r1 - r0) // selection.SAMPLE_ROWS)) for job, r0, r1 in chunks
        ]
        n = sum((r1 - r0) * job.row_len for job, r0, r1 in heads)
        step = max(1, -(-n // selection.SAMPLE_BUDGET))

        def sample(chunk: Chunk):
            parts: list[list[np.ndarray]] = [[] for _ in range(k)]

            def block(blk: Block, xs: list[np.ndarray]) -> None:
                for i, x in enumerate(xs):
                    parts[i].append(self._abs_bits(x, blk.n)[::step].copy())

            self._each_block(chunk, block)
            return [np.concatenate(p) for p in parts]

        parts: list[list[np.ndarray]] = [[] for _ in range(k)]
        for xs in ordered_map(sample, heads, self.e.threads):
            for i, x in enumerate(xs):
                parts[i].append(x)
        return [selection.bracket_from_sample(np.concatenate(p), rank, d) for p in parts]

    def _radix_select(self, chunks: list[Chunk], select: RadixSelect) -> None:
        """The exact fallback: histograms of the high, then the low 16 bits (2 passes)."""
        k = select.k

        def hists(chunk: Chunk, hist: Callable[[int, np.ndarray], np.ndarray]):
            acc = [np.zeros(selection.BUCKETS, np.int64) for _ in range(k)]

            def block(blk: Block, xs: list[np.ndarray]) -> None:
                for i, x in enumerate(xs):
                    acc[i] += hist(i, x[: blk.n])

            self._each_block(chunk, block)
            return acc

        def high(chunk: Chunk):
            return hists(chunk, lambda _i, x: RadixSelect.high_hist(x))

        for found in ordered_map(high, chunks, self.e.threads):
            select.add_high(found)
        select.finish_high()

        def low(chunk: Chunk):
            return hists(chunk, lambda i, x: RadixSelect.low_hist(x, select.buckets[i]))

        for found in ordered_map(low, chunks, self.e.threads):
            select.add_low(found)
        select.finish_low()

    def _merge(self, group, thresholds, budgets) -> None:
        zero = 1 if self.opts.zero_sign == "positive" else None
        balance, pending, overflow = self._merge_pass(group, thresholds, budgets, zero)
        if zero is not None:
            return
        majority = int(np.sign(balance))
        if majority > 0:
            return
        if overflow:
            self.e.log("majority sign is not positive: merging the scope again (4th pass)")
            self._merge_pass(group, thresholds, budgets, majority)
            return
        self.e.log(
            f"majority sign is not positive: patching {sum(len(p[1]) for p in pending)} zero-sum elements"
        )
        for name, flat, raw in pending:
            self.e.writer.patch_elements(name, flat, raw)

    def _merge_pass(self, group, thresholds, budgets, zero: int | None):
        """One merge pass; with ``zero`` None the sign of zero sums is provisionally +1 and the
        −1 alternatives are returned for patching once the majority is known."""
        budgets = list(budgets) if budgets is not None else None
        e = self.e

        def work(chunk: Chunk):
            rows = Rows(e, *chunk)
            out = e.out_buffer(rows)
            balance, patches = 0, []
            for blk in rows.blocks():
                merged, b, patch = self._merge_block(blk, thresholds, budgets, zero)
                if merged is None:  # a NaN was kept: redo the block with exact trimming
                    merged, b, patch = self._merge_block(blk, thresholds, budgets, zero, True)
                balance += b
                if patch is not None:
                    patches.append(patch)
                e.store(blk, merged, out)
            e.write(rows, out)
            return balance, patches

        threads = 1 if budgets is not None else e.threads
        balance, pending, size, overflow = 0, [], 0, False
        for b, patches in ordered_map(work, e.chunks(group), threads):
            balance += b
            for patch in patches:
                if overflow:
                    break
                size += len(patch[1])
                overflow = size > PENDING_CAP
                if overflow:
                    pending.clear()
                else:
                    pending.append(patch)
        return balance, pending, overflow

    def _trim(self, blk: Block, xs: list[np.ndarray], thresholds, budgets, exact: bool):
        """Trimmed copies of ``xs`` (in place unless ``exact``); ``exact`` drops NaN."""
        if budgets is not None:  # exact_k: threshold ties kept in element order, budgets shared
            trimmed = []
            for i, x in enumerate(xs):
                t, _, used = ties.trim_exact(x[: blk.n], thresholds[i], budgets[i], blk.flat)
                budgets[i] -= used
                x[: blk.n] = t
                x[blk.n :] = 0
                trimmed.append(x)
            return trimmed
        if exact:
            return [ties.trim_ge(x, t)[0] for x, t in zip(xs, thresholds, strict=True)]
        work = self.e.scratch.get("trim", blk.size, np.int32)
        return [ties.trim_ge_inplace(x, t, work) for x, t in zip(xs, thresholds, strict=True)]

    def _merge_block(self, blk: Block, thresholds, budgets, zero, exact: bool = False):
        """(merged block, sign balance, zero-sum patch or None); merged is None when the fast
        trimming kept a NaN (the caller then asks again with ``exact``)."""
        e, opts, n = self.e, self.opts, blk.n
        fast = budgets is None and not exact
        trimmed = self._trim(blk, self._scaled(blk), thresholds, budgets, exact)
        total = ties.elect_sum(trimmed, e.weights, opts, out=e.scratch.get("total", blk.size))
        merged, cancel = self._disjoint_merge(blk, trimmed, total, zero)
        balance, patch = 0, None
        if zero is None:  # the scope's majority sign decides the zero sums afterwards
            signs = np.sign(total[:n], out=e.scratch.get("signs", n))
            total_sign = signs.sum()  # ±1 and 0 in float32: exact for a block's count
            nan = np.isnan(total_sign)
            balance = ties.sign_balance(total[:n]) if nan else int(total_sign)
        target = e.target(blk)
        out = ties.finish(target, merged, opts)
        if fast and np.isnan(out.max()):  # NaN-free otherwise: the rounding need not look
            return None, 0, None
        if zero is None and len(cancel):
            patch = self._zero_sum_patch(blk, cancel, trimmed, target)
        return out, balance, patch

    def _disjoint_merge(self, blk: Block, trimmed, total, zero):
        """The disjoint merge of every element, and the split positions of zero sums that have
        a non-zero entry (only when ``zero`` is None: the sign of zero sums is provisional)."""
        e, n = self.e, blk.n
        positive = e.scratch.get("positive", blk.size, np.bool_)
        ties.elected_direction(total, zero is None or zero > 0, out=positive)
        merged = ties.elected_merge(trimmed, e.weights, self.opts, positive, e.scratch)
        if zero is not None:
            return merged, np.empty(0, np.int64)
        cancel = e.scratch.get("cancel", blk.size, np.bool_)
        np.equal(total, np.float32(0), out=cancel)
        if not np.count_nonzero(cancel[:n]):
            return merged, np.empty(0, np.int64)
        nonzero = e.scratch.get("nonzero", blk.size, np.bool_)
        if self.cancel_by_merge:
            np.not_equal(merged, np.float32(0), out=nonzero)
        else:
            bits = e.scratch.get("anybits", blk.size, np.uint32)
            np.copyto(bits, trimmed[0].view(np.uint32))
            for t in trimmed[1:]:
                np.bitwise_or(bits, t.view(np.uint32), out=bits)
            np.not_equal(bits, np.uint32(0), out=nonzero)
        np.logical_and(cancel, nonzero, out=cancel)
        return merged, np.flatnonzero(cancel[:n])

    def _zero_sum_patch(self, blk: Block, idx, trimmed, target):
        """The −1 alternative, rounded, at the block's split positions ``idx`` (None if none).

        ``idx`` holds zero sums with a non-zero entry (or, for other elect modes, any non-zero
        entry): a superset of true cancellations, since patching a position whose entries are
        all 0 rewrites the same value.
        """
        job = blk.job
        flat = blk.start + blk.flat(idx)
        if job.copy_rows is not None:
            s, end, _ = job.copy_rows
            inside = (flat >= s * job.row_len) & (flat < end * job.row_len)
            idx, flat = idx[~inside], flat[~inside]
        if not len(idx):
            return None
        picked = [t[idx] for t in trimmed]
        _, neg = ties.signed_merges(picked, self.e.weights, self.opts)
        alt = ties.finish(target[idx], neg, self.opts)
        return job.name, flat, from_fp32(alt, job.out_dtype)
