import math

import pytest

from mmgrid.train.schedule import lr_at, warmup_steps_for


def test_warmup_then_cosine_hand_computed():
    # total 10 steps, warmup 2, peak 1.0
    expected = {
        0: 0.5,
        1: 1.0,
        2: 1.0,  # first decay step: progress 0
        3: 0.5 * (1 + math.cos(math.pi / 8)),  # 0.96194
        6: 0.5,  # progress 4/8
        9: 0.5 * (1 + math.cos(7 * math.pi / 8)),  # 0.03806
    }
    for step, lr in expected.items():
        assert lr_at(step, 10, 1.0, 2) == pytest.approx(lr), step
    assert lr_at(3, 10, 1.0, 2) == pytest.approx(0.961940, abs=1e-6)


def test_min_lr_ratio_and_no_warmup():
    assert lr_at(6, 10, 2e-3, 2, min_lr_ratio=0.1) == pytest.approx(2e-3 * (0.1 + 0.9 * 0.5))
    assert lr_at(0, 4, 1.0, 0) == 1.0
    assert lr_at(2, 4, 1.0, 0) == pytest.approx(0.5)
    assert lr_at(100, 4, 1.0, 0) == 0.0  # past the end stays at the floor


def test_warmup_steps_from_ratio_or_override():
    assert warmup_steps_for(10, 0.15) == 2  # ceil(1.5)
    assert warmup_steps_for(10, 0.0) == 0
    assert warmup_steps_for(10, 0.5, warmup_steps=3) == 3
    assert warmup_steps_for(10, 0.0, warmup_steps=50) == 10
