"""Training cells: the loss falls, checkpoints reload exactly, and the chain is real."""

from __future__ import annotations

import csv
import dataclasses
import json
import os

import pytest
import torch
from safetensors.torch import load_file

from mmgrid.atomic import atomic_dir
from mmgrid.hllm.checkpoint import load_hllm, save_hllm
from mmgrid.hllm.item_sequences import item_texts, read_catalogue
from mmgrid.hllm.model import tokenize_items
from mmgrid.hllm.ranking import score_users
from mmgrid.hllm.training import fit_hllm, save_cell
from mmgrid.models.loading import stored_dtype
from tests.devices import DEVICES, assert_trained_in_float32
from tests.hllm.conftest import quiet
from tests.hllm.world import HLLM, TRAIN, period


def test_training_lowers_the_heldout_infonce_loss(pretrain_cell, hllm_base):
    out, result = pretrain_cell
    assert result["heldout_loss_after"] < 0.9 * result["heldout_loss_before"]
    assert result["heldout_sequences"] == TRAIN.heldout_samples
    assert (out / result["init"]).resolve() == hllm_base.resolve()
    with open(out / "train_log.csv") as fh:
        steps = list(csv.DictReader(fh))
    assert len(steps) == result["training"]["steps"] > 0
    assert json.loads((out / "train.json").read_text())["paradigm"] == "hllm"


def test_a_checkpoint_reloads_with_identical_embeddings_and_scores(world, pretrain_cell, hllm_base):
    out, result = pretrain_cell
    # the same cell again, with activation checkpointing (recomputation: the same arithmetic)
    with torch.random.fork_rng():
        model, tokenizer, again = fit_hllm(
            init_dir=hllm_base,
            shards=[world.shards["pretrain"]],
            items_path=world.items,
            period=period("pretrain"),
            train_settings=TRAIN,
            hllm_settings=dataclasses.replace(HLLM, gradient_checkpointing=True),
            seed=2,
            progress=False,
            log=quiet,
        )
    assert again["heldout_loss_after"] == result["heldout_loss_after"]  # deterministic
    reloaded, _ = load_hllm(out, "cpu")
    catalogue = read_catalogue(world.items)
    tokens = tokenize_items(tokenizer, item_texts(catalogue, HLLM.item_prompt), model.config)
    histories = [[0, 5, 9], [3], [7, 7, 1, 2]]
    states, items = score_users(model, tokens, histories, HLLM)
    states2, items2 = score_users(reloaded, tokens, histories, HLLM)
    assert torch.equal(items, items2)
    assert torch.equal(states @ items.T, states2 @ items2.T)


def test_phase1_starts_from_the_pretrain_cell(pretrain_cell, phase1_cell, hllm_base):
    pre_dir, _ = pretrain_cell
    out, result = phase1_cell
    assert (out / result["init"]).resolve() == pre_dir.resolve()
    assert result["heldout_loss_after"] < result["heldout_loss_before"]
    base, pre, phase1 = (load_file(d / "model.safetensors") for d in (hllm_base, pre_dir, out))
    # LoRA leaves non-adapted tensors at the initial (pretrain) weights: bit-identical to the
    # pretrain cell, which full fine-tuning moved away from the base
    for name in ("item_llm.embed_tokens.weight", "item_llm.layers.1.input_layernorm.weight"):
        assert torch.equal(phase1[name], pre[name])
        assert not torch.equal(pre[name], base[name])
    for name in ("item_llm.layers.0.self_attn.q_proj.weight", "item_emb_tokens.weight"):
        assert not torch.equal(phase1[name], pre[name])
    adapter = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert os.path.normpath(out / "adapter" / adapter["base_model_name_or_path"]) == str(pre_dir)
    saved = load_file(out / "adapter" / "adapter_model.safetensors")
    token = saved["base_model.model.item_emb_tokens.weight"]
    assert torch.equal(token, phase1["item_emb_tokens.weight"])


@pytest.mark.parametrize("device", DEVICES)
def test_a_bf16_init_trains_in_float32_and_gives_a_bf16_cell(world, hllm_base, tmp_path, device):
    init, tokenizer = load_hllm(hllm_base, "cpu", dtype=torch.bfloat16)
    bf16_base = tmp_path / "bf16_base"
    bf16_base.mkdir()
    save_hllm(init, tokenizer, bf16_base)
    model, tokenizer, result = fit_hllm(
        init_dir=bf16_base,
        shards=[world.shards["pretrain"]],
        items_path=world.items,
        period=period("pretrain"),
        train_settings=dataclasses.replace(TRAIN, epochs=1, lr=1e-5, device=device),
        hllm_settings=HLLM,
        seed=2,
        progress=False,
        log=quiet,
    )
    name = next(n for n in init.state_dict() if n.endswith("q_proj.weight"))
    assert_trained_in_float32(model.state_dict()[name], init.state_dict()[name])
    out = tmp_path / "cell"
    with atomic_dir(out) as tmp:
        save_cell(model, tokenizer, result, bf16_base, tmp, out)
    assert stored_dtype(out) == torch.bfloat16
    assert load_hllm(out, "cpu")[0].item_llm.embed_tokens.weight.dtype == torch.float32
