"""Cell training: it learns, checkpoints reload exactly (full and LoRA), and the chain is real."""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

from mmgrid.atomic import atomic_dir
from mmgrid.errors import InputError
from mmgrid.models.loading import stored_dtype
from mmgrid.models.vocab import write_semid_base
from mmgrid.samples import prompts
from mmgrid.samples.build import SCHEMA
from mmgrid.train.chat_cell import fit_cell, read_samples, save_cell, train_cell
from mmgrid.train.settings import (
    CellTrainSettings,
    LoraSettings,
    cell_settings,
    validate_scopes,
)
from tests.devices import DEVICES, assert_trained_in_float32

SETTINGS = CellTrainSettings(epochs=3, lr=3e-3, batch_size=8, heldout_samples=12, max_length=256)


@pytest.fixture(scope="module")
def samples_path(catalog_paths, tmp_path_factory) -> Path:
    """Title-mode next-item samples where the target shares the history's topic."""
    items = pd.concat([pd.read_parquet(p) for p in catalog_paths]).reset_index(drop=True)
    topic = items["item_id"].str[:2]  # the catalogue's domain prefix
    rng = random.Random(0)
    rows = []
    for t, (idx, group) in enumerate(items.groupby(topic)):
        for k in range(30):
            chosen = group.sample(4, random_state=rng.randrange(10**6))
            history, target = chosen.iloc[:3], chosen.iloc[3]
            messages = prompts.title_task(list(history["title"]), target["title"])
            rows.append(
                {
                    "task": "recommend",
                    "user_id": f"{idx}{k}",
                    "item_id": target["item_id"],
                    "timestamp": 1000 * (k * 10 + t),
                    "history": list(history["item_id"]),
                    "messages": json.dumps(messages),
                }
            )
    path = tmp_path_factory.mktemp("samples") / "samples.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), path)
    return path


def logits_of(model, tokenizer, text: str) -> torch.Tensor:
    """Logits of ``text`` on the CPU (a cell trained on a GPU comes back on the GPU)."""
    ids = tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        return model.cpu()(**ids).logits


def test_read_samples_keeps_corpus_first_then_time_order(samples_path):
    conversations = read_samples([samples_path])
    table = pq.read_table(samples_path).to_pandas().sort_values("timestamp", kind="stable")
    assert [json.dumps(c) for c in conversations] == list(table["messages"])


def test_full_cell_learns_and_reloads_with_identical_logits(built_base, samples_path, tmp_path):
    base_dir, _ = built_base
    model, tokenizer, result = fit_cell(
        paradigm="title",
        samples=[samples_path],
        init_dir=base_dir,
        settings=SETTINGS,
        seed=0,
        progress=False,
    )
    assert result["heldout_loss_after"] < result["heldout_loss_before"] - 0.2
    out = tmp_path / "cell"
    with atomic_dir(out) as tmp:
        save_cell(model, tokenizer, result, base_dir, tmp, out)
    text = "Title: Wireless Gaming Mouse"
    reloaded = AutoModelForCausalLM.from_pretrained(out)
    assert torch.equal(logits_of(model, tokenizer, text), logits_of(reloaded, tokenizer, text))
    init = json.loads((out / "train.json").read_text())["init"]
    assert (out / init).resolve() == base_dir.resolve()


def test_lora_cell_saves_adapter_and_merged_weights(built_base, samples_path, tmp_path):
    base_dir, _ = built_base
    settings = replace(SETTINGS, adapter="lora", lr=1e-2, lora=LoraSettings(r=4, alpha=8.0))
    model, tokenizer, result = fit_cell(
        paradigm="title",
        samples=[samples_path],
        init_dir=base_dir,
        settings=settings,
        seed=0,
        progress=False,
    )
    assert result["heldout_loss_after"] < result["heldout_loss_before"]
    text = "Title: Wireless Gaming Mouse"
    peft_logits = logits_of(model, tokenizer, text)
    out = tmp_path / "lora"
    with atomic_dir(out) as tmp:
        save_cell(model, tokenizer, result, base_dir, tmp, out)
    config = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert (out / "adapter" / config["base_model_name_or_path"]).resolve() == base_dir.resolve()
    adapter = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(base_dir), out / "adapter"
    )
    torch.testing.assert_close(logits_of(adapter, tokenizer, text), peft_logits, rtol=0, atol=1e-5)
    merged = AutoModelForCausalLM.from_pretrained(out)
    torch.testing.assert_close(logits_of(merged, tokenizer, text), peft_logits, rtol=0, atol=1e-4)


