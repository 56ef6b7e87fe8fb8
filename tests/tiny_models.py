"""The random tiny Qwen3 that CPU tests build (one definition; tests vary only its sizes)."""

from __future__ import annotations

from typing import Any

import torch
from transformers import Qwen3Config, Qwen3ForCausalLM


def tiny_qwen3(
    vocab_size: int,
    *,
    hidden: int = 32,
    layers: int = 1,
    heads: int = 4,
    kv_heads: int = 2,
    tied: bool = True,
    seed: int = 0,
    **config: Any,
) -> Qwen3ForCausalLM:
    """A random float32 Qwen3 (intermediate size 2·hidden, head size hidden/heads), weights
    drawn after ``torch.manual_seed(seed)``; ``config``: further ``Qwen3Config`` fields."""
    cfg = Qwen3Config(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        head_dim=hidden // heads,
        tie_word_embeddings=tied,
        **config,
    )
    torch.manual_seed(seed)
    return Qwen3ForCausalLM(cfg).float()
