"""Ingestion against small hand-computed fixtures, and every bad-input case."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from mmgrid.data.ingest import IngestSettings, ingest_domain
from mmgrid.data.kcore import kcore_mask
from mmgrid.errors import InputError
from mmgrid.items.text import truncate_description
from mmgrid.periods import Period, date_to_ms
from tests.data.rawfiles import byte_tokenizer, ms, write_meta, write_ratings

PERIODS = (
    Period("pretrain", date_to_ms("2020-01-01"), date_to_ms("2021-01-01")),
    Period("phase1", date_to_ms("2021-01-01"), date_to_ms("2021-04-01")),
    Period("test", date_to_ms("2021-04-01"), date_to_ms("2021-07-01")),
)


def settings(kcore: int = 2) -> IngestSettings:
    return IngestSettings(PERIODS, kcore=kcore, description_max_chars=40, recency_days=(30, 90))


def outputs(tmp: Path) -> dict:
    return {
        "shard_paths": {p.name: tmp / "shards" / f"{p.name}.parquet" for p in PERIODS},
        "items_path": tmp / "items.parquet",
        "stats_path": tmp / "stats.json",
    }


def run(tmp: Path, rows, meta, kcore: int = 2, meta_extra=()):
    ratings = write_ratings(tmp / "D.csv.gz", rows)
    metaf = write_meta(tmp / "meta_D.jsonl.gz", meta, meta_extra)
    out = outputs(tmp)
    stats = ingest_domain("D", ratings, metaf, settings(kcore), **out)
    shards = {k: pq.read_table(v).to_pylist() for k, v in out["shard_paths"].items()}
    return stats, shards, pq.read_table(out["items_path"]).to_pylist()


META = {x: (f"Title {x}", [f"About {x}.", "More."]) for x in "abcd"}


def base_rows():
    """Users u1, u2 each with items a, b in every period (a 2-core), timestamps chosen by hand."""
    rows = []
    for u in ("u1", "u2"):
        for day, it in (("2020-03-01", "a"), ("2020-03-02", "b")):
            rows.append((u, it, 5.0, ms(day)))
        rows.append((u, "a", 4.0, ms("2021-01-01")))  # exactly at phase1 start
        rows.append((u, "b", 4.0, ms("2021-02-01")))
        rows.append((u, "a", 3.0, ms("2021-04-01")))  # exactly at test start
        rows.append((u, "b", 3.0, ms("2021-05-01")))
    return rows


def test_kcore_reaches_fixpoint_where_one_pass_does_not():
    users = np.array([0, 0, 1, 1, 2, 2])
    items = np.array([0, 1, 0, 1, 1, 2])  # item 2 has one row; dropping it leaves user 2 with one
    keep, passes = kcore_mask(users, items, 2)
    assert keep.tolist() == [True, True, True, True, False, False]
    assert passes == 3
    # a single pass (the study's reference preprocessing) would keep the row (user 2, item 1)
    one_pass = (np.bincount(users)[users] >= 2) & (np.bincount(items)[items] >= 2)
    assert one_pass.tolist() == [True, True, True, True, True, False]


def test_study_filter_by_hand(tmp_path):
    """kcore_mode: study, k = 2, counted by hand from the study's reference preprocessing.

    Titled rows of the whole file, before the date filter: users u1 4, u2 2, u3 2, u4 3; items
    a 3, b 2, c 2, d 2, e 2 (x has no title). From 2020-01-01 on (no end cut) every row passes
    the counts; then u3 keeps one row and is dropped. Item d keeps a single row (items are not
    checked again); e only occurs after the last period: in the item table, in no shard."""
    rows = [
        ("u1", "a", 5.0, ms("2019-06-01")),  # before the start: counted, then dropped
        ("u1", "a", 5.0, ms("2020-03-01")),
        ("u1", "b", 5.0, ms("2020-03-02")),
        ("u1", "b", 5.0, ms("2021-08-01")),  # after the last period
        ("u2", "a", 5.0, ms("2020-03-05")),
        ("u2", "c", 5.0, ms("2021-02-01")),
        ("u3", "c", 5.0, ms("2019-05-02")),
        ("u3", "d", 5.0, ms("2020-05-01")),
        ("u4", "d", 5.0, ms("2021-05-01")),
        ("u4", "e", 5.0, ms("2021-09-01")),
        ("u4", "e", 5.0, ms("2021-09-02")),
        ("u2", "x", 5.0, ms("2020-04-01")),  # no title
    ]
    meta = {x: (f"Title {x}", [f"About {x}."]) for x in "abcde"}
    ratings = write_ratings(tmp_path / "D.csv.gz", rows)
    metaf = write_meta(tmp_path / "meta_D.jsonl.gz", meta)
    out = outputs(tmp_path)
    study = replace(settings(2), kcore_mode="study")
    stats = ingest_domain("D", ratings, metaf, study, **out)
    shards = {
        k: [(r["user_id"], r["item_id"]) for r in pq.read_table(v).to_pylist()]
        for k, v in out["shard_paths"].items()
    }
    assert shards == {
        "pretrain": [("u1", "a"), ("u1", "b"), ("u2", "a")],
        "phase1": [("u2", "c")],
        "test": [("u4", "d")],
    }
    items = pq.read_table(out["items_path"]).column("item_id").to_pylist()
    assert items == ["a", "b", "c", "d", "e"]
    f = stats["filtering"]
    assert (f["rows_read"], f["rows_in_window"], f["rows_with_title"]) == (12, 10, 9)
    assert (f["rows_removed_by_kcore"], f["rows_after_window"], f["kcore_passes"]) == (1, 3, 1)
    assert f["kcore_mode"] == "study"
    assert stats["totals"]["interactions"] == 5 and stats["totals"]["items"] == 5
    # the default iterative k-core of the same file inside the window leaves nothing at k = 2
    with pytest.raises(InputError, match="no interaction survives"):
        ingest_domain("D", ratings, metaf, settings(2), **outputs(tmp_path / "it"))


def test_study_filter_keeps_duplicates(tmp_path):
    rows = base_rows()
    rows.append(rows[0])  # exact duplicate
    ratings = write_ratings(tmp_path / "D.csv.gz", rows)
    metaf = write_meta(tmp_path / "meta_D.jsonl.gz", META)
    out = outputs(tmp_path)
    stats = ingest_domain("D", ratings, metaf, replace(settings(), kcore_mode="study"), **out)
    assert stats["filtering"]["duplicates_kept"] == 1
    assert pq.read_table(out["shard_paths"]["pretrain"]).num_rows == 5


def test_study_meta_text_keeps_titles_and_joins_description_items_by_newlines(tmp_path):
    meta = {x: (f"Title  {x}", [f"About {x}.", "More  text."]) for x in "ab"}
    ratings = write_ratings(tmp_path / "D.csv.gz", base_rows())
    metaf = write_meta(tmp_path / "meta_D.jsonl.gz", meta)
    out = outputs(tmp_path)
    ingest_domain("D", ratings, metaf, replace(settings(), meta_text="study"), **out)
    first = pq.read_table(out["items_path"]).to_pylist()[0]
    assert (first["title"], first["description"]) == ("Title  a", "About a.\nMore  text.")
    (tmp_path / "normalized").mkdir()
    _, _, items = run(tmp_path / "normalized", base_rows(), meta)
    assert (items[0]["title"], items[0]["description"]) == ("Title a", "About a. More text.")


def test_descriptions_cut_in_tokens(tmp_path):
    tokenizer = byte_tokenizer(tmp_path / "tokenizer.json")
    meta = {"a": ("Pan", ["Cast iron skillet"]), "b": ("Bowl", ["Glass"])}
    ratings = write_ratings(tmp_path / "D.csv.gz", base_rows())
    metaf = write_meta(tmp_path / "meta_D.jsonl.gz", meta)
    out = outputs(tmp_path)
    cut = replace(settings(), description_max_tokens=8)
    ingest_domain("D", ratings, metaf, cut, **out, tokenizer_file=tokenizer)
    items = pq.read_table(out["items_path"]).to_pylist()
    # one token per byte: "PanCast " -> "Cast " + "..."; "BowlGlas" -> "Glas" + "..."
    assert [i["description"] for i in items] == ["Cast ...", "Glas..."]


def test_periods_are_half_open_and_window_cut(tmp_path):
    rows = [
        *base_rows(),
        ("u1", "a", 5.0, ms("2019-12-31", 23)),  # before the window
        ("u1", "b", 5.0, ms("2021-07-01")),  # exactly at the window end: excluded
    ]
    stats, shards, _ = run(tmp_path, rows, META)
    assert [r["timestamp"] for r in shards["phase1"] if r["user_id"] == "u1"] == [
        ms("2021-01-01"),
        ms("2021-02-01"),
    ]
    assert [r["timestamp"] for r in shards["test"] if r["user_id"] == "u1"] == [
        ms("2021-04-01"),
        ms("2021-05-01"),
    ]
    assert stats["filtering"]["rows_read"] == len(rows)
    assert stats["filtering"]["rows_in_window"] == len(rows) - 2
    assert stats["totals"]["interactions"] == len(rows) - 2


def test_duplicates_dropped_counted_and_sort_is_stable(tmp_path):
    rows = base_rows()
    rows.append(rows[0])  # exact duplicate
    rows.append(("u1", "a", 4.0, ms("2020-03-01")))  # same time, other rating: kept
    stats, shards, _ = run(tmp_path, list(reversed(rows)), META)
    assert stats["filtering"]["duplicates_dropped"] == 1
    pre = [(r["user_id"], r["timestamp"], r["item_id"], r["rating"]) for r in shards["pretrain"]]
    assert pre == sorted(pre, key=lambda r: (r[0], r[1], r[2]))
    assert len(pre) == 5  # u1: a, a (other rating), b; u2: a, b


def test_kcore_title_filter_and_items_table(tmp_path):
    rows = [*base_rows(), ("u3", "c", 5.0, ms("2020-05-01")), ("u3", "a", 5.0, ms("2020-05-02"))]
    rows.append(("u1", "d", 5.0, ms("2020-06-01")))
    rows.append(("u2", "d", 5.0, ms("2020-06-01")))
    meta = dict(META)
    meta["d"] = ("", ["no title"])  # dropped: empty title
    stats, shards, items = run(tmp_path, rows, meta)
    assert {r["item_id"] for s in shards.values() for r in s} == {"a", "b"}
    assert {r["user_id"] for s in shards.values() for r in s} == {"u1", "u2"}
    assert stats["filtering"]["items_without_title"] == 1
    assert stats["filtering"]["rows_removed_by_kcore"] == 2  # u3's rows
    assert [i["item_id"] for i in items] == ["a", "b"]
    assert items[0]["first_seen"] == ms("2020-03-01")
    assert items[0]["description"] == "About a. More."


def test_first_seen_counts_interactions_before_the_window(tmp_path):
    rows = [*base_rows(), ("u9", "a", 5.0, ms("2015-01-01"))]
    stats, _, items = run(tmp_path, rows, META)
    assert items[0]["first_seen"] == ms("2015-01-01")
    assert stats["periods"]["test"]["recent_item_share"]["90"] == 0.0


def test_statistics_by_hand(tmp_path):
    stats, _, _ = run(tmp_path, base_rows(), META)
    p1 = stats["periods"]["phase1"]
    assert (p1["users"], p1["items"], p1["interactions"], p1["new_items"]) == (2, 2, 4, 0)
    assert stats["periods"]["pretrain"]["new_items"] == 2
    assert stats["periods"]["test"]["last_interaction_users"] == 2
    # pretrain: a at age 0 and b at age 0 for both users -> all recent
    assert stats["periods"]["pretrain"]["recent_item_share"]["30"] == 1.0
    # phase1: a at 2021-01-01 is 306 days old, b at 2021-02-01 is 336 days old
    assert p1["mean_item_age_days"] == pytest.approx((306 + 336) / 2)
    assert sum(stats["monthly_interactions"].values()) == 12


def test_description_truncation():
    assert truncate_description("short", 40) == "short"
    assert truncate_description("one two three four", 10) == "one two..."
    assert truncate_description("x" * 20, 5) == "xxxxx..."


def test_two_runs_are_byte_identical(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
        run(d, base_rows(), META)
    for name in ("shards/pretrain.parquet", "shards/test.parquet", "items.parquet", "stats.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes()


def no_outputs(tmp: Path) -> bool:
    return not any((tmp / n).exists() for n in ("items.parquet", "stats.json", "shards"))


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["u1,a,5.0,1588291200000", "u2,a,5.0"], "line 3: expected 4 fields, got 3"),
        (["u1,a,5.0,1588291200000", "u2,a,5.0,yesterday"], "line 3: timestamp 'yesterday'"),
        (["u1,a,5.0,1588291200000", "u2,a,five,1588291200000"], "line 3: rating 'five'"),
        (["u1,a,5.0,1588291200"], "line 2: timestamp 1588291200 is outside"),
        (["u1,a,9.0,1588291200000"], "line 2: rating 9.0 is outside"),
        (
            ["u1,a,5.0,1588291200000", "", "u2,a,5.0,1588291200000"],
            "line 3: expected 4 fields, got 0",
        ),
        ([",a,5.0,1588291200000"], "line 2: empty user_id"),
    ],
)
def test_bad_ratings_rows_name_the_line(tmp_path, lines, message):
    path = tmp_path / "D.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("\n".join(["user_id,parent_asin,rating,timestamp", *lines]) + "\n")
    write_meta(tmp_path / "meta_D.jsonl.gz", META)
    with pytest.raises(InputError, match=message) as err:
        ingest_domain("D", path, tmp_path / "meta_D.jsonl.gz", settings(), **outputs(tmp_path))
    assert str(path) in str(err.value)
    assert no_outputs(tmp_path)


def test_wrong_header_missing_and_empty_files(tmp_path):
    meta = write_meta(tmp_path / "meta_D.jsonl.gz", META)
    bad = write_ratings(tmp_path / "D.csv.gz", base_rows(), header="user_id,item_id,timestamp")
    with pytest.raises(InputError, match=r"line 1: header is .*expected 'user_id,parent_asin"):
        ingest_domain("D", bad, meta, settings(), **outputs(tmp_path))
    with pytest.raises(InputError, match=r"nope.csv.gz: file not found; download"):
        ingest_domain("D", tmp_path / "nope.csv.gz", meta, settings(), **outputs(tmp_path))
    empty = tmp_path / "E.csv.gz"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match=r"E\.csv\.gz: file is empty"):
        ingest_domain("D", empty, meta, settings(), **outputs(tmp_path))
    header_only = write_ratings(tmp_path / "H.csv.gz", [])
    with pytest.raises(InputError, match="header only"):
        ingest_domain("D", header_only, meta, settings(), **outputs(tmp_path))
    assert no_outputs(tmp_path)


def test_invalid_meta_lines_are_skipped_and_counted(tmp_path):
    stats, _, _ = run(tmp_path, base_rows(), META, meta_extra=["{not json", '{"title": "no asin"}'])
    assert stats["filtering"]["meta_invalid_json_skipped"] == 1
    assert stats["filtering"]["meta_missing_asin_skipped"] == 1


def test_meta_without_any_valid_line_is_an_error(tmp_path):
    ratings = write_ratings(tmp_path / "D.csv.gz", base_rows())
    meta = tmp_path / "meta_D.jsonl.gz"
    with gzip.open(meta, "wt") as f:
        f.write("garbage\n{also garbage\n")
    with pytest.raises(InputError, match="no line is valid JSON"):
        ingest_domain("D", ratings, meta, settings(), **outputs(tmp_path))


def test_domain_emptied_by_filtering_names_the_knob(tmp_path):
    ratings = write_ratings(tmp_path / "D.csv.gz", base_rows())
    meta = write_meta(tmp_path / "meta_D.jsonl.gz", META)
    with pytest.raises(InputError, match=r"domain D: no interaction survives .*lower `kcore`"):
        ingest_domain("D", ratings, meta, settings(kcore=50), **outputs(tmp_path))
    assert no_outputs(tmp_path)


def test_period_without_interactions_is_an_error(tmp_path):
    rows = [r for r in base_rows() if not r[3] >= ms("2021-04-01")]
    ratings = write_ratings(tmp_path / "D.csv.gz", rows)
    meta = write_meta(tmp_path / "meta_D.jsonl.gz", META)
    with pytest.raises(
        InputError, match=r"period test \[2021-04-01, 2021-07-01\) has no interactions"
    ):
        ingest_domain("D", ratings, meta, settings(), **outputs(tmp_path))
    assert no_outputs(tmp_path)


def test_stats_file_is_json(tmp_path):
    run(tmp_path, base_rows(), META)
    assert json.loads((tmp_path / "stats.json").read_text())["domain"] == "D"


def test_meta_with_only_invalid_and_blank_lines_is_an_error(tmp_path):
    ratings = write_ratings(tmp_path / "D.csv.gz", base_rows())
    meta = tmp_path / "meta_D.jsonl.gz"
    with gzip.open(meta, "wt") as f:
        f.write("garbage\n\n")
    with pytest.raises(InputError, match="no line is valid JSON"):
        ingest_domain("D", ratings, meta, settings(), **outputs(tmp_path))


def test_metadata_of_another_domain_is_named(tmp_path):
    ratings = write_ratings(tmp_path / "D.csv.gz", base_rows())
    meta = write_meta(tmp_path / "meta_D.jsonl.gz", {"zz": ("Other", [])})
    with pytest.raises(InputError, match=r"meta_D\.jsonl\.gz: none of the 2 items .* same domain"):
        ingest_domain("D", ratings, meta, settings(), **outputs(tmp_path))


def write_raw(tmp: Path, ratings: list[bytes], meta: list[bytes]) -> tuple[Path, Path]:
    """Raw files from exact bytes (lines joined with newlines), for encoding edge cases."""
    paths = tmp / "D.csv.gz", tmp / "meta_D.jsonl.gz"
    for path, lines in zip(paths, (ratings, meta), strict=True):
        with gzip.open(path, "wb") as f:
            f.write(b"\n".join(lines) + b"\n")
    return paths


def raw_lines() -> tuple[list[bytes], list[bytes]]:
    ratings = [b"user_id,parent_asin,rating,timestamp"]
    ratings += [",".join(map(str, r)).encode() for r in base_rows()]
    meta = [
        json.dumps({"parent_asin": k, "title": t, "description": d}).encode()
        for k, (t, d) in META.items()
    ]
    return ratings, meta


def ingest_raw(tmp: Path, ratings: list[bytes], meta: list[bytes]) -> dict:
    paths = write_raw(tmp, ratings, meta)
    return ingest_domain("D", *paths, settings(), **outputs(tmp))


def test_invalid_utf8_meta_line_is_skipped_and_counted(tmp_path):
    ratings, meta = raw_lines()
    meta.insert(1, b'{"parent_asin": "b", "title": "Broken \xff title"}')
    stats = ingest_raw(tmp_path, ratings, meta)
    assert stats["filtering"]["meta_invalid_utf8_skipped"] == 1
    items = pq.read_table(tmp_path / "items.parquet").to_pylist()
    assert {i["item_id"]: i["title"] for i in items} == {"a": "Title a", "b": "Title b"}


def test_invalid_utf8_in_ratings_names_the_line(tmp_path):
    ratings, meta = raw_lines()
    ratings[3] = b"u1,\xffa,5.0,1583020800000"
    with pytest.raises(InputError, match=r"D\.csv\.gz: line 4: not valid UTF-8") as err:
        ingest_raw(tmp_path, ratings, meta)
    assert "byte 0xff" in str(err.value)
    assert no_outputs(tmp_path)


def test_a_utf8_bom_is_accepted(tmp_path):
    ratings, meta = raw_lines()
    without, with_bom = tmp_path / "plain", tmp_path / "bom"
    without.mkdir()
    with_bom.mkdir()
    plain = ingest_raw(without, ratings, meta)
    bom = b"\xef\xbb\xbf"
    stats = ingest_raw(with_bom, [bom + ratings[0], *ratings[1:]], [bom + meta[0], *meta[1:]])
    assert stats == plain
    for name in ("items.parquet", "shards/test.parquet"):
        assert (with_bom / name).read_bytes() == (without / name).read_bytes()


def test_negative_timestamp_is_before_1970_not_seconds(tmp_path):
    ratings, meta = raw_lines()
    ratings[3] = b"u1,a,5.0,-1000"
    with pytest.raises(InputError, match=r"line 4: timestamp -1000 is before 1970") as err:
        ingest_raw(tmp_path, ratings, meta)
    assert "looks like seconds" not in str(err.value)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (b"u1 ,a,5.0,1583020800000", r"line 4: user_id 'u1 ' has leading or trailing"),
        (b" u1,a,5.0,1583020800000", r"line 4: user_id ' u1' has leading or trailing"),
        (b"u1,a\t,5.0,1583020800000", r"line 4: parent_asin 'a\\t' has leading or trailing"),
        (b"u\x001,a,5.0,1583020800000", r"line 4: user_id 'u\\x001' contains a NUL byte"),
    ],
)
def test_ids_with_surrounding_spaces_or_nul_are_rejected_with_the_line(tmp_path, bad, message):
    ratings, meta = raw_lines()
    ratings[3] = bad
    with pytest.raises(InputError, match=message):
        ingest_raw(tmp_path, ratings, meta)
    assert no_outputs(tmp_path)


def test_meta_asin_with_surrounding_spaces_is_skipped_and_counted(tmp_path):
    ratings, meta = raw_lines()
    meta.append(json.dumps({"parent_asin": "c ", "title": "Spaced"}).encode())
    stats = ingest_raw(tmp_path, ratings, meta)
    assert stats["filtering"]["meta_invalid_asin_skipped"] == 1


def test_a_json_list_title_becomes_its_joined_text(tmp_path):
    ratings, meta = raw_lines()
    meta[0] = json.dumps({"parent_asin": "a", "title": ["Part", " One "], "description": []})
    meta[0] = meta[0].encode()
    ingest_raw(tmp_path, ratings, meta)
    items = pq.read_table(tmp_path / "items.parquet").to_pylist()
    assert items[0]["title"] == "Part One"
