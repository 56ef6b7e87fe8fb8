"""Settings of the ``hllm:`` config section (no torch import here).

Example section (all keys optional; the values shown are the defaults, the study's)::

    hllm:
      item_layers: null          # base layers kept in the item LLM; null = all
      user_layers: [0, -1]       # base layers kept in the user LLM (negative: from the end)
      item_prompt: "Compress the following sentence into embedding: "
      max_text_tokens: 64        # item text tokens (prompt + title + description), then cut
      max_items: 25              # items a user state reads; training chunks hold max_items + 1
      num_negatives: 512         # negatives per batch, uniform over the domain's items
      temperature_init: 0.07     # the logit scale starts at 1 / temperature_init
      max_logit_scale: 100.0     # the logit scale is clamped to [1, max_logit_scale]
      nce_threshold: 0.99        # negatives with cos(positive, negative) above this are masked
      gradient_checkpointing: false
      item_batch_size: 256       # items per item-LLM forward (grouped by length)
      user_batch_size: 256       # users per user-LLM forward and scoring batch
      eval_all_users: false      # true: every test user (the study), not samples.eval_max_users

``item_layers``, ``user_layers``, ``item_prompt``, ``max_text_tokens`` and ``temperature_init``
act when the HLLM is built from the base LLM (:func:`mmgrid.hllm.checkpoint.build_hllm_base`)
and are stored in the checkpoint: every cell of the chain, and evaluation, use the stored
prompt and text length. The other keys act in training and evaluation.

The general training keys (adapter, lr, epochs, batch size, warm-up, order, held-out count,
device, LoRA shape) come from the ``train:`` section (:class:`~mmgrid.train.settings.CellTrainSettings`);
its ``max_length`` does not apply to HLLM (``max_text_tokens`` and ``max_items`` do).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mmgrid.errors import InputError
from mmgrid.settings import from_mapping, require_at_least

STUDY_PROMPT = "Compress the following sentence into embedding: "


@dataclass(frozen=True)
class HllmSettings:
    """How an HLLM is built from the base LLM, trained with InfoNCE and scored."""

    item_layers: tuple[int, ...] | None = None
    """Base-LLM layers kept in the item LLM, in order; null = all (the study)."""
    user_layers: tuple[int, ...] = (0, -1)
    """Base-LLM layers kept in the user LLM (the study: the first and the last)."""
    item_prompt: str = STUDY_PROMPT
    """Text put before ``title: {title}description: {description}`` (the study's fields)."""
    max_text_tokens: int = 64
    """Item text tokens kept (the learnable embedding token comes after them)."""
    max_items: int = 25
    """History items a user state reads; training sequences are chunks of max_items + 1."""
    num_negatives: int = 512
    """Negatives sampled per batch (uniform over the domain's items, shared by its positions)."""
    temperature_init: float = 0.07
    """Initial temperature: the learnable log logit scale starts at ln(1 / temperature_init)."""
    max_logit_scale: float = 100.0
    """The logit scale is clamped to [1, max_logit_scale] before every training forward."""
    nce_threshold: float = 0.99
    """A negative whose cosine with the positive exceeds this is masked (near-duplicate)."""
    gradient_checkpointing: bool = False
    """Recompute the item LLM's activations in the backward pass (GPU memory at full scale)."""
    item_batch_size: int = 256
    """Items per item-LLM forward (grouped by text length), in training and scoring."""
    user_batch_size: int = 256
    """Users per user-LLM forward and per scoring batch."""
    eval_all_users: bool = False
    """Evaluate every test-window user (the study's HLLM evaluation) instead of the
    ``samples.eval_max_users`` users that title and semid are evaluated on."""

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-able dict (Snakemake params, ``train.json``)."""
        return dataclasses.asdict(self)


_POSITIVE = ("max_text_tokens", "max_items", "num_negatives", "item_batch_size", "user_batch_size")


def settings_from_config(cfg: Mapping[str, Any] | None, key: str = "hllm") -> HllmSettings:
    """Validate the ``hllm:`` section (missing keys take the defaults)."""
    s = from_mapping(HllmSettings, cfg, key)
    require_at_least(s, _POSITIVE, 1, key)
    if not s.user_layers:
        raise InputError(f"config key '{key}.user_layers' must list at least one layer")
    if s.item_layers is not None and not s.item_layers:
        raise InputError(f"config key '{key}.item_layers' must list layers, or be null for all")
    if not 0.0 < s.temperature_init <= 1.0:
        raise InputError(
            f"config key '{key}.temperature_init' must be in (0, 1], got {s.temperature_init}"
        )
    if s.max_logit_scale < 1.0 / s.temperature_init:
        raise InputError(
            f"config key '{key}.max_logit_scale' ({s.max_logit_scale}) must be at least "
            f"1 / temperature_init ({1.0 / s.temperature_init:g})"
        )
    if math.isnan(s.nce_threshold):
        raise InputError(f"config key '{key}.nce_threshold' must be a number")
    return s
