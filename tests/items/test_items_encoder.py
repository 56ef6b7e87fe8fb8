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


STUDY_INSTRUCTION = "Compress the following sentence into embedding.\n"
TEXTS = ["Title: Lodge Cast Iron Skillet", "Title: KONG Chew Toy\nDescription: Large"]


@pytest.fixture(scope="module")
def local_encoders(tmp_path_factory):
    """A tiny Qwen3 as a plain Hugging Face directory, and the same model as a
    sentence-transformers directory with last-token pooling and a default prompt (the layout of
    Qwen3-Embedding as downloaded). Its tokenizer has a chat template, like Qwen3-Embedding's:
    texts must still be embedded as they are."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    from mmgrid.models.tokenizer import train_tokenizer
    from tests.items.conftest import catalogue_titles
    from tests.tiny_models import tiny_qwen3

    root = tmp_path_factory.mktemp("encoders")
    tokenizer = train_tokenizer(catalogue_titles(), 400)
    tiny_qwen3(len(tokenizer), hidden=32, seed=0).model.save_pretrained(root / "hf")  # Qwen3Model
    tokenizer.save_pretrained(root / "hf")
    modules = [Transformer(str(root / "hf")), Pooling(32, pooling_mode="lasttoken"), Normalize()]
    model = SentenceTransformer(
        modules=modules, prompts={"query": "Query: "}, default_prompt_name="query", device="cpu"
    )
    model.save(str(root / "st"))
    return root / "hf", root / "st"


def _by_hand(hf_dir, texts, prefix: str, pooling: str) -> np.ndarray:
    """Naive reference: the Hugging Face model on prefix + text, pooled, unit length."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(hf_dir)
    model = AutoModel.from_pretrained(hf_dir).eval()
    rows = []
    with torch.no_grad():
        for text in texts:
            states = model(**tokenizer(prefix + text, return_tensors="pt")).last_hidden_state[0]
            vector = states[-1] if pooling == "lasttoken" else states.mean(0)
            rows.append((vector / vector.norm()).numpy())
    return np.stack(rows)


def test_sentence_transformers_directory_brings_pooling_and_default_prompt(local_encoders):
    hf_dir, st_dir = local_encoders
    encoder = TextEncoder(str(st_dir), device="cpu")
    assert (encoder.pooling, encoder.prompt, encoder.dim) == ("lasttoken", "Query: ", 32)
    got = encoder.encode(TEXTS, batch_size=2)
    np.testing.assert_allclose(got, _by_hand(hf_dir, TEXTS, "Query: ", "lasttoken"), atol=1e-5)


def test_instruction_replaces_the_default_prompt(local_encoders):
    hf_dir, st_dir = local_encoders
    encoder = TextEncoder(str(st_dir), device="cpu", instruction=STUDY_INSTRUCTION)
    assert encoder.prompt == STUDY_INSTRUCTION
    want = _by_hand(hf_dir, TEXTS, STUDY_INSTRUCTION, "lasttoken")
    np.testing.assert_allclose(encoder.encode(TEXTS, batch_size=1), want, atol=1e-5)


def test_plain_hugging_face_directory_gets_mean_pooling(local_encoders):
    hf_dir, _ = local_encoders
    encoder = TextEncoder(str(hf_dir), device="cpu")
    assert (encoder.pooling, encoder.prompt) == ("mean", "")
    np.testing.assert_allclose(
        encoder.encode(TEXTS, batch_size=2), _by_hand(hf_dir, TEXTS, "", "mean"), atol=1e-5
    )


def test_index_records_the_instruction_and_evaluation_reuses_it(
    local_encoders, catalogue_file, tmp_path
):
    from mmgrid.evaluate import checked_encoder
    from mmgrid.items import IndexSettings, build_index

    _, st_dir = local_encoders
    settings = IndexSettings(
        encoder=str(st_dir), instruction=STUDY_INSTRUCTION, levels=3, codebook_size=16
    )
    report = build_index(catalogue_file, tmp_path / "index", settings, seed=0)
    assert report["encoder_instruction"] == report["encoder_prompt"] == STUDY_INSTRUCTION
    assert report["pooling"] == "lasttoken"
    loaded = checked_encoder(None, str(st_dir), tmp_path / "index")
    assert loaded.instruction == STUDY_INSTRUCTION
    with pytest.raises(InputError, match="instruction"):
        checked_encoder(TextEncoder(str(st_dir), device="cpu"), str(st_dir), tmp_path / "index")
