# ruff: noqa: RUF002 (math notation in docstrings)
"""The merge engine: streams every tensor in row chunks through the chosen method.

A chunk (at most ``chunk_elems`` elements, at least one row) is the unit of writing and
threading; it is read and computed in blocks of ``BLOCK_ELEMS`` elements held in the
split-pair layout (``layout``) in per-thread scratch buffers. All arithmetic is float32; each
output element is rounded once to its output dtype and written at its precomputed offset.
Results are bit-identical for every chunk size and thread count.
"""

from __future__ import annotations

import shutil
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mmgrid.atomic import atomic_dir, check_output, write_json
from mmgrid.errors import InputError
from mmgrid.merge import dare as dare_rng
from mmgrid.merge import layout, lora
from mmgrid.merge import select as selection
from mmgrid.merge.allocator import keep_heap_for_chunks
from mmgrid.merge.dtypes import STORAGE, from_fp32, to_fp32
from mmgrid.merge.methods import extrapolate, linear, task_arithmetic, ties
from mmgrid.merge.plan import MergePlan, TensorJob, build_plan
from mmgrid.merge.provenance import provenance
from mmgrid.merge.safetensors_io import FileReader, OutTensor, SafetensorsWriter, TensorInfo
from mmgrid.merge.scratch import Scratch
from mmgrid.merge.select import BracketSelect, RadixSelect
from mmgrid.merge.spec import MergeSpec, parse_spec

DEFAULT_CHUNK_ELEMS = 1 << 20  # rows written and handed to a thread at a time
BLOCK_ELEMS = 1 << 18  # elements read and computed at a time (operands stay in cache)
#: per output dtype, the magnitude from which a float32 result is (or rounds to) ±inf
FINITE_LIMIT = {
    "F32": np.float32(np.inf),
    "BF16": np.uint32(0x7F7F8000).view(np.float32),  # halfway to inf: rounds up to it
    "F16": np.float32(65520.0),
}
with np.errstate(over="ignore"):
    _LIMIT_SQUARED = {dtype: limit * limit for dtype, limit in FINITE_LIMIT.items()}
PROVENANCE = "merge.json"  # in every merge output (which makes it recognisable as one)
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
    overwrite: bool = False,
    protect: Iterable[str | Path] = (),
) -> MergeResult:
    """Validate ``spec`` against every input's headers, then write the merge to ``out_dir``.

    ``out_dir`` appears whole or not at all. It may not be, contain or lie inside any path the
    spec reads (nor one of ``protect``, e.g. the spec file); an existing non-empty ``out_dir``
    is replaced only when it is a previous merge output (it holds ``merge.json``) or with
    ``overwrite`` (:func:`mmgrid.atomic.check_output`). A mapping spec resolves relative paths
    against the current directory.
    """
    say = log or (lambda _msg: None)
    if not isinstance(spec, MergeSpec):
        spec = parse_spec(spec)
    if chunk_elems < 1 or threads < 1:
        raise ValueError("chunk_elems and threads must be >= 1")
    guard = {"marker": PROVENANCE, "inputs": [*spec.read_paths(), *protect], "overwrite": overwrite}
    check_output(out_dir, directory=True, **guard)  # before the plan opens any file
    start = time.perf_counter()
    plan = build_plan(spec)
    keep_heap_for_chunks()
    text = plan.describe(chunk_elems, threads)
    say(text)
    out_dir = Path(out_dir)
    reader = FileReader()
    try:
        with atomic_dir(out_dir, **guard) as tmp:
            if plan.is_lora_output:
                files = lora.write_concatenated(reader, plan.inputs, _lora_coefficients(plan), tmp)
            else:
                files = _Engine(plan, reader, chunk_elems, threads, say).run(tmp)
            files += _copy_files(plan, tmp)
            seconds = time.perf_counter() - start
            record = provenance(plan, tmp, files, chunk_elems, threads, checksums, seconds)
            write_json(tmp / PROVENANCE, record)
            files = [out_dir / f.relative_to(tmp) for f in [*files, tmp / PROVENANCE]]
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


