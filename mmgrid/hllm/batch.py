"""Evaluate a batch of HLLM models (one evaluation job): draw each domain's test users once.

``job`` is the evaluation job's params (see ``batch_params`` in ``rules/common.smk``):
``settings`` (the ``evaluate:`` section: ``k``, ``device``), ``seed``, ``hllm`` (the ``hllm:``
section), ``test_period``, ``max_users``, ``domains`` (per domain: every period's shards and
the item table ``item_table``) and ``models`` (per model: ``path``, evaluated ``domains``, output ``out``).

The test users are drawn exactly as the samples stage draws them (same seed for every
paradigm), so every paradigm is scored on the same users; histories hold up to
``hllm.max_items`` items.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mmgrid.atomic import atomic_dir
from mmgrid.evaluate.settings import settings_from_config as evaluate_settings
from mmgrid.grid import Period
from mmgrid.hllm.checkpoint import load_hllm
from mmgrid.hllm.data import EvalCases, cases_from_shards
from mmgrid.hllm.evaluate import evaluate_hllm
from mmgrid.hllm.settings import settings_from_config
from mmgrid.samples.targets import evaluation_users_seed


def evaluate_hllm_batch(job: Mapping[str, Any], log: Callable[[str], None] = print) -> None:
    """Evaluate every model of ``job`` on its domains (see module docstring)."""
    settings = evaluate_settings(job["settings"])
    hllm = settings_from_config(job["hllm"])
    test = Period(**job["test_period"])
    cases: dict[str, EvalCases] = {}
    for spec in job["models"]:
        loaded = load_hllm(spec["path"], settings.device)
        with atomic_dir(spec["out"], marker=f"{spec['domains'][0]}.json") as out:
            for domain in spec["domains"]:
                files = job["domains"][domain]
                if domain not in cases:
                    cases[domain] = cases_from_shards(
                        files["shards"],
                        test,
                        max_users=job["max_users"],
                        max_history=hllm.max_items,
                        seed=evaluation_users_seed(job["seed"], domain, test.name),
                    )
                result = evaluate_hllm(
                    spec["path"],
                    domain,
                    cases[domain],
                    files["item_table"],
                    out,
                    k=settings.k,
                    seed=job["seed"],
                    settings=hllm,
                    device=settings.device,
                    log=log,
                    loaded=loaded,
                )
                log(f"{spec['path']} on {domain}: {result['metrics']}")
