"""samples.prompt_wording: study gives the study's prompt text character for character; short
shortens only the next-item instruction."""

from __future__ import annotations

import pytest

from mmgrid.errors import InputError
from mmgrid.samples import prompts
from mmgrid.samples.settings import settings_from_config

STUDY = prompts.WORDINGS["study"]
INSTRUCTION = (
    "You are a recommendation system. Based on the user's purchase/interaction history shown "
    "below (arranged chronologically from oldest to newest), predict a new item title of the "
    "item that the user is most likely to interact with next.\n\n"
    "User's historical interactive items:\n"
)


def test_study_recommendation_prompt():
    history = [STUDY.item_text("Pan", ""), STUDY.item_text("Bowl", "Glass.")]
    user, answer = prompts.title_task(history, "Cup", STUDY)
    # the study's template ends with a newline and is joined to the history by another one
    assert user["content"] == (
        INSTRUCTION + "\nTitle: Pan\nDescription: \n\nTitle: Bowl\nDescription: Glass."
    )
    assert answer == {"role": "assistant", "content": "Recommended Item Title: Cup"}
    mmgrid, _ = prompts.title_task([prompts.MMGRID.item_text("Pan", "")], "Cup")
    assert mmgrid["content"] == INSTRUCTION + "Title: Pan"


def test_study_item_corpus_conversation():
    conversation = prompts.item_corpus_conversation(
        [STUDY.item_text("Pan", ""), STUDY.item_text("Cup", "Tea.")],
        ["<a_1><b_1>", "<a_3><b_0>"],
        [STUDY.item_text("Bowl", "Glass.")],
        ["<a_2><b_5>"],
        to_sid=True,
        wording=STUDY,
    )
    assert [m["content"] for m in conversation] == [
        "Given the following item title and desctription, please output the corresponding "
        "Item Index.\nExamples:\nTitle: Bowl\nDescription: Glass.\nItem Index: <a_2><b_5>\n"
        "Title: Pan\nDescription: ",
        "Item Index: <a_1><b_1>",
        "Title: Cup\nDescription: Tea.",
        "Item Index: <a_3><b_0>",
    ]
    reverse = prompts.item_corpus_conversation(
        [STUDY.item_text("Pan", "")], ["<a_1><b_1>"], [], [], to_sid=False, wording=STUDY
    )
    assert reverse[0]["content"] == (
        "Given the following item index, please output the corresponding item title and "
        "desctription.\nExamples:\n\nItem Index: <a_1><b_1>"
    )


def test_short_wording_keeps_tasks_and_answers():
    short = prompts.WORDINGS["short"]
    user, answer = prompts.sid_task(["<a_1><b_2>", "<a_3><b_0>"], "<a_2><b_2>", short)
    assert user["content"] == (
        "Predict the next item index.\nUser's historical interactive items:\n"
        "Item Index: <a_1><b_2>\nItem Index: <a_3><b_0>"
    )
    assert answer == {"role": "assistant", "content": "Recommended Item Index: <a_2><b_2>"}
    (title_user,) = prompts.title_task([short.item_text("Pan", "")], None, short)
    assert title_user["content"] == (
        "Predict the next item title.\nUser's historical interactive items:\nTitle: Pan"
    )
    # only the next-item instruction differs from mmgrid's wording
    mmgrid, _ = prompts.sid_task(["<a_1><b_2>"], "<a_2><b_2>")
    assert mmgrid["content"].endswith(
        "User's historical interactive items:\nItem Index: <a_1><b_2>"
    )
    assert len(title_user["content"]) < len(mmgrid["content"]) / 3


def test_unknown_wording_is_named():
    with pytest.raises(InputError, match=r"prompt_wording.*mmgrid, study, short.*'terse'"):
        settings_from_config({"prompt_wording": "terse"})
