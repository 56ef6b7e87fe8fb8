"""Decoding backends of the evaluation: one interface, chosen by ``evaluate.backend``.

A backend provides the two searches of the evaluation with the signatures of
:mod:`mmgrid.evaluate.generate`: ``semid_beam_search`` (trie-constrained beam search, ranked
catalogue rows per prompt) and ``generate_titles`` (sampled or beam-searched titles per
prompt). Both backends give the same rankings and the same sampled titles, up to ties and
float rounding:

- ``generate``: through transformers' ``generate`` (:mod:`mmgrid.evaluate.generate`);
- ``static``: plain decoding loops on a static key/value cache with the trie as tables
  (:mod:`mmgrid.evaluate.static_cache`); no Python call per beam and fixed step shapes, which
  is what a GPU needs; ``compile`` runs its decoding steps through ``torch.compile``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from mmgrid.errors import InputError


@dataclass(frozen=True)
class Backend:
    """The searches of one backend (see the module docstring)."""

    semid_beam_search: Callable[..., list[list[int]]]
    generate_titles: Callable[..., list[list[str]]]


BACKENDS = ("static", "generate")


def check_backend(name: str) -> None:
    """Raise :class:`InputError` unless ``name`` is a backend."""
    if name not in BACKENDS:
        raise InputError(
            f"config key 'evaluate.backend' must be one of {', '.join(BACKENDS)}, got {name!r}"
        )


def backend(name: str) -> Backend:
    """The backend called ``name`` (imports torch and transformers)."""
    check_backend(name)
    if name == "generate":
        from mmgrid.evaluate import generate

        return Backend(generate.semid_beam_search, generate.generate_titles)
    return _static()


def prepare(model: Any, name: str, compile: bool) -> Backend:
    """The backend ``name`` for ``model``; with ``compile`` (static backend) its decoding steps
    run through ``torch.compile``."""
    chosen = backend(name)
    if not compile:
        return chosen
    if name != "static":
        raise InputError(
            f"config key 'evaluate.compile' is true, but the {name} backend cannot compile; "
            "use backend: static or compile: false"
        )
    from mmgrid.evaluate.static_cache import compiled_forward

    return _static(compiled_forward(model))


def _static(forward: Callable[..., Any] | None = None) -> Backend:
    """The static backend (``forward``: its decoding steps' forward pass, if not the model's);
    title beam search (``title_mode: beam``) runs through ``generate``."""
    from mmgrid.evaluate import generate, static_cache

    def generate_titles(model, tokenizer, prompts, *, mode: str, **kwargs) -> list[list[str]]:
        if mode == "sample":
            return static_cache.sample_titles(model, tokenizer, prompts, forward=forward, **kwargs)
        return generate.generate_titles(model, tokenizer, prompts, mode=mode, **kwargs)

    return Backend(partial(static_cache.semid_beam_search, forward=forward), generate_titles)
