# ruff: noqa: RUF002 (math notation in docstrings)
"""The merge engine: streams every tensor in row chunks through the chosen method.

All arithmetic is float32 on chunks of at most ``chunk_elems`` elements (at least one row);
each output element is rounded once to its output dtype and written at its precomputed offset.
Results are bit-identical for every chunk size and thread count.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mmgrid.atomic import atomic_dir, write_json
from mmgrid.merge import dare as dare_rng
from mmgrid.merge import lora
from mmgrid.merge import select as selection
from mmgrid.merge.allocator import keep_heap_for_chunks
from mmgrid.merge.dtypes import from_fp32, to_fp32
from mmgrid.merge.methods import extrapolate, linear, task_arithmetic, ties
from mmgrid.merge.plan import MergePlan, TensorJob, build_plan
from mmgrid.merge.provenance import provenance
from mmgrid.merge.safetensors_io import FileReader, OutTensor, SafetensorsWriter
from mmgrid.merge.select import BracketSelect, RadixSelect, abs_bits
from mmgrid.merge.spec import MergeSpec, parse_spec

DEFAULT_CHUNK_ELEMS = 1 << 18
PENDING_CAP = 1 << 22  # majority-sign patches kept in memory before falling back to a rerun
# Non-tensor files a merged checkpoint needs (model config and tokenizer); nothing else of the
# source directory is copied (e.g. a training log describes the source, not the merge).
COPIED_FILES = (
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "chat_template.jinja",
    "chat_template.json",
    "vocab.json",
    "merges.txt",
    "tokenizer.model",
)

Log = Callable[[str], None]
Chunk = tuple[TensorJob, int, int]


@dataclass
class MergeResult:
    """What a merge produced."""

    out_dir: Path
    files: list[Path]
    plan: str
    passes: int
    bytes_read: int
    bytes_written: int
    seconds: float
    provenance: dict[str, Any] = field(repr=False, default_factory=dict)


def merge(
    spec: MergeSpec | Mapping[str, Any],
    out_dir: str | Path,
    *,
    chunk_elems: int = DEFAULT_CHUNK_ELEMS,
    threads: int = 1,
    checksums: bool = True,
    log: Log | None = None,
) -> MergeResult:
    """Validate ``spec`` against every input's headers, then write the merge to ``out_dir``.

    ``out_dir`` appears whole or not at all. A mapping spec resolves relative paths against the
    current directory.
    """
    say = log or (lambda _msg: None)
    if not isinstance(spec, MergeSpec):
        spec = parse_spec(spec)
    if chunk_elems < 1 or threads < 1:
        raise ValueError("chunk_elems and threads must be >= 1")
    start = time.perf_counter()
    plan = build_plan(spec)
    keep_heap_for_chunks()
    text = plan.describe(chunk_elems, threads)
    say(text)
    out_dir = Path(out_dir)
    reader = FileReader()
    try:
        with atomic_dir(out_dir) as tmp:
            if plan.is_lora_output:
                files = lora.write_concatenated(reader, plan.inputs, _lora_coefficients(plan), tmp)
            else:
                files = _Engine(plan, reader, chunk_elems, threads, say).run(tmp)
            files += _copy_files(plan, tmp)
            seconds = time.perf_counter() - start
            record = provenance(plan, tmp, files, chunk_elems, threads, checksums, seconds)
            write_json(tmp / "merge.json", record)
            files = [out_dir / f.relative_to(tmp) for f in [*files, tmp / "merge.json"]]
    finally:
        reader.close()
    say(f"wrote {out_dir} in {time.perf_counter() - start:.2f} s")
    return MergeResult(
        out_dir=out_dir,
        files=files,
        plan=text,
        passes=plan.passes,
        bytes_read=plan.read_bytes() * plan.passes,
        bytes_written=plan.write_bytes(),
        seconds=time.perf_counter() - start,
        provenance=record,
    )


def _lora_coefficients(plan: MergePlan) -> list[float]:
    w = plan.spec.weights
    opts = plan.spec.options
    if plan.spec.method == "linear":
        total = float(linear.weight_total(w)) if opts.normalize else 1.0
        return [x / total for x in w]
    total = float(linear.weight_total(w)) if opts.normalize else 1.0
    return [opts.scale * x / total for x in w]


def _copy_files(plan: MergePlan, out: Path) -> list[Path]:
    copied = []
    for name in COPIED_FILES:
        src = plan.copy_from / name
        if not src.is_file() or (plan.is_lora_output and name == "config.json"):
            continue
        shutil.copy2(src, out / name)
        copied.append(out / name)
    return copied


def ordered_map(fn: Callable[[Any], Any], items: Iterable[Any], threads: int) -> Iterator[Any]:
    """``map`` in order with at most 2·threads items in flight (bounded memory)."""
    if threads == 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(threads) as pool:
        window: deque = deque()
        for item in items:
            window.append(pool.submit(fn, item))
            if len(window) >= 2 * threads:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


class _Engine:
    """Reads operands for row chunks and runs one merge plan."""

    def __init__(self, plan: MergePlan, reader: FileReader, chunk_elems, threads, log: Log):
        self.plan = plan
        self.spec = plan.spec
        self.reader = reader
        self.chunk_elems = chunk_elems
        self.threads = threads
        self.log = log
        self.weights = plan.spec.weights
        self.writer: SafetensorsWriter | None = None
        self._last_reference = threading.local()

    # -- operands -------------------------------------------------------------------------
    def _fp32(self, info, job: TensorJob, r0: int, r1: int) -> np.ndarray:
        """Rows of ``info``; rows beyond its vocabulary come from the target (vocab padding)."""
        if r1 <= info.rows:
            return to_fp32(self.reader.read_rows(info, r0, r1), info.dtype)
        tail = to_fp32(self.reader.read_rows(job.target, max(r0, info.rows), r1), job.target.dtype)
        if r0 >= info.rows:
            return tail
        head = to_fp32(self.reader.read_rows(info, r0, info.rows), info.dtype)
        return np.concatenate([head, tail])

    def target(self, job: TensorJob, r0: int, r1: int) -> np.ndarray:
        """θ_target rows (never modified by callers); reuses the reference rows this thread
        just read when the target is the reference."""
        memo = getattr(self._last_reference, "rows", None)
        if job.target == job.reference and memo is not None and memo[0] == (job.name, r0, r1):
            return memo[1]
        return self._fp32(job.target, job, r0, r1)

    def reference(self, job: TensorJob, r0: int, r1: int) -> np.ndarray:
        """θ_reference rows (never modified by callers), remembered for :meth:`target`."""
        rows = self._fp32(job.reference, job, r0, r1)
        self._last_reference.rows = ((job.name, r0, r1), rows)
        return rows

    def value(self, job: TensorJob, i: int, r0: int, r1: int) -> np.ndarray:
        item = job.inputs[i]
        x = self._fp32(item.dense or item.base, job, r0, r1)
        if item.lora is not None:
            x += lora.delta_rows(self.reader, item.lora, r0, r1)
        return x

    def deltas(self, job: TensorJob, r0: int, r1: int) -> list[np.ndarray]:
        """τᵢ for every input (θᵢ − θ_reference; LoRA: scale·B@A), after DARE if configured."""
        ref = None
        out = []
        for i, item in enumerate(job.inputs):
            if item.dense is not None:
                if ref is None:
                    ref = self.reference(job, r0, r1)
                d = self._fp32(item.dense, job, r0, r1)
                d -= ref
            elif item.lora is not None:
                d = lora.delta_rows(self.reader, item.lora, r0, r1)
            else:
                d = np.zeros((r1 - r0, job.row_len), np.float32)
            if self.plan.dare is not None:
                p = self.plan.dare.drop_rate
                n = (r1 - r0) * job.row_len
                dropped = dare_rng.drop_mask(self.spec.seed, job.name, i, r0 * job.row_len, n, p)
                d = dare_rng.apply_drop(d, dropped, p, self.plan.dare.rescale)
            out.append(d)
        return out

    # -- single-pass methods ---------------------------------------------------------------
    def combine(self, job: TensorJob, r0: int, r1: int) -> np.ndarray:
        spec, opts = self.spec, self.spec.options
        if spec.method == "linear":
            values = [self.value(job, i, r0, r1) for i in range(len(job.inputs))]
            return linear.combine(values, self.weights, opts)
        if spec.method == "extrapolate" and not extrapolate.uses_deltas(opts):
            values = [self.value(job, i, r0, r1) for i in range(len(job.inputs))]
            return extrapolate.combine_values(values, opts)
        deltas = self.deltas(job, r0, r1)
        if spec.method == "extrapolate":
            return extrapolate.combine_deltas(self.target(job, r0, r1), deltas, opts)
        if spec.method == "task_arithmetic":
            return task_arithmetic.combine(self.target(job, r0, r1), deltas, self.weights, opts)
        # dare followed by linear or task arithmetic
        if opts.merge == "linear":
            values = []
            for i, d in enumerate(deltas):
                item = job.inputs[i]
                anchor = (
                    self.reference(job, r0, r1)
                    if job.reference is not None
                    else self._fp32(item.base, job, r0, r1)
                )
                values.append(anchor + d)
            return linear.combine(values, self.weights, opts.merge_options)
        target = self.target(job, r0, r1)
        return task_arithmetic.combine(target, deltas, self.weights, opts.merge_options)

    def finish(self, job: TensorJob, r0: int, r1: int, out: np.ndarray) -> np.ndarray:
        """Apply the vocabulary-row copy, round once to the output dtype."""
        if job.copy_rows is not None:
            start, end, src = job.copy_rows
            lo, hi = max(r0, start), min(r1, end)
            if lo < hi:
                out[lo - r0 : hi - r0] = self.value(job, src, lo, hi)
        return from_fp32(out, job.out_dtype)

    def chunks(self, jobs: Iterable[TensorJob]) -> Iterator[Chunk]:
        for job in jobs:
            step = max(1, self.chunk_elems // max(1, job.row_len))
            for r0 in range(0, job.rows, step):
                yield job, r0, min(job.rows, r0 + step)

    def run(self, out: Path) -> list[Path]:
        out_tensors = [OutTensor(j.name, j.out_dtype, j.shape) for j in self.plan.jobs]
        meta = {"mmgrid_merge_method": self.spec.method_name}
        self.writer = SafetensorsWriter(
            out, out_tensors, shard_bytes=self.spec.output.shard_bytes, metadata=meta
        )
        try:
            if self.plan.ties is None:
                self.log("pass 1/1: merge")
                for _ in ordered_map(self._single_chunk, self.chunks(self.plan.jobs), self.threads):
                    pass
            else:
                _TiesRunner(self, self.plan.ties).run()
        finally:
            self.writer.close()
        return list(self.writer.files)

    def _single_chunk(self, chunk: Chunk) -> None:
        job, r0, r1 = chunk
        self.writer.write_rows(job.name, r0, self.finish(job, r0, r1, self.combine(job, r0, r1)))


class _TiesRunner:
    """TIES over scopes (all tensors, or each tensor): per scope, a 1/16 sample and one pass
    find the thresholds (2 more radix passes if one falls outside its sampled bracket), then
    the merge pass."""

    def __init__(self, engine: _Engine, opts: ties.TiesOptions):
        self.e = engine
        self.opts = opts

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

    def _scaled(self, job: TensorJob, r0: int, r1: int) -> list[np.ndarray]:
        return ties.scaled_deltas(self.e.deltas(job, r0, r1), self.e.weights, self.opts)

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
            xs = self._scaled(*chunk)
            return [
                BracketSelect.chunk_stats(abs_bits(x), lo, width)
                for x, (lo, width) in zip(xs, brackets, strict=True)
            ]

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
            return [abs_bits(x)[::step].copy() for x in self._scaled(*chunk)]

        parts: list[list[np.ndarray]] = [[] for _ in range(k)]
        for xs in ordered_map(sample, heads, self.e.threads):
            for i, x in enumerate(xs):
                parts[i].append(x)
        return [selection.bracket_from_sample(np.concatenate(p), rank, d) for p in parts]

    def _radix_select(self, chunks: list[Chunk], select: RadixSelect) -> None:
        """The exact fallback: histograms of the high, then the low 16 bits (2 passes)."""

        def high(chunk: Chunk):
            return [RadixSelect.high_hist(x) for x in self._scaled(*chunk)]

        for hists in ordered_map(high, chunks, self.e.threads):
            select.add_high(hists)
        select.finish_high()

        def low(chunk: Chunk):
            xs = self._scaled(*chunk)
            return [RadixSelect.low_hist(x, h) for x, h in zip(xs, select.buckets, strict=True)]

        for hists in ordered_map(low, chunks, self.e.threads):
            select.add_low(hists)
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
        e, opts = self.e, self.opts

        def work(chunk: Chunk):
            job, r0, r1 = chunk
            xs = self._scaled(job, r0, r1)
            trimmed, any_keep = [], None
            for i, x in enumerate(xs):
                if budgets is None:
                    t, keep = ties.trim_ge(x, thresholds[i])
                else:
                    t, keep, used = ties.trim_exact(x, thresholds[i], budgets[i])
                    budgets[i] -= used
                trimmed.append(t)
                any_keep = keep if any_keep is None else np.logical_or(any_keep, keep, out=any_keep)
            total = ties.elect_sum(trimmed, e.weights, opts)
            positive = ties.elected_direction(total, zero is None or zero > 0)
            target = e.target(job, r0, r1)
            merged = ties.finish(
                target, ties.elected_merge(trimmed, e.weights, opts, positive), opts
            )
            patch = None
            if zero is None:  # zero sums with a kept entry, patched once the majority is known
                cancel = np.logical_and(total == 0, any_keep, out=any_keep)
                patch = self._zero_sum_patch(job, r0, r1, cancel, trimmed, target)
            e.writer.write_rows(job.name, r0, e.finish(job, r0, r1, merged))
            return ties.sign_balance(total), patch

        threads = 1 if budgets is not None else e.threads
        balance, pending, size, overflow = 0, [], 0, False
        for b, patch in ordered_map(work, e.chunks(group), threads):
            balance += b
            if patch is not None and not overflow:
                size += len(patch[1])
                overflow = size > PENDING_CAP
                if overflow:
                    pending.clear()
                else:
                    pending.append(patch)
        return balance, pending, overflow

    def _zero_sum_patch(self, job: TensorJob, r0: int, r1: int, cancel, trimmed, target):
        """The −1 alternative, rounded, at the chunk's ``cancel`` positions (None if none).

        ``cancel`` marks zero sums with a kept entry: a superset of true cancellations, since
        patching a position whose kept entries are all 0 rewrites the same value.
        """
        if job.copy_rows is not None:
            s, end, _ = job.copy_rows
            cancel[max(0, s - r0) : max(0, end - r0)] = False
        if not cancel.any():
            return None
        idx = np.flatnonzero(cancel)
        picked = [t.reshape(-1)[idx] for t in trimmed]
        _, neg = ties.signed_merges(picked, self.e.weights, self.opts)
        alt = ties.finish(target.reshape(-1)[idx], neg, self.opts)
        return job.name, idx + r0 * job.row_len, from_fp32(alt, job.out_dtype)
