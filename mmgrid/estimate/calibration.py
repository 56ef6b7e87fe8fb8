"""The calibration table: measured job costs per device kind, model shape and rule.

One row per (``device``, ``model``, ``rule``) in ``calibration.csv`` beside this module:
``rule`` is ``train_{paradigm}`` (a training job; ``unit``: input token, or sequence for hllm)
or ``evaluate_{paradigm}`` (an evaluation job; ``unit``: query). A job costs

    overhead_s + per_model_s x models + s_per_unit x units

seconds (``per_model_s`` counts only for evaluation jobs, which load each of their models).
``device`` is :func:`device_kind` of the machine that measured the row and ``model`` is
:func:`model_key` of the config's base LLM. ``source`` says how the row was measured:
:func:`fit_to_run` measures it on a finished run (``bench/calibrate.py --run DIR``), and ``bench/calibrate.py --gpu-results FILE`` turns the
GPU benchmarks' throughputs into rows.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from mmgrid.atomic import atomic_path
from mmgrid.errors import InputError
from mmgrid.estimate.counts import CellWork, EvalWork
from mmgrid.study.layout import Layout

CALIBRATION = Path(__file__).with_name("calibration.csv")


@dataclass(frozen=True)
class Rate:
    """The measured cost of one rule's jobs on one device kind and model shape."""

    device: str
    model: str
    rule: str
    overhead_s: float
    per_model_s: float
    s_per_unit: float
    unit: str
    source: str

    def seconds(self, units: int, models: int = 0) -> float:
        """Seconds of a job with ``units`` of work over ``models`` models."""
        return self.overhead_s + self.per_model_s * models + self.s_per_unit * units


FIELDS = tuple(f.name for f in fields(Rate))


def read_rates(path: str | os.PathLike[str] = CALIBRATION) -> list[Rate]:
    """The rows of a calibration table (none when the file does not exist)."""
    path = Path(path)
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != FIELDS:
            raise InputError(f"{path}: a calibration table has the columns {', '.join(FIELDS)}")
        rows = []
        for line, row in enumerate(reader, start=2):
            try:
                numbers = {k: float(row[k]) for k in ("overhead_s", "per_model_s", "s_per_unit")}
            except ValueError as err:
                raise InputError(f"{path}, line {line}: {err}") from None
            rows.append(Rate(**{**row, **numbers}))
    return rows


def write_rates(new: Iterable[Rate], path: str | os.PathLike[str] = CALIBRATION) -> None:
    """Add ``new`` rows to a table, replacing rows with the same (device, model, rule)."""
    rows = {(r.device, r.model, r.rule): r for r in read_rates(path)}
    rows.update({(r.device, r.model, r.rule): r for r in new})
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for key in sorted(rows):
            row = asdict(rows[key])
            writer.writerow({**row, **{k: f"{row[k]:.6g}" for k in FIELDS[3:6]}})


def lookup(rates: Sequence[Rate], device: str, model: str, rule: str) -> Rate | None:
    """The row of (``device``, ``model``, ``rule``), if measured."""
    return next((r for r in rates if (r.device, r.model, r.rule) == (device, model, rule)), None)


def device_kind(device: str = "auto") -> str:
    """A name for the kind of device that runs the jobs: the GPU's name (``NVIDIA H200``) or
    ``cpu: `` and the processor's model name."""
    import torch

    from mmgrid.device import resolve_device

    resolved = resolve_device(device)
    if resolved.type == "cuda":
        return torch.cuda.get_device_name(resolved)
    name = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    return f"cpu: {name}"


def shape_key(c: Mapping[str, Any]) -> str:
    """A model shape from Hugging Face config fields: ``qwen3 h1024 L28 ff3072 heads16/8 d128
    v151936`` (model type, hidden and MLP sizes, layers, attention and key/value heads, head
    size, vocabulary)."""
    heads = c["num_attention_heads"]
    kv = c.get("num_key_value_heads") or heads
    head_dim = c.get("head_dim") or c["hidden_size"] // heads
    return (
        f"{c.get('model_type', '?')} h{c['hidden_size']} L{c['num_hidden_layers']} "
        f"ff{c['intermediate_size']} heads{heads}/{kv} d{head_dim} v{c['vocab_size']}"
    )


def model_key(config: Mapping[str, Any], root: Path) -> str:
    """:func:`shape_key` of the config's base LLM (a base built here: its configured sizes, with
    its vocabulary's upper bound)."""
    from mmgrid.models.settings import settings_from_config

    base = settings_from_config(config["base"])
    if not base.path:
        sizes = asdict(base.model)
        return shape_key({**sizes, "model_type": "qwen3", "vocab_size": base.tokenizer.vocab_size})
    path = Path(base.path) if Path(base.path).is_absolute() else root / base.path
    try:
        return shape_key(json.loads((path / "config.json").read_text()))
    except (OSError, json.JSONDecodeError, KeyError) as err:
        raise InputError(
            f"config key base.path: cannot read {path / 'config.json'} ({err})"
        ) from None


