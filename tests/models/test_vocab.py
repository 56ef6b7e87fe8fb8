import pytest
import torch

from mmgrid.errors import InputError
from mmgrid.models.settings import ModelSettings
from mmgrid.models.tokenizer import train_tokenizer
from mmgrid.models.vocab import add_semantic_id_tokens
from mmgrid.seeding import derive_seed
from mmgrid.train.base_llm import build_model
from tests.models.catalog import make_items
from tests.tiny_models import tiny_qwen3

SID = [f"<{level}_{code}>" for level in "abc" for code in range(8)]


def _setup(tied=True):
    tok = train_tokenizer(make_items("Beauty", 120)["title"].tolist(), 500)
    if tied:
        return build_model(ModelSettings(), tok, seed=0), tok
    return tiny_qwen3(len(tok), heads=2, kv_heads=1, tied=False), tok


def _expected_row(old: torch.Tensor, token: str, role: str, seed=0, scale=0.1):
    gen = torch.Generator().manual_seed(derive_seed(seed, "semantic-id-row", role, token))
    return old.mean(0) + scale * old.std() * torch.randn(old.shape[1], generator=gen)


def test_tied_embeddings_kept_old_rows_unchanged_new_rows_as_documented():
    model, tok = _setup()
    n = len(tok)
    old = model.get_input_embeddings().weight.detach().clone()
    ids = add_semantic_id_tokens(model, tok, SID, seed=0)
    assert ids == list(range(n, n + len(SID)))
    emb = model.get_input_embeddings().weight
    assert emb.shape == (n + len(SID), old.shape[1]) and model.config.vocab_size == len(tok)
    assert model.get_output_embeddings().weight is emb
    assert torch.equal(emb[:n], old)
    for token, token_id in zip(SID, ids, strict=True):
        assert torch.allclose(emb[token_id], _expected_row(old, token, "input"), atol=1e-6)
    assert not torch.equal(emb[ids[0]], emb[ids[1]])


@pytest.mark.parametrize("scale", [0.1, 1.0])
def test_new_rows_spread_by_the_noise_scale(scale):
    """Each new row is the old rows' mean plus ``scale`` x their std x N(0, I): over the 24 new
    rows of width 64 the entries' spread around the mean is ``scale`` x the old std."""
    model, tok = _setup()
    old = model.get_input_embeddings().weight.detach().clone()
    ids = add_semantic_id_tokens(model, tok, SID, seed=0, noise_scale=scale)
    new = model.get_input_embeddings().weight.detach()[ids]
    for token, row in zip(SID, new, strict=True):
        assert torch.allclose(row, _expected_row(old, token, "input", scale=scale), atol=1e-6)
    spread = (new - old.mean(0)).std() / old.std()
    assert spread == pytest.approx(scale, rel=0.1)


def test_tokens_encode_whole_and_decode_verbatim():
    model, tok = _setup()
    ids = add_semantic_id_tokens(model, tok, SID)
    text = "Item Index: <a_3><b_0><c_7>"
    enc = tok.encode(text, add_special_tokens=False)
    assert enc[-3:] == [ids[3], ids[8], ids[23]]
    assert tok.decode(enc, skip_special_tokens=True) == text


def test_adding_again_is_a_no_op_and_rows_do_not_depend_on_batch_order():
    model, tok = _setup()
    ids = add_semantic_id_tokens(model, tok, SID)
    weights = model.get_input_embeddings().weight.detach().clone()
    assert add_semantic_id_tokens(model, tok, list(reversed(SID))) == list(reversed(ids))
    assert torch.equal(model.get_input_embeddings().weight, weights)
    other_model, other_tok = _setup()
    add_semantic_id_tokens(other_model, other_tok, list(reversed(SID)))
    for token in SID:
        row = other_tok.convert_tokens_to_ids(token)
        assert torch.allclose(
            other_model.get_input_embeddings().weight[row],
            weights[tok.convert_tokens_to_ids(token)],
        )


def test_untied_output_layer_gets_rows_too_and_padding():
    model, tok = _setup(tied=False)
    n = len(tok)
    old_out = model.get_output_embeddings().weight.detach().clone()
    ids = add_semantic_id_tokens(model, tok, SID, seed=3, pad_to_multiple_of=64)
    out = model.get_output_embeddings().weight
    assert out is not model.get_input_embeddings().weight
    assert out.shape[0] % 64 == 0 and out.shape[0] >= n + len(SID)
    assert torch.equal(out[:n], old_out)
    assert torch.allclose(out[ids[5]], _expected_row(old_out, SID[5], "output", seed=3), atol=1e-6)


def test_existing_spare_rows_are_reused_and_reinitialised():
    """Like a real Qwen3 (151,936 rows for 151,669 tokens): new ids fit without resizing."""
    model, tok = _setup()
    n = len(tok)
    model.resize_token_embeddings(n + 40, mean_resizing=False)
    old = model.get_input_embeddings().weight.detach().clone()
    ids = add_semantic_id_tokens(model, tok, SID)
    emb = model.get_input_embeddings().weight
    assert emb.shape[0] == n + 40
    assert torch.allclose(emb[ids[0]], _expected_row(old[:n], SID[0], "input"), atol=1e-6)
    assert torch.equal(emb[n + len(SID) :], old[n + len(SID) :])


def test_bad_token_rejected():
    model, tok = _setup()
    with pytest.raises(InputError, match="whitespace"):
        add_semantic_id_tokens(model, tok, ["<a 1>"])
