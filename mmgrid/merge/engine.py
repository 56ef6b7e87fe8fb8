"""The merge engine: validate a spec, plan it, and stream every tensor through the method.

:func:`merge` plans (:mod:`.plan`), then writes the output directory atomically: a single pass
through the method's block combine (:mod:`.streaming`), or TIES' threshold and merge passes
(:mod:`.ties_runner`), or an exact concatenated LoRA adapter (:mod:`.lora`); then the
non-tensor files and ``merge.json`` (:mod:`.provenance`). Results are bit-identical for every
chunk size and thread count.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmgrid.atomic import atomic_dir, check_output, write_json
from mmgrid.merge import lora
from mmgrid.merge.allocator import keep_heap_for_chunks
from mmgrid.merge.plan import DEFAULT_CHUNK_ELEMS, MergePlan, build_plan
from mmgrid.merge.provenance import provenance
from mmgrid.merge.safetensors_io import FileReader, OutTensor, SafetensorsWriter
from mmgrid.merge.spec import MergeSpec, parse_spec
from mmgrid.merge.streaming import Chunk, Log, Operands, Rows, Streamer, ordered_map
from mmgrid.merge.ties_runner import TiesRunner

PROVENANCE = "merge.json"  # in every merge output (which makes it recognisable as one)
PROVENANCE = "merge.json"  # in every merge output (which makes it recognisable as one)
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
                spec = plan.spec
                coefficients = spec.merge_method.lora_coefficients(spec.weights, spec.options)
                files = lora.write_concatenated(reader, plan.inputs, coefficients, tmp)
            else:
                files = _write_tensors(Streamer(plan, reader, chunk_elems, threads, say), tmp)
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


def _copy_files(plan: MergePlan, out: Path) -> list[Path]:
    copied = []
    for name in COPIED_FILES:
        src = plan.copy_from / name
        if not src.is_file() or (plan.is_lora_output and name == "config.json"):
            continue
        shutil.copy2(src, out / name)
        copied.append(out / name)
    return copied


def _write_tensors(streamer: Streamer, out: Path) -> list[Path]:
    """Every tensor of the plan, merged into safetensors files in ``out``."""
    plan, spec = streamer.plan, streamer.spec
    out_tensors = [OutTensor(j.name, j.out_dtype, j.shape) for j in plan.jobs]
    meta = {"mmgrid_merge_method": spec.method_name}
    streamer.writer = SafetensorsWriter(
        out, out_tensors, shard_bytes=spec.output.shard_bytes, metadata=meta
    )
    try:
        if plan.ties is None:
            streamer.log("pass 1/1: merge")
            merge_chunk = _single_pass(streamer)
            for _ in ordered_map(merge_chunk, streamer.chunks(plan.jobs), streamer.threads):
                pass
        else:
            TiesRunner(streamer, plan.ties).run()
    finally:
        streamer.writer.close()
    return list(streamer.writer.files)


def _single_pass(streamer: Streamer) -> Callable[[Chunk], None]:
    """Merge one chunk with the method's block combine, then write it."""
    combine = streamer.spec.merge_method.combine
    options = streamer.spec.options

    def merge_chunk(chunk: Chunk) -> None:
        rows = Rows(streamer, *chunk)
        out = streamer.out_buffer(rows)
        for blk in rows.blocks():
            streamer.store(blk, combine(Operands(streamer, blk), options), out)
        streamer.write(rows, out)

    return merge_chunk
