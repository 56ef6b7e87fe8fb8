"""The workflow's parse-time config checks (Study.from_config), without Snakemake: every
merge section validated with its config key, canonical order, and a fuzz over configs."""

from __future__ import annotations

import copy
import math
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from mmgrid.cli import main
from mmgrid.errors import InputError
from mmgrid.study import Study
from mmgrid.study.canonical import canonical_config
from mmgrid.study.config import check_config_files, load_config_files

ROOT = Path(__file__).resolve().parents[2]
TINY = yaml.safe_load((ROOT / "tests" / "config.tiny.yaml").read_text())


def tiny(**changes: Any) -> dict[str, Any]:
    """The tiny config with ``changes`` applied (``a__b`` sets config['a']['b'])."""
    config = copy.deepcopy(TINY)
    for key, value in changes.items():
        *parents, last = key.split("__")
        node = config
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return config


def fails(config: dict[str, Any], *fragments: str) -> str:
    with pytest.raises(InputError) as err:
        Study.from_config(config)
    for f in fragments:
        assert f in str(err.value), str(err.value)
    return str(err.value)


def test_tiny_config_passes_with_its_grid():
    study = Study.from_config(TINY)
    assert len(study.merges) == 21 and len(study.settings.train) == 2 * 2 * 3 + 2
    assert study.config["paradigms"] == ["semid", "title"]  # schema default, sorted


def test_a_misspelt_per_domain_key_fails_instead_of_being_ignored():
    fails(
        tiny(merges__temporal__domains={"Books": {"weigths": [0.25]}}),
        "config key merges.temporal.domains.Books.weigths: unknown key",
        "allowed here: weights",
    )


def test_a_scalar_where_a_weight_list_belongs_names_the_key():
    fails(
        tiny(merges__temporal__domains={"Books": {"weights": 0.5}}),
        "config key merges.temporal.domains.Books.weights: 0.5 is not of type 'array'",
    )


def test_engine_options_are_checked_at_parse_time_with_the_config_key():
    fails(
        tiny(merges__cross_domain__options={"ties": {"mask_rat": 0.8}}),
        "'merges.cross_domain.options.ties.mask_rat'",
        "fix the spelling",
    )
    fails(
        tiny(merges__temporal__options={"linear": {"normalize": "yes"}}),
        "merges.temporal.options.linear.normalize: must be bool",
    )
    fails(tiny(merges__cross_domain__options={"tie": {}}), "merges.cross_domain.options", "'tie'")


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"merges__temporal__weights": [0.5, 0.501]}, "merges.temporal.weights"),
        (
            {"merges__temporal__domains": {"Books": {"weights": [0.25, 0.254]}}},
            "merges.temporal.domains.Books.weights",
        ),
    ],
)
def test_weights_that_share_a_merge_name_say_which_key_to_change(changes, key):
    message = fails(tiny(**changes), f"config key {key}: weights ", "change one of them in")
    assert "-w0.50" in message or "-w0.25" in message


@pytest.mark.parametrize("bad", [math.nan, math.inf, -0.1, "0.5", True])
def test_temporal_weights_are_finite_numbers_in_range(bad):
    message = fails(tiny(merges__temporal__weights=[0.0, bad]), "merges.temporal.weights")
    assert "config key" in message


def test_temporal_weights_above_one_only_extrapolate_a_linear_merge():
    fails(
        tiny(merges__temporal__method="ties", merges__temporal__weights=[0.0, 1.5]),
        "merges.temporal.weights: 1.5 must be in [0, 1]",
        "method linear only",
    )


def test_non_finite_settings_numbers_name_the_key():
    fails(tiny(train__lr=math.nan), "'train (cell", ".lr' must be a finite number")
    fails(tiny(evaluate__temperature=math.inf), "'evaluate.temperature' must be a finite number")


def test_duplicate_keys_in_a_config_file_fail_naming_file_and_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("domains: [Books]\ntrain:\n  lr: 0.1\n  lr: 0.2\n")
    with pytest.raises(InputError, match=rf"{path}, line 4, column 3: duplicate key 'lr'"):
        check_config_files([path])


