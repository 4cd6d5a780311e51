"""PMData (Thambawita et al., MMSys 2020; datasets.simula.no/pmdata, CC BY 4.0): its Health-LLM tasks, and any other.

`PMDataRelease` reads the unpacked archive into the long table (`loaders.health.schema`); `PMDataTask` is the
loader of one task (its benchmark's `task`: the wellness item predicted, on the scale the spec gives; Health-LLM's
four are stress, readiness, fatigue and sleep_quality, its subtask names): one window per wellness report, built as
Health-LLM builds it (see `build_windows`), in the config/split chosen (see `loaders.health.splits`). Any other
numeric column of `pmsys/wellness.csv` (`WELLNESS_ITEMS`) but the report's mood, which every window gives as an
input, can be a task's item: its windows are built the same way, in the words its spec declares (`task.prompt`, a
mobench addition: Health-LLM defines no such task; see `loaders.health.windows.pmdata_prompt`).

Release quirks handled here (research notes, traps 14-16): Fitbit values may be numeric strings; a resting heart
rate of 0.0 (written with `date: null`) is a missing-value marker, not a reading (Health-LLM keeps it as 0 bpm;
mobench excludes it from windows and counts it); whole files are absent for some participants (p12/p13 have no
resting heart rate, p03 no intraday heart rate): counted in the load report, never a crash; Fitbit times are naive
local time and are converted with a declared zone (`loaders.health.clock`) before any comparison with the UTC
wellness times; a Fitbit record written twice (the same series and local time: p01's `sleep.json` holds 5 sleep
logs twice, each copy with the same `logId` and start time) is used once and counted in the load report's
`duplicates`, where Health-LLM, which lists every record of the file, prints it twice in the window's list.

Deviations from Health-LLM, all declared (here, in the benchmarks' description in `hub/benchmarks/health.yaml` and
in the README): (1) the default `participant` config puts nobody in both train and test (`healthllm` keeps its
split); (2) resting-heart-rate missing markers are not read as 0 bpm readings; (3) a record written twice in a
Fitbit file is listed once. Everything else (windows, lists, prompt wording and typos) is Health-LLM's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import datasets

from hub.core.errors import DatasetLayoutError
from hub.core.registry import BenchmarkSpec, HealthTask
from loaders.base import DatasetLoader
from loaders.health.clock import (
    DEFAULT_ZONE,
    parse_fitbit_time,
)
from loaders.health.pmdata_release import (
    EXERCISE,
    ONE_TO_FIVE,
    RESTING_HR,
    SLEEP,
    TASK_SOURCES,
    WELLNESS_ITEMS,
    PMDataRelease,
    WellnessRow,
    json_number,
)
from loaders.health.schema import (
    QUALITY_UNPAIRED,
    LoadReport,
    Observation,
)
from loaders.health.splits import (
    PARTICIPANT_CONFIG,
    WindowKey,
    check_config_split,
    empty_split_reason,
    healthllm_split,
    select,
)
from loaders.health.windows import (
    PMDATA_WINDOW_DAYS,
    in_window,
    pmdata_prompt,
    python_list,
)

# the report's own items every window gives as inputs (Health-LLM's "[Mood]: <mood> out of 5"): never a label
REPORT_INPUTS: tuple[str, ...] = ("mood",)


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
    value = json_number(row.values[item])
    if value is None:
        return None, "label blank or not a number"
    if value == 0 and low > 0:
        return None, "label 0 (blank submission)"
    if value == 0 and all(json_number(row.values[i]) == 0 for i in ONE_TO_FIVE):
        return None, "label 0 in an all-zero (blank) submission"
    if not low <= value <= high:
        return None, f"label outside {low:g}-{high:g}"
    return value, ""


def check_item(benchmark_id: str, task: HealthTask) -> None:
    """Refuse a task that is not PMData's, or whose item is not a numeric wellness column or is a window's input."""
    items = [item for item in WELLNESS_ITEMS if item not in REPORT_INPUTS]
    if task.dataset != "pmdata" or task.subtask not in items:
        why = (
            "the report's mood is an input of every window (Health-LLM's [Mood] in the prompt): it would be its label"
            if task.subtask in REPORT_INPUTS
            else f"PMData items: {', '.join(items)}"
        )
        raise DatasetLayoutError(f"PMData: {benchmark_id} predicts {task.dataset} {task.subtask!r}; {why}")


def build_windows(
    release: PMDataRelease, task: HealthTask, benchmark_id: str = ""
) -> tuple[list[PMDataWindow], list[str]]:
    """Every window of `task` (predicting the wellness item `task.subtask` on the task's scale, in the words
    `pmdata_prompt` gives; `benchmark_id` names it in an error), and Health-LLM's own ordered window list (for its
    split).

    mobench's windows: one per wellness report (a repeated `effective_time_frame` is used once); inputs are the
    participant's exercise bouts with both steps and calories, sleep logs, and non-missing resting heart rates whose
    UTC time lies in (t_report - 14 d, t_report), in file order, a record written twice in its file once (a declared
    deviation: Health-LLM lists both copies); a window lacking any of the three, or whose label is blank, 0 on a 1-5
    item, or outside the scale, is dropped and counted in `release.report.dropped_windows`.

    Health-LLM's list (`gen_dataset.py`): the same reports in sorted participant order (its `os.listdir` order is
    file-system dependent), compared as it compares them, Fitbit local time against the UTC report time with the
    zone stripped and truncated to the second, resting heart rates of 0 counted as readings, labels not checked.
    It is the same list for every item, so all share one split.
    """
    item = task.subtask
    prompt = pmdata_prompt(benchmark_id or f"the PMData {item} task", task)
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
            instruction = prompt.instruction.format(task=item, low=f"{task.low:g}", high=f"{task.high:g}")
            question = prompt.question.format(
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
                    mood=json_number(mood_text),
                    instruction=instruction,
                    question=question,
                    answer=prompt.answer.format(task=item, label=row.values[item]),
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

    One sample per window of the `benchmark`'s task (its spec's `task`: the item predicted and its scale; each row
    names the benchmark); configs and splits as in `loaders.health.splits`; `zone` (loader option, default
    Europe/Oslo) is the zone of the Fitbit clocks.
    """

    splits = ("test", "train")
    takes_benchmark = True

    def __init__(
        self,
        root: str | Path,
        split: str = "test",
        config: str | None = None,
        *,
        benchmark: BenchmarkSpec,
        zone: str = DEFAULT_ZONE,
    ) -> None:
        super().__init__(root, split, config or PARTICIPANT_CONFIG)
        check_config_split("PMData", str(self.config), split)
        self.task = benchmark.task_as(HealthTask)
        check_item(benchmark.id, self.task)
        pmdata_prompt(benchmark.id, self.task)  # a missing or unusable wording is refused here, before any file is read
        self.benchmark_id = benchmark.id
        self.item = self.task.subtask
        self.release = PMDataRelease(self.root, zone, layout=self.layout())

    @cached_property
    def _built(self) -> tuple[list[PMDataWindow], list[str]]:
        return build_windows(self.release, self.task, self.benchmark_id)

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

    def empty_reason(self) -> str:
        return empty_split_reason(str(self.config), self.split, self.release.participants, self.report)

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
                "task": self.benchmark_id,
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