@dataclass(frozen=True)
class _Stored:
    """The bf16 elements of a chunk from ``start`` (flat index) of a stored tensor, read block
    by block into scratch (``os.preadv``: no mapping, and a block's operands stay in cache)."""

    info: TensorInfo
    start: int


class _Rows:
    """The operands of rows ``[r0, r1)`` of one job, each resolved on first use: stored bf16
    rows (read block by block, see :class:`_Stored`) or a flat float32 array (other dtypes,
    rows beyond an input's vocabulary, LoRA)."""

    def __init__(self, engine: _Engine, job: TensorJob, r0: int, r1: int) -> None:
        self.e, self.job, self.r0, self.r1 = engine, job, r0, r1
        self.n = (r1 - r0) * job.row_len
        self.start = r0 * job.row_len
        self._sources: dict[Any, np.ndarray | _Stored] = {}

    def blocks(self) -> Iterator[_Block]:
        """The blocks of the rows; while they are computed numpy does not warn about overflow
        or NaN (:meth:`_Engine.check_finite` decides what a non-finite result means)."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for b0 in range(0, self.n, BLOCK_ELEMS):
                yield _Block(self, b0, min(self.n, b0 + BLOCK_ELEMS))

    def stored(self, info: TensorInfo) -> np.ndarray | _Stored:
        key = ("stored", info.file, info.offset)
        src = self._sources.get(key)
        if src is None:
            if info.dtype == "BF16" and self.r1 <= info.rows:
                src = _Stored(info, self.start)
            else:
                src = self.e.fp32_rows(info, self.job, self.r0, self.r1).reshape(-1)
            self._sources[key] = src
        return src

    def value(self, i: int) -> np.ndarray | _Stored:
        """Input i's values: stored rows, or base rows + LoRA ΔW."""
        item = self.job.inputs[i]
        if item.lora is None:
            return self.stored(item.dense or item.base)
        key = ("value", i)
        if key not in self._sources:
            x = self.e.fp32_rows(item.dense or item.base, self.job, self.r0, self.r1)
            x += lora.delta_rows(self.e.reader, item.lora, self.r0, self.r1)
            self._sources[key] = x.reshape(-1)
        return self._sources[key]

    def lora_delta(self, i: int) -> np.ndarray:
        key = ("lora", i)
        if key not in self._sources:
            d = lora.delta_rows(self.e.reader, self.job.inputs[i].lora, self.r0, self.r1)
            self._sources[key] = d.reshape(-1)
        return self._sources[key]


