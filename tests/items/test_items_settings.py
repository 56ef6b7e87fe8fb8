import pytest

from mmgrid.errors import InputError
from mmgrid.items import DEFAULT_ENCODER, IndexSettings, settings_from_config


def test_defaults_and_overrides():
    assert settings_from_config(None) == IndexSettings()
    assert settings_from_config({}).encoder == DEFAULT_ENCODER
    settings = settings_from_config({"levels": 4, "codebook_size": 256, "device": "cpu"})
    assert (settings.levels, settings.codebook_size, settings.device) == (4, 256, "cpu")
    assert settings.kmeans_iters == IndexSettings().kmeans_iters


def test_unknown_key_is_named():
    with pytest.raises(InputError, match=r"index\.codebooksize"):
        settings_from_config({"codebooksize": 32})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("levels", 0),
        ("levels", 27),
        ("levels", "3"),
        ("codebook_size", 1),
        ("codebook_size", True),
        ("batch_size", 2.5),
        ("threads", 0),
        ("device", "tpu"),
        ("encoder", ""),
        ("encoder", 3),
        ("token_init_noise", -0.5),
        ("token_init_noise", float("nan")),
    ],
)
def test_bad_values_name_the_key(key, value):
    with pytest.raises(InputError, match=rf"index\.{key}"):
        settings_from_config({key: value})


def test_token_init_noise_is_not_part_of_the_item_index():
    """The rows' spread is read by the semid base only: the index job's params are those of the
    default, so changing it rebuilds no item index."""
    from mmgrid.items.settings import index_build_settings
    from mmgrid.study.jobs import IndexJob

    spread = settings_from_config({"token_init_noise": 1.0})
    assert spread.token_init_noise == 1.0
    assert index_build_settings(spread) == IndexSettings()
    params = IndexJob(index_build_settings(spread), 0).to_params()
    assert params == IndexJob(IndexSettings(), 0).to_params()
    assert "token_init_noise" not in params["settings"]
