"""Tests of the synthetic Amazon-2023 generator: format, determinism and planted structure."""

from __future__ import annotations

import gzip
import itertools
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from mmgrid.data.synthetic import (
    KNOWN_DOMAINS,
    RecencyModel,
    SyntheticSettings,
    generate_domain,
    settings_from_config,
)
from mmgrid.data.synthetic.generator import burst_boost
from mmgrid.errors import InputError
from mmgrid.seeding import derive_seed

META_KEYS = [
    "main_category",
    "title",
    "average_rating",
    "rating_number",
    "features",
    "description",
    "price",
    "images",
    "videos",
    "store",
    "categories",
    "details",
    "parent_asin",
    "bought_together",
]
STUDY_DOMAINS = {
    "Books",
    "Movies_and_TV",
    "Video_Games",
    "Cell_Phones_and_Accessories",
    "Sports_and_Outdoors",
    "Health_and_Household",
}


def _ms(date: str) -> int:
    return int(pd.Timestamp(date, tz="UTC").timestamp() * 1000)


def _generate(out: Path, domain: str, settings: SyntheticSettings, seed: int = 0) -> dict:
    return generate_domain(
        domain,
        settings,
        seed,
        out / f"{domain}.csv.gz",
        out / f"meta_{domain}.jsonl.gz",
        out / f"{domain}.truth.json",
    )


def _read(out: Path, domain: str) -> tuple[pd.DataFrame, list[dict]]:
    ratings = pd.read_csv(out / f"{domain}.csv.gz", dtype={"user_id": str, "parent_asin": str})
    with gzip.open(out / f"meta_{domain}.jsonl.gz", "rt", encoding="utf-8") as f:
        meta = [json.loads(line) for line in f]
    return ratings, meta


