"""Building an HLLM from the base LLM, its checkpoint format, and padding-free batching."""

from __future__ import annotations

import hashlib
import json
import math
import shutil

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from mmgrid.errors import InputError
from mmgrid.hllm.checkpoint import build_hllm_base, load_hllm, read_config
from mmgrid.hllm.item_sequences import item_texts, read_catalogue
from mmgrid.hllm.model import last_states, tokenize_items
from mmgrid.hllm.settings import HllmSettings
from tests.hllm.conftest import quiet
from tests.hllm.world import HLLM, MODEL


def tensors(path) -> dict[str, torch.Tensor]:
    return load_file(path / "model.safetensors")


def test_the_hllm_is_made_of_the_base_layers(world, hllm_base):
    base, hllm = tensors(world.base_llm), tensors(hllm_base)
    layer_names = {k.split(".", 3)[3] for k in base if k.startswith("model.layers.0.")}
    expected = {"item_llm.embed_tokens.weight", "item_llm.norm.weight", "user_llm.norm.weight"}
    expected |= {"item_emb_tokens.weight", "logit_scale.weight"}
    expected |= {f"item_llm.layers.{i}.{n}" for i in range(3) for n in layer_names}
    expected |= {f"user_llm.layers.{i}.{n}" for i in range(2) for n in layer_names}
    assert set(hllm) == expected
    for name in layer_names:
        for i in range(3):
            assert torch.equal(
                hllm[f"item_llm.layers.{i}.{name}"], base[f"model.layers.{i}.{name}"]
            )
        # the study's user LLM: the first and the last base layer
        assert torch.equal(hllm[f"user_llm.layers.0.{name}"], base[f"model.layers.0.{name}"])
        assert torch.equal(hllm[f"user_llm.layers.1.{name}"], base[f"model.layers.2.{name}"])
    assert torch.equal(hllm["item_llm.embed_tokens.weight"], base["model.embed_tokens.weight"])
    assert hllm["logit_scale.weight"].item() == pytest.approx(math.log(1 / 0.07))
    assert hllm["item_emb_tokens.weight"].shape == (1, MODEL.hidden_size)
    assert 0.01 < hllm["item_emb_tokens.weight"].std().item() < 0.04
    config = json.loads((hllm_base / "config.json").read_text())
    assert config["model_type"] == "mmgrid_hllm"
    assert (config["item_layers"], config["user_layers"]) == ([0, 1, 2], [0, 2])
    assert config["user_llm"]["num_hidden_layers"] == 2
    with safe_open(hllm_base / "model.safetensors", "pt") as f:
        assert f.metadata() == {"format": "pt"}


def test_build_is_deterministic_and_layers_are_configurable(world, hllm_base, tmp_path):
    build_hllm_base(world.base_llm, tmp_path / "again", HLLM, seed=1, log=quiet)
    digest = [
        hashlib.sha256((d / "model.safetensors").read_bytes()).hexdigest()
        for d in (hllm_base, tmp_path / "again")
    ]
    assert digest[0] == digest[1]
    settings = HllmSettings(item_layers=(1,), user_layers=(-1,), max_text_tokens=24, max_items=8)
    build_hllm_base(world.base_llm, tmp_path / "small", settings, seed=1, log=quiet)
    small, base = tensors(tmp_path / "small"), tensors(world.base_llm)
    name = "self_attn.q_proj.weight"
    assert torch.equal(small[f"item_llm.layers.0.{name}"], base[f"model.layers.1.{name}"])
    assert torch.equal(small[f"user_llm.layers.0.{name}"], base[f"model.layers.2.{name}"])
    assert not any(k.startswith(("item_llm.layers.1.", "user_llm.layers.1.")) for k in small)
    with pytest.raises(InputError, match=r"hllm\.user_layers"):
        build_hllm_base(world.base_llm, tmp_path / "bad", HllmSettings(user_layers=(5,)), 1)
    with pytest.raises(InputError, match="max_position_embeddings"):
        build_hllm_base(world.base_llm, tmp_path / "bad", HllmSettings(max_text_tokens=200), 1)
    assert not (tmp_path / "bad").exists()


def naive_item_embedding(model, ids: list[int]) -> torch.Tensor:
    """One item alone, no padding: text embeddings, then the embedding token, last state."""
    embeds = model.item_llm.embed_tokens(torch.tensor([ids]))
    embeds = torch.cat([embeds, model.item_emb_tokens.weight[None]], dim=1)
    return model.item_llm(inputs_embeds=embeds).last_hidden_state[0, -1]


@torch.no_grad()
def test_batched_embeddings_equal_one_item_at_a_time(world, hllm_base):
    model, tokenizer = load_hllm(hllm_base, "cpu")
    catalogue = read_catalogue(world.items)
    tokens = tokenize_items(
        tokenizer, item_texts(catalogue, model.config.item_prompt), model.config
    )
    assert int(tokens.lengths.max()) == HLLM.max_text_tokens > int(tokens.lengths.min())
    rows = torch.arange(12)
    batched = model.embed_items(*tokens.batch(rows))
    for row in rows.tolist():
        ids = tokens.ids[row, : tokens.lengths[row]].tolist()
        torch.testing.assert_close(
            batched[row], naive_item_embedding(model, ids), atol=1e-5, rtol=0
        )
    # user states: right-padded sequences of different lengths vs each alone
    seqs = [batched[[0, 3, 5]], batched[[7]], batched[[1, 2, 4, 6, 8]]]
    padded = torch.zeros(3, 5, batched.shape[1])
    for i, s in enumerate(seqs):
        padded[i, : len(s)] = s
    states = last_states(model, padded, torch.tensor([3, 1, 5]))
    for i, s in enumerate(seqs):
        alone = model.user_states(s[None])[0, -1]
        torch.testing.assert_close(states[i], alone, atol=1e-5, rtol=0)


def test_loading_refuses_other_and_broken_checkpoints(world, hllm_base, tmp_path):
    with pytest.raises(InputError, match="model_type is 'qwen3'"):
        load_hllm(world.base_llm, "cpu")
    broken = tmp_path / "broken"
    shutil.copytree(hllm_base, broken)
    state = tensors(broken)
    del state["user_llm.norm.weight"]
    save_file(state, broken / "model.safetensors")
    with pytest.raises(InputError, match=r"missing \['user_llm\.norm\.weight'\]"):
        load_hllm(broken, "cpu")
    (broken / "model.safetensors").unlink()
    (broken / "pytorch_model.bin").write_bytes(b"")
    with pytest.raises(InputError, match="safetensors weights only"):
        load_hllm(broken, "cpu")
    assert read_config(hllm_base).max_text_tokens == HLLM.max_text_tokens
