"""The merge spec: a strictly validated YAML document (see docs/merging.md)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmgrid.errors import InputError
from mmgrid.merge.dtypes import ALIASES as DTYPE_ALIASES
from mmgrid.merge.fields import Fields
from mmgrid.merge.methods import METHODS, NAMES, canonical, linear, parse_options
from mmgrid.merge.methods.descriptor import MergeMethod
from mmgrid.settings import to_plain

DEFAULT_VOCAB_TENSORS = ("model.embed_tokens.weight", "lm_head.weight")
_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")


@dataclass(frozen=True)
class InputSpec:
    """One checkpoint or LoRA adapter to merge."""

    name: str
    path: Path
    weight: float = 1.0
    base: Path | None = None  # LoRA adapters only: the checkpoint the adapter applies to


@dataclass(frozen=True)
class VocabRows:
    """Policy for vocabulary rows of the embedding / LM-head tensors."""

    tensors: tuple[str, ...] = DEFAULT_VOCAB_TENSORS
    rows: tuple[int, int | None] | str | None = None  # [start, end), "beyond_reference" or None
    source: str = "merge"  # "merge" or the name of the input whose rows are copied
    missing: str = "target"  # rows a checkpoint lacks read as the target's ("target") or fail


@dataclass(frozen=True)
class OutputSpec:
    dtype: str = "auto"  # "auto" (each tensor's target dtype) or a safetensors dtype name
    format: str = "full"  # "full" checkpoint or "lora" (exact concatenated adapter)
    shard_bytes: int | None = None


@dataclass(frozen=True)
class MergeSpec:
    """A validated merge spec; paths are resolved, method options parsed."""

    method: str
    options: Any
    inputs: tuple[InputSpec, ...]
    reference: Path | None = None
    target: Path | None = None
    vocab_rows: VocabRows = field(default_factory=VocabRows)
    copy_files_from: Path | None = None
    output: OutputSpec = field(default_factory=OutputSpec)
    seed: int = 0
    allow_mixed_dtypes: bool = False
    method_name: str = ""

    @property
    def weights(self) -> list[float]:
        return [i.weight for i in self.inputs]

    @property
    def merge_method(self) -> MergeMethod:
        """The registry's descriptor of the method that runs (an alias runs its base)."""
        return METHODS[self.method]

    def read_paths(self) -> list[Path]:
        """Every path the merge reads (inputs, their bases, reference, target, copied files)."""
        paths = [p for i in self.inputs for p in (i.path, i.base) if p is not None]
        extra = (self.reference, self.target, self.copy_files_from)
        return paths + [p for p in extra if p is not None]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able resolved form (for provenance)."""
        return to_plain(self)


def load_spec(path: str | Path) -> MergeSpec:
    """Read and validate a YAML merge spec; relative paths resolve against its directory."""
    from mmgrid.strict_yaml import load_yaml  # only here: mapping specs need no YAML parser

    path = Path(path)
    data = load_yaml(path, "merge spec")
    return parse_spec(data, base_dir=path.parent, source=str(path))


def parse_spec(
    data: Mapping[str, Any], base_dir: str | Path = ".", source: str = "merge spec"
) -> MergeSpec:
    """Validate a spec mapping strictly (unknown keys rejected with their path)."""
    base_dir = Path(base_dir)
    top = Fields(data, "", source)
    method_name = top.get("method", str)
    if method_name not in NAMES:
        raise top.fail(
            "method", f"unknown method {method_name!r}; choose one of {', '.join(NAMES)}"
        )
    options = parse_options(method_name, top.get("options", dict, {}), "options", source)

    raw_inputs = top.get("inputs", list)
    if not raw_inputs:
        raise top.fail("inputs", "needs at least one input")
    weights = top.get("weights", list, None)
    if weights is not None and len(weights) != len(raw_inputs):
        raise top.fail(
            "weights", f"has {len(weights)} values but there are {len(raw_inputs)} inputs"
        )
    names: list[str] = []
    pending: list[tuple[Fields, str, Path, float, Any]] = []
    for i, item in enumerate(raw_inputs):
        f = Fields(item, f"inputs[{i}]", source)
        name = f.get("name", str)
        if not _NAME.match(name) or name in names:
            raise f.fail("name", f"{name!r} must be unique and match [A-Za-z0-9_.+-]+")
        names.append(name)
        path = _resolve(base_dir, f.get("path", str))
        weight = f.get("weight", float, None)
        if weights is not None:
            if weight is not None:
                raise f.fail("weight", "is also given by the top-level weights list; keep one")
            weight = _number(weights[i], f"weights[{i}]", source)
        pending.append((f, name, path, 1.0 if weight is None else weight, f.get("base", str, None)))
    by_name = {name: path for _, name, path, _, _ in pending}

    def ref(key: str, value: str | None) -> Path | None:
        return None if value is None else by_name.get(value, _resolve(base_dir, value))

    inputs = []
    for f, name, path, weight, base in pending:
        inputs.append(InputSpec(name, path, weight, ref(f.path("base"), base)))
        f.done()

    reference = ref("reference", top.get("reference", str, None))
    target = ref("target", top.get("target", str, None))
    copy_from = ref("copy_files_from", top.get("copy_files_from", str, None))
    vocab = _parse_vocab(top.get("vocab_rows", dict, {}), names, source)
    output = _parse_output(top.get("output", dict, {}), source)
    seed = top.get("seed", int, 0)
    mixed = top.get("allow_mixed_dtypes", bool, False)
    top.done()
    if not METHODS[method_name].weighted and any(i.weight != 1.0 for i in inputs):
        raise top.fail(
            "weights", f"{method_name} takes no weights: inputs are ordered oldest first"
        )
    _check_normalization(top, options, inputs)
    return MergeSpec(
        method=canonical(method_name),
        options=options,
        inputs=tuple(inputs),
        reference=reference,
        target=target,
        vocab_rows=vocab,
        copy_files_from=copy_from,
        output=output,
        seed=seed,
        allow_mixed_dtypes=mixed,
        method_name=method_name,
    )


def _resolve(base_dir: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base_dir / p


def _number(value: Any, where: str, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{source}: {where}: must be a number, got {value!r}")
    if not math.isfinite(value):
        raise InputError(f"{source}: {where}: must be a finite number, got {value}")
    return float(value)


def _check_normalization(top: Fields, options: Any, inputs: list[InputSpec]) -> None:
    """Normalisation divides by the weight sum (in float32, as the engine does): it must not be 0."""
    follow_up = getattr(options, "merge_options", None)
    normalize = getattr(options, "normalize", False) or getattr(follow_up, "normalize", False)
    weights = [i.weight for i in inputs]
    if normalize and linear.weight_total(weights) == 0:
        key = "weights" if "weights" in top.data else "inputs[*].weight"
        raise top.fail(
            key,
            f"sum to 0 ({', '.join(f'{w:g}' for w in weights)}), and normalize divides by the "
            "sum; change a weight, or set normalize: false in options",
        )


def _parse_vocab(data: Any, names: list[str], source: str) -> VocabRows:
    f = Fields(data, "vocab_rows", source)
    tensors = tuple(f.get("tensors", list, list(DEFAULT_VOCAB_TENSORS)))
    rows_raw = f.get("rows", (list, str), None)
    rows: tuple[int, int | None] | str | None
    if isinstance(rows_raw, str):
        if rows_raw != "beyond_reference":
            raise f.fail("rows", "must be [start, end] or 'beyond_reference'")
        rows = rows_raw
    elif rows_raw is None:
        rows = None
    else:
        ok = len(rows_raw) == 2 and isinstance(rows_raw[0], int) and rows_raw[0] >= 0
        ok = ok and (
            rows_raw[1] is None or (isinstance(rows_raw[1], int) and rows_raw[1] > rows_raw[0])
        )
        if not ok:
            raise f.fail("rows", f"must be [start, end] with 0 <= start < end, got {rows_raw!r}")
        rows = (rows_raw[0], rows_raw[1])
    src = f.get("source", str, "merge")
    if src != "merge" and src not in names:
        raise f.fail("source", f"{src!r} is neither 'merge' nor an input name ({', '.join(names)})")
    if src != "merge" and rows is None:
        raise f.fail("rows", "is required when source names an input")
    missing = f.choice("missing", ("target", "error"), "target")
    f.done()
    return VocabRows(tensors, rows, src, missing)


def _parse_output(data: Any, source: str) -> OutputSpec:
    f = Fields(data, "output", source)
    dtype = f.get("dtype", str, "auto")
    if dtype != "auto":
        if dtype.lower() not in DTYPE_ALIASES:
            raise f.fail("dtype", f"must be auto, bf16, fp16 or fp32; got {dtype!r}")
        dtype = DTYPE_ALIASES[dtype.lower()]
    fmt = f.choice("format", ("full", "lora"), "full")
    shard = f.get("shard_bytes", int, None)
    if shard is not None and shard <= 0:
        raise f.fail("shard_bytes", "must be a positive number of bytes")
    f.done()
    return OutputSpec(dtype, fmt, shard)
