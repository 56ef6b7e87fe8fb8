"""The text an item is embedded from.

Template (the study's item text without its instruction prefix, which only instruction-tuned
embedders use)::

    Title: {title}
    Description: {description}

The ``Description`` line is left out when the description is empty. A generated title is
rendered with ``item_text(title)``, so generated titles and catalogue items share one template
and one encoder.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

TEMPLATE = "Title: {title}\nDescription: {description}"
TITLE_ONLY_TEMPLATE = "Title: {title}"


def item_text(title: str, description: str = "") -> str:
    """Render one item (or one generated title) for the text encoder."""
    title = title.strip()
    description = description.strip()
    if description:
        return TEMPLATE.format(title=title, description=description)
    return TITLE_ONLY_TEMPLATE.format(title=title)


def truncate_description(text: str, max_chars: int) -> str:
    """Cut ``text`` at a word boundary to at most ``max_chars`` characters plus a '...' marking the cut."""
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars + 1].rsplit(" ", 1)[0] if " " in text[:max_chars] else text[:max_chars]
    return cut.rstrip(" ,.;:") + "..."


def truncate_by_tokens(
    titles: Sequence[str],
    descriptions: Sequence[str],
    tokenizer_file: str | os.PathLike[str],
    max_tokens: int,
) -> list[str]:
    """Cut descriptions as the study's reference preprocessing does, with the base LLM's tokenizer.

    For each item: tokenize title + description (no separator), keep the first ``max_tokens``
    tokens, decode them, drop everything up to and including the first occurrence of the title
    (nothing when the decoded text does not contain it, e.g. when the title alone is longer than
    ``max_tokens``), and append "..." when the result's length differs from the description's;
    otherwise the description is kept as it is. ``tokenizer_file`` is a ``tokenizer.json``
    (the ``tokenizers`` library; no model is loaded).
    """
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    joined = [t + d for t, d in zip(titles, descriptions, strict=True)]
    encoded = tokenizer.encode_batch(joined)
    kept = tokenizer.decode_batch([e.ids[:max_tokens] for e in encoded], skip_special_tokens=False)
    out = []
    for title, description, text in zip(titles, descriptions, kept, strict=True):
        cut = text.split(title, 1)[-1]
        out.append(cut + "..." if len(cut) != len(description) else description)
    return out
