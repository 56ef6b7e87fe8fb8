"""The run manifest (``results/all``): every artefact with its checksum, plus provenance."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mmgrid import __version__
from mmgrid.atomic import write_json


def sha256_file(path: Path, block: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def config_hash(config: Mapping[str, Any]) -> str:
    """SHA-256 of the config as canonical JSON (sorted keys)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()


def git_commit(directory: Path) -> str | None:
    """The commit checked out in ``directory`` (with ``-dirty`` if it has changes), if any."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(directory), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "")


# Snakemake's own marker inside directory outputs: bookkeeping, not an artefact
IGNORED_NAMES = {".snakemake_timestamp"}


def artefact_entries(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """One entry per file (directories are expanded recursively), sorted by path."""
    files: set[Path] = set()
    for p in map(Path, paths):
        if p.is_dir():
            files.update(f for f in p.rglob("*") if f.is_file() and f.name not in IGNORED_NAMES)
        else:
            files.add(p)
    return [
        {"path": f.as_posix(), "bytes": f.stat().st_size, "sha256": sha256_file(f)}
        for f in sorted(files)
    ]


def write_manifest(
    out: Path, artefacts: Iterable[str | Path], config: Mapping[str, Any], source_dir: Path
) -> dict[str, Any]:
    """Write the manifest JSON to ``out`` and return it: ``outputs`` are the jobs' outputs
    (files and directories) and ``artefacts`` every file in them, with size and SHA-256."""
    outputs = sorted({Path(p).as_posix() for p in artefacts})
    manifest = {
        "provenance": {
            "mmgrid_version": __version__,
            "config_sha256": config_hash(config),
            "git_commit": git_commit(source_dir),
            "python": platform.python_version(),
        },
        "config": dict(config),
        "outputs": outputs,
        "artefacts": artefact_entries(outputs),
    }
    write_json(out, manifest)
    return manifest
