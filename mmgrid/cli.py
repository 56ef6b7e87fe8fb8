"""The ``mmgrid`` command line: ``mmgrid merge SPEC.yaml OUT_DIR`` (see docs/merging.md) and
``mmgrid estimate`` (the work and device hours of a run, before it runs)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mmgrid import __version__


def build_parser() -> argparse.ArgumentParser:
    from mmgrid.estimate import cli as estimate_cli
    from mmgrid.merge import cli as merge_cli

    parser = argparse.ArgumentParser(prog="mmgrid", description=__doc__)
    parser.add_argument("--version", action="version", version=f"mmgrid {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    merge = commands.add_parser(
        "merge",
        help="merge same-architecture checkpoints or LoRA adapters as a YAML spec describes",
        description=merge_cli.__doc__,
    )
    merge_cli.configure_parser(merge)
    merge.set_defaults(run=merge_cli.run)
    estimate = commands.add_parser(
        "estimate",
        help="count the work of every job and estimate device hours, before a run",
        description=estimate_cli.__doc__,
    )
    estimate_cli.configure_parser(estimate)
    estimate.set_defaults(run=estimate_cli.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
