"""The ``mmgrid`` command line.

- ``mmgrid merge SPEC.yaml OUT_DIR``: merge checkpoints as a spec describes (docs/merging.md);
- ``mmgrid verify [MANIFEST]``: check a run's artefacts against its manifest;
- ``mmgrid clean --stale [DIR ...]``: remove the temporaries that killed jobs left;
- ``mmgrid check-config FILE ...``: the workflow's config checks, without Snakemake;
- ``mmgrid estimate``: the work and device hours of a run, before it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mmgrid import __version__


def build_parser() -> argparse.ArgumentParser:
    from mmgrid import clean, verify
    from mmgrid.estimate import estimate_cli
    from mmgrid.merge import merge_cli
    from mmgrid.study import check_config

    parser = argparse.ArgumentParser(
        prog="mmgrid", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"mmgrid {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, module, text in (
        ("merge", merge_cli, "merge same-architecture checkpoints or LoRA adapters"),
        ("verify", verify, "check every artefact of a run against its manifest"),
        ("clean", clean, "remove temporaries whose writer is gone"),
        ("check-config", check_config, "check workflow config files as the workflow does"),
        (
            "estimate",
            estimate_cli,
            "count the work of every job and estimate device hours, before a run",
        ),
    ):
        sub = commands.add_parser(
            name,
            help=text,
            description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.configure_parser(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
