"""``mmgrid verify [MANIFEST]``: check that every artefact of a run is still there, unchanged.

The manifest (``results/all``) lists each job output (a file or a directory) and every file in
them with its size and SHA-256. Verification reads them all again and reports each file that
is missing or differs, and for each affected output the Snakemake command that rebuilds it and
everything that depends on it. Exit status: 0 when everything matches, 1 when something does
not, 2 when the manifest cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmgrid.errors import InputError
from mmgrid.manifest import sha256_file

DEFAULT_MANIFEST = "results/all"


@dataclass(frozen=True)
class Problem:
    """One artefact that does not match the manifest."""

    path: str
    output: str  # the job output (file or directory) it belongs to
    what: str


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(
            f"{path}: no manifest here; run the workflow (snakemake --cores N all) first, or "
            "give the manifest's path"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(
            f"{path}: not a manifest (not JSON: {e}); rebuild it: {rebuild([])}"
        ) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("artefacts"), list):
        raise InputError(f"{path}: not a manifest (no 'artefacts' list); rebuild it: {rebuild([])}")
    return manifest


def _owner(path: str, outputs: set[str]) -> str:
    """The output that ``path`` is, or lies in (the path itself for manifests without outputs)."""
    p = Path(path)
    for candidate in (p, *p.parents):
        if candidate.as_posix() in outputs:
            return candidate.as_posix()
    return path


def check(manifest: dict[str, Any], root: Path, checksums: bool = True) -> list[Problem]:
    """Every artefact of ``manifest`` (paths relative to ``root``) that is missing or differs."""
    outputs = set(manifest.get("outputs") or [])
    problems = []
    for out in sorted(outputs):
        if not (root / out).exists():
            problems.append(Problem(out, out, "missing"))
    missing_outputs = {p.output for p in problems}
    for entry in manifest["artefacts"]:
        path = entry["path"]
        owner = _owner(path, outputs)
        if owner in missing_outputs:
            continue
        file = root / path
        if not file.is_file():
            problems.append(Problem(path, owner, "missing"))
        elif file.stat().st_size != entry["bytes"]:
            size = file.stat().st_size
            problems.append(
                Problem(path, owner, f"{size} bytes, the manifest says {entry['bytes']}")
            )
        elif checksums and sha256_file(file) != entry["sha256"]:
            problems.append(Problem(path, owner, "changed (SHA-256 differs from the manifest)"))
    return sorted(problems, key=lambda p: (p.output, p.path))


def rebuild(outputs: list[str]) -> str:
    """The Snakemake command that rebuilds ``outputs`` (forced) and everything depending on them."""
    forced = f" --forcerun {' '.join(outputs)}" if outputs else ""
    return f"snakemake all --cores all{forced}"


def report(problems: list[Problem], say: Callable[[str], None] = print) -> None:
    by_output: dict[str, list[Problem]] = {}
    for p in problems:
        by_output.setdefault(p.output, []).append(p)
    for output, items in by_output.items():
        for p in items:
            say(f"{p.what}: {p.path}")
        say(f"  rebuild: {rebuild([output])}")
    if len(by_output) > 1:
        say(f"rebuild all of them: {rebuild(list(by_output))}")
    say(
        f"{len(problems)} problem(s) in {len(by_output)} output(s); add the --configfile and "
        "--profile of the original run to the commands"
    )


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "manifest",
        nargs="?",
        default=DEFAULT_MANIFEST,
        help=f"the run's manifest (default: {DEFAULT_MANIFEST})",
    )
    parser.add_argument(
        "--directory",
        default=".",
        help="the working directory of the run, which the manifest's paths are relative to "
        "(default: the current directory)",
    )
    parser.add_argument(
        "--no-checksums", action="store_true", help="check presence and sizes only (fast)"
    )


def run(args: argparse.Namespace) -> int:
    root = Path(args.directory)
    try:
        manifest = read_manifest(root / args.manifest)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        return 2
    problems = check(manifest, root, checksums=not args.no_checksums)
    if not problems:
        n = len(manifest["artefacts"])
        print(f"all {n} artefacts of {args.manifest} are present and unchanged", flush=True)
        return 0
    report(problems)
    return 1
