"""One lm-evaluation-harness `samples_<task>_<date>.jsonl` file (written with `--log_samples`) read into `Pick`s.

A fast path decodes the few fields the reader uses with msgspec; every line it does not take exactly as `json.loads`
would is parsed by the slow path, whose messages are the only ones (`read_samples` says how the two share the work).
"""

from __future__ import annotations

import codecs
import json
import math
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec

from evaluators.readers.files import open_predictions
from evaluators.readers.mobile_mmlu_tasks import N_OPTIONS, TaskInfo, original_to_displayed
from evaluators.readers.picks import Pick, extract_letter
from loaders.formats.text import loads_json
from loaders.mobile_mmlu import OPTION_LETTERS


def read_samples(path: Path, info: TaskInfo, problems: list[str]) -> list[Pick]:
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
