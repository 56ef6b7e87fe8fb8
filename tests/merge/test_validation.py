"""Invalid specs fail before any tensor byte is read, naming the key or tensor; outputs are atomic."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from merge_fixtures import base_and_two, random_state, write_checkpoint

from mmgrid.errors import InputError
from mmgrid.merge import load_spec, merge, streaming
from mmgrid.merge.safetensors_io import FileReader


@pytest.fixture()
def ckpts(tmp_path):
    return base_and_two(tmp_path)


@pytest.fixture()
def no_reads(monkeypatch):
    def fail(*_a, **_k):
        raise AssertionError("tensor data was read")

    monkeypatch.setattr(FileReader, "read_rows", fail)


def spec_for(ckpts, **extra):
    spec = {
        "method": "ties",
        "reference": str(ckpts["base"]),
        "inputs": [{"name": "a", "path": str(ckpts["a"])}, {"name": "b", "path": str(ckpts["b"])}],
    }
    spec.update(extra)
    return spec


def expect(spec, tmp_path, *fragments):
    with pytest.raises(InputError) as e:
        merge(spec, tmp_path / "out")
    for f in fragments:
        assert f in str(e.value), str(e.value)
    assert not (tmp_path / "out").exists()


def test_unknown_keys_named_with_path(ckpts, tmp_path, no_reads):
    expect(spec_for(ckpts, options={"desnity": 0.2}), tmp_path, "options.desnity")
    spec = spec_for(ckpts)
    spec["inputs"][1]["wieght"] = 2
    expect(spec, tmp_path, "inputs[1].wieght")
    expect(spec_for(ckpts, vocab_rows={"row": [1, 2]}), tmp_path, "vocab_rows.row")
    expect(spec_for(ckpts, method="tie"), tmp_path, "unknown method 'tie'")
    expect(
        spec_for(ckpts, options={"merge": {"method": "linear"}}, method="dare", extra=1),
        tmp_path,
        "'extra'",
    )


def test_missing_file(ckpts, tmp_path, no_reads):
    spec = spec_for(ckpts)
    spec["inputs"][0]["path"] = str(tmp_path / "nope")
    expect(spec, tmp_path, "inputs[0].path", "nope")
    (ckpts["a"] / "model.safetensors").unlink()
    expect(spec_for(ckpts), tmp_path, "no model.safetensors")


def test_weights_count_mismatch(ckpts, tmp_path, no_reads):
    expect(spec_for(ckpts, weights=[0.5, 0.3, 0.2]), tmp_path, "weights", "3 values", "2 inputs")


def test_shape_mismatch_names_tensor(ckpts, tmp_path, no_reads):
    state = random_state(3)
    state["model.layers.0.mlp.up_proj.weight"] = np.zeros((5, 16), np.float32)
    write_checkpoint(ckpts["b"], state)
    expect(spec_for(ckpts), tmp_path, "model.layers.0.mlp.up_proj.weight", "[5, 16]", "[48, 16]")


def test_dtype_mismatch(ckpts, tmp_path, no_reads):
    write_checkpoint(ckpts["b"], random_state(3), dtype=torch.float16)
    expect(spec_for(ckpts), tmp_path, "is F16", "BF16", "allow_mixed_dtypes")


def test_tensor_set_mismatch_mentions_tying(ckpts, tmp_path, no_reads):
    write_checkpoint(ckpts["b"], random_state(3, tied=True), config={"tie_word_embeddings": True})
    expect(spec_for(ckpts), tmp_path, "lm_head.weight", "tie_word_embeddings")


def test_lora_target_mismatch(ckpts, tmp_path, no_reads):
    from safetensors.torch import save_file

    ad = tmp_path / "adapter"
    ad.mkdir()
    (ad / "adapter_config.json").write_text(
        json.dumps({"peft_type": "LORA", "r": 2, "lora_alpha": 4})
    )
    save_file(
        {
            "base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight": torch.zeros(2, 16),
            "base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight": torch.zeros(16, 2),
        },
        ad / "adapter_model.safetensors",
    )
    spec = {
        "method": "task_arithmetic",
        "target": str(ckpts["base"]),
        "inputs": [{"name": "l", "path": str(ad)}],
    }
    expect(spec, tmp_path, "k_proj", "does not have")
    save_file(
        {
            "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": torch.zeros(2, 16),
            "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight": torch.zeros(8, 2),
        },
        ad / "adapter_model.safetensors",
    )
    expect(spec, tmp_path, "q_proj", "(8, 16)")


def test_reference_required(ckpts, tmp_path, no_reads):
    spec = spec_for(ckpts)
    del spec["reference"]
    expect(spec, tmp_path, "reference")


def test_failure_mid_merge_leaves_no_output(ckpts, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = streaming.Streamer.write

    def boom(self, *a):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real(self, *a)

    monkeypatch.setattr(streaming.Streamer, "write", boom)
    with pytest.raises(RuntimeError):
        merge(spec_for(ckpts), tmp_path / "out", chunk_elems=64)
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary


def test_yaml_spec_relative_paths_and_cli(ckpts, tmp_path):
    from mmgrid.merge.merge_cli import main

    (tmp_path / "spec.yaml").write_text(
        "method: linear\ninputs:\n  - {name: a, path: a, weight: 1}\n  - {name: b, path: b}\n"
    )
    spec = load_spec(tmp_path / "spec.yaml")
    assert spec.inputs[0].path == tmp_path / "a"
    assert main([str(tmp_path / "spec.yaml"), str(tmp_path / "out"), "--chunk-elems", "100"]) == 0
    record = json.loads((tmp_path / "out" / "merge.json").read_text())
    assert (
        record["spec"]["method"] == "linear"
        and len(record["inputs"]["input:a"]["files"][0]["sha256"]) == 64
    )
    assert (tmp_path / "out" / "config.json").exists() and (
        tmp_path / "out" / "tokenizer_config.json"
    ).exists()
    # only model config and tokenizer files are copied, not e.g. the source's training log
    (tmp_path / "a" / "train.json").write_text("{}")
    assert main([str(tmp_path / "spec.yaml"), str(tmp_path / "out3")]) == 0
    assert sorted(p.name for p in (tmp_path / "out3").iterdir()) == [
        "config.json",
        "merge.json",
        "model.safetensors",
        "tokenizer_config.json",
    ]
    (tmp_path / "bad.yaml").write_text("method: linear\ninputs: []\n")
    assert main([str(tmp_path / "bad.yaml"), str(tmp_path / "out2")]) == 2
