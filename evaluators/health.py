"""Scoring health-task predictions: PMData (Health-LLM tasks) and LifeSnaps.

Predictions are a CSV `window_id,prediction` (one number per window), or one lm-evaluation-harness output folder
(`--log_samples`) of the task's mobench lm-eval task, whose generated text is read with `NUMBER_RULE`. Every
problem names the window (and the file line): unknown, duplicate or missing window ids, a prediction that is not a
number, or a CSV number outside the task's scale.

Metrics (aggregate over the windows scored; the same per participant and per label value in the breakdowns):

- `mae`: mean absolute error |prediction - label|. Health-LLM (Kim et al. 2024, arXiv:2401.06866) reports MAE for
  the PMData stress, readiness, fatigue and sleep-quality tasks and the LifeSnaps stress resilience index, and so
  does the small-language-model study that reuses them (Wang et al. 2024, arXiv:2409.18987).
- `rmse`: root mean squared error, sqrt(mean (prediction - label)^2); a standard companion to MAE that weighs large
  misses more (mobench adds it; neither paper reports it).
- `accuracy` (percent): for ordinal targets, the share of windows whose prediction rounded half up equals the label
  (mobench definition: Health-LLM scores these tasks by MAE only); for the binary sleep-disorder task, the share of
  correct classes, as Health-LLM reports it.
- `macro_f1` (percent, binary tasks): the unweighted mean over the classes present in labels or predictions of
  F1 = 2 TP / (2 TP + FP + FN) (scikit-learn's `f1_score(average="macro")` definition).
- `no_answer_rate` (percent): windows whose generated text held no number on the task's scale (always 0 for a CSV,
  where that is an error). Such a window is scored as the worst answer on the scale (the error to the far end of the
  scale from the label, or the wrong class), so that declining to answer can never improve a score.

Intervals (`hub.core.bootstrap`) resample **participants**. The figures pool windows (Health-LLM's MAE is a mean
over test windows), but a participant's windows are one person's reports a day or so apart, far from independent,
and the question a row answers is how a model does on people (the default `participant` config keeps test people out
of training); so a resample draws participants with replacement and takes all their windows, a participant drawn
twice counting twice. Every metric is a ratio of sums over windows (`window_columns`; RMSE the root of one, macro F1
a mean of per-class ratios, a class absent from the drawn windows left out as `score` leaves it out), so a resample
sums each participant's columns and pools the drawn ones with the same `ratio_metrics` as `score`. A split of one
participant has intervals of width 0: there is nothing to resample.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from evaluators.readers.health import NUMBER_RULE, read_predictions
from hub.core.bootstrap import Draws, FloatArray, ResampledMetrics, resampled_ratios, unit_sums
from hub.core.coverage import match_predictions
from hub.core.evaluation import EvaluationRequest, EvaluationResult, Resampling, ScoringPlan, ShardedEvaluator
from hub.core.registry import HealthTask

NAN = math.nan


def worst_value(label: float, task: HealthTask) -> float:
    """The answer farthest from `label` on the task's scale: what a window without an answer is scored as."""
    if task.classes:
        return 1.0 - label
    return task.low if label - task.low >= task.high - label else task.high


def metric_names(task: HealthTask) -> tuple[str, ...]:
    """The metrics `score` reports for `task` (the registry lists the same ones)."""
    if task.classes:
        return ("accuracy", "macro_f1", "no_answer_rate")
    if task.label == "ordinal":
        return ("mae", "rmse", "accuracy", "no_answer_rate")
    return ("mae", "rmse", "no_answer_rate")


def score(pairs: Sequence[tuple[float, float | None]], task: HealthTask) -> dict[str, float]:
    """Aggregate metrics from (label, prediction or None) pairs, as the module docstring defines them: the ratios
    of the windows' columns (`window_columns`) summed in window order, then `ratio_metrics`."""
    if not pairs:
        return dict.fromkeys(metric_names(task), NAN)
    columns = window_columns(pairs, task)
    metrics = ratio_metrics(dict(zip(columns, _pooled(columns), strict=True)), task)
    return {name: float(value) for name, value in metrics.items()}


def macro_f1(pairs: Sequence[tuple[float, float]]) -> float:
    """Macro-averaged F1 in percent over the classes in labels or predictions (see the module docstring)."""
    label, predicted = (np.array(values, dtype=np.float64) for values in zip(*pairs, strict=True))
    columns = _class_columns(label, predicted)
    return float(_macro_f1(list(_pooled(columns))))


