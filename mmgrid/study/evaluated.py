"""Every evaluated model of the grid, and how evaluation jobs batch them.

Pure functions of the validated config, shared by the Snakemake rules, the evaluation jobs and
the analysis. Models: each cell ``{domain}-{period}`` (evaluated on its
domain), each paradigm's pooled task base ``pooled-{first period}`` (on every domain) and each
merged model (by its spec name, on the domains of its merge job).

An evaluation job loads torch and transformers once (about 5 s on a CPU) and then evaluates a
*batch* of related models: a domain's cells, the pooled base, or one merge family (the merges of
one domain set or one temporal sweep). A change to one family reruns that family's batch only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mmgrid.study.cells import Cell
from mmgrid.study.layout import POOLED, Layout
from mmgrid.study.merges import MergeJob


@dataclass(frozen=True)
class EvaluatedModel:
    """One model to evaluate (paths relative to the working directory)."""

    paradigm: str
    name: str
    path: str
    metrics_dir: str
    domains: tuple[str, ...]
    """The domains whose test users the model is evaluated on."""
    kind: str
    batch: str
    """The evaluation job that evaluates it (see module docstring)."""
    periods: tuple[str, ...] = field(default=())
    method: str | None = None
    reference: str | None = None
    weight: float | None = None
    source: str | None = None
    members: tuple[str, ...] = field(default=())
    """Cross-domain merges: the merged domains."""

    def record(self) -> dict[str, Any]:
        """The JSON-able description the analysis reads."""
        return {
            "paradigm": self.paradigm,
            "model": self.name,
            "kind": self.kind,
            "domains": list(self.domains),
            "period": self.periods[-1] if self.kind != "temporal" else None,
            "periods": list(self.periods) if self.kind == "temporal" else None,
            "method": self.method,
            "reference": self.reference,
            "weight": self.weight,
            "source": self.source if self.kind == "cross_domain" else None,
            **({"members": list(self.members)} if self.kind == "cross_domain" else {}),
        }


def evaluated_models(
    paths: Layout, cells: Sequence[Cell], merges: Sequence[MergeJob]
) -> list[EvaluatedModel]:
    """Every model of the grid: each cell, each pooled task base and each merged model, sorted by
    (paradigm, name)."""
    models = []
    for cell in cells:
        name = f"{POOLED}-{cell.period}" if cell.pooled else f"{cell.domain}-{cell.period}"
        models.append(
            EvaluatedModel(
                paradigm=cell.paradigm,
                name=name,
                path=paths.checkpoint(*cell.key),
                metrics_dir=paths.metrics(cell.paradigm, name),
                domains=cell.members,
                kind=POOLED if cell.pooled else "cell",
                batch=POOLED if cell.pooled else f"cells-{cell.domain}",
                periods=(cell.period,),
            )
        )
    models += [
        EvaluatedModel(
            paradigm=job.paradigm,
            name=job.name,
            path=paths.merged(job.paradigm, job.name),
            metrics_dir=paths.metrics(job.paradigm, job.name),
            domains=tuple(job.domains),
            kind=job.kind,
            batch=job.family,
            periods=tuple(job.periods),
            method=job.method,
            reference=job.reference_name,
            weight=job.weight,
            source=job.source,
            members=tuple(sorted(n for n, _, _ in job.inputs))
            if job.kind == "cross_domain"
            else (),
        )
        for job in merges
    ]
    return sorted(models, key=lambda m: (m.paradigm, m.name))


def evaluation_batches(
    models: Sequence[EvaluatedModel],
) -> dict[tuple[str, str], list[EvaluatedModel]]:
    """The models of each evaluation job, keyed by (paradigm, batch), in a stable order."""
    batches: dict[tuple[str, str], list[EvaluatedModel]] = {}
    for model in models:
        batches.setdefault((model.paradigm, model.batch), []).append(model)
    return dict(sorted(batches.items()))


def batch_rule_name(paradigm: str, batch: str) -> str:
    """A Snakemake rule name for one evaluation batch: ``evaluate_{paradigm}_{batch}``."""
    safe = "".join(c if c.isalnum() else "_" for c in batch)
    return f"evaluate_{paradigm}_{safe}"
