"""Fuzz over merge specs: random combinations of valid and invalid fields, values and types.

Every case either succeeds with finite outputs (the inputs are finite) or exits 2 with one line
naming the spec key (or, for a result that overflows, the tensor). Seeded and bounded."""

from __future__ import annotations

import math
import random
import re
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from merge_fixtures import random_state, write_checkpoint
from safetensors.torch import load_file

from mmgrid.cli import main

NUMBERS = [0.0, 0.3, 1.0, -0.5, 2.0, 1e30, math.nan, math.inf, -math.inf]
ODD = [None, "x", True, [], {}, [1], {"a": 1}]
OPTIONS = {
    "linear": {"normalize": [True, False]},
    "task_arithmetic": {"scale": NUMBERS, "normalize": [True, False]},
    "ties": {
        "density": NUMBERS,
        "mask_rate": NUMBERS,
        "scale": NUMBERS,
        "preset": ["study", "mergekit", "other"],
        "scope": ["global", "per_tensor", "both"],
        "select": ["ge_threshold", "exact_k"],
        "divisor": ["count", "weight_sum", "none"],
    },
    "dare": {
        "drop_rate": NUMBERS,
        "rescale": [True, False],
        "merge": [{"method": "linear"}, {"method": "ties", "options": {"density": 0.5}}],
    },
    "mask_merging": {"drop_rate": NUMBERS},
    "extrapolate": {
        "strategy": ["linear_velocity", "moving_average", "exponential_decay"],
        "alpha": NUMBERS,
        "decay": NUMBERS,
    },
}
# a spec key path: "s.yaml: options.scale:", "unknown key 'options.x'", "merge spec: reference:"
NAMES_A_KEY = re.compile(
    r"(s\.yaml|merge spec): [A-Za-z_\[\]0-9.*]+[: ]|unknown key '|merged tensor '"
)


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    base = random_state(0)
    for name, seed in (("base", None), ("a", 1), ("b", 2)):
        write_checkpoint(root / name, base if seed is None else random_state(seed, base))
    return root


def pick(rng: random.Random, values: list[Any]) -> Any:
    return rng.choice(values) if rng.random() < 0.85 else rng.choice(ODD)


def random_spec(rng: random.Random) -> dict[str, Any]:
    method = rng.choice([*OPTIONS, "tie"])
    spec: dict[str, Any] = {
        "method": method,
        "inputs": [{"name": "a", "path": "a"}, {"name": "b", "path": "b"}],
    }
    if (method != "extrapolate" or rng.random() < 0.2) and rng.random() < 0.85:
        spec["reference"] = "base"
    choices = OPTIONS.get(method, {"x": NUMBERS})
    options = {k: pick(rng, v) for k, v in choices.items() if rng.random() < 0.4}
    if rng.random() < 0.1:
        options["bogus"] = 1
    if options:
        spec["options"] = options
    roll = rng.random()
    if roll < 0.3:
        spec["weights"] = [pick(rng, NUMBERS) for _ in range(rng.choice([2, 2, 2, 1, 3]))]
    elif roll < 0.45:
        spec["inputs"][rng.randrange(2)]["weight"] = pick(rng, NUMBERS)
    if rng.random() < 0.15:
        spec["output"] = {"dtype": rng.choice(["fp32", "fp16", "bf16", "int8"])}
    if rng.random() < 0.1:
        spec["seed"] = pick(rng, [0, 7, -1])
    if rng.random() < 0.05:
        spec["unknown_top_level"] = True
    return spec


def test_fuzzed_specs_succeed_finitely_or_exit_2_naming_a_key(ckpts, capsys):
    rng = random.Random(20260113)
    outcomes = {0: 0, 2: 0}
    spec_file = ckpts / "s.yaml"
    for case in range(250):
        spec = random_spec(rng)
        spec_file.write_text(yaml.safe_dump(spec))
        out = ckpts / f"out{case}"
        code = main(["merge", str(spec_file), str(out)])
        err = capsys.readouterr().err
        assert code in outcomes, (case, spec, err)
        outcomes[code] += 1
        if code == 0:
            for name, tensor in load_file(out / "model.safetensors").items():
                assert torch.isfinite(tensor.float()).all(), (case, spec, name)
        else:
            last = err.strip().splitlines()[-1]
            assert last.startswith("error: ") and NAMES_A_KEY.search(last), (case, spec, err)
            assert not out.exists()
    assert outcomes[0] >= 40 and outcomes[2] >= 100, outcomes
    assert not [p for p in ckpts.iterdir() if p.name.startswith(".")]
