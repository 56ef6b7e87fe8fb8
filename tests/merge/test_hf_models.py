"""End to end on a tiny Qwen3ForCausalLM and PEFT LoRA adapters made with peft."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from mmgrid.merge import merge
from tests.tiny_models import tiny_qwen3

os.environ.setdefault("HF_HUB_OFFLINE", "1")
transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")

IDS = torch.tensor([[1, 5, 9, 3, 7, 2]])


def tiny_qwen3_64(seed: int):
    return tiny_qwen3(64, layers=2, seed=seed, max_position_embeddings=64).eval()


@pytest.fixture(scope="module")
def hf(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf")
    base = tiny_qwen3_64(0)
    base.save_pretrained(root / "base")
    tunes = []
    for i in (1, 2):
        m = tiny_qwen3_64(0)
        with torch.no_grad():
            for p in m.parameters():
                p.add_(torch.randn_like(p) * 0.01 * i)
        m.save_pretrained(root / f"ft{i}")
        tunes.append(m)
    adapters = []
    for i, (r, alpha, rs) in enumerate([(4, 8, False), (2, 3, True)]):
        cfg = peft.LoraConfig(
            r=r,
            lora_alpha=alpha,
            use_rslora=rs,
            init_lora_weights=False,
            target_modules=["q_proj", "v_proj", "down_proj"],
        )
        torch.manual_seed(10 + i)
        pm = peft.get_peft_model(tiny_qwen3_64(0), cfg)
        pm.save_pretrained(root / f"lora{i}")
        adapters.append(pm)
    return {"root": root, "base": base, "tunes": tunes, "adapters": adapters}


def load(path):
    return transformers.AutoModelForCausalLM.from_pretrained(path).eval()


def logits(model):
    with torch.no_grad():
        return model(IDS).logits


def test_linear_of_identical_models_is_that_model(tmp_path, hf):
    root = hf["root"]
    spec = {
        "method": "linear",
        "inputs": [
            {"name": "a", "path": str(root / "ft1")},
            {"name": "b", "path": str(root / "ft1")},
        ],
    }
    merge(spec, tmp_path / "out", checksums=False)
    got = load_file(tmp_path / "out" / "model.safetensors")
    want = load_file(root / "ft1" / "model.safetensors")
    assert "lm_head.weight" not in got  # tied embeddings stay tied
    assert got.keys() == want.keys()
    for k in want:
        assert torch.equal(got[k], want[k]), k
    assert torch.equal(logits(load(tmp_path / "out")), logits(hf["tunes"][0]))


def test_task_arithmetic_state_dict_and_logits(tmp_path, hf):
    root = hf["root"]
    spec = {
        "method": "task_arithmetic",
        "options": {"scale": 0.8},
        "reference": str(root / "base"),
        "inputs": [
            {"name": "a", "path": str(root / "ft1"), "weight": 0.5},
            {"name": "b", "path": str(root / "ft2"), "weight": 0.25},
        ],
    }
    merge(spec, tmp_path / "out", checksums=False, chunk_elems=100)
    base = load_file(root / "base" / "model.safetensors")
    fts = [load_file(root / f"ft{i}" / "model.safetensors") for i in (1, 2)]
    naive = {}
    for k in base:
        b = base[k].numpy()
        acc = (fts[0][k].numpy() - b) * np.float32(0.5) + (fts[1][k].numpy() - b) * np.float32(0.25)
        naive[k] = torch.from_numpy(b + np.float32(0.8) * acc)
    got = load_file(tmp_path / "out" / "model.safetensors")
    for k in naive:
        assert torch.equal(got[k], naive[k]), k
    ref_model = tiny_qwen3_64(0)
    ref_model.load_state_dict(naive, strict=False)
    ref_model.tie_weights()
    assert torch.equal(logits(load(tmp_path / "out")), logits(ref_model))


def dense_delta(adapter_model, coeff=1.0):
    """ΔW per base weight name from PEFT's own get_delta_weight."""
    out = {}
    for name, module in adapter_model.named_modules():
        if hasattr(module, "get_delta_weight") and "default" in getattr(module, "lora_A", {}):
            key = name.removeprefix("base_model.model.") + ".weight"
            out[key] = module.get_delta_weight("default").detach() * coeff
    return out


