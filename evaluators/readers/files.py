"""Finding and opening a submission's prediction files, the same way for every text-based evaluator.

`--predictions` (or a submission's `predictions/` folder) is either the file itself or a folder holding it. In a
folder, hidden entries (`.DS_Store`, `._x.csv` from macOS archives, `.ipynb_checkpoints/`) are never predictions,
and a folder named like a prediction file is not one either. Reading problems are `PredictionError`s, so a
submitter is told which of their files is broken rather than shown a traceback.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from hub.core.errors import FormatError, PredictionError
from loaders.formats.text import open_text


def find_prediction_files(predictions: Path, pattern: str, expected: str) -> list[Path]:
    """`[predictions]` if it is a file, else the non-hidden files under the folder matching the glob `pattern`
    (sorted; `**/` in the pattern searches sub-folders). A path that does not exist is a `PredictionError` that
    says what was `expected` there."""
    if predictions.is_file():
        return [predictions]
    if not predictions.is_dir():
        raise PredictionError([f"{predictions}: no such file or folder (expected {expected})"])
    return sorted(
        path
        for path in predictions.glob(pattern)
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(predictions).parts)
    )


@contextmanager
def open_predictions(path: Path) -> Iterator[TextIO]:
    """`loaders.formats.text.open_text` for a prediction file: an unreadable or non-UTF-8 file is a
    `PredictionError` naming it."""
    try:
        with open_text(path) as handle:
            yield handle
    except FormatError as err:
        raise PredictionError([str(err)]) from None


@contextmanager
def csv_errors(path: Path) -> Iterator[None]:
    """What the csv module refuses (a field over its size limit) as a `PredictionError` naming the file."""
    try:
        yield
    except csv.Error as err:
        raise PredictionError([f"{path.name}: not a readable CSV ({err})"]) from None


def csv_rows(
    path: Path, handle: TextIO, required: Sequence[str], optional: Sequence[str] = ()
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of a prediction CSV whose header holds the `required` columns and otherwise only
    `optional` ones; an unknown column, or a row with more cells than the header, is a `PredictionError` naming the
    file and line (a column mobench ignored would be a prediction nobody scored)."""
    reader = csv.DictReader(handle)
    header = [name.strip() for name in reader.fieldnames or []]
    absent = [column for column in required if column not in header]
    unknown = [column for column in header if column not in (*required, *optional)]
    if absent or unknown:
        wrong = [f"no {' or '.join(absent)} column"] if absent else []
        wrong += [f"unexpected column(s) {', '.join(repr(c) for c in unknown)}"] if unknown else []
        raise PredictionError(
            [f"{path.name} line 1: {'; '.join(wrong)} (header: {','.join(header)!r}); expected {','.join(required)}"]
        )
    reader.fieldnames = header
    for row in reader:
        extra = row.pop(None, None)  # DictReader keeps surplus cells under the key None
        if extra:
            cells = len(header) + len(extra)
            raise PredictionError([f"{path.name} line {reader.line_num}: {cells} cells, the header has {len(header)}"])
        yield reader.line_num, row
