"""A very small Qwen3 for loop tests (vocab 40), trained on one thread."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from transformers import Qwen3Config, Qwen3ForCausalLM

VOCAB = 40


@pytest.fixture
def make_model() -> Callable[[int], Qwen3ForCausalLM]:
    def make(seed: int = 0) -> Qwen3ForCausalLM:
        cfg = Qwen3Config(
            vocab_size=VOCAB,
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=1,
            head_dim=8,
            tie_word_embeddings=True,
            pad_token_id=0,
        )
        torch.manual_seed(seed)
        return Qwen3ForCausalLM(cfg).float()

    return make
