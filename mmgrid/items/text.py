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
