"""Lazy safetensors access: header parsing, row-range reads, a streaming writer.

Only headers are parsed up front (a few KB per file); tensor bytes are read on demand with
``pread``, a row range into a fresh buffer or a block of elements into a caller's buffer, so
memory stays bounded by the chunk size and a file that changes during a merge gives an error
(a short read), not a crash. The writer computes every header before the first data byte and
writes rows at precomputed offsets, so outputs of any size stream through O(chunk) memory.
"""

from __future__ import annotations

import json
import math
import os
import struct
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmgrid.errors import InputError
from mmgrid.merge.dtypes import STORAGE, itemsize

SINGLE_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"
MAX_HEADER_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True)
class TensorInfo:
    """Where one tensor lives: file, dtype, shape and byte range of its data."""

    name: str
    file: Path
    dtype: str
    shape: tuple[int, ...]
    offset: int  # absolute byte offset of the first element in ``file``

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.numel * itemsize(self.dtype)

    @property
    def rows(self) -> int:
        """Number of rows when viewed as 2-D (first axis; a scalar is one row)."""
        return self.shape[0] if self.shape else 1

    @property
    def row_len(self) -> int:
        """Elements per row when viewed as 2-D."""
        return math.prod(self.shape[1:]) if self.shape else 1


def parse_header(path: Path) -> tuple[dict[str, dict], int]:
    """(tensor entries, offset of the data) of a safetensors file, checked to be complete: an
    :class:`InputError` names a truncated file with its expected and actual size."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) != 8:
                raise InputError(f"{path}: not a safetensors file (shorter than 8 bytes)")
            (n,) = struct.unpack("<Q", head)
            if n > MAX_HEADER_BYTES:
                raise InputError(f"{path}: safetensors header length {n} is implausible")
            raw = f.read(n)
        size = path.stat().st_size
        if len(raw) < n:
            raise _truncated(path, 8 + n, size)
        header = json.loads(raw)
        tensors = {k: v for k, v in header.items() if k != "__metadata__"}
        end = max((m["data_offsets"][1] for m in tensors.values()), default=0)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: safetensors header is not valid JSON ({e})") from None
    except (AttributeError, KeyError, TypeError, IndexError) as e:
        raise InputError(f"{path}: malformed safetensors header ({e!r})") from None
    if size < 8 + n + end:
        raise _truncated(path, 8 + n + end, size)
    return tensors, 8 + n


def read_header(path: Path) -> dict[str, TensorInfo]:
    """Parse one safetensors file's header (:func:`parse_header`); no tensor bytes are read."""
    tensors, data_start = parse_header(path)
    out: dict[str, TensorInfo] = {}
    for name, meta in tensors.items():
        dtype = meta["dtype"]
        if dtype not in STORAGE:
            raise InputError(
                f"{path}: tensor {name!r} has dtype {dtype}; supported: {sorted(STORAGE)}"
            )
        begin, end = meta["data_offsets"]
        info = TensorInfo(name, path, dtype, tuple(meta["shape"]), data_start + begin)
        if end - begin != info.nbytes:
            raise InputError(f"{path}: tensor {name!r} has inconsistent data offsets")
        out[name] = info
    return out


def _truncated(path: Path, expected: int, found: int) -> InputError:
    return InputError(
        f"{path}: truncated (expected {expected} bytes, found {found}); copy or write it again"
    )


def index_checkpoint(directory: Path, single: str = SINGLE_FILE, index: str = INDEX_FILE):
    """Map tensor name -> TensorInfo for a single-file or sharded safetensors checkpoint."""
    if (directory / index).is_file():
        try:
            weight_map = json.loads((directory / index).read_text())["weight_map"]
        except (KeyError, json.JSONDecodeError) as e:
            raise InputError(f"{directory / index}: not a valid safetensors index ({e})") from None
        tensors: dict[str, TensorInfo] = {}
        for shard in sorted(set(weight_map.values())):
            tensors.update(read_header(directory / shard))
        missing = sorted(set(weight_map) - set(tensors))
        if missing:
            raise InputError(f"{directory / index}: tensors listed but absent: {missing[:5]}")
        return tensors
    if (directory / single).is_file():
        return read_header(directory / single)
    raise InputError(
        f"{directory}: no {single} or {index} found; point the spec at a Hugging Face "
        "checkpoint directory with safetensors weights"
    )