def test_chain_starts_from_the_previous_cell_weights(built_base, samples_path, tmp_path):
    base_dir, _ = built_base
    first, second = tmp_path / "pretrain", tmp_path / "phase1"
    train_cell(
        paradigm="title",
        samples=[samples_path],
        init_dir=base_dir,
        out_dir=first,
        settings=replace(SETTINGS, epochs=1),
        seed=0,
        progress=False,
    )
    # a negligible learning rate: the second cell must equal the first cell's weights
    train_cell(
        paradigm="title",
        samples=[samples_path],
        init_dir=first,
        out_dir=second,
        settings=replace(SETTINGS, epochs=1, lr=1e-12),
        seed=0,
        progress=False,
    )
    base, a, b = (
        AutoModelForCausalLM.from_pretrained(d).state_dict() for d in (base_dir, first, second)
    )
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=0, atol=1e-6)
    assert max((a[n] - base[n]).abs().max().item() for n in a) > 1e-3
    assert (second / "train_log.csv").read_text().startswith("step,epoch,lr,loss")


@pytest.mark.parametrize("device", DEVICES)
def test_a_bf16_base_trains_in_float32_and_gives_bf16_checkpoints(
    built_base, samples_path, tmp_path, device
):
    base_dir, _ = built_base
    bf16_base = tmp_path / "bf16_base"
    shutil.copytree(base_dir, bf16_base)
    init = AutoModelForCausalLM.from_pretrained(base_dir).to(torch.bfloat16)
    init.save_pretrained(bf16_base)
    assert stored_dtype(base_dir) == torch.float32 and stored_dtype(bf16_base) == torch.bfloat16
    model, tokenizer, result = fit_cell(
        paradigm="title",
        samples=[samples_path],
        init_dir=bf16_base,
        settings=replace(SETTINGS, epochs=1, lr=1e-5, device=device),
        seed=0,
        progress=False,
    )
    name = "model.layers.0.self_attn.q_proj.weight"
    assert_trained_in_float32(model.state_dict()[name], init.state_dict()[name])
    out = tmp_path / "cell"
    with atomic_dir(out) as tmp:
        save_cell(model, tokenizer, result, bf16_base, tmp, out)
    assert stored_dtype(out) == torch.bfloat16
    assert AutoModelForCausalLM.from_pretrained(out).dtype == torch.bfloat16
    write_semid_base(bf16_base, tmp_path / "semid", levels=2, codebook_size=4, seed=0)
    assert stored_dtype(tmp_path / "semid") == torch.bfloat16


def test_bf16_precision_keeps_weights_and_optimizer_state_bf16(
    built_base, samples_path, tmp_path, monkeypatch
):
    """train.precision: bf16 (the study's): weights are bf16 in every forward pass, and weights
    and Adam moments are bf16 after every optimizer step."""
    import mmgrid.train.loop as loop

    base_dir, _ = built_base
    in_forward: set[torch.dtype] = set()
    after_step: set[torch.dtype] = set()
    loss_fn, step = loop.causal_lm_loss, torch.optim.AdamW.step

    def recording_loss(model, batch):
        in_forward.update(p.dtype for p in model.parameters())
        return loss_fn(model, batch)

    def recording_step(self, *args, **kwargs):
        out = step(self, *args, **kwargs)
        for group in self.param_groups:
            for p in group["params"]:
                moments = [t for t in self.state[p].values() if t.dim() > 0]  # not the step count
                after_step.update([p.dtype, *(t.dtype for t in moments)])
        return out

    monkeypatch.setattr(loop, "causal_lm_loss", recording_loss)
    monkeypatch.setattr(torch.optim.AdamW, "step", recording_step)
    settings = replace(SETTINGS, epochs=1, precision="bf16", weight_decay=0.01)
    model, tokenizer, result = fit_cell(
        paradigm="title",
        samples=[samples_path],
        init_dir=base_dir,
        settings=replace(settings, weight_decay_scope="all", betas=(0.9, 0.999)),
        seed=0,
        progress=False,
    )
    assert result["training"]["steps"] > 0
    assert in_forward == {torch.bfloat16} and after_step == {torch.bfloat16}
    assert result["heldout_loss_after"] < result["heldout_loss_before"]
    out = tmp_path / "cell"
    with atomic_dir(out) as tmp:
        save_cell(model, tokenizer, result, base_dir, tmp, out)
    saved = AutoModelForCausalLM.from_pretrained(out).state_dict()  # the base's float32
    assert all(torch.equal(t, t.bfloat16().float()) for t in saved.values())


