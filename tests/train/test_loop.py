import csv
import math
import random

import pytest
import torch

from mmgrid.train.batching import pad_collate
from mmgrid.train.loop import (
    LOG_FIELDS,
    TrainConfig,
    causal_lm_loss,
    evaluate_loss,
    optimizer_steps,
    train,
)
from mmgrid.train.schedule import lr_at


def _examples(n=12, seed=0):
    """Prompt (not trained) + answer (trained), variable lengths; ids 1..39, pad 0."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        prompt = [rng.randint(1, 39) for _ in range(rng.randint(2, 6))]
        answer = [rng.randint(1, 39) for _ in range(rng.randint(1, 4))]
        out.append({"input_ids": prompt + answer, "labels": [-100] * len(prompt) + answer})
    return out


def test_masked_loss_matches_naive_per_token_sum(make_model):
    model = make_model().eval()
    batch = pad_collate(_examples(5), pad_id=0)
    with torch.no_grad():
        loss_sum, count = causal_lm_loss(model, batch)
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    naive, n = 0.0, 0
    for row in range(batch["input_ids"].shape[0]):
        for t in range(1, batch["input_ids"].shape[1]):
            target = int(batch["labels"][row, t])
            if target == -100:
                continue
            logp = torch.log_softmax(logits[row, t - 1].double(), dim=-1)
            naive -= float(logp[target])
            n += 1
    assert int(count) == n == sum(sum(x != -100 for x in e["labels"][1:]) for e in _examples(5))
    assert float(loss_sum) == pytest.approx(naive, rel=1e-5)
    assert evaluate_loss(
        model, _examples(5), pad_id=0, batch_size=2, device="cpu"
    ) == pytest.approx(naive / n, rel=1e-5)


def test_a_minus_100_label_removes_exactly_that_position(make_model):
    model = make_model().eval()
    full = {"input_ids": [3, 4, 5, 6], "labels": [3, 4, 5, 6]}
    masked = {"input_ids": [3, 4, 5, 6], "labels": [3, -100, 5, 6]}
    with torch.no_grad():
        loss_full, n_full = causal_lm_loss(model, pad_collate([full], pad_id=0))
        loss_masked, n_masked = causal_lm_loss(model, pad_collate([masked], pad_id=0))
        logits = model(input_ids=torch.tensor([[3, 4, 5, 6]])).logits
    nll_of_4_after_3 = -float(torch.log_softmax(logits[0, 0], dim=-1)[4])
    assert (int(n_full), int(n_masked)) == (3, 2)
    assert float(loss_full - loss_masked) == pytest.approx(nll_of_4_after_3, rel=1e-5)


def test_grad_accumulation_equals_one_big_batch(make_model):
    """Token-weighted: 2 micro-batches of 2 == 1 batch of 4, despite unequal token counts."""
    examples = _examples(4)
    runs = []
    for batch_size, accum in [(4, 1), (2, 2)]:
        model = make_model(seed=1)
        cfg = TrainConfig(
            epochs=1,
            lr=1e-2,
            batch_size=batch_size,
            grad_accum=accum,
            shuffle=False,
            device="cpu",
            progress=False,
            grad_clip=1.0,
        )
        summary = train(model, examples, cfg, pad_id=0)
        assert summary["steps"] == 1
        runs.append(model.state_dict())
    for key in runs[0]:
        assert torch.allclose(runs[0][key], runs[1][key], atol=1e-6), key


def test_training_learns_and_logs(make_model, tmp_path):
    examples = _examples(16)
    model = make_model()
    before = evaluate_loss(model, examples, pad_id=0)
    cfg = TrainConfig(
        epochs=30,
        lr=1e-2,
        batch_size=4,
        warmup_ratio=0.1,
        weight_decay=0.01,
        grad_clip=1.0,
        seed=3,
        device="auto",
        progress=False,
    )
    log = tmp_path / "log.csv"
    summary = train(model, examples, cfg, pad_id=0, log_path=log)
    after = evaluate_loss(model, examples, pad_id=0)
    assert after < before - 1.0
    assert summary["steps"] == optimizer_steps(16, cfg) == 120
    assert summary["trained_tokens"] == 30 * sum(
        sum(x != -100 for x in e["labels"][1:]) for e in examples
    )
    assert not model.training
    with open(log) as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == LOG_FIELDS and len(rows) == 120
    assert summary["warmup_steps"] == 12
    for row in rows:
        assert float(row["lr"]) == pytest.approx(lr_at(int(row["step"]), 120, 1e-2, 12))
    assert math.isclose(float(rows[0]["loss"]), summary["first_loss"])


def test_batches_ordered_or_shuffled_by_seed(make_model):
    seen: list[list[int]] = []

    def recording_collate(batch):
        seen.append([ex["input_ids"][0] for ex in batch])
        return pad_collate(batch, pad_id=0)

    examples = [{"input_ids": [i, i]} for i in range(1, 9)]

    def run(shuffle, seed):
        seen.clear()
        cfg = TrainConfig(
            epochs=2, batch_size=3, shuffle=shuffle, seed=seed, device="cpu", progress=False
        )
        train(make_model(), examples, cfg, collate=recording_collate)
        return [list(b) for b in seen]

    assert run(False, 0) == [[1, 2, 3], [4, 5, 6], [7, 8]] * 2
    first = run(True, 5)
    assert first == run(True, 5)
    assert first != run(True, 6)
    assert first[:3] != first[3:]  # reshuffled per epoch
    assert sorted(i for b in first[:3] for i in b) == list(range(1, 9))


def test_max_steps_and_errors(make_model):
    cfg = TrainConfig(epochs=5, batch_size=2, max_steps=3, device="cpu", progress=False)
    assert train(make_model(), _examples(8), cfg, pad_id=0)["steps"] == 3
    with pytest.raises(ValueError, match="pad_id"):
        train(make_model(), _examples(2), cfg)
    with pytest.raises(ValueError, match="no training examples"):
        train(make_model(), [], cfg, pad_id=0)


def test_frozen_parameters_stay_frozen(make_model):
    model = make_model()
    model.model.embed_tokens.weight.requires_grad_(False)
    frozen = model.model.embed_tokens.weight.detach().clone()
    layer = model.model.layers[0].mlp.up_proj.weight.detach().clone()
    train(
        model,
        _examples(8),
        TrainConfig(batch_size=4, lr=1e-2, device="cpu", progress=False),
        pad_id=0,
    )
    assert torch.equal(model.model.embed_tokens.weight, frozen)
    assert not torch.equal(model.model.layers[0].mlp.up_proj.weight, layer)


@pytest.mark.parametrize("scope", ["matrices", "all"])
def test_weight_decay_scope(make_model, scope):
    """With zero gradients one AdamW step only decays: p <- p * (1 - lr * weight_decay), on
    matrices (norm weights untouched) or on every parameter."""
    model = make_model()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}

    def zero_loss(model, batch):
        return sum(p.sum() for p in model.parameters()) * 0.0, torch.tensor(1)

    cfg = TrainConfig(
        lr=0.5, weight_decay=0.5, weight_decay_scope=scope, grad_clip=0.0, progress=False
    )
    train(model, _examples(2), cfg, pad_id=0, loss_fn=zero_loss)
    for name, p in model.named_parameters():
        factor = 0.75 if scope == "all" or p.dim() >= 2 else 1.0
        torch.testing.assert_close(p.detach(), before[name] * factor, rtol=1e-6, atol=0)
