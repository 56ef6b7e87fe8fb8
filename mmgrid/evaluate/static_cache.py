"""Decoding with a static key/value cache and a vectorised trie: the ``static`` backend.

The same searches as :mod:`mmgrid.evaluate.generate` (the ``generate`` backend), written as
plain loops over the model's forward pass instead of through ``generate``:

- each batch's prompts run once (one forward pass over the whole prompt); their keys and values
  are copied into a :class:`transformers.StaticCache` preallocated for every beam or sample and
  every new token, so decoding steps have fixed shapes (what ``torch.compile`` and CUDA graphs
  need, with ``compile``);
- semid: the trie is a table per depth (:class:`TrieTables`): a beam's allowed tokens are one
  gather, with no Python call per beam; the prompt's cached positions never move, only the few
  decoded positions are reordered when beams are re-ranked.

Scores are those of ``generate``'s beam search: log-probabilities over the whole vocabulary
(float32), summed over the ID's tokens and the closing EOS. Every semantic ID has the same
length, so the length penalty divides every hypothesis by the same number and beam search
keeps, at each depth, the ``beams`` best prefixes among the allowed continuations. Title
sampling draws from the temperature-scaled softmax through :mod:`.sampling` (seeded per prompt
and sample, as ``generate`` draws); a sample ends at EOS or at its first token holding a
newline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm
from transformers import DynamicCache, PreTrainedModel, PreTrainedTokenizerBase, StaticCache

from mmgrid.evaluate.generate import _batches, _pad_id, left_pad, store_titles
from mmgrid.evaluate.sampling import GumbelSampler
from mmgrid.evaluate.trie import SidTrie


@dataclass(frozen=True)
class TrieTables:
    """A trie whose sequences all have ``depth`` tokens, as one table per depth.

    Node ``n`` at depth ``d`` (a distinct prefix of ``d`` tokens; depth 0 has the root only)
    may continue with ``tokens[d][n, j]`` into node ``children[d][n, j]`` of depth ``d + 1``
    (``-1`` pads rows with fewer children). ``rows[n]`` is the item row of node ``n`` at
    ``depth``.
    """

    depth: int
    tokens: list[torch.Tensor]
    children: list[torch.Tensor]
    rows: torch.Tensor
    eos_id: int

    @classmethod
    def from_trie(cls, trie: SidTrie, device: torch.device | str = "cpu") -> TrieTables:
        keys = list(trie.row_of)
        depth = len(keys[0])
        if any(len(k) != depth for k in keys):
            raise ValueError("the static backend needs semantic IDs of one length")
        seqs = np.asarray(keys, dtype=np.int64)
        node = np.zeros(len(seqs), dtype=np.int64)  # every item's node at the current depth
        tokens, children = [], []
        for d in range(depth):
            # children of a node: its distinct (next token) pairs, in token order
            pairs, child = np.unique(np.c_[node, seqs[:, d]], axis=0, return_inverse=True)
            child = child.reshape(-1)
            parents = pairs[:, 0]
            width = int(np.bincount(parents).max())
            slot = np.arange(len(pairs)) - np.searchsorted(parents, parents)
            tok = np.zeros((int(parents.max()) + 1, width), dtype=np.int64)
            nxt = np.full_like(tok, -1)
            tok[parents, slot] = pairs[:, 1]
            nxt[parents, slot] = np.arange(len(pairs))
            tokens.append(torch.as_tensor(tok, device=device))
            children.append(torch.as_tensor(nxt, device=device))
            node = child
        rows = np.zeros(len(seqs), dtype=np.int64)
        rows[node] = [trie.row_of[k] for k in keys]
        return cls(depth, tokens, children, torch.as_tensor(rows, device=device), trie.eos_id)


def _prefill(
    model: PreTrainedModel, input_ids: torch.Tensor, mask: torch.Tensor, copies: int, new: int
) -> tuple[torch.Tensor, StaticCache]:
    """Run the prompts once; return their last logits (float32, ``[prompts, vocab]``) and a
    static cache holding each prompt's keys and values ``copies`` times, with room for ``new``
    more tokens."""
    prompt_cache = DynamicCache(config=model.config)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    out = model(
        input_ids=input_ids,
        attention_mask=mask,
        position_ids=positions,
        cache=prompt_cache,
        use_cache=True,
        logits_to_keep=1,
    )
    length = input_ids.shape[1]
    first = prompt_cache.layers[0].keys
    cache = StaticCache(config=model.config, max_cache_len=length + new)
    cache.early_initialization(
        batch_size=input_ids.shape[0] * copies,
        num_heads=first.shape[1],
        head_dim=first.shape[3],
        dtype=first.dtype,
        device=first.device,
    )
    for static, prompt in zip(cache.layers, prompt_cache.layers, strict=True):
        static.keys[:, :, :length].copy_(prompt.keys.repeat_interleave(copies, dim=0))
        static.values[:, :, :length].copy_(prompt.values.repeat_interleave(copies, dim=0))
        static.cumulative_length.fill_(length)
    return out.logits[:, -1].to(torch.float32, copy=True), cache


class _Decoder:
    """One token per row and step on a prefilled static cache (rows = prompts x copies)."""

    def __init__(
        self,
        model: PreTrainedModel,
        mask: torch.Tensor,
        cache: StaticCache,
        copies: int,
        new: int,
        forward: Callable[..., Any] | None,
    ) -> None:
        self.model, self.cache = model, cache
        self.start = mask.shape[1]
        rows_mask = mask.repeat_interleave(copies, dim=0)
        ones = torch.ones(rows_mask.shape[0], new, dtype=mask.dtype, device=mask.device)
        self.mask = torch.cat([rows_mask, ones], dim=1)  # fixed shape: causality hides the rest
        self.next_position = rows_mask.sum(-1, keepdim=True)
        self.step = 0
        self.compiled = forward is not None
        self.forward = forward or model.forward

    def __call__(self, tokens: torch.Tensor) -> torch.Tensor:
        """Feed one token per row; return the next-token logits (float32, a copy: a CUDA graph
        reuses its output buffers)."""
        if self.compiled:
            torch.compiler.cudagraph_mark_step_begin()
        out = self.forward(
            input_ids=tokens[:, None],
            attention_mask=self.mask,
            position_ids=self.next_position + self.step,
            cache=self.cache,
            use_cache=True,
        )
        self.step += 1
        return out.logits[:, -1].to(torch.float32, copy=True)

    def reorder(self, rows: torch.Tensor) -> None:
        """Row ``i`` continues row ``rows[i]``: move the decoded positions (the prompt's are the
        same for every copy of a prompt)."""
        span = slice(self.start, self.start + self.step)
        for layer in self.cache.layers:
            layer.keys[:, :, span] = layer.keys[rows, :, span]
            layer.values[:, :, span] = layer.values[rows, :, span]


def compiled_forward(model: PreTrainedModel) -> Callable[..., Any]:
    """``model``'s forward pass through ``torch.compile`` (CUDA graphs on a GPU), for the
    ``forward`` argument of the searches: the static cache keeps every decoding step's shapes
    fixed, so each batch shape compiles once."""
    return torch.compile(model.forward, mode="reduce-overhead")


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
    forward: Callable[..., Any] | None = None,
) -> list[list[int]]:
    """Trie-constrained beam search; per prompt the ranked catalogue rows found (see
    :func:`mmgrid.evaluate.generate.semid_beam_search`). ``forward``: the decoding steps'
    forward pass (default ``model.forward``; see :func:`compiled_forward`)."""
    device = model.device
    tables = TrieTables.from_trie(trie, device)
    width = min(beams, len(trie))
    results: list[list[int]] = [[] for _ in prompts]
    for batch in tqdm(_batches(prompts, batch_size), disable=not progress, desc="beam search"):
        input_ids, mask = left_pad([prompts[i] for i in batch], _pad_id(tokenizer), device)
        n = len(batch)
        logits, cache = _prefill(model, input_ids, mask, width, tables.depth)
        decode = _Decoder(model, mask, cache, width, tables.depth, forward)
        logp = torch.log_softmax(logits, dim=-1)[:, None]  # [prompts, beams so far, vocab]
        node = torch.zeros(n, 1, dtype=torch.long, device=device)
        score = torch.zeros(n, 1, device=device)
        for d in range(tables.depth):
            here = node.clamp(min=0)
            allowed = tables.tokens[d][here]  # [prompts, beams, children]
            child = tables.children[d][here].masked_fill((node < 0)[..., None], -1).flatten(1)
            total = (score[..., None] + logp.gather(2, allowed)).flatten(1)
            total = total.masked_fill(child < 0, -torch.inf)
            tokens = allowed.flatten(1)
            candidates = total.shape[1]
            if candidates < width:  # fewer continuations than beams: pad with dead ones
                total = F.pad(total, (0, width - candidates), value=-torch.inf)
                tokens = F.pad(tokens, (0, width - candidates))
                child = F.pad(child, (0, width - candidates), value=-1)
            score, pick = total.topk(width, dim=1)
            node = child.gather(1, pick)
            if d > 0:  # beams were re-ranked: move their decoded positions along
                parent = torch.where(pick < candidates, pick // tables.tokens[d].shape[1], 0)
                decode.reorder((torch.arange(n, device=device)[:, None] * width + parent).flatten())
            logits = decode(tokens.gather(1, pick).flatten())
            logp = torch.log_softmax(logits, dim=-1).view(n, width, -1)
        final = score + logp[..., tables.eos_id]
        final, order = final.sort(dim=1, descending=True)
        items = tables.rows[node.gather(1, order).clamp(min=0)]
        for j, index in enumerate(batch):
            keep = torch.isfinite(final[j])
            results[index] = items[j][keep].tolist()
    return results


def _newline_tokens(
    tokenizer: PreTrainedTokenizerBase, width: int, device: torch.device
) -> torch.Tensor:
    """A boolean per logit (``width`` of them, the model's rows): does the token's text hold a
    newline? (Rows beyond the tokenizer's vocabulary do not.)"""
    flags = torch.zeros(width, dtype=torch.bool)
    for token_id in tokenizer.get_vocab().values():
        if token_id < width:
            flags[token_id] = "\n" in tokenizer.decode([token_id])
    return flags.to(device)


@torch.no_grad()
def sample_titles(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[Sequence[int]],
    *,
    samples: int,
    temperature: float,
    max_new_tokens: int,
    batch_size: int,
    seed: int,
    progress: bool = False,
    forward: Callable[..., Any] | None = None,
) -> list[list[str]]:
    """``samples`` sampled titles per prompt, as :func:`mmgrid.evaluate.generate.generate_titles`
    samples them. ``forward`` as for :func:`semid_beam_search`."""
    device = model.device
    stops = _newline_tokens(tokenizer, model.get_output_embeddings().weight.shape[0], device)
    eos, pad = tokenizer.eos_token_id, _pad_id(tokenizer)
    results: list[list[str]] = [[] for _ in prompts]
    batches = _batches(prompts, batch_size)
    for batch in tqdm(batches, disable=not progress, desc="titles"):
        input_ids, mask = left_pad([prompts[i] for i in batch], pad, device)
        logits, cache = _prefill(model, input_ids, mask, samples, max_new_tokens)
        decode = _Decoder(model, mask, cache, samples, max_new_tokens, forward)
        logits = logits.repeat_interleave(samples, dim=0)
        running = torch.ones(logits.shape[0], dtype=torch.bool, device=device)
        drawn: list[torch.Tensor] = []
        sampler = GumbelSampler(batch, samples, temperature, seed, device)
        for step in range(max_new_tokens):
            token = torch.where(running, sampler.draw(logits), pad)
            drawn.append(token)
            running &= (token != eos) & ~stops[token]
            if not running.any() or step == max_new_tokens - 1:
                break
            logits = decode(token)
        texts = tokenizer.batch_decode(torch.stack(drawn, 1), skip_special_tokens=True)
        store_titles(results, batch, texts, samples)
    return results
