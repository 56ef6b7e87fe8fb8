"""Shared fixtures: the real bundled encoder (loaded once) and small items files."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pandas as pd
import pytest

from mmgrid.items import TextEncoder

os.environ["HF_HUB_OFFLINE"] = "1"

TOPICS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "kitchen": (
        ["OXO", "Cuisinart", "Lodge", "Pyrex"],
        ["Cast Iron Skillet", "Glass Meal Prep Containers", "Chef's Knife", "Nonstick Frying Pan"],
        ["10 Inch", "Set of 5", "Dishwasher Safe", "Pre-Seasoned"],
    ),
    "audio": (
        ["Sony", "JBL", "Anker Soundcore", "Sennheiser"],
        ["Wireless Noise Cancelling Headphones", "Portable Bluetooth Speaker", "Wired Earbuds"],
        ["Over-Ear", "Waterproof", "40H Playtime", "with Microphone"],
    ),
    "books": (
        ["Penguin Classics", "Vintage", "HarperCollins"],
        ["A Brief History of Time", "The Great Gatsby", "Mystery Novel Box Set"],
        ["Paperback", "Hardcover", "Illustrated Edition"],
    ),
    "pets": (
        ["Purina", "KONG", "Blue Buffalo"],
        ["Dry Dog Food Chicken Recipe", "Cat Scratching Post", "Chew Toy for Dogs"],
        ["30 lb Bag", "Large", "Grain Free"],
    ),
}


def catalogue_titles() -> list[str]:
    """166 product-like titles from four topics, deterministic."""
    titles = []
    for brands, products, variants in TOPICS.values():
        for brand in brands:
            for product in products:
                for variant in variants:
                    titles.append(f"{brand} {product}, {variant}")
    return titles


def items_file(
    path: Path, titles: Sequence[str], descriptions: Sequence[str] | None = None
) -> Path:
    """Write an items file in the data layer's format (sorted by item_id)."""
    n = len(titles)
    frame = pd.DataFrame(
        {
            "item_id": [f"B{index:09d}" for index in range(n)],
            "title": list(titles),
            "description": list(descriptions) if descriptions is not None else [""] * n,
            "first_seen": pd.array([1_600_000_000_000 + 86_400_000 * i for i in range(n)], "int64"),
        }
    )
    frame.to_parquet(path, index=False)
    return path


@pytest.fixture
def write_items() -> Callable[..., Path]:
    """``write_items(path, titles, descriptions=None)`` writes an items file."""
    return items_file


@pytest.fixture(scope="session")
def encoder() -> Iterator[TextEncoder]:
    """The bundled MiniLM on one CPU thread (restored afterwards: the setting is global)."""
    import torch

    threads = torch.get_num_threads()
    yield TextEncoder(device="cpu", threads=1)
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def catalogue_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    titles = catalogue_titles()
    descriptions = ["Bestseller in its category." if i % 3 == 0 else "" for i in range(len(titles))]
    return items_file(tmp_path_factory.mktemp("items") / "Toys.parquet", titles, descriptions)
