"""``mmgrid check-config FILE ...``: the workflow's config checks, without Snakemake."""

from __future__ import annotations

import argparse
import sys

from mmgrid.errors import InputError


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="+",
        help="config files in the order Snakemake reads them (the working directory's "
        "config.yaml, when it exists, then each --configfile); later ones win",
    )


def run(args: argparse.Namespace) -> int:
    """Exit 0 when the workflow would accept the config."""
    from mmgrid.study import Study

    try:
        study = Study.from_config_files(args.files)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        return 2
    print(
        f"config OK: {len(study.domains)} domains, {len(study.cells)} cells, "
        f"{len(study.merges)} merges",
        flush=True,
    )
    return 0
