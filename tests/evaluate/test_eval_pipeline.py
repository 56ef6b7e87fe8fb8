"""evaluate_model end to end on a tiny random Qwen3: outputs, determinism, input errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mmgrid.errors import InputError
from mmgrid.evaluate import evaluate_model, settings_from_config
from mmgrid.evaluate.metrics import metrics_from_ranks
from tests.evaluate.conftest import TEST_START

FAST = {"beams": 6, "samples": 3, "max_new_tokens": 6, "batch_size": 4, "device": "cpu"}


def run(world, paradigm: str, out, **overrides):
    settings = settings_from_config({**FAST, **overrides})
    return evaluate_model(
        world["model"],
        paradigm,
        "Books",
        world.get(f"{paradigm}_samples", world["semid_samples"]),
        world["index"],
        out,
        settings,
        seed=11,
        interactions=world["shards"],
        reference_ms=TEST_START,
        encoder=world["encoder"],
        log=lambda _: None,
    )


@pytest.mark.parametrize("paradigm", ["semid", "title"])
def test_two_runs_write_identical_files(eval_world, tmp_path, paradigm):
    first = run(eval_world, paradigm, tmp_path / "a")
    run(eval_world, paradigm, tmp_path / "b")
    for name in ("Books.json", "Books.ranks.parquet"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    document = json.loads((tmp_path / "a" / "Books.json").read_text())
    ranks = pd.read_parquet(tmp_path / "a" / "Books.ranks.parquet")
    samples = pd.read_parquet(eval_world[f"{paradigm}_samples"])
    assert ranks.columns.tolist() == ["user_id", "item_id", "timestamp", "rank"]
    assert ranks[["user_id", "item_id", "timestamp"]].equals(
        samples[["user_id", "item_id", "timestamp"]]
    )
    rank_list = [None if pd.isna(r) else int(r) for r in ranks["rank"]]
    assert document["metrics"] == metrics_from_ranks(rank_list, (5, 10, 20))
    assert document["n_users"] == len(samples)
    assert document["n_unranked"] == sum(r is None for r in rank_list)
    assert document["model"] == str(eval_world["model"])
    assert document["settings"]["beams"] == 6
    assert first["timings_s"].keys() == {"decode_and_rank"}
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "Books.json",
        "Books.ranks.parquet",
    ]
    if paradigm == "semid":
        assert all(r is None or 1 <= r <= 6 for r in rank_list)


def test_title_ranks_skip_unrankable_targets(eval_world, tmp_path):
    document = run(eval_world, "title", tmp_path)
    ranks = pd.read_parquet(tmp_path / "Books.ranks.parquet")
    unseen = set(eval_world["items"]["item_id"].iloc[-8:])
    assert document["n_unrankable_items"] >= 8
    assert document["popularity_reference_date"] == "2023-11-14"
    diversity = document["generated_titles"]
    assert diversity["n"] == document["n_users"] * FAST["samples"]
    assert 1 <= diversity["distinct"] <= diversity["n"]
    for target, rank in zip(ranks["item_id"], ranks["rank"], strict=True):
        if target in unseen:
            assert pd.isna(rank)
    without = run(eval_world, "title", tmp_path / "plain", popularity={"enabled": False})
    n_items = len(eval_world["items"])
    assert without["n_unranked"] == 0  # every target is rankable without popularity
    plain = pd.read_parquet(tmp_path / "plain" / "Books.ranks.parquet")["rank"]
    assert plain.between(1, n_items).all()


def test_input_errors(eval_world, tmp_path):
    with pytest.raises(InputError, match="paradigm"):
        run(eval_world, "hllm", tmp_path)
    settings = settings_from_config(FAST)
    with pytest.raises(InputError, match="interaction shards"):
        evaluate_model(
            eval_world["model"],
            "title",
            "Books",
            eval_world["title_samples"],
            eval_world["index"],
            tmp_path,
            settings,
            seed=0,
            encoder=eval_world["encoder"],
            log=lambda _: None,
        )
    with pytest.raises(InputError, match="not found"):
        evaluate_model(
            eval_world["model"],
            "semid",
            "Books",
            tmp_path / "missing.parquet",
            eval_world["index"],
            tmp_path,
            settings,
            seed=0,
            log=lambda _: None,
        )
    assert not list(tmp_path.iterdir())  # nothing partial is left


@pytest.mark.parametrize("paradigm", ["semid", "title"])
def test_batch_evaluation_equals_one_model_at_a_time(eval_world, tmp_path, paradigm):
    """A domain loaded once and shared by several models gives each model's own files."""
    from mmgrid.evaluate import checked_encoder, evaluate_loaded, load_domain
    from mmgrid.models.loading import load_causal_lm

    run(eval_world, paradigm, tmp_path / "single")
    settings = settings_from_config(FAST)
    samples = eval_world.get(f"{paradigm}_samples", eval_world["semid_samples"])
    data = load_domain(
        "Books",
        paradigm,
        samples,
        eval_world["index"],
        settings,
        interactions=eval_world["shards"],
        reference_ms=TEST_START,
    )
    encoder = checked_encoder(eval_world["encoder"], "unused", eval_world["index"])
    model, tokenizer = load_causal_lm(eval_world["model"], "cpu")
    for out in ("first", "second"):
        evaluate_loaded(
            model,
            tokenizer,
            str(eval_world["model"]),
            paradigm,
            data,
            tmp_path / out,
            settings,
            seed=11,
            encoder=encoder,
            log=lambda _: None,
        )
        for name in ("Books.json", "Books.ranks.parquet"):
            assert (tmp_path / out / name).read_bytes() == (tmp_path / "single" / name).read_bytes()