# A window's share of every ratio the metrics are made of: name -> (one total per window, one count per window,
# scale); the ratio over a set of windows is `scale * sum(totals) / sum(counts)`.
Columns = dict[str, tuple[FloatArray, FloatArray, float]]


def window_columns(pairs: Sequence[tuple[float, float | None]], task: HealthTask) -> Columns:
    """The ratios' columns of `pairs`, a window without an answer filled with `worst_value`: `no_answer_rate` and
    `accuracy` 0 or 1 over 1 (percent), `mae` |error| over 1, `mean_squared_error` error^2 over 1, and for a
    classification task `_class_columns`."""
    label = np.array([lab for lab, _ in pairs], dtype=np.float64)
    filled = np.array([worst_value(lab, task) if pred is None else pred for lab, pred in pairs], dtype=np.float64)
    ones = np.ones(len(pairs), dtype=np.float64)
    columns: Columns = {"no_answer_rate": (np.array([p is None for _, p in pairs], dtype=np.float64), ones, 100.0)}
    if task.classes:
        columns["accuracy"] = ((label == filled).astype(np.float64), ones, 100.0)
        return columns | _class_columns(label, filled)
    errors = filled - label
    columns["mae"] = (np.abs(errors), ones, 1.0)
    columns["mean_squared_error"] = (errors * errors, ones, 1.0)
    if task.label == "ordinal":
        columns["accuracy"] = ((np.floor(filled + 0.5) == label).astype(np.float64), ones, 100.0)
    return columns


def _class_columns(label: FloatArray, predicted: FloatArray) -> Columns:
    """`f1 <class>` for each class in the labels or predictions, sorted: 2 TP over 2 TP + FP + FN, i.e. per window 2
    if label and prediction are the class, else 0, over how many of the two are. The count sums to 0 exactly where
    the class is absent from a set of windows, whose ratio is then NaN and left out of the macro average."""
    columns: Columns = {}
    for cls in sorted(set(label.tolist()) | set(predicted.tolist())):
        is_label, is_predicted = label == cls, predicted == cls
        columns[f"f1 {cls:g}"] = (2.0 * (is_label & is_predicted), is_label + is_predicted.astype(np.float64), 1.0)
    return columns


def _pooled(columns: Columns) -> FloatArray:
    """Each ratio over all the columns' windows, summed one window after the other."""
    return np.array(
        [scale * sum(totals.tolist()) / sum(counts.tolist()) for totals, counts, scale in columns.values()],
        dtype=np.float64,
    )


def ratio_metrics(ratio: Mapping[str, Any], task: HealthTask) -> dict[str, FloatArray]:
    """The task's metrics from the ratios of `window_columns` over one set of windows (one value each) or over
    every resample's windows (an array each): `rmse` is the root of `mean_squared_error`, `macro_f1` `_macro_f1`
    of the `f1` ratios."""
    metrics = {"no_answer_rate": np.asarray(ratio["no_answer_rate"])}
    if task.classes:
        metrics["accuracy"] = np.asarray(ratio["accuracy"])
        metrics["macro_f1"] = _macro_f1([value for name, value in ratio.items() if name.startswith("f1 ")])
        return metrics
    metrics["mae"] = np.asarray(ratio["mae"])
    metrics["rmse"] = np.sqrt(ratio["mean_squared_error"])
    if task.label == "ordinal":
        metrics["accuracy"] = np.asarray(ratio["accuracy"])
    return metrics


def _macro_f1(f1: Sequence[Any]) -> FloatArray:
    """The mean in percent of the classes' F1 that are defined (NaN: the class is absent), added class by class
    in sorted order (a class left out adds 0.0, which changes no sum)."""
    total: FloatArray = np.zeros(np.shape(f1[0]) if f1 else ())
    present: FloatArray = np.zeros_like(total)
    for value in f1:
        defined = ~np.isnan(value)
        total, present = total + np.where(defined, value, 0.0), present + defined
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(present > 0, 100.0 * total / np.where(present > 0, present, 1.0), NAN)


@dataclass(frozen=True)
class _Window:
    """One unit: a window's prediction (None: no number could be read) with its label and participant."""

    window_id: str
    prediction: float | None
    label: float
    participant: str


