"""Reading health-task predictions: a CSV `window_id,prediction`, or the lm-eval output of a mobench health task.

Every problem names the window and the file line: unknown, duplicate or missing window ids are matched later by
the evaluator, but a prediction that is not a number, or a CSV number outside the task's scale, is reported here.
A generated answer is read with `NUMBER_RULE` (`parse_number`), which the lm-eval task's filter uses too.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from evaluators.readers.files import csv_errors, csv_rows, find_prediction_files, open_predictions
from evaluators.readers.lm_eval import LmEvalRun, find_lm_eval_run, is_lm_eval_output
from hub.core.errors import PredictionError
from hub.core.registry import HealthTask
from loaders.formats.text import loads_json

NUMBER_RULE = (
    "1. the number after 'level is', 'score is', 'index is' or 'Answer:' (any case; the answer templates of "
    "Health-LLM and its zero-shot format prompt), else 2. a number at the very start of the stripped text; "
    "a number outside the task's scale counts as no answer; "
    "3. otherwise there is no answer (scored as the worst answer on the scale)."
)
_NUMBER = r"([-+]?\d+(?:\.\d+)?)"
_CUED = re.compile(r"(?:level is|score is|index is|answer\s*[:：])\s*\**\s*" + _NUMBER, re.IGNORECASE)
_LEADING = re.compile(r"^\**\s*" + _NUMBER + r"(?![\d.]*\d)")


def parse_number(text: str, task: HealthTask) -> float | None:
    """The predicted value in a model's free text by `NUMBER_RULE`, or None."""
    cued = _CUED.search(text)
    match = cued or _LEADING.match(text.strip())
    if match is None:
        return None
    value = float(match.group(1))
    return value if _on_scale(value, task) else None


def _on_scale(value: float, task: HealthTask) -> bool:
    if task.classes:
        return value in task.classes
    return task.low <= value <= task.high


@dataclass(frozen=True)
class HealthPrediction:
    window_id: str
    value: float | None  # None: no answer could be read from generated text
    source: str


@dataclass
class Submitted:
    form: str  # "csv" or "lm-eval generative"
    predictions: list[HealthPrediction]
    problems: list[str]
    run: LmEvalRun | None = None
    logged_questions: dict[str, str] | None = None


def read_predictions(path: Path, task: HealthTask) -> Submitted:
    """The CSV, or a folder holding either one lm-eval run or exactly one CSV (a submission's `predictions/`);
    problems are collected, not raised."""
    if path.is_dir() and is_lm_eval_output(path):
        return read_lm_eval_folder(path, task)
    csvs = find_prediction_files(path, "**/*.csv", "window_id,prediction CSV or lm-eval output")
    if len(csvs) != 1:
        found = ", ".join(str(p.relative_to(path)) for p in csvs) or "none"
        raise PredictionError(
            [
                f"{path}: expected one window_id,prediction CSV or one lm-eval run (results_<date>.json), "
                f"found CSV files: {found}"
            ]
        )
    return read_csv(csvs[0], task)


def read_csv(path: Path, task: HealthTask) -> Submitted:
    """Rows of `window_id,prediction`; a prediction must be a finite number on the task's scale."""
    problems: list[str] = []
    predictions: list[HealthPrediction] = []
    with open_predictions(path) as handle, csv_errors(path):
        for line, row in csv_rows(path, handle, ("window_id", "prediction")):
            where = f"{path.name} line {line}"
            window_id = (row.get("window_id") or "").strip()
            text = (row.get("prediction") or "").strip()
            if not window_id:
                problems.append(f"{where}: empty window_id")
                continue
            try:
                value = float(text)
            except ValueError:
                problems.append(f"window {window_id}: prediction {text!r} is not a number ({where})")
                continue
            if not math.isfinite(value):
                problems.append(f"window {window_id}: prediction {text!r} is not a finite number ({where})")
            elif not _on_scale(value, task):
                scale = "0 or 1" if task.classes else f"within {task.low:g}-{task.high:g}"
                problems.append(f"window {window_id}: prediction {text} is not {scale} ({where})")
            else:
                predictions.append(HealthPrediction(window_id, value, where))
    return Submitted("csv", predictions, problems)


def read_lm_eval_folder(folder: Path, task: HealthTask) -> Submitted:
    """The generations of one lm-eval run of the task's mobench lm-eval task (`samples_<task>_<date>.jsonl`)."""
    run_files = find_lm_eval_run(folder)
    problems: list[str] = list(run_files.problems)
    predictions: list[HealthPrediction] = []
    questions: dict[str, str] = {}
    found_task = False
    for task_name, samples_path in run_files.samples:
        if task_name != task.lm_eval_task:
            problems.append(
                f"{samples_path.name}: not a samples file of task {task.lm_eval_task} from the run "
                f"{run_files.results_path.name}"
            )
            continue
        found_task = True
        with open_predictions(samples_path) as handle:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                where = f"{samples_path.name} line {line_no}"
                try:
                    record = loads_json(line)
                    doc = record["doc"]
                    window_id = str(doc["id"])
                    text = record["resps"][0][0]
                    if not isinstance(text, str):
                        raise TypeError("resps[0][0] is not the generated text")
                except (json.JSONDecodeError, KeyError, TypeError, IndexError) as err:
                    problems.append(f"{where}: not an lm-eval sample record of task {task.lm_eval_task} ({err!r})")
                    continue
                questions[window_id] = str(doc.get("question", ""))
                predictions.append(HealthPrediction(window_id, parse_number(text, task), where))
    if not found_task and not problems:
        problems.append(f"{folder}: no samples_{task.lm_eval_task}_*.jsonl: run lm_eval with --log_samples")
    run = LmEvalRun.from_results(run_files.results_path, run_files.results, [str(task.lm_eval_task)])
    return Submitted("lm-eval generative", predictions, problems, run, questions)
