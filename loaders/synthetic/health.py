"""A synthetic mini PMData in the official file formats, for the demo and the tests.

Five synthetic participants over six weeks (2020-03-01 to 2020-04-11, across the Oslo spring-forward change on
2020-03-29), each with `pmsys/wellness.csv` and `fitbit/exercise.json`, `sleep.json`, `resting_heart_rate.json`
written as the archive writes them: numeric strings for some values, the three Fitbit time formats, resting-heart-
rate missing markers (`value 0.0`, `date null`), one blank wellness submission (all zeros), one sleep log starting
in the non-existent hour 02:00-03:00 local on the DST day, and one participant (p05) without a resting-heart-rate
file. Every column of the release's wellness.csv header is written. The items depend on the recent sleep (soreness
on the day before's exercise bout) plus noise, so the ridge baseline has something to learn.

The writers (`write_wellness`, `write_fitbit`, `*_record`) are public: the test fixtures build hand-made edge cases
with them, so every tree mobench reads in tests has the official layout.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from loaders.health.clock import DEFAULT_ZONE, local_to_utc, zone
from loaders.health.pmdata_release import WELLNESS_COLUMNS
from loaders.synthetic import mark_synthetic

START = date(2020, 3, 1)
DAYS = 42
PARTICIPANTS = ("p01", "p02", "p03", "p04", "p05")
NO_RESTING_HR = "p05"
# how each participant's exercise.json writes startTime (the exports differ)
_EXERCISE_TIME_FORMAT = {
    "p01": "%m/%d/%y %H:%M:%S",
    "p02": "%Y-%m-%dT%H:%M:%S",
    "p03": "%Y-%m-%dT%H:%M:%S.000",
    "p04": "%m/%d/%y %H:%M:%S",
    "p05": "%Y-%m-%dT%H:%M:%S",
}


def report_time(moment: datetime) -> str:
    """A PMSys `effective_time_frame`: ISO-8601 UTC with milliseconds and `Z`."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def write_wellness(root: Path, participant: str, rows: Sequence[dict[str, Any]]) -> Path:
    """`<pXX>/pmsys/wellness.csv` with the release's header; missing columns are written empty."""
    path = root / participant / "pmsys" / "wellness.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(WELLNESS_COLUMNS)
        for row in rows:
            writer.writerow([row.get(column, "") for column in WELLNESS_COLUMNS])
    return path


def write_fitbit(root: Path, participant: str, name: str, records: Sequence[dict[str, Any]]) -> Path:
    """`<pXX>/fitbit/<name>` as the archive's JSON list of records."""
    path = root / participant / "fitbit" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(list(records), indent=1), encoding="utf-8")
    return path


def _log_id(start: str) -> int:
    """A deterministic Fitbit-like log id from the start time's digits."""
    return int("".join(ch for ch in start if ch.isdigit())[-11:] or "0")


def exercise_record(start: str, steps: Any, calories: Any, duration_ms: int = 1_800_000) -> dict[str, Any]:
    """One bout of `exercise.json`; `steps=None` leaves the key out (as for a bout without steps, e.g. a swim)."""
    record: dict[str, Any] = {
        "logId": _log_id(start),
        "activityName": "Walk",
        "activityTypeId": 90013,
        "calories": calories,
        "duration": duration_ms,
        "activeDuration": duration_ms,
        "logType": "auto_detected",
        "startTime": start,
        "hasGps": False,
    }
    if steps is not None:
        record["steps"] = steps
    return record


def sleep_record(start: str, minutes: float) -> dict[str, Any]:
    """One log of `sleep.json` (`duration` in ms, `startTime` ISO with milliseconds)."""
    return {
        "logId": _log_id(start),
        "dateOfSleep": start[:10],
        "startTime": start,
        "duration": round(minutes * 60000),
        "minutesAsleep": int(minutes * 0.9),
        "minutesAwake": int(minutes * 0.1),
        "timeInBed": int(minutes),
        "efficiency": 92,
        "type": "stages",
        "mainSleep": True,
    }


