"""The ``evaluate:`` config section."""

from __future__ import annotations

import pytest

from mmgrid.errors import InputError
from mmgrid.evaluate.settings import EvalSettings, settings_from_config
from mmgrid.periods import date_to_ms


def test_defaults_are_the_study():
    s = settings_from_config(None)
    assert s == EvalSettings()
    assert (s.k, s.beams, s.title_mode, s.samples, s.temperature, s.max_new_tokens) == (
        (5, 10, 20),
        20,
        "sample",
        5,
        0.6,
        32,
    )
    assert (s.popularity.enabled, s.popularity.half_life_days, s.popularity.gamma) == (
        True,
        30.0,
        0.25,
    )


def test_nested_values_and_reference_date():
    s = settings_from_config(
        {"k": [1, 3], "title_mode": "beam", "popularity": {"reference_date": "2023-01-01"}}
    )
    assert s.k == (1, 3) and s.title_mode == "beam"
    assert s.reference_ms(None) == date_to_ms("2023-01-01")
    assert settings_from_config({}).reference_ms(123) == 123


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"beam": 3}, "evaluate.beam"),
        ({"k": []}, "evaluate.k"),
        ({"k": [0, 5]}, "evaluate.k"),
        ({"beams": 0}, "evaluate.beams"),
        ({"title_mode": "greedy"}, "evaluate.title_mode"),
        ({"temperature": 0}, "evaluate.temperature"),
        ({"device": "tpu"}, "evaluate.device"),
        ({"popularity": {"half_life_days": -1}}, "evaluate.popularity.half_life_days"),
        ({"popularity": {"reference_date": "Jan 1"}}, "evaluate.popularity.reference_date"),
        ({"popularity": {"gama": 1}}, "evaluate.popularity.gama"),
    ],
)
def test_bad_values_name_the_key(raw, key):
    with pytest.raises(InputError, match=key.replace(".", r"\.")):
        settings_from_config(raw)
