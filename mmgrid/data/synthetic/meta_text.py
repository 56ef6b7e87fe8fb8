"""Item metadata for the synthetic generator: titles, descriptions and the other meta fields.

Text is rendered from a :class:`~mmgrid.data.synthetic.profiles.DomainProfile` template by
filling slots with the item's topic words, so items of one topic share words and a user's
topic mixture shows in the text of the items they interact with. All randomness comes from an
integer matrix drawn up front, so rendering is a deterministic function of the generator seed.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterator
from typing import Any

import numpy as np

from mmgrid.data.synthetic.profiles import DomainProfile

_N_DRAWS = 32
_IMAGE_ALPHABET = string.ascii_letters + string.digits
_ARTICLE = re.compile(r"\b([Aa]) (?=[AEIOUaeiou])")


@functools.cache
def _has_article(template: str) -> bool:
    return re.search(r"\b[Aa] \{", template) is not None


def _sentence(template: str, values: dict[str, str]) -> str:
    """Fill ``template``, fix 'a' before a vowel and capitalise the first letter."""
    text = template.format_map(values)
    if _has_article(template):
        text = _ARTICLE.sub(r"\1n ", text)
    return text[0].upper() + text[1:]


class _Draws:
    """Hands out the pre-drawn random integers of one item, one per call."""

    def __init__(self, row: np.ndarray) -> None:
        self._row = row.tolist()
        self._next = 0

    def pick(self, options: tuple[str, ...]) -> str:
        value = options[self._row[self._next] % len(options)]
        self._next += 1
        return value

    def pick_two(self, options: tuple[str, ...]) -> tuple[str, str]:
        """Two different entries of ``options`` (the same one when it has a single entry)."""
        first = self._row[self._next] % len(options)
        step = 1 + self._row[self._next + 1] % max(len(options) - 1, 1)
        self._next += 2
        return options[first], options[(first + step) % len(options)]

    def integer(self, bound: int) -> int:
        value = self._row[self._next] % bound
        self._next += 1
        return value


def _slot_values(profile: DomainProfile, topic: int, store: str, draws: _Draws) -> dict[str, str]:
    t = profile.topics[topic]
    mod, mod2 = draws.pick_two(t.mods)
    noun, noun2 = draws.pick_two(t.nouns)
    kw, kw2 = draws.pick_two(t.kws)
    values = {"mod": mod, "mod2": mod2, "noun": noun, "noun2": noun2, "kw": kw, "kw2": kw2}
    values["store"] = store
    for name in sorted(profile.slots):
        values[name] = draws.pick(profile.slots[name])
    return values


def _image_keys(rng: np.random.Generator, n: int) -> list[str]:
    """Image-like keys: 10 random letters and digits each."""
    table = np.frombuffer(_IMAGE_ALPHABET.encode(), dtype=np.uint8)
    chars = table[rng.integers(0, len(table), size=(n, 10))]
    return chars.view("S10").ravel().astype("U10").tolist()


def _image(key: str) -> dict[str, str]:
    base = f"https://m.media-amazon.com/images/I/{key}"
    return {
        "thumb": f"{base}._SS40_.jpg",
        "large": f"{base}.jpg",
        "variant": "MAIN",
        "hi_res": f"{base}._SL1500_.jpg",
    }


def render_meta(
    profile: DomainProfile,
    rng: np.random.Generator,
    asins: np.ndarray,
    topics: np.ndarray,
    prices: np.ndarray,
    average_ratings: np.ndarray,
    rating_numbers: np.ndarray,
    empty_title: np.ndarray,
    series_head: np.ndarray,
    series_number: np.ndarray,
) -> Iterator[dict[str, Any]]:
    """Yield one Amazon-2023 meta record per item, with the real files' key order.

    ``prices`` holds NaN where the price is missing (written as null); ``empty_title`` marks
    the items whose title is written empty, as a few real records are. A series member
    (``series_number`` >= 1, its position in the series; 0 = a standalone item) takes its
    words from the record at position ``series_head`` (the series' first member) and a title
    from ``profile.series_titles``, so the members of a series share a recognisable name.
    """
    n = len(asins)
    draws_matrix = rng.integers(0, 2**31 - 1, size=(n, _N_DRAWS), dtype=np.int64)
    stores = rng.integers(0, len(profile.stores), size=n)
    image_keys = _image_keys(rng, n)
    for i in range(n):
        head = int(series_head[i]) if series_number[i] else i
        draws = _Draws(draws_matrix[head])
        topic = int(topics[i])
        values = _slot_values(profile, topic, profile.stores[stores[head]], draws)
        if series_number[i]:
            values["number"] = str(int(series_number[i]))
            title = _sentence(draws.pick(profile.series_titles), values)
            draws = _Draws(draws_matrix[i])  # the member's own description and details
        else:
            title = _sentence(draws.pick(profile.titles), values)
        n_sentences = 1 + draws.integer(min(3, len(profile.descriptions)))
        first = draws.integer(len(profile.descriptions))
        description = [
            _sentence(profile.descriptions[(first + j) % len(profile.descriptions)], values)
            for j in range(n_sentences)
        ]
        features = [_sentence(f, values) for f in profile.features]
        details = {k.format_map(values): v.format_map(values) for k, v in profile.details}
        has_image = draws.integer(100) < 85
        price = None if np.isnan(prices[i]) else round(float(prices[i]), 2)
        yield (
            {
                "main_category": profile.main_category,
                "title": "" if empty_title[i] else title,
                "average_rating": float(average_ratings[i]),
                "rating_number": int(rating_numbers[i]),
                "features": features,
                "description": description,
                "price": price,
                "images": [_image(image_keys[i])] if has_image else [],
                "videos": [],
                "store": values["store"],
                "categories": [profile.root_category, profile.topics[topic].name],
                "details": details,
                "parent_asin": str(asins[i]),
                "bought_together": None,
            }
        )