def job_seconds(benchmark: Path) -> float:
    """Wall seconds of a job from its Snakemake ``benchmark:`` file (column ``s``)."""
    with open(benchmark, newline="") as fh:
        row = next(csv.DictReader(fh, delimiter="\t"))
    return float(row["s"])


def _fit(design: list[list[float]], seconds: list[float]) -> list[float]:
    """Non-negative least squares ``seconds ~ design @ coefficients``."""
    import numpy as np
    from scipy.optimize import nnls

    coefficients, _ = nnls(np.asarray(design, dtype=float), np.asarray(seconds, dtype=float))
    return [float(c) for c in coefficients]


DECODE_LOG = re.compile(r"decode and rank ([0-9.]+)s")


def decode_seconds(log: Path) -> float | None:
    """Seconds an evaluation job spent decoding and ranking, summed over its models and
    domains (its log's ``decode and rank …s`` lines); None without such lines."""
    if not log.is_file():
        return None
    found = [float(x) for x in DECODE_LOG.findall(log.read_text())]
    return sum(found) if found else None


def fit_to_run(
    run: Path,
    cells: Sequence[CellWork],
    models: Sequence[EvalWork],
    device: str,
    model: str,
    source: str,
) -> list[Rate]:
    """Rows measured on a finished run, per paradigm, from its jobs' wall times (Snakemake's
    ``benchmark:`` files) and what the jobs recorded about their own work:

    - training: seconds per unit = the training loops' summed wall time (``train.json``) over
      the summed units; overhead = the median of each job's time outside its loop;
    - evaluation: seconds per query = the summed decoding time (the jobs' logs) over the
      summed queries; overhead and seconds per model fitted (non-negative least squares) to
      the jobs' time outside decoding. Without decoding times in the logs, all three are
      fitted to the job times.
    """
    paths = Layout()
    rates = []
    train: dict[str, list[tuple[CellWork, float, float]]] = defaultdict(list)
    for c in cells:
        tsv = run / paths.benchmark("train", c.paradigm, c.domain, c.period)
        summary = run / paths.checkpoint(c.paradigm, c.domain, c.period) / "train.json"
        if tsv.is_file() and summary.is_file():
            loop = json.loads(summary.read_text())["training"]["wall_s"]
            train[c.paradigm].append((c, job_seconds(tsv), loop))
    for paradigm, timed in sorted(train.items()):
        per_unit = sum(loop for _, _, loop in timed) / sum(c.units for c, _, _ in timed)
        overhead = max(0.0, statistics.median(job - loop for _, job, loop in timed))
        note = f"{source}; {len(timed)} training jobs"
        rule = f"train_{paradigm}"
        rates.append(Rate(device, model, rule, overhead, 0.0, per_unit, timed[0][0].unit, note))
    jobs: dict[tuple[str, str], list[EvalWork]] = defaultdict(list)
    for m in models:
        jobs[(m.paradigm, m.batch)].append(m)
    evaluate: dict[str, list[tuple[int, int, float, float | None]]] = defaultdict(list)
    for (paradigm, batch), members in sorted(jobs.items()):
        tsv = run / paths.benchmark("evaluate", paradigm, batch)
        if tsv.is_file():
            decode = decode_seconds(run / paths.log("evaluate", paradigm, batch))
            queries = sum(m.queries for m in members)
            evaluate[paradigm].append((len(members), queries, job_seconds(tsv), decode))
    for paradigm, timed in sorted(evaluate.items()):
        if all(d is not None for *_, d in timed):
            per_query = sum(d for *_, d in timed) / sum(q for _, q, _, _ in timed)
            outside = [job - d for _, _, job, d in timed]
            overhead, per_model = _fit([[1.0, n] for n, *_ in timed], outside)
        else:
            design = [[1.0, n, q] for n, q, _, _ in timed]
            overhead, per_model, per_query = _fit(design, [job for _, _, job, _ in timed])
        note = f"{source}; {len(timed)} evaluation jobs"
        rule = f"evaluate_{paradigm}"
        rates.append(Rate(device, model, rule, overhead, per_model, per_query, "query", note))
    if not rates:
        raise InputError(
            f"{run / paths.root / 'benchmarks'}: no benchmark files of training or evaluation jobs"
        )
    return rates
