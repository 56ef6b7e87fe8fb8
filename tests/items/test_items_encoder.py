import numpy as np
import pytest

from mmgrid.errors import InputError
from mmgrid.items import TextEncoder


def test_similar_titles_are_closer_than_unrelated(encoder):
    emb = encoder.encode(
        [
            "Sony Wireless Noise Cancelling Over-Ear Headphones",
            "Bluetooth Over Ear Headset with Active Noise Cancellation",
            "Lodge Pre-Seasoned Cast Iron Skillet, 10 Inch",
        ],
        batch_size=2,
    )
    assert emb.dtype == np.float32 and emb.shape == (3, encoder.dim) and encoder.dim == 384
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert emb[0] @ emb[1] > emb[0] @ emb[2] + 0.3


def test_encoding_does_not_depend_on_batching(encoder):
    texts = ["Cat Scratching Post, Large", "A Brief History of Time, Paperback", "Chew Toy"]
    together = encoder.encode(texts, batch_size=3)
    one_by_one = np.vstack([encoder.encode([t], batch_size=1) for t in texts])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    assert encoder.encode([], batch_size=4).shape == (0, 384)


def test_missing_encoder_directory(tmp_path):
    with pytest.raises(InputError, match=r"index\.encoder.*does not exist"):
        TextEncoder(str(tmp_path / "no_such_model"), device="cpu")


def test_directory_without_model_files(tmp_path):
    (tmp_path / "readme.txt").write_text("not a model")
    with pytest.raises(InputError, match=r"index\.encoder.*neither modules\.json nor config\.json"):
        TextEncoder(str(tmp_path), device="cpu")


def test_directory_with_broken_config(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(InputError, match=r"index\.encoder.*cannot load"):
        TextEncoder(str(tmp_path), device="cpu")