def test_check_config_command(tmp_path, capsys):
    assert main(["check-config", str(ROOT / "tests" / "config.tiny.yaml")]) == 0
    assert "config OK: 2 domains, 14 cells, 21 merges" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("domains: [Books\n")
    assert main(["check-config", str(bad)]) == 2
    assert f"{bad}, line 2" in capsys.readouterr().err


def test_token_cut_needs_a_base_model_directory(tmp_path):
    fails(
        tiny(data__description_max_tokens=64),
        "data.description_max_tokens cuts descriptions",
        "needs base.path",
    )
    (tmp_path / "Qwen3").mkdir()
    study = Study.from_config(
        tiny(data__description_max_tokens=64, base__path=str(tmp_path / "Qwen3"))
    )
    assert study.settings.ingest.description_max_tokens == 64
    assert study.settings.ingest.recency_days == (30, 90)
    assert study.ingest_inputs("Books")["tokenizer"] == f"{tmp_path / 'Qwen3'}/tokenizer.json"


def test_later_config_files_win_key_by_key(tmp_path):
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("domains: [Books]\ntrain: {lr: 0.1, epochs: 3}\n")
    second.write_text("train: {lr: 0.2}\n")
    assert load_config_files([first, second])["train"] == {"lr": 0.2, "epochs": 3}


# -- canonical order -----------------------------------------------------------------------


def permuted(value: Any, rng: random.Random | None, path: tuple[str, ...] = ()) -> Any:
    """``value`` with every mapping's keys and every list shuffled by ``rng`` (reversed when it
    is None), except the lists whose order means something (a period's bounds, the temporal
    [older, later] periods)."""

    def reorder(items: list) -> list:
        if rng is None:
            return items[::-1]
        rng.shuffle(items)
        return items

    if isinstance(value, dict):
        return {k: permuted(value[k], rng, (*path, k)) for k in reorder(list(value))}
    if isinstance(value, list):
        items = [permuted(v, rng, (*path, "[]")) for v in value]
        ordered = (len(path) == 2 and path[0] == "periods") or path == (
            "merges",
            "temporal",
            "periods",
        )
        return items if ordered else reorder(items)
    return value


def order_rich_config() -> dict[str, Any]:
    """The tiny config with every order-free list and mapping spelled out."""
    return tiny(
        paradigms=["title", "semid"],
        job_groups=["train", "merges", "data"],
        data__recency_days=[90, 30],
        periods={
            "pretrain": ["2017-07-01", "2022-07-01"],
            "phase1": ["2022-07-01", "2022-10-01"],
            "phase2": ["2022-10-01", "2023-01-01"],
            "test": ["2023-01-01", "2023-04-01"],
        },
        merges__cross_domain__sets=[["Video_Games", "Books"]],
        merges__cross_domain__methods=["ties", "linear"],
        merges__cross_domain__references=["pooled", "base"],
        merges__cross_domain__options={"ties": {"mask_rate": 0.7, "scope": "global"}},
        merges__temporal__weights=[1.0, 0.0, 0.5],
        merges__temporal__domains={"Books": {"weights": [0.5, 0.25, 0.0, 1.0]}},
        evaluate__k=[10, 5],
        train__lora={"target_modules": ["v_proj", "q_proj"]},
        train__domains={"Books": {"lr": 3.0e-3, "epochs": 1}},
    )


def test_every_order_free_list_and_mapping_gives_the_same_canonical_config():
    config = order_rich_config()
    reference = Study.from_config(config)
    rng = random.Random(13)
    for seed in [None, *range(20)]:
        other = Study.from_config(permuted(config, rng if seed is not None else None))
        assert repr(other.config) == repr(reference.config)
        assert [other.merge_job(*k) for k in other.merges] == [
            reference.merge_job(*k) for k in reference.merges
        ]
        assert repr(other.settings.train) == repr(reference.settings.train)
    assert list(reference.config["periods"]) == ["pretrain", "phase1", "phase2", "test"]


