"""A tiny HLLM world: one domain's items, period shards with a learnable next-item rule, and a
random tiny Qwen3 base LLM built with :mod:`mmgrid.train.base_llm`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mmgrid.hllm.settings import STUDY_PROMPT, HllmSettings
from mmgrid.models.settings import ModelSettings
from mmgrid.periods import Period, date_to_ms
from mmgrid.train.settings import CellTrainSettings
from tests.models.catalog import make_items

DOMAIN = "Video_Games"
PERIODS = {
    "pretrain": ("2017-07-01", "2022-07-01"),
    "phase1": ("2022-07-01", "2022-10-01"),
    "test": ("2022-10-01", "2023-01-01"),
}
MODEL = ModelSettings(
    hidden_size=32,
    num_hidden_layers=3,
    intermediate_size=64,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=8,
    max_position_embeddings=128,
)
HLLM = HllmSettings(
    max_text_tokens=24, max_items=8, num_negatives=32, item_batch_size=64, user_batch_size=16
)
TRAIN = CellTrainSettings(
    epochs=2, lr=3e-3, batch_size=16, warmup_ratio=0.1, heldout_samples=24, device="cpu"
)


def period(name: str) -> Period:
    start, end = PERIODS[name]
    return Period(name, date_to_ms(start), date_to_ms(end))


@dataclass(frozen=True)
class World:
    root: Path
    items: Path
    shards: dict[str, Path]
    base_llm: Path


def make_interactions(items: pd.DataFrame, n_users: int, seed: int) -> pd.DataFrame:
    """Users walk a fixed successor permutation of the items (85%) or jump at random."""
    rng = np.random.default_rng(seed)
    ids = items["item_id"].to_numpy()
    successor = rng.permutation(len(ids))
    start, end = date_to_ms(PERIODS["pretrain"][0]), date_to_ms(PERIODS["test"][1])
    rows = []
    for user in range(n_users):
        n = int(rng.integers(3, 40))
        current = int(rng.integers(len(ids)))
        stamps = np.sort(rng.integers(start, end, n))
        for ts in stamps:
            rows.append((f"U{user:04d}", ids[current], int(ts)))
            jump = rng.random() < 0.15
            current = int(rng.integers(len(ids))) if jump else int(successor[current])
    return pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])


def build_world(root: Path, seed: int = 0) -> World:
    from mmgrid.models.tokenizer import train_tokenizer
    from mmgrid.train.base_llm import build_model

    items = make_items(DOMAIN, 80, seed)
    items_path = root / "items.parquet"
    items.to_parquet(items_path, index=False)
    frame = make_interactions(items, 150, seed)
    shards = {}
    for name in PERIODS:
        p = period(name)
        part = frame[(frame["timestamp"] >= p.start_ms) & (frame["timestamp"] < p.end_ms)]
        shards[name] = root / "shards" / f"{name}.parquet"
        shards[name].parent.mkdir(parents=True, exist_ok=True)
        part.to_parquet(shards[name], index=False)
    texts = [f"{t}\n{d}" for t, d in zip(items["title"], items["description"], strict=True)]
    tokenizer = train_tokenizer([*texts, STUDY_PROMPT * 3], vocab_size=600)
    base = build_model(MODEL, tokenizer, seed=seed)
    base_dir = root / "base_llm"
    base.save_pretrained(base_dir)
    tokenizer.save_pretrained(base_dir)
    return World(root=root, items=items_path, shards=shards, base_llm=base_dir)
