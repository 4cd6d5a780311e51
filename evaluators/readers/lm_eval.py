"""Reading multiple-choice predictions as submitters produce them: the official challenge CSV or lm-eval's logs.

Two formats are accepted for Mobile-MMLU:

- the official challenge CSV `question_id,predicted_answer` (what VILA-Lab's `generate_answers.py` writes, where the
  answer is the model's stripped raw text);
- an lm-evaluation-harness output folder written with `--output_path ... --log_samples`: one
  `results_<date>.json` and its `samples_<task>_<date>.jsonl` files (found at any depth, so the `--output_path`
  folder or the model sub-folder both work).

Only per-sample records are read for scoring; lm-eval's aggregate numbers are kept as provenance, never trusted.

Letter extraction from free text (`extract_letter`) is applied to the CSV's `predicted_answer` and to the raw
generations of the generative tasks; its rule is `LETTER_RULE`.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from evaluators.readers.files import csv_errors, open_predictions
from evaluators.readers.mobile_mmlu_tasks import (
    N_OPTIONS,
    TaskInfo,
    displayed_to_original,
    original_to_displayed,
    task_table,
)
from hub.core.errors import FormatError, PredictionError
from loaders.formats.text import loads_json, read_json
from loaders.mobile_mmlu import OPTION_LETTERS

LETTER_RULE = (
    "1. strip whitespace and leading '*', '(', '[' and quotes; "
    "2. a letter A-D standing alone or followed by '.', ')', ':', ']', '*', ',' or a line break is the answer "
    "(so 'B', 'B.', '(C) because ...', '**D**' are read, but 'A balanced diet' is not); "
    "3. otherwise the letter after 'answer', 'answer is' or 'option' (any case, optional colon, full-width too); "
    "4. otherwise there is no answer, and the question counts as wrong."
)
_LEADING_LETTER = re.compile(r"^([A-D])(?:$|[.):\]*,\n])")
_CUE_LETTER = re.compile(r"(?:answer(?:\s+is)?|option)\s*[:：]?\s*[(*\[]*([A-D])\b", re.IGNORECASE)
SAMPLES_NAME = re.compile(r"^samples_(?P<task>.+)_(?P<date>\d{4}-\d{2}-\d{2}T[0-9.\-]+)\.jsonl$")
RESULTS_NAME = re.compile(r"^results_(?P<date>\d{4}-\d{2}-\d{2}T[0-9.\-]+)\.json$")


def extract_letter(text: str) -> str | None:
    """The answer letter in a model's free-text reply by `LETTER_RULE`, or None."""
    stripped = text.strip().lstrip("*([\"'").strip()
    match = _LEADING_LETTER.match(stripped)
    if match:
        return match.group(1)
    cue = _CUE_LETTER.search(text)
    if cue and cue.group(1) in OPTION_LETTERS:
        return cue.group(1)
    return None


_DISPLAYED = {letter: displayed for displayed, letter in enumerate(OPTION_LETTERS)}  # letter -> its position


class Pick(msgspec.Struct, frozen=True, gc=False):
    """One presentation of one question and what the model picked there.

    `letter` is the displayed letter picked (None if no letter could be read); `rotation` 0 is the official order.
    `question`/`options` are the question text and options *in the official order* as the log recorded them (None
    for the CSV, which has no text), used to detect logs made on another revision of the dataset.

    A frozen `msgspec.Struct` rather than a dataclass: a run holds one per record (64,744 for Mobile-MMLU's four
    rotations), and a Struct is built several times faster than a frozen dataclass and pickles as compactly.
    """

    question_id: str
    rotation: int
    letter: str | None
    source: str
    task: str = ""
    question: str | None = None
    options: tuple[str, ...] | None = None

    @property
    def original_choice(self) -> int | None:
        """The index, in the official order, of the option picked."""
        if self.letter is None:
            return None
        return displayed_to_original(_DISPLAYED[self.letter], self.rotation)


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
        by_task[task_name] = _read_samples(samples_path, info, problems)
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


