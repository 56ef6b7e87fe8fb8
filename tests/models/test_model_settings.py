import pytest

from mmgrid.errors import InputError
from mmgrid.models.settings import BaseSettings, ModelSettings, settings_from_config


def test_defaults_are_the_tiny_qwen3():
    s = settings_from_config(None)
    assert s == BaseSettings()
    assert s.path is None
    m = s.model
    assert (m.hidden_size, m.num_hidden_layers, m.intermediate_size) == (64, 2, 256)
    assert (m.num_attention_heads, m.num_key_value_heads, m.head_dim) == (4, 2, 16)


def test_nested_overrides_and_int_to_float():
    s = settings_from_config(
        {"path": "/models/qwen3", "model": {"hidden_size": 128}, "pretrain": {"lr": 1}}
    )
    assert s.path == "/models/qwen3"
    assert s.model.hidden_size == 128
    assert s.model.num_hidden_layers == 2
    assert s.pretrain.lr == 1.0 and isinstance(s.pretrain.lr, float)
    assert s.to_dict()["model"]["hidden_size"] == 128


@pytest.mark.parametrize(
    ("cfg", "needle"),
    [
        ({"modle": {}}, "'base.modle'"),
        ({"model": {"hiden_size": 3}}, "'base.model.hiden_size'"),
        ({"model": {"hidden_size": "64"}}, "'base.model.hidden_size' must be an integer"),
        ({"model": {"hidden_size": True}}, "'base.model.hidden_size' must be an integer"),
        ({"pretrain": {"lr": "1e-3"}}, "write 1.0e-3"),
        ({"pretrain": {"epochs": 0}}, "'base.pretrain.epochs' must be > 0"),
        ({"pretrain": {"max_steps": 0}}, "'base.pretrain.max_steps' must be > 0"),
        ({"pretrain": {"warmup_ratio": 1.5}}, "'base.pretrain.warmup_ratio'"),
        ({"pretrain": {"grad_clip": -1.0}}, "'base.pretrain.grad_clip' must be >= 0"),
        ({"model": {"num_key_value_heads": 3}}, "multiple of 'base.model.num_key_value_heads'"),
        ({"model": {"head_dim": 15}}, "'base.model.head_dim' must be even"),
        ({"tokenizer": {"vocab_size": 100}}, "'base.tokenizer.vocab_size' must be >= 300"),
        ({"pretrain": {"max_length": 1024}}, "must not exceed 'base.model.max_position"),
        ({"model": 3}, "'base.model' must be a mapping"),
    ],
)
def test_bad_config_names_the_key(cfg, needle):
    with pytest.raises(InputError) as err:
        settings_from_config(cfg)
    assert needle in str(err.value)


def test_null_allowed_only_where_optional():
    assert settings_from_config({"path": None, "pretrain": {"max_steps": None}}).path is None
    assert settings_from_config({"model": None}).model == ModelSettings()
    with pytest.raises(InputError, match=r"'base\.pretrain\.lr' must not be null"):
        settings_from_config({"pretrain": {"lr": None}})
    assert ModelSettings().rope_theta == 1_000_000.0
