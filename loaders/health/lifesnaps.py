"""LifeSnaps (Yfantidou et al., Scientific Data 2022; Zenodo record 7229547) and its two Health-LLM tasks.

Health-LLM reads the release's pre-made CSVs by column *position*, splitting each line on commas, which breaks on
any quoted field (e.g. an `activityType` list); mobench reads them with a CSV parser, by column *name*, in the
layout each file's header declares (the official one or a common re-export: `loaders.health.lifesnaps_release`).
Tasks (loader option `task`):

- `stress_resilience`: one window per PANAS survey (`scored_surveys/panas.csv`); label = positive / negative
  affect score (0.2-5); inputs = the participant's daily rows dated within the 7 days before the survey date
  (`date < survey and survey - date < 7 days`) on which every field the prompt lists parses as a number, as
  Health-LLM filters them. An empty list is printed as `[-1]` in the prompt, as Health-LLM does (its window is
  kept and counted in the load report). Note that the prompt, like the original, shows both affect scores the
  label is computed from.
- `sleep_disorder`: one window per daily row on which every field parses; label 1 if `sleep_efficiency < 85` and
  `minutesAwake > 30`, else 0 (Health-LLM's rule): the label is a deterministic function of two of its own inputs.
- `sleep_disorder_leakfree`: the same windows and labels, with those two fields left out of the inputs and the
  prompt (the sleep wake ratio stays, and still correlates with minutes awake).

Dates are calendar days without a zone (participants live in several countries), so the long table keeps them as
midnight UTC with zone `date`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import datasets

from hub.core.errors import DatasetLayoutError
from hub.core.registry import BenchmarkSpec, HealthTask
from loaders.base import DatasetLoader
from loaders.health.lifesnaps_release import (
    SLEEP_FIELDS,
    SRI_FIELDS,
    LifeSnapsRelease,
    parse_day,
    parse_float,
)
from loaders.health.schema import LoadReport
from loaders.health.splits import (
    PARTICIPANT_CONFIG,
    WindowKey,
    check_config_split,
    empty_split_reason,
    healthllm_split,
    select,
)
from loaders.health.windows import LIFESNAPS_SRI_WINDOW_DAYS, in_window

TASKS = ("stress_resilience", "sleep_disorder", "sleep_disorder_leakfree")
LEAKING_FIELDS: tuple[str, ...] = ("minutesAwake", "sleep_efficiency")
SRI_INSTRUCTION = "Answer this question truthfully"
SRI_QUESTION = (
    "Given the following 7-days averaged data, predict the Stress Resilience Index (SRI) between 0.2 and 5. "
    "[Stress Score]: {stress_score} out of 100, [Positive Affect Score]: {positive} out of 50, [Negative Affect "
    "Score]: {negative} out of 50, [Lightly Active Minutes]: {lightly_active_minutes}, [Moderately Active Minutes]: "
    "{moderately_active_minutes}, [Very Active Minutes]: {very_active_minutes}, [Sleep Efficiency]: "
    "{sleep_efficiency}, [Sleep Deep Ratio]: {sleep_deep_ratio}, [Sleep Light Ratio]: {sleep_light_ratio}, "
    "[Sleep REM Ratio]: {sleep_rem_ratio}."
)
SLEEP_QUESTION_HEAD = "Given the following data, predict whether there exists sleep disorder (1) or not (0). "
# (field, prompt item) in Health-LLM's order; `{}` items print Python's float, `{:.2f}` two decimals
_SLEEP_ITEMS: tuple[tuple[str, str], ...] = (
    ("sleep_duration", "[Sleep Duration]: {:.2f} hours"),
    ("minutesAwake", "[Minutes Awake]: {} minutes"),
    ("sleep_efficiency", "[Sleep Efficiency]: {}"),
    ("sleep_deep_ratio", "[Sleep Deep Ratio]: {:.2f}"),
    ("sleep_wake_ratio", "[Sleep Wake Ratio]: {:.2f}"),
    ("sleep_light_ratio", "[Sleep Light Ratio]: {:.2f}"),
    ("sleep_rem_ratio", "[Sleep REM Ratio]: {:.2f}"),
    ("rmssd", "[RMSSD]: {:.2f}"),
    ("spo2", "[SPO2]: {} %"),
    ("full_sleep_breathing_rate", "[Full Sleep Breathing Rate]: {}"),
    ("bpm", "[BPM]: {:.2f}"),
    ("resting_hr", "[Resting Hour]: {:.2f} hours"),
)


@dataclass(frozen=True)
class LifeSnapsWindow:
    id: str
    participant: str
    date: str
    time_utc: datetime
    label: float
    label_text: str
    inputs: dict[str, list[float]]
    instruction: str
    question: str
    answer: str

    @property
    def key(self) -> WindowKey:
        return WindowKey(self.id, self.participant, self.time_utc)


def _list(values: list[float]) -> str:
    """Health-LLM's print of a 7-day list: `str()` of the floats, `[-1]` when empty."""
    return str(values) if values else "[-1]"


