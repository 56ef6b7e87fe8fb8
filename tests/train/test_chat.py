"""Training labels and evaluation prompts under the tiny base's template and a Qwen3-like one.

``QWEN3_LIKE`` follows the logic of Qwen3's own chat template: an assistant turn after the last
user query gets ``<think>\\n{reasoning}\\n</think>\\n\\n`` before its content when it is the last
turn (or carries reasoning), earlier assistant turns are rendered without it (their reasoning
stripped), and the generation prompt holds the empty think block only under
``enable_thinking=False``.
"""

from __future__ import annotations

import copy

import pytest
from tokenizers import AddedToken

from mmgrid.evaluate.generate import answer_prompt_ids
from mmgrid.items.tokens import semantic_id_tokens
from mmgrid.models.tokenizer import EMPTY_THINK, train_tokenizer
from mmgrid.samples import prompts
from mmgrid.train.batching import IGNORE_INDEX
from mmgrid.train.chat import assistant_labels, render_chat
from tests.models.catalog import make_items

QWEN3_LIKE = (
    "{%- if messages[0].role == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- set ns = namespace(last_query_index=messages|length - 1, found=false) %}"
    "{%- for message in messages[::-1] %}"
    "{%- set index = (messages|length - 1) - loop.index0 %}"
    "{%- if not ns.found and message.role == 'user' %}"
    "{%- set ns.found = true %}{%- set ns.last_query_index = index %}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- for message in messages %}"
    "{%- set content = message.content %}"
    "{%- if message.role == 'user' or (message.role == 'system' and not loop.first) %}"
    "{{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>\\n' }}"
    "{%- elif message.role == 'assistant' %}"
    "{%- set reasoning = '' %}"
    "{%- if '</think>' in content %}"
    "{%- set reasoning = content.split('</think>')[0].rstrip('\\n').split('<think>')[-1]"
    ".lstrip('\\n') %}"
    "{%- set content = content.split('</think>')[-1].lstrip('\\n') %}"
    "{%- endif %}"
    "{%- if loop.index0 > ns.last_query_index and (loop.last or reasoning) %}"
    "{{- '<|im_start|>assistant\\n<think>\\n' + reasoning.strip('\\n') + '\\n</think>\\n\\n'"
    " + content.lstrip('\\n') }}"
    "{%- else %}"
    "{{- '<|im_start|>assistant\\n' + content }}"
    "{%- endif %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}"
    "{{- '<think>\\n\\n</think>\\n\\n' }}"
    "{%- endif %}"
    "{%- endif %}"
)
SIDS = ["<a_1><b_2>", "<a_3><b_4>", "<a_0><b_7>", "<a_5><b_6>", "<a_2><b_2>"]
TITLES = ["Lodge Cast Iron Skillet", "OXO Glass Mixing Bowl Set", "Pyrex Measuring Cup"]


@pytest.fixture(scope="module")
def tokenizers():
    texts = [*make_items("Kitchen", 150)["title"], *make_items("Books", 150)["title"]]
    tiny = train_tokenizer([*texts, *TITLES], 700)
    tiny.add_tokens(
        [AddedToken(t, special=False, normalized=False) for t in semantic_id_tokens(2, 8)]
    )
    qwen3 = copy.deepcopy(tiny)
    qwen3.chat_template = QWEN3_LIKE
    return {"tiny": tiny, "qwen3": qwen3}


TASKS = {
    "title": (
        prompts.title_task([f"Title: {TITLES[0]}", f"Title: {TITLES[2]}"], TITLES[1]),
        " " + TITLES[1],
    ),
    "semid": (prompts.sid_task(SIDS[:2], SIDS[3]), SIDS[3]),
}


@pytest.mark.parametrize("template", ["tiny", "qwen3"])
@pytest.mark.parametrize("paradigm", ["title", "semid"])
def test_eval_prompt_is_the_training_sequence_up_to_the_first_answer_token(
    tokenizers, template, paradigm
):
    tokenizer = tokenizers[template]
    messages, answer = TASKS[paradigm]
    trained, labels = assistant_labels(tokenizer, messages)
    prompt = answer_prompt_ids(tokenizer, messages[:1], paradigm)
    assert trained[: len(prompt)] == prompt
    first_answer_token = tokenizer.encode(answer, add_special_tokens=False)[0]
    assert trained[len(prompt)] == first_answer_token
    assert labels[len(prompt)] == first_answer_token  # the answer itself is trained
    assert tokenizer.decode(trained[len(prompt) :]) == answer + "<|im_end|>\n"


