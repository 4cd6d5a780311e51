"""PMData (Thambawita et al., MMSys 2020; datasets.simula.no/pmdata, CC BY 4.0) and its four Health-LLM tasks.

`PMDataRelease` reads the unpacked archive into the long table (`loaders.health.schema`); `PMDataTask` is the
loader of one task (`item` = stress, readiness, fatigue or sleep_quality): one window per wellness report, built as
Health-LLM builds it (see `build_windows`), in the config/split chosen (see `loaders.health.splits`).

Release quirks handled here (research notes, traps 14-16): Fitbit values may be numeric strings; a resting heart
rate of 0.0 (written with `date: null`) is a missing-value marker, not a reading (Health-LLM keeps it as 0 bpm;
mobench excludes it from windows and counts it); whole files are absent for some participants (p12/p13 have no
resting heart rate, p03 no intraday heart rate): counted in the load report, never a crash; Fitbit times are naive
local time and are converted with a declared zone (`loaders.health.clock`) before any comparison with the UTC
wellness times.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import datasets

from hub.errors import DatasetLayoutError, FormatError
from loaders.base import DatasetLoader
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
from loaders.health.splits import PARTICIPANT_CONFIG, WindowKey, check_config_split, healthllm_split, select
from loaders.health.tasks import PMDATA_ITEMS, pmdata_task
from loaders.health.windows import (
    PMDATA_ANSWER,
    PMDATA_INSTRUCTION,
    PMDATA_QUESTION,
    PMDATA_WINDOW_DAYS,
    in_window,
    python_list,
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
# wellness items that go into the long table (soreness_area is a list of body parts, not a number)
_WELLNESS_UNITS: dict[str, str] = {
    "fatigue": "likert",
    "mood": "likert",
    "readiness": "likert",
    "sleep_duration_h": "h",
    "sleep_quality": "likert",
    "soreness": "likert",
    "stress": "likert",
}
# The 1-5 items: a 0 is outside their scale and marks a blank submission.
_ONE_TO_FIVE: tuple[str, ...] = ("fatigue", "mood", "sleep_quality", "soreness", "stress")
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


def _number(value: Any) -> float | None:
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

    def __init__(self, root: Path, zone_name: str = DEFAULT_ZONE) -> None:
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
            raise DatasetLayoutError(f"no participant folders p01 ... p16 under {self.root}\n{PMDataTask.layout()}")
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
                for item, unit in _WELLNESS_UNITS.items():
                    value = _number(row.values[item])
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
        number = _number(raw)
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
        steps, calories = _number(record.get("steps")), _number(record.get("calories"))
        duration = _number(record.get("duration"))
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


@dataclass(frozen=True)
class PMDataWindow:
    """One Health-LLM sample: a wellness report, the 14 days of events before it, and its prompt."""

    id: str
    participant: str
    effective_time_frame: str
    time_utc: datetime
    label: float
    label_text: str
    steps: list[float]
    calories: list[float]
    resting_hr: list[float]
    sleep_minutes: list[float]
    mood: float | None
    instruction: str
    question: str
    answer: str

    @property
    def key(self) -> WindowKey:
        return WindowKey(self.id, self.participant, self.time_utc)


def window_id(participant: str, effective_time_frame: str) -> str:
    return f"pmdata/{participant}/{effective_time_frame}"


def report_label(row: WellnessRow, item: str, low: float, high: float) -> tuple[float | None, str]:
    """The report's label, or None and the reason it is dropped."""
    value = _number(row.values[item])
    if value is None:
        return None, "label blank or not a number"
    if value == 0 and low > 0:
        return None, "label 0 (blank submission)"
    if value == 0 and all(_number(row.values[i]) == 0 for i in _ONE_TO_FIVE):
        return None, "label 0 in an all-zero (blank) submission"
    if not low <= value <= high:
        return None, f"label outside {low:g}-{high:g}"
    return value, ""


