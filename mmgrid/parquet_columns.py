"""Reading the columns a stage needs from a parquet file, with errors that name the file."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mmgrid.errors import InputError


def read_columns(
    path: str | os.PathLike[str], columns: Sequence[str], *, what: str, fix: str
) -> pd.DataFrame:
    """``columns`` of the parquet file ``path`` (``what`` it is, e.g. "items file").

    A missing or unreadable (e.g. truncated) file or a missing column raises
    :class:`InputError` naming the file, what is wrong and ``fix`` (how to make the file).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: {what} not found; {fix}")
    try:
        names = pq.read_schema(path).names
        missing = [c for c in columns if c not in names]
        frame = None if missing else pd.read_parquet(path, columns=list(columns))
    except (pa.ArrowException, OSError) as error:
        raise InputError(f"{path}: not a readable parquet {what} ({error}); {fix}") from None
    if frame is None:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; a {what} needs "
            f"{', '.join(columns)}; {fix}"
        )
    return frame
