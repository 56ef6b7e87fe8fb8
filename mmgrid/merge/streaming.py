# ruff: noqa: RUF002 (math notation in docstrings)
"""The merge engine's streaming machinery: a plan's operands read and computed block by block.

A chunk (at most ``chunk_elems`` elements, at least one row) is the unit of writing and
threading; it is read and computed in blocks of ``BLOCK_ELEMS`` elements held in the
split-pair layout (:mod:`mmgrid.merge.split_pairs`) in per-thread scratch buffers. All arithmetic
is float32; each output element is rounded once to its output dtype (:meth:`Streamer.store`) and
written at its precomputed offset. A method sees one block through :class:`Operands`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from mmgrid.errors import InputError
from mmgrid.merge import drop_masks, lora, split_pairs
from mmgrid.merge.dtypes import STORAGE, from_fp32, to_fp32
from mmgrid.merge.plan import BLOCK_ELEMS, MergePlan, TensorJob
from mmgrid.merge.safetensors_io import FileReader, SafetensorsWriter, TensorInfo
from mmgrid.merge.scratch import Scratch

#: per output dtype, the magnitude from which a float32 result is (or rounds to) ±inf
FINITE_LIMIT = {
    "F32": np.float32(np.inf),
    "BF16": np.uint32(0x7F7F8000).view(np.float32),  # halfway to inf: rounds up to it
    "F16": np.float32(65520.0),
}
with np.errstate(over="ignore"):
    _LIMIT_SQUARED = {dtype: limit * limit for dtype, limit in FINITE_LIMIT.items()}

Log = Callable[[str], None]
Chunk = tuple[TensorJob, int, int]


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
class Stored:
    """The bf16 elements of a chunk from ``start`` (flat index) of a stored tensor, read block
    by block into scratch (``os.preadv``: no mapping, and a block's operands stay in cache)."""

    info: TensorInfo
    start: int


class Rows:
    """The operands of rows ``[r0, r1)`` of one job, each resolved on first use: stored bf16
    rows (read block by block, see :class:`Stored`) or a flat float32 array (other dtypes,
    rows beyond an input's vocabulary, LoRA)."""

    def __init__(self, engine: Streamer, job: TensorJob, r0: int, r1: int) -> None:
        self.e, self.job, self.r0, self.r1 = engine, job, r0, r1
        self.n = (r1 - r0) * job.row_len
        self.start = r0 * job.row_len
        self._sources: dict[Any, np.ndarray | Stored] = {}

    def blocks(self) -> Iterator[Block]:
        """The blocks of the rows; while they are computed numpy does not warn about overflow
        or NaN (:meth:`Streamer.check_finite` decides what a non-finite result means)."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for b0 in range(0, self.n, BLOCK_ELEMS):
                yield Block(self, b0, min(self.n, b0 + BLOCK_ELEMS))

    def stored(self, info: TensorInfo) -> np.ndarray | Stored:
        key = ("stored", info.file, info.offset)
        src = self._sources.get(key)
        if src is None:
            if info.dtype == "BF16" and self.r1 <= info.rows:
                src = Stored(info, self.start)
            else:
                src = self.e.fp32_rows(info, self.job, self.r0, self.r1).reshape(-1)
            self._sources[key] = src
        return src

    def value(self, i: int) -> np.ndarray | Stored:
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


class Block:
    """Elements ``[b0, b1)`` of a :class:`Rows`, computed in the split-pair layout."""

    def __init__(self, rows: Rows, b0: int, b1: int) -> None:
        self.rows, self.job, self.b0, self.b1 = rows, rows.job, b0, b1
        self.n = b1 - b0
        self.size = 2 * split_pairs.half(self.n)
        self.start = rows.start + b0  # flat index of the first element in the tensor
        self.memo: dict[str, np.ndarray] = {}

    def flat(self, positions: np.ndarray) -> np.ndarray:
        """Element indices within the block of split positions."""
        return split_pairs.flat_positions(positions, self.n)


class Streamer:
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

    def load(self, src: np.ndarray | Stored, blk: Block, name: str) -> np.ndarray:
        """Block ``blk`` of a source as float32 in split order, in scratch ``name``."""
        out = self.scratch.get(name, blk.size)
        if not isinstance(src, Stored):
            return split_pairs.split(src[blk.b0 : blk.b1], out)
        raw = self.scratch.get("raw", blk.size, np.uint16)
        self.reader.read_into(src.info, src.start + blk.b0, raw[: blk.n])
        if blk.n % 2:  # widening works on pairs: pad the last one
            raw[blk.n] = 0
        return split_pairs.widen_bf16(raw, out)

    def value(self, blk: Block, i: int) -> np.ndarray:
        return self.load(blk.rows.value(i), blk, f"v{i}")

    def reference(self, blk: Block) -> np.ndarray:
        """θ_reference (never modified by callers)."""
        if "ref" not in blk.memo:
            blk.memo["ref"] = self.load(blk.rows.stored(blk.job.reference), blk, "ref")
        return blk.memo["ref"]

    def target(self, blk: Block) -> np.ndarray:
        """θ_target (never modified by callers); the reference's block when they coincide."""
        if blk.job.target == blk.job.reference:
            return self.reference(blk)
        if "tgt" not in blk.memo:
            blk.memo["tgt"] = self.load(blk.rows.stored(blk.job.target), blk, "tgt")
        return blk.memo["tgt"]

    def deltas(self, blk: Block) -> list[np.ndarray]:
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
                flat = drop_masks.drop_mask(self.spec.seed, blk.job.name, i, blk.start, blk.n, p)
                dropped = split_pairs.split(flat, self.scratch.get("drop", blk.size, np.bool_))
                drop_masks.apply_drop(d, dropped, p, self.plan.dare.rescale)
            out.append(d)
        return out

    def anchor(self, blk: Block, i: int) -> np.ndarray:
        """The weights input i's task vector was taken from: θ_reference, or without a
        reference (LoRA inputs) the input's base (never modified by callers)."""
        if blk.job.reference is not None:
            return self.reference(blk)
        return self.load(blk.rows.stored(blk.job.inputs[i].base), blk, "anchor")

    def out_buffer(self, rows: Rows) -> np.ndarray:
        """The chunk's output in storage dtype (element order), one spare element."""
        dtype = STORAGE[rows.job.out_dtype]
        return self.scratch.get("out", rows.n + 1, dtype)

    def store(self, blk: Block, x: np.ndarray, out: np.ndarray) -> None:
        """Round block result ``x`` once to the output dtype into the chunk output ``out``,
        after :meth:`check_finite`."""
        nan_free = self.check_finite(blk, x)
        tmp = self.scratch.get("round", blk.size, np.uint32)
        split_pairs.to_storage(x, blk.n, blk.job.out_dtype, tmp, out[blk.b0 : blk.b1 + 1], nan_free)

    def check_finite(self, blk: Block, x: np.ndarray) -> bool:
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

    def operands(self, blk: Block) -> Iterator[np.ndarray | Stored]:
        """Every stored operand of the block: each input's values, the reference, the target."""
        for i in range(len(blk.job.inputs)):
            yield blk.rows.value(i)
        for info in (blk.job.reference, blk.job.target):
            if info is not None:
                yield blk.rows.stored(info)

    def write(self, rows: Rows, out: np.ndarray) -> None:
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


class Operands:
    """One block's operands as a merge method reads them (the registry's ``BlockOperands``)."""

    def __init__(self, streamer: Streamer, blk: Block) -> None:
        self.streamer, self.blk = streamer, blk
        self.weights = streamer.weights

    def value(self, i: int) -> np.ndarray:
        return self.streamer.value(self.blk, i)

    def deltas(self) -> list[np.ndarray]:
        return self.streamer.deltas(self.blk)

    def target(self) -> np.ndarray:
        return self.streamer.target(self.blk)

    def anchor(self, i: int) -> np.ndarray:
        return self.streamer.anchor(self.blk, i)
