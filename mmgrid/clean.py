"""``mmgrid clean --stale [DIR ...]``: remove the temporaries that killed jobs left behind.

Temporaries are named ``.mmgrid-tmp.{host}.{pid}-{start}.{random}.{name}``
(:mod:`mmgrid.temporaries`). One whose owner ran on this host and is gone is removed (with
``--dry-run``: only listed); one whose owner still runs is kept; one of another host is kept
unless ``--other-hosts`` is given (its owner may be running there).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from mmgrid import temporaries


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stale",
        action="store_true",
        required=True,
        help="remove temporaries whose writer is gone (the only kind of cleaning)",
    )
    parser.add_argument(
        "dirs", nargs="*", default=["results"], help="directories to search (default: results)"
    )
    parser.add_argument("--dry-run", action="store_true", help="list, remove nothing")
    parser.add_argument(
        "--other-hosts",
        action="store_true",
        help="also remove temporaries of other hosts (only when no job runs there)",
    )


def clean_stale(
    roots: list[Path],
    dry_run: bool = False,
    other_hosts: bool = False,
    say: Callable[[str], None] = print,
) -> list[Path]:
    """Remove (or with ``dry_run`` list) the stale temporaries under ``roots``; return them."""
    verb = "would remove" if dry_run else "removed"
    removed = []
    for root in roots:
        for tmp in sorted(temporaries.find(root), key=lambda t: t.path):
            owner = f"pid {tmp.pid} on {tmp.host}"
            if tmp.stale or (other_hosts and not tmp.local):
                if not dry_run:
                    tmp.remove()
                removed.append(tmp.path)
                say(f"{verb} {tmp.path} ({owner}, {'gone' if tmp.local else 'not checked'})")
            elif tmp.local:
                say(f"kept {tmp.path} ({owner} is running)")
            else:
                say(
                    f"kept {tmp.path} ({owner}: another host, cannot check; pass --other-hosts "
                    "when no job runs there)"
                )
    return removed


def run(args: argparse.Namespace) -> int:
    roots = [Path(d) for d in args.dirs]
    missing = [str(r) for r in roots if not r.is_dir()]
    if missing:
        print(f"error: {missing[0]}: not a directory", file=sys.stderr, flush=True)
        return 2
    removed = clean_stale(roots, args.dry_run, args.other_hosts)
    print(f"{len(removed)} stale temporar{'y' if len(removed) == 1 else 'ies'}", flush=True)
    return 0