class _Block:
    """Elements ``[b0, b1)`` of a :class:`_Rows`, computed in the split-pair layout."""

    def __init__(self, rows: _Rows, b0: int, b1: int) -> None:
        self.rows, self.job, self.b0, self.b1 = rows, rows.job, b0, b1
        self.n = b1 - b0
        self.size = 2 * layout.half(self.n)
        self.start = rows.start + b0  # flat index of the first element in the tensor
        self.memo: dict[str, np.ndarray] = {}

    def flat(self, positions: np.ndarray) -> np.ndarray:
        """Element indices within the block of split positions."""
        return layout.flat_positions(positions, self.n)


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
        self.scratch = Scratch()

    # -- operands -------------------------------------------------------------------------
    def fp32_rows(self, info, job: TensorJob, r0: int, r1: int) -> np.ndarray:
        """Rows of ``info`` in float32; rows beyond its vocabulary come from the target."""
        if r1 <= info.rows:
            return to_fp32(self.reader.read_rows(info, r0, r1), info.dtype)
        tail = to_fp32(self.reader.read_rows(job.target, max(r0, info.rows), r1), job.target.dtype)
        if r0 >= info.rows:
            return tail
        head = to_fp32(self.reader.read_rows(info, r0, info.rows), info.dtype)
        return np.concatenate([head, tail])

    def load(self, src: np.ndarray | _Stored, blk: _Block, name: str) -> np.ndarray:
        """Block ``blk`` of a source as float32 in split order, in scratch ``name``."""
        out = self.scratch.get(name, blk.size)
        if not isinstance(src, _Stored):
            return layout.split(src[blk.b0 : blk.b1], out)
        raw = self.scratch.get("raw", blk.size, np.uint16)
        self.reader.read_into(src.info, src.start + blk.b0, raw[: blk.n])
        if blk.n % 2:  # widening works on pairs: pad the last one
            raw[blk.n] = 0
        return layout.widen_bf16(raw, out)

    def value(self, blk: _Block, i: int) -> np.ndarray:
        return self.load(blk.rows.value(i), blk, f"v{i}")

    def reference(self, blk: _Block) -> np.ndarray:
        """θ_reference (never modified by callers)."""
        if "ref" not in blk.memo:
            blk.memo["ref"] = self.load(blk.rows.stored(blk.job.reference), blk, "ref")
        return blk.memo["ref"]

    def target(self, blk: _Block) -> np.ndarray:
        """θ_target (never modified by callers); the reference's block when they coincide."""
        if blk.job.target == blk.job.reference:
            return self.reference(blk)
        if "tgt" not in blk.memo:
            blk.memo["tgt"] = self.load(blk.rows.stored(blk.job.target), blk, "tgt")
        return blk.memo["tgt"]

    def deltas(self, blk: _Block) -> list[np.ndarray]:
        """τᵢ for every input (θᵢ − θ_reference; LoRA: scale·B@A), after DARE if configured;
        fresh scratch arrays the caller may overwrite."""
        out = []
        for i, item in enumerate(blk.job.inputs):
            if item.dense is not None:
                d = self.load(blk.rows.stored(item.dense), blk, f"d{i}")
                np.subtract(d, self.reference(blk), out=d)
            elif item.lora is not None:
                d = self.load(blk.rows.lora_delta(i), blk, f"d{i}")
            else:
                d = self.scratch.get(f"d{i}", blk.size)
                d.fill(0)
            if self.plan.dare is not None:
                p = self.plan.dare.drop_rate
                flat = dare_rng.drop_mask(self.spec.seed, blk.job.name, i, blk.start, blk.n, p)
                dropped = layout.split(flat, self.scratch.get("drop", blk.size, np.bool_))
                dare_rng.apply_drop(d, dropped, p, self.plan.dare.rescale)
            out.append(d)
        return out

    # -- single-pass methods ---------------------------------------------------------------
    def combine(self, blk: _Block) -> np.ndarray:
        spec, opts = self.spec, self.spec.options
        k = len(blk.job.inputs)
        if spec.method == "linear":
            return linear.combine([self.value(blk, i) for i in range(k)], self.weights, opts)
        if spec.method == "extrapolate" and not extrapolate.uses_deltas(opts):
            values = [self.value(blk, i) for i in range(k)]
            return extrapolate.combine_values(values, opts)
        deltas = self.deltas(blk)
        if spec.method == "extrapolate":
            return extrapolate.combine_deltas(self.target(blk), deltas, opts)
        if spec.method == "task_arithmetic":
            return task_arithmetic.combine(self.target(blk), deltas, self.weights, opts)
        # dare followed by linear or task arithmetic
        if opts.merge == "linear":
            for i, d in enumerate(deltas):
                if blk.job.reference is not None:
                    anchor = self.reference(blk)
                else:
                    anchor = self.load(blk.rows.stored(blk.job.inputs[i].base), blk, "anchor")
                np.add(anchor, d, out=d)
            return linear.combine(deltas, self.weights, opts.merge_options)
        return task_arithmetic.combine(self.target(blk), deltas, self.weights, opts.merge_options)

    def out_buffer(self, rows: _Rows) -> np.ndarray:
        """The chunk's output in storage dtype (element order), one spare element."""
        dtype = STORAGE[rows.job.out_dtype]
        return self.scratch.get("out", rows.n + 1, dtype)

    def store(self, blk: _Block, x: np.ndarray, out: np.ndarray) -> None:
        """Round block result ``x`` once to the output dtype into the chunk output ``out``,
        after :meth:`check_finite`."""
        nan_free = self.check_finite(blk, x)
        tmp = self.scratch.get("round", blk.size, np.uint32)
        layout.to_storage(x, blk.n, blk.job.out_dtype, tmp, out[blk.b0 : blk.b1 + 1], nan_free)

    def check_finite(self, blk: _Block, x: np.ndarray) -> bool:
        """Fail the merge where the block's result is NaN or ±inf in the output dtype (or
        rounds to ±inf) and no input has a non-finite value at that element; return whether
        ``x`` is NaN-free. One pass in the common case: Σx² stays below the dtype's limit²
        exactly when every |x| does (a NaN or an overflow makes it fail)."""
        if np.dot(x, x) < _LIMIT_SQUARED[blk.job.out_dtype]:
            return True
        limit = FINITE_LIMIT[blk.job.out_dtype]
        n = blk.n
        bad = ~(np.abs(x[:n]) < limit)  # NaN compares False
        explained = np.zeros(n, np.bool_)
        for src in self.operands(blk):
            explained |= ~np.isfinite(self.load(src, blk, "check")[:n])
        job = blk.job
        if job.copy_rows is not None:  # rows that the input's own values replace afterwards
            start, end, _ = job.copy_rows
            flat = blk.start + blk.flat(np.arange(n))
            explained |= (flat >= start * job.row_len) & (flat < end * job.row_len)
        unexplained = np.flatnonzero(bad & ~explained)
        if len(unexplained):
            i = int(unexplained[0])
            value, fix = float(x[i]), "check the weights and options"
            if np.isfinite(value):
                value, fix = f"{value:g}, beyond its range,", f"{fix}, or set output.dtype: fp32"
            raise InputError(
                f"merged tensor {job.name!r}: element {blk.start + int(blk.flat(i))} is {value} "
                f"in {job.out_dtype}, and no input has a non-finite value there; {fix}"
            )
        return not np.isnan(x[:n]).any()

    def operands(self, blk: _Block) -> Iterator[np.ndarray | _Stored]:
        """Every stored operand of the block: each input's values, the reference, the target."""
        for i in range(len(blk.job.inputs)):
            yield blk.rows.value(i)
        for info in (blk.job.reference, blk.job.target):
            if info is not None:
                yield blk.rows.stored(info)

    def write(self, rows: _Rows, out: np.ndarray) -> None:
        """Apply the vocabulary-row copy and write the chunk."""
        job, r0, r1 = rows.job, rows.r0, rows.r1
        if job.copy_rows is not None:
            start, end, src = job.copy_rows
            lo, hi = max(r0, start), min(r1, end)
            if lo < hi:
                item = job.inputs[src]
                x = self.fp32_rows(item.dense or item.base, job, lo, hi)
                if item.lora is not None:
                    x += lora.delta_rows(self.reader, item.lora, lo, hi)
                a = (lo - r0) * job.row_len
                out[a : a + x.size] = from_fp32(x.reshape(-1), job.out_dtype)
        self.writer.write_rows(job.name, r0, out[: rows.n])

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
        rows = _Rows(self, *chunk)
        out = self.out_buffer(rows)
        for blk in rows.blocks():
            self.store(blk, self.combine(blk), out)
        self.write(rows, out)