class FileReader:
    """Reads tensor elements with ``os.preadv`` (thread-safe: no shared file position)."""

    def __init__(self) -> None:
        self._fds: dict[Path, int] = {}
        self._lock = threading.Lock()

    def _fd(self, path: Path) -> int:
        fd = self._fds.get(path)
        if fd is None:
            with self._lock:
                fd = self._fds.get(path)
                if fd is None:
                    fd = os.open(path, os.O_RDONLY)
                    self._fds[path] = fd
        return fd

    def read_rows(self, info: TensorInfo, r0: int, r1: int) -> np.ndarray:
        """Rows ``[r0, r1)`` of ``info`` as a (rows, row_len) array of its storage dtype."""
        out = np.empty((r1 - r0, info.row_len), dtype=STORAGE[info.dtype])
        self.read_into(info, r0 * info.row_len, out.reshape(-1))
        return out

    def read_into(self, info: TensorInfo, start: int, out: np.ndarray) -> np.ndarray:
        """Elements ``[start, start + out.size)`` of ``info`` (flat) into ``out`` (its storage
        dtype, contiguous); returns ``out``."""
        nbytes = out.nbytes
        offset = info.offset + start * out.itemsize
        view = memoryview(out.view(np.uint8))
        fd = self._fd(info.file)
        done = 0
        while done < nbytes:
            got = os.preadv(fd, [view[done:]], offset + done)
            if got <= 0:
                raise InputError(
                    f"{info.file}: short read of tensor {info.name!r} (did the file change "
                    "during the merge?)"
                )
            done += got
        return out

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()


@dataclass(frozen=True)
class OutTensor:
    """A tensor to be written: name, safetensors dtype and shape."""

    name: str
    dtype: str
    shape: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * itemsize(self.dtype)


def _header_bytes(tensors: Sequence[OutTensor], metadata: dict[str, str]) -> bytes:
    header: dict[str, object] = {"__metadata__": metadata}
    pos = 0
    for t in tensors:
        header[t.name] = {
            "dtype": t.dtype,
            "shape": list(t.shape),
            "data_offsets": [pos, pos + t.nbytes],
        }
        pos += t.nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    return raw + b" " * (-len(raw) % 8)


def shard_layout(tensors: Sequence[OutTensor], shard_bytes: int | None) -> list[list[OutTensor]]:
    """Split tensors (in order) into shards of at most ``shard_bytes`` (a tensor never splits)."""
    if not shard_bytes:
        return [list(tensors)]
    shards: list[list[OutTensor]] = [[]]
    size = 0
    for t in tensors:
        if shards[-1] and size + t.nbytes > shard_bytes:
            shards.append([])
            size = 0
        shards[-1].append(t)
        size += t.nbytes
    return shards


class SafetensorsWriter:
    """Streams tensors into one or more safetensors files whose headers are computed up front.

    Files are preallocated; ``write_rows`` may be called in any order and from several threads.
    With more than one shard, ``model-0000i-of-0000N.safetensors`` and an index are written.
    """

    def __init__(
        self,
        directory: Path,
        tensors: Iterable[OutTensor],
        *,
        shard_bytes: int | None = None,
        single_name: str = SINGLE_FILE,
        metadata: dict[str, str] | None = None,
    ) -> None:
        tensors = list(tensors)
        shards = shard_layout(tensors, shard_bytes)
        meta = {"format": "pt", **(metadata or {})}
        self.files: list[Path] = []
        self._where: dict[str, tuple[int, int, OutTensor]] = {}
        self._fds: list[int] = []
        weight_map: dict[str, str] = {}
        for i, shard in enumerate(shards):
            fname = (
                single_name
                if len(shards) == 1
                else f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
            )
            path = directory / fname
            header = _header_bytes(shard, meta)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
            os.pwrite(fd, struct.pack("<Q", len(header)) + header, 0)
            pos = 8 + len(header)
            for t in shard:
                self._where[t.name] = (len(self._fds), pos, t)
                weight_map[t.name] = fname
                pos += t.nbytes
            os.ftruncate(fd, pos)
            self._fds.append(fd)
            self.files.append(path)
        if len(shards) > 1:
            total = sum(t.nbytes for t in tensors)
            index = {
                "metadata": {"total_size": total},
                "weight_map": dict(sorted(weight_map.items())),
            }
            (directory / INDEX_FILE).write_text(json.dumps(index, indent=2) + "\n")
            self.files.append(directory / INDEX_FILE)

    def write_rows(self, name: str, r0: int, raw: np.ndarray) -> None:
        """Write rows starting at row ``r0`` of tensor ``name`` (``raw`` in storage dtype)."""
        fd_i, start, t = self._where[name]
        row_bytes = (math.prod(t.shape[1:]) if t.shape else 1) * itemsize(t.dtype)
        data = memoryview(np.ascontiguousarray(raw).reshape(-1).view(np.uint8))
        self.write_at(fd_i, start + r0 * row_bytes, data)

    def patch_elements(self, name: str, flat_index: np.ndarray, raw: np.ndarray) -> None:
        """Overwrite elements (flat indices, any order) of tensor ``name``: one
        read-modify-write of the byte range they span."""
        fd_i, start, t = self._where[name]
        lo, hi = int(flat_index.min()), int(flat_index.max()) + 1
        size = itemsize(t.dtype)
        buf = bytearray(os.pread(self._fds[fd_i], (hi - lo) * size, start + lo * size))
        span = np.frombuffer(buf, dtype=raw.dtype)
        span[flat_index - lo] = raw
        self.write_at(fd_i, start + lo * size, memoryview(buf))

    def write_at(self, fd_i: int, offset: int, data: memoryview) -> None:
        done = 0
        while done < len(data):
            done += os.pwrite(self._fds[fd_i], data[done:], offset + done)

    def close(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds.clear()
