"""Named domain profiles for the synthetic Amazon-2023 generator: vocabularies and defaults.

Each profile is a data file ``profiles/{Domain}.yaml`` beside this module (shipped as package
data); :func:`load_profile` reads it into a :class:`DomainProfile`.

A profile holds what makes a domain read like itself: topics (each a category label plus word
lists that fill title and description templates), the domain-wide words, the templates, and the
behavioural defaults. ``recency`` in [0, 1] (higher = more interaction mass on recently released
items) follows the real data's ordering: Movies_and_TV and Books are old-heavy, the others more
recent. ``volume_trend`` is the yearly log-growth of interaction volume, chosen so that the
pretrain window's share of 2017-07..2023-04 interactions matches the real files (Movies 93 %,
Books 90 %, Video_Games 86 %, Sports 83 %, Cell 82 %, Health 81 %; the generated
files land within about 1.5 points of these).

Template slots: ``{mod}``/``{mod2}`` (two different topic modifiers), ``{noun}``/``{noun2}``,
``{kw}``/``{kw2}`` (topic keywords), ``{store}`` and any key of ``DomainProfile.slots``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from mmgrid.errors import InputError
from mmgrid.strict_yaml import load_yaml_text

PROFILE_FILES = resources.files(__package__) / "profiles"
"""The directory of the profile files, one ``{Domain}.yaml`` per profile."""


@dataclass(frozen=True)
class Topic:
    """One latent topic of a domain: its category label and the words its items use."""

    name: str
    mods: tuple[str, ...]
    nouns: tuple[str, ...]
    kws: tuple[str, ...]


@dataclass(frozen=True)
class DomainProfile:
    """Vocabulary, templates and behavioural defaults of one named domain."""

    main_category: str
    root_category: str
    topics: tuple[Topic, ...]
    stores: tuple[str, ...]
    titles: tuple[str, ...]
    series_titles: tuple[str, ...]
    """Titles of series members: ``{number}`` is the member's position (1, 2, ...); every other
    slot takes the series' first member's words, so members share a recognisable name."""
    descriptions: tuple[str, ...]
    features: tuple[str, ...]
    details: tuple[tuple[str, str], ...]
    recency: float
    volume_trend: float
    price_median: float
    isbn_share: float = 0.0
    slots: dict[str, tuple[str, ...]] = field(default_factory=dict)


def known_profiles() -> tuple[str, ...]:
    """The names of the built-in profiles (the domains with a vocabulary), sorted."""
    names = (f.name.removesuffix(".yaml") for f in PROFILE_FILES.iterdir())
    return tuple(sorted(n for n in names if not n.startswith((".", "_")) and "." not in n))


@functools.cache
def load_profile(name: str) -> DomainProfile:
    """The built-in profile ``name`` (one of :func:`known_profiles`), read from its data file."""
    if name not in known_profiles():
        raise InputError(f"unknown profile {name!r}; use one of {', '.join(known_profiles())}")
    source = f"{PROFILE_FILES}/{name}.yaml"
    raw: dict[str, Any] = load_yaml_text(
        (PROFILE_FILES / f"{name}.yaml").read_text("utf-8"), source
    )
    return DomainProfile(
        main_category=raw["main_category"],
        root_category=raw["root_category"],
        topics=tuple(
            Topic(t["name"], tuple(t["mods"]), tuple(t["nouns"]), tuple(t["kws"]))
            for t in raw["topics"]
        ),
        stores=tuple(raw["stores"]),
        titles=tuple(raw["titles"]),
        series_titles=tuple(raw["series_titles"]),
        descriptions=tuple(raw["descriptions"]),
        features=tuple(raw["features"]),
        details=tuple((key, value) for key, value in raw["details"]),
        recency=raw["recency"],
        volume_trend=raw["volume_trend"],
        price_median=raw["price_median"],
        isbn_share=raw["isbn_share"],
        slots={slot: tuple(words) for slot, words in raw["slots"].items()},
    )
