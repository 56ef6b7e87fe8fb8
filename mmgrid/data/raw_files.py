"""Names of the raw Amazon Reviews 2023 files of a domain (shared by the real and synthetic sources)."""

from __future__ import annotations

from pathlib import Path


def ratings_path(raw_dir: str | Path, domain: str) -> Path:
    """The 5-core rating-only CSV of ``domain``: ``{raw_dir}/{domain}.csv.gz``."""
    return Path(raw_dir) / f"{domain}.csv.gz"


def meta_path(raw_dir: str | Path, domain: str) -> Path:
    """The item metadata of ``domain``: ``{raw_dir}/meta_{domain}.jsonl.gz``."""
    return Path(raw_dir) / f"meta_{domain}.jsonl.gz"
