"""Reading the unpacked PMData archive: participants' wellness reports and Fitbit exports, lazily, with one load report.

Fitbit times are naive local time and become UTC through the declared zone (DST-aware) before anything compares
them with the UTC wellness times; duplicates, gaps and unreadable records are counted in the `LoadReport`.
See `loaders.health.pmdata` for the folder tree and the Health-LLM tasks built on it.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from hub.core.errors import DatasetLayoutError, FormatError
from loaders.formats.text import open_text, read_json
from loaders.health.clock import (
    DEFAULT_ZONE,
    FITBIT_TIME_FORMATS,
    local_to_utc,
    parse_fitbit_time,
    parse_utc_report_time,
    zone,
)
from loaders.health.schema import (
    QUALITY_DUPLICATE,
    QUALITY_MISSING,
    QUALITY_OK,
    QUALITY_UNPAIRED,
    LoadReport,
    Observation,
    count_gaps,
)

PARTICIPANT_DIR = re.compile(r"^p\d+$")
WELLNESS = "pmsys/wellness.csv"
EXERCISE = "fitbit/exercise.json"
SLEEP = "fitbit/sleep.json"
RESTING_HR = "fitbit/resting_heart_rate.json"
WELLNESS_COLUMNS: tuple[str, ...] = (
    "effective_time_frame",
    "fatigue",
    "mood",
    "readiness",
    "sleep_duration_h",
    "sleep_quality",
    "soreness",
    "soreness_area",
    "stress",
)
# the numeric wellness items, with their units: they go into the long table, and a PMData task may predict any of
# them (soreness_area is a list of body parts, not a number)
WELLNESS_ITEMS: dict[str, str] = {
    "fatigue": "likert",
    "mood": "likert",
    "readiness": "likert",
    "sleep_duration_h": "h",
    "sleep_quality": "likert",
    "soreness": "likert",
    "stress": "likert",
}
# The 1-5 items: a 0 is outside their scale and marks a blank submission.
ONE_TO_FIVE: tuple[str, ...] = ("fatigue", "mood", "sleep_quality", "soreness", "stress")
# the other Fitbit `[{dateTime, value}]` files: modality, unit, cadence of a gap-free series
_SIMPLE_SERIES: dict[str, tuple[str, str, timedelta | None]] = {
    "fitbit/steps.json": ("steps", "count", timedelta(minutes=1)),
    "fitbit/calories.json": ("calories", "kcal", timedelta(minutes=1)),
    "fitbit/distance.json": ("distance", "cm", timedelta(minutes=1)),
    "fitbit/lightly_active_minutes.json": ("active_min_light", "min", timedelta(days=1)),
    "fitbit/moderately_active_minutes.json": ("active_min_moderate", "min", timedelta(days=1)),
    "fitbit/very_active_minutes.json": ("active_min_very", "min", timedelta(days=1)),
    "fitbit/sedentary_minutes.json": ("sedentary_min", "min", timedelta(days=1)),
}
HEART_RATE = "fitbit/heart_rate.json"
TASK_SOURCES: tuple[str, ...] = (EXERCISE, SLEEP, RESTING_HR)
ALL_SOURCES: tuple[str, ...] = (*TASK_SOURCES, *_SIMPLE_SERIES, HEART_RATE)


@dataclass(frozen=True)
class WellnessRow:
    participant: str
    line: int
    effective_time_frame: str  # exactly as written
    time_utc: datetime
    values: dict[str, str]  # column -> cell as written


def json_number(value: Any) -> float | None:
    """A JSON number or numeric string as float; None for anything else (booleans are not numbers)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


