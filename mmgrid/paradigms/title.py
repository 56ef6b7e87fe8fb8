"""``title`` (text-grounded, BIGRec-style): history as item titles -> the next item's title.

The chain starts from the base LLM itself. Evaluation samples (or beam-searches) titles and
grounds each to the catalogue by nearest neighbour in the item index's embedding space, with the
study's popularity rescale (:mod:`mmgrid.evaluate.grounding`).
"""

from __future__ import annotations

from mmgrid.paradigms.chat_paradigm import ChatParadigm


class Title(ChatParadigm):
    embeds_generations = True

    def __init__(self) -> None:
        super().__init__("title", semantic_ids=False)


TITLE = Title()
