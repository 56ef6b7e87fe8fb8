"""One domain's item index: embeddings and distinct semantic IDs, built and loaded.

Directory layout (written atomically)::

    embeddings.npy         float32 [n_items, dim], L2-normalised, rows in items-file order
    semantic_ids.parquet   item_id, code_0 … code_{L-1} (int64), sid (e.g. "<a_12><b_3><c_7>")
    codebooks.npy          float32 [levels, codebook_size, dim]
    report.json            settings, encoder, collision statistics and timings
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmgrid.atomic import atomic_dir, write_json
from mmgrid.errors import InputError
from mmgrid.items.encoder import TextEncoder
from mmgrid.items.semantic_ids import build_semantic_ids
from mmgrid.items.settings import IndexSettings
from mmgrid.items.text import TEMPLATE, item_text
from mmgrid.items.tokens import format_sid
from mmgrid.parquet_columns import read_columns

ITEM_COLUMNS = ("item_id", "title", "description")
EMBEDDINGS = "embeddings.npy"
SEMANTIC_IDS = "semantic_ids.parquet"
CODEBOOKS = "codebooks.npy"
REPORT = "report.json"


def read_items(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and check the columns of an items file that the index needs.

    A missing description is read as empty; ids must be unique and titles non-empty.
    """
    path = Path(path)
    items = read_columns(path, ITEM_COLUMNS, what="items file", fix="build it with the data stage")
    if items.empty:
        raise InputError(f"{path}: no items; the domain needs at least one item")
    items["description"] = items["description"].fillna("").astype(str)
    ids = items["item_id"]
    for row, (item_id, title) in enumerate(zip(ids, items["title"], strict=True)):
        if not isinstance(item_id, str) or not item_id:
            raise InputError(f"{path}: row {row} has an empty item_id; every item needs one")
        if not isinstance(title, str) or not title.strip():
            raise InputError(f"{path}: item {item_id} (row {row}) has an empty title; drop it")
    duplicated = ids[ids.duplicated()]
    if not duplicated.empty:
        raise InputError(f"{path}: item_id {duplicated.iloc[0]} appears more than once")
    return items.reset_index(drop=True)


def build_index(
    items_parquet: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    settings: IndexSettings,
    seed: int,
    *,
    encoder: TextEncoder | None = None,
) -> dict[str, Any]:
    """Embed one domain's items, give them distinct semantic IDs and write ``out_dir``.

    ``seed`` should already identify the domain (e.g. ``derive_seed(config_seed, domain)``);
    the same inputs, settings and seed give byte-identical arrays and parquet. Pass a loaded
    ``encoder`` to reuse it; it must be the one ``settings.encoder`` names. Returns the report.
    """
    start = time.perf_counter()
    items = read_items(items_parquet)
    read = time.perf_counter()
    if encoder is None:
        encoder = TextEncoder.from_settings(settings)
    loaded = time.perf_counter()
    texts = [item_text(t, d) for t, d in zip(items["title"], items["description"], strict=True)]
    embeddings = encoder.encode(texts, settings.batch_size, progress=True)
    embedded = time.perf_counter()
    try:
        sids = build_semantic_ids(
            embeddings,
            settings.levels,
            settings.codebook_size,
            seed=seed,
            max_iter=settings.kmeans_iters,
            n_init=settings.kmeans_n_init,
        )
    except InputError as exc:
        raise InputError(f"{items_parquet}: {exc}") from exc
    quantised = time.perf_counter()
    table = pd.DataFrame({"item_id": items["item_id"].astype(str)})
    for level in range(settings.levels):
        table[f"code_{level}"] = sids.codes[:, level]
    table["sid"] = [format_sid(row) for row in sids.codes]
    report: dict[str, Any] = {
        "n_items": len(items),
        "encoder": encoder.name,
        "encoder_instruction": encoder.instruction,
        "encoder_prompt": encoder.prompt,
        "pooling": encoder.pooling,
        "device": encoder.device,
        "dim": encoder.dim,
        "text_template": TEMPLATE,
        "levels": settings.levels,
        "codebook_size": settings.codebook_size,
        "kmeans_iters": settings.kmeans_iters,
        "kmeans_n_init": settings.kmeans_n_init,
        "seed": seed,
        **sids.stats,
    }
    with atomic_dir(out_dir, marker=REPORT) as tmp:
        np.save(tmp / EMBEDDINGS, embeddings)
        np.save(tmp / CODEBOOKS, sids.codebooks)
        table.to_parquet(tmp / SEMANTIC_IDS, index=False)
        report["timings_s"] = {
            "read_items": round(read - start, 3),
            "load_encoder": round(loaded - read, 3),
            "embed": round(embedded - loaded, 3),
            "semantic_ids": round(quantised - embedded, 3),
            "total": round(time.perf_counter() - start, 3),
        }
        write_json(tmp / REPORT, report)
    return report


@dataclasses.dataclass
class ItemIndex:
    """A loaded item index; row ``i`` of every field is the same item."""

    item_ids: list[str]
    embeddings: np.ndarray
    """float32 [n_items, dim], unit-length rows."""
    codes: np.ndarray
    """int64 [n_items, levels]."""
    sids: list[str]
    codebooks: np.ndarray
    """float32 [levels, codebook_size, dim]."""

    @property
    def levels(self) -> int:
        return self.codebooks.shape[0]

    @property
    def codebook_size(self) -> int:
        return self.codebooks.shape[1]

    @functools.cached_property
    def row_of_sid(self) -> dict[str, int]:
        """Map each semantic-ID string to its row."""
        return {sid: row for row, sid in enumerate(self.sids)}


def load_index(directory: str | os.PathLike[str]) -> ItemIndex:
    """Load an index directory written by :func:`build_index`, checking that it is whole."""
    directory = Path(directory)
    for name in (EMBEDDINGS, SEMANTIC_IDS, CODEBOOKS):
        if not (directory / name).is_file():
            raise InputError(f"{directory / name} not found; rebuild the item index of this domain")
    embeddings = np.load(directory / EMBEDDINGS, allow_pickle=False)
    codebooks = np.load(directory / CODEBOOKS, allow_pickle=False)
    table = pd.read_parquet(directory / SEMANTIC_IDS)
    code_columns = [f"code_{level}" for level in range(codebooks.shape[0])]
    if list(table.columns) != ["item_id", *code_columns, "sid"] or len(table) != len(embeddings):
        raise InputError(
            f"{directory}: {SEMANTIC_IDS}, {EMBEDDINGS} and {CODEBOOKS} do not match "
            "(columns, levels or row count); rebuild the item index of this domain"
        )
    return ItemIndex(
        item_ids=table["item_id"].astype(str).tolist(),
        embeddings=embeddings,
        codes=table[code_columns].to_numpy(dtype=np.int64),
        sids=table["sid"].astype(str).tolist(),
        codebooks=codebooks,
    )
