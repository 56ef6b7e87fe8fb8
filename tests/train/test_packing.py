import random

import pytest
import torch

from mmgrid.errors import InputError
from mmgrid.models.attention import choose_attention
from mmgrid.train.batching import pad_collate
from mmgrid.train.loop import TrainConfig, causal_lm_loss, train
from mmgrid.train.packing import group_rows, pack_rows, packed_batches, packed_collate
from mmgrid.train.settings import cell_settings


def _examples(n=12, seed=0, max_prompt=9):
    """Prompt (not trained) + answer (trained), variable lengths; ids 1..39, pad 0."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        prompt = [rng.randint(1, 39) for _ in range(rng.randint(2, max_prompt))]
        answer = [rng.randint(1, 39) for _ in range(rng.randint(1, 4))]
        out.append({"input_ids": prompt + answer, "labels": [-100] * len(prompt) + answer})
    return out


def test_pack_rows_first_fit_decreasing():
    # sorted: 6 (i4), 5 (i0), 4 (i2), 3 (i1), 2 (i3); capacity 6
    assert pack_rows([5, 3, 4, 2, 6], 6) == [[4], [0], [2, 3], [1]]
    assert pack_rows([2, 2, 2], 6) == [[0, 1, 2]]
    with pytest.raises(ValueError, match="below the longest"):
        pack_rows([7], 6)


def test_group_rows_by_row_count_or_token_budget():
    assert group_rows([6, 6, 5, 3], max_rows=2, max_tokens=None) == [[0, 1], [2, 3]]
    # budget 12 tokens: rows x widest row
    assert group_rows([6, 6, 5, 3], max_rows=99, max_tokens=12) == [[0, 1], [2, 3]]
    assert group_rows([6, 6, 5, 3], max_rows=99, max_tokens=18) == [[0, 1, 2], [3]]
    assert group_rows([9], max_rows=1, max_tokens=4) == [[0]]  # one row always fits


def test_packed_collate_layout():
    a = {"input_ids": [5, 6, 7], "labels": [-100, 6, 7]}
    b = {"input_ids": [8, 9], "labels": [8, 9]}
    c = {"input_ids": [3, 4], "labels": [-100, 4]}
    batch = packed_collate([[a, b], [c]], pad_id=0)
    assert batch["input_ids"].tolist() == [[5, 6, 7, 8, 9], [3, 4, 0, 0, 0]]
    # the first label of every example is never a target (it would be predicted across examples)
    assert batch["labels"].tolist() == [[-100, 6, 7, -100, 9], [-100, 4, -100, -100, -100]]
    # positions restart per example; padding is a segment of its own
    assert batch["position_ids"].tolist() == [[0, 1, 2, 0, 1], [0, 1, 0, 1, 2]]
    assert int(batch["input_tokens"]) == 7
    assert "attention_mask" not in batch
    flat = packed_collate([[a, b], [c]], pad_id=0, flatten=True)
    assert flat["input_ids"].tolist() == [[5, 6, 7, 8, 9, 3, 4]]
    assert flat["position_ids"].tolist() == [[0, 1, 2, 0, 1, 0, 1]]


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
@pytest.mark.parametrize("flatten", [False, True])
def test_packed_and_padded_batches_give_the_same_loss_and_gradients(make_model, attention, flatten):
    examples = _examples(10)
    model = make_model()
    model.set_attn_implementation(attention)
    padded = pad_collate(examples, pad_id=0)
    loss_padded, n_padded = causal_lm_loss(model, padded)
    loss_padded.backward()
    grads_padded = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()

    batches = packed_batches(examples, pad_id=0, max_rows=3, flatten=flatten)
    assert len(batches) >= 2  # gradients accumulate over micro-batches
    loss_packed, n_packed = 0.0, 0
    for batch in batches:
        batch.pop("input_tokens")
        loss, n = causal_lm_loss(model, batch)
        loss.backward()
        loss_packed += loss.item()
        n_packed += int(n)
    assert n_packed == int(n_padded)
    assert loss_packed == pytest.approx(loss_padded.item(), rel=1e-5)
    for p, g in zip(model.parameters(), grads_padded, strict=True):
        torch.testing.assert_close(p.grad, g, rtol=1e-4, atol=1e-6)


def test_packed_rows_hold_fewer_tokens_than_padded_batches():
    examples = _examples(32, max_prompt=30)
    padded = sum(pad_collate(examples[i : i + 8], 0)["input_ids"].numel() for i in range(0, 32, 8))
    packed = sum(b["input_ids"].numel() for b in packed_batches(examples, pad_id=0, max_rows=8))
    assert packed < padded
    assert sum(int(b["input_tokens"]) for b in packed_batches(examples, 0, max_rows=8)) == sum(
        len(e["input_ids"]) for e in examples
    )


def test_training_with_packing_matches_padded_training(make_model):
    examples = _examples(24)
    summaries = []
    for packing in (False, True):
        cfg = TrainConfig(
            epochs=2,
            lr=1e-2,
            batch_size=4,
            grad_accum=2,
            device="cpu",
            progress=False,
            packing=packing,
        )
        summaries.append(train(make_model(), examples, cfg, pad_id=0))
    padded, packed = summaries
    for key in ("steps", "trained_tokens", "input_tokens"):
        assert packed[key] == padded[key]
    assert packed["first_loss"] == pytest.approx(padded["first_loss"], rel=1e-5)
    assert packed["final_loss"] == pytest.approx(padded["final_loss"], rel=1e-4)


def test_packing_needs_token_id_examples(make_model):
    cfg = TrainConfig(device="cpu", progress=False, packing=True)
    with pytest.raises(ValueError, match="packing needs"):
        train(make_model(), _examples(4), cfg, collate=lambda b: pad_collate(b, 0))


def test_compile_trains_through_torch_compile(make_model, monkeypatch):
    """``compile`` trains through ``torch.compile`` (here its graph capture with the eager
    backend: inductor's code generation takes minutes on a CPU) and gives the same losses."""
    real_compile = torch.compile
    compiled = []

    def eager_compile(model, **kwargs):
        compiled.append(model)
        return real_compile(model, backend="eager", **kwargs)

    monkeypatch.setattr(torch, "compile", eager_compile)
    examples = [{"input_ids": [1 + (3 * i + j) % 39 for j in range(6)]} for i in range(8)]
    losses = []
    for flag in (False, True):
        model = make_model()
        cfg = TrainConfig(batch_size=4, device="cpu", progress=False, packing=True, compile=flag)
        losses.append(train(model, examples, cfg, pad_id=0)["final_loss"])
    assert len(compiled) == 1
    assert losses[1] == pytest.approx(losses[0], rel=1e-5)


def test_attention_is_chosen_per_device():
    cpu = torch.device("cpu")
    assert choose_attention("auto", cpu) == "sdpa"
    assert choose_attention("eager", cpu) == "eager"
    with pytest.raises(InputError, match=r"train\.attention.*flash-attn"):
        choose_attention("flash_attention_2", cpu, "train.attention")
    with pytest.raises(InputError, match=r"train\.attention"):
        choose_attention("flash", cpu, "train.attention")


def test_packing_settings_are_validated():
    assert cell_settings({}, "title", "Books", "phase1").packing is True
    with pytest.raises(InputError, match="micro_batch_tokens"):
        cell_settings({"micro_batch_tokens": 100, "max_length": 512}, "title", "Books", "p")
    with pytest.raises(InputError, match=r"train \(cell title/Books/p\)\.attention"):
        cell_settings({"attention": "flash"}, "title", "Books", "p")
