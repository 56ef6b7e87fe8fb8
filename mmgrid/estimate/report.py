"""Device hours from counted work and a calibration table: the CSV and the printed tables."""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

from mmgrid.atomic import atomic_path
from mmgrid.estimate.calibration import Rate, lookup
from mmgrid.estimate.counts import CellWork, EvalWork


@dataclass(frozen=True)
class Line:
    """One row of the estimate: a training cell, or an evaluated model."""

    kind: str
    """``cell`` or ``model``."""
    job: str
    """The Snakemake rule that runs it (``train``, ``train_pooled``, ``evaluate_…``)."""
    paradigm: str
    name: str
    domains: str
    samples: int | None
    examples: int | None
    epochs: int | None
    steps: int | None
    input_tokens: int | None
    trained_tokens: int | None
    queries: int | None
    hours: float | None
    """Device hours (an evaluation job's fixed overhead is shared by its models); None when
    the device kind and model have no calibration for the rule."""
    source: str


COLUMNS = tuple(f.name for f in fields(Line))


def estimate(
    cells: Sequence[CellWork],
    models: Sequence[EvalWork],
    rates: Sequence[Rate],
    device: str,
    model: str,
) -> list[Line]:
    """One line per cell and per evaluated model, with hours where calibrated."""
    lines = []
    for c in cells:
        rate = lookup(rates, device, model, f"train_{c.paradigm}")
        lines.append(
            Line(
                kind="cell",
                job=c.rule,
                paradigm=c.paradigm,
                name=c.name,
                domains=c.domain,
                samples=c.samples,
                examples=c.examples,
                epochs=c.epochs,
                steps=c.steps,
                input_tokens=c.input_tokens,
                trained_tokens=c.trained_tokens,
                queries=None,
                hours=rate.seconds(c.units) / 3600 if rate else None,
                source=c.source,
            )
        )
    jobs: dict[str, list[EvalWork]] = defaultdict(list)
    for m in models:
        jobs[m.rule].append(m)
    for job, members in jobs.items():
        rate = lookup(rates, device, model, f"evaluate_{members[0].paradigm}")
        for m in members:
            seconds = (
                rate.overhead_s / len(members) + rate.per_model_s + rate.s_per_unit * m.queries
                if rate
                else None
            )
            lines.append(
                Line(
                    kind="model",
                    job=job,
                    paradigm=m.paradigm,
                    name=m.model,
                    domains="+".join(m.domains),
                    samples=None,
                    examples=None,
                    epochs=None,
                    steps=None,
                    input_tokens=None,
                    trained_tokens=None,
                    queries=m.queries,
                    hours=seconds / 3600 if seconds is not None else None,
                    source="test users drawn from the shards",
                )
            )
    return lines


def write_csv(lines: Sequence[Line], path: str | os.PathLike[str]) -> None:
    """All lines as CSV (columns :data:`COLUMNS`), written atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for line in lines:
            row = asdict(line)
            row["hours"] = f"{line.hours:.6g}" if line.hours is not None else ""
            writer.writerow(row)


def rule_of(line: Line) -> str:
    """The rule a line counts under in the summary (evaluation jobs per paradigm)."""
    return f"evaluate_{line.paradigm}_*" if line.kind == "model" else line.job


def summary(lines: Sequence[Line]) -> list[dict[str, object]]:
    """Per (rule, paradigm): jobs, samples, input tokens, queries and hours (None when any
    line is not calibrated), then the total."""
    groups: dict[tuple[str, str], list[Line]] = defaultdict(list)
    for line in lines:
        groups[(rule_of(line), line.paradigm)].append(line)
    rows = []
    for (rule, paradigm), members in groups.items():
        rows.append(
            {
                "rule": rule,
                "paradigm": paradigm,
                "jobs": len({m.job for m in members})
                if rule.startswith("evaluate")
                else len(members),
                "samples": _sum(m.samples for m in members),
                "input tokens": _sum(m.input_tokens for m in members),
                "queries": _sum(m.queries for m in members),
                "hours": _sum((m.hours for m in members), strict=True),
            }
        )
    total = {
        "rule": "total",
        "paradigm": "",
        "jobs": sum(r["jobs"] for r in rows),
        "samples": _sum(r["samples"] for r in rows),
        "input tokens": _sum(r["input tokens"] for r in rows),
        "queries": _sum(r["queries"] for r in rows),
        "hours": _sum((r["hours"] for r in rows), strict=True),
    }
    return [*rows, total]


def _sum(values, strict: bool = False):
    """Sum of the values that are not None (None when all are None, or, with ``strict``, when
    any is None)."""
    values = list(values)
    known = [v for v in values if v is not None]
    if not known or (strict and len(known) != len(values)):
        return None
    return sum(known)


def format_table(rows: Sequence[dict[str, object]]) -> str:
    """Rows as a Markdown table (numbers with thousands separators, hours with 2 decimals)."""

    def cell(key: str, value: object) -> str:
        if value is None:
            return "n/a"
        if key == "hours":
            return f"{value:,.2f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    keys = list(rows[0])
    body = [[cell(k, row[k]) for k in keys] for row in rows]
    widths = [max(len(k), *(len(r[i]) for r in body)) for i, k in enumerate(keys)]
    lines = [
        "| " + " | ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    numeric = [all(isinstance(row[k], int | float | None) for row in rows) for k in keys]
    for r in body:
        padded = (
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(r, widths, numeric, strict=True)
        )
        lines.append("| " + " | ".join(padded) + " |")
    return "\n".join(lines)
