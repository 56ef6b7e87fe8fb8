"""The ``merge.json`` provenance record: resolved spec, plan, input and output files."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import mmgrid
from mmgrid.merge.plan import MergePlan


def sha256(path: Path, block: int = 1 << 24) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()


def _describe_file(path: Path, checksums: bool, root: Path | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "file": str(path.relative_to(root)) if root else path.name,
        "bytes": path.stat().st_size,
    }
    if checksums:
        entry["sha256"] = sha256(path)
    return entry


def _weight_files(directory: Path) -> list[Path]:
    return sorted(
        p
        for p in directory.iterdir()
        if p.is_file() and (p.suffix == ".safetensors" or p.name.endswith(".json"))
    )


def provenance(
    plan: MergePlan,
    out: Path,
    files: list[Path],
    chunk_elems: int,
    threads: int,
    checksums: bool,
    seconds: float,
) -> dict[str, Any]:
    """Everything needed to tell what produced ``out`` and from which bytes."""
    dirs: dict[str, Path] = {"target": plan.target.path}
    if plan.reference is not None:
        dirs["reference"] = plan.reference.path
    for spec_in in plan.spec.inputs:
        dirs[f"input:{spec_in.name}"] = spec_in.path
        if spec_in.base is not None:
            dirs[f"base:{spec_in.name}"] = spec_in.base
    dirs["copy_files_from"] = plan.copy_from
    return {
        "mmgrid_version": mmgrid.__version__,
        "spec": plan.spec.to_dict(),
        "plan": {
            "passes": plan.passes,
            "bytes_read": plan.read_bytes() * plan.passes,
            "bytes_written": plan.write_bytes(),
            "chunk_elems": chunk_elems,
            "threads": threads,
            "notes": plan.notes,
        },
        "inputs": {
            role: {
                "path": str(path),
                "files": [_describe_file(p, checksums) for p in _weight_files(path)],
            }
            for role, path in dirs.items()
        },
        "outputs": [_describe_file(p, checksums, out) for p in files],
        "seconds": round(seconds, 3),
    }
