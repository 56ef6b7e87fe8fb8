"""Fixtures: a tiny random Qwen3 with semantic-ID tokens, an item index and test samples."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from mmgrid.items.index import build_index
from mmgrid.items.settings import IndexSettings
from mmgrid.items.tokens import semantic_id_tokens
from mmgrid.models.tokenizer import train_tokenizer
from mmgrid.models.vocab import add_semantic_id_tokens
from mmgrid.samples import prompts
from mmgrid.samples.build import SCHEMA
from tests.conftest import one_thread
from tests.tiny_models import tiny_qwen3

os.environ["HF_HUB_OFFLINE"] = "1"
LEVELS, CODEBOOK = 2, 16
DAY = 86_400_000
TEST_START = 1_700_000_000_000


def write_tiny_lm(items: pd.DataFrame, out: Path, *, hidden: int = 32, layers: int = 1) -> Path:
    """Save a random tiny Qwen3 + tokenizer (trained on the items and prompts) with SID tokens."""
    texts = [f"{t}\n{d}" for t, d in zip(items["title"], items["description"], strict=True)]
    tokenizer = train_tokenizer(texts + prompts.prompt_vocabulary() * 4, vocab_size=500)
    model = tiny_qwen3(len(tokenizer), hidden=hidden, layers=layers, max_position_embeddings=1024)
    add_semantic_id_tokens(model, tokenizer, semantic_id_tokens(LEVELS, CODEBOOK), seed=0)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def write_samples(
    path: Path, paradigm: str, items: pd.DataFrame, sids: dict[str, str], n_users: int, seed: int
) -> Path:
    """A test samples file: random histories (varying length) and targets."""
    rng = np.random.default_rng(seed)
    ids = items["item_id"].tolist()
    title = dict(zip(ids, items["title"], strict=True))
    rows = []
    for user in range(n_users):
        picked = [ids[j] for j in rng.choice(len(ids), size=int(rng.integers(2, 6)), replace=False)]
        history, target = picked[:-1], picked[-1]
        if paradigm == "semid":
            messages = prompts.sid_task([sids[i] for i in history], None)
        else:
            messages = prompts.title_task([f"Title: {title[i]}" for i in history], None)
        rows.append(
            {
                "task": "recommend",
                "user_id": f"U{user:03d}",
                "item_id": target,
                "timestamp": TEST_START + user * DAY,
                "history": history,
                "messages": json.dumps(messages),
            }
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    pa.Table.from_pylist(rows, schema=SCHEMA).to_pandas().to_parquet(path, index=False)
    return path


@pytest.fixture(scope="session")
def eval_world(catalog_paths, tmp_path_factory) -> dict:
    """One domain's items (first 48 with descriptions cut), index, model, samples and shards."""
    root = tmp_path_factory.mktemp("eval")
    items = pd.read_parquet(catalog_paths[0]).head(48).reset_index(drop=True)
    items_path = root / "items.parquet"
    items.to_parquet(items_path, index=False)
    with one_thread():
        from mmgrid.items.encoder import TextEncoder

        encoder = TextEncoder(device="cpu", threads=1)
        settings = IndexSettings(levels=LEVELS, codebook_size=CODEBOOK, kmeans_n_init=1)
        build_index(items_path, root / "index", settings, seed=3, encoder=encoder)
        model_dir = write_tiny_lm(items, root / "model")
    sids = dict(
        zip(
            *pd.read_parquet(root / "index" / "semantic_ids.parquet")[["item_id", "sid"]]
            .to_numpy()
            .T,
            strict=True,
        )
    )
    rng = np.random.default_rng(5)
    ids = items["item_id"].to_numpy()
    shard = pd.DataFrame(
        {
            "user_id": [f"V{i}" for i in range(200)],
            "item_id": ids[rng.integers(0, len(ids) - 8, 200)],  # the last 8 items stay unseen
            "timestamp": TEST_START - rng.integers(1, 200, 200) * DAY,
        }
    )
    shard.to_parquet(root / "shard.parquet", index=False)
    return {
        "root": root,
        "items": items,
        "index": root / "index",
        "model": model_dir,
        "encoder": encoder,
        "shards": [root / "shard.parquet"],
        "semid_samples": write_samples(root / "semid.parquet", "semid", items, sids, 10, 1),
        "title_samples": write_samples(root / "title.parquet", "title", items, sids, 6, 2),
    }
