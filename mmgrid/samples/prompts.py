"""Chat messages of the study's GR tasks (prompt wording modelled on the study's reference code).

``samples.prompt_wording: study`` (:data:`WORDINGS`) reproduces the study's text exactly: a blank
line before the history, its spelling "desctription" in the item-corpus instructions, one line
break before an item-corpus conversation's first item, and both item lines always (an empty
description shows as ``Description: ``). mmgrid's default writes these slightly tidier.
``short`` replaces the next-item instruction (49 tokens of the tiny model's tokenizer, up to half
of a short sample) with one line, ``Predict the next item index.`` (or ``item title``), before
the same history header: the same tasks and answers at a third less training and prefill cost,
for CPU budgets. It is a deviation from the study's prompts, never its protocol.

A sample is a list of ``{"role", "content"}`` messages; the base tokenizer's chat template renders
it (and adds the empty think block before each answer). Loss is taken on assistant turns only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from mmgrid.items.text import TEMPLATE, item_text

Message = dict[str, str]

HISTORY_HEADER = "User's historical interactive items:"
RECOMMEND = (
    "You are a recommendation system. Based on the user's purchase/interaction history shown "
    "below (arranged chronologically from oldest to newest), predict a new {index} of the item "
    "that the user is most likely to interact with next.\n\n" + HISTORY_HEADER
)
TITLE_ANSWER = "Recommended Item Title: "
SID_ANSWER = "Recommended Item Index: "
TEXT_TO_SID = (
    "Given the following item title and description, please output the corresponding Item "
    "Index.\nExamples:\n"
)
SID_TO_TEXT = (
    "Given the following item index, please output the corresponding item title and "
    "description.\nExamples:\n"
)
SHORT_RECOMMEND = "Predict the next {index}.\n" + HISTORY_HEADER


@dataclass(frozen=True)
class Wording:
    """The details of the prompt text that ``samples.prompt_wording`` chooses."""

    recommend: str
    """The next-item instruction, with ``{index}`` for ``item title`` or ``item index``."""
    history_gap: str
    """Between the instruction and the history items."""
    text_to_sid: str
    sid_to_text: str
    """The instructions of the item-corpus conversations."""
    examples_gap: str
    """Between the examples and the first item of an item-corpus conversation."""
    item_text: Callable[[str, str], str]
    """An item's title and description as shown in a prompt."""


def study_item_text(title: str, description: str) -> str:
    """The study's item text: both lines always, the texts as they are."""
    return TEMPLATE.format(title=title, description=description)


WORDINGS = {
    "mmgrid": Wording(RECOMMEND, "\n", TEXT_TO_SID, SID_TO_TEXT, "\n\n", item_text),
    # the study's reference prompts, its spelling included
    "study": Wording(
        RECOMMEND,
        "\n\n",
        TEXT_TO_SID.replace("description", "desctription"),
        SID_TO_TEXT.replace("description", "desctription"),
        "\n",
        study_item_text,
    ),
}
MMGRID = WORDINGS["mmgrid"]
# mmgrid's, with a one-line next-item instruction (CPU budgets)
WORDINGS["short"] = replace(MMGRID, recommend=SHORT_RECOMMEND)


def item_sid(sid: str) -> str:
    """An item as shown in a semantic-ID history."""
    return f"Item Index: {sid}"


def recommend(
    history: Sequence[str], separator: str, index: str, answer: str | None, wording: Wording
) -> list[Message]:
    """The next-item task: rendered history items -> the answer (``None`` for a test prompt)."""
    user = wording.recommend.format(index=index) + wording.history_gap + separator.join(history)
    messages = [{"role": "user", "content": user}]
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return messages


def title_task(
    history_texts: Sequence[str], target_title: str | None, wording: Wording = MMGRID
) -> list[Message]:
    """Title mode: titles (+ descriptions) of the history -> the next item's title."""
    answer = None if target_title is None else TITLE_ANSWER + target_title
    return recommend(history_texts, "\n\n", "item title", answer, wording)


def sid_task(
    history_sids: Sequence[str], target_sid: str | None, wording: Wording = MMGRID
) -> list[Message]:
    """Semantic-ID mode: SIDs of the history -> the next item's SID."""
    answer = None if target_sid is None else SID_ANSWER + target_sid
    return recommend([item_sid(s) for s in history_sids], "\n", "item index", answer, wording)


def sid_to_title_task(
    history_sids: Sequence[str], target_title: str, wording: Wording = MMGRID
) -> list[Message]:
    """Auxiliary alignment A: SID history -> the next item's title."""
    history = [item_sid(s) for s in history_sids]
    return recommend(history, "\n", "item title", TITLE_ANSWER + target_title, wording)


def text_to_sid_task(
    history_texts: Sequence[str], target_sid: str, wording: Wording = MMGRID
) -> list[Message]:
    """Auxiliary alignment B: text history -> the next item's SID."""
    return recommend(history_texts, "\n\n", "item index", SID_ANSWER + target_sid, wording)


def item_corpus_conversation(
    texts: Sequence[str],
    sids: Sequence[str],
    example_texts: Sequence[str],
    example_sids: Sequence[str],
    *,
    to_sid: bool,
    wording: Wording = MMGRID,
) -> list[Message]:
    """Item-level alignment: a multi-turn conversation mapping item text to SID (or back).

    The first user turn holds the instruction, examples from outside the group and the first item;
    each later turn asks for one more item of the group.
    """
    if to_sid:
        head = wording.text_to_sid + "\n".join(
            f"{t}\nItem Index: {s}" for t, s in zip(example_texts, example_sids, strict=True)
        )
        questions, answers = list(texts), [f"Item Index: {s}" for s in sids]
    else:
        head = wording.sid_to_text + "\n".join(
            f"Item Index: {s}\n{t}" for t, s in zip(example_texts, example_sids, strict=True)
        )
        questions, answers = [f"Item Index: {s}" for s in sids], list(texts)
    messages: list[Message] = []
    for i, (q, a) in enumerate(zip(questions, answers, strict=True)):
        content = f"{head}{wording.examples_gap}{q}" if i == 0 else q
        messages += [{"role": "user", "content": content}, {"role": "assistant", "content": a}]
    return messages


def prompt_vocabulary() -> list[str]:
    """The fixed wording of every prompt and answer prefix (for training the base tokenizer).

    The ``short`` wording's line is left out on purpose: the base, and with it every result of
    the other wordings, stays the same, and the line tokenizes from the long instruction's words.
    """
    return [
        RECOMMEND.format(index="item title"),
        RECOMMEND.format(index="item index"),
        TITLE_ANSWER,
        SID_ANSWER,
        TEXT_TO_SID,
        SID_TO_TEXT,
        "Title: \nDescription: \nItem Index: ",
    ]
