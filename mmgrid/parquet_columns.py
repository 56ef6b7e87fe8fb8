"""Reading the columns a stage needs from a parquet file, with errors that name the file."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from mmgrid.errors import InputError


def read_columns(
    path: str | os.PathLike[str], columns: Sequence[str], *, what: str, fix: str
) -> pd.DataFrame:
    """``columns`` of the parquet file ``path`` (``what`` it is, e.g. "items file").

    A missing file or column raises :class:`InputError` naming the file, the missing columns
    and ``fix`` (how to make the file).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: {what} not found; {fix}")
    missing = [c for c in columns if c not in pq.read_schema(path).names]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; a {what} needs "
            f"{', '.join(columns)}; {fix}"
        )
    return pd.read_parquet(path, columns=list(columns))
