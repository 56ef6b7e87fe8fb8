"""Every evaluated model of the grid, and how evaluation jobs batch them.

Pure functions of the validated config (no numpy, no torch), shared by the Snakemake rules, the
evaluation jobs and the analysis. Models: each cell ``{domain}-{period}`` (evaluated on its
domain), each paradigm's pooled task base ``pooled-{first period}`` (on every domain) and each
merged model (by its spec name, on the domains of its merge job).

An evaluation job loads torch and transformers once (about 5 s on a CPU) and then evaluates a
*batch* of related models: a domain's cells, the pooled base, or one merge family (the merges of
one domain set or one temporal sweep). A change to one family reruns that family's batch only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mmgrid.grid import cell_dir
from mmgrid.merge_grid import MergeJob


@dataclass(frozen=True)
class EvaluatedModel:
    """One model to evaluate (paths relative to the working directory)."""

    paradigm: str
    name: str
    path: str
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

    @property
    def metrics_dir(self) -> str:
        return f"results/metrics/{self.paradigm}/{self.name}"

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
    paradigms: Sequence[str],
    domains: Sequence[str],
    training_periods: Sequence[str],
    merges: Sequence[MergeJob],
) -> list[EvaluatedModel]:
    """Every model of the grid, sorted by (paradigm, name)."""
    first = training_periods[0]
    models = []
    for paradigm in paradigms:
        for domain in domains:
            models += [
                EvaluatedModel(
                    paradigm=paradigm,
                    name=f"{domain}-{period}",
                    path=cell_dir(paradigm, domain, period),
                    domains=(domain,),
                    kind="cell",
                    batch=f"cells-{domain}",
                    periods=(period,),
                )
                for period in training_periods
            ]
        models.append(
            EvaluatedModel(
                paradigm=paradigm,
                name=f"pooled-{first}",
                path=cell_dir(paradigm, "pooled", first),
                domains=tuple(domains),
                kind="pooled",
                batch="pooled",
                periods=(first,),
            )
        )
    models += [
        EvaluatedModel(
            paradigm=job.paradigm,
            name=job.name,
            path=f"results/merged/{job.paradigm}/{job.name}",
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


def model_records(models: Sequence[EvaluatedModel]) -> list[Mapping[str, Any]]:
    return [m.record() for m in models]