def _plan(request: EvaluationRequest) -> ScoringPlan[_Window]:
    """Read the predictions (CSV or lm-eval logs) and check them against the split's windows and prompts."""
    task = request.spec.task_as(HealthTask)
    loader = request.ground_truth
    windows = {row["id"]: row for row in loader}
    submitted = read_predictions(request.predictions, task)
    coverage = match_predictions(
        list(windows), ((p.window_id, p.source) for p in submitted.predictions), allow_partial=request.allow_partial
    )
    revision = [
        f"window {wid}: the logged prompt differs from the one built from {loader.root} "
        "(logs made with another release, zone option or mobench version?)"
        for wid, question in (submitted.logged_questions or {}).items()
        if wid in windows and question != windows[wid]["question"]
    ]
    coverage.raise_for_problems([*submitted.problems, *revision])

    chosen = {p.window_id: p for p in submitted.predictions if p.window_id in coverage.to_score}
    units = [
        _Window(wid, chosen[wid].value, float(windows[wid]["label"]), str(windows[wid]["participant"]))
        for wid in coverage.to_score
    ]
    details: dict[str, Any] = {"prediction_form": submitted.form}
    if submitted.run is not None:
        details["number_rule"] = NUMBER_RULE
        details["lm_eval"] = submitted.run.as_details()
    report = getattr(loader, "report", None)
    if report is not None:
        details["load_report"] = report.as_dict()
    return ScoringPlan(coverage, units, context=details)


def _map(request: EvaluationRequest, units: Sequence[_Window]) -> list[dict[str, float]]:
    task = request.spec.task_as(HealthTask)
    return [_sample_score(w.label, w.prediction, task) for w in units]


def _reduce(
    request: EvaluationRequest, plan: ScoringPlan[_Window], partials: list[dict[str, float]]
) -> EvaluationResult:
    """The task's metrics over all windows, and per participant and per label."""
    task = request.spec.task_as(HealthTask)
    pairs = {w.window_id: (w.label, w.prediction) for w in plan.units}
    groups: dict[str, dict[str, list[str]]] = {"participant": defaultdict(list), "label": defaultdict(list)}
    for w in plan.units:
        groups["participant"][w.participant].append(w.window_id)
        groups["label"][f"{w.label:g}"].append(w.window_id)
    breakdowns = {
        name: {
            key: score([pairs[w] for w in ids], task) | {"n_windows": float(len(ids))}
            for key, ids in sorted(members.items())
        }
        for name, members in groups.items()
    }
    return EvaluationResult.scored(
        request,
        plan.coverage,
        score(list(pairs.values()), task),
        breakdowns=breakdowns,
        sample_scores={w.window_id: scores for w, scores in zip(plan.units, partials, strict=True)},
        details=plan.context,
    )


def _participant(_request: EvaluationRequest, plan: ScoringPlan[_Window], _partials: list[Any]) -> list[str]:
    return [w.participant for w in plan.units]


def _resampled(
    request: EvaluationRequest, plan: ScoringPlan[_Window], _partials: list[dict[str, float]], draws: Draws
) -> ResampledMetrics:
    """The task's metrics over each resample's drawn participants (all their windows; a participant drawn twice
    twice): the windows' columns summed per participant, the ratios over the drawn participants
    (`resampled_ratios`), then the same `ratio_metrics` as `score`."""
    task = request.spec.task_as(HealthTask)
    columns = window_columns([(w.label, w.prediction) for w in plan.units], task)
    totals = unit_sums(draws, np.column_stack([totals for totals, _, _ in columns.values()]))
    counts = unit_sums(draws, np.column_stack([counts for _, counts, _ in columns.values()]))
    scales = np.array([scale for _, _, scale in columns.values()], dtype=np.float64)
    ratios = resampled_ratios(draws, totals, counts, scales)
    return ratio_metrics({name: ratios[:, j] for j, name in enumerate(columns)}, task)


# Score a health-task submission; see the module docstring for formats and metrics. Intervals: over participants.
evaluate: ShardedEvaluator[_Window, dict[str, float]] = ShardedEvaluator(
    _plan, _map, _reduce, Resampling("participant", _participant, _resampled)
)


def _sample_score(label: float, prediction: float | None, task: HealthTask) -> dict[str, float]:
    value = worst_value(label, task) if prediction is None else prediction
    scores = {"prediction": NAN if prediction is None else prediction, "label": label}
    if task.classes:
        scores["correct"] = float(value == label)
    else:
        scores["abs_error"] = abs(value - label)
    return scores
