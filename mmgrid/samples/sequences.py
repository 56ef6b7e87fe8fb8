"""Per-user chronological interaction sequences, read from a domain's period shards."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


@dataclass(frozen=True)
class UserSequences:
    """All users' interactions in CSR layout: user ``u`` owns rows ``offsets[u]:offsets[u+1]``.

    Users are sorted by id; each user's rows are sorted by (timestamp, item id).
    """

    users: np.ndarray
    offsets: np.ndarray
    items: np.ndarray
    timestamps: np.ndarray

    def __len__(self) -> int:
        return len(self.users)

    def rows(self, user: int) -> slice:
        return slice(int(self.offsets[user]), int(self.offsets[user + 1]))

    def row_users(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The index of the user owning each of ``rows`` (of every row when None)."""
        if rows is None:
            return np.repeat(np.arange(len(self.users)), np.diff(self.offsets))
        return np.searchsorted(self.offsets, rows, side="right") - 1


def load_sequences(shards: Sequence[str | os.PathLike[str]]) -> UserSequences:
    """Read and concatenate shards (any order) into per-user sequences."""
    table = pa.concat_tables(
        [pq.read_table(p, columns=["user_id", "item_id", "timestamp"]) for p in shards]
    )
    table = table.sort_by(
        [("user_id", "ascending"), ("timestamp", "ascending"), ("item_id", "ascending")]
    )
    user_col = table.column("user_id").combine_chunks()
    codes = user_col.dictionary_encode().indices.to_numpy()  # equal ids -> equal codes
    starts = (
        np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.array([], int)
    )
    users = user_col.take(pa.array(starts)).to_numpy(zero_copy_only=False).astype(object)
    return UserSequences(
        users=users,
        offsets=np.r_[starts, len(codes)].astype(np.int64),
        items=table.column("item_id").to_numpy(zero_copy_only=False).astype(object),
        timestamps=table.column("timestamp").to_numpy(),
    )
