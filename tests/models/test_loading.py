import json
import os
import shutil

import pytest
import torch
from safetensors.torch import save_file

from mmgrid.errors import InputError
from mmgrid.models.loading import (
    check_base_dir,
    check_model_dir,
    dtype_for,
    load_causal_lm,
    resolve_device,
    stored_dtype,
)


def test_resolve_device_and_dtype():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert dtype_for(torch.device("cpu")) == torch.float32
    assert dtype_for(torch.device("cuda")) == torch.bfloat16
    with pytest.raises(InputError, match="'device' must be one of"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="no CUDA GPU is visible"):
            resolve_device("cuda")


def test_load_causal_lm_on_cpu(built_base):
    out, summary = built_base
    check_base_dir(out)
    model, tok = load_causal_lm(out, device="cpu")
    assert not model.training
    assert model.dtype == torch.float32 and model.device.type == "cpu"
    assert len(tok) == summary["vocab_size"] == model.config.vocab_size
    assert tok.chat_template


def _copy(src, dst, drop=()):
    shutil.copytree(src, dst)
    for name in drop:
        (dst / name).unlink()
    return dst


def test_missing_directory(tmp_path):
    with pytest.raises(InputError, match=r"base.path '.*nowhere' is not a directory"):
        check_base_dir(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("drop", "needle"),
    [
        (["config.json"], "has no config.json"),
        (["model.safetensors"], "has no weights"),
        (["tokenizer.json"], "has no tokenizer.json"),
        (["chat_template.jinja"], "has no chat template"),
    ],
)
def test_incomplete_directory_names_base_path_and_what_is_missing(
    built_base, tmp_path, drop, needle
):
    bad = _copy(built_base[0], tmp_path / "bad", drop)
    with pytest.raises(InputError) as err:
        check_base_dir(bad)
    assert str(err.value).startswith(f"base.path '{bad}'")
    assert needle in str(err.value)


def test_pickle_only_weights_are_refused(built_base, tmp_path):
    bad = _copy(built_base[0], tmp_path / "bin", ["model.safetensors"])
    (bad / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(InputError, match="only pickle weights"):
        check_base_dir(bad)
    with pytest.raises(InputError, match="model directory"):
        load_causal_lm(bad, device="cpu")


def test_sharded_safetensors_need_every_shard(built_base, tmp_path):
    good = _copy(built_base[0], tmp_path / "sharded", ["model.safetensors"])
    save_file({"w": torch.zeros(2)}, good / "model-00001-of-00002.safetensors")
    index = {
        "weight_map": {
            "a": "model-00001-of-00002.safetensors",
            "b": "model-00002-of-00002.safetensors",
        }
    }
    (good / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(InputError, match=r"missing: model-00002-of-00002\.safetensors"):
        check_base_dir(good)
    save_file({"w": torch.zeros(2)}, good / "model-00002-of-00002.safetensors")
    check_base_dir(good)


def test_truncated_weights_name_expected_and_found_bytes(built_base, tmp_path):
    d = _copy(built_base[0], tmp_path / "cut", [])
    weights = d / "model.safetensors"
    size = weights.stat().st_size
    with open(weights, "r+b") as f:
        f.truncate(size - 1)
    with pytest.raises(InputError, match=r"model directory .*model\.safetensors: truncated") as e:
        check_model_dir(d)
    assert f"(expected {size} bytes, found {size - 1})" in str(e.value)
    with open(weights, "r+b") as f:
        f.truncate(20)  # inside the header
    with pytest.raises(InputError, match=r"truncated \(expected \d+ bytes, found 20\)"):
        check_model_dir(d)


def test_checkpoint_files_get_the_usual_permissions(built_base):
    mask = os.umask(0)
    os.umask(mask)
    for f in built_base[0].iterdir():
        assert f.stat().st_mode & 0o777 == 0o666 & ~mask, f.name


def test_chat_template_in_tokenizer_config_is_accepted(built_base, tmp_path):
    d = _copy(built_base[0], tmp_path / "cfg", ["chat_template.jinja"])
    cfg = json.loads((d / "tokenizer_config.json").read_text())
    cfg["chat_template"] = (built_base[0] / "chat_template.jinja").read_text()
    (d / "tokenizer_config.json").write_text(json.dumps(cfg))
    check_model_dir(d)
    (d / "config.json").write_text("[1, 2]")
    with pytest.raises(InputError, match=r"config\.json is not a JSON object"):
        check_model_dir(d)


def test_stored_dtype_is_the_floating_dtype_holding_most_elements(tmp_path):
    single = tmp_path / "single"
    single.mkdir()
    tensors = {
        "embed": torch.zeros(8, 4, dtype=torch.bfloat16),
        "norm": torch.zeros(4, dtype=torch.float32),
        "positions": torch.zeros(64, dtype=torch.int64),  # not floating: not counted
    }
    save_file(tensors, single / "model.safetensors")
    assert stored_dtype(single) == torch.bfloat16
    sharded = tmp_path / "sharded"
    sharded.mkdir()
    save_file({"a": torch.zeros(3, dtype=torch.float16)}, sharded / "part-1.safetensors")
    save_file({"b": torch.zeros(4, dtype=torch.float32)}, sharded / "part-2.safetensors")
    weight_map = {"a": "part-1.safetensors", "b": "part-2.safetensors"}
    (sharded / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    assert stored_dtype(sharded) == torch.float32
    save_file({"i": torch.zeros(2, dtype=torch.int32)}, single / "model.safetensors")
    assert stored_dtype(single) == torch.float32  # nothing floating
