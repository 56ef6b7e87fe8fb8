"""Evaluate one model on one domain's test prompts: decode, ground, rank, score, write.

Outputs (written together, atomically) in ``out_dir``:

- ``{domain}.json``: Recall/NDCG/MRR at every K (fractions), the number of users and of
  users whose target was not ranked, and provenance (model, inputs, settings, seed, encoder).
  It holds no timings, so the same inputs give a byte-identical file.
- ``{domain}.ranks.parquet``: one row per test user in samples-file order: user_id, item_id
  (the target), timestamp, rank (1-based; null when the target was not ranked).

semid ranks are positions in the trie-constrained beam list (no history exclusion, as in the
study); title ranks are positions in the full grounded ranking (history excluded, optional
popularity rescale, see :mod:`.grounding`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from mmgrid.atomic import atomic_paths, dumps_json
from mmgrid.errors import InputError
from mmgrid.evaluate.backends import Backend, prepare
from mmgrid.evaluate.grounding import min_distances, popularity_coefficients, ranking_keys
from mmgrid.evaluate.metrics import metrics_from_ranks, rank_by_key, rank_in_list, rank_table
from mmgrid.evaluate.settings import EvalSettings
from mmgrid.items.index import REPORT, ItemIndex, load_index
from mmgrid.items.settings import DEFAULT_ENCODER
from mmgrid.items.text import item_text
from mmgrid.parquet_columns import read_columns
from mmgrid.periods import ms_to_date

PARADIGMS = ("title", "semid")
SAMPLE_COLUMNS = ("task", "user_id", "item_id", "timestamp", "history", "messages")
RECOMMEND_TASK = "recommend"


def read_test_samples(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The ``recommend`` rows of a test samples file, in file order."""
    frame = read_columns(
        path, SAMPLE_COLUMNS, what="test samples file", fix="build the samples stage first"
    )
    return frame[frame["task"] == RECOMMEND_TASK].reset_index(drop=True)


