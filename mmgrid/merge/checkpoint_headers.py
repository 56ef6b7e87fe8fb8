"""Checkpoint directories: dense Hugging Face checkpoints and PEFT LoRA adapters (headers only)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmgrid.errors import InputError
from mmgrid.merge.safetensors_io import TensorInfo, index_checkpoint, read_header

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
_PEFT_PREFIX = "base_model.model."


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not valid JSON ({e})") from None


@dataclass
class DenseCheckpoint:
    """A safetensors checkpoint directory (single file or sharded with an index)."""

    path: Path
    tensors: dict[str, TensorInfo]
    config: dict[str, Any]

    @property
    def tied(self) -> bool:
        return bool(self.config.get("tie_word_embeddings", False))


@dataclass(frozen=True)
class LoraPair:
    """Factors of one adapted weight: ΔW = scale · B @ A."""

    a: TensorInfo  # (r, in)
    b: TensorInfo  # (out, r)
    scale: float

    @property
    def rank(self) -> int:
        return self.a.shape[0]


@dataclass
class LoraAdapter:
    """A PEFT LoRA adapter directory, keyed by the names of the base tensors it changes."""

    path: Path
    config: dict[str, Any]
    pairs: dict[str, LoraPair]
    full: dict[str, TensorInfo] = field(default_factory=dict)  # modules_to_save replacements


def is_adapter(path: Path) -> bool:
    return (path / ADAPTER_CONFIG).is_file()


def open_dense(path: Path) -> DenseCheckpoint:
    if not path.is_dir():
        raise InputError(f"{path}: checkpoint directory not found")
    if is_adapter(path):
        raise InputError(f"{path}: is a LoRA adapter; a full checkpoint directory is needed here")
    return DenseCheckpoint(path, index_checkpoint(path), read_json(path / "config.json"))


def _alpha_for(module: str, config: dict[str, Any]) -> float:
    for key, value in (config.get("alpha_pattern") or {}).items():
        if re.match(rf"(.*\.)?({key})$", module):
            return float(value)
    return float(config.get("lora_alpha", 8))


def open_adapter(path: Path) -> LoraAdapter:
    """Read a LoRA adapter's config and header; reject variants whose ΔW is not scale·B@A."""
    config = read_json(path / ADAPTER_CONFIG)
    where = path / ADAPTER_CONFIG
    if config.get("peft_type", "LORA") != "LORA":
        raise InputError(f"{where}: peft_type {config.get('peft_type')!r}; only LORA is supported")
    for flag in ("use_dora", "lora_bias", "fan_in_fan_out"):
        if config.get(flag):
            raise InputError(f"{where}: {flag}=true is not supported; merge it into a checkpoint")
    header = read_header(path / ADAPTER_WEIGHTS)
    factors: dict[str, dict[str, TensorInfo]] = {}
    full: dict[str, TensorInfo] = {}
    for key, info in header.items():
        name = key.removeprefix(_PEFT_PREFIX)
        m = re.fullmatch(r"(.+)\.lora_([AB])(?:\.[A-Za-z0-9_]+)?\.weight", name)
        if m:
            factors.setdefault(m.group(1), {})[m.group(2)] = info
        elif ".lora_embedding_" in name or ".lora_" in name:
            raise InputError(
                f"{path / ADAPTER_WEIGHTS}: tensor {key!r} (embedding or other LoRA variant) is "
                "not supported; use target_modules on linear layers or modules_to_save"
            )
        else:
            full[re.sub(r"\.modules_to_save\.[A-Za-z0-9_]+", "", name)] = info
    pairs: dict[str, LoraPair] = {}
    for module, ab in sorted(factors.items()):
        if set(ab) != {"A", "B"}:
            raise InputError(f"{path / ADAPTER_WEIGHTS}: module {module!r} lacks lora_A or lora_B")
        a, b = ab["A"], ab["B"]
        if len(a.shape) != 2 or len(b.shape) != 2 or a.shape[0] != b.shape[1]:
            raise InputError(
                f"{path / ADAPTER_WEIGHTS}: module {module!r}: lora_A {a.shape} and lora_B "
                f"{b.shape} do not form B @ A"
            )
        r = a.shape[0]
        alpha = _alpha_for(module, config)
        scale = alpha / math.sqrt(r) if config.get("use_rslora") else alpha / r
        pairs[f"{module}.weight"] = LoraPair(a, b, scale)
    return LoraAdapter(path, config, pairs, full)