@pytest.fixture(scope="module")
def default_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default data set for three domains with well separated recency knobs."""
    out = tmp_path_factory.mktemp("synthetic")
    for domain in ("Movies_and_TV", "Health_and_Household", "Cell_Phones_and_Accessories"):
        _generate(out, domain, settings_from_config({}, domain))
    return out


# --- configuration -------------------------------------------------------------------------


def test_known_domains_cover_the_study() -> None:
    assert set(KNOWN_DOMAINS) >= STUDY_DOMAINS


def test_default_knobs_follow_the_real_ordering() -> None:
    knob = {d: settings_from_config({}, d).recency for d in KNOWN_DOMAINS}
    old_heavy = max(knob["Movies_and_TV"], knob["Books"])
    assert all(knob[d] > old_heavy for d in STUDY_DOMAINS - {"Movies_and_TV", "Books"})
    assert knob["Movies_and_TV"] < knob["Books"]


def test_settings_from_config_applies_global_then_domain_values() -> None:
    cfg = {"n_users": 300, "recency": 0.4, "domains": {"Books": {"recency": 0.9, "n_items": 50}}}
    books = settings_from_config(cfg, "Books")
    assert (books.n_users, books.n_items, books.recency) == (300, 50, 0.9)
    assert books.profile == "Books" and books.volume_trend == pytest.approx(-0.08)
    movies = settings_from_config(cfg, "Movies_and_TV")
    assert (movies.n_users, movies.n_items, movies.recency) == (300, 1500, 0.4)


def test_settings_from_config_rejects_unknown_key() -> None:
    with pytest.raises(InputError, match=r"unknown config key 'data\.synthetic\.n_user'"):
        settings_from_config({"n_user": 10}, "Books")
    with pytest.raises(
        InputError, match=r"unknown config key 'data\.synthetic\.domains\.Books\.recncy'"
    ):
        settings_from_config({"domains": {"Books": {"recncy": 0.5}}}, "Books")


def test_settings_from_config_rejects_unknown_domain_and_lists_known() -> None:
    with pytest.raises(InputError, match=r"Toys_and_Games.*Movies_and_TV.*profile"):
        settings_from_config({}, "Toys_and_Games")
    cfg = {"domains": {"Toys_and_Games": {"profile": "Books", "recency": 0.7}}}
    toys = settings_from_config(cfg, "Toys_and_Games")
    assert (toys.profile, toys.recency) == ("Books", 0.7)
    with pytest.raises(InputError, match="Other"):  # one domain's section is not another's
        settings_from_config(cfg, "Other")


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        ({"recency": 1.5}, r"recency must be in \[0, 1\]"),
        ({"n_users": 0}, "n_users must be > 0"),
        ({"n_users": 10.5}, r"'data\.synthetic\.n_users' must be an integer"),
        ({"recency": "high"}, r"'data\.synthetic\.recency' must be a number or null"),
        (
            {"domains": {"Books": {"n_users": -1}}},
            r"data\.synthetic\.domains\.Books\.n_users must be > 0",
        ),
        ({"n_users": -1}, r"data\.synthetic\.n_users must be > 0"),
        ({"burst_days": float("inf")}, r"'data\.synthetic\.burst_days' must be a finite number"),
        ({"burst_rate": -0.5}, r"burst_rate must be >= 0"),
        ({"visit_size": 0.5}, r"visit_size must be >= 1"),
        ({"start": "2017-13-01"}, "start must be an ISO date"),
        ({"start": "2023-01-01", "end": "2023-01-15"}, "at least 60 days"),
        ({"domains": {"Books": {"profile": "Toys"}}}, "unknown profile 'Toys'"),
    ],
)
def test_settings_from_config_rejects_bad_values(cfg: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        settings_from_config(cfg, "Books")


def test_settings_that_leave_nothing_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no interaction survives the 5-core cut"):
        _generate(tmp_path, "Books", SyntheticSettings(n_users=20, n_items=3))
    assert list(tmp_path.iterdir()) == []


def test_recency_model_end_points() -> None:
    old, mid, new = (RecencyModel.from_knob(r) for r in (0.0, 0.5, 1.0))
    assert (old.half_life_days, old.evergreen_floor, old.back_catalogue_share) == (2000, 0.6, 0.9)
    assert old.topic_drift == pytest.approx(0.05)
    assert new.half_life_days == pytest.approx(50.0)
    assert new.evergreen_floor == pytest.approx(0.01)
    assert new.back_catalogue_share == pytest.approx(0.1)
    assert new.topic_drift == pytest.approx(0.3)
    assert mid.half_life_days == pytest.approx(math.sqrt(2000 * 50))
    assert mid.back_catalogue_share == pytest.approx(0.5)


# --- files ---------------------------------------------------------------------------------


SMALL = SyntheticSettings(n_users=300, n_items=250, recency=0.5)


def test_files_are_byte_identical_for_a_seed_and_differ_for_another(tmp_path: Path) -> None:
    for run in ("a", "b", "c"):
        _generate(tmp_path / run, "Video_Games", SMALL, seed=7 if run != "c" else 8)
    names = ["Video_Games.csv.gz", "meta_Video_Games.jsonl.gz", "Video_Games.truth.json"]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(names)  # no temp files
    raw = (tmp_path / "a" / names[0]).read_bytes()
    assert raw[:4] == b"\x1f\x8b\x08\x00" and raw[4:8] == b"\x00\x00\x00\x00"  # no name, mtime 0


def test_domain_seed_is_derived_from_seed_and_domain(tmp_path: Path) -> None:
    _generate(tmp_path, "Books", SMALL, seed=3)
    truth = json.loads((tmp_path / "Books.truth.json").read_text())
    assert truth["seed"] == 3
    assert truth["domain_seed"] == derive_seed(3, "synthetic", "Books")


def test_ratings_csv_format(default_dir: Path) -> None:
    domain = "Health_and_Household"
    with gzip.open(default_dir / f"{domain}.csv.gz", "rt", encoding="utf-8") as f:
        header = f.readline()
        lines = [f.readline() for _ in range(2000)]
    assert header == "user_id,parent_asin,rating,timestamp\n"
    row = re.compile(r"^A[A-Z0-9]{27},B0[0-9A-Z]{8},[1-5]\.0,1[0-9]{12}\n$")
    assert all(row.match(line) for line in lines), lines[:3]
    ratings, _ = _read(default_dir, domain)
    assert ratings["timestamp"].dtype == np.int64
    assert ratings["timestamp"].min() >= _ms("2017-01-01")
    assert ratings["timestamp"].max() < _ms("2023-07-01")
    assert (ratings["timestamp"] < _ms("2017-07-01")).any()  # date filtering has work to do
    assert (ratings["timestamp"] >= _ms("2023-04-01")).any()
    assert (ratings["rating"] == 5.0).mean() > 0.4
    assert not ratings.duplicated(["user_id", "parent_asin"]).any()


def test_books_have_isbn_like_ids(tmp_path: Path) -> None:
    _generate(tmp_path, "Books", SMALL)
    meta = _read(tmp_path, "Books")[1]
    asins = pd.Series([m["parent_asin"] for m in meta])
    isbn = asins[asins.str.match(r"^[0-9]{9}[0-9X]$")]
    assert 0.5 < len(isbn) / len(asins) < 0.9
    assert asins.str.match(r"^([0-9]{9}[0-9X]|B0[0-9A-Z]{8})$").all()
    for code in isbn[:50]:  # ISBN-10 check digit
        digits = [10 if c == "X" else int(c) for c in code]
        assert sum(w * d for w, d in zip(range(10, 0, -1), digits, strict=True)) % 11 == 0


def test_file_is_five_core(default_dir: Path) -> None:
    ratings, _ = _read(default_dir, "Movies_and_TV")
    assert ratings.groupby("user_id").size().min() >= 5
    assert ratings.groupby("parent_asin").size().min() >= 5


def test_meta_records(default_dir: Path) -> None:
    domain = "Cell_Phones_and_Accessories"
    ratings, meta = _read(default_dir, domain)
    truth = json.loads((default_dir / f"{domain}.truth.json").read_text())
    assert len(meta) == truth["settings"]["n_items"] == 1500
    for record in meta:
        assert list(record) == META_KEYS
        assert record["main_category"] == "Cell Phones & Accessories"
        assert isinstance(record["title"], str)
        assert isinstance(record["description"], list) and record["description"]
        assert all(isinstance(s, str) and s for s in record["description"])
        assert isinstance(record["features"], list) and isinstance(record["images"], list)
        assert record["videos"] == [] and record["bought_together"] is None
        assert isinstance(record["average_rating"], float) and 1 <= record["average_rating"] <= 5
        assert isinstance(record["rating_number"], int) and record["rating_number"] >= 0
        assert record["price"] is None or isinstance(record["price"], float)
        assert record["categories"][0] == "Cell Phones & Accessories"
        assert isinstance(record["details"], dict) and isinstance(record["store"], str)
    asins = {m["parent_asin"] for m in meta}
    assert len(asins) == len(meta)
    assert set(ratings["parent_asin"]) <= asins
    empty = sum(m["title"] == "" for m in meta)
    assert empty == truth["summary"]["empty_titles"] and empty / len(meta) < 0.02
    titled = [m["title"] for m in meta if m["title"]]
    assert len(set(titled)) > 0.8 * len(titled)


def test_truth_sidecar_matches_the_files(default_dir: Path) -> None:
    domain = "Health_and_Household"
    ratings, _ = _read(default_dir, domain)
    truth = json.loads((default_dir / f"{domain}.truth.json").read_text())
    s = truth["summary"]
    assert s["interactions"] == len(ratings)
    assert s["users"] == ratings["user_id"].nunique()
    assert s["items"] == ratings["parent_asin"].nunique()
    assert sum(s["interactions_per_window"].values()) == len(ratings)
    assert truth["settings"]["recency"] == 0.5
    assert truth["recency_model"] == RecencyModel.from_knob(0.5).__dict__


# --- planted structure ---------------------------------------------------------------------


def test_default_size_and_test_window_users(default_dir: Path) -> None:
    for domain in ("Movies_and_TV", "Health_and_Household", "Cell_Phones_and_Accessories"):
        ratings, _ = _read(default_dir, domain)
        assert 12_000 <= len(ratings) <= 30_000
        in_range = ratings[ratings["timestamp"] < _ms("2023-04-01")]
        last = in_range.groupby("user_id")["timestamp"].max()
        assert (last >= _ms("2023-01-01")).sum() >= 120  # Movies (declining volume) has ~165
        after = ratings[ratings["timestamp"] >= _ms("2017-07-01")].groupby("user_id").size()
        below = (after.reindex(ratings["user_id"].unique(), fill_value=0) < 5).mean()
        assert 0.0 < below < 0.2  # mostly >= 5 after the date cut, but some fall below


def test_pretrain_share_follows_volume_trend(tmp_path: Path) -> None:
    """With no seasonality, volume ~ exp(trend * years): compare with the closed form (on a
    large catalogue, as repeated choices, which are dropped, grow along a user's span)."""
    for trend in (-0.2, 0.15):
        settings = SyntheticSettings(
            n_users=3000, n_items=6000, volume_trend=trend, seasonality=0.0
        )
        _generate(tmp_path, "Sports_and_Outdoors", settings)
        ts = _read(tmp_path, "Sports_and_Outdoors")[0]["timestamp"]
        ts = ts[(ts >= _ms("2017-07-01")) & (ts < _ms("2023-04-01"))]
        share = (ts < _ms("2022-07-01")).mean()
        t0 = 181 / 365.25  # 2017-07-01 in years after the 2017-01-01 start
        t1, t2 = t0 + 1826 / 365.25, t0 + 2100 / 365.25
        expected = (math.exp(trend * t1) - math.exp(trend * t0)) / (
            math.exp(trend * t2) - math.exp(trend * t0)
        )
        assert share == pytest.approx(expected, abs=0.02)


def test_heavy_tailed_items_and_users(default_dir: Path) -> None:
    ratings, _ = _read(default_dir, "Movies_and_TV")
    items = np.sort(ratings.groupby("parent_asin").size().to_numpy())[::-1]
    assert items[: len(items) // 10].sum() / items.sum() > 0.3  # uniform would give 0.1
    users = ratings.groupby("user_id").size().to_numpy()
    assert users.max() > 5 * np.median(users)
    assert np.mean(users) > 1.2 * np.median(users)  # right-skewed


def _consecutive_and_random_pairs(ratings: pd.DataFrame, row: dict[str, int]) -> tuple:
    """Meta rows of consecutive items per user (first 8), and as many random interaction pairs."""
    pairs: list[tuple[int, int]] = []
    for _, group in ratings.groupby("user_id"):
        pairs += itertools.pairwise(row[a] for a in group["parent_asin"].to_numpy()[:8])
    same = np.array(pairs)
    rng = np.random.default_rng(0)
    rand = np.array([row[a] for a in rng.choice(ratings["parent_asin"], size=same.size)])
    return same, rand.reshape(same.shape)


def test_users_items_share_topics_and_words(default_dir: Path) -> None:
    """Consecutive items of a user share their category and (TF-IDF weighted) text words more
    than random pairs of interactions do."""
    for domain in ("Health_and_Household", "Movies_and_TV"):
        ratings, meta = _read(default_dir, domain)
        same, rand = _consecutive_and_random_pairs(
            ratings, {m["parent_asin"]: i for i, m in enumerate(meta)}
        )
        topic = np.array([m["categories"][1] for m in meta])
        same_topic = [float((topic[p[:, 0]] == topic[p[:, 1]]).mean()) for p in (same, rand)]
        assert same_topic[0] > 2.5 * same_topic[1], (domain, same_topic)
        tfidf = TfidfVectorizer().fit_transform(
            [m["title"] + "\n" + "\n".join(m["description"]) for m in meta]
        )
        cosine = [
            float(tfidf[p[:, 0]].multiply(tfidf[p[:, 1]]).sum(axis=1).mean()) for p in (same, rand)
        ]
        assert cosine[0] > 1.25 * cosine[1], (domain, cosine)


def _recent_item_share(ratings: pd.DataFrame, days: int = 90) -> float:
    """Share of 2022-07..2023-04 interactions on items first seen within the previous ``days``."""
    first_seen = ratings.groupby("parent_asin")["timestamp"].min()
    ts = ratings["timestamp"]
    window = ratings[(ts >= _ms("2022-07-01")) & (ts < _ms("2023-04-01"))]
    age = window["timestamp"] - window["parent_asin"].map(first_seen)
    return float((age <= days * 86_400_000).mean())


def _mean_item_age_days(ratings: pd.DataFrame) -> float:
    first_seen = ratings.groupby("parent_asin")["timestamp"].min()
    ts = ratings["timestamp"]
    window = ratings[(ts >= _ms("2022-07-01")) & (ts < _ms("2023-04-01"))]
    return float((window["timestamp"] - window["parent_asin"].map(first_seen)).mean() / 86_400_000)


def test_recency_statistic_orders_domains_like_their_knobs(default_dir: Path) -> None:
    domains = ["Movies_and_TV", "Health_and_Household", "Cell_Phones_and_Accessories"]
    knobs = [settings_from_config({}, d).recency for d in domains]
    assert knobs == sorted(knobs) and min(np.diff(knobs)) >= 0.3
    frames = [_read(default_dir, d)[0] for d in domains]
    shares = [_recent_item_share(f) for f in frames]
    ages = [_mean_item_age_days(f) for f in frames]
    assert shares == sorted(shares) and shares[-1] > 2 * shares[0], shares
    assert ages == sorted(ages, reverse=True), ages


def test_recency_knob_alone_changes_which_items_are_chosen(tmp_path: Path) -> None:
    """Same vocabulary and volume, only the knob differs: test users pick newer items."""
    shares = []
    for r in (0.1, 0.9):
        settings = settings_from_config({"recency": r, "volume_trend": 0.0}, "Books")
        _generate(tmp_path / str(r), "Books", settings)
        ratings = _read(tmp_path / str(r), "Books")[0]
        first_seen = ratings.groupby("parent_asin")["timestamp"].min()
        ts = ratings["timestamp"]
        test = ratings[(ts >= _ms("2023-01-01")) & (ts < _ms("2023-04-01"))]
        shares.append(float((test["parent_asin"].map(first_seen) >= _ms("2022-07-01")).mean()))
    assert shares[1] > shares[0] + 0.2, shares


def _continuation_share(ratings: pd.DataFrame, meta: list[dict]) -> float:
    """Share of a user's consecutive interactions where the second is the next numbered title
    of the first's series, read from the written files alone (titles end in ``N``)."""
    number = re.compile(r"^(.*?)\D*(\d+)\D*$")
    parts = {}
    for m in meta:
        found = number.match(m["title"] or "")
        if found:
            parts[m["parent_asin"]] = (found.group(1), int(found.group(2)))
    rows = ratings.sort_values(["user_id", "timestamp"], kind="stable")
    pairs = zip(
        rows.user_id, rows.parent_asin, rows.user_id[1:], rows.parent_asin[1:], strict=False
    )
    steps = hits = 0
    for u1, a1, u2, a2 in pairs:
        if u1 != u2:
            continue
        steps += 1
        p1, p2 = parts.get(a1), parts.get(a2)
        hits += bool(p1 and p2 and p1[0] == p2[0] and p2[1] == p1[1] + 1)
    return hits / steps


def _recorded(out: Path, domain: str, **knobs: Any) -> tuple[dict, pd.DataFrame, list[dict]]:
    """Generate ``domain`` with ``knobs``; check that its truth sidecar records them and the
    summary; return the summary, the ratings and the meta records."""
    summary = _generate(out, domain, SyntheticSettings(**knobs))
    truth = json.loads((out / f"{domain}.truth.json").read_text())
    assert {key: truth["settings"][key] for key in knobs} == knobs
    assert truth["summary"] == summary
    return summary, *_read(out, domain)


def test_series_continuation_is_planted_and_recorded(tmp_path: Path) -> None:
    shares = {}
    for rate in (0.0, 0.5):
        summary, ratings, meta = _recorded(
            tmp_path / str(rate), "Books", n_users=400, n_items=250, recency=0.5, continuation=rate
        )
        assert 0 < summary["series_items"] < 250
        shares[rate] = (_continuation_share(ratings, meta), summary["series_continuation_share"])
    # a continuation needs a previous item in a series whose next member is already released
    assert shares[0.0][1] < 0.02
    assert shares[0.5][1] > 0.08
    # the titles alone show the planted series (numbered titles of other series add a few hits)
    assert shares[0.5][0] > shares[0.0][0] + 0.05


def test_burst_boost_matches_a_naive_sum() -> None:
    rng = np.random.default_rng(3)
    day = 86_400_000
    mid = np.arange(12) * 30 * day + 15 * day
    item, at = rng.integers(0, 5, size=40), rng.random(40) * 12 * 30 * day
    got = burst_boost(item, at, mid, 5, peak=4.0, days=20.0)
    want = np.zeros((12, 5))
    for i, t in zip(item, at, strict=True):
        for m, mid_ms in enumerate(mid):
            if mid_ms >= t:
                want[m, i] += 4.0 * math.exp(-(mid_ms - t) / day / 20.0)
    np.testing.assert_allclose(got, want, atol=4.0 * math.exp(-12))


MID: dict[str, Any] = {"n_users": 1500, "n_items": 300}
"""Sizes at which a planted effect shows clearly in a second."""


def test_bursts_are_planted_transient_and_recorded(tmp_path: Path) -> None:
    """Bursts make an item's share of one quarter a worse guess of its share of the next."""
    change = {}
    for rate in (0.0, 1.0):
        path = tmp_path / str(rate)
        summary, ratings, _ = _recorded(path, "Movies_and_TV", **MID, recency=0.2, burst_rate=rate)
        quarter = pd.to_datetime(ratings["timestamp"], unit="ms").dt.to_period("Q")
        shares = pd.crosstab(ratings["parent_asin"], quarter, normalize="columns")
        change[rate] = (shares.diff(axis=1).abs().sum() / 2).iloc[1:].mean()
        assert (summary["burst_share"] > 0.2) if rate else (summary["burst_share"] == 0.0)
    assert change[1.0] > change[0.0] + 0.05


def test_visits_group_a_users_interactions(tmp_path: Path) -> None:
    """With visits, a user's interactions cluster in time, so fewer users of one quarter were
    active in the previous quarter, with about as many interactions per quarter."""
    seen = {}
    for size in (1.0, 4.0):
        _, ratings, _ = _recorded(
            tmp_path / str(size), "Books", **MID, visit_size=size, visit_days=3
        )
        ratings = ratings.sort_values(["user_id", "timestamp"])
        gap_days = ratings.groupby("user_id")["timestamp"].diff().dropna() / 86_400_000
        quarter = pd.to_datetime(ratings["timestamp"], unit="ms").dt.to_period("Q")
        active = ratings.groupby(quarter)["user_id"].apply(set)
        returning = [len(a & b) / len(b) for a, b in itertools.pairwise(active.iloc[8:-2])]
        seen[size] = ((gap_days < 10).mean(), np.mean(returning), len(ratings))
    assert seen[4.0][0] > seen[1.0][0] + 0.3
    assert seen[4.0][1] < seen[1.0][1] - 0.1
    assert 0.7 < seen[4.0][2] / seen[1.0][2] < 1.3
