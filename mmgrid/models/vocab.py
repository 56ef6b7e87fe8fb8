"""Add semantic-ID tokens to a tokenizer and grow the model's embeddings to match.

Initialisation of the new rows (deterministic, documented because the reference study does not
say how it did it): every new token's row is

    mean(existing rows) + noise_scale * std(existing rows) * z,   z ~ N(0, I)

where "existing rows" are the rows of the tokens the tokenizer held before the call (unused
padding rows of a real Qwen3 are left out), ``std`` is one scalar over all their entries, and
``z`` comes from a generator seeded with ``derive_seed(seed, "semantic-id-row", token)``: a
token's row depends only on the seed, the token string and the existing rows, not on which
other tokens are added with it. Tied input/output embeddings stay tied; an untied output
layer gets its new rows the same way from its own existing rows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from tokenizers import AddedToken
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from mmgrid.atomic import atomic_dir
from mmgrid.errors import InputError
from mmgrid.items.tokens import semantic_id_tokens
from mmgrid.seeding import derive_seed


def add_semantic_id_tokens(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    tokens: Sequence[str],
    *,
    seed: int = 0,
    noise_scale: float = 0.1,
    pad_to_multiple_of: int | None = None,
) -> list[int]:
    """Add ``tokens`` (e.g. ``<a_12>``) as whole, non-special tokens; return their ids in order.

    Tokens already in the vocabulary keep their ids and rows, so calling this again on a
    fine-tuned checkpoint is a no-op. The embedding matrix grows to ``len(tokenizer)`` (rounded
    up to ``pad_to_multiple_of`` when given) and never shrinks.
    """
    tokens = list(dict.fromkeys(tokens))
    n_before = len(tokenizer)
    new_tokens = add_tokens_to_tokenizer(tokenizer, tokens)
    new_ids = tokenizer.convert_tokens_to_ids(new_tokens)

    input_emb = model.get_input_embeddings()
    output_emb = model.get_output_embeddings()
    tied = output_emb is not None and output_emb.weight is input_emb.weight
    rows = max(input_emb.weight.shape[0], len(tokenizer))
    if pad_to_multiple_of:
        rows = -(-rows // pad_to_multiple_of) * pad_to_multiple_of
    if rows != input_emb.weight.shape[0]:
        model.resize_token_embeddings(rows, mean_resizing=False)
    input_emb = model.get_input_embeddings()
    output_emb = model.get_output_embeddings()
    if tied and output_emb.weight is not input_emb.weight:
        model.tie_weights()
    _init_rows(input_emb.weight, new_ids, new_tokens, n_before, seed, noise_scale, "input")
    if output_emb is not None and output_emb.weight is not input_emb.weight:
        _init_rows(output_emb.weight, new_ids, new_tokens, n_before, seed, noise_scale, "output")
    return tokenizer.convert_tokens_to_ids(tokens)


def add_tokens_to_tokenizer(tokenizer: PreTrainedTokenizerBase, tokens: Sequence[str]) -> list[str]:
    """Add the ``tokens`` the tokenizer lacks as whole, non-special tokens; return those added.
    (The tokenizer half of :func:`add_semantic_id_tokens`.)"""
    bad = [t for t in tokens if not t or t != t.strip() or any(c.isspace() for c in t)]
    if bad:
        raise InputError(f"semantic-ID token {bad[0]!r} is empty or contains whitespace")
    vocab = tokenizer.get_vocab()
    new_tokens = [t for t in dict.fromkeys(tokens) if t not in vocab]
    if new_tokens:
        tokenizer.add_tokens([AddedToken(t, special=False, normalized=False) for t in new_tokens])
    return new_tokens


@torch.no_grad()
def _init_rows(
    weight: torch.Tensor,
    ids: Sequence[int],
    tokens: Sequence[str],
    n_existing: int,
    seed: int,
    noise_scale: float,
    role: str,
) -> None:
    if not ids:
        return
    existing = weight[: min(n_existing, weight.shape[0])].float()
    mean, std = existing.mean(dim=0), existing.std()
    for token_id, token in zip(ids, tokens, strict=True):
        gen = torch.Generator().manual_seed(derive_seed(seed, "semantic-id-row", role, token))
        noise = torch.randn(weight.shape[1], generator=gen)
        weight[token_id] = (mean.cpu() + noise_scale * std.cpu() * noise).to(weight)


def write_semid_base(
    base_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    levels: int,
    codebook_size: int,
    seed: int,
    noise_scale: float = 0.1,
) -> dict[str, Any]:
    """Load the base, add ``levels x codebook_size`` semantic-ID tokens, save it to ``out_dir``.

    The new rows are initialised deterministically, ``noise_scale`` apart (see the module); the
    same token strings serve every domain, as in the study, so merged semid models share one
    vocabulary.
    """
    from mmgrid.models.loading import load_causal_lm, stored_dtype

    model, tokenizer = load_causal_lm(base_dir, device="cpu")  # float32 for the new rows
    vocab_before = len(tokenizer)
    tokens = semantic_id_tokens(levels, codebook_size)
    add_semantic_id_tokens(model, tokenizer, tokens, seed=seed, noise_scale=noise_scale)
    with atomic_dir(out_dir, marker="config.json", inputs=[base_dir]) as tmp:
        model.to(stored_dtype(base_dir)).save_pretrained(Path(tmp))  # the base's dtype
        tokenizer.save_pretrained(Path(tmp))
    return {
        "vocab_before": vocab_before,
        "vocab_after": len(tokenizer),
        "added": len(tokens),
        "noise_scale": noise_scale,
    }