def build_windows(release: PMDataRelease, item: str) -> tuple[list[PMDataWindow], list[str]]:
    """Every window of the task predicting `item`, and Health-LLM's own ordered window list (for its split).

    mobench's windows: one per wellness report (a repeated `effective_time_frame` is used once); inputs are the
    participant's exercise bouts with both steps and calories, sleep logs, and non-missing resting heart rates whose
    UTC time lies in (t_report - 14 d, t_report), in file order; a window lacking any of the three, or whose label is
    blank, 0 on a 1-5 item, or outside the scale, is dropped and counted in `release.report.dropped_windows`.

    Health-LLM's list (`gen_dataset.py`): the same reports in sorted participant order (its `os.listdir` order is
    file-system dependent), compared as it compares them, Fitbit local time against the UTC report time with the
    zone stripped and truncated to the second, resting heart rates of 0 counted as readings, labels not checked.
    It is the same list for the four items, so they share one split.
    """
    task = pmdata_task(item)
    dropped = release.report.dropped_windows
    windows: list[PMDataWindow] = []
    candidates: list[str] = []
    for participant in release.participants:
        events = {source: release.observations(participant, source) for source in TASK_SOURCES}
        steps = [o for o in events[EXERCISE] if o.modality == "exercise_steps"]
        calories = [o for o in events[EXERCISE] if o.modality == "exercise_calories"]
        # Health-LLM's clock: the Fitbit times as written (every entry of the file, 0 bpm included)
        as_written = [
            [_as_written(o) for o in rows if o.quality != QUALITY_UNPAIRED]
            for rows in (steps, events[SLEEP], events[RESTING_HR])
        ]
        seen_ids: set[str] = set()
        for row in release.wellness(participant):
            wid = window_id(participant, row.effective_time_frame)
            if wid in seen_ids:
                dropped[f"{item}: repeated effective_time_frame"] += 1
                continue
            seen_ids.add(wid)
            naive_report = row.time_utc.replace(microsecond=0, tzinfo=None)
            if all(any(in_window(t, naive_report, PMDATA_WINDOW_DAYS) for t in times) for times in as_written):
                candidates.append(wid)
            label, reason = report_label(row, item, task.low, task.high)
            if label is None:
                dropped[f"{item}: {reason}"] += 1
                continue
            inputs = {
                name: [o.value for o in rows if o.usable and in_window(o.time_utc, row.time_utc, PMDATA_WINDOW_DAYS)]
                for name, rows in (
                    ("steps", steps),
                    ("calories", calories),
                    ("sleep", events[SLEEP]),
                    ("rhr", events[RESTING_HR]),
                )
            }
            lacking = [
                what
                for what, name in (("exercise bout", "steps"), ("sleep log", "sleep"), ("resting heart rate", "rhr"))
                if not inputs[name]
            ]
            if lacking:
                dropped[f"{item}: no {' / '.join(lacking)} in the 14 days"] += 1
                continue
            mood_text = row.values["mood"]
            instruction = PMDATA_INSTRUCTION.format(task=item, low=f"{task.low:g}", high=f"{task.high:g}")
            question = PMDATA_QUESTION.format(
                steps=python_list(inputs["steps"]),
                calories=python_list(inputs["calories"]),
                rhr=python_list(inputs["rhr"]),
                sleep=python_list(inputs["sleep"]),
                mood=mood_text,
                task=item,
            )
            windows.append(
                PMDataWindow(
                    id=wid,
                    participant=participant,
                    effective_time_frame=row.effective_time_frame,
                    time_utc=row.time_utc,
                    label=label,
                    label_text=row.values[item],
                    steps=inputs["steps"],
                    calories=inputs["calories"],
                    resting_hr=inputs["rhr"],
                    sleep_minutes=inputs["sleep"],
                    mood=_number(mood_text),
                    instruction=instruction,
                    question=question,
                    answer=PMDATA_ANSWER.format(task=item, label=row.values[item]),
                )
            )
    return windows, candidates


def _as_written(obs: Observation) -> datetime:
    """The naive local time of a Fitbit observation as its file wrote it (already validated when it was read)."""
    local = parse_fitbit_time(obs.local_time)
    if local is None:
        raise ValueError(f"unparseable local time {obs.local_time!r} in the long table")
    return local