class PMDataRelease:
    """The unpacked PMData archive, read lazily per participant and file, with one `LoadReport`."""

    def __init__(self, root: Path, zone_name: str = DEFAULT_ZONE, *, layout: str = "") -> None:
        # `layout`: how the tree should look, quoted when it does not (the task loader passes its docstring)
        self.layout = layout
        self.root = root
        self.zone_name = zone_name
        self.tz = zone(zone_name)
        self.report = LoadReport()
        self._wellness_cache: dict[str, list[WellnessRow]] = {}
        self._observation_cache: dict[tuple[str, str], list[Observation]] = {}

    @cached_property
    def participants(self) -> list[str]:
        found = sorted(p.name for p in self.root.iterdir() if p.is_dir() and PARTICIPANT_DIR.match(p.name))
        if not found:
            raise DatasetLayoutError(f"no participant folders p01 ... p16 under {self.root}\n{self.layout}")
        return found

    def _file(self, participant: str, source: str) -> Path | None:
        path = self.root / participant / source
        if path.is_file():
            return path
        self.report.missing_files.append(f"{participant}/{source}")
        return None

    def wellness(self, participant: str) -> list[WellnessRow]:
        """The participant's wellness reports in file order ([] and counted if the file is absent)."""
        cached = self._wellness_cache.get(participant)
        if cached is not None:
            return cached
        path = self._file(participant, WELLNESS)
        rows: list[WellnessRow] = []
        if path is not None:
            with open_text(path) as handle:
                reader = csv.DictReader(handle)
                missing = [c for c in WELLNESS_COLUMNS if c not in (reader.fieldnames or [])]
                if missing:
                    raise FormatError(path, f"header lacks column(s) {', '.join(missing)}")
                for record in reader:
                    stamp = (record["effective_time_frame"] or "").strip()
                    time_utc = parse_utc_report_time(stamp)
                    if time_utc is None:
                        raise FormatError(
                            path, f"line {reader.line_num}: effective_time_frame {stamp!r} is not ISO-8601 UTC (…Z)"
                        )
                    values = {c: (record[c] or "").strip() for c in WELLNESS_COLUMNS}
                    rows.append(WellnessRow(participant, reader.line_num, stamp, time_utc, values))
        self.report.rows[f"{participant}/{WELLNESS}"] = len(rows)
        self._wellness_cache[participant] = rows
        return rows

    def observations(self, participant: str, source: str) -> list[Observation]:
        """The long-table rows of one Fitbit file of one participant, in file order ([] if absent)."""
        key = (participant, source)
        if key not in self._observation_cache:
            self._observation_cache[key] = self._read_source(participant, source)
        return self._observation_cache[key]

    def long_table(self, sources: tuple[str, ...] = ALL_SOURCES) -> list[Observation]:
        """Every participant's observations from `sources` plus the wellness items (UTC, zone `UTC`).

        The default reads every Fitbit file mobench knows, including the intraday heart rate (about 120 MB of JSON
        for one participant): pass fewer `sources` for a quick look.
        """
        table: list[Observation] = []
        for participant in self.participants:
            for row in self.wellness(participant):
                for item, unit in WELLNESS_ITEMS.items():
                    value = json_number(row.values[item])
                    table.append(
                        Observation(
                            participant,
                            row.time_utc,
                            row.effective_time_frame,
                            "UTC",
                            WELLNESS,
                            item,
                            value if value is not None else math.nan,
                            unit,
                            QUALITY_OK if value is not None else QUALITY_MISSING,
                        )
                    )
            for source in sources:
                table.extend(self.observations(participant, source))
        return table

    def _read_json(self, path: Path) -> list[Any]:
        data = read_json(path)
        if not isinstance(data, list):
            raise FormatError(path, "expected a JSON list of records")
        return data

    def _read_source(self, participant: str, source: str) -> list[Observation]:
        path = self._file(participant, source)
        if path is None:
            return []
        emitter = _Emitter(self, participant, source, path)
        for index, record in enumerate(self._read_json(path)):
            if not isinstance(record, dict):
                raise FormatError(path, f"record {index}: not a JSON object")
            if source == EXERCISE:
                emitter.exercise(index, record)
            elif source == SLEEP:
                emitter.sleep(index, record)
            elif source == RESTING_HR:
                emitter.resting_hr(index, record)
            elif source == HEART_RATE:
                value = record.get("value")
                bpm = value.get("bpm") if isinstance(value, dict) else None
                emitter.emit(index, record.get("dateTime"), "heart_rate", emitter.value(index, bpm, "bpm"), "bpm")
            else:
                modality, unit, _ = _SIMPLE_SERIES[source]
                emitter.emit(index, record.get("dateTime"), modality, emitter.value(index, record.get("value")), unit)
        return emitter.finish()


