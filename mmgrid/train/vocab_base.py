"""The starting point of the semid chain: the base LLM with the semantic-ID tokens added."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mmgrid.atomic import atomic_dir
from mmgrid.items.tokens import semantic_id_tokens


def write_semid_base(
    base_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    levels: int,
    codebook_size: int,
    seed: int,
) -> dict[str, Any]:
    """Load the base, add ``levels x codebook_size`` semantic-ID tokens, save it to ``out_dir``.

    The new rows are initialised deterministically (see :mod:`mmgrid.models.vocab`); the same
    token strings serve every domain, as in the study, so merged semid models share one vocabulary.
    """
    from mmgrid.models.loading import load_causal_lm, stored_dtype
    from mmgrid.models.vocab import add_semantic_id_tokens

    model, tokenizer = load_causal_lm(base_dir, device="cpu")  # float32 for the new rows
    vocab_before = len(tokenizer)
    tokens = semantic_id_tokens(levels, codebook_size)
    add_semantic_id_tokens(model, tokenizer, tokens, seed=seed)
    with atomic_dir(out_dir, marker="config.json", inputs=[base_dir]) as tmp:
        model.to(stored_dtype(base_dir)).save_pretrained(Path(tmp))  # the base's dtype
        tokenizer.save_pretrained(Path(tmp))
    return {"vocab_before": vocab_before, "vocab_after": len(tokenizer), "added": len(tokens)}
