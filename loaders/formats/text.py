"""Opening the text files of releases and submissions (CSV, JSON, JSONL), the same way everywhere.

The releases' CSVs are UTF-8, some with a byte-order mark (Excel's "CSV UTF-8"), some with CRLF line endings, so
files are opened as `utf-8-sig` with `newline=""` (the csv module must see the line endings itself; `json.loads`
ignores a trailing CR). A file that is not UTF-8 or cannot be read at all (a folder where a file should be, no
permission) is a `FormatError` naming it, never a raw UnicodeDecodeError / OSError from deep inside a reader.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from hub.core.errors import FormatError


@contextmanager
def open_text(path: Path) -> Iterator[TextIO]:
    """Open `path` for reading as UTF-8 text; decoding or reading errors, also while iterating, become
    `FormatError`s naming the file."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            yield handle
    except UnicodeDecodeError as err:
        raise FormatError(path, f"not UTF-8 text ({err})") from None
    except OSError as err:
        raise FormatError(path, f"cannot read file: {err.strerror or err}") from None


def loads_json(text: str | bytes) -> Any:
    """`json.loads` for untrusted text: every failure is a `json.JSONDecodeError`, also those `json.loads` raises
    otherwise (a RecursionError for arrays nested thousands deep, a ValueError for an integer of more than 4300
    digits), so a reader that handles bad JSON handles all of it."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", "", 0) from None
    except ValueError as err:  # int('9' * 5000); also bytes that are not UTF-8
        raise json.JSONDecodeError(str(err).split(";")[0], "", 0) from None


def read_json(path: Path) -> Any:
    """A whole JSON file, parsed; unreadable, non-UTF-8 or invalid JSON is a `FormatError` naming the file."""
    with open_text(path) as handle:
        text = handle.read()
    try:
        return loads_json(text)
    except json.JSONDecodeError as err:
        raise FormatError(path, f"not valid JSON ({err})") from None
