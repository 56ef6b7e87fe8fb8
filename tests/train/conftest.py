"""A very small Qwen3 for loop tests (vocab 40), trained on one thread."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from transformers import Qwen3ForCausalLM

from tests.tiny_models import tiny_qwen3

VOCAB = 40


@pytest.fixture
def make_model() -> Callable[[int], Qwen3ForCausalLM]:
    def make(seed: int = 0) -> Qwen3ForCausalLM:
        return tiny_qwen3(VOCAB, hidden=16, heads=2, kv_heads=1, seed=seed, pad_token_id=0)

    return make
