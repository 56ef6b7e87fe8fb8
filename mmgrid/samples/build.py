"""Build the samples of one (paradigm, domain, period) cell.

Training periods: one next-item sample per training target (see :mod:`mmgrid.samples.targets`),
history = the user's previous ``max_history`` items. ``semid`` adds, per sample, one auxiliary
alignment sample (chosen at random between SID history -> title and text history -> SID) and
the item-level index <-> text conversations (all of them in the first period, a share later).
The test period: one prompt per test user, no answer. Rows: item corpus first, then samples in
chronological order (the study trains in this order).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from mmgrid.atomic import write_parquet
from mmgrid.errors import InputError
from mmgrid.items.index import read_items
from mmgrid.items.text import truncate_description
from mmgrid.periods import Period
from mmgrid.samples import prompts
from mmgrid.samples.sequences import load_sequences
from mmgrid.samples.settings import SampleSettings
from mmgrid.samples.targets import (
    evaluation_targets,
    evaluation_users_seed,
    sample_order,
    training_targets,
)
from mmgrid.seeding import derive_seed

PARADIGMS = ("title", "semid")
SCHEMA = pa.schema(
    [
        ("task", pa.string()),
        ("user_id", pa.string()),
        ("item_id", pa.string()),
        ("timestamp", pa.int64()),
        ("history", pa.list_(pa.string())),
        ("messages", pa.string()),
    ]
)


class Catalogue:
    """Item texts and (for semid) semantic IDs of one domain, by item id."""

    def __init__(
        self,
        items_path: Path,
        sids_path: Path | None,
        description_chars: int | None,
        wording: prompts.Wording = prompts.MMGRID,
    ):
        items = read_items(items_path).to_dict("records")
        self.ids = [r["item_id"] for r in items]
        self.title = {r["item_id"]: r["title"] for r in items}
        text = wording.item_text
        self.text = {r["item_id"]: text(r["title"], r["description"]) for r in items}

        def cut(description: str) -> str:
            if description_chars is None:
                return description
            return truncate_description(description, description_chars) if description_chars else ""

        self.history_text = {r["item_id"]: text(r["title"], cut(r["description"])) for r in items}
        self.sid: dict[str, str] = {}
        if sids_path is not None:
            table = pq.read_table(sids_path, columns=["item_id", "sid"])
            self.sid = dict(
                zip(
                    table.column("item_id").to_pylist(),
                    table.column("sid").to_pylist(),
                    strict=True,
                )
            )
            missing = set(self.ids) - set(self.sid)
            if missing:
                raise InputError(
                    f"{sids_path}: no semantic ID for {len(missing)} item(s), e.g. {sorted(missing)[0]}; rebuild the index"
                )


def build_samples(
    paradigm: str,
    domain: str,
    period: Period,
    *,
    shards: Sequence[str | os.PathLike[str]],
    items_path: Path,
    sids_path: Path | None,
    is_test: bool,
    is_first: bool,
    settings: SampleSettings,
    seed: int,
) -> pa.Table:
    """The samples table of one cell (see the module docstring)."""
    if paradigm not in PARADIGMS:
        raise InputError(f"unknown paradigm {paradigm!r}; use one of {', '.join(PARADIGMS)}")
    if paradigm == "semid" and sids_path is None:
        raise ValueError("semid samples need the semantic IDs of the item index")
    seqs = load_sequences(shards)
    wording = prompts.WORDINGS[settings.prompt_wording]
    catalogue = Catalogue(items_path, sids_path, settings.history_description_chars, wording)
    rng = np.random.default_rng(derive_seed(seed, "samples", paradigm, domain, period.name))
    if is_test:
        users_rng = np.random.default_rng(evaluation_users_seed(seed, domain, period.name))
        rows = evaluation_targets(seqs, period, max_users=settings.eval_max_users, rng=users_rng)
    else:
        cap = settings.first_period_max_per_user if is_first else settings.later_max_per_user
        rows = training_targets(
            seqs, period, min_history=settings.min_history, max_per_user=cap, rng=rng
        )
    if rows.size == 0:
        what = "test users" if is_test else "training targets"
        raise InputError(
            f"domain {domain}, period {period.name}: no {what}; every user needs "
            f"{'an interaction in the window' if is_test else f'>= samples.min_history ({settings.min_history}) earlier interactions'}"
            " — check the shards, `periods` or the samples settings"
        )
    records: list[dict] = []
    if paradigm == "semid" and not is_test and settings.item_corpus:
        records += _item_corpus(catalogue, settings, is_first, rng, wording)
    users = seqs.row_users()
    for r in sample_order(seqs, rows):
        start = max(int(seqs.offsets[users[r]]), int(r) - settings.max_history)
        history = list(seqs.items[start:r])
        target = seqs.items[r]
        base = {
            "user_id": seqs.users[users[r]],
            "item_id": target,
            "timestamp": int(seqs.timestamps[r]),
            "history": history,
        }
        for task, messages in _tasks(
            paradigm, catalogue, history, target, is_test, settings.aux_tasks, rng, wording
        ):
            records.append(
                {**base, "task": task, "messages": json.dumps(messages, ensure_ascii=False)}
            )
    return pa.Table.from_pylist(records, schema=SCHEMA)


def _tasks(paradigm, cat: Catalogue, history, target, is_test, aux, rng, wording):
    texts = [cat.history_text[i] for i in history]
    if paradigm == "title":
        title = None if is_test else cat.title[target]
        yield "recommend", prompts.title_task(texts, title, wording)
        return
    sids = [cat.sid[i] for i in history]
    yield "recommend", prompts.sid_task(sids, None if is_test else cat.sid[target], wording)
    if aux and not is_test:
        if rng.random() < 0.5:
            yield "aux_sid_to_title", prompts.sid_to_title_task(sids, cat.title[target], wording)
        else:
            yield "aux_text_to_sid", prompts.text_to_sid_task(texts, cat.sid[target], wording)


def _item_corpus(
    cat: Catalogue, settings: SampleSettings, is_first: bool, rng, wording: prompts.Wording
) -> list[dict]:
    ids = list(cat.ids)
    perm = rng.permutation(len(ids))
    k = settings.item_group_size
    groups = [[ids[j] for j in perm[i : i + k]] for i in range(0, len(ids), k)]
    if not is_first:
        n = round(len(groups) * settings.later_item_corpus_share)
        groups = [groups[i] for i in np.sort(rng.choice(len(groups), size=n, replace=False))]
    out = []
    for group in groups:
        members = set(group)
        # draw a few more candidates than needed and drop group members (no O(n) pool per group)
        draw = min(len(ids), settings.item_examples + len(group))
        candidates = [ids[j] for j in rng.choice(len(ids), size=draw, replace=False)]
        examples = [i for i in candidates if i not in members][: settings.item_examples]
        for to_sid, task in ((True, "item_text_to_sid"), (False, "item_sid_to_text")):
            messages = prompts.item_corpus_conversation(
                [cat.text[i] for i in group],
                [cat.sid[i] for i in group],
                [cat.text[i] for i in examples],
                [cat.sid[i] for i in examples],
                to_sid=to_sid,
                wording=wording,
            )
            out.append(
                {
                    "task": task,
                    "user_id": None,
                    "item_id": None,
                    "timestamp": None,
                    "history": group,
                    "messages": json.dumps(messages, ensure_ascii=False),
                }
            )
    return out


def write_samples(table: pa.Table, path: Path) -> None:
    """Write a samples table atomically."""
    write_parquet(table, path)
