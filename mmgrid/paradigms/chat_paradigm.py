"""What ``title`` and ``semid`` share: a causal LM trained on chat samples, evaluated by decoding.

Both paradigms train each cell on its samples file (:mod:`mmgrid.train.chat_cell`) and evaluate
a batch of models by decoding the test prompts (:mod:`mmgrid.evaluate.model_evaluation`); they
differ in their samples, their base and their decoding (titles grounded to the catalogue, or
semantic IDs under a trie), which the stage libraries select by the paradigm's name.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mmgrid.errors import InputError
from mmgrid.evaluate.settings import EvalSettings
from mmgrid.paradigms.protocol import Inputs, Log, ModelToEvaluate, TrainingWork, files
from mmgrid.settings import JobParams
from mmgrid.train.settings import CellTrainSettings

if TYPE_CHECKING:
    from pathlib import Path

    from mmgrid.study import Study
    from mmgrid.study.cells import Cell
    from mmgrid.study.evaluated import EvaluatedModel
    from mmgrid.study.layout import Layout


@dataclass(frozen=True)
class SemanticIdShape:
    """The semantic-ID vocabulary: ``levels`` tokens per ID, ``codebook_size`` codes a level."""

    levels: int
    codebook_size: int


@dataclass(frozen=True)
class ChatCellJob(JobParams):
    """Training one cell (or a pooled task base) on chat samples."""

    paradigm: str
    domain: str
    period: str
    settings: CellTrainSettings
    seed: int
    semantic_ids: SemanticIdShape | None = None
    """semid: the ID tokens the vocabulary holds (their rows are initialised if missing)."""


@dataclass(frozen=True)
class ChatDomainFiles(JobParams):
    """What evaluating on one domain reads: its test prompts, item index and the interactions
    of the training periods (the popularity rescale)."""

    samples: str
    index: str
    shards: tuple[str, ...]


@dataclass(frozen=True)
class ChatBatchJob(JobParams):
    """Evaluating a batch of models of one paradigm (one evaluation job)."""

    paradigm: str
    settings: EvalSettings
    seed: int
    encoder: str
    """The item index's text encoder (title: generated titles are embedded with it)."""
    reference_ms: int
    """The popularity rescale's default reference time: the test window's start."""
    domains: Mapping[str, ChatDomainFiles]
    models: tuple[ModelToEvaluate, ...]


