"""Semantic-ID token strings: one token per (level, code), e.g. ``<a_12><b_3><c_7>``.

Level ``l`` uses the letter ``a`` + l (a, b, c, d, … as in the study), so an ID is readable and
a tokenizer can add every token as one special token.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

LEVEL_LETTERS = string.ascii_lowercase
MAX_LEVELS = len(LEVEL_LETTERS)
_TOKEN = re.compile(r"<([a-z])_(0|[1-9][0-9]*)>")


def sid_token(level: int, code: int) -> str:
    """Return the token of ``code`` at ``level`` (0-based), e.g. ``sid_token(1, 3) == "<b_3>"``."""
    if not 0 <= level < MAX_LEVELS:
        raise ValueError(f"level must be in [0, {MAX_LEVELS}), got {level}")
    if code < 0:
        raise ValueError(f"code must be >= 0, got {code}")
    return f"<{LEVEL_LETTERS[level]}_{code}>"


def semantic_id_tokens(levels: int, codebook_size: int) -> list[str]:
    """All ``levels * codebook_size`` tokens, level by level, codes ascending.

    The order is fixed so that extending a tokenizer with this list gives the same token ids
    every time: ``<a_0> … <a_{K-1}> <b_0> … <b_{K-1}> …``.
    """
    if not 1 <= levels <= MAX_LEVELS:
        raise ValueError(f"levels must be in [1, {MAX_LEVELS}], got {levels}")
    if codebook_size < 1:
        raise ValueError(f"codebook_size must be >= 1, got {codebook_size}")
    return [sid_token(level, code) for level in range(levels) for code in range(codebook_size)]


def format_sid(codes: Sequence[int]) -> str:
    """Return the ID string of ``codes``: ``format_sid([12, 3, 7]) == "<a_12><b_3><c_7>"``."""
    if len(codes) == 0:
        raise ValueError("a semantic ID needs at least one code")
    return "".join(sid_token(level, int(code)) for level, code in enumerate(codes))


def parse_sid(sid: str) -> tuple[int, ...]:
    """Inverse of :func:`format_sid`; raise ``ValueError`` on anything else.

    Levels must appear in order starting at ``a``, with nothing between or around tokens.
    """
    codes: list[int] = []
    pos = 0
    for match in _TOKEN.finditer(sid):
        letter = LEVEL_LETTERS[len(codes)] if len(codes) < MAX_LEVELS else None
        if match.start() != pos or match.group(1) != letter:
            break
        codes.append(int(match.group(2)))
        pos = match.end()
    if not codes or pos != len(sid):
        raise ValueError(f"not a semantic ID (expected e.g. '<a_12><b_3><c_7>'): {sid!r}")
    return tuple(codes)
