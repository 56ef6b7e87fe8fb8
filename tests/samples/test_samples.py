"""Sample construction against small hand-computed cases."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mmgrid.errors import InputError
from mmgrid.periods import Period, date_to_ms
from mmgrid.samples.build import build_samples
from mmgrid.samples.sequences import UserSequences, load_sequences
from mmgrid.samples.settings import SampleSettings, settings_from_config
from mmgrid.samples.targets import evaluation_targets, sample_order, training_targets

PRE = Period("pretrain", date_to_ms("2020-01-01"), date_to_ms("2021-01-01"))
PH1 = Period("phase1", date_to_ms("2021-01-01"), date_to_ms("2021-04-01"))
TEST = Period("test", date_to_ms("2021-04-01"), date_to_ms("2021-07-01"))
DAY = 86_400_000

# u1: a..f in pretrain (days 1..6), g, h in phase1, a in test; u2: a, b, c in pretrain, d, e in phase1
ROWS = {
    "pretrain": [("u1", x, PRE.start_ms + (i + 1) * DAY) for i, x in enumerate("abcdef")]
    + [("u2", x, PRE.start_ms + (i + 1) * DAY) for i, x in enumerate("abc")],
    "phase1": [
        ("u1", "g", PH1.start_ms),
        ("u1", "h", PH1.start_ms + DAY),
        ("u2", "d", PH1.start_ms),
        ("u2", "e", PH1.start_ms + 2 * DAY),
    ],
    "test": [("u1", "a", TEST.start_ms)],
}


@pytest.fixture
def data(tmp_path):
    shards = {}
    for period, rows in ROWS.items():
        u, i, t = zip(*rows, strict=True)
        path = tmp_path / f"{period}.parquet"
        pq.write_table(
            pa.table({"user_id": u, "item_id": i, "rating": [5.0] * len(u), "timestamp": t}), path
        )
        shards[period] = path
    items = tmp_path / "items.parquet"
    ids = list("abcdefgh")
    pq.write_table(
        pa.table(
            {
                "item_id": ids,
                "title": [f"Item {x}" for x in ids],
                "description": [f"About {x} in detail" for x in ids],
                "first_seen": [0] * 8,
            }
        ),
        items,
    )
    sids = tmp_path / "sids.parquet"
    pq.write_table(pa.table({"item_id": ids, "sid": [f"<a_{k}><b_{k}>" for k in range(8)]}), sids)
    return shards, items, sids


def rng():
    return np.random.default_rng(0)


def test_training_targets_by_hand(data):
    shards, _, _ = data
    seqs = load_sequences(list(shards.values()))
    assert list(seqs.users) == ["u1", "u2"]
    # pretrain: u1 rows 4, 5 (items e, f) have >= 4 earlier rows; u2 has none
    rows = training_targets(seqs, PRE, min_history=4, max_per_user=None, rng=rng())
    assert list(seqs.items[rows]) == ["e", "f"]
    # phase1: u1 g, h; u2 only e (position 4), not d (position 3)
    rows = training_targets(seqs, PH1, min_history=4, max_per_user=None, rng=rng())
    assert [(seqs.items[r], seqs.timestamps[r]) for r in rows] == [
        ("g", PH1.start_ms),
        ("h", PH1.start_ms + DAY),
        ("e", PH1.start_ms + 2 * DAY),
    ]


def test_per_user_cap_is_random_but_seeded(data):
    shards, _, _ = data
    seqs = load_sequences(list(shards.values()))
    picks = {
        tuple(
            training_targets(seqs, PRE, min_history=1, max_per_user=2, rng=np.random.default_rng(s))
        )
        for s in range(20)
    }
    assert all(len(p) == 4 and list(p) == sorted(p) for p in picks)  # 2 for u1 + 2 for u2
    assert len(picks) > 1
    again = training_targets(seqs, PRE, min_history=1, max_per_user=2, rng=np.random.default_rng(3))
    assert tuple(again) in picks


def test_test_target_is_last_interaction_inside_window(data):
    shards, _, _ = data
    seqs = load_sequences(list(shards.values()))
    rows = evaluation_targets(seqs, TEST, max_users=10, rng=rng())
    assert [(seqs.users[0], seqs.items[r]) for r in rows] == [("u1", "a")]
    # a window ending before u1's test interaction: u2's last (phase1) is outside, u1's is g/h
    rows = evaluation_targets(seqs, PH1, max_users=10, rng=rng())
    assert list(seqs.items[rows]) == ["h", "e"]
    assert len(evaluation_targets(seqs, PH1, max_users=1, rng=rng())) == 1
    assert list(seqs.items[evaluation_targets(seqs, PH1, max_users=None, rng=rng())]) == ["h", "e"]


def test_title_samples_history_and_prompt(data):
    shards, items, _ = data
    settings = SampleSettings(max_history=3, min_history=4, history_description_chars=5)
    table = build_samples(
        "title",
        "D",
        PH1,
        shards=list(shards.values()),
        items_path=items,
        sids_path=None,
        is_test=False,
        is_first=False,
        settings=settings,
        seed=0,
    ).to_pylist()
    assert [(r["user_id"], r["item_id"]) for r in table] == [("u1", "g"), ("u1", "h"), ("u2", "e")]
    assert table[0]["history"] == ["d", "e", "f"]
    messages = json.loads(table[0]["messages"])
    assert messages[0]["role"] == "user" and messages[1]["role"] == "assistant"
    assert messages[0]["content"].endswith(
        "Title: Item d\nDescription: About...\n\nTitle: Item e\nDescription: About...\n\n"
        "Title: Item f\nDescription: About..."
    )
    assert "predict a new item title" in messages[0]["content"]
    assert messages[1]["content"] == "Recommended Item Title: Item g"


def test_semid_samples_aux_and_item_corpus(data):
    shards, items, sids = data
    settings = SampleSettings(max_history=30, min_history=4, item_group_size=3, item_examples=2)
    table = build_samples(
        "semid",
        "D",
        PRE,
        shards=list(shards.values()),
        items_path=items,
        sids_path=sids,
        is_test=False,
        is_first=True,
        settings=settings,
        seed=0,
    ).to_pylist()
    corpus = [r for r in table if r["task"].startswith("item_")]
    assert len(corpus) == 2 * 3  # ceil(8 / 3) groups, both directions
    assert table[: len(corpus)] == corpus  # corpus first
    covered = sorted(i for r in corpus if r["task"] == "item_text_to_sid" for i in r["history"])
    assert covered == list("abcdefgh")
    main = [r for r in table if r["task"] == "recommend"]
    aux = [r for r in table if r["task"].startswith("aux_")]
    assert [r["item_id"] for r in main] == ["e", "f"] and len(aux) == 2
    answer = json.loads(main[0]["messages"])[1]["content"]
    assert answer == "Recommended Item Index: <a_4><b_4>"
    conv = json.loads(corpus[0]["messages"])
    assert [m["role"] for m in conv] == ["user", "assistant"] * 3


def test_test_samples_have_no_answer_and_are_deterministic(data):
    shards, items, sids = data
    kwargs = dict(
        shards=list(shards.values()),
        items_path=items,
        sids_path=sids,
        is_test=True,
        is_first=False,
        settings=SampleSettings(),
        seed=0,
    )
    a = build_samples("semid", "D", TEST, **kwargs)
    assert a.to_pylist()[0]["history"] == ["a", "b", "c", "d", "e", "f", "g", "h"]
    assert [m["role"] for m in json.loads(a.to_pylist()[0]["messages"])] == ["user"]
    assert a.equals(build_samples("semid", "D", TEST, **kwargs))


def test_empty_sample_set_is_a_clear_error(data):
    shards, items, _ = data
    with pytest.raises(
        InputError, match=r"domain D, period pretrain: no training targets.*min_history"
    ):
        build_samples(
            "title",
            "D",
            PRE,
            shards=list(shards.values()),
            items_path=items,
            sids_path=None,
            is_test=False,
            is_first=True,
            settings=SampleSettings(min_history=10, max_history=30),
            seed=0,
        )


def test_settings_reject_unknown_keys():
    with pytest.raises(InputError, match=r"unknown config key 'samples\.max_histroy'"):
        settings_from_config({"max_histroy": 3})
    with pytest.raises(InputError, match=r"'samples\.max_history' must be an integer"):
        settings_from_config({"max_history": "3"})


def test_every_paradigm_draws_the_same_test_users(data, tmp_path):
    """With a cap on test users, title and semid (and hllm) evaluate the same users."""
    _, items, sids = data
    users = [f"u{k:02d}" for k in range(30)]
    rows = [(u, "a", PRE.start_ms + DAY) for u in users] + [
        (u, "bcdefgh"[k % 7], TEST.start_ms + k * DAY) for k, u in enumerate(users)
    ]
    u, i, t = zip(*rows, strict=True)
    shard = tmp_path / "all.parquet"
    pq.write_table(
        pa.table({"user_id": u, "item_id": i, "rating": [5.0] * 60, "timestamp": t}), shard
    )
    kwargs = dict(
        shards=[shard],
        items_path=items,
        sids_path=sids,
        is_test=True,
        is_first=False,
        settings=SampleSettings(eval_max_users=10),
        seed=3,
    )
    drawn = {
        p: build_samples(p, "D", TEST, **kwargs).column("user_id").to_pylist()
        for p in ("title", "semid")
    }
    assert len(drawn["title"]) == 10
    assert drawn["title"] == drawn["semid"]
    other_seed = build_samples("title", "D", TEST, **{**kwargs, "seed": 4})
    assert other_seed.column("user_id").to_pylist() != drawn["title"]


def test_sample_order_is_by_timestamp_then_user_id() -> None:
    # users are sorted by id; rows 1 (u1 at t=5), 2 (u2 at t=5), 3 (u2 at t=9), 4 (u3 at t=1)
    seqs = UserSequences(
        users=np.array(["u1", "u2", "u3"]),
        offsets=np.array([0, 2, 4, 5]),
        items=np.array(["a", "b", "c", "d", "e"]),
        timestamps=np.array([1, 5, 5, 9, 1]),
    )
    assert sample_order(seqs, np.array([3, 2, 1, 4])).tolist() == [4, 1, 2, 3]
    assert sample_order(seqs, np.array([], dtype=np.int64)).tolist() == []