def test_too_few_samples_is_a_clear_error(built_base, tmp_path):
    path = tmp_path / "one.parquet"
    row = {
        "task": "recommend",
        "user_id": "u",
        "item_id": "i",
        "timestamp": 1,
        "history": [],
        "messages": json.dumps(prompts.title_task(["A"], "B")),
    }
    pq.write_table(pa.Table.from_pylist([row], schema=SCHEMA), path)
    with pytest.raises(InputError, match="too few samples"):
        fit_cell(
            paradigm="title", samples=[path], init_dir=built_base[0], settings=SETTINGS, seed=0
        )


def test_cell_settings_resolution_order():
    cfg = {
        "lr": 1.0e-3,
        "periods": {"phase1": {"lr": 2.0e-3, "epochs": 4}},
        "paradigms": {"semid": {"sid_level_loss_weight": 10.0}},
        "domains": {"Books": {"lr": 5.0e-4}},
    }
    assert cell_settings(cfg, "title", "Games", "pretrain").lr == 1e-3
    assert cell_settings(cfg, "title", "Games", "phase1").lr == 2e-3
    books = cell_settings(cfg, "semid", "Books", "phase1")
    assert (books.lr, books.epochs, books.sid_level_loss_weight) == (5e-4, 4, 10.0)
    with pytest.raises(InputError, match=r"train \(cell title/Games/pretrain\)\.lrr"):
        cell_settings({"lrr": 1}, "title", "Games", "pretrain")


def test_cell_settings_paradigm_period_scope():
    """``paradigms.{p}.periods.{period}`` beats ``paradigms.{p}`` and ``periods.{period}``,
    only for that paradigm and period; ``domains.{d}`` still wins."""
    cfg = {
        "epochs": 2,
        "periods": {"pretrain": {"epochs": 1, "lr": 3.0e-3}},
        "paradigms": {"title": {"epochs": 12, "periods": {"pretrain": {"epochs": 3}}}},
        "domains": {"pooled": {"lr": 1.0e-4}},
    }
    pretrain = cell_settings(cfg, "title", "Games", "pretrain")
    assert (pretrain.epochs, pretrain.lr) == (3, 3e-3)
    assert cell_settings(cfg, "title", "Games", "phase1").epochs == 12
    assert cell_settings(cfg, "semid", "Games", "pretrain").epochs == 1
    pooled = cell_settings(cfg, "title", "pooled", "pretrain")
    assert (pooled.epochs, pooled.lr) == (3, 1e-4)
    with pytest.raises(InputError, match=r"train\.paradigms\.title\.periods\.pretrain'"):
        cell_settings(
            {"paradigms": {"title": {"periods": {"pretrain": 3}}}}, "title", "G", "pretrain"
        )


def test_validate_scopes_names_unknown_paradigm_period():
    cfg = {"paradigms": {"semid": {"periods": {"phase3": {"epochs": 1}}}}}
    with pytest.raises(InputError, match=r"train\.paradigms\.semid\.periods\.phase3"):
        validate_scopes(cfg, ["pretrain", "phase1"], ["title", "semid"], ["Books", "pooled"])
    validate_scopes(cfg | {}, ["phase3"], ["semid"], ["Books"])


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("precision", "fp16"),
        ("weight_decay_scope", "norms"),
        ("betas", [0.9]),
        ("betas", [0.9, 1.0]),
        ("weight_decay", -0.1),
    ],
)
def test_optimizer_and_precision_settings_are_checked(key, value):
    with pytest.raises(InputError, match=rf"\.{key}'"):
        cell_settings({key: value}, "title", "Games", "pretrain")
