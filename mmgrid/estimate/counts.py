"""The work of every device job of the grid: training cells and evaluation batches.

Counted with the jobs' own code on the data of a :class:`~mmgrid.estimate.workspace.Workspace`, so
the counts are what the jobs will record: a ``title`` or ``semid`` cell's samples are encoded
by :func:`mmgrid.train.chat.encode_sample` with the cell's tokenizer and ``max_length``, split
into training and held-out samples as the cell splits them, and its input and trained tokens
summed over the epochs (``train.json``: ``training.input_tokens``, ``training.trained_tokens``);
an ``hllm`` cell's sequences come from :func:`mmgrid.hllm.item_sequences.load_training_sequences`. An
evaluated model's queries are the test users of the domains it is evaluated on, drawn as the
samples stage draws them (the ``n_users`` of its metric files).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmgrid.estimate.workspace import Workspace
from mmgrid.paradigms import PARADIGMS
from mmgrid.study import Study
from mmgrid.study.evaluated import batch_rule_name
from mmgrid.train.settings import CellTrainSettings


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
    cells = []
    for cell in ws.study.cells:
        settings = ws.study.settings.train[cell.key]
        work = PARADIGMS[cell.paradigm].count_training(ws, cell, settings, max_samples)
        counted = CellWork(
            rule=cell.rule,
            paradigm=cell.paradigm,
            domain=cell.domain,
            period=cell.period,
            samples=work.samples,
            examples=work.examples,
            epochs=settings.epochs,
            steps=_steps(work.examples, settings, ws.study.seed),
            input_tokens=work.input_tokens,
            trained_tokens=work.trained_tokens,
            unit=work.unit,
            units=work.units,
            source=work.source,
        )
        log(
            f"{counted.name}: {counted.samples} samples, {counted.units:,} {counted.unit}s "
            f"({counted.source})"
        )
        cells.append(counted)
    return cells


def _steps(n_examples: int, settings: CellTrainSettings, seed: int) -> int:
    from mmgrid.train.loop import optimizer_steps

    return optimizer_steps(n_examples, settings.loop_config(seed, progress=False))


def domain_test_users(ws: Workspace, domain: str) -> int:
    """The number of test users of a domain (every paradigm evaluates the same ones)."""
    from mmgrid.samples.sequences import load_sequences
    from mmgrid.samples.targets import evaluation_targets, evaluation_users_seed

    test = ws.study.test_period
    seed = evaluation_users_seed(ws.study.seed, domain, test.name)
    rows = evaluation_targets(
        load_sequences(ws.shards_until(domain, test.name)),
        test,
        max_users=ws.study.settings.samples.eval_max_users,
        rng=np.random.default_rng(seed),
    )
    return len(rows)


def count_models(ws: Workspace) -> list[EvalWork]:
    """Every evaluated model of the grid with its evaluation job and queries."""
    users = {d: domain_test_users(ws, d) for d in ws.study.domains}
    return [
        EvalWork(
            rule=batch_rule_name(m.paradigm, m.batch),
            paradigm=m.paradigm,
            batch=m.batch,
            model=m.name,
            domains=tuple(m.domains),
            queries=sum(users[d] for d in m.domains),
        )
        for m in ws.study.models
    ]


def count_work(
    study: Study,
    directory: Path,
    *,
    ingest: bool = True,
    max_samples: int | None = None,
    log: Callable[[str], None] = print,
) -> tuple[list[CellWork], list[EvalWork]]:
    """The work of the training cells and evaluated models of a run of ``study`` in
    ``directory`` (anything built for counting goes to a scratch directory, removed after)."""
    with tempfile.TemporaryDirectory(prefix="mmgrid-estimate.") as scratch:
        ws = Workspace(study, directory, Path(scratch), ingest=ingest, log=log)
        return count_cells(ws, max_samples=max_samples, log=log), count_models(ws)
