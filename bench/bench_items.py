"""Benchmark the item index: encoder throughput and semantic-ID (residual k-means) time.

Usage: python bench/bench_items.py [--threads 2] [--items 10000]
Prints a markdown table; numbers are recorded in bench/ITEMS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
from timing import best_time

from mmgrid.errors import InputError
from mmgrid.items import TextEncoder, item_text, residual_kmeans, resolve_collisions

BRANDS = [
    "Acme", "Nordic", "Zenith", "Orion", "Atlas", "Lumen", "Vertex", "Summit", "Cedar", "Polar",
    "Apex", "Tidal", "Ember", "Kestrel", "Maple", "Quartz", "Harbor", "Falcon", "Willow",
    "Granite", "Sierra", "Cobalt", "Juniper", "Aurora", "Basalt",
]  # fmt: skip
ADJECTIVES = [
    "Wireless", "Stainless Steel", "Organic", "Portable", "Heavy Duty", "Compact", "Ergonomic",
    "Waterproof", "Rechargeable", "Handmade", "Non-Stick", "Adjustable", "Foldable", "Vintage",
]  # fmt: skip
PRODUCTS = [
    "Bluetooth Speaker", "Water Bottle", "Green Tea", "Yoga Mat", "Cast Iron Skillet",
    "Desk Lamp", "Dog Chew Toy", "Hiking Backpack", "Phone Case", "Coffee Grinder",
    "Mystery Novel", "Board Game", "Face Moisturizer", "Vitamin D3 Softgels", "Garden Hose",
    "Mechanical Keyboard", "Baby Stroller", "Camping Tent", "Electric Toothbrush", "Wall Clock",
    "Running Shoes", "Guitar Strings", "Cat Litter Box", "Blender", "Puzzle 1000 Pieces",
    "Car Phone Mount", "Sunscreen SPF 50", "Watercolor Paint Set", "Office Chair", "Fishing Rod",
]  # fmt: skip
VARIANTS = ["Black", "Pack of 2", "Large", "500ml", "2023 Edition", "with Charger", "Blue",
            "Set of 3", "10 Inch", "Travel Size", "King Size", "for Kids"]  # fmt: skip
USES = ["everyday use", "travel", "the kitchen", "the office", "outdoor adventures", "gifting"]


def synthetic_items(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Product-like titles and item texts (title and a one-sentence description)."""
    rng = np.random.default_rng(seed)
    titles, texts = [], []
    for _ in range(n):
        brand, adjective, product, variant, use = (
            str(lst[rng.integers(len(lst))])
            for lst in (BRANDS, ADJECTIVES, PRODUCTS, VARIANTS, USES)
        )
        title = f"{brand} {adjective} {product}, {variant}"
        description = f"A {adjective.lower()} {product.lower()} from {brand}, made for {use}."
        titles.append(title)
        texts.append(item_text(title, description))
    return titles, texts


def row(*cells: object) -> None:
    print("| " + " | ".join(map(str, cells)) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2, help="torch threads for the encoder")
    parser.add_argument("--items", type=int, default=10_000, help="largest catalogue size")
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    load_s, encoder = best_time(lambda: TextEncoder(device="cpu", threads=args.threads), 1)
    print(f"encoder load: {load_s:.2f} s ({encoder.name}, dim {encoder.dim})\n")

    titles, texts = synthetic_items(args.items)
    row("step", "items", "setting", "seconds (best)", "items/s", "notes")
    row(*["---"] * 6)
    for name, inputs in (("titles", titles), ("title + description", texts)):
        for batch_size in (64, 256):
            seconds, _ = best_time(lambda b=batch_size, x=inputs: encoder.encode(x[:2000], b), 1)
            setting = f"{name}, batch {batch_size}, {args.threads} threads"
            row("embed", 2000, setting, f"{seconds:.2f}", f"{2000 / seconds:.0f}", "")
    seconds, embeddings = best_time(lambda: encoder.encode(texts, 64), 1)
    setting = f"title + description, batch 64, {args.threads} threads"
    row("embed", args.items, setting, f"{seconds:.2f}", f"{args.items / seconds:.0f}", "")

    configs = [
        (3, 32, 100, 3, "default 3x32, 100 iters, n_init 3"),
        (4, 256, 10, 1, "study 4x256, 10 iters, n_init 1"),
        (4, 256, 100, 3, "4x256, 100 iters, n_init 3"),
    ]
    for n in sorted({1000, args.items}):
        for levels, size, iters, n_init, label in configs:
            seconds, codes = best_time(
                lambda n=n, lv=levels, k=size, it=iters, ni=n_init: residual_kmeans(
                    embeddings[:n], lv, k, seed=0, max_iter=it, n_init=ni
                ),
                2 if n <= 1000 else 1,
            )
            start = time.perf_counter()
            try:
                resolve_collisions(codes.codes, codes.codebooks[-1])
                note = f"collision resolution {time.perf_counter() - start:.3f} s"
            except InputError as error:
                note = f"cannot make IDs unique: {str(error).split(',')[0]}"
            row("residual k-means", n, label, f"{seconds:.2f}", f"{n / seconds:.0f}", note)


if __name__ == "__main__":
    main()
