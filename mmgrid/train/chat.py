"""Chat samples -> token ids with labels on the assistant turns only."""

from __future__ import annotations

from collections.abc import Sequence

from transformers import PreTrainedTokenizerBase

from mmgrid.train.batching import IGNORE_INDEX

Message = dict[str, str]


def _ids(tokenizer: PreTrainedTokenizerBase, messages: Sequence[Message], **kwargs) -> list[int]:
    out = tokenizer.apply_chat_template(list(messages), tokenize=True, return_dict=True, **kwargs)
    return list(out["input_ids"])


def assistant_labels(
    tokenizer: PreTrainedTokenizerBase, messages: Sequence[Message]
) -> tuple[list[int], list[int]]:
    """Token ids of the rendered conversation and labels that train only the assistant turns.

    Templates that mark assistant turns with ``{% generation %}`` (the base tokenizer built here)
    give the mask directly. For any other template (e.g. a downloaded Qwen3) each assistant turn
    is located as the tokens between the rendering of the conversation before it (plus the
    generation prompt) and the rendering including it, which needs the template's prefix
    property; a template without it fails with a clear error.
    """
    template = tokenizer.chat_template or ""
    if "{% generation %}" in template or "{%- generation %}" in template:
        out = tokenizer.apply_chat_template(
            list(messages), tokenize=True, return_dict=True, return_assistant_tokens_mask=True
        )
        ids = list(out["input_ids"])
        mask = out["assistant_masks"]
        return ids, [t if m else IGNORE_INDEX for t, m in zip(ids, mask, strict=True)]
    ids = _ids(tokenizer, messages)
    labels = [IGNORE_INDEX] * len(ids)
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        start = len(_ids(tokenizer, messages[:i], add_generation_prompt=True))
        end = len(_ids(tokenizer, messages[: i + 1]))
        if ids[:start] != _ids(tokenizer, messages[:i], add_generation_prompt=True):
            raise ValueError(
                "the chat template does not render a conversation as a prefix of its extension; "
                "cannot locate assistant turns"
            )
        labels[start:end] = ids[start:end]
    return ids, labels


def encode_sample(
    tokenizer: PreTrainedTokenizerBase, messages: Sequence[Message], max_length: int
) -> tuple[dict[str, list[int]], bool]:
    """One training example; over-long samples lose their oldest tokens. Returns (example, cut)."""
    ids, labels = assistant_labels(tokenizer, messages)
    cut = len(ids) > max_length
    if cut:
        ids, labels = ids[-max_length:], labels[-max_length:]
    return {"input_ids": ids, "labels": labels}, cut


def prompt_ids(tokenizer: PreTrainedTokenizerBase, messages: Sequence[Message]) -> list[int]:
    """Token ids of a prompt (the user turns) followed by the generation prompt."""
    return _ids(tokenizer, messages, add_generation_prompt=True)