def rhr_record(day: str, value: float | None) -> dict[str, Any]:
    """One day of `resting_heart_rate.json` (`day` = YYYY-MM-DD); `value=None` writes the missing marker."""
    if value is None:
        return {"dateTime": f"{day} 00:00:00", "value": {"date": None, "value": 0.0, "error": 0.0}}
    us_date = datetime.strptime(day, "%Y-%m-%d").strftime("%m/%d/%y")
    return {"dateTime": f"{day} 00:00:00", "value": {"date": us_date, "value": value, "error": 6.8}}


def build_pmdata(root: Path, seed: int = 0) -> None:
    """Write the synthetic mini PMData (see the module docstring) under `root`."""
    rng = np.random.default_rng(seed)
    tz = zone(DEFAULT_ZONE)
    root.mkdir(parents=True, exist_ok=True)
    for number, participant in enumerate(PARTICIPANTS):
        base_sleep = 400.0 + 15 * number
        wellness: list[dict[str, Any]] = []
        exercise: list[dict[str, Any]] = []
        sleep: list[dict[str, Any]] = []
        rhr: list[dict[str, Any]] = []
        recent_sleep = base_sleep
        bout_steps = 0  # the steps of the day's bout (0: none); a report is written the morning after
        for offset in range(DAYS):
            day = START + timedelta(days=offset)
            steps_yesterday, bout_steps = bout_steps, 0
            minutes = float(np.clip(rng.normal(base_sleep, 45), 240, 600))
            recent_sleep = 0.6 * recent_sleep + 0.4 * minutes
            bedtime = datetime(day.year, day.month, day.day, 23, int(rng.integers(0, 50)), 0) - timedelta(days=1)
            if participant == "p02" and day == date(2020, 3, 29):
                bedtime = datetime(2020, 3, 29, 2, 15, 0)  # does not exist in Oslo: the clocks jump 02:00 -> 03:00
            sleep.append(sleep_record(bedtime.strftime("%Y-%m-%dT%H:%M:%S.000"), round(minutes, 1)))
            if offset % 2 == number % 2:
                start = datetime(day.year, day.month, day.day, 17, int(rng.integers(0, 59)), int(rng.integers(0, 59)))
                steps = bout_steps = int(rng.integers(1500, 9000))
                calories = int(steps * 0.05 + rng.integers(20, 80))
                as_strings = number % 2 == 1
                exercise.append(
                    exercise_record(
                        start.strftime(_EXERCISE_TIME_FORMAT[participant]),
                        str(steps) if as_strings else steps,
                        str(calories) if as_strings else calories,
                    )
                )
            resting = None if offset % 9 == 4 else round(float(55 + number - (recent_sleep - 420) / 30), 2)
            rhr.append(rhr_record(day.isoformat(), resting))
            deficit = (420 - recent_sleep) / 40
            stress = int(np.clip(round(2.5 + deficit + rng.normal(0, 0.6)), 1, 5))
            local_report = datetime(day.year, day.month, day.day, 7, int(rng.integers(0, 59)), int(rng.integers(0, 59)))
            moment = local_to_utc(local_report, tz).utc + timedelta(milliseconds=int(rng.integers(0, 999)))
            blank = participant == "p03" and offset == 20
            wellness.append(
                {
                    "effective_time_frame": report_time(moment),
                    "fatigue": 0 if blank else int(np.clip(round(2.5 + deficit + rng.normal(0, 0.7)), 1, 5)),
                    "mood": 0 if blank else int(np.clip(round(3.5 - deficit / 2 + rng.normal(0, 0.5)), 1, 5)),
                    "readiness": 0 if blank else int(np.clip(round(7 - 1.5 * deficit + rng.normal(0, 1)), 0, 10)),
                    "sleep_duration_h": 0 if blank else round(minutes / 60, 1),
                    "sleep_quality": 0 if blank else int(np.clip(round(3 - deficit + rng.normal(0, 0.6)), 1, 5)),
                    "soreness": 0 if blank else int(rng.integers(1, 4)) + int(steps_yesterday > 5000),
                    "soreness_area": "[]",
                    "stress": 0 if blank else stress,
                }
            )
        write_wellness(root, participant, wellness)
        write_fitbit(root, participant, "exercise.json", exercise)
        write_fitbit(root, participant, "sleep.json", sleep)
        if participant != NO_RESTING_HR:
            write_fitbit(root, participant, "resting_heart_rate.json", rhr)
    mark_synthetic(root, "loaders.synthetic.health:build_pmdata", seed)
