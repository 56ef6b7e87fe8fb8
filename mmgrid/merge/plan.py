"""Planning: open every input's headers, check compatibility, and describe the work.

Nothing here reads tensor data. ``build_plan`` fails with an ``InputError`` naming the input,
tensor and shapes on any mismatch; ``MergePlan.describe`` prints bytes, passes and memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mmgrid.errors import InputError
from mmgrid.merge import select
from mmgrid.merge.checkpoint_headers import (
    DenseCheckpoint,
    LoraAdapter,
    LoraPair,
    is_adapter,
    open_adapter,
    open_dense,
)
from mmgrid.merge.dtypes import itemsize
from mmgrid.merge.methods import METHODS
from mmgrid.merge.methods.dare import DareOptions
from mmgrid.merge.methods.ties import TiesOptions
from mmgrid.merge.safetensors_io import TensorInfo
from mmgrid.merge.spec import MergeSpec

DEFAULT_CHUNK_ELEMS = 1 << 20  # rows written and handed to a thread at a time
BLOCK_ELEMS = 1 << 18  # elements read and computed at a time (operands stay in cache)
#: TIES threshold search, per input: radix histograms, the sample, and bracket counters plus
#: buffered members (or, for a small scope, all of its values)
HIST_BYTES = (
    2 * select.BUCKETS * 8
    + select.SAMPLE_BUDGET * 4
    + max(select.MAX_BRACKET * 8 + select.FLUSH_AT * 4, select.SMALL_SCOPE * 4)
)


@dataclass(frozen=True)
class InputTensor:
    """How one input provides one output tensor."""

    dense: TensorInfo | None = None  # a full checkpoint's tensor, or an adapter's replacement
    base: TensorInfo | None = None  # LoRA: the base checkpoint's tensor
    lora: LoraPair | None = None  # LoRA: ΔW factors (None: the adapter leaves it unchanged)


@dataclass(frozen=True)
class TensorJob:
    """One output tensor and where each operand comes from."""

    name: str
    shape: tuple[int, ...]
    out_dtype: str
    target: TensorInfo
    reference: TensorInfo | None
    inputs: tuple[InputTensor, ...]
    copy_rows: tuple[int, int, int] | None = None  # (start, end, input index)

    @property
    def rows(self) -> int:
        return self.target.rows

    @property
    def row_len(self) -> int:
        return self.target.row_len

    @property
    def numel(self) -> int:
        return self.target.numel


@dataclass
class MergePlan:
    spec: MergeSpec
    target: DenseCheckpoint
    reference: DenseCheckpoint | None
    inputs: list[DenseCheckpoint | LoraAdapter]
    jobs: list[TensorJob]
    kind: str  # "values" or "deltas"
    ties: TiesOptions | None
    dare: DareOptions | None
    copy_from: Path
    passes: int
    notes: list[str] = field(default_factory=list)

    @property
    def is_lora_output(self) -> bool:
        return self.spec.output.format == "lora"

    def read_bytes(self) -> int:
        """Bytes read by one pass over every tensor."""
        seen = 0
        for job in self.jobs:
            needs_target = self.kind == "deltas"
            seen += job.target.nbytes if needs_target else 0
            if job.reference is not None and self.kind == "deltas":
                seen += job.reference.nbytes
            for it in job.inputs:
                for info in (
                    it.dense,
                    it.lora.a if it.lora else None,
                    it.lora.b if it.lora else None,
                ):
                    seen += info.nbytes if info is not None else 0
                if it.base is not None and it.dense is None and self.kind == "values":
                    seen += it.base.nbytes
        return seen

    def write_bytes(self) -> int:
        return sum(j.numel * itemsize(j.out_dtype) for j in self.jobs)

    def peak_bytes(self, chunk_elems: int, threads: int) -> int:
        """Predicted working memory: per thread, float32 block buffers (inputs, deltas and
        temporaries) and a chunk of output; per chunk in flight (2 per thread), any float32
        operand rows (other dtypes, LoRA)."""
        k = len(self.spec.inputs)
        largest_row = max((j.row_len for j in self.jobs), default=1)
        chunk = max(chunk_elems, largest_row)
        block = min(chunk, BLOCK_ELEMS)
        per_thread = block * 4 * (k + 16) + chunk * 4
        per_chunk = chunk * 4 * (k + 2)
        hist = HIST_BYTES * k if self.ties else 0
        return (per_thread + 2 * per_chunk) * threads + hist

    def describe(self, chunk_elems: int, threads: int) -> str:
        mib = 1024 * 1024
        lines = [
            f"method      {self.spec.method_name} ({self.kind}); inputs {len(self.inputs)}; "
            f"tensors {len(self.jobs)}",
            f"target      {self.target.path}",
            f"reference   {self.reference.path if self.reference else '-'}",
            f"passes      {self.passes}",
            f"read        {self.read_bytes() * self.passes / mib:,.1f} MiB "
            f"({self.read_bytes() / mib:,.1f} MiB per pass)",
            f"write       {self.write_bytes() / mib:,.1f} MiB",
            f"peak memory ~{self.peak_bytes(chunk_elems, threads) / mib:,.0f} MiB working set "
            f"(chunk {chunk_elems:,} elements, {threads} thread(s)) + interpreter",
        ]
        lines += [f"note        {n}" for n in self.notes]
        return "\n".join(lines)


def _open_input(path: Path, where: str):
    if not path.is_dir():
        raise InputError(f"merge spec: {where}: directory {path} not found")
    return open_adapter(path) if is_adapter(path) else open_dense(path)


def build_plan(spec: MergeSpec) -> MergePlan:
    """Open all headers and validate the spec against them; reads no tensor data."""
    opened = [_open_input(i.path, f"inputs[{n}].path") for n, i in enumerate(spec.inputs)]
    lora_idx = [n for n, c in enumerate(opened) if isinstance(c, LoraAdapter)]
    dense_idx = [n for n, c in enumerate(opened) if isinstance(c, DenseCheckpoint)]
    method, options = spec.merge_method, spec.options
    kind = method.reads(options)

    target_path = spec.target or spec.reference
    if target_path is None and dense_idx:
        target_path = spec.inputs[dense_idx[0]].path
    if target_path is None:
        bases = [spec.inputs[n].base for n in lora_idx if spec.inputs[n].base]
        target_path = bases[0] if bases else None
    if target_path is None:
        raise InputError("merge spec: target: cannot be inferred; set target (or reference)")
    target = open_dense(target_path)
    reference = open_dense(spec.reference) if spec.reference else None

    needs_ref = method.needs_reference(options) or kind == "deltas"
    if needs_ref and reference is None and (dense_idx or any(opened[n].full for n in lora_idx)):
        raise InputError(
            f"merge spec: reference: method {spec.method_name} subtracts a reference checkpoint "
            "from every full-checkpoint input; set reference to the base checkpoint directory"
        )
    n_min = method.min_inputs(options)
    if len(opened) < n_min:
        raise InputError(
            f"merge spec: inputs: {spec.method_name} with options {spec.options} needs at "
            f"least {n_min} inputs, got {len(opened)}"
        )

    bases: dict[int, DenseCheckpoint] = {}
    for n in lora_idx:
        base_path = spec.inputs[n].base or spec.target or spec.reference or target_path
        bases[n] = target if base_path == target.path else open_dense(base_path)

    notes: list[str] = []
    dense_all: list[tuple[str, DenseCheckpoint]] = [("target", target)]
    if reference is not None:
        dense_all.append(("reference", reference))
    dense_all += [(f"inputs[{n}] ({spec.inputs[n].name})", opened[n]) for n in dense_idx]
    dense_all += [(f"inputs[{n}].base", b) for n, b in bases.items() if b is not target]
    names = set(target.tensors)
    for label, ck in dense_all[1:]:
        _check_names(label, ck, names, target)

    vocab = set(spec.vocab_rows.tensors)
    jobs: list[TensorJob] = []
    copy_src = spec.vocab_rows.source
    copy_index = next((n for n, i in enumerate(spec.inputs) if i.name == copy_src), None)
    for name in sorted(names):
        t = target.tensors[name]
        for label, ck in dense_all[1:]:
            _check_tensor(spec, label, ck.path, ck.tensors[name], t, name in vocab, notes)
        items = []
        for n, ck in enumerate(opened):
            if isinstance(ck, DenseCheckpoint):
                items.append(InputTensor(dense=ck.tensors[name]))
                continue
            full = ck.full.get(name)
            if full is not None:
                label = f"inputs[{n}] ({spec.inputs[n].name})"
                _check_tensor(spec, label, ck.path, full, t, name in vocab, notes)
            pair = ck.pairs.get(name)
            if pair is not None and (pair.b.shape[0], pair.a.shape[1]) != tuple(t.shape):
                raise InputError(
                    f"{ck.path}: LoRA on {name!r} gives ΔW of shape "
                    f"{(pair.b.shape[0], pair.a.shape[1])} but the target tensor is {t.shape}"
                )
            items.append(InputTensor(dense=full, base=bases[n].tensors[name], lora=pair))
        out_dtype = t.dtype if spec.output.dtype == "auto" else spec.output.dtype
        ref_t = reference.tensors[name] if reference else None
        copy_rows = _copy_rows(spec, name, t, ref_t, copy_index, items) if name in vocab else None
        jobs.append(TensorJob(name, t.shape, out_dtype, t, ref_t, tuple(items), copy_rows))

    for n in lora_idx:
        unknown = sorted(set(opened[n].pairs) - names) + sorted(set(opened[n].full) - names)
        if unknown:
            raise InputError(
                f"{spec.inputs[n].path}: LoRA targets {unknown[:3]} which the target checkpoint "
                "does not have; the adapter belongs to another architecture"
            )
    if copy_index is not None and not any(name in names for name in spec.vocab_rows.tensors):
        raise InputError(
            f"merge spec: vocab_rows.tensors: none of {list(spec.vocab_rows.tensors)} exists "
            "in the target checkpoint"
        )

    copy_from = spec.copy_files_from or (
        spec.inputs[0].path if spec.output.format == "lora" else target.path
    )
    if not copy_from.is_dir():
        raise InputError(f"merge spec: copy_files_from: directory {copy_from} not found")
    if spec.output.format == "full":
        _check_config_vocab(copy_from, target, jobs)
    tie = method.ties(options)
    if tie:
        notes.append(
            "TIES: 2 passes plus a 1/16 sample; 2 more (exact radix select) if a threshold "
            "falls outside its sampled bracket"
        )
    plan = MergePlan(
        spec=spec,
        target=target,
        reference=reference,
        inputs=opened,
        jobs=jobs,
        kind=kind,
        ties=tie,
        dare=method.drop(options),
        copy_from=copy_from,
        passes=method.passes(options),
        notes=notes,
    )
    if spec.output.format == "lora":
        _check_lora_output(plan, bases)
        plan.passes = 1
    return plan


def _check_names(label: str, ck: DenseCheckpoint, names: set[str], target: DenseCheckpoint):
    if set(ck.tensors) == names:
        return
    missing = sorted(names - set(ck.tensors))
    extra = sorted(set(ck.tensors) - names)
    hint = ""
    if "lm_head.weight" in missing + extra:
        hint = (
            f" (tie_word_embeddings: target={target.tied}, {label}={ck.tied}: tied and untied "
            "checkpoints cannot be merged)"
        )
    raise InputError(
        f"{ck.path}: {label} has different tensors than the target {target.path}: "
        f"missing {missing[:5]}, extra {extra[:5]}{hint}"
    )


def _check_tensor(spec, label, path, info: TensorInfo, t: TensorInfo, is_vocab, notes) -> None:
    if info.shape != t.shape:
        same_tail = info.shape[1:] == t.shape[1:] and len(info.shape) == len(t.shape)
        if is_vocab and same_tail and info.rows < t.rows:
            if spec.vocab_rows.missing == "error":
                raise InputError(
                    f"{path}: tensor {info.name!r} of {label} has {info.rows} vocabulary rows, "
                    f"the target has {t.rows} (vocab_rows.missing: error); resize it or set "
                    "vocab_rows.missing: target"
                )
            notes.append(
                f"{label}: {info.name} rows [{info.rows}, {t.rows}) missing; read as the target's"
            )
        else:
            raise InputError(
                f"{path}: tensor {info.name!r} of {label} has shape {list(info.shape)} but the "
                f"target's is {list(t.shape)}; all checkpoints must share the architecture"
            )
    if info.dtype != t.dtype and not spec.allow_mixed_dtypes:
        raise InputError(
            f"{path}: tensor {info.name!r} of {label} is {info.dtype} but the target's is "
            f"{t.dtype}; convert it or set allow_mixed_dtypes: true"
        )


def _rows_of(item: InputTensor) -> int:
    return (item.dense or item.base).rows


def _copy_rows(spec, name, t, ref_t, copy_index, items) -> tuple[int, int, int] | None:
    rows = spec.vocab_rows.rows
    if rows is None or copy_index is None:
        return None
    if rows == "beyond_reference":
        if ref_t is None:
            raise InputError("merge spec: vocab_rows.rows: beyond_reference needs a reference")
        start, end = ref_t.rows, t.rows
    else:
        start, end = rows[0], t.rows if rows[1] is None else rows[1]
    if end > t.rows:
        raise InputError(
            f"merge spec: vocab_rows.rows: end {end} exceeds the {t.rows} rows of {name!r}"
        )
    if _rows_of(items[copy_index]) < end:
        raise InputError(
            f"merge spec: vocab_rows.source: input {spec.vocab_rows.source!r} has only "
            f"{_rows_of(items[copy_index])} rows in {name!r}, rows up to {end} are requested"
        )
    return (start, end, copy_index) if end > start else None


def _check_config_vocab(copy_from: Path, target: DenseCheckpoint, jobs: list[TensorJob]) -> None:
    from mmgrid.merge.checkpoint_headers import read_json

    vocab = read_json(copy_from / "config.json").get("vocab_size")
    emb = target.tensors.get("model.embed_tokens.weight")
    if vocab is not None and emb is not None and vocab != emb.rows:
        raise InputError(
            f"{copy_from / 'config.json'}: vocab_size {vocab} does not match the merged "
            f"model.embed_tokens.weight rows ({emb.rows}); set copy_files_from to a checkpoint "
            "with the target's vocabulary"
        )


def _check_lora_output(plan: MergePlan, bases: dict[int, DenseCheckpoint]) -> None:
    spec = plan.spec
    fail = "merge spec: output.format: lora "
    if not all(isinstance(c, LoraAdapter) for c in plan.inputs):
        raise InputError(fail + "needs every input to be a LoRA adapter")
    method = spec.merge_method
    if method.lora_coefficients is None:
        exact = [m for m, d in METHODS.items() if d.lora_coefficients is not None]
        raise InputError(fail + f"is exact only for {' and '.join(exact)} merges")
    if any(c.full for c in plan.inputs):
        raise InputError(fail + "cannot carry modules_to_save tensors; use output.format: full")
    if len({b.path for b in bases.values()}) != 1:
        raise InputError(fail + "needs all adapters on the same base checkpoint")
    modules = {frozenset(c.pairs) for c in plan.inputs}
    if len(modules) != 1:
        raise InputError(fail + "needs all adapters to target the same modules")
    base = next(iter(bases.values()))
    problem = method.lora_problem(spec.weights, spec.options, plan.target.path == base.path)
    if problem is not None:
        raise InputError(fail + problem)
