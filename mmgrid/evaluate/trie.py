"""Prefix trie over a catalogue's semantic IDs as token-id sequences, each ending in EOS.

Decoding constrained by the trie can only spell the semantic ID of a real item: after ``k``
tokens only the children of the current node are allowed, a complete ID allows only EOS, and a
prefix outside the trie (a dead end) also allows only EOS, which ends that hypothesis.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class SidTrie:
    """All prefixes of ``sequences`` (one token-id sequence per item, row order) + EOS."""

    def __init__(self, sequences: Sequence[Sequence[int]], eos_id: int) -> None:
        self.eos_id = int(eos_id)
        children: dict[tuple[int, ...], set[int]] = {}
        self.row_of: dict[tuple[int, ...], int] = {}
        for row, seq in enumerate(sequences):
            key = tuple(int(t) for t in seq)
            if not key:
                raise ValueError(f"item row {row} has an empty token sequence")
            if key in self.row_of:
                raise ValueError(
                    f"item rows {self.row_of[key]} and {row} share the token sequence {key}"
                )
            self.row_of[key] = row
            for depth in range(len(key)):
                children.setdefault(key[:depth], set()).add(key[depth])
        self._children = {prefix: sorted(tokens) for prefix, tokens in children.items()}
        for key in self.row_of:
            if key in self._children:
                raise ValueError(f"token sequence {key} is a prefix of another item's sequence")
            self._children[key] = [self.eos_id]
        self._eos_only = [self.eos_id]

    @classmethod
    def from_codes(cls, codes: np.ndarray, token_ids: np.ndarray, eos_id: int) -> SidTrie:
        """Trie from per-item codes ``[n_items, levels]`` and ``token_ids[level, code]``."""
        levels = np.arange(codes.shape[1])
        return cls(token_ids[levels, codes].tolist(), eos_id)

    def allowed(self, prefix: Sequence[int]) -> list[int]:
        """Token ids allowed after ``prefix`` (generated tokens so far, without the prompt)."""
        return self._children.get(tuple(prefix), self._eos_only)

    def item_row(self, sequence: Sequence[int]) -> int | None:
        """The item row spelled by ``sequence`` (an optional trailing EOS is ignored)."""
        key = tuple(int(t) for t in sequence)
        if key and key[-1] == self.eos_id:
            key = key[:-1]
        return self.row_of.get(key)

    def __len__(self) -> int:
        return len(self.row_of)
