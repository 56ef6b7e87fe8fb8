"""Small, realistic synthetic item catalogues (items-parquet contract) for tests and benchmarks."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd

TOPICS: dict[str, dict[str, list[str]]] = {
    "Video_Games": {
        "brand": [
            "Nintendo",
            "Logitech",
            "Razer",
            "HyperX",
            "Turtle Beach",
            "PowerA",
            "SteelSeries",
        ],
        "adj": ["Wireless", "Wired", "Mechanical", "RGB", "Ergonomic", "Pro", "Compact"],
        "noun": ["Gaming Mouse", "Controller", "Headset", "Keyboard", "Charging Dock", "Mouse Pad"],
        "extra": [
            "for PlayStation 5",
            "for Xbox Series X",
            "for Nintendo Switch",
            "for PC",
            "- Black",
            "- White",
            "with Microphone",
            "(Renewed)",
        ],
        "desc": [
            "Low latency {x} connection for competitive play.",
            "Customizable buttons and {x} lighting.",
            "Up to {n} hours of battery life on a single charge.",
            "Compatible with {x} and most consoles.",
        ],
        "fill": ["2.4 GHz", "Bluetooth", "USB-C", "RGB", "PC", "Xbox", "Switch"],
    },
    "Books": {
        "brand": ["Penguin Classics", "Vintage", "HarperCollins", "Scholastic", "Del Rey"],
        "adj": [
            "The Silent",
            "The Last",
            "A Brief History of",
            "The Secret",
            "Under the",
            "The Little",
            "Beyond the",
        ],
        "noun": ["Garden", "Ocean", "Kingdom", "Time", "Mountain", "Detective", "Library"],
        "extra": [
            "(Paperback)",
            "(Hardcover)",
            "- A Novel",
            ": Book 1",
            "- Illustrated Edition",
            "(Kindle Edition)",
        ],
        "desc": [
            "A gripping story about {x} and the people who shape it.",
            "The {n}th anniversary edition with a new introduction.",
            "From the bestselling author comes a tale of {x}.",
            "A moving exploration of {x}, memory and family.",
        ],
        "fill": ["love", "war", "friendship", "loss", "adventure", "courage", "history"],
    },
    "Beauty": {
        "brand": ["CeraVe", "Neutrogena", "The Ordinary", "L'Oreal Paris", "Olay", "Cetaphil"],
        "adj": ["Hydrating", "Daily", "Gentle", "Oil-Free", "Brightening", "Nourishing", "Ultra"],
        "noun": [
            "Facial Cleanser",
            "Moisturizer",
            "Serum",
            "Sunscreen SPF 50",
            "Night Cream",
            "Eye Cream",
            "Toner",
        ],
        "extra": [
            "16 fl oz",
            "1 oz",
            "for Sensitive Skin",
            "with Hyaluronic Acid",
            "Fragrance Free",
            "Pack of 2",
        ],
        "desc": [
            "Developed with dermatologists for {x} skin.",
            "Contains {x} to restore the skin barrier.",
            "Lightweight formula absorbs in {n} seconds.",
            "Suitable for {x} and combination skin types.",
        ],
        "fill": ["dry", "oily", "sensitive", "ceramides", "niacinamide", "vitamin C", "normal"],
    },
    "Kitchen": {
        "brand": ["Lodge", "OXO", "KitchenAid", "Cuisinart", "Instant Pot", "Pyrex", "T-fal"],
        "adj": [
            "Stainless Steel",
            "Cast Iron",
            "Nonstick",
            "Glass",
            "Silicone",
            "Electric",
            "Bamboo",
        ],
        "noun": [
            "Skillet",
            "Chef Knife",
            "Mixing Bowl Set",
            "Pressure Cooker",
            "Cutting Board",
            "Measuring Cups",
            "Dutch Oven",
        ],
        "extra": [
            "10 inch",
            "8 Piece",
            "6 Quart",
            "Dishwasher Safe",
            "- Red",
            "- Black",
            "with Lid",
        ],
        "desc": [
            "Made from durable {x} for even heating.",
            "Dishwasher safe and easy to clean in {n} minutes.",
            "Perfect for {x}, baking and everyday cooking.",
            "Includes a {n}-year limited warranty.",
        ],
        "fill": ["steel", "iron", "searing", "roasting", "glass", "frying", "meal prep"],
    },
}


def make_items(domain: str, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` items of ``domain`` (a key of :data:`TOPICS`) with the items-parquet columns."""
    topic, rng = TOPICS[domain], random.Random(f"{domain}:{seed}")
    rows = []
    for k in range(n):
        title = " ".join(
            [
                rng.choice(topic["brand"]),
                rng.choice(topic["adj"]),
                rng.choice(topic["noun"]),
                rng.choice(topic["extra"]),
            ]
        )
        sentences = rng.sample(topic["desc"], rng.randint(0, 2))
        desc = " ".join(
            s.format(x=rng.choice(topic["fill"]), n=rng.randint(2, 40)) for s in sentences
        )
        rows.append(
            {
                "item_id": f"{domain[:2].upper()}{k:05d}",
                "title": title,
                "description": desc,
                "first_seen": 1_600_000_000_000 + 86_400_000 * k,
            }
        )
    frame = pd.DataFrame(rows)
    frame["first_seen"] = frame["first_seen"].astype("int64")
    return frame


def write_catalog(directory: Path, n_per_domain: int, seed: int = 0) -> list[Path]:
    """Write ``{domain}.parquet`` for every topic into ``directory``; return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for domain in sorted(TOPICS):
        path = directory / f"{domain}.parquet"
        make_items(domain, n_per_domain, seed).to_parquet(path, index=False)
        paths.append(path)
    return paths
