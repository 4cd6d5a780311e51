"""One lm-evaluation-harness `samples_<task>_<date>.jsonl` file (written with `--log_samples`) read into `Pick`s.

Each line is parsed with `json.loads` (`loaders.formats.text.loads_json`). A msgspec decoder of the few fields the
reader uses was tried and measured with `mobench bench mobile-mmlu` (16,186 questions x 4 rotations = 64,744 records,
0.2 GB): the whole scoring took 0.70 s with it and 1.14 s without, 0.44 s saved, under the 1 s that would justify a
second parser and the guards keeping it in agreement with this one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evaluators.readers.files import open_predictions
from evaluators.readers.mobile_mmlu_tasks import N_OPTIONS, TaskInfo, original_to_displayed
from evaluators.readers.picks import Pick, extract_letter
from loaders.formats.text import loads_json
from loaders.mobile_mmlu import OPTION_LETTERS


def read_samples(path: Path, info: TaskInfo, problems: list[str]) -> list[Pick]:
    """One samples file; problems (bad JSON, duplicate doc ids, wrong shapes) are collected, not raised.

    The lines are those `open_predictions` reads (UTF-8, a leading BOM dropped, lines ending at LF, CR or CRLF; an
    unreadable or non-UTF-8 file is a `PredictionError` naming it); blank lines are skipped.
    """
    name = path.name
    picks: list[Pick] = []
    doc_ids: dict[int | str, int] = {}
    with open_predictions(path) as handle:
        for line_no, line in enumerate(handle, start=1):
            if line.isspace():
                continue
            where = f"{name} line {line_no}"
            try:
                record = loads_json(line)
            except json.JSONDecodeError as err:
                problems.append(f"{where}: not JSON ({err.msg})")
                continue
            try:
                pick, doc_id = _pick_from_record(record, info, where), _doc_id(record)
            except (KeyError, TypeError, ValueError, IndexError, OverflowError) as err:
                problems.append(f"{where}: not an lm-eval sample record of task {info.name} ({err!r})")
                continue
            if doc_id in doc_ids:
                problems.append(f"{where}: duplicate doc_id {doc_id} (first at line {doc_ids[doc_id]})")
                continue
            doc_ids[doc_id] = line_no
            picks.append(pick)
    return picks


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
