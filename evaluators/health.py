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
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evaluators.readers.health import NUMBER_RULE, read_predictions
from hub.core.coverage import match_predictions
from hub.core.evaluation import EvaluationRequest, EvaluationResult, ScoringPlan, ShardedEvaluator
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
    """Aggregate metrics from (label, prediction or None) pairs, as the module docstring defines them."""
    n = len(pairs)
    if n == 0:
        return dict.fromkeys(metric_names(task), NAN)
    filled = [(label, worst_value(label, task) if pred is None else pred) for label, pred in pairs]
    metrics = {"no_answer_rate": 100.0 * sum(pred is None for _, pred in pairs) / n}
    if task.classes:
        metrics["accuracy"] = 100.0 * sum(label == pred for label, pred in filled) / n
        metrics["macro_f1"] = macro_f1(filled)
        return metrics
    errors = [pred - label for label, pred in filled]
    metrics["mae"] = sum(abs(e) for e in errors) / n
    metrics["rmse"] = math.sqrt(sum(e * e for e in errors) / n)
    if task.label == "ordinal":
        metrics["accuracy"] = 100.0 * sum(math.floor(pred + 0.5) == label for label, pred in filled) / n
    return metrics


def macro_f1(pairs: Sequence[tuple[float, float]]) -> float:
    """Macro-averaged F1 in percent over the classes in labels or predictions (see the module docstring)."""
    classes = sorted({label for label, _ in pairs} | {pred for _, pred in pairs})
    scores = []
    for cls in classes:
        tp = sum(label == cls and pred == cls for label, pred in pairs)
        fp = sum(label != cls and pred == cls for label, pred in pairs)
        fn = sum(label == cls and pred != cls for label, pred in pairs)
        scores.append(2 * tp / (2 * tp + fp + fn))
    return 100.0 * sum(scores) / len(scores)


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


# Score a health-task submission; see the module docstring for formats and metrics.
evaluate: ShardedEvaluator[_Window, dict[str, float]] = ShardedEvaluator(_plan, _map, _reduce)


def _sample_score(label: float, prediction: float | None, task: HealthTask) -> dict[str, float]:
    value = worst_value(label, task) if prediction is None else prediction
    scores = {"prediction": NAN if prediction is None else prediction, "label": label}
    if task.classes:
        scores["correct"] = float(value == label)
    else:
        scores["abs_error"] = abs(value - label)
    return scores
