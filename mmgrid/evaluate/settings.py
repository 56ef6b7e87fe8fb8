"""Settings of the ``evaluate:`` config section (decoding, grounding and metrics)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from mmgrid.device import DEVICES
from mmgrid.errors import InputError
from mmgrid.evaluate.backends import check_backend
from mmgrid.evaluate.metrics import check_cutoffs
from mmgrid.periods import date_to_ms
from mmgrid.settings import from_mapping, require_at_least

TITLE_MODES = ("sample", "beam")


@dataclasses.dataclass(frozen=True)
class PopularitySettings:
    """The study's popularity rescale of title-mode distances (see :mod:`.grounding`)."""

    enabled: bool = True
    """Divide distances by the popularity coefficient (the study does)."""
    half_life_days: float = 30.0
    """Half-life of an interaction's weight, in days (study: 30)."""
    gamma: float = 0.25
    """Exponent of the coefficient (study: 0.25)."""
    reference_date: str | None = None
    """``YYYY-MM-DD``: only interactions before it count; null = the test window's start."""


@dataclasses.dataclass(frozen=True)
class EvalSettings:
    """How a model is decoded and scored on one domain's test prompts."""

    k: tuple[int, ...] = (5, 10, 20)
    """Cut-offs of Recall/NDCG/MRR."""
    beams: int = 20
    """semid: beam width of the trie-constrained beam search = length of the ranked list."""
    title_mode: str = "sample"
    """title: ``sample`` (the study) or ``beam`` search."""
    samples: int = 5
    """title: generations per prompt (samples, or returned beams in beam mode)."""
    temperature: float = 0.6
    """title: sampling temperature (no top-k / top-p truncation, as in the study)."""
    max_new_tokens: int = 32
    """title: token budget of a generated title; generation also stops at a newline."""
    batch_size: int = 16
    """Prompts per generate call."""
    popularity: PopularitySettings = dataclasses.field(default_factory=PopularitySettings)
    device: str = "auto"
    """``auto`` (CUDA when present), ``cpu`` or ``cuda``."""
    encoder_batch_size: int = 256
    """Generated titles per text-encoder forward pass."""
    backend: str = "static"
    """Decoding backend (mmgrid.evaluate.backends): ``static`` (decoding loops on a static
    key/value cache, the trie as tables) or ``generate`` (transformers' ``generate``); same
    rankings and samples up to ties."""
    compile: bool = False
    """``static`` backend: decode through ``torch.compile`` (CUDA graphs on a GPU)."""

    def reference_ms(self, default_ms: int | None) -> int | None:
        """The popularity reference time in ms: the configured date, else ``default_ms``."""
        if self.popularity.reference_date is None:
            return default_ms
        return date_to_ms(self.popularity.reference_date, "evaluate.popularity.reference_date")


_POSITIVE_INTS = ("beams", "samples", "max_new_tokens", "batch_size", "encoder_batch_size")


def settings_from_config(cfg: Mapping[str, Any] | None) -> EvalSettings:
    """Validate the ``evaluate:`` section (missing keys take defaults) and return the settings."""
    settings = from_mapping(EvalSettings, cfg, "evaluate")
    check_cutoffs(settings.k)
    require_at_least(settings, _POSITIVE_INTS, 1, "evaluate")
    if settings.title_mode not in TITLE_MODES:
        raise InputError(
            f"config key 'evaluate.title_mode' must be one of {', '.join(TITLE_MODES)}, "
            f"got {settings.title_mode!r}"
        )
    check_backend(settings.backend)
    if settings.temperature <= 0:
        raise InputError(
            f"config key 'evaluate.temperature' must be > 0, got {settings.temperature}"
        )
    if settings.device not in DEVICES and not settings.device.startswith("cuda:"):
        raise InputError(
            f"config key 'evaluate.device' must be one of {', '.join(DEVICES)} (or cuda:N), "
            f"got {settings.device!r}"
        )
    popularity = settings.popularity
    if popularity.half_life_days <= 0:
        raise InputError(
            "config key 'evaluate.popularity.half_life_days' must be > 0, "
            f"got {popularity.half_life_days}"
        )
    settings.reference_ms(None)  # validates the date
    return settings
