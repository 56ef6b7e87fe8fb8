"""Training chunks per period and test cases: the study's rules, hand-computed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmgrid.errors import InputError
from mmgrid.hllm.item_sequences import (
    Catalogue,
    cases_from_samples,
    cases_from_shards,
    chunk_bounds,
    item_texts,
    load_training_sequences,
    read_catalogue,
)
from mmgrid.periods import Period
from mmgrid.samples.build import build_samples, write_samples
from mmgrid.samples.settings import SampleSettings
from mmgrid.samples.targets import evaluation_users_seed
from tests.hllm.world import DOMAIN, period

DAY = 86_400_000
WINDOW = Period("phase1", 100 * DAY, 200 * DAY)


def test_chunks_drop_the_oldest_remainder():
    assert chunk_bounds(60, 26) == [(8, 34), (34, 60)]
    assert chunk_bounds(52, 26) == [(0, 26), (26, 52)]
    assert chunk_bounds(27, 26) == [(1, 27)]
    assert chunk_bounds(26, 26) == [(0, 26)]
    assert chunk_bounds(2, 26) == [(0, 2)]
    assert chunk_bounds(1, 26) == []


def catalogue(n: int = 10) -> Catalogue:
    ids = [f"I{i}" for i in range(n)]
    return Catalogue("items.parquet", ids, [f"T{i}" for i in range(n)], [""] * n)


def write_shard(tmp_path, rows) -> list:
    path = tmp_path / "shard.parquet"
    pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]).to_parquet(path, index=False)
    return [path]


def test_period_sequences_are_the_full_histories_of_active_users(tmp_path):
    rows = [
        # a: active in the window, full history kept, 5 items -> chunks of 3: drop 2, 1 chunk
        *[("a", f"I{i}", (50 + i) * DAY) for i in range(4)],
        ("a", "I9", 150 * DAY),
        ("a", "I8", 250 * DAY),  # after the window's end: cut
        # b: last interaction before the window: not active
        ("b", "I1", 10 * DAY),
        ("b", "I2", 20 * DAY),
        # c: one interaction before the end only: no prediction
        ("c", "I3", 120 * DAY),
        ("c", "I4", 220 * DAY),
        # d: two items, both in the window; ends before a's chunk
        ("d", "I5", 101 * DAY),
        ("d", "I6", 102 * DAY),
    ]
    data = load_training_sequences(write_shard(tmp_path, rows), WINDOW, 2, catalogue())
    assert [r.tolist() for r in data.rows] == [[5, 6], [2, 3, 9]]
    assert data.end_ms.tolist() == [102 * DAY, 150 * DAY]
    assert data.users == 2
    everyone = Period("pretrain", 0, 200 * DAY)
    data = load_training_sequences(write_shard(tmp_path, rows), everyone, 2, catalogue())
    assert [r.tolist() for r in data.rows] == [[1, 2], [5, 6], [2, 3, 9]]


def test_unknown_items_name_the_items_file(tmp_path):
    shard = write_shard(tmp_path, [("a", "I1", 150 * DAY), ("a", "X7", 151 * DAY)])
    with pytest.raises(InputError, match=r"item X7 is not in the items file items\.parquet"):
        load_training_sequences(shard, WINDOW, 4, catalogue())


def test_item_text_is_the_study_format(world):
    cat = read_catalogue(world.items)
    texts = item_texts(cat, "P: ")
    for text, title, description in zip(texts, cat.titles, cat.descriptions, strict=True):
        expected = f"P: title: {title}" + (f"description: {description}" if description else "")
        assert text == expected
    assert any(not d for d in cat.descriptions) and any(cat.descriptions)


def test_test_cases_are_the_other_paradigms_test_samples(world, tmp_path):
    test = period("test")
    settings = SampleSettings(max_history=6, eval_max_users=20)
    shards = list(world.shards.values())
    seed = evaluation_users_seed(0, DOMAIN, test.name)
    table = build_samples(
        "title",
        DOMAIN,
        test,
        shards=shards,
        items_path=world.items,
        sids_path=None,
        is_test=True,
        is_first=False,
        settings=settings,
        seed=0,
    )
    cases = cases_from_shards(shards, test, max_users=20, max_history=6, seed=seed)
    frame = table.to_pandas()
    assert len(cases) == len(frame) == 20
    assert cases.user_ids == frame["user_id"].tolist()
    assert cases.item_ids == frame["item_id"].tolist()
    assert cases.timestamps == frame["timestamp"].tolist()
    assert cases.histories == [list(h) for h in frame["history"]]
    write_samples(table, tmp_path / "test.parquet")
    from_file = cases_from_samples(tmp_path / "test.parquet")
    assert (from_file.user_ids, from_file.histories) == (cases.user_ids, cases.histories)


def test_all_test_users_when_under_the_cap(world, cases):
    frame = pd.concat([pd.read_parquet(p) for p in world.shards.values()])
    test = period("test")
    last = frame.sort_values(["timestamp", "item_id"]).groupby("user_id").tail(1)
    expected = last[(last["timestamp"] >= test.start_ms) & (last["timestamp"] < test.end_ms)]
    assert sorted(cases.user_ids) == sorted(expected["user_id"])
    assert np.all(np.diff(cases.timestamps) >= 0)
