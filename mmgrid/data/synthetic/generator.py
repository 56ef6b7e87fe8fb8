"""Synthetic data in the Amazon Reviews 2023 download format, with planted item recency.

Per domain the generator writes ``{domain}.csv.gz`` (5-core ``rating_only`` CSV:
``user_id,parent_asin,rating,timestamp`` in Unix milliseconds), ``meta_{domain}.jsonl.gz``
(one meta record per catalogue item) and ``{domain}.truth.json`` (the planted ground truth).

The behavioural model, in one place:

* **Volume.** Interaction volume over time has density ``exp(volume_trend * years) *
  (1 + seasonality * cos(season))`` (peak in mid-December); users' and items' times are drawn
  through its inverse CDF, so monthly volume follows it.
* **Users.** Each user has a lognormal number of interactions (at least ``core``), an active
  span (lognormal length, ``user_span_days`` median) placed uniformly in CDF space (spans that
  run past the range lose the interactions outside it; with ``visit_size`` > 1 the
  interactions come in visits of that many on average), and a topic taste
  ``Dirichlet(taste_concentration * K * topic_popularity)``.
* **Catalogue.** A ``back_catalogue_share`` of items was released before ``start``; the rest are
  released following the volume density. Each item has one topic (released topics follow the
  topic trends), a lognormal appeal (``item_popularity_sigma``) and a quality.
* **Drift.** Topic trends are geometric random walks over months with volatility
  ``topic_drift`` per sqrt(year); a user picks a topic with probability proportional to
  ``taste * trend(month)``.
* **Recency.** Within the topic, an item released before the month starts is picked with
  probability proportional to ``appeal * (floor + (1 - floor) * 2 ** (-age / half_life))``
  (times its burst factor).
* **Bursts.** Each item has popularity bursts (promotions, deals, media tie-ins) at Poisson
  times after its release, ``burst_rate`` per year: a burst multiplies the item's weight by
  ``1 + burst_boost * exp(-elapsed / burst_days)``. Bursts fade within weeks, so part of what
  is hot in one training period is not in the next: what a checkpoint trained on the latest
  period alone over-fits. They are the same in every domain, whatever its recency knob.
* **Series.** A ``series_share`` of each topic's items form series of consecutive releases
  (sagas, seasons, sequels; ``series_length`` items on average, titles numbered). With
  probability ``continuation`` a user's next interaction is the next member of the series of
  their previous item, once it is released: the sequential signal a recommender can learn
  from the history beyond popularity.
* Duplicate (user, item) pairs keep their first interaction; the result is cut to the
  iterative ``core``-core, as the real files are 5-core.

One knob, ``recency`` in [0, 1], sets how recency-driven a domain is (see :class:`RecencyModel`):
higher recency = shorter popularity half-life, lower evergreen floor, smaller back catalogue
and faster topic drift, so test-window users interact more with recently released items.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import io
import itertools
import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from mmgrid.atomic import atomic_path, write_json
from mmgrid.data.kcore import kcore_mask
from mmgrid.data.synthetic.meta_text import render_meta
from mmgrid.data.synthetic.profiles import DomainProfile, load_profile
from mmgrid.data.synthetic.settings import KNOWN_DOMAINS, SyntheticSettings, settings_from_config
from mmgrid.errors import InputError
from mmgrid.seeding import derive_seed

DAY_MS = 86_400_000
YEAR_DAYS = 365.25
STUDY_BOUNDARIES = ("2017-07-01", "2022-07-01", "2022-10-01", "2023-01-01", "2023-04-01")
"""The study's window edges (pretrain, phase1, phase2, test); used only for the summary."""
_WINDOW_NAMES = ("before", "pretrain", "phase1", "phase2", "test", "after")
_CSV_CHUNK_ROWS = 1 << 19
_CSV_GZIP_LEVEL = 1  # level 6 is ~1.5x slower overall for a 10 % smaller CSV
_META_GZIP_LEVEL = 6
_META_BATCH = 4096


