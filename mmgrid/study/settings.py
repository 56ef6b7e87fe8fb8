"""The validated settings of every config section, and the checks that span sections.

Each stage owns the dataclass of its section (``mmgrid/{stage}/settings.py``) and validates it;
:func:`study_settings` builds them all from the canonical config and adds the checks that
involve more than one section. Every error is an :class:`~mmgrid.errors.InputError` naming the
config key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mmgrid.analysis.settings import AnalysisSettings
from mmgrid.analysis.settings import settings_from_config as analysis_settings
from mmgrid.data.ingest import IngestSettings
from mmgrid.errors import InputError
from mmgrid.evaluate.settings import EvalSettings
from mmgrid.evaluate.settings import settings_from_config as evaluate_settings
from mmgrid.hllm.settings import HllmSettings
from mmgrid.hllm.settings import settings_from_config as hllm_settings
from mmgrid.items.settings import IndexSettings
from mmgrid.items.settings import settings_from_config as index_settings
from mmgrid.models.settings import BaseSettings
from mmgrid.models.settings import settings_from_config as base_settings
from mmgrid.periods import Period
from mmgrid.samples.settings import SampleSettings
from mmgrid.samples.settings import settings_from_config as samples_settings
from mmgrid.train.settings import CellTrainSettings, cell_settings, validate_scopes

CellKey = tuple[str, str, str]
"""(paradigm, domain or ``pooled``, period) of a training cell."""

JOB_GROUPS = ("data", "train", "merges")
"""The stages whose jobs can run as Snakemake job groups on a cluster (config key ``job_groups``):
a domain's data jobs, a training chain with the evaluation of its cells, a merge family's merges
with their evaluation."""


@dataclass(frozen=True)
class StudySettings:
    """Every section's settings (per domain or per cell where the config resolves them so)."""

    synthetic: Mapping[str, Any]
    """Per domain: its :class:`~mmgrid.data.synthetic.SyntheticSettings` (synthetic source)."""
    ingest: IngestSettings
    base: BaseSettings
    index: IndexSettings
    samples: SampleSettings
    hllm: HllmSettings
    train: Mapping[CellKey, CellTrainSettings]
    evaluate: EvalSettings
    analysis: AnalysisSettings
    job_groups: frozenset[str]
    """The stages of :data:`JOB_GROUPS` whose jobs run grouped on a cluster (local runs ignore
    groups; results do not depend on them)."""


def study_settings(
    config: Mapping[str, Any],
    periods: Sequence[Period],
    training: Sequence[str],
    cells: Sequence[CellKey],
) -> StudySettings:
    """Build and cross-check every section of the canonical ``config`` (defaults filled in);
    ``training`` names the training periods and ``cells`` the training cells."""
    domains, paradigms = list(config["domains"]), list(config["paradigms"])
    data = config["data"]
    if data["source"] == "amazon2023" and not data["raw_dir"]:
        raise InputError(
            "config key data.raw_dir: set it to the directory holding the Amazon Reviews 2023 "
            "files when data.source is amazon2023"
        )
    synthetic: dict[str, Any] = {}
    if data["source"] == "synthetic":
        from mmgrid.data.synthetic.settings import settings_from_config as synthetic_settings

        synthetic = {d: synthetic_settings(data["synthetic"], d) for d in domains}
    base = base_settings(config["base"])
    if base.path and not os.path.isdir(base.path):
        raise InputError(
            f"config key base.path: {base.path} is not a directory; download the model (config, "
            "safetensors weights, tokenizer) there first, or set base.path: null to build a tiny "
            "base"
        )
    if data["description_max_tokens"] is not None and not base.path:
        raise InputError(
            "config key data.description_max_tokens cuts descriptions with the base LLM's "
            "tokenizer, which needs base.path (a local model directory); the tiny base "
            "(base.path: null) is built from the ingested texts, after ingestion. Set base.path, "
            "or set data.description_max_tokens: null to cut at data.description_max_chars"
        )
    validate_scopes(config["train"], training, paradigms, [*domains, "pooled"])
    analysis = analysis_settings(config["analysis"])
    if analysis.recency_days is not None and analysis.recency_days not in data["recency_days"]:
        raise InputError(
            f"config key analysis.recency_statistic: {analysis.recency_statistic} needs "
            f"{analysis.recency_days} in data.recency_days (now {data['recency_days']})"
        )
    if analysis.recency_period is not None and analysis.recency_period not in training:
        raise InputError(
            f"config key analysis.recency_period: {analysis.recency_period!r} is not a training "
            f"period ({', '.join(training)})"
        )
    return StudySettings(
        synthetic=synthetic,
        ingest=IngestSettings(
            periods=tuple(periods),
            kcore=config["kcore"],
            description_max_chars=data["description_max_chars"],
            recency_days=tuple(sorted(data["recency_days"])),
            kcore_mode=data["kcore_mode"],
            description_max_tokens=data["description_max_tokens"],
            meta_text=data["meta_text"],
        ),
        base=base,
        index=index_settings(config["index"]),
        samples=samples_settings(config["samples"]),
        hllm=hllm_settings(config["hllm"]),
        train={cell: cell_settings(config["train"], *cell) for cell in cells},
        evaluate=evaluate_settings(config["evaluate"]),
        analysis=analysis,
        job_groups=frozenset(config["job_groups"]),
    )
