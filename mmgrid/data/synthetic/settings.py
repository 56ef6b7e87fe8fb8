"""Settings of the synthetic generator and their resolution from the ``data.synthetic`` config.

Every field of :class:`SyntheticSettings` is a config key, global or per domain under
``domains: {Domain: {key: value}}``; unknown keys, wrong types and out-of-range values raise
:class:`~mmgrid.errors.InputError` naming the key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from mmgrid.data.synthetic.profiles import known_profiles, load_profile
from mmgrid.errors import InputError
from mmgrid.settings import from_mapping

KNOWN_DOMAINS: tuple[str, ...] = known_profiles()
"""Domains with a built-in vocabulary and defaults (other names need ``profile``)."""


@dataclass(frozen=True)
class SyntheticSettings:
    """Sizes and knobs of one synthetic domain; the defaults are the small default data set.

    The default (2,000 users, 1,500 items, 18 interactions per user) writes ~21-24k
    interactions from ~1,650 users on ~950-1,050 items after the 5-core cut (seed 0). That
    leaves 160-300 users whose last interaction falls in the test window (queries to evaluate)
    and ~430-1,200 interactions in each 3-month phase window (the incremental training data),
    while a whole 4-domain pipeline with LLM training still fits in minutes on 2 CPU cores.
    """

    n_users: int = 2000
    """Users simulated (users falling out of the core are not written)."""
    n_items: int = 1500
    """Catalogue size: every item gets a meta record; rarely chosen ones miss the 5-core."""
    mean_interactions: float = 18.0
    """Mean interactions per user before range clipping, de-duplication and the core cut."""
    activity_sigma: float = 1.0
    """Lognormal sigma of per-user activity above the core minimum (heavier tail = larger)."""
    item_popularity_sigma: float = 1.3
    """Lognormal sigma of item appeal (heavier-tailed item popularity = larger)."""
    taste_concentration: float = 0.1
    """Dirichlet concentration per topic of user tastes (smaller = fewer topics per user)."""
    user_span_days: float = 540.0
    """Median length of a user's active span, in days."""
    visit_size: float = 1.0
    """Mean interactions per visit: a user's interactions come in round(count / visit_size)
    visits at uniform times of their span, each spread over about ``visit_days`` (1 = every
    interaction at its own uniform time). Real users come back in visits, so most users of one
    quarter were not active in the previous one."""
    visit_days: float = 7.0
    """Standard deviation of an interaction's time around its visit, in days."""
    start: str = "2017-01-01"
    """First day of interactions (ISO date, UTC); before the study's 2017-07-01 cut."""
    end: str = "2023-07-01"
    """Day after the last interaction (ISO date, UTC); after the study's 2023-04-01 end."""
    catalogue_years: float = 6.0
    """Back-catalogue items are released uniformly in this many years before ``start``."""
    seasonality: float = 0.15
    """Relative amplitude of the yearly volume cycle (peak mid-December)."""
    core: int = 5
    """Minimum interactions per user and per item in the written file (iterative k-core)."""
    empty_title_rate: float = 0.003
    """Share of meta records written with an empty title (real files have a few)."""
    series_share: float = 0.5
    """Share of catalogue items that belong to a series (books of a saga, seasons, sequels,
    product generations): members share a name and topic and are released one after another."""
    series_length: float = 3.0
    """Mean number of items per series (at least 2)."""
    continuation: float = 0.4
    """Probability that a user's next interaction is the next released member of the series of
    their previous item (when there is one they have not had): the sequential signal."""
    burst_rate: float = 0.5
    """Expected popularity bursts per item and year after its release (promotions, deals, media
    tie-ins); 0 = none. A burst is transient: it fades within weeks, so a period's hot items
    are partly not the next period's (what a model trained on the latest period over-fits)."""
    burst_boost: float = 10.0
    """An item's choice weight at a burst's start, as a multiple of its usual weight, minus 1."""
    burst_days: float = 20.0
    """e-folding time of a burst's boost, in days."""
    recency: float | None = None
    """Recency knob in [0, 1]; None = the profile's default."""
    volume_trend: float | None = None
    """Yearly log-growth of interaction volume; None = the profile's default."""
    profile: str | None = None
    """Built-in profile (vocabulary and defaults) to use; None = the domain's own name."""


_POSITIVE = (
    "n_users",
    "n_items",
    "mean_interactions",
    "user_span_days",
    "catalogue_years",
    "burst_days",
    "visit_days",
)
_NON_NEGATIVE = (
    "activity_sigma",
    "item_popularity_sigma",
    "seasonality",
    "burst_rate",
    "burst_boost",
)


