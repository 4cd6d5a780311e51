"""Reading multiple-choice predictions as submitters produce them: the official challenge CSV or lm-eval's logs.

Two formats are accepted for Mobile-MMLU:

- the official challenge CSV `question_id,predicted_answer` (what VILA-Lab's `generate_answers.py` writes, where the
  answer is the model's stripped raw text);
- an lm-evaluation-harness output folder written with `--output_path ... --log_samples`: one
  `results_<date>.json` and its `samples_<task>_<date>.jsonl` files (found at any depth, so the `--output_path`
  folder or the model sub-folder both work).

Only per-sample records are read for scoring; lm-eval's aggregate numbers are kept as provenance, never trusted.

Letter extraction from free text (`extract_letter`, in `evaluators.readers.picks`) is applied to the CSV's
`predicted_answer` and to the raw generations of the generative tasks; its rule is `LETTER_RULE`. One samples file
is read by `evaluators.readers.lm_eval_samples`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluators.readers.files import csv_errors
from evaluators.readers.lm_eval_samples import read_samples
from evaluators.readers.mobile_mmlu_tasks import task_table
from evaluators.readers.picks import LETTER_RULE, Pick, extract_letter
from hub.core.errors import FormatError, PredictionError
from loaders.formats.text import read_json

__all__ = ["LETTER_RULE", "Pick", "extract_letter"]  # importable from here too: the picks every reader here returns

SAMPLES_NAME = re.compile(r"^samples_(?P<task>.+)_(?P<date>\d{4}-\d{2}-\d{2}T[0-9.\-]+)\.jsonl$")
RESULTS_NAME = re.compile(r"^results_(?P<date>\d{4}-\d{2}-\d{2}T[0-9.\-]+)\.json$")


def _object(value: Any) -> dict[str, Any]:
    """A JSON object of an lm-eval log, or {} where the log has something else (it is provenance only)."""
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class LmEvalRun:
    """Provenance of an lm-eval run, from its results JSON."""

    results_file: str
    lm_eval_version: str | None
    model: str | None
    model_args: Any
    git_hash: str | None
    date: Any
    tasks: list[str]
    reported: dict[str, dict[str, Any]]

    @classmethod
    def from_results(cls, results_path: Path, results: dict[str, Any], tasks: list[str]) -> LmEvalRun:
        config = _object(results.get("config"))
        reported = _object(results.get("results"))
        return cls(
            results_file=str(results_path),
            lm_eval_version=results.get("lm_eval_version"),
            model=config.get("model"),
            model_args=config.get("model_args"),
            git_hash=results.get("git_hash"),
            date=results.get("date"),
            tasks=tasks,
            reported={name: _object(reported.get(name)) for name in tasks},
        )

    def as_details(self) -> dict[str, Any]:
        return {
            "results_file": self.results_file,
            "lm_eval_version": self.lm_eval_version,
            "model": self.model,
            "model_args": self.model_args,
            "git_hash": self.git_hash,
            "date": self.date,
            "tasks": self.tasks,
            # lm-eval's own aggregate, for reference only: mobench re-scores from the samples
            "lm_eval_reported": self.reported,
        }


@dataclass
class SubmittedPicks:
    """Everything read from one submission: official-order picks and, if a `*_perm` task ran, all rotations.

    When no official-order task ran beside the `*_perm` one, `original` holds the very rotation-0 picks of
    `permuted` (`original_in_permuted`), so `logged` gives every pick read once.
    """

    form: str  # "official-csv", "loglikelihood" or "generative"
    original: list[Pick]
    permuted: list[Pick] = field(default_factory=list)
    run: LmEvalRun | None = None
    original_in_permuted: bool = False

    def logged(self) -> list[Pick]:
        """Every pick read, each once."""
        return self.permuted if self.original_in_permuted else [*self.original, *self.permuted]


def read_predictions(path: Path, subset: str) -> SubmittedPicks:
    """The official CSV (a file) or an lm-eval output folder (a directory), for the tasks of `subset`."""
    if path.is_dir():
        return read_lm_eval_output(path, subset)
    if path.is_file():
        return SubmittedPicks(form="official-csv", original=read_official_csv(path))
    raise PredictionError([f"{path}: no such file or folder (expected the official CSV or an lm-eval output folder)"])


def read_official_csv(path: Path) -> list[Pick]:
    """Rows of `question_id,predicted_answer`; the answer goes through `extract_letter`."""
    problems: list[str] = []
    picks: list[Pick] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle, csv_errors(path):
            reader = csv.DictReader(handle)
            header = [name.strip() for name in reader.fieldnames or []]
            if header[:2] != ["question_id", "predicted_answer"]:
                raise PredictionError(
                    [f"{path}: header is {','.join(header)!r}; expected 'question_id,predicted_answer'"]
                )
            for row in reader:
                qid = (row.get("question_id") or "").strip()
                where = f"{path.name} line {reader.line_num}"
                if not qid:
                    problems.append(f"{where}: empty question_id")
                    continue
                answer = row.get("predicted_answer") or ""
                picks.append(Pick(qid, 0, extract_letter(answer), where))
    except UnicodeDecodeError as err:
        raise PredictionError([f"{path}: not UTF-8 text ({err})"]) from None
    if problems:
        raise PredictionError(problems)
    return picks


def is_lm_eval_output(folder: Path) -> bool:
    return any(RESULTS_NAME.match(p.name) for p in folder.rglob("results_*.json"))


@dataclass(frozen=True)
class LmEvalOutput:
    """The files of one lm-eval run: its results JSON and the samples files written in the same run."""

    results_path: Path
    results: dict[str, Any]
    samples: list[tuple[str, Path]]  # (task name, samples file)
    problems: list[str]  # samples files misnamed or from another run


def find_lm_eval_run(folder: Path) -> LmEvalOutput:
    """Exactly one `results_<date>.json` and the `samples_<task>_<date>.jsonl` files of that same run."""
    results_files = sorted(p for p in folder.rglob("results_*.json") if RESULTS_NAME.match(p.name))
    if len(results_files) != 1:
        found = ", ".join(str(p.relative_to(folder)) for p in results_files) or "none"
        raise PredictionError(
            [f"{folder}: expected the output of exactly one lm-eval run (one results_<date>.json), found {found}"]
        )
    results_path = results_files[0]
    date_id = RESULTS_NAME.match(results_path.name).group("date")  # type: ignore[union-attr]
    try:
        results = read_json(results_path)
    except FormatError as err:
        raise PredictionError([str(err)]) from None
    if not isinstance(results, dict):
        raise PredictionError([f"{results_path}: not an lm-eval results file (a JSON object)"])
    samples: list[tuple[str, Path]] = []
    problems: list[str] = []
    for samples_path in sorted(folder.rglob("samples_*.jsonl")):
        match = SAMPLES_NAME.match(samples_path.name)
        if match is None:
            problems.append(f"{samples_path.name}: not named samples_<task>_<date>.jsonl")
        elif match.group("date") != date_id:
            problems.append(f"{samples_path.name}: from another run than {results_path.name}")
        else:
            samples.append((match.group("task"), samples_path))
    return LmEvalOutput(results_path, results, samples, problems)


def read_lm_eval_output(folder: Path, subset: str) -> SubmittedPicks:
    """Picks from the `samples_*.jsonl` of one lm-eval run of the `subset` tasks (see the module docstring)."""
    run_files = find_lm_eval_run(folder)
    results_path, results = run_files.results_path, run_files.results
    table = task_table(subset)
    problems: list[str] = list(run_files.problems)
    by_task: dict[str, list[Pick]] = {}
    for task_name, samples_path in run_files.samples:
        info = table.get(task_name)
        if info is None:
            problems.append(
                f"{samples_path.name}: task {task_name!r} is not a {subset} task "
                f"(expected one of {', '.join(sorted(table)[:6])}, ...)"
            )
            continue
        by_task[task_name] = read_samples(samples_path, info, problems)
        expected_n = _object(_object(results.get("n-samples")).get(task_name)).get("effective")
        if isinstance(expected_n, int) and expected_n != len(by_task[task_name]):
            problems.append(
                f"{samples_path.name}: {len(by_task[task_name])} records but the results JSON counts {expected_n}"
            )
    if not by_task and not problems:
        problems.append(f"{folder}: no samples_*.jsonl files: run lm_eval with --log_samples")
    forms = {table[name].generative for name in by_task}
    if len(forms) > 1:
        problems.append(
            f"{folder}: holds both generative and log-likelihood tasks ({', '.join(sorted(by_task))}); "
            "submit one form per submission"
        )
    if problems:
        raise PredictionError(problems)
    original = [p for name, picks in by_task.items() if not table[name].permuted for p in picks]
    permuted = [p for name, picks in by_task.items() if table[name].permuted for p in picks]
    original_in_permuted = not original
    if original_in_permuted:
        # rotation 0 of the permuted task is the official order
        original = [p for p in permuted if p.rotation == 0]
    run = LmEvalRun.from_results(results_path, results, sorted(by_task))
    return SubmittedPicks(
        form="generative" if forms == {True} else "loglikelihood",
        original=original,
        permuted=permuted,
        run=run,
        original_in_permuted=original_in_permuted,
    )
