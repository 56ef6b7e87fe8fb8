"""HLLM checkpoints merge with the merge engine, load and evaluate."""

from __future__ import annotations

import json

import numpy as np
import torch
from safetensors.torch import load_file

from mmgrid.hllm import evaluate_hllm, load_hllm
from mmgrid.merge import merge
from tests.hllm.conftest import quiet
from tests.hllm.world import DOMAIN, HLLM


def weights(path) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in load_file(path / "model.safetensors").items()}


def test_a_weight_average_of_two_cells_loads_and_evaluates(
    world, pretrain_cell, phase1_cell, cases, tmp_path
):
    a, b = pretrain_cell[0], phase1_cell[0]
    out = tmp_path / "merged"
    spec = {
        "method": "linear",
        "inputs": [{"name": "a", "path": str(a)}, {"name": "b", "path": str(b)}],
    }
    merge(spec, out)
    assert json.loads((out / "config.json").read_text()) == json.loads(
        (a / "config.json").read_text()
    )
    assert (out / "tokenizer.json").read_bytes() == (a / "tokenizer.json").read_bytes()
    merged, wa, wb = weights(out), weights(a), weights(b)
    for name in ("user_llm.layers.1.mlp.up_proj.weight", "logit_scale.weight"):
        one = np.float32(1)
        np.testing.assert_array_equal(
            merged[name], (one * wa[name] + one * wb[name]) / np.float32(2)
        )
    model, _ = load_hllm(out, "cpu")
    assert torch.equal(
        model.item_emb_tokens.weight, torch.from_numpy(merged["item_emb_tokens.weight"])
    )
    document = evaluate_hllm(
        out, DOMAIN, cases, world.items, tmp_path / "m", settings=HLLM, log=quiet
    )
    assert (
        document["n_users"] == len(cases) and (tmp_path / "m" / f"{DOMAIN}.ranks.parquet").is_file()
    )


def test_ties_against_the_hllm_base_and_the_lora_adapter_on_its_base(
    world, hllm_base, pretrain_cell, phase1_cell, cases, tmp_path
):
    a, b = pretrain_cell[0], phase1_cell[0]
    spec = {
        "method": "ties",
        "inputs": [{"name": "a", "path": str(a)}, {"name": "b", "path": str(b)}],
        "weights": [0.5, 0.5],
        "reference": str(hllm_base),
    }
    merge(spec, tmp_path / "ties")
    document = evaluate_hllm(
        tmp_path / "ties", DOMAIN, cases, world.items, tmp_path / "m", settings=HLLM, log=quiet
    )
    assert document["n_users"] == len(cases)
    # the LoRA cell's adapter applied to its base (the pretrain cell) gives the cell's weights
    lora = {"name": "b", "path": str(b / "adapter"), "base": str(a)}
    merge({"method": "linear", "inputs": [lora]}, tmp_path / "lora")
    from_adapter, full = weights(tmp_path / "lora"), weights(b)
    assert from_adapter.keys() == full.keys()
    for name, value in full.items():
        np.testing.assert_allclose(from_adapter[name], value, rtol=0, atol=1e-6, err_msg=name)
