"""One merge job of the workflow's grid: typed params in, a merged checkpoint out.

:class:`GridMergeParams` is what :mod:`mmgrid.study.merges` decides from the config (method,
options, weighted inputs, reference, source domain); :meth:`GridMergeParams.run` is the job:
the only thing it reads besides the checkpoints is, for a ``semid`` merge that keeps the
source's semantic-ID rows, where those rows are (``tokenizer.json`` of the paradigm's base).
Importing this module is cheap (no numpy until the merge runs).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmgrid.errors import InputError
from mmgrid.settings import JobParams

SID_TOKEN = re.compile(r"<[a-z]_[0-9]+>")


@dataclass(frozen=True)
class GridMergeParams(JobParams):
    """Everything that determines one merged model of the grid."""

    method: str
    options: Mapping[str, Any]
    inputs: tuple[tuple[str, str, float], ...]
    """(input name, checkpoint directory, weight), in summation order."""
    reference: str | None
    source: str
    """The evaluated domain whose non-tensor files (and semid ID rows) the output keeps."""
    sid_rows_from: str | None
    """semid: the input whose semantic-ID rows the output copies (None: the rows are merged)."""
    chunk_elems: int
    """Elements per processing chunk (the result does not depend on it)."""

    def engine_spec(self, sid_rows: tuple[int, int] | None) -> dict[str, Any]:
        """The merge engine's spec (docs/merging.md); ``sid_rows``: the semantic-ID rows,
        copied from the input ``sid_rows_from`` instead of being merged (None: none)."""
        inputs = [{"name": n, "path": p, "weight": w} for n, p, w in self.inputs]
        names = [i["name"] for i in inputs]
        source = self.source if self.source in names else names[-1]
        spec: dict[str, Any] = {
            "method": self.method,
            "options": dict(self.options),
            "inputs": inputs,
            "copy_files_from": source,
        }
        if self.reference:
            spec["reference"] = self.reference
            spec["target"] = self.reference
        if sid_rows is not None:
            spec["vocab_rows"] = {"rows": list(sid_rows), "source": self.sid_rows_from}
        return spec

    def run(
        self,
        out_dir: str | Path,
        *,
        sid_base: str | Path | None = None,
        threads: int = 1,
        log: Callable[[str], None] = print,
    ) -> Any:
        """Merge into ``out_dir``; ``sid_base`` is the checkpoint whose tokenizer tells where
        the semantic-ID rows are (needed when ``sid_rows_from`` is set)."""
        from mmgrid.merge.engine import merge

        rows = None
        if self.sid_rows_from is not None:
            if sid_base is None:
                raise ValueError("a merge that copies semantic-ID rows needs the semid base")
            rows = semantic_id_rows(sid_base)
        spec = self.engine_spec(rows)
        return merge(spec, out_dir, chunk_elems=self.chunk_elems, threads=threads, log=log)


def semantic_id_rows(model_dir: str | Path) -> tuple[int, int]:
    """``[start, end)`` rows of the semantic-ID tokens in a checkpoint's vocabulary.

    Read from ``tokenizer.json``'s added tokens (the IDs are added in one contiguous block).
    """
    path = Path(model_dir) / "tokenizer.json"
    added = json.loads(path.read_text()).get("added_tokens", [])
    ids = sorted(t["id"] for t in added if SID_TOKEN.fullmatch(t["content"]))
    if not ids:
        raise InputError(f"{path}: no semantic-ID tokens (like <a_0>) among the added tokens")
    if ids[-1] - ids[0] + 1 != len(ids):
        raise InputError(f"{path}: the semantic-ID tokens do not occupy one contiguous id range")
    return ids[0], ids[-1] + 1
