"""``hllm`` (semantic embeddings, HLLM-style): an item LLM embeds items, a user LLM predicts the
next item's embedding; InfoNCE training, full-catalogue cosine ranking (model code:
:mod:`mmgrid.hllm`).

The chain starts from the base LLM turned into item and user LLMs (``base/hllm``). A cell
trains on the full histories of the users active in its period, read from the period shards
and item tables (no samples files); evaluation ranks the evaluated domain's catalogue for the
same test users as the other paradigms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mmgrid.evaluate.settings import EvalSettings
from mmgrid.hllm.settings import HllmSettings
from mmgrid.paradigms.protocol import Inputs, Log, ModelToEvaluate, TrainingWork, files
from mmgrid.periods import Period
from mmgrid.settings import JobParams
from mmgrid.train.settings import CellTrainSettings

if TYPE_CHECKING:
    from pathlib import Path

    from mmgrid.study import Study
    from mmgrid.study.cells import Cell
    from mmgrid.study.evaluated import EvaluatedModel
    from mmgrid.study.layout import Layout


@dataclass(frozen=True)
class HllmBaseJob(JobParams):
    """The base LLM turned into an HLLM (its ``settings`` say which layers and prompt)."""

    settings: HllmSettings
    seed: int


@dataclass(frozen=True)
class HllmCellJob(JobParams):
    """Training one HLLM cell (or pooled task base) on a period's user sequences."""

    domain: str
    period: Period
    settings: CellTrainSettings
    hllm: HllmSettings
    seed: int


@dataclass(frozen=True)
class HllmDomainFiles(JobParams):
    """What evaluating on one domain reads: every period's shards (the test users' histories)
    and the item table (the catalogue)."""

    shards: tuple[str, ...]
    item_table: str


@dataclass(frozen=True)
class HllmBatchJob(JobParams):
    """Evaluating a batch of HLLM models (one evaluation job)."""

    settings: EvalSettings
    seed: int
    hllm: HllmSettings
    test_period: Period
    max_users: int | None
    """Test users per domain (None: all of them, ``hllm.eval_all_users``)."""
    domains: Mapping[str, HllmDomainFiles]
    models: tuple[ModelToEvaluate, ...]