def test_qwen3_generation_prompt_differs_from_training_without_enable_thinking(tokenizers):
    """Why the evaluation prompt is not the template's generation prompt: with Qwen3's
    template that prompt lacks the empty think block that training puts before the answer."""
    tokenizer = tokenizers["qwen3"]
    messages, _ = TASKS["title"]
    trained = tokenizer.apply_chat_template(messages, tokenize=False)
    generation = tokenizer.apply_chat_template(
        messages[:1], tokenize=False, add_generation_prompt=True
    )
    assert not trained.startswith(generation + prompts.TITLE_ANSWER)
    assert trained.startswith(generation + EMPTY_THINK + prompts.TITLE_ANSWER)


def _spans(ids: list[int], labels: list[int]) -> list[list[int]]:
    spans: list[list[int]] = []
    previous = IGNORE_INDEX
    for token, label in zip(ids, labels, strict=True):
        if label != IGNORE_INDEX:
            if previous == IGNORE_INDEX:
                spans.append([])
            spans[-1].append(token)
        previous = label
    return spans


def _corpus_conversation(to_sid: bool) -> list[dict[str, str]]:
    texts = [f"Title: {t}" for t in TITLES]
    return prompts.item_corpus_conversation(
        texts, SIDS[:3], ["Title: Example"], [SIDS[4]], to_sid=to_sid
    )


@pytest.mark.parametrize("to_sid", [True, False])
def test_multi_turn_spans_are_the_answers_under_the_qwen3_like_template(tokenizers, to_sid):
    tokenizer = tokenizers["qwen3"]
    messages = _corpus_conversation(to_sid)
    answers = [m["content"] for m in messages if m["role"] == "assistant"]
    ids, labels = assistant_labels(tokenizer, messages)
    spans = [tokenizer.decode(s) for s in _spans(ids, labels)]
    # earlier turns are rendered without a think block, the last one with it
    expected = [a + "<|im_end|>" for a in answers[:-1]]
    expected.append(EMPTY_THINK + answers[-1] + "<|im_end|>")
    assert spans == expected
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    assert tokenizer.decode(ids) == text


@pytest.mark.parametrize("to_sid", [True, False])
def test_multi_turn_spans_equal_the_templates_own_assistant_mask(tokenizers, to_sid):
    """The tiny base's template marks its assistant turns with {% generation %}: an
    independent reference for the labels."""
    tokenizer = tokenizers["tiny"]
    messages = _corpus_conversation(to_sid)
    ids, labels = assistant_labels(tokenizer, messages)
    out = tokenizer.apply_chat_template(
        messages, return_dict=True, return_assistant_tokens_mask=True
    )
    assert ids == list(out["input_ids"])
    mask = out["assistant_masks"]
    assert labels == [t if m else IGNORE_INDEX for t, m in zip(ids, mask, strict=True)]
    answers = [m["content"] for m in messages if m["role"] == "assistant"]
    spans = [tokenizer.decode(s) for s in _spans(ids, labels)]
    assert spans == [EMPTY_THINK + a + "<|im_end|>" for a in answers]


def test_turn_positions_in_the_rendered_text(tokenizers):
    tokenizer = tokenizers["qwen3"]
    messages = _corpus_conversation(True)
    chat = render_chat(tokenizer, messages)
    answers = [m["content"] for m in messages if m["role"] == "assistant"]
    assert len(chat.turns) == len(answers)
    for turn, answer in zip(chat.turns, answers, strict=True):
        assert chat.text[turn.content_start : turn.content_end] == answer
        assert chat.text[turn.content_end : turn.label_end] == "<|im_end|>"
        assert chat.text[: turn.label_start].endswith("<|im_start|>assistant\n")


def test_a_template_that_rewrites_answers_fails_clearly(tokenizers):
    """Qwen3's template strips reasoning from earlier turns: such answers cannot be located."""
    messages = _corpus_conversation(True)
    messages[1] = {**messages[1], "content": "<think>\nhmm\n</think>\n\n" + messages[1]["content"]}
    with pytest.raises(ValueError, match="differently from the message content"):
        assistant_labels(tokenizers["qwen3"], messages)
