"""The study a config describes: :class:`Study`, built once by :meth:`Study.from_config`."""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from mmgrid.errors import InputError
from mmgrid.items.settings import index_build_settings
from mmgrid.merge.grid_job import GridMergeParams
from mmgrid.paradigms import PARADIGMS, Paradigm
from mmgrid.periods import Period, evaluation_period, periods_from_config, training_periods
from mmgrid.settings import JobParams, to_plain
from mmgrid.study.canonical import canonical_config
from mmgrid.study.cells import Cell, grid_cells
from mmgrid.study.config import load_config_files, validate_schema
from mmgrid.study.evaluated import EvaluatedModel, evaluated_models, evaluation_batches
from mmgrid.study.jobs import (
    AnalysisJob,
    BaseJob,
    BaselinesJob,
    DataSummaryJob,
    IndexJob,
    IngestJob,
    ManifestJob,
    SamplesJob,
    SyntheticJob,
)
from mmgrid.study.layout import POOLED, Layout
from mmgrid.study.merges import MergeJob, merge_jobs
from mmgrid.study.settings import JOB_GROUPS, StudySettings, study_settings

NAME_PATTERN = "[A-Za-z0-9_.+-]+"
"""Merge specs and model names (wildcards are constrained to it)."""


def alternatives(values: Sequence[str]) -> str:
    """A wildcard constraint matching exactly the given names (none: nothing)."""
    return "|".join(re.escape(v) for v in values)