@pytest.mark.parametrize("paradigm", ["semid", "title"])
def test_evaluation_job_writes_every_model_of_its_batch(eval_world, tmp_path, paradigm):
    """The paradigm's evaluation job (the workflow's, from its JSON params): each model's
    directory holds what evaluating it alone gives."""
    from mmgrid.items.settings import DEFAULT_ENCODER
    from mmgrid.paradigms import PARADIGMS
    from mmgrid.paradigms.chat_paradigm import ChatBatchJob, ChatDomainFiles
    from mmgrid.paradigms.protocol import ModelToEvaluate

    run(eval_world, paradigm, tmp_path / "single")
    samples = eval_world.get(f"{paradigm}_samples", eval_world["semid_samples"])
    job = ChatBatchJob(
        paradigm=paradigm,
        settings=settings_from_config(FAST),
        seed=11,
        encoder=DEFAULT_ENCODER,
        reference_ms=TEST_START,
        domains={
            "Books": ChatDomainFiles(
                samples=str(samples),
                index=str(eval_world["index"]),
                shards=tuple(str(p) for p in eval_world["shards"]),
            )
        },
        models=tuple(
            ModelToEvaluate(str(eval_world["model"]), ("Books",), str(tmp_path / m))
            for m in ("a", "b")
        ),
    )
    PARADIGMS[paradigm].evaluate(job.to_params(), threads=1, log=lambda _: None)
    for out in ("a", "b"):
        assert sorted(p.name for p in (tmp_path / out).iterdir()) == [
            "Books.json",
            "Books.ranks.parquet",
        ]
        for name in ("Books.json", "Books.ranks.parquet"):
            assert (tmp_path / out / name).read_bytes() == (tmp_path / "single" / name).read_bytes()


def test_title_diversity_counts_distinct_generations():
    from mmgrid.evaluate.model_evaluation import title_diversity

    assert title_diversity([["A", "B"], ["A", "A"], ["C", "B"]]) == {"n": 6, "distinct": 3}
    assert title_diversity([["Same"]] * 4) == {"n": 4, "distinct": 1}
    assert title_diversity([]) == {"n": 0, "distinct": 0}
