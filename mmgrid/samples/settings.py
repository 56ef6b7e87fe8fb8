"""Settings of the ``samples:`` config section."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mmgrid.errors import InputError
from mmgrid.samples.prompts import WORDINGS
from mmgrid.settings import from_mapping, require_at_least


@dataclass(frozen=True)
class SampleSettings:
    """How training and test samples are cut from the user sequences (defaults = the study's)."""

    max_history: int = 30
    """History items shown in a prompt (the most recent ones)."""
    min_history: int = 4
    """A training target needs at least this many earlier interactions (test targets need none)."""
    first_period_max_per_user: int = 5
    """At most this many training samples per user in the first training period (random, seeded)."""
    later_max_per_user: int | None = None
    """Cap per user in later periods; null = every eligible interaction."""
    eval_max_users: int = 5000
    """Test users kept per domain (random sample with a fixed seed when there are more)."""
    history_description_chars: int | None = None
    """Characters of each history item's description shown in title prompts; null = all, 0 = none."""
    aux_tasks: bool = True
    """semid: add one auxiliary alignment sample (SID history -> title, or text history -> SID) per sample."""
    item_corpus: bool = True
    """semid: add the item-level index<->text conversations (groups of items, with examples)."""
    item_group_size: int = 5
    """Items per item-corpus conversation."""
    item_examples: int = 5
    """Examples (from outside the group) shown at the start of an item-corpus conversation."""
    later_item_corpus_share: float = 0.1
    """Share of the item corpus used in later periods (the first period uses all of it)."""
    prompt_wording: str = "mmgrid"
    """``mmgrid``, ``study`` (the study's prompt text exactly) or ``short`` (a one-line next-item
    instruction, for CPU budgets); see :mod:`mmgrid.samples.prompts`."""


def settings_from_config(cfg: Mapping[str, Any] | None) -> SampleSettings:
    """Validate the ``samples:`` section."""
    s = from_mapping(SampleSettings, cfg, "samples")
    positive = ("max_history", "first_period_max_per_user", "eval_max_users", "item_group_size")
    require_at_least(s, positive, 1, "samples")
    if s.min_history < 1 or s.min_history > s.max_history:
        raise InputError("config key 'samples.min_history' must be in [1, samples.max_history]")
    for name in ("later_max_per_user", "history_description_chars"):
        value = getattr(s, name)
        low = 1 if name == "later_max_per_user" else 0
        if value is not None and value < low:
            raise InputError(f"config key 'samples.{name}' must be >= {low} or null, got {value}")
    if s.item_examples < 0:
        raise InputError(f"config key 'samples.item_examples' must be >= 0, got {s.item_examples}")
    if s.prompt_wording not in WORDINGS:
        raise InputError(
            f"config key 'samples.prompt_wording' must be one of {', '.join(WORDINGS)}, "
            f"got {s.prompt_wording!r}"
        )
    if not 0.0 <= s.later_item_corpus_share <= 1.0:
        raise InputError("config key 'samples.later_item_corpus_share' must be in [0, 1]")
    return s