def _read_samples(path: Path, info: TaskInfo, problems: list[str]) -> list[Pick]:
    """One samples file; problems (bad JSON, duplicate doc ids, wrong shapes) are collected, not raised.

    The lines are those `open_predictions` reads (UTF-8, a leading BOM dropped, lines ending at LF, CR or CRLF),
    first as `_utf8_lines` gives them, with their bytes for msgspec; if it meets anything else (bytes that are not
    UTF-8, a bare CR, an unreadable file), again from the start as `_text_lines` gives them, whose errors name the
    file as for any prediction file. Each line goes through `_fast_pick` first; whatever it does not take (a
    malformed or unusual record) is parsed with `loads_json` and checked by `_pick_from_record`, which word every
    problem.
    """
    name = path.name
    for lines in (_utf8_lines(path), _text_lines(path)):
        picks: list[Pick] = []
        found: list[str] = []
        doc_ids: dict[int | str, int] = {}
        try:
            for line_no, (line, data) in enumerate(lines, start=1):
                where = f"{name} line {line_no}"
                parsed = _fast_pick(line, data, info, where)
                if parsed is None:
                    if not line or line.isspace():
                        continue
                    try:
                        record = loads_json(line)
                    except json.JSONDecodeError as err:
                        found.append(f"{where}: not JSON ({err.msg})")
                        continue
                    try:
                        parsed = _pick_from_record(record, info, where), _doc_id(record)
                    except (KeyError, TypeError, ValueError, IndexError, OverflowError) as err:
                        found.append(f"{where}: not an lm-eval sample record of task {info.name} ({err!r})")
                        continue
                pick, doc_id = parsed
                if doc_id in doc_ids:
                    found.append(f"{where}: duplicate doc_id {doc_id} (first at line {doc_ids[doc_id]})")
                    continue
                doc_ids[doc_id] = line_no
                picks.append(pick)
        except _NotPlainUtf8:
            continue  # read it again as text
        break
    problems += found
    return picks


class _NotPlainUtf8(Exception):
    """A samples file `_utf8_lines` leaves to `_text_lines`."""


def _utf8_lines(path: Path) -> Iterator[tuple[str, bytes]]:
    """Each line of `path` as text and as its UTF-8 bytes, split where a text reader splits it; `_NotPlainUtf8`
    where the bytes are not UTF-8, a CR does not end a CRLF, or the file cannot be read.

    A multi-byte UTF-8 character has no LF byte, so checking each line is checking the whole file.
    """
    try:
        with path.open("rb") as handle:
            if handle.read(len(codecs.BOM_UTF8)) != codecs.BOM_UTF8:
                handle.seek(0)
            for data in handle:
                if b"\r" in data and not (data.endswith(b"\r\n") and data.find(b"\r") == len(data) - 2):
                    raise _NotPlainUtf8  # a bare CR, where a text reader ends a line too
                yield data.decode("utf-8"), data
    except (UnicodeDecodeError, OSError):
        raise _NotPlainUtf8 from None


def _text_lines(path: Path) -> Iterator[tuple[str, bytes]]:
    """Each line of `path` as `open_predictions` reads it, as text and as its UTF-8 bytes."""
    with open_predictions(path) as handle:
        for line in handle:
            yield line, line.encode("utf-8")


class _LoggedDoc(msgspec.Struct, gc=False):
    """The fields of a record's `doc` the reader uses (the options as displayed); msgspec skips the others."""

    question_id: str
    Question: str
    A: str  # OPTION_LETTERS, one field each
    B: str
    C: str
    D: str
    rotation: int | msgspec.UnsetType = msgspec.UNSET


class _LoglikelihoodRecord(msgspec.Struct, gc=False):
    """A log-likelihood task's record as lm-eval writes it (the log-likelihoods as strings); nothing else is built."""

    doc_id: int | str
    doc: _LoggedDoc
    filtered_resps: list[list[str]]


class _GenerativeRecord(msgspec.Struct, gc=False):
    """A generative task's record as lm-eval writes it (the raw generation in `resps[0][0]`)."""

    doc_id: int | str
    doc: _LoggedDoc
    resps: list[list[str]]


_LOGLIKELIHOOD_RECORD = msgspec.json.Decoder(_LoglikelihoodRecord)
_GENERATIVE_RECORD = msgspec.json.Decoder(_GenerativeRecord)
# A line with fewer '[' and '{' than this cannot nest anywhere near Python's recursion limit, the only place where
# msgspec (which skips nesting in C) and json.loads (whose own frames count against the limit) disagree on depth.
_FAST_MAX_BRACKETS = 256


