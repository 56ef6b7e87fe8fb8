"""Evaluate a batch of title or semid models (one evaluation job): load each domain once.

``job`` is the evaluation job's params (see ``batch_params`` in ``rules/common.smk``):
``paradigm``, ``settings`` (the ``evaluate:`` section), ``seed``, ``encoder``, ``reference_ms``,
``domains`` (per domain: test samples, item index, interaction shards) and ``models`` (per
model: checkpoint ``path``, evaluated ``domains``, output directory ``out``). Each model's output
directory is written atomically.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mmgrid.atomic import atomic_dir
from mmgrid.evaluate.evaluate import DomainData, checked_encoder, evaluate_loaded, load_domain
from mmgrid.evaluate.settings import settings_from_config


def evaluate_batch(job: Mapping[str, Any], log: Callable[[str], None] = print) -> None:
    """Evaluate every model of ``job`` on its domains (see module docstring)."""
    from mmgrid.models.loading import load_causal_lm

    paradigm = job["paradigm"]
    settings = settings_from_config(job["settings"])
    domains: dict[str, DomainData] = {}
    encoder = None
    for spec in job["models"]:
        model, tokenizer = load_causal_lm(spec["path"], settings.device)
        with atomic_dir(spec["out"], marker=f"{spec['domains'][0]}.json") as out:
            for domain in spec["domains"]:
                files = job["domains"][domain]
                if domain not in domains:
                    domains[domain] = load_domain(
                        domain,
                        paradigm,
                        files["samples"],
                        files["index"],
                        settings,
                        interactions=files["shards"],
                        reference_ms=job["reference_ms"],
                    )
                if paradigm == "title":
                    encoder = checked_encoder(encoder, job["encoder"], files["index"])
                result = evaluate_loaded(
                    model,
                    tokenizer,
                    spec["path"],
                    paradigm,
                    domains[domain],
                    out,
                    settings,
                    job["seed"],
                    encoder=encoder,
                    log=log,
                )
                log(f"{spec['path']} on {domain}: {result['metrics']}")
