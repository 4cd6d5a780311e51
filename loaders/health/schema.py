"""The one long table every health dataset is normalised into, and the load report that goes with it.

One `Observation` per measurement or self-report keeps both clocks: the UTC instant used for every comparison and the
local time exactly as the file wrote it, with the zone that was assumed to convert it, so a reader can always check
the conversion. Missing-value markers are kept as rows (value NaN, quality `missing`) rather than dropped or
zero-filled, and the `LoadReport` counts what a careful reader needs to know before trusting a window: files that
are absent for a participant, missing markers, duplicated time stamps (e.g. DST-repeated minutes) and gaps in
series that should be regular.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pyarrow as pa

QUALITY_OK = "ok"
QUALITY_MISSING = "missing"  # a missing-value marker of the release (e.g. PMData resting HR value 0.0, date null)
QUALITY_DUPLICATE = "duplicate"  # the same series and local time already seen in this file
QUALITY_UNPAIRED = "unpaired"  # part of a record that lacks a value its task pairs it with (Health-LLM skips it)


@dataclass(frozen=True)
class Observation:
    """One row of the long table (see the module docstring)."""

    participant: str
    time_utc: datetime  # aware, UTC
    local_time: str  # as written in the file
    zone: str  # the zone the local time was read in ("UTC" for Z-stamped times)
    source: str  # file, relative to the participant folder or the release root
    modality: str
    value: float  # NaN when `quality` is `missing`
    unit: str
    quality: str  # QUALITY_* or a clock.DST_* flag

    @property
    def usable(self) -> bool:
        """A value a window may use: not a missing marker, a repeated time stamp or half of a skipped record."""
        return self.quality not in (QUALITY_MISSING, QUALITY_DUPLICATE, QUALITY_UNPAIRED) and math.isfinite(self.value)


LONG_TABLE_SCHEMA = pa.schema(
    [
        ("participant", pa.string()),
        ("time_utc", pa.timestamp("us", tz="UTC")),
        ("local_time", pa.string()),
        ("zone", pa.string()),
        ("source", pa.string()),
        ("modality", pa.string()),
        ("value", pa.float64()),
        ("unit", pa.string()),
        ("quality", pa.string()),
    ]
)


def to_arrow(observations: list[Observation]) -> pa.Table:
    """The long table as Arrow (for parquet, DuckDB or pandas), in `LONG_TABLE_SCHEMA`."""
    columns: dict[str, list[Any]] = {name: [] for name in LONG_TABLE_SCHEMA.names}
    for obs in observations:
        for name in LONG_TABLE_SCHEMA.names:
            columns[name].append(getattr(obs, name))
    return pa.Table.from_pydict(columns, schema=LONG_TABLE_SCHEMA)


@dataclass
class LoadReport:
    """What was absent, missing, repeated or dropped while loading; keys name participant and file."""

    missing_files: list[str] = field(default_factory=list)
    rows: Counter[str] = field(default_factory=Counter)
    missing_values: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    gaps: Counter[str] = field(default_factory=Counter)
    dst: Counter[str] = field(default_factory=Counter)
    skipped_records: Counter[str] = field(default_factory=Counter)
    dropped_windows: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "missing_files": sorted(self.missing_files),
            "rows": dict(sorted(self.rows.items())),
            "missing_values": dict(sorted(self.missing_values.items())),
            "duplicates": dict(sorted(self.duplicates.items())),
            "gaps": dict(sorted(self.gaps.items())),
            "dst": dict(sorted(self.dst.items())),
            "skipped_records": dict(sorted(self.skipped_records.items())),
            "dropped_windows": dict(sorted(self.dropped_windows.items())),
        }

    def summary(self) -> str:
        """One line: the files absent and the windows dropped, with how many for each reason."""
        parts = []
        if self.missing_files:
            parts.append(f"files absent: {', '.join(sorted(self.missing_files))}")
        if self.dropped_windows:
            dropped = ", ".join(f"{reason} ({n})" for reason, n in sorted(self.dropped_windows.items()))
            parts.append(f"windows dropped: {dropped}")
        return "; ".join(parts) or "no file absent, no window dropped"


def count_gaps(local_times: list[datetime], step: timedelta) -> int:
    """Missing steps in a series that should have one value every `step` (in local time, as the device writes it):
    the sum over consecutive distinct times of (distance / step - 1)."""
    distinct = sorted(set(local_times))
    return sum(max(0, (b - a) // step - 1) for a, b in pairwise(distinct))