def build_sri(release: LifeSnapsRelease) -> tuple[list[LifeSnapsWindow], list[str]]:
    """Stress-resilience windows and Health-LLM's ordered list (every PANAS row it could parse)."""
    windows: list[LifeSnapsWindow] = []
    candidates: list[str] = []
    seen: set[str] = set()
    usable = [r for r in release.daily if all(f in r.values for f in SRI_FIELDS)]
    for row in release.panas:
        date = row.cells["submitdate"]
        day = parse_day(date)
        positive = parse_float(row.cells["positive_affect_score"])
        negative = parse_float(row.cells["negative_affect_score"])
        wid = f"lifesnaps/{row.participant}/{date}"
        if day is None or positive is None or negative is None or negative == 0:
            release.report.dropped_windows["stress_resilience: survey date or scores unreadable (or negative 0)"] += 1
            continue
        if wid in seen:
            release.report.dropped_windows["stress_resilience: repeated survey date"] += 1
            continue
        seen.add(wid)
        candidates.append(wid)
        days = [
            r
            for r in usable
            if r.participant == row.participant and in_window(r.time_utc, day, LIFESNAPS_SRI_WINDOW_DAYS)
        ]
        inputs = {f: [r.values[f] for r in days] for f in SRI_FIELDS if f != "sleep_duration"}
        if not days:
            release.report.dropped_windows["stress_resilience: no daily row in 7 days (kept, prompt shows [-1])"] += 1
        label = positive / negative
        windows.append(
            LifeSnapsWindow(
                wid,
                row.participant,
                date,
                day,
                label,
                f"{label:.2f}",
                inputs,
                SRI_INSTRUCTION,
                SRI_QUESTION.format(
                    positive=int(positive), negative=int(negative), **{k: _list(v) for k, v in inputs.items()}
                ),
                f"{label:.2f}",
            )
        )
    return windows, candidates


def build_sleep_disorder(release: LifeSnapsRelease, *, leakfree: bool) -> tuple[list[LifeSnapsWindow], list[str]]:
    """Sleep-disorder windows (one per complete daily row) and Health-LLM's list (the same rows)."""
    windows: list[LifeSnapsWindow] = []
    seen: set[str] = set()
    items = [(f, text) for f, text in _SLEEP_ITEMS if not (leakfree and f in LEAKING_FIELDS)]
    for row in release.daily:
        if not all(f in row.values for f in SLEEP_FIELDS):
            release.report.dropped_windows["sleep_disorder: a field is missing"] += 1
            continue
        wid = f"lifesnaps/{row.participant}/{row.date}"
        if wid in seen:
            release.report.dropped_windows["sleep_disorder: repeated (id, date)"] += 1
            continue
        seen.add(wid)
        values = dict(row.values)
        values["sleep_duration"] = values["sleep_duration"] / 3600 / 1000
        label = 1 if values["sleep_efficiency"] < 85 and values["minutesAwake"] > 30 else 0
        question = SLEEP_QUESTION_HEAD + ", ".join(text.format(values[f]) for f, text in items)
        inputs = {f: [values[f]] for f, _ in items}
        windows.append(
            LifeSnapsWindow(
                wid,
                row.participant,
                row.date,
                row.time_utc,
                float(label),
                str(label),
                inputs,
                SRI_INSTRUCTION,
                question,
                str(label),
            )
        )
    return windows, [w.id for w in windows]