def test_canonical_config_keeps_ordered_lists():
    config = {
        "merges": {"temporal": {"periods": ["phase2", "phase1"]}},
        "hllm": {"user_layers": [3, 0]},
    }
    assert canonical_config(config) == config


# -- fuzz -------------------------------------------------------------------------------------

ODD_VALUES = [None, 0, -1, 0.5, 1.0e9, math.nan, math.inf, "x", "", True, [], {}, [0.5], {"a": 1}]
KEYS = [
    tuple(key.split("."))
    for key in [
        "seed",
        "kcore",
        "domains",
        "paradigms",
        "test_period",
        "periods.phase1",
        "data.recency_days",
        "data.source",
        "data.synthetic.n_users",
        "base.model.hidden_size",
        "index.levels",
        "samples.max_history",
        "train.lr",
        "train.epochs",
        "train.domains",
        "train.lora.target_modules",
        "evaluate.k",
        "evaluate.temperature",
        "hllm.user_layers",
        "analysis.metric",
        "merges.cross_domain.period",
        "merges.cross_domain.sets",
        "merges.cross_domain.methods",
        "merges.cross_domain.references",
        "merges.cross_domain.options",
        "merges.cross_domain.options.ties",
        "merges.cross_domain.options.ties.density",
        "merges.cross_domain.options.task_arithmetic.scale",
        "merges.cross_domain.bogus",
        "merges.temporal.weights",
        "merges.temporal.periods",
        "merges.temporal.reference",
        "merges.temporal.method",
        "merges.temporal.domains",
        "merges.temporal.domains.Books",
        "merges.temporal.domains.Books.weights",
        "merges.temporal.options.linear.normalize",
    ]
]
VALID = {
    ("merges", "temporal", "weights"): [[0.0, 1.0], [0.2, 0.4, 0.6]],
    ("merges", "temporal", "reference"): ["base", "pooled", "pretrain"],
    ("merges", "temporal", "method"): ["linear", "ties", "task_arithmetic"],
    ("merges", "cross_domain", "methods"): [["linear"], ["mask_merging", "ties"]],
    ("merges", "cross_domain", "options", "ties", "density"): [0.1, 1.0],
    ("train", "lr"): [1.0e-4],
    ("evaluate", "k"): [[1, 3]],
}


def mutate(config: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    config = copy.deepcopy(config)
    for _ in range(rng.randint(1, 3)):
        key = rng.choice(KEYS)
        values = VALID.get(key, []) + ODD_VALUES
        node = config
        for part in key[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        if rng.random() < 0.1:
            node.pop(key[-1], None)
        else:
            node[key[-1]] = copy.deepcopy(rng.choice(values))
    return config


KEY_WORDS = ("config key", "unknown config key", "config: ")


def test_fuzzed_configs_pass_or_fail_naming_a_key():
    """Every case either passes every check or raises InputError naming the config key; no
    other exception escapes (a raw TypeError would be a crash, not a message)."""
    rng = random.Random(2026)
    outcomes = {"ok": 0, "error": 0}
    for case in range(300):
        config = mutate(TINY, rng)
        try:
            Study.from_config(config)
            outcomes["ok"] += 1
        except InputError as e:
            outcomes["error"] += 1
            message = str(e)
            assert any(w in message for w in KEY_WORDS), (case, config, message)
    assert outcomes["ok"] >= 20 and outcomes["error"] >= 100, outcomes


def test_the_id_rows_spread_reaches_the_semid_base_and_not_the_item_index():
    default, spread = (
        Study.from_config(tiny()),
        Study.from_config(tiny(index__token_init_noise=1.0)),
    )
    assert spread.index_job().to_params() == default.index_job().to_params()
    assert "token_init_noise" not in default.paradigm_base_job("semid").to_params()
    assert spread.paradigm_base_job("semid").to_params()["token_init_noise"] == 1.0
