"""The decoding backends give the same rankings and samples; the static one against naive scoring."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from mmgrid.errors import InputError
from mmgrid.evaluate import generate, settings_from_config, static_cache
from mmgrid.evaluate.backends import backend, prepare
from mmgrid.evaluate.generate import answer_prompt_ids, sid_token_ids
from mmgrid.evaluate.model_evaluation import read_test_samples
from mmgrid.evaluate.static_cache import TrieTables
from mmgrid.evaluate.trie import SidTrie
from mmgrid.items.index import load_index
from mmgrid.models.loading import load_causal_lm
from tests.evaluate.conftest import CODEBOOK, LEVELS


@pytest.fixture(scope="module")
def lm(eval_world):
    model, tokenizer = load_causal_lm(eval_world["model"], device="cpu")
    index = load_index(eval_world["index"])
    trie = SidTrie.from_codes(
        index.codes, sid_token_ids(tokenizer, LEVELS, CODEBOOK), tokenizer.eos_token_id
    )
    semid = read_test_samples(eval_world["semid_samples"])["messages"]
    title = read_test_samples(eval_world["title_samples"])["messages"]
    return {
        "model": model,
        "tokenizer": tokenizer,
        "trie": trie,
        "semid": [answer_prompt_ids(tokenizer, json.loads(m), "semid") for m in semid],
        "title": [answer_prompt_ids(tokenizer, json.loads(m), "title") for m in title],
    }


def test_trie_tables_hand_computed():
    trie = SidTrie([[5, 7], [5, 8], [6, 7]], eos_id=2)
    tables = TrieTables.from_trie(trie)
    assert tables.depth == 2
    assert tables.tokens[0].tolist() == [[5, 6]]
    assert tables.children[0].tolist() == [[0, 1]]
    # node 0 = prefix (5,), node 1 = prefix (6,); rows padded with -1 children
    assert tables.tokens[1].tolist() == [[7, 8], [7, 0]]
    assert tables.children[1].tolist() == [[0, 1], [2, -1]]
    assert tables.rows.tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="one length"):
        TrieTables.from_trie(SidTrie([[5, 7], [6]], eos_id=2))


@pytest.mark.parametrize(("beams", "batch_size"), [(20, 4), (7, 3), (2, 10), (1, 5)])
def test_backends_return_the_same_ranked_lists(lm, beams, batch_size):
    args = (lm["model"], lm["tokenizer"], lm["semid"], lm["trie"])
    reference = generate.semid_beam_search(*args, beams=beams, batch_size=batch_size)
    static = static_cache.semid_beam_search(*args, beams=beams, batch_size=batch_size)
    assert static == reference
    assert all(len(rows) == min(beams, len(lm["trie"])) for rows in static)


@torch.no_grad()
def _exhaustive_ranking(model, prompt: list[int], trie: SidTrie) -> list[int]:
    """Every item scored by one forward pass over prompt + ID + EOS (log-probabilities over the
    whole vocabulary, summed), best first."""
    scores = {}
    for key, row in trie.row_of.items():
        ids = torch.tensor([[*prompt, *key, trie.eos_id]])
        logp = torch.log_softmax(model(input_ids=ids).logits[0].double(), dim=-1)
        answer = range(len(prompt), ids.shape[1])
        scores[row] = sum(float(logp[t - 1, ids[0, t]]) for t in answer)
    return sorted(scores, key=lambda r: -scores[r])


def test_static_beam_search_is_exact_when_the_beams_hold_every_item(lm):
    """With at least as many beams as items no prefix is pruned: the ranking is the exhaustive
    one (an independent reference)."""
    index = np.arange(0, len(lm["trie"]), 4)  # 12 of the 48 items
    keys = list(lm["trie"].row_of)
    small = SidTrie([keys[i] for i in index], lm["trie"].eos_id)
    prompts = lm["semid"][:3]
    ranked = static_cache.semid_beam_search(
        lm["model"], lm["tokenizer"], prompts, small, beams=20, batch_size=2
    )
    for rows, prompt in zip(ranked, prompts, strict=True):
        assert rows == _exhaustive_ranking(lm["model"], prompt, small)


def test_backends_sample_the_same_titles(lm):
    kwargs = {
        "mode": "sample",
        "samples": 3,
        "temperature": 0.8,
        "max_new_tokens": 8,
        "batch_size": 4,
        "seed": 7,
    }
    args = (lm["model"], lm["tokenizer"], lm["title"])
    titles = backend("static").generate_titles
    reference = generate.generate_titles(*args, **kwargs)
    static = titles(*args, **kwargs)
    assert static == reference
    assert sum(map(len, static)) > len(static)  # titles were drawn
    assert titles(*args, **{**kwargs, "seed": 8}) != static
    # a prompt's samples do not depend on the batches: any batch size, either backend
    for batch_size in (1, 3, len(lm["title"])):
        assert titles(*args, **{**kwargs, "batch_size": batch_size}) == static
    assert generate.generate_titles(*args, **{**kwargs, "batch_size": 1}) == static
    beam = {**kwargs, "mode": "beam"}  # runs through generate
    assert titles(*args, **beam) == generate.generate_titles(*args, **beam)


def test_backend_settings_are_checked(lm):
    assert settings_from_config({}).backend == "static"
    with pytest.raises(InputError, match=r"evaluate\.backend.*static, generate"):
        settings_from_config({"backend": "vllm"})
    with pytest.raises(InputError, match=r"evaluate\.compile.*generate backend"):
        prepare(lm["model"], "generate", compile=True)
    assert backend("generate").semid_beam_search is generate.semid_beam_search


def test_evaluation_metrics_agree_between_backends(eval_world, tmp_path):
    from tests.evaluate.test_eval_pipeline import run

    for paradigm in ("semid", "title"):
        static = run(eval_world, paradigm, tmp_path / f"{paradigm}-s", backend="static")
        reference = run(eval_world, paradigm, tmp_path / f"{paradigm}-g", backend="generate")
        assert static["metrics"] == reference["metrics"]
        ranks = [
            pd.read_parquet(tmp_path / f"{paradigm}-{b}" / "Books.ranks.parquet") for b in "sg"
        ]
        pd.testing.assert_frame_equal(*ranks)


def test_compiled_static_decoding_gives_the_same_lists(lm, monkeypatch):
    """``evaluate.compile`` decodes through ``torch.compile`` (here its graph capture with the
    eager backend: code generation takes minutes on a CPU) with the same results."""
    real_compile = torch.compile
    compiled = []

    def eager_compile(fn, **_):
        compiled.append(fn)
        return real_compile(fn, backend="eager")

    monkeypatch.setattr(torch, "compile", eager_compile)
    decoder = prepare(lm["model"], "static", compile=True)
    assert len(compiled) == 1
    args = (lm["model"], lm["tokenizer"], lm["semid"][:4], lm["trie"])
    plain = static_cache.semid_beam_search(*args, beams=5, batch_size=4)
    assert decoder.semid_beam_search(*args, beams=5, batch_size=4) == plain
