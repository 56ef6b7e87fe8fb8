"""Chat samples -> token ids, with labels on the assistant turns and evaluation prompts.

One rendering serves training and evaluation, whatever the chat template does (e.g. Qwen3's,
which writes the empty think block only before the *last* answer, strips reasoning from earlier
assistant turns, and adds the block to the generation prompt only under
``enable_thinking=False``): :func:`render_chat` renders the whole conversation once and
locates each assistant turn in that rendering.

- Training (:func:`assistant_labels`) tokenizes the rendering and trains, per assistant turn,
  the tokens from the start of the assistant's turn through the tokenizer's end-of-sequence
  token that closes it. The turn starts where the generation prompt rendered after the earlier
  messages ends, asked without a think block (``enable_thinking=True``; templates that do not
  know the flag ignore it), so an empty think block the template writes into the turn is
  trained, as in the study, whose answers carry it. Where that prompt is not a prefix of the
  rendering, the answer's own text starts the span.
- Evaluation (:func:`answer_prompt_ids`) renders the test conversation followed by an assistant
  turn holding only the answer prefix and keeps the text up to the end of that prefix: exactly
  what training renders before the answer, without asking the template for a generation prompt.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase

from mmgrid.train.batching import IGNORE_INDEX

Message = dict[str, str]

# Markers put in place of every answer to find where the template puts it: private-use
# characters that item texts do not contain (a marker that occurs twice is an error).
_MARKER = "\ue000{}\ue001"
_MARKER_RE = re.compile("\ue000([0-9]+)\ue001")


@dataclass(frozen=True)
class AssistantTurn:
    """Character positions of one assistant turn in a rendered conversation."""

    label_start: int
    """Where the trained text starts: the end of the generation prompt without a think block
    (or ``content_start``)."""
    content_start: int
    """Where the message's content starts."""
    content_end: int
    """Where the message's content ends."""
    label_end: int
    """Just after the end-of-sequence token that closes the turn."""


@dataclass(frozen=True)
class RenderedChat:
    """A conversation rendered by the chat template and its assistant turns, in order."""

    text: str
    turns: tuple[AssistantTurn, ...]


def _render(tokenizer: PreTrainedTokenizerBase, messages: Sequence[Message], **kwargs) -> str:
    return tokenizer.apply_chat_template(list(messages), tokenize=False, **kwargs)


def render_chat(tokenizer: PreTrainedTokenizerBase, messages: Sequence[Message]) -> RenderedChat:
    """Render ``messages`` with the tokenizer's chat template and locate every assistant turn.

    The conversation is rendered once with each answer replaced by a marker, which shows where
    the template puts the answers; the real rendering must equal the marked one with the
    answers put back (a template that rewrites answer text, e.g. strips reasoning from earlier
    turns that carry some, cannot be located and fails clearly).
    """
    messages = list(messages)
    answers = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    marked = list(messages)
    for k, i in enumerate(answers):
        marked[i] = {**messages[i], "content": _MARKER.format(k)}
    pieces = _MARKER_RE.split(_render(tokenizer, marked))
    found = [int(k) for k in pieces[1::2]]
    if found != list(range(len(answers))):
        raise ValueError(
            f"the chat template renders the {len(answers)} assistant answers as {found} "
            "(by marker); cannot locate the trained tokens"
        )
    text = _render(tokenizer, messages)
    eos = tokenizer.eos_token
    if not eos:
        raise ValueError("the tokenizer has no eos_token; cannot tell where an answer ends")
    turns, pos, rebuilt = [], 0, []
    for k, i in enumerate(answers):
        before, content = pieces[2 * k], messages[i]["content"]
        rebuilt += [before, content]
        content_start = pos + len(before)
        content_end = content_start + len(content)
        pos = content_end
        eos_at = pieces[2 * k + 2].find(eos)  # the text after the answer
        if eos_at < 0:
            raise ValueError(
                f"the chat template does not close assistant turn {k + 1} with the eos token "
                f"{eos!r}; the model could not learn where an answer ends"
            )
        prompt = _render(tokenizer, messages[:i], add_generation_prompt=True, enable_thinking=True)
        fits = text.startswith(prompt) and len(prompt) <= content_start
        turns.append(
            AssistantTurn(
                label_start=len(prompt) if fits else content_start,
                content_start=content_start,
                content_end=content_end,
                label_end=content_end + eos_at + len(eos),
            )
        )
    rebuilt.append(pieces[-1])
    if "".join(rebuilt) != text:
        raise ValueError(
            "the chat template renders answer text differently from the message content; "
            "cannot locate the trained tokens (pass answers without reasoning blocks)"
        )
    return RenderedChat(text, tuple(turns))


def _token_index(starts: Sequence[int], position: int, length: int) -> int:
    """Index of the token that starts at character ``position`` (``len(starts)`` at the end)."""
    if position == length:
        return len(starts)
    index = bisect.bisect_left(starts, position)
    if index == len(starts) or starts[index] != position:
        raise ValueError(
            f"a token crosses the answer boundary at character {position} of the rendered "
            "conversation; cannot separate prompt and answer tokens"
        )
    return index


def assistant_labels(
    tokenizer: PreTrainedTokenizerBase, messages: Sequence[Message]
) -> tuple[list[int], list[int]]:
    """Token ids of the rendered conversation and labels that train only the assistant turns
    (each from :attr:`AssistantTurn.label_start` through its end-of-sequence token)."""
    chat = render_chat(tokenizer, messages)
    enc = tokenizer(chat.text, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(enc["input_ids"])
    starts = [s for s, _ in enc["offset_mapping"]]
    labels = [IGNORE_INDEX] * len(ids)
    for turn in chat.turns:
        first = _token_index(starts, turn.label_start, len(chat.text))
        last = _token_index(starts, turn.label_end, len(chat.text))
        labels[first:last] = ids[first:last]
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


def answer_prompt_ids(
    tokenizer: PreTrainedTokenizerBase, messages: Sequence[Message], answer_prefix: str
) -> list[int]:
    """Token ids of the evaluation prompt: the conversation (without its answer) rendered as
    training renders it up to the answer, followed by ``answer_prefix`` (the start of the
    answer the model was trained to write)."""
    chat = render_chat(tokenizer, [*messages, {"role": "assistant", "content": answer_prefix}])
    prefix = chat.text[: chat.turns[-1].content_end]
    return list(tokenizer(prefix, add_special_tokens=False)["input_ids"])