def _fast_pick(line: str, data: bytes, info: TaskInfo, where: str) -> tuple[Pick, int | str] | None:
    """The pick and doc_id of a well-formed record of the usual shape, or None to leave the line to the slow path.

    msgspec decodes the few fields the reader uses straight into typed structs and only scans the rest (the
    prompts, which are most of a record's bytes), several times faster than `json.loads`. It takes a line only where
    that gives exactly what `loads_json` + `_pick_from_record` would: msgspec refuses every JSON text `json.loads`
    refuses except integers longer than `sys.get_int_max_str_digits()` (msgspec skips them) and nesting within a few
    levels of the recursion limit, so lines that could hold either are not tried; anything msgspec refuses, a field
    of another type than lm-eval writes, or a record `_pick_from_record` would reject goes the slow way, whose
    messages stay the only ones.
    """
    if data.count(b"[") + data.count(b"{") >= _FAST_MAX_BRACKETS:
        return None
    digits = sys.get_int_max_str_digits()
    if digits and len(line) > digits and re.search(rf"\d{{{digits + 1}}}", line):
        return None
    record: _LoglikelihoodRecord | _GenerativeRecord
    try:
        if info.generative:
            record = _GENERATIVE_RECORD.decode(data)
            letter = extract_letter(record.resps[0][0])
        else:
            record = _LOGLIKELIHOOD_RECORD.decode(data)
            letter = _loglikelihood_letter(record.filtered_resps)
    except (msgspec.DecodeError, RecursionError, ValueError, IndexError):  # ValueError: also UnicodeEncodeError
        return None
    doc = record.doc
    if not info.permuted:
        rotation = 0
    elif isinstance(doc.rotation, int):
        rotation = doc.rotation
    else:
        return None
    displayed = [doc.A, doc.B, doc.C, doc.D]
    return _logged_pick(info, where, doc.question_id, doc.Question, displayed, rotation, letter), record.doc_id


def _pick_from_record(record: dict[str, Any], info: TaskInfo, where: str) -> Pick:
    """The pick of a record parsed by `json.loads`, any shape: every way it is not a sample record raises."""
    doc = record["doc"]
    if not isinstance(doc, dict):
        raise TypeError("doc is not a JSON object")
    rotation = int(doc.get("rotation", 0)) if info.permuted else 0
    if info.permuted and "rotation" not in doc:
        raise ValueError("doc has no rotation")
    displayed = [str(doc[letter]) for letter in OPTION_LETTERS]
    if info.generative:
        text = record["resps"][0][0]
        if not isinstance(text, str):
            raise TypeError("resps[0][0] is not the generated text")
        letter = extract_letter(text)
    else:
        letter = _loglikelihood_letter(record["filtered_resps"])
    return _logged_pick(info, where, str(doc["question_id"]), str(doc["Question"]), displayed, rotation, letter)


def _doc_id(record: dict[str, Any]) -> int | str:
    doc_id = record["doc_id"]
    if isinstance(doc_id, bool) or not isinstance(doc_id, int | str):
        raise TypeError(f"doc_id {doc_id!r} is not a number")
    return doc_id


def _loglikelihood_letter(resps: Sequence[Any]) -> str:
    """The displayed letter of the highest of the N_OPTIONS log-likelihoods (`filtered_resps[i][0]`)."""
    scores = [float(resp[0]) for resp in resps]
    if len(scores) != N_OPTIONS or math.inf in scores or any(map(math.isnan, scores)):  # -inf is a score
        raise ValueError(f"expected {N_OPTIONS} log-likelihoods, got {resps!r}")
    return OPTION_LETTERS[scores.index(max(scores))]  # the first of equal maxima, as lm-eval's argmax


def _logged_pick(
    info: TaskInfo, where: str, question_id: str, question: str, displayed: list[str], rotation: int, letter: str | None
) -> Pick:
    """A logged pick with its options turned back to the official order."""
    # rotations are cyclic: original option i is shown at (first + i) mod N, so the official order is a turn
    first = original_to_displayed(0, rotation)
    options = (*displayed[first:], *displayed[:first])
    return Pick(question_id, rotation, letter, where, info.name, question, options)