def _validate(s: SyntheticSettings, where: str) -> None:
    """Raise InputError naming ``where``.key for any out-of-range setting."""
    for key in _POSITIVE:
        if not getattr(s, key) > 0:
            raise InputError(f"{where}.{key} must be > 0, got {getattr(s, key)!r}")
    for key in _NON_NEGATIVE:
        if not getattr(s, key) >= 0:
            raise InputError(f"{where}.{key} must be >= 0, got {getattr(s, key)!r}")
    if not s.taste_concentration > 0:
        raise InputError(f"{where}.taste_concentration must be > 0, got {s.taste_concentration!r}")
    if s.seasonality >= 1:
        raise InputError(f"{where}.seasonality must be < 1, got {s.seasonality!r}")
    if not 1 <= s.core <= 1000:
        raise InputError(f"{where}.core must be in [1, 1000], got {s.core!r}")
    if not 0 <= s.empty_title_rate < 1:
        raise InputError(f"{where}.empty_title_rate must be in [0, 1), got {s.empty_title_rate!r}")
    for key in ("series_share", "continuation"):
        if not 0 <= getattr(s, key) <= 1:
            raise InputError(f"{where}.{key} must be in [0, 1], got {getattr(s, key)!r}")
    if not s.visit_size >= 1:
        raise InputError(f"{where}.visit_size must be >= 1, got {s.visit_size!r}")
    if not s.series_length >= 2:
        raise InputError(f"{where}.series_length must be >= 2, got {s.series_length!r}")
    if s.recency is not None and not 0 <= s.recency <= 1:
        raise InputError(f"{where}.recency must be in [0, 1], got {s.recency!r}")
    if s.volume_trend is not None and not -2 <= s.volume_trend <= 2:
        raise InputError(f"{where}.volume_trend must be in [-2, 2], got {s.volume_trend!r}")
    if s.profile is not None and s.profile not in KNOWN_DOMAINS:
        raise InputError(
            f"{where}.profile: unknown profile {s.profile!r}; use one of {', '.join(KNOWN_DOMAINS)}"
        )
    for key in ("start", "end"):
        try:
            np.datetime64(getattr(s, key), "D")
        except ValueError:
            raise InputError(
                f"{where}.{key} must be an ISO date like 2017-01-01, got {getattr(s, key)!r}"
            ) from None
    if np.datetime64(s.end, "D") - np.datetime64(s.start, "D") < np.timedelta64(60, "D"):
        raise InputError(f"{where}: end ({s.end}) must be at least 60 days after start ({s.start})")


def settings_from_config(cfg: Mapping[str, Any], domain: str) -> SyntheticSettings:
    """Resolve the ``data.synthetic`` config section for ``domain``.

    ``cfg`` holds global keys (any :class:`SyntheticSettings` field) and optionally
    ``domains: {Domain: {key: value}}`` with per-domain overrides. The result has ``recency``,
    ``volume_trend`` and ``profile`` filled in from the domain's profile where not set, so it
    names everything that affects the output. A domain outside :data:`KNOWN_DOMAINS` must set
    ``profile`` to the built-in profile whose vocabulary it borrows.
    """
    cfg = dict(cfg or {})
    domains = cfg.pop("domains", None) or {}
    if not isinstance(domains, Mapping):
        raise InputError("data.synthetic.domains must be a mapping {Domain: {key: value}}")
    settings = from_mapping(SyntheticSettings, cfg, "data.synthetic")
    _validate(settings, "data.synthetic")
    for name, section in domains.items():  # every section, so a typo fails on any domain's run
        where = f"data.synthetic.domains.{name}"
        if not isinstance(section, Mapping):
            raise InputError(f"{where} must be a mapping of settings")
        merged = from_mapping(SyntheticSettings, {**cfg, **section}, where)
        _validate(merged, where)  # the global keys passed above: an error names the override
        if name == domain:
            settings = merged
    profile_name = settings.profile or domain
    if profile_name not in KNOWN_DOMAINS:
        raise InputError(
            f"data.synthetic: no built-in profile for domain {domain!r}; known domains are "
            f"{', '.join(KNOWN_DOMAINS)}. For another name set "
            f"data.synthetic.domains.{domain}.profile to one of them."
        )
    profile = load_profile(profile_name)
    return dataclasses.replace(
        settings,
        profile=profile_name,
        recency=profile.recency if settings.recency is None else settings.recency,
        volume_trend=profile.volume_trend
        if settings.volume_trend is None
        else settings.volume_trend,
    )