class LifeSnapsTask(DatasetLoader):
    """The LifeSnaps Zenodo release (pre-made CSVs), unpacked:

        <root>/                               (or <root>/rais_anonymized/)
          csv_rais_anonymized/daily_fitbit_sema_df_unprocessed.csv   ,id,date,... one row per (id, date)
          scored_surveys/panas.csv            user_id, type, submitdate, positive_affect_score, negative_affect_score

    Columns are read by name: a leading unnamed column (pandas' index) is skipped, and the participant column is
    `user_id` or `id` (a re-export names it `id` in every file and drops the index column).

    One sample per window of `task` (loader option: stress_resilience, sleep_disorder, sleep_disorder_leakfree);
    each row names the `benchmark` it is loaded for; configs and splits as in `loaders.health.splits`.
    """

    splits = ("test", "train")
    takes_benchmark = True

    def __init__(
        self, root: str | Path, split: str = "test", config: str | None = None, *, task: str, benchmark: BenchmarkSpec
    ) -> None:
        super().__init__(root, split, config or PARTICIPANT_CONFIG)
        check_config_split("LifeSnaps", str(self.config), split)
        if task not in TASKS:
            raise DatasetLayoutError(f"LifeSnaps: unknown task {task!r}; tasks: {', '.join(TASKS)}")
        if benchmark.task_as(HealthTask).dataset != "lifesnaps":
            raise DatasetLayoutError(f"LifeSnaps: {benchmark.id} is not a LifeSnaps task")
        if benchmark.task_as(HealthTask).prompt is not None:  # each task below builds Health-LLM's own prompt
            raise DatasetLayoutError(f"LifeSnaps: {benchmark.id} declares a task.prompt; its tasks use Health-LLM's")
        self.task = task
        self.benchmark_id = benchmark.id
        self.release = LifeSnapsRelease(self.root, self.layout())

    @cached_property
    def _built(self) -> tuple[list[LifeSnapsWindow], list[str]]:
        if self.task == "stress_resilience":
            return build_sri(self.release)
        return build_sleep_disorder(self.release, leakfree=self.task == "sleep_disorder_leakfree")

    @property
    def report(self) -> LoadReport:
        _ = self._built
        return self.release.report

    def empty_reason(self) -> str:
        return empty_split_reason(str(self.config), self.split, self.release.participants, self.report)

    @cached_property
    def _selected(self) -> list[LifeSnapsWindow]:
        windows, candidates = self._built
        if self.task == "stress_resilience":
            healthllm = healthllm_split(candidates)
        else:
            classes = {w.id: w.label for w in windows}
            healthllm = healthllm_split(candidates, classes, train_cap_per_class=13, eval_cap_per_class=25)
        ids = set(
            select(
                str(self.config),
                self.split,
                [w.key for w in windows],
                participants=self.release.participants,
                healthllm=healthllm,
            )
        )
        return [w for w in windows if w.id in ids]

    @property
    def _input_names(self) -> list[str]:
        if self.task == "stress_resilience":
            return [f for f in SRI_FIELDS if f != "sleep_duration"]
        return [f for f, _ in _SLEEP_ITEMS if not (self.task == "sleep_disorder_leakfree" and f in LEAKING_FIELDS)]

    def sample_ids(self) -> list[str]:
        return [w.id for w in self._selected]

    def features(self) -> datasets.Features:
        columns: dict[str, Any] = {
            name: datasets.Value("string") for name in ("id", "task", "participant", "date", "label_text")
        }
        columns["label"] = datasets.Value("float64")
        for name in self._input_names:
            columns[name] = datasets.Sequence(datasets.Value("float64"))
        for name in ("instruction", "question", "answer"):
            columns[name] = datasets.Value("string")
        return datasets.Features(columns)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for w in self._selected:
            yield {
                "id": w.id,
                "task": self.benchmark_id,
                "participant": w.participant,
                "date": w.date,
                "label_text": w.label_text,
                "label": w.label,
                **{name: w.inputs[name] for name in self._input_names},
                "instruction": w.instruction,
                "question": w.question,
                "answer": w.answer,
            }