@dataclass(frozen=True)
class RecencyModel:
    """What the recency knob ``r`` in [0, 1] maps to (log-linear or linear between the ends).

    ``half_life_days``: 2000 at r=0 down to 50 at r=1 (age at which an item's novelty boost halves);
    ``evergreen_floor``: 0.6 down to 0.01 (log-linear) (the weight an old item keeps, relative to a new one);
    ``back_catalogue_share``: 0.9 down to 0.1 (items released before ``start``);
    ``topic_drift``: 0.05 up to 0.3 (volatility of topic trends per sqrt(year)).

    At r=0 a domain is nearly stationary (most of what users choose is back catalogue whose
    appeal barely fades), so its periods differ mainly by chance and by bursts; at r=1 each
    period is dominated by what was released just before it.
    """

    recency: float
    half_life_days: float
    evergreen_floor: float
    back_catalogue_share: float
    topic_drift: float

    @classmethod
    def from_knob(cls, r: float) -> RecencyModel:
        return cls(
            recency=r,
            half_life_days=2000.0 * (50.0 / 2000.0) ** r,
            evergreen_floor=0.6 * (0.01 / 0.6) ** r,
            back_catalogue_share=0.9 - 0.8 * r,
            topic_drift=0.05 + 0.25 * r,
        )


def _day_ms(date: str) -> int:
    return int(np.datetime64(date, "ms").astype(np.int64))


class _Timeline:
    """Volume density over the day grid of [start, end) and its inverse CDF."""

    def __init__(self, start: str, end: str, trend: float, seasonality: float) -> None:
        self.start_ms = _day_ms(start)
        self.end_ms = _day_ms(end)
        n_days = (self.end_ms - self.start_ms) // DAY_MS
        days = np.arange(n_days) + 0.5
        doy = (np.datetime64(start, "D") + np.arange(n_days)).astype("datetime64[D]")
        day_of_year = (doy - doy.astype("datetime64[Y]")).astype(np.int64)
        season = 1.0 + seasonality * np.cos(2 * np.pi * (day_of_year - 350) / YEAR_DAYS)
        density = np.exp(trend * days / YEAR_DAYS) * season
        self._cdf = np.concatenate([[0.0], np.cumsum(density)])
        self._cdf /= self._cdf[-1]
        self._days = np.arange(n_days + 1, dtype=np.float64)
        month0 = np.datetime64(start, "M")
        month_end = np.datetime64(end, "D") - np.timedelta64(1, "D")
        months = np.arange(month0, month_end.astype("datetime64[M]") + 1)
        self.month_start_ms = months.astype("datetime64[ms]").astype(np.int64)
        edges = np.append(self.month_start_ms, self.end_ms)
        self.month_mid_ms = (edges[:-1] + edges[1:]) / 2
        self.n_days = int(n_days)

    def time_at(self, quantile: np.ndarray) -> np.ndarray:
        """Unix ms at the given quantiles (in [0, 1)) of the volume distribution."""
        day = np.interp(quantile, self._cdf, self._days)
        return self.start_ms + np.floor(day * DAY_MS).astype(np.int64)

    def month_of(self, ms: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.month_start_ms, ms, side="right") - 1


def _topic_trends(rng: np.random.Generator, n_months: int, n_topics: int, drift: float):
    """Geometric random walk per topic over months, 1 at the first month."""
    steps = rng.normal(0.0, drift / math.sqrt(12.0), size=(n_months, n_topics))
    steps[0] = 0.0
    return np.exp(np.cumsum(steps, axis=0))


