"""Evaluate an HLLM on one domain: full-catalogue ranking by cosine, history masked.

Every item of the domain is embedded by the item LLM; each test user's last ``max_items``
history items are read by the user LLM; the user state at the last history item scores every
item by cosine. History items are excluded (score -inf, as in the study), so a target that is
also in the history is not ranked, nor is the target of a user without history. Ranks follow
:func:`mmgrid.evaluate.metrics.rank_by_key` on ascending -score: ties go to the lower
catalogue row.

Outputs (written together, atomically) in ``out_dir``, in the formats of
:mod:`mmgrid.evaluate.model_evaluation`: ``{domain}.json`` (metrics at every K as fractions, counts,
provenance; no timings) and ``{domain}.ranks.parquet`` (user_id, item_id, timestamp, rank).
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from mmgrid.atomic import atomic_paths, dumps_json
from mmgrid.evaluate.metrics import check_cutoffs, metrics_from_ranks, rank_table
from mmgrid.hllm.item_sequences import Catalogue, EvalCases, item_texts, read_catalogue
from mmgrid.hllm.settings import HllmSettings


def embed_catalogue(model: Any, tokens: Any, batch_size: int, progress: bool = False) -> Any:
    """Item embeddings ``(N, H)`` (float32, not normalised) of every catalogue item, in row
    order (computed in batches of similar length)."""
    import torch

    from mmgrid.hllm.model import embed_by_length

    device = next(model.parameters()).device
    ids, lengths = tokens.ids.to(device), tokens.lengths.to(device)
    with torch.no_grad():
        return embed_by_length(model, ids, lengths, batch_size, progress).float()


def user_states(
    model: Any, item_embeddings: Any, histories: Sequence[Sequence[int]], batch_size: int
) -> Any:
    """Normalised user states ``(U, H)`` (float32) at each history's last item.

    Users without history get a zero row (they are not ranked).
    """
    import torch
    import torch.nn.functional as F

    from mmgrid.hllm.model import last_states

    device = item_embeddings.device
    dtype = next(model.parameters()).dtype
    out = torch.zeros(len(histories), item_embeddings.shape[1], device=device)
    with torch.no_grad():
        for start in range(0, len(histories), batch_size):
            block = [
                (u, h) for u, h in enumerate(histories[start : start + batch_size], start) if h
            ]
            if not block:
                continue
            width = max(len(h) for _, h in block)
            rows = torch.zeros(len(block), width, dtype=torch.long)
            for i, (_, h) in enumerate(block):
                rows[i, : len(h)] = torch.as_tensor(h)
            lengths = torch.tensor([len(h) for _, h in block], device=device)
            inputs = item_embeddings[rows.to(device)].to(dtype)
            states = last_states(model, inputs, lengths).float()
            out[torch.tensor([u for u, _ in block], device=device)] = F.normalize(states, dim=-1)
    return out


def rank_targets(
    states: Any,
    item_vectors: Any,
    targets: Sequence[int],
    histories: Sequence[Sequence[int]],
    batch_size: int = 256,
) -> list[int | None]:
    """1-based rank of each user's target among all items by ``states @ item_vectors.T``.

    History rows score -inf (excluded); a target with a non-finite score (e.g. in the history)
    and the target of a user without history are not ranked (``None``). Ties go to the lower
    row. Batched matrix work: no Python loop over users or items.
    """
    import torch

    device = states.device
    lengths = np.fromiter(map(len, histories), np.int64, count=len(histories))
    flat = np.fromiter(itertools.chain.from_iterable(histories), np.int64, int(lengths.sum()))
    owner = np.repeat(np.arange(len(histories)), lengths)
    bounds = np.r_[0, np.cumsum(lengths)]
    all_targets = torch.as_tensor(np.asarray(targets, np.int64), device=device)
    columns = torch.arange(item_vectors.shape[0], device=device)
    ranks = torch.zeros(len(targets), dtype=torch.long)
    for start in range(0, len(targets), batch_size):
        stop = min(start + batch_size, len(targets))
        scores = states[start:stop] @ item_vectors.T
        seen = slice(bounds[start], bounds[stop])
        rows = torch.from_numpy(owner[seen] - start).to(device)
        scores[rows, torch.from_numpy(flat[seen]).to(device)] = float("-inf")
        target = all_targets[start:stop]
        own = scores.gather(1, target[:, None])
        tied_before = (scores == own) & (columns[None, :] < target[:, None])
        rank = (scores > own).sum(1) + tied_before.sum(1) + 1
        ranks[start:stop] = torch.where(torch.isfinite(own[:, 0]), rank, 0).cpu()
    ranks[torch.from_numpy(lengths == 0)] = 0
    return [r or None for r in ranks.tolist()]


def _rows(catalogue: Catalogue, cases: EvalCases, max_items: int):
    """Catalogue rows of the targets, and of the last ``max_items`` known history items."""
    targets = catalogue.rows(cases.item_ids, f"{cases.source} (test targets)")
    row_of = {item: row for row, item in enumerate(catalogue.item_ids)}
    histories = [[row_of[i] for i in h if i in row_of][-max_items:] for h in cases.histories]
    return targets.tolist(), histories


def evaluate_hllm(
    model_dir: str | os.PathLike[str],
    domain: str,
    cases: EvalCases,
    items_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    k: Sequence[int] = (5, 10, 20),
    seed: int = 0,
    settings: HllmSettings | None = None,
    device: str = "auto",
    threads: int | None = None,
    progress: bool = False,
    log: Callable[[str], None] = print,
    loaded: tuple[Any, Any] | None = None,
) -> dict[str, Any]:
    """Evaluate the HLLM at ``model_dir`` on ``domain``; write the metric and rank files.

    ``loaded``: the ``(model, tokenizer)`` of :func:`~mmgrid.hllm.checkpoint.load_hllm` for
    ``model_dir``, when the caller evaluates the same model on several domains.

    ``cases`` are the test users (:func:`mmgrid.hllm.item_sequences.cases_from_shards` or
    :func:`~mmgrid.hllm.item_sequences.cases_from_samples`); histories are cut to the last
    ``settings.max_items`` items of the catalogue. ``seed`` is recorded (the ranking is
    deterministic). Returns the metrics document plus ``timings_s``.
    """
    import torch
    import torch.nn.functional as F

    from mmgrid.hllm.checkpoint import load_hllm
    from mmgrid.hllm.model import tokenize_items

    if threads is not None:
        torch.set_num_threads(threads)
    settings = settings or HllmSettings()
    check_cutoffs(k)
    started = time.perf_counter()
    catalogue = read_catalogue(items_path)
    targets, histories = _rows(catalogue, cases, settings.max_items)
    model, tokenizer = loaded or load_hllm(model_dir, device)
    tokens = tokenize_items(
        tokenizer, item_texts(catalogue, model.config.item_prompt), model.config
    )
    log(f"evaluating {model_dir} (hllm) on {domain}: {len(cases)} users, {len(catalogue)} items")
    loaded = time.perf_counter()
    embeddings = embed_catalogue(model, tokens, settings.item_batch_size, progress)
    states = user_states(model, embeddings, histories, settings.user_batch_size)
    ranks = rank_targets(
        states, F.normalize(embeddings, dim=-1), targets, histories, settings.user_batch_size
    )
    ranked = time.perf_counter()
    document = {
        "domain": domain,
        "paradigm": "hllm",
        "model": str(model_dir),
        "test_cases": cases.source,
        "items": str(items_path),
        "seed": seed,
        "settings": {
            "k": list(k),
            "max_items": settings.max_items,
            **cases.notes,
        },
        "n_users": len(ranks),
        "n_unranked": sum(r is None for r in ranks),
        "n_without_history": sum(not h for h in histories),
        "metrics": metrics_from_ranks(ranks, k),
    }
    table = rank_table(cases.user_ids, cases.item_ids, cases.timestamps, ranks)
    out = Path(out_dir)
    with atomic_paths([out / f"{domain}.json", out / f"{domain}.ranks.parquet"]) as (js, pqt):
        js.write_text(dumps_json(document))
        pq.write_table(table, pqt, compression="zstd")
    timings = {"load": loaded - started, "embed_and_rank": ranked - loaded}
    log(
        f"wrote {out / domain}.json and .ranks.parquet; "
        + ", ".join(f"{name} {value:.1f}s" for name, value in timings.items())
    )
    return {**document, "timings_s": {n: round(v, 3) for n, v in timings.items()}}


def score_users(
    model: Any, catalogue_tokens: Any, histories: Sequence[Sequence[int]], settings: HllmSettings
) -> tuple[Any, Any]:
    """``(states, item_vectors)``: normalised user states and item embeddings (for inspection)."""
    import torch.nn.functional as F

    embeddings = embed_catalogue(model, catalogue_tokens, settings.item_batch_size)
    states = user_states(model, embeddings, histories, settings.user_batch_size)
    return states, F.normalize(embeddings, dim=-1)
