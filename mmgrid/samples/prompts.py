"""Chat messages of the study's GR tasks (prompt wording modelled on the study's reference code).

A sample is a list of ``{"role", "content"}`` messages; the base tokenizer's chat template renders
it (and adds the empty think block before each answer). Loss is taken on assistant turns only.
"""

from __future__ import annotations

from collections.abc import Sequence

Message = dict[str, str]

RECOMMEND = (
    "You are a recommendation system. Based on the user's purchase/interaction history shown "
    "below (arranged chronologically from oldest to newest), predict a new {index} of the item "
    "that the user is most likely to interact with next.\n\nUser's historical interactive items:"
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


def item_sid(sid: str) -> str:
    """An item as shown in a semantic-ID history."""
    return f"Item Index: {sid}"


def recommend(
    history: Sequence[str], separator: str, index: str, answer: str | None
) -> list[Message]:
    """The next-item task: rendered history items -> the answer (``None`` for a test prompt)."""
    user = RECOMMEND.format(index=index) + "\n" + separator.join(history)
    messages = [{"role": "user", "content": user}]
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return messages


def title_task(history_texts: Sequence[str], target_title: str | None) -> list[Message]:
    """Title mode: titles (+ descriptions) of the history -> the next item's title."""
    answer = None if target_title is None else TITLE_ANSWER + target_title
    return recommend(history_texts, "\n\n", "item title", answer)


def sid_task(history_sids: Sequence[str], target_sid: str | None) -> list[Message]:
    """Semantic-ID mode: SIDs of the history -> the next item's SID."""
    answer = None if target_sid is None else SID_ANSWER + target_sid
    return recommend([item_sid(s) for s in history_sids], "\n", "item index", answer)


def sid_to_title_task(history_sids: Sequence[str], target_title: str) -> list[Message]:
    """Auxiliary alignment A: SID history -> the next item's title."""
    return recommend(
        [item_sid(s) for s in history_sids], "\n", "item title", TITLE_ANSWER + target_title
    )


def text_to_sid_task(history_texts: Sequence[str], target_sid: str) -> list[Message]:
    """Auxiliary alignment B: text history -> the next item's SID."""
    return recommend(history_texts, "\n\n", "item index", SID_ANSWER + target_sid)


def item_corpus_conversation(
    texts: Sequence[str],
    sids: Sequence[str],
    example_texts: Sequence[str],
    example_sids: Sequence[str],
    *,
    to_sid: bool,
) -> list[Message]:
    """Item-level alignment: a multi-turn conversation mapping item text to SID (or back).

    The first user turn holds the instruction, examples from outside the group and the first item;
    each later turn asks for one more item of the group.
    """
    if to_sid:
        head = TEXT_TO_SID + "\n".join(
            f"{t}\nItem Index: {s}" for t, s in zip(example_texts, example_sids, strict=True)
        )
        questions, answers = list(texts), [f"Item Index: {s}" for s in sids]
    else:
        head = SID_TO_TEXT + "\n".join(
            f"Item Index: {s}\n{t}" for t, s in zip(example_texts, example_sids, strict=True)
        )
        questions, answers = [f"Item Index: {s}" for s in sids], list(texts)
    messages: list[Message] = []
    for i, (q, a) in enumerate(zip(questions, answers, strict=True)):
        content = f"{head}\n\n{q}" if i == 0 else q
        messages += [{"role": "user", "content": content}, {"role": "assistant", "content": a}]
    return messages


def prompt_vocabulary() -> list[str]:
    """The fixed wording of every prompt and answer prefix (for training the base tokenizer)."""
    return [
        RECOMMEND.format(index="item title"),
        RECOMMEND.format(index="item index"),
        TITLE_ANSWER,
        SID_ANSWER,
        TEXT_TO_SID,
        SID_TO_TEXT,
        "Title: \nDescription: \nItem Index: ",
    ]
