"""The HLLM paradigm (semantic-embedding generative recommendation).

An item LLM embeds item texts, a user LLM reads a user's item embeddings and predicts the next
item's embedding; trained with InfoNCE, evaluated by full-catalogue cosine ranking.

Importing the package is cheap (no torch): ``settings`` and ``data`` need none, and the
functions below import torch when called.

- :func:`build_hllm_base`: the base LLM turned into an HLLM checkpoint (the chain's start).
- :func:`train_hllm_cell`: one (domain, period) cell from the previous checkpoint.
- :func:`evaluate_hllm`: metric and rank files of one model on one domain.
- :func:`load_hllm`: a checkpoint as a model and its tokenizer.
"""

from __future__ import annotations

from typing import Any

from mmgrid.hllm.item_sequences import (
    EvalCases,
    cases_from_samples,
    cases_from_sequences,
    cases_from_shards,
)
from mmgrid.hllm.ranking import evaluate_hllm
from mmgrid.hllm.settings import HllmSettings, settings_from_config
from mmgrid.hllm.training import train_hllm_cell


def __getattr__(name: str) -> Any:
    """``build_hllm_base`` and ``load_hllm`` load torch: import them on first use."""
    if name in ("build_hllm_base", "load_hllm"):
        from mmgrid.hllm import checkpoint

        return getattr(checkpoint, name)
    raise AttributeError(f"module 'mmgrid.hllm' has no attribute {name!r}")


__all__ = [
    "EvalCases",
    "HllmSettings",
    "build_hllm_base",
    "cases_from_samples",
    "cases_from_sequences",
    "cases_from_shards",
    "evaluate_hllm",
    "load_hllm",
    "settings_from_config",
    "train_hllm_cell",
]
