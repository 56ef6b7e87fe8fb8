from mmgrid.models.tokenizer import EMPTY_THINK, load_tokenizer, train_tokenizer
from tests.models.catalog import make_items

MESSAGES = [
    {"role": "system", "content": "You are a recommendation system."},
    {"role": "user", "content": "History:\nTitle: Lodge Cast Iron Skillet"},
    {"role": "assistant", "content": "Recommended Item Title: OXO Glass Mixing Bowl Set"},
]
RENDERED = (
    "<|im_start|>system\nYou are a recommendation system.<|im_end|>\n"
    "<|im_start|>user\nHistory:\nTitle: Lodge Cast Iron Skillet<|im_end|>\n"
    "<|im_start|>assistant\n<think>\n\n</think>\n\n"
    "Recommended Item Title: OXO Glass Mixing Bowl Set<|im_end|>\n"
)


def _tokenizer():
    texts = [*make_items("Kitchen", 150)["title"], *make_items("Books", 150)["title"]]
    return train_tokenizer(texts, 700)


def test_round_trips_text_including_unseen_characters():
    tok = _tokenizer()
    assert 300 < len(tok) <= 700 + 2
    for text in [
        "Lodge Cast Iron Skillet 10 inch",
        "  two  spaces\n\tand tabs\n",
        "Crème brûlée — 日本語 ✓",
        "",
    ]:
        assert tok.decode(tok.encode(text, add_special_tokens=False)) == text


def test_chat_template_renders_qwen_style_with_empty_think_block():
    tok = _tokenizer()
    assert tok.apply_chat_template(MESSAGES, tokenize=False) == RENDERED
    # content that already carries the think block is not given a second one
    with_think = [
        *MESSAGES[:2],
        {
            "role": "assistant",
            "content": EMPTY_THINK + "Recommended Item Title: OXO Glass Mixing Bowl Set",
        },
    ]
    assert tok.apply_chat_template(with_think, tokenize=False) == RENDERED
    prompt = tok.apply_chat_template(MESSAGES[:2], tokenize=False, add_generation_prompt=True)
    assert prompt == RENDERED[: RENDERED.index("Recommended Item Title: OXO")]
    thinking = tok.apply_chat_template(
        MESSAGES[:2], tokenize=False, add_generation_prompt=True, enable_thinking=True
    )
    assert thinking.endswith("<|im_start|>assistant\n")
    ids = tok.encode(RENDERED, add_special_tokens=False)
    assert tok.decode(ids) == RENDERED


def test_special_and_think_tokens_are_single_tokens():
    tok = _tokenizer()
    for t in ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>"]:
        assert len(tok.encode(t, add_special_tokens=False)) == 1, t
    assert tok.eos_token == "<|im_end|>" and tok.pad_token == "<|endoftext|>"
    ids = tok.encode("<|im_start|>assistant\n<think>\n\n</think>\n\nHi<|im_end|>")
    assert tok.decode(ids, skip_special_tokens=True) == "assistant\n<think>\n\n</think>\n\nHi"


def test_assistant_mask_covers_exactly_the_answer():
    tok = _tokenizer()
    out = tok.apply_chat_template(MESSAGES, return_dict=True, return_assistant_tokens_mask=True)
    ids, mask = out["input_ids"], out["assistant_masks"]
    answer = tok.decode([i for i, m in zip(ids, mask, strict=True) if m])
    assert answer == EMPTY_THINK + "Recommended Item Title: OXO Glass Mixing Bowl Set<|im_end|>"


def test_save_and_reload_gives_identical_ids_and_template(tmp_path):
    tok = _tokenizer()
    tok.save_pretrained(tmp_path)
    again = load_tokenizer(tmp_path)
    assert again.encode(RENDERED) == tok.encode(RENDERED)
    assert again.apply_chat_template(MESSAGES, tokenize=False) == RENDERED
    assert again.eos_token_id == tok.eos_token_id and again.pad_token_id == tok.pad_token_id


def test_training_is_deterministic():
    assert _tokenizer().backend_tokenizer.to_str() == _tokenizer().backend_tokenizer.to_str()


def test_generation_prompt_tokens_are_a_prefix_of_the_conversation_tokens():
    """What the model reads before answering at evaluation is what it read in training."""
    texts = [*make_items("Kitchen", 150)["title"], "Line one\n\nLine two\n\n\nthree"] * 2
    tok = train_tokenizer(texts, 700)
    assert len(tok.encode("\n\n", add_special_tokens=False)) == 1  # a merged newline pair
    full = tok.apply_chat_template(MESSAGES, tokenize=False)
    prompt = tok.apply_chat_template(MESSAGES[:2], tokenize=False, add_generation_prompt=True)
    full_ids = tok.encode(full, add_special_tokens=False)
    prompt_ids = tok.encode(prompt, add_special_tokens=False)
    assert full_ids[: len(prompt_ids)] == prompt_ids
    assert tok.encode("10 inch", add_special_tokens=False)[:2] == [
        tok.convert_tokens_to_ids("1"),
        tok.convert_tokens_to_ids("0"),
    ]
