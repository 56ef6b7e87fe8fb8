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
    ],
)
def test_bad_values_name_the_key(key, value):
    with pytest.raises(InputError, match=rf"index\.{key}"):
        settings_from_config({key: value})
