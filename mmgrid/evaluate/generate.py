"""Batched, seeded generation for evaluation: constrained semantic IDs and free-text titles.

Each prompt is the test conversation rendered exactly as training renders the text before an
answer (:func:`mmgrid.train.chat.answer_prompt_ids`, whatever the chat template does), followed
by the answer prefix the model was trained to write: ``"Recommended Item Index: "`` (semid) or
``"Recommended Item Title:"`` (title; the space before the title belongs to the title's first
token, as in training). Prompts are left-padded
into batches of similar length; results come back in input order. Each batch's prompts are
run through the model once and the key/value cache is copied to every beam or sample, instead
of letting ``generate`` repeat the prompt's forward pass once per beam.

- semid: beam search whose every step is restricted by :class:`SidTrie` through
  ``prefix_allowed_tokens_fn``, so each returned hypothesis spells a catalogue item followed by
  EOS; the result per prompt is a ranked list of distinct item rows (best beam first).
- title: ``samples`` sampled continuations (temperature, no top-k/top-p truncation, seeded per
  prompt and sample by :mod:`.sampling`, so independent of the batches) or ``samples`` beams,
  cut at the first newline.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from tqdm import tqdm
from transformers import (
    DynamicCache,
    LogitsProcessorList,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from mmgrid.errors import InputError
from mmgrid.evaluate.sampling import GumbelSampler
from mmgrid.evaluate.trie import SidTrie
from mmgrid.items.tokens import sid_token
from mmgrid.samples.prompts import SID_ANSWER, TITLE_ANSWER
from mmgrid.train import chat

ANSWER_PREFIX = {"semid": SID_ANSWER, "title": TITLE_ANSWER.rstrip()}


def answer_prompt_ids(
    tokenizer: PreTrainedTokenizerBase, messages: Sequence[chat.Message], paradigm: str
) -> list[int]:
    """Token ids of the test conversation as training renders it before the answer, followed
    by the paradigm's answer prefix."""
    return chat.answer_prompt_ids(tokenizer, messages, ANSWER_PREFIX[paradigm])


def sid_token_ids(
    tokenizer: PreTrainedTokenizerBase, levels: int, codebook_size: int
) -> np.ndarray:
    """Token id of every semantic-ID token, ``[levels, codebook_size]``; all must exist."""
    vocab = tokenizer.get_vocab()
    ids = np.zeros((levels, codebook_size), dtype=np.int64)
    for level in range(levels):
        for code in range(codebook_size):
            token = sid_token(level, code)
            if token not in vocab:
                raise InputError(
                    f"the model's tokenizer has no semantic-ID token {token}: evaluate a semid "
                    "checkpoint trained with this domain's index (levels x codebook_size)"
                )
            ids[level, code] = vocab[token]
    return ids


