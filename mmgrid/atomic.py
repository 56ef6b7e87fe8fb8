"""Atomic outputs: a file or directory either appears whole at its final path or not at all.

Every writer of the package goes through :func:`atomic_path` or :func:`atomic_dir`, and so
through one rule for output paths (:func:`check_output`): an output never is, contains or lies
inside one of the inputs it is computed from; a file never replaces a directory nor a directory
a file; and an existing non-empty directory is replaced only when it is a previous output of
the same writer (it holds the writer's marker file) or when the caller says ``overwrite``.
Temporaries carry their owner in their name (:mod:`mmgrid.temporaries`); each write first
removes the stale temporaries that killed writers left for the same output.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from mmgrid import temporaries
from mmgrid.errors import InputError

PathLike = str | os.PathLike[str]


class OutputError(InputError):
    """An output path that would destroy something: an input, a directory that is not a
    previous output, or a file of the other kind. ``overwritable``: the caller's overwrite
    option would allow it."""

    def __init__(self, message: str, overwritable: bool = False) -> None:
        super().__init__(message)
        self.overwritable = overwritable


def check_output(
    path: PathLike,
    *,
    directory: bool,
    inputs: Iterable[PathLike] = (),
    marker: str | None = None,
    overwrite: bool = False,
) -> None:
    """Raise :class:`OutputError` unless writing ``path`` is safe (see the module docstring).

    Paths are compared after resolving symbolic links. ``marker``: a file that every complete
    output directory of the writer holds (e.g. ``merge.json``).
    """
    final = Path(path)
    target = final.resolve()
    for source in inputs:
        src = Path(source).resolve()
        relation = (
            "is"
            if src == target
            else "contains"
            if target in src.parents
            else "lies inside"
            if src in target.parents
            else None
        )
        if relation:
            raise OutputError(
                f"{final}: the output {relation} the input {source}; "
                "choose an output path outside every input"
            )
    if not (final.exists() or final.is_symlink()):
        return
    if directory and not target.is_dir():
        raise OutputError(
            f"{final}: is a file, and a directory would replace it; "
            "choose another output path or remove the file"
        )
    if not directory and target.is_dir():
        raise OutputError(
            f"{final}: is a directory, and a file would replace it; "
            "choose another output path or remove the directory"
        )
    if directory and not overwrite and any(target.iterdir()):
        if marker is not None and (target / marker).is_file():
            return
        previous = f" (it has no {marker})" if marker else ""
        raise OutputError(
            f"{final}: is not empty and is not a previous output{previous}; choose a new or "
            "empty directory, or remove it first",
            overwritable=True,
        )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def usual_permissions(root: Path) -> None:
    """Give ``root`` and everything under it the permissions of a new file or directory
    (0666 / 0777 less the umask): writers that create files with ``mkstemp`` leave 0600."""
    mask = _umask()
    os.chmod(root, (0o777 if root.is_dir() else 0o666) & ~mask)
    if root.is_dir():
        for directory, subdirs, files in os.walk(root):
            for name in subdirs:
                os.chmod(os.path.join(directory, name), 0o777 & ~mask)
            for name in files:
                os.chmod(os.path.join(directory, name), 0o666 & ~mask)


@contextlib.contextmanager
def atomic_path(path: PathLike, *, inputs: Iterable[PathLike] = ()) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only on success.

    The temporary name ends with the name of ``path`` (same suffixes) so that writers that
    infer a format from the suffix (pandas, matplotlib) behave the same. On any exception the
    temporary file is removed and ``path`` is left untouched.
    """
    final = Path(path)
    check_output(final, directory=False, inputs=inputs)
    final.parent.mkdir(parents=True, exist_ok=True)
    temporaries.remove_stale_for(final)
    tmp = temporaries.new_file(final)
    try:
        yield tmp
        usual_permissions(tmp)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_dir(
    path: PathLike,
    *,
    marker: str | None = None,
    inputs: Iterable[PathLike] = (),
    overwrite: bool = False,
) -> Iterator[Path]:
    """Yield a fresh temporary directory next to ``path``; move it onto ``path`` on success.

    An existing directory at ``path`` is replaced only after the new one is complete, and only
    when :func:`check_output` allows it (``marker``: the file every output of the caller holds).
    """
    final = Path(path)
    inputs = list(inputs)
    check_output(final, directory=True, inputs=inputs, marker=marker, overwrite=overwrite)
    final.parent.mkdir(parents=True, exist_ok=True)
    temporaries.remove_stale_for(final)
    tmp = temporaries.new_dir(final)
    try:
        yield tmp
        usual_permissions(tmp)
        # checked again: the directory may have appeared while the output was computed
        check_output(final, directory=True, inputs=inputs, marker=marker, overwrite=overwrite)
        if final.exists():
            old = temporaries.new_dir(final)
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def atomic_paths(paths: Iterable[PathLike]) -> Iterator[list[Path]]:
    """Temporary paths for several outputs, renamed onto them only after the whole block succeeds.

    A failure anywhere in the block leaves every final path untouched.
    """
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(atomic_path(p)) for p in paths]


def write_json(path: PathLike, obj: Any) -> None:
    """Write ``obj`` as indented, key-sorted JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(dumps_json(obj))


def dumps_json(obj: Any) -> str:
    """The project's JSON text: indented, key-sorted, newline-terminated."""
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"


def write_parquet(table: Any, path: PathLike) -> None:
    """Write a pyarrow table as zstd-compressed parquet, atomically."""
    import pyarrow.parquet as pq

    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def write_csv(frame: Any, path: PathLike) -> None:
    """Write a pandas frame as CSV without its index, atomically."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