def test_lora_task_arithmetic_matches_merge_and_unload(tmp_path, hf):
    root = hf["root"]
    spec = {
        "method": "task_arithmetic",
        "target": str(root / "base"),
        "inputs": [{"name": "l0", "path": str(root / "lora0")}],
    }
    merge(spec, tmp_path / "out", checksums=False, chunk_elems=40)
    got = load_file(tmp_path / "out" / "model.safetensors")
    merged = peft.PeftModel.from_pretrained(tiny_qwen3_64(0), root / "lora0").merge_and_unload()
    want = merged.state_dict()
    for k, v in got.items():
        torch.testing.assert_close(v, want[k], rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(logits(load(tmp_path / "out")), logits(merged), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fmt", ["full", "lora"])
def test_lora_linear_equals_dense_reference(tmp_path, hf, fmt):
    root = hf["root"]
    w = [0.75, 1.25]
    spec = {
        "method": "linear",
        "target": str(root / "base"),
        "output": {"format": fmt},
        "inputs": [
            {"name": "l0", "path": str(root / "lora0"), "weight": w[0]},
            {"name": "l1", "path": str(root / "lora1"), "weight": w[1]},
        ],
    }
    merge(spec, tmp_path / "out", checksums=False)
    d0 = dense_delta(hf["adapters"][0])
    d1 = dense_delta(hf["adapters"][1])
    want = {k: (w[0] * d0[k].double() + w[1] * d1[k].double()) / sum(w) for k in d0}
    if fmt == "lora":
        model = peft.PeftModel.from_pretrained(tiny_qwen3_64(0), tmp_path / "out")
        got = dense_delta(model)
        assert model.peft_config["default"].r == 6
    else:
        base = load_file(root / "base" / "model.safetensors")
        out = load_file(tmp_path / "out" / "model.safetensors")
        got = {k: out[k].double() - base[k].double() for k in want}
        for k in out.keys() - want.keys():  # untouched: Σ wᵢθ / Σ wᵢ in float32
            torch.testing.assert_close(out[k], base[k], rtol=1e-6, atol=0)
    for k in want:
        err = (got[k].double() - want[k]).abs().max() / want[k].abs().max()
        assert err < 1e-6, (k, float(err))


def test_lora_ties_and_dare_merge_like_dense_deltas(tmp_path, hf):
    """TIES/DARE on adapters equal the same merge of the merge_and_unload checkpoints."""
    root = hf["root"]
    for i in (0, 1):
        m = peft.PeftModel.from_pretrained(tiny_qwen3_64(0), root / f"lora{i}").merge_and_unload()
        m.save_pretrained(tmp_path / f"dense{i}")
    for method, options in [("ties", {"density": 0.2}), ("dare", {"drop_rate": 0.5})]:
        outs = []
        for kind in ("lora", "dense"):
            spec = {
                "method": method,
                "options": options,
                "target": str(root / "base"),
                "reference": str(root / "base"),
                "inputs": [
                    {
                        "name": f"x{i}",
                        "path": str(
                            root / f"lora{i}" if kind == "lora" else tmp_path / f"dense{i}"
                        ),
                    }
                    for i in (0, 1)
                ],
            }
            merge(spec, tmp_path / f"{method}_{kind}", checksums=False, chunk_elems=64)
            outs.append(load_file(tmp_path / f"{method}_{kind}" / "model.safetensors"))
        for k in outs[0]:
            torch.testing.assert_close(outs[0][k], outs[1][k], rtol=1e-5, atol=2e-6)
