"""The work of every device job of the grid: training cells and evaluation batches.

Counted with the jobs' own code on the data of a :class:`~mmgrid.estimate.data.Workspace`, so
the counts are what the jobs will record: a ``title`` or ``semid`` cell's samples are encoded
by :func:`mmgrid.train.chat.encode_sample` with the cell's tokenizer and ``max_length``, split
into training and held-out samples as the cell splits them, and its input and trained tokens
summed over the epochs (``train.json``: ``training.input_tokens``, ``training.trained_tokens``);
an ``hllm`` cell's sequences come from :func:`mmgrid.hllm.data.load_training_sequences`. An
evaluated model's queries are the test users of the domains it is evaluated on, drawn as the
samples stage draws them (the ``n_users`` of its metric files).
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from mmgrid import grid
from mmgrid.errors import InputError
from mmgrid.estimate.data import Workspace
from mmgrid.train.settings import CellTrainSettings, cell_settings


class TrainJob(NamedTuple):
    """A training job of the grid: a cell, or a pooled task base over ``members``."""

    rule: str
    paradigm: str
    domain: str
    period: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class CellWork:
    """One training job: a cell, or a paradigm's pooled task base (``domain: pooled``)."""

    rule: str
    paradigm: str
    domain: str
    period: str
    samples: int
    """Samples (title, semid) or user sequences (hllm), held-out ones included."""
    examples: int
    """Those trained on (per epoch)."""
    epochs: int
    steps: int
    input_tokens: int | None
    """Input tokens over all epochs (title, semid)."""
    trained_tokens: int | None
    """Tokens scored by the loss over all epochs (title, semid)."""
    unit: str
    units: int
    """What the calibration's rate counts: input tokens, or sequences over all epochs (hllm)."""
    source: str

    @property
    def name(self) -> str:
        return f"{self.paradigm}/{self.domain}/{self.period}"


@dataclass(frozen=True)
class EvalWork:
    """One evaluated model, in the evaluation job (``rule``) of its batch."""

    rule: str
    paradigm: str
    batch: str
    model: str
    domains: tuple[str, ...]
    queries: int
    unit: str = "query"


def count_cells(
    ws: Workspace,
    *,
    max_samples: int | None = None,
    log: Callable[[str], None] = print,
) -> list[CellWork]:
    """Every training job of the grid (cells, then pooled task bases), in grid order."""
    config = ws.config
    domains = grid.domains(config)
    jobs = [
        TrainJob("train", paradigm, domain, period, (domain,))
        for paradigm in config["paradigms"]
        for domain in domains
        for period in ws.training_periods
    ]
    first = ws.training_periods[0]
    jobs += [
        TrainJob("train_pooled", p, "pooled", first, tuple(domains)) for p in config["paradigms"]
    ]
    cells = []
    for job in jobs:
        count = _hllm_cell if job.paradigm == "hllm" else _chat_cell
        cell = count(ws, job, cell_settings(config["train"], *job[1:4]), max_samples)
        log(f"{cell.name}: {cell.samples} samples, {cell.units:,} {cell.unit}s ({cell.source})")
        cells.append(cell)
    return cells


def _steps(n_examples: int, settings: CellTrainSettings, seed: int) -> int:
    from mmgrid.train.loop import optimizer_steps

    return optimizer_steps(n_examples, settings.loop_config(seed, progress=False))