class _TiesRunner:
    """TIES over scopes (all tensors, or each tensor): per scope, a 1/16 sample and one pass
    find the thresholds (2 more radix passes if one falls outside its sampled bracket), then
    the merge pass."""

    def __init__(self, engine: _Engine, opts: ties.TiesOptions):
        self.e = engine
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

    def _scaled(self, blk: _Block) -> list[np.ndarray]:
        return ties.scaled_deltas(self.e.deltas(blk), self.e.weights, self.opts)

    def _each_block(self, chunk: Chunk, fn: Callable[[_Block, list[np.ndarray]], None]) -> None:
        """Call ``fn(block, scaled deltas)`` for every block of ``chunk``."""
        rows = _Rows(self.e, *chunk)
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

            def block(blk: _Block, xs: list[np.ndarray]) -> None:
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

            def block(blk: _Block, xs: list[np.ndarray]) -> None:
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

            def block(blk: _Block, xs: list[np.ndarray]) -> None:
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
            rows = _Rows(e, *chunk)
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

    def _trim(self, blk: _Block, xs: list[np.ndarray], thresholds, budgets, exact: bool):
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

    def _merge_block(self, blk: _Block, thresholds, budgets, zero, exact: bool = False):
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

    def _disjoint_merge(self, blk: _Block, trimmed, total, zero):
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

    def _zero_sum_patch(self, blk: _Block, idx, trimmed, target):
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
