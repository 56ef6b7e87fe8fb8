"""The hllm: config section: the study's defaults, strict parsing, layer selection."""

from __future__ import annotations

import math

import pytest

from mmgrid.errors import InputError
from mmgrid.hllm.settings import HllmSettings, settings_from_config


def test_defaults_are_the_study_settings():
    s = settings_from_config(None)
    assert s == HllmSettings()
    assert s.item_layers is None and s.user_layers == (0, -1)
    assert s.item_prompt == "Compress the following sentence into embedding: "
    assert (s.max_text_tokens, s.max_items, s.num_negatives) == (64, 25, 512)
    assert (s.temperature_init, s.max_logit_scale, s.nce_threshold) == (0.07, 100.0, 0.99)


def test_values_are_parsed():
    s = settings_from_config({"user_layers": [0, 1, -1], "item_layers": [2], "nce_threshold": 1})
    assert s.user_layers == (0, 1, -1) and s.item_layers == (2,)
    assert s.nce_threshold == 1.0 and isinstance(s.nce_threshold, float)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"num_negative": 8}, "hllm.num_negative"),
        ({"num_negatives": 0}, "hllm.num_negatives"),
        ({"max_items": 0}, "hllm.max_items"),
        ({"user_layers": []}, "hllm.user_layers"),
        ({"item_layers": []}, "hllm.item_layers"),
        ({"temperature_init": 0.0}, "hllm.temperature_init"),
        ({"max_logit_scale": 5.0}, "hllm.max_logit_scale"),
        ({"nce_threshold": math.nan}, "hllm.nce_threshold"),
        ({"user_layers": "0,1"}, "hllm.user_layers"),
    ],
)
def test_bad_values_name_the_key(raw, key):
    with pytest.raises(InputError, match=key.replace(".", r"\.")):
        settings_from_config(raw)


def test_layers_resolve_from_both_ends():
    from mmgrid.hllm.checkpoint import resolve_layers

    assert resolve_layers((0, -1), 28, "k") == [0, 27]
    assert resolve_layers(None, 3, "k") == [0, 1, 2]
    assert resolve_layers((2, 0), 3, "k") == [2, 0]
    with pytest.raises(InputError, match=r"'hllm\.user_layers': layer 3 .* 3 layers"):
        resolve_layers((0, 3), 3, "hllm.user_layers")
    with pytest.raises(InputError, match="twice"):
        resolve_layers((0, -3), 3, "hllm.user_layers")
