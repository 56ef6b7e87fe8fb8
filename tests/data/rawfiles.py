"""Helpers to write small raw files in the Amazon Reviews 2023 download format."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from mmgrid.periods import date_to_ms

HEADER = "user_id,parent_asin,rating,timestamp"


def ms(date: str, hours: int = 0) -> int:
    return date_to_ms(date) + hours * 3_600_000


def write_ratings(path: Path, rows: Iterable[Sequence[object]], header: str = HEADER) -> Path:
    lines = [header, *(",".join(map(str, r)) for r in rows)]
    with gzip.open(path, "wt") as f:
        f.write("\n".join(lines) + "\n")
    return path


def write_meta(
    path: Path, items: dict[str, tuple[str, list[str]]], extra_lines: Sequence[str] = ()
) -> Path:
    with gzip.open(path, "wt") as f:
        for asin, (title, description) in items.items():
            obj = {
                "main_category": "Books",
                "title": title,
                "description": description,
                "parent_asin": asin,
            }
            f.write(json.dumps(obj) + "\n")
        for line in extra_lines:
            f.write(line + "\n")
    return path


def byte_tokenizer(path: Path) -> Path:
    """A byte-level ``tokenizer.json`` without merges (one token per byte), for hand-counted
    token cuts."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    tokenizer = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.save(str(path))
    return path
