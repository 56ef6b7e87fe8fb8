"""The HLLM: an item LLM that embeds item texts and a user LLM that reads item embeddings.

Item LLM: a Qwen3 decoder (``Qwen3Model``) reads an item's text tokens followed by one
learnable embedding token (``item_emb_tokens``); the item embedding is its last hidden state
(after the final norm) at that token. User LLM: a Qwen3 decoder without token embeddings reads
a user's item embeddings causally; its hidden state at position t predicts item t + 1.

Both read right-padded batches without an attention mask: attention is causal, so a real
position never sees the padding after it, and every sequence starts at position 0. Hidden
states are therefore those of each sequence run alone.

Tensor names (stable for a given architecture, so cells merge tensor by tensor)::

    item_llm.embed_tokens.weight, item_llm.layers.{i}.*, item_llm.norm.weight
    user_llm.layers.{j}.*, user_llm.norm.weight
    item_emb_tokens.weight   [1, hidden]   the learnable embedding token
    logit_scale.weight       [1]           log of the InfoNCE logit scale
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import PreTrainedTokenizerBase, Qwen3Config, Qwen3Model

from mmgrid.errors import InputError

MODEL_TYPE = "mmgrid_hllm"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class HllmConfig:
    """Everything needed to rebuild an HLLM and feed it; stored as the checkpoint's config.json."""

    item_llm: dict[str, Any]
    """Qwen3Config of the item LLM (as ``Qwen3Config.to_dict()``)."""
    user_llm: dict[str, Any]
    """Qwen3Config of the user LLM."""
    item_layers: list[int]
    """Base-LLM layer of each item-LLM layer (provenance)."""
    user_layers: list[int]
    """Base-LLM layer of each user-LLM layer (provenance)."""
    item_prompt: str
    max_text_tokens: int
    pad_token_id: int
    model_type: str = MODEL_TYPE
    format_version: int = FORMAT_VERSION

    @property
    def hidden_size(self) -> int:
        return int(self.item_llm["hidden_size"])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], where: str) -> HllmConfig:
        """Parse a stored config; a missing key or another model type fails naming ``where``."""
        if raw.get("model_type") != MODEL_TYPE:
            raise InputError(
                f"{where}: model_type is {raw.get('model_type')!r}, not {MODEL_TYPE!r}; point "
                "it at an HLLM checkpoint (build one with build_hllm_base)"
            )
        if raw.get("format_version") != FORMAT_VERSION:
            raise InputError(
                f"{where}: format_version {raw.get('format_version')!r} is not supported "
                f"(expected {FORMAT_VERSION}); rebuild the checkpoint"
            )
        names = [f for f in cls.__dataclass_fields__ if f not in ("model_type", "format_version")]
        missing = [n for n in names if n not in raw]
        if missing:
            raise InputError(f"{where}: missing key(s) {', '.join(missing)}")
        return cls(**{n: raw[n] for n in names})


class LearnedTensor(nn.Module):
    """A free parameter as a module (so PEFT can train and save it with ``modules_to_save``)."""

    def __init__(self, *shape: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(*shape))

    def forward(self) -> torch.Tensor:
        return self.weight


class Hllm(nn.Module):
    """Item LLM + user LLM + embedding token + logit scale (see the module docstring)."""

    def __init__(self, config: HllmConfig) -> None:
        super().__init__()
        self.config = config
        self.item_llm = Qwen3Model(Qwen3Config.from_dict(config.item_llm))
        self.user_llm = Qwen3Model(Qwen3Config.from_dict(config.user_llm))
        self.user_llm.embed_tokens = None  # reads item embeddings only
        self.item_emb_tokens = LearnedTensor(1, config.hidden_size)
        self.logit_scale = LearnedTensor(1)

    def embed_items(self, input_ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Item embeddings ``(U, H)`` of right-padded text tokens ``(U, T)``.

        Item ``u`` has ``lengths[u]`` text tokens; its embedding token goes at position
        ``lengths[u]`` (whatever id the table holds there is replaced).
        """
        embeds = self.item_llm.embed_tokens(input_ids)
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        at_token = (positions[None, :] == lengths[:, None]).unsqueeze(-1)
        token = self.item_emb_tokens().to(embeds.dtype)
        embeds = torch.where(at_token, token, embeds)
        hidden = self.item_llm(inputs_embeds=embeds, use_cache=False).last_hidden_state
        return hidden[torch.arange(len(lengths), device=hidden.device), lengths]

    def user_states(self, item_embeddings: torch.Tensor) -> torch.Tensor:
        """User states ``(B, L, H)`` of right-padded item-embedding sequences ``(B, L, H)``."""
        return self.user_llm(inputs_embeds=item_embeddings, use_cache=False).last_hidden_state

    def scale(self, max_logit_scale: float) -> torch.Tensor:
        """The InfoNCE logit scale: clamp ``logit_scale`` in place to [0, ln max], then exp."""
        weight = self.logit_scale()
        with torch.no_grad():
            weight.clamp_(0.0, float(np.log(max_logit_scale)))
        return weight.exp()


@dataclass(frozen=True)
class ItemTokens:
    """Every catalogue item's text tokens, right-padded, with room for the embedding token."""

    ids: torch.Tensor
    """``(N, max_text_tokens + 1)`` int64; padding and the embedding slot hold the pad id."""
    lengths: torch.Tensor
    """``(N,)`` int64: text tokens per item (= the embedding token's position)."""

    def batch(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids and lengths of ``rows``, cut to the longest item of the batch."""
        lengths = self.lengths[rows]
        return self.ids[rows, : int(lengths.max()) + 1], lengths


def tokenize_items(
    tokenizer: PreTrainedTokenizerBase, texts: list[str], config: HllmConfig
) -> ItemTokens:
    """Tokenize item texts (no special tokens), keep ``max_text_tokens`` of each."""
    encoded = tokenizer(texts, add_special_tokens=False)["input_ids"]
    width = config.max_text_tokens
    ids = torch.full((len(texts), width + 1), config.pad_token_id, dtype=torch.long)
    lengths = torch.zeros(len(texts), dtype=torch.long)
    for row, tokens in enumerate(encoded):
        tokens = tokens[:width]
        if not tokens:
            raise InputError(f"item text {texts[row]!r} has no tokens; every item needs a title")
        ids[row, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
        lengths[row] = len(tokens)
    return ItemTokens(ids=ids, lengths=lengths)


def embed_by_length(
    model: Hllm,
    ids: torch.Tensor,
    lengths: torch.Tensor,
    batch_size: int,
    progress: bool = False,
) -> torch.Tensor:
    """Item embeddings ``(U, H)`` in row order, computed in forwards of ``batch_size`` items of
    similar length (each cut to its longest item: little padding)."""
    from tqdm.auto import tqdm

    order = torch.argsort(lengths, stable=True)
    parts = []
    starts = range(0, len(order), batch_size)
    for start in tqdm(starts, desc="embed items", disable=not progress, unit="batch"):
        rows = order[start : start + batch_size]
        width = int(lengths[rows].max()) + 1
        parts.append(model.embed_items(ids[rows, :width], lengths[rows]))
    return torch.cat(parts)[torch.argsort(order)]


def last_states(model: Hllm, embeddings: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """User states ``(B, H)`` at each sequence's last item (``lengths`` >= 1)."""
    states = model.user_states(embeddings)
    return states[torch.arange(len(lengths), device=states.device), lengths - 1]