class Hllm:
    name = "hllm"
    trains_on_samples = False
    semantic_ids = False

    def __repr__(self) -> str:
        return f"<paradigm {self.name}>"

    # -- base ------------------------------------------------------------------------------
    def base_dir(self, paths: Layout) -> str:
        return paths.paradigm_base(self.name)

    def base_job(self, study: Study) -> HllmBaseJob:
        return HllmBaseJob(study.settings.hllm, study.seed)

    def build_base(self, params: Mapping[str, Any], base_llm: str, out: str, log: Log) -> None:
        from mmgrid.hllm.checkpoint import build_hllm_base

        job = HllmBaseJob.from_params(params)
        build_hllm_base(base_llm, out, job.settings, job.seed, log=log)

    # -- training --------------------------------------------------------------------------
    def samples_inputs(self, study: Study, domain: str, period: str) -> dict[str, Any]:
        raise ValueError("hllm trains on the user sequences directly, not on samples files")

    def train_inputs(self, study: Study, cell: Cell) -> dict[str, list[str]]:
        return {
            "shards": [s for d in cell.members for s in study.shards_until(d, cell.period)],
            "item_tables": [study.paths.item_table(d) for d in cell.members],
        }

    def train_job(self, study: Study, cell: Cell) -> HllmCellJob:
        return HllmCellJob(
            domain=cell.domain,
            period=study.period(cell.period),
            settings=study.settings.train[cell.key],
            hllm=study.settings.hllm,
            seed=study.seed,
        )

    def train(
        self, params: Mapping[str, Any], inputs: Inputs, out: str, threads: int, log: Log
    ) -> None:
        from mmgrid.hllm.training import train_hllm_cell
        from mmgrid.seeding import derive_seed

        job = HllmCellJob.from_params(params)
        train_hllm_cell(
            inputs["init"],
            files(inputs, "shards"),
            files(inputs, "item_tables"),
            job.period,
            out,
            job.settings,
            job.hllm,
            derive_seed(job.seed, "hllm", job.domain, job.period.name),
            log=log,
            threads=threads,
        )

    # -- evaluation ------------------------------------------------------------------------
    def evaluation_inputs(self, study: Study, domain: str) -> HllmDomainFiles:
        return HllmDomainFiles(
            shards=tuple(study.paths.shard(domain, p.name) for p in study.periods),
            item_table=study.paths.item_table(domain),
        )

    def batch_job(self, study: Study, models: Sequence[EvaluatedModel]) -> HllmBatchJob:
        domains = sorted({d for m in models for d in m.domains})
        hllm = study.settings.hllm
        return HllmBatchJob(
            settings=study.settings.evaluate,
            seed=study.seed,
            hllm=hllm,
            test_period=study.test_period,
            max_users=None if hllm.eval_all_users else study.settings.samples.eval_max_users,
            domains={d: self.evaluation_inputs(study, d) for d in domains},
            models=tuple(ModelToEvaluate(m.path, m.domains, m.metrics_dir) for m in models),
        )

    def evaluate(self, params: Mapping[str, Any], threads: int, log: Log) -> None:
        """Draw each domain's test users once, exactly as the samples stage draws them (same
        seed for every paradigm, so every paradigm is scored on the same users); histories
        hold up to ``hllm.max_items`` items."""
        import torch

        from mmgrid.hllm.checkpoint import load_hllm
        from mmgrid.hllm.item_sequences import EvalCases, cases_from_shards
        from mmgrid.hllm.ranking import evaluate_hllm
        from mmgrid.paradigms.protocol import evaluate_each
        from mmgrid.samples.targets import evaluation_users_seed

        torch.set_num_threads(threads)
        job = HllmBatchJob.from_params(params)
        settings, hllm, test = job.settings, job.hllm, job.test_period
        cases: dict[str, EvalCases] = {}

        def on_domain(path: str, loaded: Any, domain: str, out: Path) -> Mapping[str, Any]:
            files_ = job.domains[domain]
            if domain not in cases:
                cases[domain] = cases_from_shards(
                    files_.shards,
                    test,
                    max_users=job.max_users,
                    max_history=hllm.max_items,
                    seed=evaluation_users_seed(job.seed, domain, test.name),
                )
            return evaluate_hllm(
                path,
                domain,
                cases[domain],
                files_.item_table,
                out,
                k=settings.k,
                seed=job.seed,
                settings=hllm,
                device=settings.device,
                log=log,
                loaded=loaded,
            )

        evaluate_each(job.models, lambda path: load_hllm(path, settings.device), on_domain, log)

    # -- estimate --------------------------------------------------------------------------
    def count_training(
        self, workspace: Any, cell: Cell, settings: CellTrainSettings, max_samples: int | None
    ) -> TrainingWork:
        """The cell's training sequences, cut as the job cuts them; a unit is a sequence."""
        from mmgrid.hllm.item_sequences import load_training_sequences, read_catalogue

        ws = workspace
        hllm = ws.study.settings.hllm
        catalogue = read_catalogue([ws.domain(d).items for d in cell.members])
        shards = [s for d in cell.members for s in ws.shards_until(d, cell.period)]
        data = load_training_sequences(
            shards, ws.study.period(cell.period), hllm.max_items, catalogue
        )
        n = len(data.rows)
        examples = n - settings.heldout_count(n)
        return TrainingWork(
            samples=n,
            examples=examples,
            input_tokens=None,
            trained_tokens=None,
            unit="sequence",
            units=examples * settings.epochs,
            source="; ".join(sorted({ws.domain(d).source for d in cell.members})),
        )


HLLM = Hllm()
