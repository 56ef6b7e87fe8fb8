"""``mmgrid merge SPEC.yaml OUT_DIR``: validate, print the plan, merge."""

from __future__ import annotations

import argparse
import sys

from mmgrid.atomic import OutputError
from mmgrid.errors import InputError, os_error_text
from mmgrid.merge.engine import merge
from mmgrid.merge.plan import DEFAULT_CHUNK_ELEMS, build_plan
from mmgrid.merge.spec import load_spec
from mmgrid.temporaries import exit_on_sigterm


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the merge arguments to ``parser``."""
    parser.add_argument("spec", help="merge spec (YAML); see docs/merging.md")
    parser.add_argument("out_dir", help="output directory (written atomically)")
    parser.add_argument(
        "--chunk-elems",
        type=int,
        default=DEFAULT_CHUNK_ELEMS,
        help=f"elements per processing chunk (default {DEFAULT_CHUNK_ELEMS})",
    )
    parser.add_argument("--threads", type=int, default=1, help="worker threads (default 1)")
    parser.add_argument(
        "--no-checksums", action="store_true", help="skip sha256 of inputs/outputs in merge.json"
    )
    parser.add_argument(
        "--check", action="store_true", help="validate and print the plan; write nothing"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing non-empty OUT_DIR that is not a previous merge output",
    )


def run(args: argparse.Namespace) -> int:
    """Run the merge described by ``args``; returns the exit status."""

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    try:
        spec = load_spec(args.spec)
        if args.check:
            print(build_plan(spec).describe(args.chunk_elems, args.threads))
            return 0
        with exit_on_sigterm():  # a terminated merge removes its temporary
            merge(
                spec,
                args.out_dir,
                chunk_elems=args.chunk_elems,
                threads=args.threads,
                checksums=not args.no_checksums,
                log=log,
                overwrite=args.overwrite,
                protect=[args.spec],
            )
    except OutputError as e:
        log(f"error: {e}" + (", or pass --overwrite to replace it" if e.overwritable else ""))
        return 2
    except InputError as e:
        log(f"error: {e}")
        return 2
    except OSError as e:  # disk full, permissions: the file and the reason, not a traceback
        log(f"error: {os_error_text(e, args.out_dir)}")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmgrid.merge", description=__doc__)
    configure_parser(parser)
    return run(parser.parse_args(argv))