def _chat_cell(
    ws: Workspace, job: TrainJob, settings: CellTrainSettings, max_samples: int | None
) -> CellWork:
    from mmgrid.train.batching import IGNORE_INDEX
    from mmgrid.train.cell import training_order
    from mmgrid.train.chat import encode_sample

    rule, paradigm, domain, period, members = job
    where = f"cell {paradigm}/{domain}/{period}"
    conversations = training_order([ws.samples(paradigm, d, period) for d in members], where)
    heldout = settings.heldout_count(len(conversations))
    trained = conversations[:-heldout]
    if not trained:
        raise InputError(f"{where}: too few samples to train ({len(conversations)})")
    sources = {ws.domain(d).source for d in members}
    source = "; ".join(sorted(sources))
    chosen = range(len(trained))
    if max_samples is not None and len(trained) > max_samples:
        chosen = sorted(random.Random(0).sample(chosen, max_samples))
        source += f"; tokens scaled from {max_samples} of {len(trained)} samples"
    tokenizer = ws.tokenizer(paradigm)
    inputs = labels = 0
    for i in chosen:
        example, _ = encode_sample(tokenizer, trained[i], settings.max_length)
        inputs += len(example["input_ids"])
        labels += sum(t != IGNORE_INDEX for t in example["labels"][1:])
    scale = len(trained) / len(chosen)
    input_tokens = round(inputs * scale) * settings.epochs
    return CellWork(
        rule=rule,
        paradigm=paradigm,
        domain=domain,
        period=period,
        samples=len(conversations),
        examples=len(trained),
        epochs=settings.epochs,
        steps=_steps(len(trained), settings, ws.config["seed"]),
        input_tokens=input_tokens,
        trained_tokens=round(labels * scale) * settings.epochs,
        unit="input token",
        units=input_tokens,
        source=source,
    )


def _hllm_cell(
    ws: Workspace, job: TrainJob, settings: CellTrainSettings, max_samples: int | None
) -> CellWork:
    from mmgrid.hllm.data import load_training_sequences, read_catalogue
    from mmgrid.hllm.settings import settings_from_config

    rule, paradigm, domain, period, members = job
    hllm = settings_from_config(ws.config["hllm"])
    catalogue = read_catalogue([ws.domain(d).items for d in members])
    shards = [s for d in members for s in ws.shards_until(d, period)]
    data = load_training_sequences(shards, ws.period[period], hllm.max_items, catalogue)
    n = len(data.rows)
    examples = n - settings.heldout_count(n)
    return CellWork(
        rule=rule,
        paradigm=paradigm,
        domain=domain,
        period=period,
        samples=n,
        examples=examples,
        epochs=settings.epochs,
        steps=_steps(examples, settings, ws.config["seed"]),
        input_tokens=None,
        trained_tokens=None,
        unit="sequence",
        units=examples * settings.epochs,
        source="; ".join(sorted({ws.domain(d).source for d in members})),
    )


def domain_test_users(ws: Workspace, domain: str) -> int:
    """The number of test users of a domain (every paradigm evaluates the same ones)."""
    from mmgrid.samples.sequences import load_sequences
    from mmgrid.samples.targets import evaluation_targets, evaluation_users_seed

    test = ws.period[ws.test_period]
    seed = evaluation_users_seed(ws.config["seed"], domain, test.name)
    rows = evaluation_targets(
        load_sequences(ws.shards_until(domain, test.name)),
        test,
        max_users=ws.samples_settings.eval_max_users,
        rng=np.random.default_rng(seed),
    )
    return len(rows)


def count_models(ws: Workspace) -> list[EvalWork]:
    """Every evaluated model of the grid with its evaluation job and queries."""
    from mmgrid.merge_grid import merge_jobs
    from mmgrid.model_grid import batch_rule_name, evaluated_models

    config = ws.config
    domains = grid.domains(config)
    merges = merge_jobs(config, ws.training_periods, domains)
    models = evaluated_models(config["paradigms"], domains, ws.training_periods, merges)
    users = {d: domain_test_users(ws, d) for d in domains}
    return [
        EvalWork(
            rule=batch_rule_name(m.paradigm, m.batch),
            paradigm=m.paradigm,
            batch=m.batch,
            model=m.name,
            domains=tuple(m.domains),
            queries=sum(users[d] for d in m.domains),
        )
        for m in models
    ]


def count_work(
    config: dict[str, Any],
    directory: Path,
    *,
    ingest: bool = True,
    max_samples: int | None = None,
    log: Callable[[str], None] = print,
) -> tuple[list[CellWork], list[EvalWork]]:
    """The work of the training cells and evaluated models of a run of ``config`` in
    ``directory`` (anything built for counting goes to a scratch directory, removed after)."""
    with tempfile.TemporaryDirectory(prefix="mmgrid-estimate.") as scratch:
        ws = Workspace(config, directory, Path(scratch), ingest=ingest, log=log)
        return count_cells(ws, max_samples=max_samples, log=log), count_models(ws)
