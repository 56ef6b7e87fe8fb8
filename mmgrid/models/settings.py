"""The ``base:`` config section as typed, validated dataclasses (no torch import here).

Example section (all keys optional; the values shown are the defaults)::

    base:
      path: null              # a local Hugging Face directory, or null to build a tiny Qwen3 here
      tokenizer:
        vocab_size: 2048
      model:
        hidden_size: 64
        num_hidden_layers: 2
        intermediate_size: 256
        num_attention_heads: 4
        num_key_value_heads: 2
        head_dim: 16
        max_position_embeddings: 512
        rope_theta: 1000000.0
      pretrain:
        epochs: 2
        lr: 0.006
        batch_size: 16
        max_length: 128
        warmup_ratio: 0.05
        weight_decay: 0.01
        grad_clip: 1.0
        heldout_fraction: 0.05
        max_steps: null
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mmgrid.errors import InputError
from mmgrid.settings import from_mapping, require_at_least


@dataclass(frozen=True)
class TokenizerSettings:
    """Byte-level BPE tokenizer trained on the item texts."""

    vocab_size: int = 2048  # upper bound; BPE stops early when the corpus has fewer merges


@dataclass(frozen=True)
class ModelSettings:
    """Sizes of the tiny Qwen3 built here (tied embeddings, fp32 on CPU)."""

    hidden_size: int = 64
    num_hidden_layers: int = 2
    intermediate_size: int = 256
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    head_dim: int = 16
    max_position_embeddings: int = 512
    rope_theta: float = 1_000_000.0


@dataclass(frozen=True)
class PretrainSettings:
    """Plain causal-LM pre-training on item titles + descriptions, packed into blocks."""

    epochs: int = 2
    lr: float = 6e-3
    batch_size: int = 16  # blocks per optimizer step
    max_length: int = 128  # block length in tokens
    warmup_ratio: float = 0.05
    weight_decay: float = 0.01
    grad_clip: float = 1.0  # 0 disables clipping
    heldout_fraction: float = 0.05  # items held out to measure held-out loss in base.json
    max_steps: int | None = None  # cap on optimizer steps (bounds the time on big catalogues)


@dataclass(frozen=True)
class BaseSettings:
    """Where the base LLM comes from and, when built here, how."""

    path: str | None = None
    tokenizer: TokenizerSettings = field(default_factory=TokenizerSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    pretrain: PretrainSettings = field(default_factory=PretrainSettings)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-able dict (for Snakemake params and ``base.json``)."""
        return dataclasses.asdict(self)


def settings_from_config(cfg: Mapping[str, Any] | None, key: str = "base") -> BaseSettings:
    """Build :class:`BaseSettings` from the ``base:`` mapping of a config.

    Missing keys take the defaults; unknown keys, wrong types and impossible sizes raise
    :class:`InputError` naming the full key (e.g. ``base.model.hidden_size``).
    """
    settings = from_mapping(BaseSettings, cfg, key)
    _check_values(settings, key)
    return settings


def _check_values(s: BaseSettings, key: str) -> None:
    positive = {
        "tokenizer.vocab_size": s.tokenizer.vocab_size,
        **{f"model.{k}": v for k, v in dataclasses.asdict(s.model).items()},
        "pretrain.epochs": s.pretrain.epochs,
        "pretrain.lr": s.pretrain.lr,
        "pretrain.batch_size": s.pretrain.batch_size,
        "pretrain.max_length": s.pretrain.max_length,
    }
    if s.pretrain.max_steps is not None:
        positive["pretrain.max_steps"] = s.pretrain.max_steps
    for name, value in positive.items():
        if value <= 0:
            raise InputError(f"config key '{key}.{name}' must be > 0, got {value}")
    if s.tokenizer.vocab_size < 300:
        raise InputError(
            f"config key '{key}.tokenizer.vocab_size' must be >= 300 (256 byte symbols plus "
            f"special tokens and merges), got {s.tokenizer.vocab_size}"
        )
    m = s.model
    if m.num_attention_heads % m.num_key_value_heads:
        raise InputError(
            f"config key '{key}.model.num_attention_heads' ({m.num_attention_heads}) must be a "
            f"multiple of '{key}.model.num_key_value_heads' ({m.num_key_value_heads})"
        )
    if m.head_dim % 2:
        raise InputError(f"config key '{key}.model.head_dim' must be even (RoPE), got {m.head_dim}")
    p = s.pretrain
    for name, value in {
        "warmup_ratio": p.warmup_ratio,
        "heldout_fraction": p.heldout_fraction,
    }.items():
        if not 0.0 <= value < 1.0:
            raise InputError(f"config key '{key}.pretrain.{name}' must be in [0, 1), got {value}")
    require_at_least(p, ("weight_decay", "grad_clip"), 0, f"{key}.pretrain")
    if p.max_length > m.max_position_embeddings:
        raise InputError(
            f"config key '{key}.pretrain.max_length' ({p.max_length}) must not exceed "
            f"'{key}.model.max_position_embeddings' ({m.max_position_embeddings})"
        )