class Study:
    """Everything a config determines, computed when the workflow is parsed.

    - ``config``: the config in canonical form, defaults filled in;
    - ``settings``: every section's validated settings (:mod:`.settings`);
    - ``paths``: where every artefact lives (:mod:`.layout`);
    - ``periods``, ``test_period``, ``training_periods``;
    - ``cells``: the training jobs and their chain (:mod:`.cells`);
    - ``merges``: every merged model (:mod:`.merges`);
    - ``models`` and ``batches``: every evaluated model and the evaluation jobs (:mod:`.evaluated`);
    - the inputs and the typed params of every job (``*_inputs``, ``*_job``).
    - the job groups of cluster runs (``job_group``, ``evaluation_group``).

    The rules (``rules/common.smk``) are a thin adapter over it; ``mmgrid check-config`` and
    ``mmgrid estimate`` build the same object.
    """

    def __init__(
        self,
        config: dict[str, Any],
        settings: StudySettings,
        paths: Layout,
        periods: Sequence[Period],
        test_period: Period,
        cells: Sequence[Cell],
        merges: Sequence[MergeJob],
    ) -> None:
        self.config = config
        self.settings = settings
        self.paths = paths
        self.seed: int = config["seed"]
        self.domains: tuple[str, ...] = tuple(config["domains"])
        self.paradigms: tuple[str, ...] = tuple(config["paradigms"])
        self.periods = tuple(periods)
        self.test_period = test_period
        self.training_periods = tuple(p for p in periods if p.name != test_period.name)
        self.cells = tuple(cells)
        self._cells = {c.key: c for c in cells}
        self.merges = {(j.paradigm, j.name): j for j in merges}
        self.models: tuple[EvaluatedModel, ...] = tuple(evaluated_models(paths, cells, merges))
        self.batches = evaluation_batches(self.models)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Study:
        """Validate ``config`` completely (schema, every section, every cross-key check and the
        merges); an error is an :class:`InputError` naming the config key."""
        config = copy.deepcopy(dict(config))
        validate_schema(config)
        config = canonical_config(config)
        periods = periods_from_config(config)
        test = evaluation_period(config)
        names = [p.name for p in training_periods(config)]
        cells = grid_cells(config["paradigms"], config["domains"], names, config["chain_start"])
        settings = study_settings(config, periods, names, [c.key for c in cells])
        data = config["data"]
        paths = Layout(
            raw_dir=data["raw_dir"] if data["source"] != "synthetic" else None,
            base_llm=settings.base.path,
        )
        merges = merge_jobs(config, paths, names, config["domains"])
        return cls(config, settings, paths, periods, test, cells, merges)

    @classmethod
    def from_config_files(cls, paths: Sequence[str | os.PathLike[str]]) -> Study:
        """The study of config files read strictly and merged as Snakemake merges them."""
        return cls.from_config(load_config_files(paths))

    # -- the grid --------------------------------------------------------------------------
    def paradigm(self, name: str) -> Paradigm:
        return PARADIGMS[name]

    def period(self, name: str) -> Period:
        return next(p for p in self.periods if p.name == name)

    @property
    def sample_paradigms(self) -> list[str]:
        """The paradigms whose cells train on samples files."""
        return [p for p in self.paradigms if PARADIGMS[p].trains_on_samples]

    @property
    def base_paradigms(self) -> list[str]:
        """The paradigms whose chain starts from their own base, built from the base LLM."""
        return [p for p in self.paradigms if PARADIGMS[p].base_job(self) is not None]

    def cell(self, paradigm: str, domain: str, period: str) -> Cell:
        try:
            return self._cells[(paradigm, domain, period)]
        except KeyError:
            raise InputError(
                f"{self.paths.checkpoint(paradigm, domain, period)}: no such cell in config"
            ) from None

    def init_dir(self, cell: Cell) -> str:
        """The chain rule: where ``cell`` starts (its paradigm's base or, with ``chain_start:
        pooled``, the pooled task base; later periods the previous period's checkpoint of its
        domain)."""
        if cell.from_pooled:
            return self.paths.checkpoint(cell.paradigm, POOLED, cell.period)
        if cell.previous is None:
            return PARADIGMS[cell.paradigm].base_dir(self.paths)
        return self.paths.checkpoint(cell.paradigm, cell.domain, cell.previous)

    def merge(self, paradigm: str, spec: str) -> MergeJob:
        try:
            return self.merges[(paradigm, spec)]
        except KeyError:
            raise InputError(
                f"{self.paths.merged(paradigm, spec)}: no such merge in config (see `merges:`)"
            ) from None

    def wildcard_constraints(self) -> dict[str, str]:
        """The rules' wildcard constraints, built from the config."""
        return {
            "domain": alternatives(self.domains),
            "period": alternatives([p.name for p in self.periods]),
            "paradigm": alternatives(self.paradigms),
            "spec": NAME_PATTERN,
            "model": NAME_PATTERN,
        }

    @property
    def gpus_per_job(self) -> int:
        return self.config["gpus_per_job"]

    @property
    def gpu_job_resources(self) -> dict[str, Any]:
        """Extra resources of GPU jobs (e.g. a SLURM partition): evaluation rules are generated
        per batch, so a profile's per-rule settings could not name them all."""
        return dict(self.config["gpu_job_resources"]) if self.gpus_per_job else {}

    def job_group(self, stage: str) -> str | None:
        """The Snakemake group of a stage's jobs (one of :data:`~.settings.JOB_GROUPS`): the
        stage's name when config key ``job_groups`` lists it."""
        if stage not in JOB_GROUPS:
            raise ValueError(f"no job group {stage!r} (known: {', '.join(JOB_GROUPS)})")
        return stage if stage in self.settings.job_groups else None

    def evaluation_group(self, paradigm: str, batch: str) -> str | None:
        """The group of an evaluation batch: a batch of cells or of the pooled base runs with
        their training, a merge family's with its merges."""
        trained = all(m.kind in ("cell", POOLED) for m in self.batches[(paradigm, batch)])
        return self.job_group("train" if trained else "merges")

    # -- inputs ----------------------------------------------------------------------------
    def ingest_inputs(self, domain: str) -> dict[str, str]:
        """The raw files (generated under results/raw/, or the user's downloads), and the base
        LLM's tokenizer when descriptions are cut in tokens."""
        inputs = self.paths.raw_files(domain)
        if self.settings.ingest.description_max_tokens is not None:
            inputs["tokenizer"] = f"{self.paths.base_llm}/tokenizer.json"
        return inputs

    def shards_until(self, domain: str, period: str) -> list[str]:
        """A domain's shards up to ``period`` (later data cannot change what is built from it)."""
        end = self.period(period).end_ms
        return [self.paths.shard(domain, p.name) for p in self.periods if p.start_ms < end]

    def samples_inputs(self, paradigm: str, domain: str, period: str) -> dict[str, Any]:
        return PARADIGMS[paradigm].samples_inputs(self, domain, period)

    def train_inputs(self, paradigm: str, domain: str, period: str) -> dict[str, Any]:
        """The cell's initial checkpoint and what it trains on."""
        cell = self.cell(paradigm, domain, period)
        return {"init": self.init_dir(cell), **PARADIGMS[paradigm].train_inputs(self, cell)}

    def baseline_inputs(self, domain: str) -> dict[str, Any]:
        """A domain's shards up to its test window, and its item table."""
        return {
            "shards": self.shards_until(domain, self.test_period.name),
            "item_table": self.paths.item_table(domain),
        }

    def merge_inputs(self, paradigm: str, spec: str) -> dict[str, Any]:
        """The checkpoints a merge reads (and, to copy semantic-ID rows, the paradigm's base)."""
        job = self.merge(paradigm, spec)
        inputs: dict[str, Any] = {"cells": [path for _, path, _ in job.inputs]}
        if job.reference:
            inputs["reference"] = job.reference
        if job.sid_rows_from:
            inputs["sid_base"] = PARADIGMS[paradigm].base_dir(self.paths)
        return inputs

    def batch_inputs(self, paradigm: str, batch: str) -> dict[str, list[str]]:
        """The models of one evaluation batch and the files of the domains they serve."""
        models = self.batches[(paradigm, batch)]
        inputs: dict[str, list[str]] = {"models": [m.path for m in models]}
        for domain in sorted({d for m in models for d in m.domains}):
            files = to_plain(PARADIGMS[paradigm].evaluation_inputs(self, domain))
            for key, value in files.items():
                inputs.setdefault(key, []).extend([value] if isinstance(value, str) else value)
        return inputs

    # -- job params ------------------------------------------------------------------------
    def synthetic_job(self, domain: str) -> SyntheticJob:
        return SyntheticJob(self.settings.synthetic[domain], self.seed)

    def ingest_job(self) -> IngestJob:
        return IngestJob(self.settings.ingest)

    def data_summary_job(self) -> DataSummaryJob:
        return DataSummaryJob(self.periods, max(self.settings.ingest.recency_days))

    def base_job(self) -> BaseJob:
        return BaseJob(self.settings.base, self.seed, self.config["device"])

    def paradigm_base_job(self, paradigm: str) -> JobParams:
        job = PARADIGMS[paradigm].base_job(self)
        if job is None:
            raise InputError(f"paradigm {paradigm} starts from the base LLM; it builds no base")
        return job

    def index_job(self) -> IndexJob:
        return IndexJob(index_build_settings(self.settings.index), self.seed)

    def samples_job(self, paradigm: str, domain: str, period: str) -> SamplesJob:
        return SamplesJob(
            paradigm=paradigm,
            domain=domain,
            period=self.period(period),
            settings=self.settings.samples,
            is_test=period == self.test_period.name,
            is_first=period == self.training_periods[0].name,
            seed=self.seed,
        )

    def train_job(self, paradigm: str, domain: str, period: str) -> JobParams:
        return PARADIGMS[paradigm].train_job(self, self.cell(paradigm, domain, period))

    def merge_job(self, paradigm: str, spec: str) -> GridMergeParams:
        return self.merge(paradigm, spec).params(self.config["merge_chunk_elems"])

    def batch_job(self, paradigm: str, batch: str) -> JobParams:
        return PARADIGMS[paradigm].batch_job(self, self.batches[(paradigm, batch)])

    def baselines_job(self) -> BaselinesJob:
        return BaselinesJob(
            test_period=self.test_period,
            popularity_period=self.training_periods[-1],
            max_users=self.settings.samples.eval_max_users,
            k=tuple(sorted(self.settings.evaluate.k)),
            seed=self.seed,
        )

    def baseline_records(self) -> list[dict[str, Any]]:
        """The analysis records of the baselines (each is evaluated on every domain)."""
        from mmgrid.evaluate.baselines import BASELINES, PARADIGM

        return [
            {"paradigm": PARADIGM, "model": name, "kind": "baseline", "domains": list(self.domains)}
            for name in BASELINES
        ]

    def analysis_job(self) -> AnalysisJob:
        return AnalysisJob(
            models=(*(m.record() for m in self.models), *self.baseline_records()),
            settings=self.settings.analysis,
            seed=self.seed,
            metrics_root=self.paths.metrics_root,
            items_dir=self.paths.items_dir,
            stats_dir=self.paths.stats_dir,
        )

    def manifest_job(self, source_dir: str) -> ManifestJob:
        return ManifestJob(self.config, source_dir)

    # -- outputs ---------------------------------------------------------------------------
    def data_outputs(self) -> list[str]:
        """Every artefact of the data layer."""
        p = self.paths
        return [
            *(p.shard(d, t.name) for d in self.domains for t in self.periods),
            *(p.item_table(d) for d in self.domains),
            *(p.stats(d) for d in self.domains),
            p.domain_stats_table,
            p.interaction_ratio_figure,
        ]

    def grid_outputs(self) -> list[str]:
        """Every artefact of the grid: base, paradigm bases, item indexes, samples, cells."""
        p = self.paths
        return [
            *([] if self.settings.base.path else [p.built_base_llm]),
            *(PARADIGMS[name].base_dir(p) for name in self.base_paradigms),
            *(p.item_index(d) for d in self.domains),
            *(
                p.samples(name, d, t.name)
                for name in self.sample_paradigms
                for d in self.domains
                for t in self.periods
            ),
            *(p.checkpoint(*c.key) for c in self.cells),
        ]

    def merged_outputs(self) -> list[str]:
        return [self.paths.merged(paradigm, name) for paradigm, name in sorted(self.merges)]

    def metric_outputs(self) -> list[str]:
        """Every model's metrics directory and every baseline's files."""
        return [
            *(m.metrics_dir for m in self.models),
            *(f for d in self.domains for f in self.paths.baseline_files(d).values()),
        ]

    def analysis_outputs(self) -> list[str]:
        """Every table, regression file and figure of the analysis."""
        return [str(path) for path in self.paths.analysis().paths()]

    def outputs(self) -> list[str]:
        """Every artefact of the run (what the manifest lists)."""
        return [
            *self.data_outputs(),
            *self.grid_outputs(),
            *self.merged_outputs(),
            *self.metric_outputs(),
            *self.analysis_outputs(),
        ]


__all__ = ["POOLED", "Study"]
