"""Baselines for the PMData tasks: three real, simple predictors in numpy, fitted on the config's train split.

- `last-value`: persistence. The label the participant gave in their most recent earlier wellness report (any
  split: a phone app has seen the person's past reports by the time of this one), else the training mean. It
  uses self-reports no Health-LLM prompt contains, so it is an online floor, not a prompt-only model.
- `participant-mean`: the mean label of the participant's training windows, else (always so in the
  participant-disjoint split, where nobody is in both halves) the mean over all training windows.
- `ridge`: ridge regression (lambda = 1, unpenalised intercept, standardised features) on seven window summaries:
  the means of exercise steps, exercise calories, resting heart rate and sleep minutes, the number of bouts and
  sleep logs, and the report's mood. Predictions are clipped to the task's scale.

Each predicts every window of the split into `predictions.csv` (`window_id,prediction`); one untimed warm-up
prediction precedes the timed ones.
"""

from __future__ import annotations

import csv
import time
from abc import abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from hub.core.errors import MobenchError
from hub.core.registry import BenchmarkSpec, HealthTask
from hub.core.training_data import Declaration, declared_split
from loaders.base import DatasetLoader
from loaders.health.pmdata import PMDataTask, PMDataWindow, report_label
from loaders.health.splits import CONFIG_SPLITS
from submissions.baselines import Baseline, BaselineTiming

RIDGE_LAMBDA = 1.0
Predictor = Callable[[PMDataWindow], float]


def training_windows(loader: PMDataTask) -> list[PMDataWindow]:
    """The train split of the loader's config (the `all` config has none)."""
    config = str(loader.config)
    if "train" not in CONFIG_SPLITS[config]:
        raise MobenchError(f"config {config!r} has no train split: the health baselines need one")
    windows = loader.windows_of(config, "train")
    if not windows:
        raise MobenchError(f"{config}/train holds no windows to fit a baseline on")
    return windows


def summary(window: PMDataWindow, mood_fill: float) -> list[float]:
    """The seven window summaries the ridge baseline uses (see the module docstring)."""
    return [
        float(np.mean(window.steps)),
        float(np.mean(window.calories)),
        float(np.mean(window.resting_hr)),
        float(np.mean(window.sleep_minutes)),
        float(len(window.steps)),
        float(len(window.sleep_minutes)),
        mood_fill if window.mood is None else window.mood,
    ]


class _PMDataBaseline(Baseline):
    version = "1.0"
    runtime = "numpy (python)"
    precision = "float64"
    url = "https://github.com/mitmedialab/Health-LLM"

    @abstractmethod
    def fit(self, loader: PMDataTask, train: Sequence[PMDataWindow]) -> Predictor:
        """A predictor fitted on the training windows."""

    def training_data(self, spec: BenchmarkSpec, config: str) -> Declaration:
        """The config's train split, which `fit` sees (`training_windows`)."""
        return [declared_split(spec, config, "train")]

    def run(self, spec: BenchmarkSpec, loader: DatasetLoader, predictions_dir: Path) -> BaselineTiming:
        if not isinstance(loader, PMDataTask):
            raise MobenchError(f"the {self.name} baseline runs on the PMData tasks, not {spec.id}")
        task = spec.task_as(HealthTask)
        predict = self.fit(loader, training_windows(loader))
        windows = loader.windows_of(str(loader.config), loader.split)
        if windows:
            predict(windows[0])  # warm-up, not timed
        latencies: list[float] = []
        rows: list[tuple[str, float]] = []
        for window in windows:
            start = time.perf_counter()
            value = float(np.clip(predict(window), task.low, task.high))
            latencies.append(time.perf_counter() - start)
            rows.append((window.id, value))
        predictions_dir.mkdir(parents=True, exist_ok=True)
        with (predictions_dir / "predictions.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["window_id", "prediction"])
            writer.writerows((wid, repr(value)) for wid, value in rows)
        return BaselineTiming(latencies_s=latencies, warmup=1 if windows else 0)


class LastValueBaseline(_PMDataBaseline):
    name = "last-value"
    description = "persistence: the participant's label in their previous wellness report, else the training mean"

    def fit(self, loader: PMDataTask, train: Sequence[PMDataWindow]) -> Predictor:
        fallback = float(np.mean([w.label for w in train]))
        task = loader.task
        history: dict[str, list[tuple[float, float]]] = {}
        for participant in loader.release.participants:
            labelled = []
            for row in loader.release.wellness(participant):
                label, _ = report_label(row, task.subtask, task.low, task.high)
                if label is not None:
                    labelled.append((row.time_utc.timestamp(), label))
            history[participant] = sorted(labelled)

        def predict(window: PMDataWindow) -> float:
            t = window.time_utc.timestamp()
            earlier = [label for when, label in history.get(window.participant, []) if when < t]
            return earlier[-1] if earlier else fallback

        return predict


class ParticipantMeanBaseline(_PMDataBaseline):
    name = "participant-mean"
    description = "the participant's mean training label, else the mean over all training windows"

    def fit(self, loader: PMDataTask, train: Sequence[PMDataWindow]) -> Predictor:
        overall = float(np.mean([w.label for w in train]))
        by_participant: dict[str, list[float]] = {}
        for window in train:
            by_participant.setdefault(window.participant, []).append(window.label)
        means = {p: float(np.mean(labels)) for p, labels in by_participant.items()}
        return lambda window: means.get(window.participant, overall)


class RidgeBaseline(_PMDataBaseline):
    name = "ridge"
    description = "ridge regression (numpy, lambda 1) on seven standardised window summaries"

    def fit(self, loader: PMDataTask, train: Sequence[PMDataWindow]) -> Predictor:
        moods = [w.mood for w in train if w.mood is not None]
        mood_fill = float(np.mean(moods)) if moods else 0.0
        x = np.array([summary(w, mood_fill) for w in train])
        y = np.array([w.label for w in train])
        mean, std = x.mean(axis=0), x.std(axis=0)
        std[std == 0] = 1.0
        z = (x - mean) / std
        y_mean = float(y.mean())
        weights = np.linalg.solve(z.T @ z + RIDGE_LAMBDA * np.eye(z.shape[1]), z.T @ (y - y_mean))

        def predict(window: PMDataWindow) -> float:
            features = (np.array(summary(window, mood_fill)) - mean) / std
            return y_mean + float(features @ weights)

        return predict


PMDATA_BASELINES: list[Baseline] = [LastValueBaseline(), ParticipantMeanBaseline(), RidgeBaseline()]
