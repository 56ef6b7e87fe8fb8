"""The semantic-ID trie and trie-constrained beam search on a tiny random Qwen3."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mmgrid.evaluate.generate import (
    answer_prompt_ids,
    semid_beam_search,
    sid_token_ids,
)
from mmgrid.evaluate.trie import SidTrie
from mmgrid.items.tokens import format_sid
from mmgrid.models.loading import load_causal_lm
from mmgrid.samples import prompts

EOS = 99


def test_trie_allows_children_then_eos_and_ends_dead_ends():
    trie = SidTrie([[1, 10], [1, 11], [2, 10]], EOS)
    assert trie.allowed([]) == [1, 2]
    assert trie.allowed([1]) == [10, 11]
    assert trie.allowed([2]) == [10]
    assert trie.allowed([1, 11]) == [EOS]
    assert trie.allowed([3]) == [EOS]  # dead end
    assert trie.allowed([1, 10, EOS]) == [EOS]
    assert trie.item_row([1, 11]) == 1 and trie.item_row([2, 10, EOS]) == 2
    assert trie.item_row([2, 11]) is None and trie.item_row([1]) is None
    assert len(trie) == 3


def test_trie_rejects_duplicates_and_prefixes():
    with pytest.raises(ValueError, match="share"):
        SidTrie([[1, 2], [1, 2]], EOS)
    with pytest.raises(ValueError, match="prefix"):
        SidTrie([[1], [1, 2]], EOS)


def test_trie_from_codes_maps_levels_to_token_ids():
    token_ids = np.array([[100, 101], [200, 201]])
    trie = SidTrie.from_codes(np.array([[0, 1], [1, 1]]), token_ids, EOS)
    assert trie.allowed([]) == [100, 101]
    assert trie.allowed([100]) == [201]


@pytest.fixture(scope="module")
def lm(eval_world):
    model, tokenizer = load_causal_lm(eval_world["model"], "cpu")
    return model, tokenizer


def _catalogue(tokenizer, n_items: int, seed: int) -> tuple[np.ndarray, SidTrie]:
    rng = np.random.default_rng(seed)
    codes = np.unique(rng.integers(0, 16, size=(4 * n_items, 2)), axis=0)
    codes = codes[rng.choice(len(codes), n_items, replace=False)]
    trie = SidTrie.from_codes(codes, sid_token_ids(tokenizer, 2, 16), tokenizer.eos_token_id)
    return codes, trie


def _prompts(tokenizer, codes, n: int, seed: int) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    sids = [format_sid(c) for c in codes]
    return [
        answer_prompt_ids(
            tokenizer,
            prompts.sid_task(
                [sids[j] for j in rng.choice(len(sids), int(rng.integers(1, 6)))], None
            ),
            "semid",
        )
        for _ in range(n)
    ]


def test_constrained_beam_search_returns_only_catalogue_items(lm):
    model, tokenizer = lm
    codes, trie = _catalogue(tokenizer, 40, seed=0)
    batch = _prompts(tokenizer, codes, 6, seed=1)
    ranked = semid_beam_search(model, tokenizer, batch, trie, beams=20, batch_size=4)
    for rows in ranked:
        assert len(rows) == 20 and len(set(rows)) == 20  # a full list, nothing dropped
        assert all(0 <= r < len(codes) for r in rows)


@torch.no_grad()
def _exhaustive_ranking(model, prompt: list[int], trie: SidTrie) -> list[int]:
    """Naive reference: score every catalogue ID + EOS by its total log-probability."""
    scores = []
    for key, row in trie.row_of.items():
        answer = [*key, trie.eos_id]
        ids = torch.tensor([prompt + answer])
        logp = model(input_ids=ids).logits[0, len(prompt) - 1 : -1].log_softmax(-1)
        scores.append((float(logp[range(len(answer)), answer].sum()), row))
    return [row for _, row in sorted(scores, key=lambda s: -s[0])]


def test_wide_beam_is_exhaustive_search(lm):
    """With the beam as wide as the catalogue no prefix is pruned: beams = exact ranking."""
    model, tokenizer = lm
    codes, trie = _catalogue(tokenizer, 12, seed=2)
    batch = _prompts(tokenizer, codes, 3, seed=3)
    ranked = semid_beam_search(model, tokenizer, batch, trie, beams=50, batch_size=3)
    for prompt, rows in zip(batch, ranked, strict=True):
        assert rows == _exhaustive_ranking(model, prompt, trie)


def test_batched_equals_one_at_a_time(lm):
    model, tokenizer = lm
    codes, trie = _catalogue(tokenizer, 40, seed=4)
    batch = _prompts(tokenizer, codes, 5, seed=5)
    assert len({len(p) for p in batch}) > 1  # left padding is exercised
    together = semid_beam_search(model, tokenizer, batch, trie, beams=8, batch_size=5)
    alone = [
        semid_beam_search(model, tokenizer, [p], trie, beams=8, batch_size=1)[0] for p in batch
    ]
    assert together == alone


def test_missing_sid_tokens_are_an_input_error(lm):
    from mmgrid.errors import InputError

    with pytest.raises(InputError, match="<c_0>"):
        sid_token_ids(lm[1], 3, 16)
