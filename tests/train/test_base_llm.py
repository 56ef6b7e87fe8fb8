import csv
import json

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from mmgrid.errors import InputError
from mmgrid.models.settings import ModelSettings
from mmgrid.models.tokenizer import train_tokenizer
from mmgrid.train.base_llm import build_base, build_model, read_item_texts, unigram_entropy
from mmgrid.train.batching import pack_blocks
from mmgrid.train.loop import evaluate_loss


def test_output_directory_is_complete(built_base):
    out, summary = built_base
    names = {p.name for p in out.iterdir()}
    assert {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "chat_template.jinja",
        "pretrain_log.csv",
        "base.json",
    } <= names
    assert json.loads((out / "base.json").read_text()) == json.loads(json.dumps(summary))
    with open(out / "pretrain_log.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == summary["train"]["steps"] > 0
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp leftovers
    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == "qwen3" and config["tie_word_embeddings"] is True
    assert config["vocab_size"] == summary["vocab_size"]


def test_pretraining_learns_the_item_language(built_base):
    _, s = built_base
    assert s["heldout_documents"] == 32  # 10% of 4 x 80 items
    # clearly better than the random init and than a unigram model, on items never trained on
    assert s["heldout_loss"] < s["heldout_loss_init"] - 2.5
    assert s["heldout_loss"] < s["unigram_entropy"] - 1.0
    assert s["train"]["final_loss"] < s["train"]["first_loss"] - 2.5


def test_reload_with_auto_classes_gives_identical_logits(built_base, catalog_paths):
    out, _ = built_base
    model = AutoModelForCausalLM.from_pretrained(out, local_files_only=True).eval()
    tok = AutoTokenizer.from_pretrained(out, local_files_only=True)
    ids = torch.tensor([tok.encode("Lodge Cast Iron Skillet 10 inch\nMade from durable steel")])
    state = load_file(out / "model.safetensors")
    fresh = build_model(ModelSettings(max_position_embeddings=128), tok, seed=0).eval()
    fresh.load_state_dict(state, strict=False)
    fresh.tie_weights()
    with torch.no_grad():
        assert torch.equal(model(ids).logits, fresh(ids).logits)
    assert model.lm_head.weight is model.model.embed_tokens.weight
    assert model.dtype == torch.float32


def test_same_seed_same_weights_other_seed_other_weights(
    built_base, catalog_paths, tiny_settings, tmp_path
):
    out, _ = built_base
    again = build_base(
        catalog_paths, tmp_path / "again", tiny_settings, seed=7, log=lambda _: None, progress=False
    )
    first, second = (
        load_file(out / "model.safetensors"),
        load_file(tmp_path / "again" / "model.safetensors"),
    )
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert (out / "tokenizer.json").read_bytes() == (
        tmp_path / "again" / "tokenizer.json"
    ).read_bytes()
    assert again["heldout_loss"] == json.loads((out / "base.json").read_text())["heldout_loss"]
    other = build_model(tiny_settings.model, AutoTokenizer.from_pretrained(out), seed=8)
    assert not torch.equal(
        other.model.embed_tokens.weight,
        build_model(
            tiny_settings.model, AutoTokenizer.from_pretrained(out), seed=7
        ).model.embed_tokens.weight,
    )


def test_random_model_is_worse_than_pretrained_on_heldout(built_base, catalog_paths):
    """Independent check of the summary: recompute both losses on items of one domain."""
    out, _ = built_base
    tok = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out)
    texts = read_item_texts(catalog_paths[:1])[str(catalog_paths[0])][:20]
    eot = tok.convert_tokens_to_ids("<|endoftext|>")
    blocks = pack_blocks([[*tok.encode(t), eot] for t in texts], 64)
    examples = [{"input_ids": b} for b in blocks]
    random_model = build_model(ModelSettings(max_position_embeddings=128), tok, seed=1)
    trained = evaluate_loss(model, examples, pad_id=eot, device="cpu")
    untrained = evaluate_loss(random_model, examples, pad_id=eot, device="cpu")
    assert trained < untrained - 2.0


def test_documents_are_title_newline_description(tmp_path):
    path = tmp_path / "Toys.parquet"
    pd.DataFrame(
        {
            "item_id": ["a", "b"],
            "title": ["Red Ball ", "Kite"],
            "description": ["Bouncy.", None],
            "first_seen": [1, 2],
        }
    ).to_parquet(path)
    assert read_item_texts([path]) == {str(path): ["Red Ball\nBouncy.", "Kite"]}


@pytest.mark.parametrize(
    ("frame", "needle"),
    [
        (pd.DataFrame({"item_id": ["a"], "title": ["x"]}), "missing column(s) description"),
        (
            pd.DataFrame({"item_id": ["a", "b"], "title": ["ok", " "], "description": ["", ""]}),
            "item b (row 1) has an empty title",
        ),
    ],
)
def test_bad_items_file_is_named_and_nothing_is_written(tmp_path, tiny_settings, frame, needle):
    path = tmp_path / "Bad.parquet"
    frame.to_parquet(path)
    with pytest.raises(InputError) as err:
        build_base([path], tmp_path / "out", tiny_settings, seed=0, log=lambda _: None)
    assert needle in str(err.value) and "Bad.parquet" in str(err.value)
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError, match="items file not found"):
        read_item_texts([tmp_path / "missing.parquet"])


def test_unigram_entropy_hand_computed():
    # tokens 1,1,2,3 -> p = 1/2, 1/4, 1/4 -> H = 1.5 ln 2
    assert unigram_entropy([[1, 1], [2, 3]]) == pytest.approx(1.5 * torch.log(torch.tensor(2.0)))


def test_model_shape_follows_settings():
    tok = train_tokenizer(["Lodge Cast Iron Skillet", "OXO Mixing Bowl"] * 20, 400)
    s = ModelSettings(
        hidden_size=32,
        num_hidden_layers=3,
        intermediate_size=48,
        num_attention_heads=4,
        num_key_value_heads=1,
        head_dim=8,
    )
    model = build_model(s, tok, seed=0)
    c = model.config
    assert (c.hidden_size, c.num_hidden_layers, c.intermediate_size) == (32, 3, 48)
    assert (c.num_key_value_heads, c.head_dim, c.vocab_size) == (1, 8, len(tok))
    assert model.model.layers[0].self_attn.k_proj.weight.shape == (8, 32)
    assert c.eos_token_id == tok.convert_tokens_to_ids("<|im_end|>")
    assert c.pad_token_id == tok.pad_token_id
