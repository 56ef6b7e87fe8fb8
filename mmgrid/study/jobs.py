"""The typed, frozen params of each rule kind that is not a paradigm's or a merge's.

Each is what its job needs and nothing else, so that Snakemake reruns a job exactly when
something that determines its output changed (``to_params()`` is the rule's JSON ``job``
param; the job script calls ``from_params``). The paradigms define the params of their base,
training and evaluation jobs (:mod:`mmgrid.paradigms`); a merge's are
:class:`mmgrid.merge.grid_job.GridMergeParams`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mmgrid.analysis.settings import AnalysisSettings
from mmgrid.data.ingest import IngestSettings
from mmgrid.data.synthetic.settings import SyntheticSettings
from mmgrid.items.settings import IndexSettings
from mmgrid.models.settings import BaseSettings
from mmgrid.periods import Period
from mmgrid.samples.settings import SampleSettings
from mmgrid.settings import JobParams


@dataclass(frozen=True)
class SyntheticJob(JobParams):
    """Rule ``synthetic_domain``: one domain's raw files from the generator."""

    settings: SyntheticSettings
    seed: int


@dataclass(frozen=True)
class IngestJob(JobParams):
    """Rule ``ingest``: one domain's raw files into period shards, item table and statistics
    (the same settings for every domain)."""

    settings: IngestSettings


@dataclass(frozen=True)
class DataSummaryJob(JobParams):
    """Rule ``data_summary``: the statistics table and the interaction-ratio figure."""

    periods: tuple[Period, ...]
    recency_days: int


@dataclass(frozen=True)
class BaseJob(JobParams):
    """Rule ``base``: the tokenizer and the tiny base LLM pre-trained on every domain's items."""

    settings: BaseSettings
    seed: int
    device: str


@dataclass(frozen=True)
class IndexJob(JobParams):
    """Rule ``item_index``: one domain's item embeddings and semantic IDs."""

    settings: IndexSettings
    seed: int


@dataclass(frozen=True)
class SamplesJob(JobParams):
    """Rule ``samples``: the samples of one (paradigm, domain, period) cell."""

    paradigm: str
    domain: str
    period: Period
    settings: SampleSettings
    is_test: bool
    """The test window: one prompt per test user, no answer."""
    is_first: bool
    """The first training period (its own cap on samples per user)."""
    seed: int


@dataclass(frozen=True)
class BaselinesJob(JobParams):
    """Rule ``baselines``: MostPop and Random on one domain's test users."""

    test_period: Period
    popularity_period: Period
    """The period whose interactions rank MostPop (the last training period)."""
    max_users: int
    k: tuple[int, ...]
    seed: int


@dataclass(frozen=True)
class AnalysisJob(JobParams):
    """Rule ``analysis``: the study's tables, optimal weights, regression and figures."""

    models: tuple[Mapping[str, Any], ...]
    """The record of every evaluated model (:meth:`~mmgrid.study.evaluated.EvaluatedModel.record`)."""
    settings: AnalysisSettings
    seed: int
    metrics_root: str
    items_dir: str
    stats_dir: str


@dataclass(frozen=True)
class ManifestJob(JobParams):
    """Rule ``manifest``: the canonical config and the checkout it ran from (provenance)."""

    config: Mapping[str, Any]
    source_dir: str
