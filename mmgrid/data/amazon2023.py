"""Readers for Amazon Reviews 2023 files exactly as downloaded.

- ``{Domain}.csv.gz``: the 5-core ``rating_only`` benchmark CSV, header
  ``user_id,parent_asin,rating,timestamp`` with Unix-millisecond timestamps.
- ``meta_{Domain}.jsonl.gz``: item metadata, one JSON object per line; only ``parent_asin``,
  ``title`` and ``description`` (a list of strings) are used.

Ratings are read in streamed record batches (bounded memory, multi-threaded parsing). Any problem in
the ratings file is an error naming the file and line (IDs with surrounding whitespace or a NUL byte
included: they would silently count as other users or items). A metadata line that is not UTF-8 or
not JSON, or whose ``parent_asin`` is invalid, is skipped and counted (the documented policy: real
metadata dumps hold a few broken lines); a file with no valid line is an error. A UTF-8 byte-order
mark at the start of either file is accepted (spreadsheet programs write one).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

from mmgrid.errors import InputError

log = logging.getLogger(__name__)

RATING_COLUMNS = ("user_id", "parent_asin", "rating", "timestamp")
# Plausible Unix-millisecond range: 1995-01-01 .. 2100-01-01. Anything outside is a unit error or junk.
MIN_TS_MS = 788_918_400_000
MAX_TS_MS = 4_102_444_800_000
FETCH_HINT = (
    "download it from the Amazon Reviews 2023 site (benchmark/5core/rating_only/{Domain}.csv.gz and "
    "raw/meta_categories/meta_{Domain}.jsonl.gz) into data.raw_dir"
)


def check_raw_file(path: Path) -> None:
    """Fail clearly when a raw file is missing or empty."""
    if not path.is_file():
        raise InputError(f"{path}: file not found; {FETCH_HINT}")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty; download it again ({FETCH_HINT})")


def _open_binary(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _decode(raw: bytes, lineno: int) -> str:
    """A line as text; a UTF-8 byte-order mark at the start of the file is dropped (accepted)."""
    text = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
    return text.rstrip("\r\n")


def _utf8_problem(e: UnicodeDecodeError) -> str:
    return f"not valid UTF-8 (byte 0x{e.object[e.start]:02x} at column {e.start + 1})"


def _read_header(path: Path) -> list[str]:
    try:
        with _open_binary(path) as f:
            line = _decode(f.readline(), 1)
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: line 1: {_utf8_problem(e)}; {FETCH_HINT}") from e
    except (OSError, EOFError) as e:
        raise InputError(f"{path}: cannot be read as gzipped UTF-8 CSV ({e}); {FETCH_HINT}") from e
    if not line.strip():
        raise InputError(f"{path}: no header line; expected {','.join(RATING_COLUMNS)}")
    return [c.strip() for c in line.strip().split(",")]


def _diagnose_csv(path: Path) -> str:
    """Find the first bad line of a ratings CSV the slow way (only called after a fast-path failure)."""
    with _open_binary(path) as f:
        f.readline()
        for lineno, raw in enumerate(f, start=2):
            try:
                line = _decode(raw, lineno)
            except UnicodeDecodeError as e:
                return f"line {lineno}: {_utf8_problem(e)}"
            row = next(csv.reader([line]), [])
            if len(row) != len(RATING_COLUMNS):
                return f"line {lineno}: expected 4 fields, got {len(row)}: {','.join(row)[:120]!r}"
            _, _, rating, ts = row
            try:
                float(rating)
            except ValueError:
                return f"line {lineno}: rating {rating!r} is not a number"
            if not ts.strip().lstrip("-").isdigit():
                return f"line {lineno}: timestamp {ts!r} is not an integer (Unix milliseconds)"
    return "a row could not be parsed"


@dataclass
class RatingsReport:
    """What was read from a ratings file."""

    rows: int = 0
    batches: int = 0


def iter_ratings(path: Path, block_size: int = 1 << 24) -> Iterator[pa.RecordBatch]:
    """Stream validated record batches ``user_id, item_id, rating, timestamp`` from a ratings CSV."""
    check_raw_file(path)
    header = _read_header(path)
    if tuple(header) != RATING_COLUMNS:
        raise InputError(
            f"{path}: line 1: header is {','.join(header)!r}; expected {','.join(RATING_COLUMNS)!r} "
            "(the 5-core rating_only CSV of Amazon Reviews 2023)"
        )
    convert = pacsv.ConvertOptions(
        column_types={
            "user_id": pa.string(),
            "parent_asin": pa.string(),
            "rating": pa.float32(),
            "timestamp": pa.int64(),
        },
        null_values=[],
        strings_can_be_null=False,
    )
    read = pacsv.ReadOptions(block_size=block_size, use_threads=True)
    parse = pacsv.ParseOptions(ignore_empty_lines=False)
    row0 = 0
    try:
        reader = pacsv.open_csv(
            path, read_options=read, parse_options=parse, convert_options=convert
        )
        for batch in reader:
            _check_batch(path, batch, row0)
            row0 += batch.num_rows
            yield batch.rename_columns(["user_id", "item_id", "rating", "timestamp"])
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        raise InputError(f"{path}: {_diagnose_csv(path)} ({str(e).splitlines()[0]})") from e
    except (OSError, EOFError) as e:
        raise InputError(f"{path}: truncated or corrupt gzip data ({e}); download it again") from e
    if row0 == 0:
        raise InputError(f"{path}: header only, no rating rows")


def _timestamp_problem(ts: int) -> str:
    if ts < 0:
        return "is before 1970 (negative Unix time); the format uses Unix milliseconds"
    hint = " (it looks like seconds; the format uses milliseconds)" if ts < MIN_TS_MS / 100 else ""
    return f"is outside 1995..2100 in Unix milliseconds{hint}"


def _check_batch(path: Path, batch: pa.RecordBatch, row0: int) -> None:
    """Range checks on one batch; line numbers count the header as line 1."""
    ts = batch.column("timestamp").to_numpy(zero_copy_only=False)
    bad = np.flatnonzero((ts < MIN_TS_MS) | (ts >= MAX_TS_MS))
    if bad.size:
        i = int(bad[0])
        raise InputError(
            f"{path}: line {row0 + i + 2}: timestamp {int(ts[i])} {_timestamp_problem(int(ts[i]))}"
        )
    rating = batch.column("rating").to_numpy(zero_copy_only=False)
    bad = np.flatnonzero(~((rating >= 0) & (rating <= 5)))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"{path}: line {row0 + i + 2}: rating {rating[i]} is outside 0..5")
    for name in ("user_id", "parent_asin"):
        ids = batch.column(name)
        empty = pc.equal(pc.utf8_length(ids), 0)
        if pc.any(empty).as_py():
            i = int(np.flatnonzero(empty.to_numpy(zero_copy_only=False))[0])
            raise InputError(f"{path}: line {row0 + i + 2}: empty {name}")
        # IDs are matched exactly: 'u1 ' would silently count as another user than 'u1'
        bad_id = pc.or_(
            pc.not_equal(pc.utf8_trim_whitespace(ids), ids), pc.match_substring(ids, "\0")
        )
        if pc.any(bad_id).as_py():
            i = int(np.flatnonzero(bad_id.to_numpy(zero_copy_only=False))[0])
            value = ids[i].as_py()
            problem = id_problem(value) or "has leading or trailing whitespace"
            raise InputError(
                f"{path}: line {row0 + i + 2}: {name} {value!r} {problem}; IDs are matched "
                "exactly, so fix the file"
            )


def id_problem(value: str) -> str | None:
    """What is wrong with an ID (None when nothing): surrounding whitespace or a NUL byte."""
    if "\0" in value:
        return "contains a NUL byte"
    if value != value.strip():
        return "has leading or trailing whitespace"
    return None


@dataclass
class MetaReport:
    """What was read from a metadata file, including the counted skips."""

    lines: int = 0
    blank_lines: int = 0
    items: int = 0
    invalid_utf8: int = 0
    invalid_json: int = 0
    missing_asin: int = 0
    invalid_asin: int = 0
    empty_title: int = 0
    first_invalid: list[str] = field(default_factory=list)

    def skip(self, lineno: int, problem: str) -> None:
        if len(self.first_invalid) < 5:
            self.first_invalid.append(f"line {lineno}: {problem}")

    @property
    def unreadable(self) -> int:
        """Lines that are not a JSON object (bad UTF-8 or bad JSON)."""
        return self.invalid_utf8 + self.invalid_json


META_TEXTS = ("normalized", "study")


def _description_text(value: object, text: str) -> str:
    """A metadata text field: a list of strings (as ``description`` is, and some titles are)
    joined with spaces and whitespace runs collapsed (``normalized``), or joined by newlines as
    they are (``study``)."""
    if value is None:
        return ""
    parts = value if isinstance(value, list) else [value]
    if text == "study":  # list items joined by newlines, as they are
        return "\n".join(str(p) for p in parts if p is not None)
    return " ".join(" ".join(str(p).split()) for p in parts if p is not None).strip()


def _title_text(value: object, text: str) -> str:
    if text == "study":  # kept as it is when non-empty
        return value if isinstance(value, str) else str(value or "")
    return _description_text(value, "normalized")


def read_meta(
    path: Path, wanted: set[str] | None = None, text: str = "normalized"
) -> tuple[dict[str, tuple[str, str]], MetaReport]:
    """Read ``{item_id: (title, description)}`` for items with a non-empty title.

    Only items in ``wanted`` are kept when given (bounded memory on big metadata dumps). Invalid JSON
    lines and lines without ``parent_asin`` are skipped and counted in the report. ``text``:
    ``normalized`` collapses every whitespace run of the title and of each description item to
    one space and joins the description's items with spaces; ``study`` keeps the title as it is
    and joins the description's items with newlines (the study's reference preprocessing).
    """
    if text not in META_TEXTS:
        raise ValueError(f"text must be one of {META_TEXTS}, got {text!r}")
    check_raw_file(path)
    report = MetaReport()
    items: dict[str, tuple[str, str]] = {}
    try:
        with _open_binary(path) as f:
            for lineno, raw in enumerate(f, start=1):
                report.lines += 1
                try:
                    line = _decode(raw, lineno)
                except UnicodeDecodeError as e:
                    report.invalid_utf8 += 1
                    report.skip(lineno, _utf8_problem(e))
                    continue
                if not line.strip():
                    report.blank_lines += 1
                    continue
                try:
                    obj = json.loads(line)
                    if not isinstance(obj, dict):
                        raise ValueError("not a JSON object")
                except ValueError as e:
                    report.invalid_json += 1
                    report.skip(lineno, str(e))
                    continue
                asin = obj.get("parent_asin")
                if not isinstance(asin, str) or not asin:
                    report.missing_asin += 1
                    continue
                if id_problem(asin):
                    report.invalid_asin += 1
                    report.skip(lineno, f"parent_asin {asin!r} {id_problem(asin)}")
                    continue
                if wanted is not None and asin not in wanted:
                    continue
                title = _title_text(obj.get("title"), text)
                if not title:
                    report.empty_title += 1
                    continue
                items[asin] = (title, _description_text(obj.get("description"), text))
    except (OSError, EOFError) as e:
        raise InputError(f"{path}: truncated or corrupt gzip data ({e}); download it again") from e
    report.items = len(items)
    if report.lines > report.blank_lines and report.unreadable == report.lines - report.blank_lines:
        raise InputError(f"{path}: no line is valid JSON (first: {report.first_invalid[0]})")
    if report.first_invalid:
        log.warning(
            "%s: skipped %d line(s) that are not valid UTF-8 or JSON, and %d with an invalid "
            "parent_asin, e.g. %s",
            path,
            report.unreadable,
            report.invalid_asin,
            "; ".join(report.first_invalid),
        )
    return items, report