class ChatParadigm:
    """A paradigm whose cells are causal LMs trained on chat samples (see the module)."""

    trains_on_samples = True
    embeds_generations = False
    """Evaluation grounds generated text to items by embedding it (the index's encoder)."""

    def __init__(self, name: str, *, semantic_ids: bool) -> None:
        self.name = name
        self.semantic_ids = semantic_ids

    def __repr__(self) -> str:
        return f"<paradigm {self.name}>"

    # -- base ------------------------------------------------------------------------------
    def base_dir(self, paths: Layout) -> str:
        return paths.base_llm

    def base_job(self, study: Study) -> JobParams | None:
        return None

    def build_base(self, params: Mapping[str, Any], base_llm: str, out: str, log: Log) -> None:
        raise ValueError(f"paradigm {self.name} starts from the base LLM itself")

    # -- training --------------------------------------------------------------------------
    def samples_inputs(self, study: Study, domain: str, period: str) -> dict[str, Any]:
        return {
            "shards": study.shards_until(domain, period),
            "item_table": study.paths.item_table(domain),
        }

    def train_inputs(self, study: Study, cell: Cell) -> dict[str, list[str]]:
        return {"samples": [study.paths.samples(self.name, d, cell.period) for d in cell.members]}

    def train_job(self, study: Study, cell: Cell) -> ChatCellJob:
        return ChatCellJob(
            paradigm=self.name,
            domain=cell.domain,
            period=cell.period,
            settings=study.settings.train[cell.key],
            seed=study.seed,
        )

    def train(
        self, params: Mapping[str, Any], inputs: Inputs, out: str, threads: int, log: Log
    ) -> None:
        from mmgrid.items.tokens import semantic_id_tokens
        from mmgrid.train.chat_cell import train_cell

        job = ChatCellJob.from_params(params)
        ids = job.semantic_ids
        train_cell(
            paradigm=job.paradigm,
            samples=files(inputs, "samples"),  # one per domain for a pooled base
            init_dir=inputs["init"],
            out_dir=out,
            settings=job.settings,
            seed=job.seed,
            sid_tokens=semantic_id_tokens(ids.levels, ids.codebook_size) if ids else (),
            threads=threads,
        )

    # -- evaluation ------------------------------------------------------------------------
    def evaluation_inputs(self, study: Study, domain: str) -> ChatDomainFiles:
        return ChatDomainFiles(
            samples=study.paths.samples(self.name, domain, study.test_period.name),
            index=study.paths.item_index(domain),
            shards=tuple(study.paths.shard(domain, p.name) for p in study.training_periods),
        )

    def batch_job(self, study: Study, models: Sequence[EvaluatedModel]) -> ChatBatchJob:
        domains = sorted({d for m in models for d in m.domains})
        return ChatBatchJob(
            paradigm=self.name,
            settings=study.settings.evaluate,
            seed=study.seed,
            encoder=study.settings.index.encoder,
            reference_ms=study.test_period.start_ms,
            domains={d: self.evaluation_inputs(study, d) for d in domains},
            models=tuple(ModelToEvaluate(m.path, m.domains, m.metrics_dir) for m in models),
        )

    def evaluate(self, params: Mapping[str, Any], threads: int, log: Log) -> None:
        """Load each model once and each domain's prompts and index once; each model's output
        directory is written atomically."""
        import torch

        from mmgrid.evaluate.model_evaluation import (
            DomainData,
            checked_encoder,
            evaluate_loaded,
            load_domain,
        )
        from mmgrid.models.loading import load_causal_lm
        from mmgrid.paradigms.protocol import evaluate_each

        torch.set_num_threads(threads)
        job = ChatBatchJob.from_params(params)
        settings = job.settings
        domains: dict[str, DomainData] = {}
        encoder = None

        def on_domain(path: str, loaded: Any, domain: str, out: Path) -> Mapping[str, Any]:
            nonlocal encoder
            files_ = job.domains[domain]
            if domain not in domains:
                domains[domain] = load_domain(
                    domain,
                    job.paradigm,
                    files_.samples,
                    files_.index,
                    settings,
                    interactions=files_.shards,
                    reference_ms=job.reference_ms,
                )
            if self.embeds_generations:
                encoder = checked_encoder(encoder, job.encoder, files_.index)
            model, tokenizer = loaded
            return evaluate_loaded(
                model,
                tokenizer,
                path,
                job.paradigm,
                domains[domain],
                out,
                settings,
                job.seed,
                encoder=encoder,
                log=log,
            )

        evaluate_each(
            job.models, lambda path: load_causal_lm(path, settings.device), on_domain, log
        )

    # -- estimate --------------------------------------------------------------------------
    def count_training(
        self, workspace: Any, cell: Cell, settings: CellTrainSettings, max_samples: int | None
    ) -> TrainingWork:
        """The cell's samples encoded with its tokenizer and ``max_length`` and split as the cell
        splits them; input and trained tokens summed over the epochs (``train.json``)."""
        from mmgrid.train.batching import IGNORE_INDEX
        from mmgrid.train.chat import encode_sample
        from mmgrid.train.chat_cell import training_order

        ws = workspace
        where = f"cell {self.name}/{cell.domain}/{cell.period}"
        conversations = training_order(
            [ws.samples(self.name, d, cell.period) for d in cell.members], where
        )
        heldout = settings.heldout_count(len(conversations))
        trained = conversations[:-heldout]
        if not trained:
            raise InputError(f"{where}: too few samples to train ({len(conversations)})")
        source = "; ".join(sorted({ws.domain(d).source for d in cell.members}))
        chosen = range(len(trained))
        if max_samples is not None and len(trained) > max_samples:
            chosen = sorted(random.Random(0).sample(chosen, max_samples))
            source += f"; tokens scaled from {max_samples} of {len(trained)} samples"
        tokenizer = ws.tokenizer(self.name)
        inputs = labels = 0
        for i in chosen:
            example, _ = encode_sample(tokenizer, trained[i], settings.max_length)
            inputs += len(example["input_ids"])
            labels += sum(t != IGNORE_INDEX for t in example["labels"][1:])
        scale = len(trained) / len(chosen)
        input_tokens = round(inputs * scale) * settings.epochs
        return TrainingWork(
            samples=len(conversations),
            examples=len(trained),
            input_tokens=input_tokens,
            trained_tokens=round(labels * scale) * settings.epochs,
            unit="input token",
            units=input_tokens,
            source=source,
        )
