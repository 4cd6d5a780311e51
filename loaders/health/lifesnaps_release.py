"""Reading the LifeSnaps release's pre-made CSVs by their header, with a `LoadReport`.

Two layouts are in use, told apart by the header of each file (never by the values):

- the official one (Zenodo record 7229547): the daily table `csv_rais_anonymized/daily_fitbit_sema_df_unprocessed.csv`
  starts with pandas' unnamed index column (the authors' EDA notebook writes it with `to_csv` and its default
  index), then `id`; the scored surveys (`scored_surveys/panas.csv`, ...) name the participant `user_id`;
- a common re-export (e.g. the Kaggle-derived copy in github.com/syaseuta/lifesnaps-eda): no index column, and the
  participant is `id` in every file.

So: a leading column without a name (`""`, or `Unnamed: 0` after a pandas round trip) is the index and is not read;
the participant column is whichever of `user_id` and `id` the header holds. Anything else is refused with the file
and the column at fault: no participant column or both, another column without a name, a name given twice, a
required column absent, or a row whose number of fields is not the header's (what a file whose header lost its
index column's empty name looks like: every value would sit under the next column's name).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from hub.core.errors import DatasetLayoutError, FormatError
from loaders.formats.text import open_text
from loaders.health.schema import QUALITY_OK, LoadReport, Observation

DAILY = "csv_rais_anonymized/daily_fitbit_sema_df_unprocessed.csv"
PANAS = "scored_surveys/panas.csv"
PARTICIPANT_COLUMNS: tuple[str, ...] = ("user_id", "id")  # the official surveys' name, then the daily table's
_INDEX_NAME = re.compile(r"^(|Unnamed: 0)$")
_NAMELESS = re.compile(r"^(|Unnamed: \d+)$")
# the daily fields Health-LLM requires per task (a row lacking any is skipped), in its prompt order
SRI_FIELDS: tuple[str, ...] = (
    "stress_score",
    "lightly_active_minutes",
    "moderately_active_minutes",
    "very_active_minutes",
    "sleep_efficiency",
    "sleep_deep_ratio",
    "sleep_light_ratio",
    "sleep_rem_ratio",
    "sleep_duration",
)
SLEEP_FIELDS: tuple[str, ...] = (
    "sleep_duration",
    "minutesAwake",
    "sleep_efficiency",
    "sleep_deep_ratio",
    "sleep_wake_ratio",
    "sleep_light_ratio",
    "sleep_rem_ratio",
    "rmssd",
    "spo2",
    "full_sleep_breathing_rate",
    "bpm",
    "resting_hr",
)


def parse_float(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_day(text: str) -> datetime | None:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


@dataclass(frozen=True)
class CsvLayout:
    """How one file names its participant column, and whether it starts with pandas' index column."""

    participant_column: str
    index_column: bool


@dataclass(frozen=True)
class CsvRow:
    participant: str
    line: int
    cells: dict[str, str]  # column -> cell, stripped; the index column left out


def header_layout(path: Path, header: list[str], required: tuple[str, ...]) -> CsvLayout:
    """The layout of a file with this header, or a `FormatError` naming the file and the column at fault."""
    index_column = bool(header) and _INDEX_NAME.match(header[0]) is not None
    for position, name in enumerate(header):
        if _NAMELESS.match(name) and not (position == 0 and index_column):
            raise FormatError(path, f"column {position + 1} has no name ({name!r}); only a leading index column may")
        first = header.index(name)
        if first != position:
            raise FormatError(path, f"column {name!r} appears twice (columns {first + 1} and {position + 1})")
    named = [c for c in PARTICIPANT_COLUMNS if c in header]
    if not named:
        raise FormatError(
            path,
            "no participant column: the header has neither `user_id` (official scored surveys) nor `id` (official "
            "daily table, re-exports)",
        )
    if len(named) > 1:
        raise FormatError(path, "both `user_id` and `id` columns: which one names the participant is ambiguous")
    missing = [c for c in required if c not in header]
    if missing:
        raise FormatError(path, f"header lacks column(s) {', '.join(missing)}")
    return CsvLayout(named[0], index_column)


def read_csv_by_header(path: Path, required: tuple[str, ...]) -> tuple[CsvLayout, list[CsvRow]]:
    """Every row of a LifeSnaps CSV, read by column name in the layout its header declares (module docstring)."""
    with open_text(path) as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        layout = header_layout(path, header, required)
        names = header[1:] if layout.index_column else header
        rows = []
        for fields in reader:
            if not fields:
                continue
            if len(fields) != len(header):
                raise FormatError(
                    path, f"line {reader.line_num}: {len(fields)} fields, but the header names {len(header)} columns"
                )
            cells = dict(zip(names, (f.strip() for f in fields[len(header) - len(names) :]), strict=True))
            rows.append(CsvRow(cells[layout.participant_column], reader.line_num, cells))
    return layout, rows


@dataclass(frozen=True)
class DailyRow:
    participant: str
    date: str
    time_utc: datetime
    values: dict[str, float]  # every numeric column that parsed


class LifeSnapsRelease:
    """The release's pre-made CSVs, read by column name, with a `LoadReport` and the layout of each file read."""

    def __init__(self, root: Path, layout: str = "") -> None:
        # `layout`: how the tree should look, quoted when a file is absent (the task loader passes its docstring)
        self.root = root
        self.layout = layout
        self.base = root / "rais_anonymized" if (root / "rais_anonymized").is_dir() else root
        self.report = LoadReport()
        self.layouts: dict[str, CsvLayout] = {}

    def _rows(self, relative: str, required: tuple[str, ...]) -> list[CsvRow]:
        path = self.base / relative
        if not path.is_file():
            raise DatasetLayoutError(f"missing {relative} under {self.base}\n{self.layout}")
        self.layouts[relative], rows = read_csv_by_header(path, required)
        self.report.rows[relative] = len(rows)
        return rows

    @cached_property
    def daily(self) -> list[DailyRow]:
        out = []
        for row in self._rows(DAILY, ("date", *SLEEP_FIELDS, *SRI_FIELDS)):
            time_utc = parse_day(row.cells["date"])
            if time_utc is None:
                self.report.skipped_records[f"{DAILY}: date not YYYY-MM-DD"] += 1
                continue
            fields = (*SLEEP_FIELDS, *SRI_FIELDS)
            values = {k: v for k, v in ((k, parse_float(row.cells[k])) for k in fields) if v is not None}
            out.append(DailyRow(row.participant, row.cells["date"], time_utc, values))
        return out

    @cached_property
    def panas(self) -> list[CsvRow]:
        return self._rows(PANAS, ("submitdate", "positive_affect_score", "negative_affect_score"))

    @cached_property
    def participants(self) -> list[str]:
        return sorted({r.participant for r in self.daily} | {r.participant for r in self.panas})

    def long_table(self) -> list[Observation]:
        """The daily fields as observations (calendar dates as midnight UTC, zone `date`)."""
        return [
            Observation(r.participant, r.time_utc, r.date, "date", DAILY, name, value, "", QUALITY_OK)
            for r in self.daily
            for name, value in r.values.items()
        ]