def read_interactions(
    paths: Sequence[str | os.PathLike[str]], row_of: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """(item row, timestamp ms) of every interaction in ``paths`` with a catalogue item."""
    rows: list[np.ndarray] = []
    stamps: list[np.ndarray] = []
    for path in paths:
        table = pq.read_table(path, columns=["item_id", "timestamp"]).to_pandas()
        item_rows = table["item_id"].map(row_of)
        known = item_rows.notna().to_numpy()
        rows.append(item_rows.to_numpy()[known].astype(np.int64))
        stamps.append(table["timestamp"].to_numpy(dtype=np.int64)[known])
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(rows), np.concatenate(stamps)


def index_encoder(index_dir: str | os.PathLike[str]) -> tuple[str | None, str | None]:
    """The encoder name and instruction recorded in the index report (None when unknown)."""
    path = Path(index_dir) / REPORT
    report = json.loads(path.read_text()) if path.is_file() else {}
    return report.get("encoder"), report.get("encoder_instruction")


@dataclasses.dataclass(frozen=True)
class DomainData:
    """One domain's evaluation inputs, loaded once and shared by every model evaluated on it."""

    domain: str
    test_samples: str
    index_dir: str
    samples: pd.DataFrame
    index: ItemIndex
    targets: list[int]
    """Catalogue row of each test user's target item."""
    histories: list[list[int]]
    """Catalogue rows of each test user's history items (unknown items dropped)."""
    popularity: np.ndarray | None
    """title: the popularity coefficient of every item (None when the rescale is off)."""
    extra: Mapping[str, Any]
    """Provenance fields the metrics document records (popularity reference date, ...)."""


def load_domain(
    domain: str,
    paradigm: str,
    test_samples_path: str | os.PathLike[str],
    index_dir: str | os.PathLike[str],
    settings: EvalSettings,
    *,
    interactions: Sequence[str | os.PathLike[str]] = (),
    reference_ms: int | None = None,
) -> DomainData:
    """Read a domain's test prompts and item index (and, for title, the popularity coefficients).

    ``interactions`` (period shards with item_id, timestamp) and ``reference_ms`` (default
    reference date, e.g. the test window's start) feed the title-mode popularity rescale.
    """
    if paradigm not in PARADIGMS:
        raise InputError(
            f"cannot evaluate paradigm {paradigm!r}; use one of {', '.join(PARADIGMS)}"
        )
    samples = read_test_samples(test_samples_path)
    index = load_index(index_dir)
    row_of = {item: row for row, item in enumerate(index.item_ids)}
    unknown = sorted(set(samples["item_id"]) - set(row_of))
    if unknown:
        raise InputError(
            f"{test_samples_path}: target item {unknown[0]} is not in the item index {index_dir}; "
            "build the samples and the index from the same domain data"
        )
    popularity = None
    extra: dict[str, Any] = {}
    if paradigm == "title" and settings.popularity.enabled:
        reference = settings.reference_ms(reference_ms)
        if reference is None or not interactions:
            raise InputError(
                "config key 'evaluate.popularity.enabled' is true, which needs the domain's "
                "interaction shards and a reference date (evaluate.popularity.reference_date "
                "or the test window's start); set it to false to rank without popularity"
            )
        rows, stamps = read_interactions(interactions, row_of)
        popularity = popularity_coefficients(
            rows,
            stamps,
            len(index.item_ids),
            reference_ms=reference,
            half_life_days=settings.popularity.half_life_days,
            gamma=settings.popularity.gamma,
        )
        extra["popularity_reference_date"] = ms_to_date(reference)
        extra["n_unrankable_items"] = int(np.count_nonzero(popularity == 0))
    return DomainData(
        domain=domain,
        test_samples=str(test_samples_path),
        index_dir=str(index_dir),
        samples=samples,
        index=index,
        targets=[row_of[item] for item in samples["item_id"]],
        histories=[[row_of[i] for i in h if i in row_of] for h in samples["history"]],
        popularity=popularity,
        extra=extra,
    )


def evaluate_model(
    model_dir: str | os.PathLike[str],
    paradigm: str,
    domain: str,
    test_samples_path: str | os.PathLike[str],
    index_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    settings: EvalSettings,
    seed: int,
    *,
    interactions: Sequence[str | os.PathLike[str]] = (),
    reference_ms: int | None = None,
    encoder: Any = None,
    encoder_source: str = DEFAULT_ENCODER,
    progress: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Load ``model_dir`` and one domain's inputs, evaluate, and write the files (see module).

    ``encoder`` is a loaded :class:`~mmgrid.items.TextEncoder`, else ``encoder_source`` is
    loaded on the CPU; it must be the encoder the index was built with.
    """
    from mmgrid.models.loading import load_causal_lm

    data = load_domain(
        domain,
        paradigm,
        test_samples_path,
        index_dir,
        settings,
        interactions=interactions,
        reference_ms=reference_ms,
    )
    model, tokenizer = load_causal_lm(model_dir, settings.device)
    if paradigm == "title":
        encoder = checked_encoder(encoder, encoder_source, index_dir)
    return evaluate_loaded(
        model,
        tokenizer,
        str(model_dir),
        paradigm,
        data,
        out_dir,
        settings,
        seed,
        encoder=encoder,
        progress=progress,
        log=log,
    )


def evaluate_loaded(
    model: Any,
    tokenizer: Any,
    model_name: str,
    paradigm: str,
    data: DomainData,
    out_dir: str | os.PathLike[str],
    settings: EvalSettings,
    seed: int,
    *,
    encoder: Any = None,
    progress: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Evaluate a loaded model on a loaded domain and write ``{domain}.json`` and ``.ranks.parquet``.

    title needs ``encoder`` (see :func:`checked_encoder`). Returns the metrics document plus
    ``timings_s``.
    """
    from mmgrid.evaluate.generate import answer_prompt_ids

    started = time.perf_counter()
    samples = data.samples
    prompts = [answer_prompt_ids(tokenizer, json.loads(m), paradigm) for m in samples["messages"]]
    log(
        f"evaluating {model_name} ({paradigm}) on {data.domain}: {len(prompts)} users, "
        f"{len(data.index.item_ids)} items"
    )
    extra: dict[str, Any] = {}
    decoder = prepare(model, settings.backend, settings.compile)
    if paradigm == "semid":
        ranks = _semid_ranks(
            decoder, model, tokenizer, prompts, data.targets, data.index, settings, progress
        )
    else:
        if encoder is None:
            raise InputError("title evaluation needs the item index's text encoder")
        ranks, titles = _title_ranks(
            decoder,
            model,
            tokenizer,
            prompts,
            data,
            settings,
            seed,
            encoder=encoder,
            progress=progress,
        )
        extra = {"encoder": encoder.name, "generated_titles": title_diversity(titles), **data.extra}
    decoded = time.perf_counter()
    document = {
        "domain": data.domain,
        "paradigm": paradigm,
        "model": model_name,
        "test_samples": data.test_samples,
        "index": data.index_dir,
        "seed": seed,
        "settings": dataclasses.asdict(settings),
        "n_users": len(ranks),
        "n_unranked": sum(r is None for r in ranks),
        "metrics": metrics_from_ranks(ranks, settings.k),
        **extra,
    }
    table = rank_table(samples["user_id"], samples["item_id"], samples["timestamp"], ranks)
    out = Path(out_dir)
    with atomic_paths([out / f"{data.domain}.json", out / f"{data.domain}.ranks.parquet"]) as (
        js,
        pqt,
    ):
        js.write_text(dumps_json(document))
        pq.write_table(table, pqt, compression="zstd")
    seconds = decoded - started
    if "generated_titles" in document:
        diversity = document["generated_titles"]
        log(f"{diversity['distinct']} distinct titles among {diversity['n']} generated")
    log(f"wrote {out / data.domain}.json and .ranks.parquet; decode and rank {seconds:.1f}s")
    return {**document, "timings_s": {"decode_and_rank": round(seconds, 3)}}


def _semid_ranks(
    decoder: Backend, model, tokenizer, prompts, targets, index: ItemIndex, settings, progress
):
    from mmgrid.evaluate.generate import sid_token_ids
    from mmgrid.evaluate.trie import SidTrie

    token_ids = sid_token_ids(tokenizer, index.levels, index.codebook_size)
    trie = SidTrie.from_codes(index.codes, token_ids, tokenizer.eos_token_id)
    ranked = decoder.semid_beam_search(
        model,
        tokenizer,
        prompts,
        trie,
        beams=settings.beams,
        batch_size=settings.batch_size,
        progress=progress,
    )
    return [rank_in_list(rows, target) for rows, target in zip(ranked, targets, strict=True)]


def _title_ranks(
    decoder: Backend,
    model,
    tokenizer,
    prompts,
    data: DomainData,
    settings: EvalSettings,
    seed: int,
    *,
    encoder,
    progress: bool,
) -> tuple[list[int | None], list[list[str]]]:
    titles = decoder.generate_titles(
        model,
        tokenizer,
        prompts,
        mode=settings.title_mode,
        samples=settings.samples,
        temperature=settings.temperature,
        max_new_tokens=settings.max_new_tokens,
        batch_size=settings.batch_size,
        seed=seed,
        progress=progress,
    )
    flat = [item_text(t) for user in titles for t in user]
    vectors = encoder.encode(flat, settings.encoder_batch_size)
    bounds = np.cumsum([0, *map(len, titles)])
    ranks: list[int | None] = []
    for user, (target, history) in enumerate(zip(data.targets, data.histories, strict=True)):
        generated = vectors[bounds[user] : bounds[user + 1]]
        keys = ranking_keys(
            min_distances(generated, data.index.embeddings), history, data.popularity
        )
        ranks.append(rank_by_key(keys, target))
    return ranks, titles


def title_diversity(titles: Sequence[Sequence[str]]) -> dict[str, int]:
    """How many titles were generated and how many distinct ones: a model that writes the same
    title for every user (``distinct`` 1) has not learned to condition on the history, and its
    ranking is popularity plus one fixed guess."""
    flat = [t for user in titles for t in user]
    return {"n": len(flat), "distinct": len(set(flat))}


def checked_encoder(encoder: Any, source: str, index_dir: str | os.PathLike[str]) -> Any:
    """The given or loaded text encoder, checked against the one that built the index.

    A loaded encoder takes the index's instruction, so generated titles are embedded exactly
    as the catalogue was."""
    built_with, instruction = index_encoder(index_dir)
    if encoder is None:
        from mmgrid.items.encoder import TextEncoder

        encoder = TextEncoder(source, device="cpu", instruction=instruction)
    if built_with is not None and built_with != encoder.name:
        raise InputError(
            f"{index_dir}: the item index was built with encoder {built_with!r} but generated "
            f"titles would be embedded with {encoder.name!r}; set index.encoder to the index's "
            "encoder or rebuild the index"
        )
    if encoder.instruction != instruction:
        raise InputError(
            f"{index_dir}: the item index was embedded with instruction {instruction!r} but "
            f"generated titles would be embedded with {encoder.instruction!r}; rebuild the index "
            "(index.instruction)"
        )
    return encoder
