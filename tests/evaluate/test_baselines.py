"""The MostPop and Random baselines on a hand-made domain."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mmgrid.evaluate.baselines import BASELINES, evaluate_baselines
from mmgrid.periods import Period

DAY = 86_400_000
OLD = Period("phase1", 0, 10 * DAY)
LAST = Period("phase2", 10 * DAY, 20 * DAY)
TEST = Period("test", 20 * DAY, 30 * DAY)
ITEMS = ["a", "b", "c", "d", "e"]


def _write(tmp_path: Path, rows: list[tuple[str, str, int]]) -> list[Path]:
    """One shard per period from (user, item, day) rows; the item table of ITEMS."""
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "day"])
    frame["timestamp"] = frame["day"] * DAY + 1
    frame["rating"] = 5.0
    shards = []
    for period in (OLD, LAST, TEST):
        part = frame[(frame["timestamp"] >= period.start_ms) & (frame["timestamp"] < period.end_ms)]
        path = tmp_path / f"{period.name}.parquet"
        pq.write_table(
            pa.Table.from_pandas(
                part[["user_id", "item_id", "rating", "timestamp"]], preserve_index=False
            ),
            path,
        )
        shards.append(path)
    items = pd.DataFrame(
        {
            "item_id": ITEMS,
            "title": [f"Item {i}" for i in ITEMS],
            "description": [""] * len(ITEMS),
            "first_seen": [0] * len(ITEMS),
        }
    )
    items.to_parquet(tmp_path / "items.parquet")
    return shards


def _run(tmp_path: Path, shards: list[Path], seed: int = 0) -> dict[str, pd.DataFrame]:
    outputs = {
        name: (tmp_path / f"{name}.json", tmp_path / f"{name}.ranks.parquet") for name in BASELINES
    }
    evaluate_baselines(
        "Books",
        shards,
        tmp_path / "items.parquet",
        test_period=TEST,
        popularity_period=LAST,
        max_users=100,
        ks=[1, 2, 5],
        seed=seed,
        outputs=outputs,
        log=lambda _: None,
    )
    return {
        name: pq.read_table(ranks).to_pandas().set_index("user_id")
        for name, (_, ranks) in outputs.items()
    }


@pytest.fixture
def domain(tmp_path: Path) -> list[Path]:
    # phase2 counts: c 3, b 2, a 1; phase1 counts break the tie between d and e (e 2, d 0)
    rows = [
        ("u1", "e", 1),
        ("u2", "e", 2),
        ("u1", "c", 11),
        ("u2", "c", 12),
        ("u3", "c", 13),
        ("u2", "b", 14),
        ("u3", "b", 15),
        ("u4", "a", 16),
        # test window: u1 -> b (history e, c), u3 -> a (history c, b), u4 -> d (history a)
        ("u1", "b", 21),
        ("u3", "a", 22),
        ("u4", "d", 23),
    ]
    return _write(tmp_path, rows)


def test_most_pop_ranks_by_last_period_counts_with_history_excluded(
    tmp_path: Path, domain: list[Path]
) -> None:
    ranks = _run(tmp_path, domain)["MostPop"]["rank"]
    # order c, b, a, e, d. u1 (saw e, c): b a d -> b is 1st; u3 (saw c, b): a e d -> a is 1st;
    # u4 (saw a): c b e d -> d is 4th
    assert ranks.to_dict() == {"u1": 1, "u3": 1, "u4": 4}
    document = json.loads((tmp_path / "MostPop.json").read_text())
    assert document["n_users"] == 3
    assert document["metrics"]["recall@1"] == pytest.approx(2 / 3)
    assert document["metrics"]["ndcg@5"] == pytest.approx((1 + 1 + 1 / np.log2(5)) / 3)
    assert document["settings"]["popularity_period"] == "phase2"


def test_random_is_seeded_and_excludes_history(tmp_path: Path, domain: list[Path]) -> None:
    first = _run(tmp_path, domain, seed=0)["Random"]["rank"]
    again = _run(tmp_path, domain, seed=0)["Random"]["rank"]
    assert first.equals(again)
    # a user with h history items ranks the target among the 5 - h others
    assert first["u1"] <= 3 and first["u3"] <= 3 and first["u4"] <= 4
    ranks = [_run(tmp_path, domain, seed=s)["Random"]["rank"]["u4"] for s in range(40)]
    assert set(ranks) == {1, 2, 3, 4}


def test_baselines_use_the_samples_stage_test_users(tmp_path: Path, domain: list[Path]) -> None:
    """The same users and targets as the test samples of every paradigm."""
    from mmgrid.samples.sequences import load_sequences
    from mmgrid.samples.targets import evaluation_targets, evaluation_users_seed

    seqs = load_sequences(domain)
    rng = np.random.default_rng(evaluation_users_seed(0, "Books", TEST.name))
    rows = evaluation_targets(seqs, TEST, max_users=100, rng=rng)
    ranks = _run(tmp_path, domain)["MostPop"]
    assert sorted(ranks.index) == sorted(
        seqs.users[np.searchsorted(seqs.offsets, rows, side="right") - 1]
    )
    assert list(ranks["item_id"]) == [seqs.items[r] for r in rows]


def test_blend_orders_mix_the_two_periods_shares(domain: list[Path]) -> None:
    """(1 - w) share_phase1 + w share_phase2, ties by earlier interactions, then row."""
    from mmgrid.evaluate.baselines import blend_orders, ordered_ranks
    from mmgrid.samples.sequences import load_sequences

    seqs = load_sequences(domain)
    row_of = {item: row for row, item in enumerate(ITEMS)}
    weights = [0.0, 0.5, 1.0, 1.5]
    orders = blend_orders(seqs, row_of, len(ITEMS), OLD, LAST, weights)

    # shares: phase1 e 1; phase2 c 1/2, b 1/3, a 1/6
    assert [[ITEMS[r] for r in order] for order in orders] == [
        ["e", "a", "b", "c", "d"],
        ["e", "c", "b", "a", "d"],  # e 1/2, c 1/4, b 1/6, a 1/12
        ["c", "b", "a", "d", "e"],
        ["c", "b", "a", "d", "e"],  # extrapolation: e -1/2 falls below d's 0
    ]
    # u4 (history a, target d): e b c d at weight 0 -> 4th; c b d e at 1.5 -> 3rd
    targets = np.array([seqs.offsets[list(seqs.users).index("u4")] + 1])
    ranks = [ordered_ranks(order, seqs, targets, row_of) for order in orders]
    assert ranks[0] == [4] and ranks[3] == [3]