def _categorical_rows(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One draw per row of the (n, K) non-negative ``weights``."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    return np.minimum((cum <= u[:, None]).sum(axis=1), weights.shape[1] - 1)


def _random_ids(rng: np.random.Generator, n: int, prefix: bytes, length: int, alphabet: bytes):
    """``n`` distinct ids ``prefix`` + random characters, as a numpy unicode array."""
    table = np.frombuffer(alphabet, dtype=np.uint8)
    out = np.empty((n, len(prefix) + length), dtype=np.uint8)
    out[:, : len(prefix)] = np.frombuffer(prefix, dtype=np.uint8)
    todo = np.arange(n)
    while len(todo):
        out[todo, len(prefix) :] = table[rng.integers(0, len(table), size=(len(todo), length))]
        ids = out.view(f"S{out.shape[1]}").ravel()
        _, first = np.unique(ids, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        todo = np.flatnonzero(dup)
    return out.view(f"S{out.shape[1]}").ravel().astype(f"U{out.shape[1]}")


_UPPER_DIGITS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _user_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Amazon-style reviewer ids: 28 characters starting with 'A'."""
    return _random_ids(rng, n, b"A", 27, _UPPER_DIGITS)


def _asins(rng: np.random.Generator, release_ms: np.ndarray, isbn_share: float) -> np.ndarray:
    """ASIN-style ids: 'B0' + a character that grows with release date + 7 characters.

    A share ``isbn_share`` of items (books) get ISBN-10-like ids: 9 digits and a check digit.
    """
    n = len(release_ms)
    era = np.frombuffer(b"0123456789ABCD", dtype=np.uint8)
    rank = np.argsort(np.argsort(release_ms, kind="stable"), kind="stable")
    era_char = era[(rank * len(era)) // max(n, 1)]
    raw = _random_ids(rng, n, b"", 8, _UPPER_DIGITS).astype("S8")
    chars = np.frombuffer(raw.tobytes(), dtype=np.uint8).reshape(n, 8)
    asin = np.empty((n, 10), dtype=np.uint8)
    asin[:, 0] = ord("B")
    asin[:, 1] = ord("0")
    asin[:, 2] = era_char
    asin[:, 3:] = chars[:, :7]
    is_isbn = rng.random(n) < isbn_share
    digits = rng.integers(0, 10, size=(n, 9))
    check = (digits * np.arange(10, 1, -1)).sum(axis=1) % 11
    check = (11 - check) % 11
    isbn = np.empty((n, 10), dtype=np.uint8)
    isbn[:, :9] = digits + ord("0")
    isbn[:, 9] = np.where(check == 10, ord("X"), check + ord("0"))
    asin[is_isbn] = isbn[is_isbn]
    table = np.frombuffer(_UPPER_DIGITS, dtype=np.uint8)
    while True:  # a repeated id (rare) gets a fresh ASIN until all are distinct
        _, first = np.unique(asin.view("S10").ravel(), return_index=True)
        if len(first) == n:
            return asin.view("S10").ravel().astype("U10")
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        asin[dup, :2] = np.frombuffer(b"B0", dtype=np.uint8)
        asin[dup, 2] = era_char[dup]
        asin[dup, 3:] = table[rng.integers(0, len(table), size=(int(dup.sum()), 7))]


@dataclass
class _Catalogue:
    release_ms: np.ndarray
    topic: np.ndarray
    appeal: np.ndarray
    quality: np.ndarray
    topic_offsets: np.ndarray
    series_head: np.ndarray
    """Catalogue index of the first member of the item's series; -1 for standalone items."""
    series_number: np.ndarray
    """Position of the item in its series (1, 2, ...); 0 for standalone items."""
    successor: np.ndarray
    """Catalogue index of the series' next member; -1 when there is none."""


def _series(
    rng: np.random.Generator, topic_offsets: np.ndarray, share: float, mean_length: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut a random ``share`` of each topic's items (in release order) into consecutive series.

    Lengths are 2 + Poisson(``mean_length`` - 2); a lone leftover item stays standalone.
    Returns ``(series_head, series_number, successor)`` over the catalogue (see _Catalogue).
    """
    n = int(topic_offsets[-1])
    head = np.full(n, -1, dtype=np.int64)
    number = np.zeros(n, dtype=np.int64)
    successor = np.full(n, -1, dtype=np.int64)
    chosen_all = rng.random(n) < share
    for lo, hi in itertools.pairwise(topic_offsets.tolist()):
        chosen = lo + np.flatnonzero(chosen_all[lo:hi])
        lengths = 2 + rng.poisson(mean_length - 2.0, size=len(chosen) // 2 + 1)
        starts = np.concatenate([[0], np.cumsum(lengths)])
        starts = starts[starts < len(chosen)]
        ends = np.append(starts[1:], len(chosen))[: len(starts)]
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            if b - a < 2:
                continue
            members = chosen[a:b]
            head[members] = members[0]
            number[members] = np.arange(1, len(members) + 1)
            successor[members[:-1]] = members[1:]
    return head, number, successor


def _catalogue(
    rng: np.random.Generator,
    s: SyntheticSettings,
    model: RecencyModel,
    timeline: _Timeline,
    topic_popularity: np.ndarray,
    trends: np.ndarray,
) -> _Catalogue:
    """Items sorted by (topic, release); ``topic_offsets`` delimits each topic's block."""
    n = s.n_items
    n_back = max(1, round(model.back_catalogue_share * n))  # month one needs a released item
    back_span = s.catalogue_years * YEAR_DAYS * DAY_MS
    release = np.empty(n, dtype=np.int64)
    release[:n_back] = timeline.start_ms - (rng.random(n_back) * back_span).astype(np.int64) - 1
    release[n_back:] = timeline.time_at(rng.random(n - n_back))
    months = np.clip(timeline.month_of(release), 0, None)
    topic_weights = topic_popularity[None, :] * trends[months]
    topic = _categorical_rows(rng, topic_weights)
    appeal = rng.lognormal(0.0, s.item_popularity_sigma, size=n)
    quality = rng.normal(0.0, 1.0, size=n)
    order = np.lexsort((release, topic))
    topic = topic[order]
    offsets = np.searchsorted(topic, np.arange(len(topic_popularity) + 1))
    head, number, successor = _series(rng, offsets, s.series_share, s.series_length)
    return _Catalogue(
        release[order], topic, appeal[order], quality[order], offsets, head, number, successor
    )


def _visit_positions(
    rng: np.random.Generator, counts: np.ndarray, span_days: np.ndarray, s: SyntheticSettings
) -> np.ndarray:
    """Positions in [0, 1) of every user's span (``counts`` per user, in user order) grouped
    into visits: round(count / visit_size) uniform visit times, each interaction one of them
    plus Normal(0, visit_days) days."""
    visits = np.maximum(1, np.rint(counts / s.visit_size)).astype(np.int64)
    first = np.concatenate([[0], np.cumsum(visits)[:-1]])
    at = rng.random(int(visits.sum()))
    user = np.repeat(np.arange(len(counts)), counts)
    which = first[user] + (rng.random(len(user)) * visits[user]).astype(np.int64)
    jitter = rng.normal(0.0, 1.0, len(user)) * s.visit_days / np.maximum(span_days[user], 1.0)
    return np.clip(at[which] + jitter, 0.0, np.nextafter(1.0, 0.0))


def _user_events(
    rng: np.random.Generator,
    s: SyntheticSettings,
    timeline: _Timeline,
    visit_rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """(user, ms) of every simulated interaction inside [start, end), sorted by user then time."""
    extra_mean = max(s.mean_interactions - s.core, 0.5)
    mu = math.log(extra_mean) - s.activity_sigma**2 / 2
    extra = np.rint(rng.lognormal(mu, s.activity_sigma, size=s.n_users)).astype(np.int64)
    counts = s.core + np.minimum(extra, max(s.n_items // 2, s.core))
    span = rng.lognormal(math.log(s.user_span_days), 0.8, size=s.n_users)
    width = np.minimum(span / timeline.n_days, 1.0)
    begin = rng.random(s.n_users) * (1.0 + width) - width
    user = np.repeat(np.arange(s.n_users), counts)
    position = rng.random(len(user))  # drawn in any case, so that visits change nothing else
    if s.visit_size > 1:
        position = _visit_positions(visit_rng, counts, width * timeline.n_days, s)
    q = begin[user] + width[user] * position
    inside = (q >= 0.0) & (q < 1.0)
    user, q, position = user[inside], q[inside], position[inside]
    order = np.argsort(user + position)  # by user, then time (time_at is monotone in q)
    return user[order], timeline.time_at(q[order])


def _bursts(
    rng: np.random.Generator, s: SyntheticSettings, cat: _Catalogue, timeline: _Timeline
) -> np.ndarray:
    """Boost of every item at every month's midpoint, (n_months, n_items): bursts at Poisson
    times, ``burst_rate`` per year between the item's release (or ``start``) and ``end``."""
    mid = timeline.month_mid_ms
    if s.burst_rate <= 0 or s.burst_boost <= 0:
        return np.zeros((len(mid), len(cat.release_ms)))
    first = np.maximum(cat.release_ms, timeline.start_ms)
    years = (timeline.end_ms - first) / (YEAR_DAYS * DAY_MS)
    item = np.repeat(np.arange(len(first)), rng.poisson(s.burst_rate * years))
    at = first[item] + rng.random(len(item)) * (timeline.end_ms - first[item])
    return burst_boost(item, at, mid, len(first), s.burst_boost, s.burst_days)


def burst_boost(
    item: np.ndarray, at_ms: np.ndarray, mid_ms: np.ndarray, n_items: int, peak: float, days: float
) -> np.ndarray:
    """(n_months, n_items): at each month's midpoint ``mid_ms``, the sum over the bursts (of
    ``item`` starting at ``at_ms``) already started of ``peak * exp(-elapsed_days / days)``."""
    boost = np.zeros((len(mid_ms), n_items))
    span = math.ceil(12 * days / 28.0) + 2  # months until a burst is below exp(-12) of its peak
    month = np.searchsorted(mid_ms, at_ms)[:, None] + np.arange(span)
    inside = month < len(mid_ms)
    elapsed_days = (mid_ms[np.minimum(month, len(mid_ms) - 1)] - at_ms[:, None]) / DAY_MS
    value = peak * np.exp(-elapsed_days / days)
    rows = np.broadcast_to(item[:, None], month.shape)
    np.add.at(boost, (month[inside], rows[inside]), value[inside])
    return boost


def _pick_items(
    rng: np.random.Generator,
    cat: _Catalogue,
    model: RecencyModel,
    timeline: _Timeline,
    taste: np.ndarray,
    trends: np.ndarray,
    boost: np.ndarray,
    user: np.ndarray,
    ms: np.ndarray,
    chunk: int = 1 << 19,
) -> np.ndarray:
    """Item index of every interaction: topic from taste x trend, item from appeal x novelty x
    (1 + burst ``boost`` of the month)."""
    month = timeline.month_of(ms)
    topic = np.empty(len(user), dtype=np.int64)
    for lo in range(0, len(user), chunk):
        sl = slice(lo, lo + chunk)
        topic[sl] = _categorical_rows(rng, taste[user[sl]] * trends[month[sl]])
    item = np.empty(len(user), dtype=np.int64)
    by_month = np.argsort(month, kind="stable")
    bounds = np.searchsorted(month[by_month], np.arange(len(timeline.month_start_ms) + 1))
    for m in range(len(timeline.month_start_ms)):
        rows = by_month[bounds[m] : bounds[m + 1]]
        if len(rows) == 0:
            continue
        age_days = (timeline.month_mid_ms[m] - cat.release_ms) / DAY_MS
        novelty = model.evergreen_floor + (1 - model.evergreen_floor) * np.exp2(
            -np.maximum(age_days, 0.0) / model.half_life_days
        )
        released = cat.release_ms < timeline.month_start_ms[m]
        weight = np.where(released, cat.appeal * novelty * (1 + boost[m]), 0.0)
        cum = np.concatenate([[0.0], np.cumsum(weight)])
        t = topic[rows]
        lo_w, hi_w = cum[cat.topic_offsets[t]], cum[cat.topic_offsets[t + 1]]
        empty = hi_w <= lo_w
        lo_w = np.where(empty, 0.0, lo_w)
        hi_w = np.where(empty, cum[-1], hi_w)
        u = lo_w + rng.random(len(rows)) * (hi_w - lo_w)
        pick = np.searchsorted(cum, u, side="right") - 1
        item[rows] = np.clip(pick, 0, len(weight) - 1)
    return item


def _continue_series(
    rng: np.random.Generator,
    cat: _Catalogue,
    user: np.ndarray,
    ms: np.ndarray,
    item: np.ndarray,
    rate: float,
) -> np.ndarray:
    """With probability ``rate``, an interaction becomes the next member of the series of the
    user's previous item, when that member is released by then (events sorted by user, time)."""
    item = item.copy()
    if rate <= 0 or len(user) < 2:
        return item
    starts = np.flatnonzero(np.r_[True, user[1:] != user[:-1]])
    counts = np.diff(np.append(starts, len(user)))
    draws = rng.random(len(user))
    for j in range(1, int(counts.max())):
        rows = starts[counts > j] + j
        successor = cat.successor[item[rows - 1]]
        ok = successor >= 0
        ok[ok] = cat.release_ms[successor[ok]] < ms[rows[ok]]
        ok &= draws[rows] < rate
        item[rows[ok]] = successor[ok]
    return item


def _stars(rng: np.random.Generator, quality: np.ndarray) -> np.ndarray:
    """Star ratings 1-5: J-shaped like Amazon's (mostly 5, a bump at 1), better items higher."""
    latent = 4.6 + 0.4 * quality + rng.normal(0.0, 1.2, size=len(quality))
    stars = np.clip(np.rint(latent), 1, 5).astype(np.int8)
    return np.where(rng.random(len(quality)) < 0.05, np.int8(1), stars)


def _gzip_writer(raw: io.BufferedWriter, level: int) -> gzip.GzipFile:
    """A gzip stream with no name and mtime 0, so equal content gives equal bytes."""
    return gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=level, mtime=0)


_STARS = pa.array(["0.0", "1.0", "2.0", "3.0", "4.0", "5.0"])


def _write_ratings(
    path: Path,
    user_ids: np.ndarray,
    user: np.ndarray,
    asins: np.ndarray,
    item: np.ndarray,
    stars: np.ndarray,
    ms: np.ndarray,
) -> None:
    """Write the rating_only CSV in chunks (ids are looked up per chunk to bound memory)."""
    options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
    user_ids, asins = (pa.array(a.astype(np.bytes_)).cast(pa.string()) for a in (user_ids, asins))
    with atomic_path(path) as tmp, open(tmp, "wb") as raw, _gzip_writer(raw, _CSV_GZIP_LEVEL) as gz:
        gz.write(b"user_id,parent_asin,rating,timestamp\n")
        for lo in range(0, len(ms), _CSV_CHUNK_ROWS):
            sl = slice(lo, lo + _CSV_CHUNK_ROWS)
            chunk = pa.table(
                {
                    "user_id": user_ids.take(user[sl]),
                    "parent_asin": asins.take(item[sl]),
                    "rating": _STARS.take(stars[sl]),
                    "timestamp": ms[sl],
                }
            )
            pa_csv.write_csv(chunk, gz, options)


def _write_meta(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """Write JSON lines in batches, so memory stays bounded for large catalogues."""
    with (
        atomic_path(path) as tmp,
        open(tmp, "wb") as raw,
        _gzip_writer(raw, _META_GZIP_LEVEL) as gz,
    ):
        batch: list[str] = []
        for record in records:
            batch.append(json.dumps(record, ensure_ascii=False) + "\n")
            if len(batch) == _META_BATCH:
                gz.write("".join(batch).encode("utf-8"))
                batch.clear()
        gz.write("".join(batch).encode("utf-8"))


def _window_counts(ms: np.ndarray) -> dict[str, int]:
    edges = np.array([_day_ms(d) for d in STUDY_BOUNDARIES])
    counts = np.bincount(np.searchsorted(edges, ms, side="right"), minlength=len(_WINDOW_NAMES))
    return dict(zip(_WINDOW_NAMES, counts.tolist(), strict=True))


def _summary(
    s: SyntheticSettings,
    user: np.ndarray,
    item: np.ndarray,
    ms: np.ndarray,
    release_ms: np.ndarray,
) -> dict[str, Any]:
    """Counts of what was written, against the study's windows."""
    min_ms, p1_ms, test_ms, end_ms = (_day_ms(STUDY_BOUNDARIES[i]) for i in (0, 1, 3, 4))
    before_end = ms < end_ms
    last = np.full(user.max() + 1 if len(user) else 0, -1, dtype=np.int64)
    np.maximum.at(last, user[before_end], ms[before_end])
    after_min = np.bincount(user[ms >= min_ms], minlength=len(last))
    present = np.bincount(user, minlength=len(last)) > 0
    recent = (ms >= p1_ms) & before_end
    age_days = (ms[recent] - release_ms[item[recent]]) / DAY_MS
    first_seen = np.full(item.max() + 1 if len(item) else 0, np.iinfo(np.int64).max)
    np.minimum.at(first_seen, item, ms)
    test = (ms >= test_ms) & before_end
    new_in_test = first_seen[item[test]] >= p1_ms
    return {
        "interactions": len(ms),
        "users": int(present.sum()),
        "items": len(np.unique(item)),
        "interactions_per_window": _window_counts(ms),
        "test_users": int((last >= test_ms).sum()),
        "users_below_core_after_2017_07_01": int((present & (after_min < s.core)).sum()),
        "recent_release_share_2022_07_to_2023_04": (
            round(float((age_days <= 90).mean()), 4) if len(age_days) else 0.0
        ),
        "test_share_items_first_seen_after_pretrain": (
            round(float(new_in_test.mean()), 4) if len(new_in_test) else 0.0
        ),
        "mean_item_age_days_2022_07_to_2023_04": (
            round(float(age_days.mean()), 1) if len(age_days) else 0.0
        ),
    }


def _series_summary(cat: _Catalogue, user: np.ndarray, item: np.ndarray) -> dict[str, Any]:
    """How much series structure was written: catalogue series and the share of interactions
    that continue the series of the user's previous interaction (rows sorted by user, time)."""
    same_user = user[1:] == user[:-1]
    continues = same_user & (cat.successor[item[:-1]] == item[1:])
    return {
        "series": int((cat.series_number == 1).sum()),
        "series_items": int((cat.series_head >= 0).sum()),
        "series_continuation_share": (
            round(float(continues.sum() / same_user.sum()), 4) if same_user.any() else 0.0
        ),
    }


def generate_domain(
    domain: str,
    settings: SyntheticSettings,
    seed: int,
    ratings_path: str | os.PathLike[str],
    meta_path: str | os.PathLike[str],
    truth_path: str | os.PathLike[str],
) -> dict[str, Any]:
    """Write one domain's ratings CSV, meta JSONL and truth sidecar; return the summary counts.

    Deterministic for (``domain``, ``settings``, ``seed``): the files are byte-identical across
    runs. Each file appears atomically.
    """
    profile_name = settings.profile or domain
    if profile_name not in KNOWN_DOMAINS:
        raise InputError(
            f"no built-in profile for domain {domain!r}; known domains are "
            f"{', '.join(KNOWN_DOMAINS)} (set SyntheticSettings.profile to borrow one)"
        )
    profile: DomainProfile = load_profile(profile_name)
    recency = profile.recency if settings.recency is None else settings.recency
    trend = profile.volume_trend if settings.volume_trend is None else settings.volume_trend
    model = RecencyModel.from_knob(recency)
    domain_seed = derive_seed(seed, "synthetic", domain)
    rng = np.random.default_rng(domain_seed)

    timeline = _Timeline(settings.start, settings.end, trend, settings.seasonality)
    n_topics = len(profile.topics)
    topic_popularity = rng.dirichlet(np.full(n_topics, 4.0))
    trends = _topic_trends(rng, len(timeline.month_start_ms), n_topics, model.topic_drift)
    cat = _catalogue(rng, settings, model, timeline, topic_popularity, trends)
    taste = rng.dirichlet(
        settings.taste_concentration * n_topics * topic_popularity, settings.n_users
    )
    visit_rng = np.random.default_rng(derive_seed(seed, "synthetic", domain, "visits"))
    user, ms = _user_events(rng, settings, timeline, visit_rng)
    # bursts draw from their own stream: without them the world is what it was before them
    boost = _bursts(
        np.random.default_rng(derive_seed(seed, "synthetic", domain, "bursts")),
        settings,
        cat,
        timeline,
    )
    item = _pick_items(rng, cat, model, timeline, taste, trends, boost, user, ms)
    item = _continue_series(rng, cat, user, ms, item, settings.continuation)

    _, first = np.unique(user * settings.n_items + item, return_index=True)
    first.sort()
    user, item, ms = user[first], item[first], ms[first]
    keep, _ = kcore_mask(user, item, settings.core)
    user, item, ms = user[keep], item[keep], ms[keep]
    if len(ms) == 0:
        raise InputError(
            f"data.synthetic ({domain}): no interaction survives the {settings.core}-core cut; "
            "raise n_users, n_items or mean_interactions"
        )
    stars = _stars(rng, cat.quality[item])

    user_ids = _user_ids(rng, settings.n_users)
    asins = _asins(rng, cat.release_ms, profile.isbn_share)
    _write_ratings(Path(ratings_path), user_ids, user, asins, item, stars, ms)

    counts = np.bincount(item, minlength=settings.n_items)
    sums = np.bincount(item, weights=stars, minlength=settings.n_items)
    prior = np.clip(4.3 + 0.3 * cat.quality, 1.0, 5.0)
    average = np.round((sums + 3 * prior) / (counts + 3), 1)
    rating_number = counts + rng.poisson(1.0 + 2.0 * counts)
    price = np.round(rng.lognormal(math.log(profile.price_median), 0.6, settings.n_items), 2)
    price = np.where(rng.random(settings.n_items) < 0.15, np.nan, price)
    empty_title = rng.random(settings.n_items) < settings.empty_title_rate
    meta_order = rng.permutation(settings.n_items)
    records = render_meta(
        profile,
        rng,
        asins[meta_order],
        cat.topic[meta_order],
        price[meta_order],
        average[meta_order],
        rating_number[meta_order],
        empty_title[meta_order],
        np.argsort(meta_order)[np.maximum(cat.series_head, 0)][meta_order],
        cat.series_number[meta_order],
    )
    _write_meta(Path(meta_path), records)

    summary = _summary(settings, user, item, ms, cat.release_ms)
    summary["catalogue_items"] = settings.n_items
    summary.update(_series_summary(cat, user, item))
    burst = boost[timeline.month_of(ms), item]  # the share of choices that bursts explain
    summary["burst_share"] = round(float((burst / (1 + burst)).mean()), 4) if len(ms) else 0.0
    summary["empty_titles"] = int(empty_title.sum())
    truth = {
        "domain": domain,
        "profile": profile_name,
        "seed": seed,
        "domain_seed": domain_seed,
        "settings": dataclasses.asdict(settings),
        "recency_model": dataclasses.asdict(model),
        "volume_trend": trend,
        "topics": [
            {"name": t.name, "popularity": round(float(p), 4)}
            for t, p in zip(profile.topics, topic_popularity, strict=True)
        ],
        "summary": summary,
    }
    write_json(truth_path, truth)
    return summary


def main(argv: list[str] | None = None) -> None:
    """Command line: write one domain's files into ``--out`` (for benchmarks and inspection)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domain", required=True, help=f"one of {', '.join(KNOWN_DOMAINS)}")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--users", type=int, default=SyntheticSettings.n_users)
    parser.add_argument("--items", type=int, default=SyntheticSettings.n_items)
    parser.add_argument(
        "--mean-interactions", type=float, default=SyntheticSettings.mean_interactions
    )
    parser.add_argument("--recency", type=float, default=None)
    args = parser.parse_args(argv)
    cfg: dict[str, Any] = {
        "n_users": args.users,
        "n_items": args.items,
        "mean_interactions": args.mean_interactions,
    }
    if args.recency is not None:
        cfg["recency"] = args.recency
    settings = settings_from_config(cfg, args.domain)
    out: Path = args.out
    summary = generate_domain(
        args.domain,
        settings,
        args.seed,
        out / f"{args.domain}.csv.gz",
        out / f"meta_{args.domain}.jsonl.gz",
        out / f"{args.domain}.truth.json",
    )
    print(json.dumps(summary, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