class _Emitter:
    """Turns the records of one Fitbit file into observations: times, values, duplicates, DST, gaps."""

    def __init__(self, release: PMDataRelease, participant: str, source: str, path: Path) -> None:
        self.release = release
        self.participant = participant
        self.source = source
        self.path = path
        self.key = f"{participant}/{source}"
        self.rows: list[Observation] = []
        self.seen: Counter[tuple[str, datetime]] = Counter()
        self.local_times: dict[str, list[datetime]] = defaultdict(list)

    def value(self, index: int, raw: Any, field: str = "value") -> float:
        number = json_number(raw)
        if number is None:
            raise FormatError(self.path, f"record {index}: {field} {raw!r} is not a number")
        return number

    def local_time(self, index: int, raw: Any, field: str = "dateTime") -> datetime:
        parsed = parse_fitbit_time(raw)
        if parsed is None:
            raise FormatError(
                self.path, f"record {index}: {field} {raw!r} is not in a Fitbit time format ({FITBIT_TIME_FORMATS})"
            )
        return parsed

    def emit(
        self,
        index: int,
        raw_time: Any,
        modality: str,
        value: float,
        unit: str,
        quality: str = QUALITY_OK,
        field: str = "dateTime",
    ) -> None:
        local = self.local_time(index, raw_time, field)
        occurrence = self.seen[(modality, local)]
        self.seen[(modality, local)] += 1
        resolved = local_to_utc(local, self.release.tz, second_occurrence=occurrence == 1)
        if occurrence and not (occurrence == 1 and resolved.dst):
            quality = QUALITY_DUPLICATE
            self.release.report.duplicates[self.key] += 1
        elif resolved.dst:
            self.release.report.dst[f"{self.key}: {resolved.dst}"] += 1
            if quality == QUALITY_OK:
                quality = resolved.dst
        if quality == QUALITY_MISSING:
            self.release.report.missing_values[self.key] += 1
        self.local_times[modality].append(local)
        self.rows.append(
            Observation(
                self.participant,
                resolved.utc,
                str(raw_time),
                self.release.zone_name,
                self.source,
                modality,
                value,
                unit,
                quality,
            )
        )

    def exercise(self, index: int, record: dict[str, Any]) -> None:
        """One logged bout: steps, calories and duration at its start time (Health-LLM's inputs are the first two)."""
        steps, calories = json_number(record.get("steps")), json_number(record.get("calories"))
        duration = json_number(record.get("duration"))
        quality = QUALITY_OK
        if steps is None or calories is None:
            quality = QUALITY_UNPAIRED
            self.release.report.skipped_records[f"{self.key}: bout without steps or calories"] += 1
        start = record.get("startTime")
        for modality, value, unit in (
            ("exercise_steps", steps, "count"),
            ("exercise_calories", calories, "kcal"),
            ("exercise_duration_min", None if duration is None else duration / 60000, "min"),
        ):
            if value is not None:
                self.emit(index, start, modality, value, unit, quality, field="startTime")

    def sleep(self, index: int, record: dict[str, Any]) -> None:
        """One sleep log: its duration in minutes (`duration` ms / 60000), at its start time."""
        minutes = self.value(index, record.get("duration"), "duration") / 60000
        self.emit(index, record.get("startTime"), "sleep_minutes", minutes, "min", field="startTime")

    def resting_hr(self, index: int, record: dict[str, Any]) -> None:
        """One day's resting heart rate; `value.value` 0 (written with `value.date` null) marks a missing day."""
        inner = record.get("value")
        if not isinstance(inner, dict):
            raise FormatError(self.path, f"record {index}: value is not an object with date/value")
        bpm = self.value(index, inner.get("value"), "value.value")
        if bpm == 0:
            self.emit(index, record.get("dateTime"), "resting_hr", math.nan, "bpm", QUALITY_MISSING)
        else:
            self.emit(index, record.get("dateTime"), "resting_hr", bpm, "bpm")

    def finish(self) -> list[Observation]:
        report = self.release.report
        report.rows[self.key] = len(self.rows)
        cadence = timedelta(days=1) if self.source == RESTING_HR else None
        if self.source in _SIMPLE_SERIES:
            cadence = _SIMPLE_SERIES[self.source][2]
        if cadence is not None:
            gaps = sum(count_gaps(times, cadence) for times in self.local_times.values())
            if gaps:
                report.gaps[self.key] = gaps
        return self.rows