class PMDataTask(DatasetLoader):
    """The unpacked PMData archive (datasets.simula.no/pmdata), as shipped:

        <root>/
          participant-overview.xlsx         (not read)
          p01/ ... p16/
            pmsys/wellness.csv              effective_time_frame (ISO-8601 UTC, ...Z), fatigue, mood, readiness,
                                            sleep_duration_h, sleep_quality, soreness, soreness_area, stress
            fitbit/exercise.json            [{startTime, steps, calories, duration (ms), ...}] one per logged bout
            fitbit/sleep.json               [{startTime, duration (ms), ...}] one per sleep log
            fitbit/resting_heart_rate.json  [{dateTime, value: {date, value, error}}] one per day; 0.0 = missing
            fitbit/*.json                   the other Fitbit exports (only PMDataRelease.long_table reads them)

    One sample per window of the task predicting `item` (loader option); configs and splits as in
    `loaders.health.splits`; `zone` (loader option, default Europe/Oslo) is the zone of the Fitbit clocks.
    """

    splits = ("test", "train")

    def __init__(
        self,
        root: str | Path,
        split: str = "test",
        config: str | None = None,
        *,
        item: str,
        zone: str = DEFAULT_ZONE,
    ) -> None:
        super().__init__(root, split, config or PARTICIPANT_CONFIG)
        check_config_split("PMData", str(self.config), split)
        if item not in PMDATA_ITEMS:
            raise DatasetLayoutError(f"PMData: unknown item {item!r}; items: {', '.join(PMDATA_ITEMS)}")
        self.item = item
        self.release = PMDataRelease(self.root, zone)

    @cached_property
    def _built(self) -> tuple[list[PMDataWindow], list[str]]:
        return build_windows(self.release, self.item)

    @cached_property
    def windows(self) -> list[PMDataWindow]:
        """Every window of the task (all configs), in participant and file order."""
        return self._built[0]

    @cached_property
    def _selected(self) -> list[PMDataWindow]:
        return self.windows_of(str(self.config), self.split)

    def windows_of(self, config: str, split: str) -> list[PMDataWindow]:
        """The windows of `config`/`split` of the same release and task (baselines train on another split)."""
        windows, candidates = self._built
        ids = set(
            select(
                config,
                split,
                [w.key for w in windows],
                participants=self.release.participants,
                healthllm=healthllm_split(candidates),
            )
        )
        return [w for w in windows if w.id in ids]

    @property
    def report(self) -> LoadReport:
        """The load report of the release, once the task's windows are built."""
        _ = self._built
        return self.release.report

    def sample_ids(self) -> list[str]:
        return [w.id for w in self._selected]

    def features(self) -> datasets.Features:
        floats = datasets.Sequence(datasets.Value("float64"))
        return datasets.Features(
            {
                "id": datasets.Value("string"),
                "task": datasets.Value("string"),
                "participant": datasets.Value("string"),
                "effective_time_frame": datasets.Value("string"),
                "report_time_utc": datasets.Value("string"),
                "label": datasets.Value("float64"),
                "label_text": datasets.Value("string"),
                "steps": floats,
                "calories": floats,
                "resting_hr": floats,
                "sleep_minutes": floats,
                "mood": datasets.Value("float64"),
                "instruction": datasets.Value("string"),
                "question": datasets.Value("string"),
                "answer": datasets.Value("string"),
            }
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for w in self._selected:
            yield {
                "id": w.id,
                "task": pmdata_task(self.item).benchmark_id,
                "participant": w.participant,
                "effective_time_frame": w.effective_time_frame,
                "report_time_utc": w.time_utc.astimezone(UTC).isoformat(),
                "label": w.label,
                "label_text": w.label_text,
                "steps": w.steps,
                "calories": w.calories,
                "resting_hr": w.resting_hr,
                "sleep_minutes": w.sleep_minutes,
                "mood": w.mood,
                "instruction": w.instruction,
                "question": w.question,
                "answer": w.answer,
            }
