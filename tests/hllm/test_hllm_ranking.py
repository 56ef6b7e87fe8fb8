"""Full-catalogue ranking: oracle states, history masking, and the metric and rank files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from mmgrid.errors import InputError
from mmgrid.evaluate.metrics import metrics_from_ranks
from mmgrid.hllm.checkpoint import load_hllm
from mmgrid.hllm.item_sequences import EvalCases, item_texts, read_catalogue
from mmgrid.hllm.model import tokenize_items
from mmgrid.hllm.ranking import embed_catalogue, evaluate_hllm, rank_targets
from tests.hllm.conftest import quiet
from tests.hllm.world import DOMAIN, HLLM


@pytest.fixture(scope="module")
def item_vectors(world, pretrain_cell) -> torch.Tensor:
    model, tokenizer = load_hllm(pretrain_cell[0], "cpu")
    catalogue = read_catalogue(world.items)
    tokens = tokenize_items(tokenizer, item_texts(catalogue, HLLM.item_prompt), model.config)
    return F.normalize(embed_catalogue(model, tokens, 32), dim=-1)


def naive_rank_bounds(states, items, targets, histories, eps: float = 1e-5) -> list:
    """Per user, with numpy: the rank range the target can take when scores within ``eps`` of
    its own may fall either way (float32 rounding differs between batched and single-user
    arithmetic); None when it cannot be ranked."""
    out = []
    for state, target, history in zip(states.numpy(), targets, histories, strict=True):
        scores = (items.numpy() @ state).astype(np.float64)
        scores[list(history)] = -np.inf
        own = scores[target]
        if not history or not np.isfinite(own):
            out.append(None)
            continue
        out.append((1 + int((scores > own + eps).sum()), int((scores > own - eps).sum())))
    return out


def within(ranks, bounds) -> bool:
    return all(
        r is None if b is None else r is not None and b[0] <= r <= b[1]
        for r, b in zip(ranks, bounds, strict=True)
    )


def test_ties_go_to_the_lower_row():
    items = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [0.6, 0.8], [-1.0, 0.0]])
    states = torch.tensor([[0.6, 0.8]] * 3 + [[1.0, 0.0]])
    histories = [[4], [4], [1], [0]]
    ranks = rank_targets(states, items, [1, 3, 3, 1], histories)
    # rows 1 and 3 tie at 1.0: row 1 first; with row 1 in the history, row 3 is first;
    # the last user: row 0 (score 1) is hidden, rows 1 and 3 tie at 0.6, row 1 first
    assert ranks == [1, 2, 1, 1]
    assert rank_targets(states[3:], items, [3], [[0]]) == [2]
    assert rank_targets(states[3:], items, [4], [[]]) == [None]  # no history: not ranked


def test_an_oracle_state_ranks_its_target_first(item_vectors):
    n = len(item_vectors)
    cosine = item_vectors @ item_vectors.T - 2 * torch.eye(n)
    distinct = [r for r in range(n) if cosine[r].max() < 1 - 1e-4]
    assert len(distinct) > n // 2
    histories = [[(t + 1) % n, (t + 2) % n] for t in distinct]
    ranks = rank_targets(item_vectors[distinct], item_vectors, distinct, histories, batch_size=7)
    assert ranks == [1] * len(distinct)


def test_history_is_masked(item_vectors):
    gen = torch.Generator().manual_seed(0)
    n = len(item_vectors)
    states = F.normalize(torch.randn(40, item_vectors.shape[1], generator=gen), dim=-1)
    targets = torch.randint(0, n, (40,), generator=gen).tolist()
    histories = [torch.randint(0, n, (int(k),), generator=gen).tolist() for k in range(40)]
    histories[5] = [targets[5], 3]  # the target was already seen: not ranked
    ranks = rank_targets(states, item_vectors, targets, histories, batch_size=16)
    assert within(ranks, naive_rank_bounds(states, item_vectors, targets, histories))
    assert ranks[0] is None and ranks[5] is None  # no history; target in history
    # hiding the items that beat the target moves it to the top
    scores = states[7] @ item_vectors.T
    above = torch.nonzero(scores > scores[targets[7]]).flatten().tolist()
    assert rank_targets(states[7:8], item_vectors, [targets[7]], [above])[0] == 1
    hidden = above[0] if above else (targets[7] + 1) % n
    expected = len(above) + 1 - (hidden in above)
    assert rank_targets(states[7:8], item_vectors, [targets[7]], [[hidden]])[0] == expected


def test_evaluation_writes_the_metric_and_rank_files(world, pretrain_cell, cases, item_vectors):
    out = world.root / "metrics" / "pretrain"
    document = evaluate_hllm(
        pretrain_cell[0],
        DOMAIN,
        cases,
        world.items,
        out,
        k=(1, 5),
        settings=HLLM,
        device="cpu",
        log=quiet,
    )  # on the CPU, in float32 like the reference below (a GPU runs the LLM in bf16)
    written = json.loads((out / f"{DOMAIN}.json").read_text())
    assert written == {k: v for k, v in document.items() if k != "timings_s"}
    ranks = pd.read_parquet(out / f"{DOMAIN}.ranks.parquet")
    assert list(ranks.columns) == ["user_id", "item_id", "timestamp", "rank"]
    assert ranks["user_id"].tolist() == cases.user_ids
    as_list = [None if pd.isna(r) else int(r) for r in ranks["rank"]]
    assert written["metrics"] == metrics_from_ranks(as_list, (1, 5))
    assert written["n_users"] == len(cases) and written["paradigm"] == "hllm"
    # the batched ranking equals one user at a time through the user LLM, unpadded
    model, tokenizer = load_hllm(pretrain_cell[0], "cpu")
    catalogue = read_catalogue(world.items)
    row = {item: i for i, item in enumerate(catalogue.item_ids)}
    histories = [[row[i] for i in h][-HLLM.max_items :] for h in cases.histories]
    targets = [row[i] for i in cases.item_ids]
    tokens = tokenize_items(tokenizer, item_texts(catalogue, HLLM.item_prompt), model.config)
    raw = embed_catalogue(model, tokens, 32)
    with torch.no_grad():
        states = torch.stack(
            [
                F.normalize(model.user_states(raw[h][None])[0, -1], dim=-1)
                if h
                else torch.zeros(raw.shape[1])
                for h in histories
            ]
        )
    assert within(as_list, naive_rank_bounds(states, F.normalize(raw, dim=-1), targets, histories))
    assert written["metrics"]["recall@5"] > 0.3  # the learnable successor rule was learnt


def test_unknown_targets_fail_clearly(world, pretrain_cell):
    cases = EvalCases(["u"], ["NOPE"], [0], [[]], source="cases.parquet")
    with pytest.raises(InputError, match=r"cases\.parquet \(test targets\): item NOPE"):
        evaluate_hllm(pretrain_cell[0], DOMAIN, cases, world.items, world.root / "x", log=quiet)
    with pytest.raises(InputError, match=r"'evaluate\.k' must list cut-offs >= 1, got \[0, 5\]"):
        evaluate_hllm(pretrain_cell[0], DOMAIN, cases, world.items, world.root / "x", k=(0, 5))
    assert not (world.root / "x").exists()
