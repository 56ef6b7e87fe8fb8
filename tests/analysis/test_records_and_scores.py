"""Model records, metric and rank files, per-user scores and item-age slices."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mmgrid.analysis.inputs import period_start_ms, read_evaluation, read_first_seen
from mmgrid.analysis.records import cross_domain_members, parse_records
from mmgrid.analysis.scores import Scores, new_item_mask, new_item_split
from mmgrid.analysis.settings import AnalysisSettings
from mmgrid.analysis.split import user_draw
from mmgrid.errors import InputError
from mmgrid.periods import MS_PER_DAY
from tests.analysis.world import T0, record, users, write_evaluation, write_items


@pytest.mark.parametrize(
    ("name", "method", "reference", "source", "expected"),
    [
        (
            "cross-phase2-Books+Video_Games-linear",
            "linear",
            None,
            "Books",
            ("Books", "Video_Games"),
        ),
        ("cross-phase2-A+B+C-ties-ref_pooled", "ties", "pooled", "A", ("A", "B", "C")),
        ("cross-phase2-A+B-ties-ref_base-src_B", "ties", "base", "B", ("A", "B")),
        ("cross-phase2-A+B-linear-src_A", "linear", None, "A", ("A", "B")),
        ("cross-phase1-A+B-linear", "linear", None, None, None),  # another period
        ("cross-phase2-A-linear", "linear", None, None, None),  # one domain
        ("cross-phase2-A+B-ties", "linear", None, None, None),  # another method
    ],
)
def test_cross_domain_members_from_names(name, method, reference, source, expected):
    assert cross_domain_members(name, "phase2", method, reference, source) == expected


def test_records_parse_every_kind():
    records = parse_records(
        [
            record("title", "A-p1", "cell", ["A"], period="p1"),
            record("title", "pooled-p1", "pooled", ["A", "B"]),
            record("title", "cross-p2-A+B-linear", "cross_domain", ["A", "B"], period="p2",
                   method="linear", source="A"),
            record("title", "temporal-A-p1+p2-linear-w0.25", "temporal", ["A"], method="linear",
                   weight=0.25, periods=["p1", "p2"]),
        ]
    )  # fmt: skip
    cell, pooled, cross, temporal = records
    assert (cell.domain, cell.period) == ("A", "p1")
    assert pooled.period == "p1" and pooled.domains == ("A", "B")
    assert cross.members == ("A", "B")
    assert (temporal.weight, temporal.periods) == (0.25, ("p1", "p2"))


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (record("title", "A-p1", "checkpoint", ["A"]), "kind 'checkpoint'"),
        (record("title", "A-p2", "cell", ["A"], period="p1"), "named 'A-p1'"),
        (record("title", "A-p1", "cell", [], period="p1"), "'domains'"),
        (record("title", "x", "temporal", ["A"], weight=0.5), "'periods'"),
        (record("title", "x", "temporal", ["A"], periods=["p1", "p2"]), "'weight'"),
        (record("title", "merge", "cross_domain", ["A"], period="p2", method="ties"), "'members'"),
        (record(None, "A-p1", "cell", ["A"], period="p1"), "'paradigm'"),
    ],
)
def test_bad_records_are_named(raw, words):
    with pytest.raises(InputError) as error:
        parse_records([raw])
    assert "model record 0" in str(error.value) and words in str(error.value)


def test_duplicate_records_fail():
    cell = record("title", "A-p1", "cell", ["A"], period="p1")
    with pytest.raises(InputError, match="listed twice"):
        parse_records([cell, cell])


def test_metrics_recomputed_from_ranks_match_hand_values(tmp_path):
    write_evaluation(tmp_path, "title", "m", "A", [1, 3, None, 2, 12])
    evaluation = read_evaluation(tmp_path, "title", "m", "A", "ndcg@10")
    values = evaluation.metrics()
    assert values["recall@5"] == pytest.approx(3 / 5)
    assert values["ndcg@5"] == pytest.approx((1 + 1 / math.log2(4) + 1 / math.log2(3)) / 5)
    assert values["mrr@10"] == pytest.approx((1 + 1 / 3 + 1 / 2) / 5)
    # a subset of users: the first and the third (unranked)
    mask = np.array([True, False, True, False, False])
    assert evaluation.metrics(mask)["recall@5"] == pytest.approx(0.5)
    assert evaluation.metrics(mask)["mrr@5"] == pytest.approx(0.5)
    assert evaluation.rank_list(mask) == [1, None]


def test_metric_file_errors_name_the_file(tmp_path):
    with pytest.raises(InputError, match=r"m/A\.json: metric file not found"):
        read_evaluation(tmp_path, "title", "m", "A", "ndcg@10")
    path = write_evaluation(tmp_path, "title", "m", "A", [1, 2])
    with pytest.raises(InputError) as error:
        read_evaluation(tmp_path, "title", "m", "A", "ndcg@50")
    assert str(path) in str(error.value) and "analysis.metric" in str(error.value)
    document = json.loads(path.read_text())
    document["metrics"]["recall@5"] = 0.25  # the rank file says 1.0
    path.write_text(json.dumps(document))
    with pytest.raises(InputError, match="different runs"):
        read_evaluation(tmp_path, "title", "m", "A", "ndcg@10")
    document["metrics"]["recall@5"] = float("nan")
    path.write_text(json.dumps(document))
    with pytest.raises(InputError, match=r"A\.json: metric recall@5 is nan, not a finite number"):
        read_evaluation(tmp_path, "title", "m", "A", "ndcg@10")
    write_evaluation(tmp_path, "title", "m", "A", [1, 2])
    path.with_name("A.ranks.parquet").unlink()
    with pytest.raises(InputError, match="rank file not found"):
        read_evaluation(tmp_path, "title", "m", "A", "ndcg@10")


def _rewrite_ranks(path, column, values):
    """The rank file beside the metric file ``path`` with ``column`` replaced by ``values``."""
    ranks = path.with_name("A.ranks.parquet")
    table = pq.read_table(ranks)
    index = table.schema.get_field_index(column)
    pq.write_table(table.set_column(index, column, pa.array(values)), ranks)


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("rank", [1.0, float("inf")], r"user u1 has rank inf; ranks are whole numbers from 1"),
        ("rank", [0.0, 2.0], r"user u0 has rank 0\.0"),
        ("rank", [1.0, 2.5], r"user u1 has rank 2\.5"),
        ("timestamp", pa.array([None, 5], pa.int64()), r"row 0 has no timestamp"),
        ("user_id", ["u0", "u0"], r"a user appears more than once"),
    ],
)
def test_bad_rank_files_are_named(tmp_path, column, values, message):
    path = write_evaluation(tmp_path, "title", "m", "A", [1, 2])
    _rewrite_ranks(path, column, values)
    with pytest.raises(InputError, match=rf"A\.ranks\.parquet: {message}"):
        read_evaluation(tmp_path, "title", "m", "A", "ndcg@10")


def test_truncated_rank_file_is_named(tmp_path):
    path = write_evaluation(tmp_path, "title", "m", "A", [1, 2])
    ranks = path.with_name("A.ranks.parquet")
    ranks.write_bytes(ranks.read_bytes()[:-20])
    with pytest.raises(InputError, match=r"A\.ranks\.parquet: not a readable parquet rank file"):
        read_evaluation(tmp_path, "title", "m", "A", "ndcg@10")


def test_bad_item_tables_are_named(tmp_path):
    write_items(tmp_path, "A")
    path = tmp_path / "A.parquet"
    table = pq.read_table(path)
    ids = table.column("item_id").to_pylist()
    pq.write_table(table.set_column(0, "item_id", pa.array([ids[0], *ids[:-1]])), path)
    with pytest.raises(InputError, match=r"A\.parquet: item i0 appears more than once"):
        read_first_seen(tmp_path, "A")
    write_items(tmp_path, "A")
    index = table.schema.get_field_index("first_seen")
    seen = [None, *table.column("first_seen").to_pylist()[1:]]
    pq.write_table(table.set_column(index, "first_seen", pa.array(seen, pa.int64())), path)
    with pytest.raises(InputError, match=r"A\.parquet: item i0 has no first_seen time"):
        read_first_seen(tmp_path, "A")


def test_models_with_other_targets_for_the_same_users_are_refused(tmp_path):
    write_evaluation(tmp_path, "title", "a", "A", [1, 2, None])
    path = write_evaluation(tmp_path, "title", "b", "A", [2, 1, None])
    _rewrite_ranks(path, "item_id", ["i0", "i2", "i1"])  # u1 and u2 swap targets
    scores = Scores(tmp_path, tmp_path / "items", AnalysisSettings(selection="test"), seed=0)
    with pytest.raises(InputError, match=r"b/A\.json and .*a/A\.json: user u1 has another target"):
        scores.aligned_values([("title", "a"), ("title", "b")], "A", "report")


def test_a_side_without_users_scores_nan_not_zero(tmp_path):
    write_evaluation(tmp_path, "title", "m", "A", [1, 2])
    ids = users(2)
    # the seed whose hash puts both users on the selection side
    seed = next(s for s in range(200) if all(user_draw(s, "A", u) < 0.5 for u in ids))
    scores = Scores(tmp_path, tmp_path / "items", AnalysisSettings(), seed=seed)
    report, n, _ = scores.report("title", "m", "A")
    assert n == 0 and all(math.isnan(v) for v in report.values())
    value, n_selection = scores.selection("title", "m", "A")
    assert n_selection == 2 and value > 0


def test_period_start_is_read_or_named(tmp_path):
    stats = {"periods": {"p2": {"start": "2022-10-01"}, "p3": {}}}
    assert period_start_ms(stats, tmp_path / "A.json", "p2") == 1_664_582_400_000
    for period in ("p3", "p4"):
        with pytest.raises(InputError, match=rf"A\.json: period '{period}' has no start date"):
            period_start_ms(stats, tmp_path / "A.json", period)


def test_new_item_mask_boundary():
    t = np.array([100, 100, 100]) * MS_PER_DAY
    first = np.array([100 - 89, 100 - 90, 100 + 1]) * MS_PER_DAY  # ages 89, 90, -1 days
    assert new_item_mask(t, first, days=90).tolist() == [True, False, True]
    # relative to a period start: first seen at the start is new, a millisecond before is old
    since = 11 * MS_PER_DAY
    assert new_item_mask(t, first, since_ms=since).tolist() == [True, False, True]
    assert new_item_mask(t, first - 1, since_ms=since).tolist() == [False, False, True]
    with pytest.raises(ValueError, match="exactly one"):
        new_item_mask(t, first, since_ms=since, days=90)
    # the keyword each analysis.new_items gives
    by_age = AnalysisSettings(new_items="age", new_item_days=30)
    assert new_item_split(by_age, since) == {"days": 30}
    assert new_item_split(AnalysisSettings(), since) == {"since_ms": since}
    assert new_item_split(AnalysisSettings(), None) == {}


def test_age_slices_and_selection_users(tmp_path):
    # users u0-u3 target new items (10 days old), u4-u7 old ones (400 days)
    ranks = [1, None, 2, 7, 1, 1, None, 4]
    write_evaluation(tmp_path / "metrics", "title", "m", "A", ranks)
    write_items(tmp_path / "items", "A")
    settings = AnalysisSettings(
        metric="recall@5", selection="test", new_items="age", new_item_days=90
    )
    scores = Scores(tmp_path / "metrics", tmp_path / "items", settings, seed=0)
    slices = scores.age_slices("title", "m", "A")
    assert slices == {"new": (pytest.approx(2 / 4), 4), "old": (pytest.approx(3 / 4), 4)}
    # a threshold below every age: every target is old
    older = Scores(
        tmp_path / "metrics",
        tmp_path / "items",
        AnalysisSettings(new_items="age", new_item_days=5),
        seed=0,
    )
    assert older.age_slices("title", "m", "A")["new"] == (None, 0)
    # relative to the latest period's start: new = first seen at or after it
    by_period = dataclasses.replace(settings, new_items="latest_period")
    for since_days, n_new in ((20, 4), (5, 0), (500, 8)):
        start = {"A": T0 - since_days * MS_PER_DAY}
        got = Scores(tmp_path / "metrics", tmp_path / "items", by_period, 0, start).age_slices(
            "title", "m", "A"
        )
        assert got["new"][1] == n_new
        if since_days == 20:  # new items 10 days old, old ones 400: the age split's users
            assert got == slices
    with pytest.raises(InputError, match=r"latest_period needs the start .* of A"):
        Scores(tmp_path / "metrics", tmp_path / "items", by_period, 0).age_slices("title", "m", "A")
    metrics, n, unranked = scores.report("title", "m", "A")
    assert (n, unranked, metrics["recall@5"]) == (8, 2, pytest.approx(5 / 8))

    # valid protocol: selection and report users are the hash halves, scored naively
    many = [(j % 9) + 1 if j % 4 else None for j in range(64)]
    ids = users(64)
    write_evaluation(tmp_path / "metrics", "title", "big", "A", many, ids)
    valid = Scores(tmp_path / "metrics", tmp_path / "items", AnalysisSettings(), seed=5)
    held_out = [user_draw(5, "A", u) < 0.5 for u in ids]

    def ndcg10(keep):
        kept = [r for r, k in zip(many, keep, strict=True) if k]
        return sum(1 / math.log2(r + 1) for r in kept if r is not None and r <= 10) / len(kept)

    value, n_selection = valid.selection("title", "big", "A")
    assert n_selection == sum(held_out) and 0 < n_selection < 64
    assert value == pytest.approx(ndcg10(held_out))
    report, n_report, _ = valid.report("title", "big", "A")
    assert n_report == 64 - n_selection
    assert report["ndcg@10"] == pytest.approx(ndcg10([not h for h in held_out]))


def test_unknown_target_item_is_named(tmp_path):
    write_evaluation(tmp_path / "metrics", "title", "m", "A", [1] * 10)  # items i0..i9
    write_items(tmp_path / "items", "A", n=8)
    scores = Scores(tmp_path / "metrics", tmp_path / "items", AnalysisSettings(), seed=0)
    with pytest.raises(InputError, match=r"target item i8 is not in .*A\.parquet"):
        scores.age_slices("title", "m", "A")
