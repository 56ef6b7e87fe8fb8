"""The one small protocol every generative-recommendation paradigm implements.

A paradigm says where its chain starts and how that base is built, what a cell trains on and
how, what evaluating a model on a domain reads and how a batch of models is evaluated. The
workflow (through :class:`mmgrid.study.Study`) and the jobs reach a paradigm only through
:data:`mmgrid.paradigms.PARADIGMS`. Job params are typed and frozen
(:class:`mmgrid.settings.JobParams`); a paradigm defines its own and decodes them in its jobs.

Importing a paradigm module is cheap: torch and the model code load inside the jobs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from mmgrid.atomic import atomic_dir
from mmgrid.settings import JobParams

if TYPE_CHECKING:
    from mmgrid.study import Study
    from mmgrid.study.cells import Cell
    from mmgrid.study.evaluated import EvaluatedModel
    from mmgrid.study.layout import Layout

Log = Callable[[str], None]
Inputs = Mapping[str, Any]
"""A job's named input files (Snakemake's ``input``): a path, or a list of paths."""


@dataclass(frozen=True)
class ModelToEvaluate:
    """One model of an evaluation batch: its checkpoint, the domains it is evaluated on and the
    directory its metric and rank files go to."""

    path: str
    domains: tuple[str, ...]
    out: str


Loaded = TypeVar("Loaded")


def evaluate_each(
    models: Sequence[ModelToEvaluate],
    load: Callable[[str], Loaded],
    evaluate: Callable[[str, Loaded, str, Path], Mapping[str, Any]],
    log: Log,
) -> None:
    """Evaluate each model of a batch on each of its domains: ``load(path)`` once per model,
    ``evaluate(path, loaded, domain, out)`` per domain, which writes the domain's files into
    ``out`` and returns the result with its ``metrics``. A model's output directory is written
    atomically: complete, or not at all."""
    for spec in models:
        loaded = load(spec.path)
        with atomic_dir(spec.out, marker=f"{spec.domains[0]}.json") as out:
            for domain in spec.domains:
                result = evaluate(spec.path, loaded, domain, out)
                log(f"{spec.path} on {domain}: {result['metrics']}")


@dataclass(frozen=True)
class TrainingWork:
    """What one training job will do, counted by ``mmgrid estimate`` with the job's own code."""

    samples: int
    """Samples (or user sequences), held-out ones included."""
    examples: int
    """Those trained on (per epoch)."""
    input_tokens: int | None
    """Input tokens over all epochs (None where the paradigm does not count tokens)."""
    trained_tokens: int | None
    """Tokens scored by the loss over all epochs."""
    unit: str
    """What the calibration's rate counts: ``input token`` or ``sequence``."""
    units: int
    source: str
    """Where the counted data came from."""


class Paradigm(Protocol):
    """A generative-recommendation paradigm of the grid (``title``, ``semid``, ``hllm``)."""

    name: str
    trains_on_samples: bool
    """Its cells train on GR samples files (``samples/{paradigm}/...``, rule ``samples``)."""
    semantic_ids: bool
    """Its vocabulary holds the items' semantic-ID tokens: samples read the item index, and a
    cross-domain merge keeps the evaluated (source) domain's ID rows."""

    def base_dir(self, paths: Layout) -> str:
        """Where its chain starts: the base LLM, or the base turned into its model."""

    def base_job(self, study: Study) -> JobParams | None:
        """The params of building its base from the base LLM (None: the base LLM itself)."""

    def build_base(self, params: Mapping[str, Any], base_llm: str, out: str, log: Log) -> None:
        """Build its base into ``out`` from the base LLM ``base_llm``."""

    def samples_inputs(self, study: Study, domain: str, period: str) -> dict[str, Any]:
        """What a samples file of a cell reads (paradigms that train on samples)."""

    def train_inputs(self, study: Study, cell: Cell) -> dict[str, list[str]]:
        """What a cell trains on (the chain's initial checkpoint is added by the study)."""

    def train_job(self, study: Study, cell: Cell) -> JobParams:
        """The params of training ``cell``."""

    def train(
        self, params: Mapping[str, Any], inputs: Inputs, out: str, threads: int, log: Log
    ) -> None:
        """Train one cell from ``inputs["init"]`` on its inputs; write the checkpoint ``out``."""

    def evaluation_inputs(self, study: Study, domain: str) -> JobParams:
        """The files that evaluating any model on ``domain`` reads."""

    def batch_job(self, study: Study, models: Sequence[EvaluatedModel]) -> JobParams:
        """The params of evaluating a batch of models (one evaluation job)."""

    def evaluate(self, params: Mapping[str, Any], threads: int, log: Log) -> None:
        """Evaluate every model of a batch on its domains; write their metric and rank files."""

    def count_training(
        self, workspace: Any, cell: Cell, settings: Any, max_samples: int | None
    ) -> TrainingWork:
        """The work of training ``cell`` with ``settings`` (a ``CellTrainSettings``), on the
        data of an estimate's workspace (:class:`mmgrid.estimate.workspace.Workspace`)."""


def files(inputs: Inputs, key: str) -> list[str]:
    """A named input as a list (Snakemake gives a one-file list as a plain string)."""
    value = inputs[key]
    return [value] if isinstance(value, str) else list(value)