def left_pad(
    batch: Sequence[Sequence[int]], pad_id: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-padded ``input_ids`` and ``attention_mask`` for a batch of token-id lists."""
    width = max(len(ids) for ids in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, ids in enumerate(batch):
        if ids:
            input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            mask[row, width - len(ids) :] = 1
    return input_ids.to(device), mask.to(device)


def _batches(prompts: Sequence[Sequence[int]], batch_size: int) -> list[list[int]]:
    """Prompt indices grouped into batches of similar length (longest first)."""
    order = sorted(range(len(prompts)), key=lambda i: (-len(prompts[i]), i))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def _pad_id(tokenizer: PreTrainedTokenizerBase) -> int:
    pad = tokenizer.pad_token_id
    return int(pad if pad is not None else tokenizer.eos_token_id)


@torch.no_grad()
def shared_prompt_cache(
    model: PreTrainedModel, input_ids: torch.Tensor, mask: torch.Tensor, copies: int
) -> DynamicCache:
    """Key/value cache of every prompt but its last token, repeated ``copies`` times per prompt.

    ``generate`` then only runs the last prompt token for each beam or sample.
    """
    cache = DynamicCache(config=model.config)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    model(
        input_ids=input_ids[:, :-1],
        attention_mask=mask[:, :-1],
        position_ids=positions[:, :-1],
        cache=cache,
        use_cache=True,
    )
    cache.batch_repeat_interleave(copies)
    return cache


@torch.no_grad()
def semid_beam_search(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[Sequence[int]],
    trie: SidTrie,
    *,
    beams: int,
    batch_size: int,
    progress: bool = False,
) -> list[list[int]]:
    """Trie-constrained beam search; per prompt the ranked, distinct catalogue rows found.

    The beam width is ``min(beams, catalogue size)``. Hypotheses that are not a whole
    catalogue ID (possible only when fewer valid continuations than beams exist) are dropped.
    """
    device = model.device
    width = min(beams, len(trie))
    depth = max(len(key) for key in trie.row_of) + 1
    eos = trie.eos_id
    results: list[list[int]] = [[] for _ in prompts]
    for batch in tqdm(_batches(prompts, batch_size), disable=not progress, desc="beam search"):
        input_ids, mask = left_pad([prompts[i] for i in batch], _pad_id(tokenizer), device)
        start = input_ids.shape[1]

        def allowed(_batch_id: int, ids: torch.Tensor, start: int = start) -> list[int]:
            return trie.allowed(ids[start:].tolist())

        out = model.generate(
            input_ids=input_ids,
            attention_mask=mask,
            cache=shared_prompt_cache(model, input_ids, mask, width),
            max_new_tokens=depth,
            num_beams=width,
            num_return_sequences=width,
            do_sample=False,
            early_stopping=True,
            length_penalty=1.0,
            prefix_allowed_tokens_fn=allowed,
            eos_token_id=eos,
            pad_token_id=_pad_id(tokenizer),
            return_dict_in_generate=True,
            output_scores=True,
        )
        sequences = out.sequences[:, start:].tolist()
        # one beam is greedy search, whose output has no sequence scores: its one ID stands
        beam_scores = getattr(out, "sequences_scores", None)
        scores = [0.0] * len(sequences) if beam_scores is None else beam_scores.tolist()
        for j, index in enumerate(batch):
            ranked: list[int] = []
            for seq, score in zip(
                sequences[j * width : (j + 1) * width],
                scores[j * width : (j + 1) * width],
                strict=True,
            ):
                row = trie.item_row(seq[: seq.index(eos)]) if eos in seq else None
                if row is not None and np.isfinite(score) and row not in ranked:
                    ranked.append(row)
            results[index] = ranked
    return results


@torch.no_grad()
def generate_titles(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[Sequence[int]],
    *,
    mode: str,
    samples: int,
    temperature: float,
    max_new_tokens: int,
    batch_size: int,
    seed: int,
    progress: bool = False,
) -> list[list[str]]:
    """``samples`` generated titles per prompt (first line, stripped; empty ones dropped)."""
    if mode not in ("sample", "beam"):
        raise ValueError(f"title mode must be 'sample' or 'beam', got {mode!r}")
    device = model.device
    results: list[list[str]] = [[] for _ in prompts]
    batches = _batches(prompts, batch_size)
    for batch in tqdm(batches, disable=not progress, desc="titles"):
        input_ids, mask = left_pad([prompts[i] for i in batch], _pad_id(tokenizer), device)
        cache = shared_prompt_cache(model, input_ids, mask, samples)
        if mode == "sample":  # one greedy row per sample over Gumbel-perturbed scores
            sampler = GumbelSampler(batch, samples, temperature, seed, device)
            decoding = {"do_sample": False, "logits_processor": LogitsProcessorList([sampler])}
            rows = (input_ids.repeat_interleave(samples, 0), mask.repeat_interleave(samples, 0))
            input_ids, mask, returned = *rows, 1
        else:
            decoding = {"do_sample": False, "num_beams": samples, "early_stopping": True}
            returned = samples
        out = model.generate(
            input_ids=input_ids,
            attention_mask=mask,
            cache=cache,
            max_new_tokens=max_new_tokens,
            num_return_sequences=returned,
            repetition_penalty=1.0,
            stop_strings=["\n"],
            tokenizer=tokenizer,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=_pad_id(tokenizer),
            **decoding,
        )
        texts = tokenizer.batch_decode(out[:, input_ids.shape[1] :], skip_special_tokens=True)
        store_titles(results, batch, texts, samples)
    return results


def store_titles(
    results: list[list[str]], batch: Sequence[int], texts: Sequence[str], samples: int
) -> None:
    """Put each prompt's ``samples`` decoded texts (consecutive in ``texts``, in ``batch``
    order) into ``results``: the first line of each, stripped, empty ones dropped."""
    for j, index in enumerate(batch):
        firsts = (t.split("\n", 1)[0].strip() for t in texts[j * samples : (j + 1) * samples])
        results[index] = [t for t in firsts if t]
