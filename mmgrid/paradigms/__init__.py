"""The paradigms of the grid, one module each behind one protocol (:mod:`.protocol`).

:data:`PARADIGMS` maps a paradigm's config name to its implementation; the study, the rules,
the workflow scripts and the estimate reach a paradigm only through it. Adding a paradigm
means adding a module that implements :class:`~mmgrid.paradigms.protocol.Paradigm`, listing it
here and in the schema's ``paradigms`` enum (a test checks that they agree).
"""

from __future__ import annotations

from mmgrid.paradigms.hllm import HLLM
from mmgrid.paradigms.protocol import Paradigm
from mmgrid.paradigms.semid import SEMID
from mmgrid.paradigms.title import TITLE

PARADIGMS: dict[str, Paradigm] = {p.name: p for p in (TITLE, SEMID, HLLM)}

__all__ = ["PARADIGMS", "Paradigm"]
