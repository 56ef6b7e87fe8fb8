"""Logging for jobs: everything a job reads and writes goes to its log file."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

from mmgrid.temporaries import exit_on_sigterm


@contextlib.contextmanager
def job_log(path: str | Path | None) -> Iterator[logging.Logger]:
    """Send ``logging`` output and stderr (progress bars, warnings) to ``path`` for the block.

    Exceptions are logged with their traceback before they propagate, so a failed job's log says why.
    A SIGTERM ends the block like an exception (its temporaries are removed: see
    :func:`mmgrid.temporaries.exit_on_sigterm`).
    """
    root = logging.getLogger()
    stream = open(path, "a", buffering=1) if path else sys.stderr  # noqa: SIM115
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    old_stderr = sys.stderr
    sys.stderr = stream
    try:
        with exit_on_sigterm():
            yield logging.getLogger("mmgrid")
    except BaseException:
        logging.getLogger("mmgrid").exception("job failed")
        raise
    finally:
        sys.stderr = old_stderr
        root.removeHandler(handler)
        if stream is not old_stderr:
            stream.close()
