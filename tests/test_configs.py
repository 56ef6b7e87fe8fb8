"""The shipped synthetic configs: the default plants different recency per domain, and the
negative control differs from it in the recency knob alone."""

from __future__ import annotations

import copy
from pathlib import Path

from mmgrid.data.synthetic.profiles import load_profile
from mmgrid.study import Study
from mmgrid.study.config import load_config_files

ROOT = Path(__file__).resolve().parents[1]


def _knobs(config: dict) -> dict[str, float]:
    """The recency knob each domain of a synthetic config is generated with."""
    synthetic = Study.from_config(config).settings.synthetic
    return {
        domain: load_profile(domain).recency if s.recency is None else s.recency
        for domain, s in synthetic.items()
    }


def test_default_plants_clearly_different_recency_per_domain() -> None:
    config = load_config_files([ROOT / "config.yaml"])
    knobs = sorted(_knobs(config).values())
    assert len(set(knobs)) == len(knobs) and knobs[-1] - knobs[0] >= 0.5


def test_null_recency_is_the_default_with_one_knob_for_every_domain() -> None:
    default = load_config_files([ROOT / "config.yaml"])
    null = load_config_files([ROOT / "config.yaml", ROOT / "configs" / "null_recency.yaml"])
    knobs = _knobs(null)
    assert set(knobs.values()) == {0.5}
    assert sum(_knobs(default).values()) / len(knobs) == 0.5  # the default's mean knob
    expected = copy.deepcopy(default)
    expected["data"]["synthetic"]["recency"] = 0.5
    assert null == expected


def test_recency_demo_keeps_the_default_knobs_and_stacks_with_the_null_overlay() -> None:
    default = load_config_files([ROOT / "config.yaml"])
    demo = load_config_files([ROOT / "config.yaml", ROOT / "configs" / "recency_demo.yaml"])
    assert _knobs(demo) == _knobs(default)
    assert demo["domains"] == default["domains"] and demo["periods"] == default["periods"]
    overlays = [ROOT / "configs" / name for name in ("recency_demo.yaml", "null_recency.yaml")]
    null = load_config_files([ROOT / "config.yaml", *overlays])
    assert set(_knobs(null).values()) == {0.5}
    expected = copy.deepcopy(demo)
    expected["data"]["synthetic"]["recency"] = 0.5
    assert null == expected
