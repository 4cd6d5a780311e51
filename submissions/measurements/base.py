"""What every measurement-log parser shares: the input it reads, the result it returns, and honest statistics.

A parser gets a `Source` (the raw bytes, their sha256 and the text) and returns a `ParseResult` holding
`MeasurementReport`s (figures with their protocol and provenance) and/or `PowerTrace`s (raw power or energy
samples for `evaluators.efficiency` to integrate). Every error is a `hub.core.errors.FormatError` naming the file and,
for line-based formats, the line number; JSON formats name the JSON path of the offending value.

Parsing policy, the same for every tool:
- lines that *look like* a line the parser knows (same label) but do not parse are errors, never skipped;
- lines that are not part of the tool's output grammar (delegate chatter, generated text, other tools' logs in
  the same capture) are ignored, and the count of ignored lines is recorded as a validation flag;
- every heuristic (unit guessed from magnitude, sign flipped, samples re-timed...) is recorded as a flag.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hub.core.errors import FormatError
from hub.core.measurements.record import MeasurementRecord
from hub.core.measurements.report import LatencyStats, MeasurementReport, ProvenanceInfo, RawArtifact
from hub.core.measurements.statistics import nearest_rank_percentile
from hub.core.measurements.trace import FloatArray, PowerTrace
from loaders.formats.text import loads_json

PARSER_VERSION = "1.0.0"

# a float as C/C++ streams and Python print it: 12, -3.5, 2.95034e+06, .5
FLOAT = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"

# below this many measured samples p95/p99 are just the largest samples (research notes §9), so they are omitted
MIN_SAMPLES_FOR_TAIL = 100


@dataclass(frozen=True)
class Source:
    """One raw measurement file as read from disk (the bytes are hashed once, before any decoding)."""

    path: Path
    data: bytes
    name: str = ""

    @property
    def display(self) -> str:
        return self.name or str(self.path)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def text(self) -> str:
        try:
            return self.data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = self.data[: exc.start].count(b"\n") + 1
            raise FormatError(self.display, f"line {line}: not UTF-8 text ({exc.reason})") from exc

    def lines(self) -> list[tuple[int, str]]:
        """(1-based line number, line without its line ending)."""
        return list(enumerate(self.text.splitlines(), start=1))

    def error(self, line: int | None, problem: str) -> FormatError:
        where = f"line {line}: " if line is not None else ""
        return FormatError(self.display, where + problem)

    def json(self) -> Any:
        try:
            return loads_json(self.text)
        except json.JSONDecodeError as exc:
            raise self.error(exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})") from exc


@dataclass
class ParseResult:
    """What one file yielded: reports (figures), traces (raw power/energy) and records that come ready-made."""

    format: str
    source_file: str
    sha256: str
    reports: list[MeasurementReport] = field(default_factory=list)
    traces: list[PowerTrace] = field(default_factory=list)
    extra_records: list[MeasurementRecord] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    parser_version: str = PARSER_VERSION
    # what the log carries that mobench has no field for, kept as read ("<where>.<key>" -> value): never a reason
    # to refuse the file
    extras: dict[str, str | int | float | bool | None] = field(default_factory=dict)

    def records(self) -> list[MeasurementRecord]:
        """Every figure as a flat store row (reports flattened, then ready-made records)."""
        return [r for report in self.reports for r in report.records()] + list(self.extra_records)

    def to_json(self, *, include_samples: bool = True, indent: int | None = 2) -> str:
        """The canonical JSON (SI units) the CLI prints with `--json`."""
        doc = {
            "format": self.format,
            "parser": self.format,
            "parser_version": self.parser_version,
            "source_file": self.source_file,
            "sha256": self.sha256,
            "flags": self.flags,
            "extras": self.extras,
            "reports": [r.model_dump(mode="json", exclude_none=True) for r in self.reports],
            "traces": [t.to_json(include_samples=include_samples) for t in self.traces],
            "records": [r.model_dump(mode="json") for r in self.records()],
        }
        return json.dumps(doc, indent=indent)


@dataclass(frozen=True)
class Verified:
    """One tool version and output form a parser was checked against, and on what evidence: a real log of the
    shared corpus (read in tests/test_real_corpus*.py), the tool's own source (its printer), or mobench's own
    fixture written in that form (tests/fixtures/measurement_logs.py)."""

    versions: str
    form: str
    evidence: str


@dataclass(frozen=True)
class FormatSpec:
    """A format the hub can read: its name, how to recognise it cheaply, its parser, and what it was verified on."""

    name: str
    description: str
    detect: Callable[[Source], bool]
    parse: Callable[[Source], ParseResult]
    verified: tuple[Verified, ...] = ()


def provenance(src: Source, fmt: str, flags: Sequence[str], *, original_text: str = "", **units: str) -> ProvenanceInfo:
    """The provenance block every parser attaches: raw file hash, parser name and version, flags."""
    return ProvenanceInfo(
        raw_artifacts=[RawArtifact(kind=fmt, sha256=src.sha256, uri=src.display)],
        parser=fmt,
        parser_version=PARSER_VERSION,
        original_units=dict(units),
        validation_flags=list(flags),
        original_text=original_text,
    )


def to_float(src: Source, line: int | None, text: str, what: str) -> float:
    """A finite float or a FormatError naming the field and where it was."""
    try:
        value = float(text)
    except ValueError:
        raise src.error(line, f"{what}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise src.error(line, f"{what}: {text!r} is not finite")
    return value


def to_duration(src: Source, line: int | None, text: str, what: str, line_text: str = "") -> float:
    """A time or latency as printed: finite and not negative, or a FormatError naming the file, the line and (given
    `line_text`) the line's text. A negative time is a broken timer or an edited log, never a figure."""
    where = f"{what} in {line_text.strip()!r}" if line_text else what
    value = to_float(src, line, text, where)
    if value < 0:
        raise src.error(line, f"{where}: {text!r} is negative, not a time")
    return value


def json_opt_float(src: Source, obj: dict[str, Any], key: str, where: str) -> float | None:
    """A numeric JSON field (bools are not numbers), None when absent or null."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise src.error(None, f"{where}.{key}: expected a number, got {value!r}")
    return float(value)


def json_float(src: Source, obj: dict[str, Any], key: str, where: str) -> float:
    """A required numeric JSON field."""
    value = json_opt_float(src, obj, key, where)
    if value is None:
        raise src.error(None, f"{where}.{key}: missing")
    return value


def json_object(src: Source, value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise src.error(None, f"{where}: expected a JSON object, got {type(value).__name__}")
    return value


def count_flag(flags: list[str], label: str, count: int) -> None:
    """Record how many lines were set aside (never silently)."""
    if count:
        flags.append(f"{label}:{count}")


def latency_from_samples(samples_s: Sequence[float], **extra: float | None) -> LatencyStats:
    """Statistics recomputed from raw per-run latencies (warm-up already excluded).

    Mean, sample standard deviation (n - 1; 0 for one sample), min, max and nearest-rank percentiles
    (`hub.core.measurements.statistics.nearest_rank_percentile`, so a percentile is a latency that was observed).
    p95/p99 only with at least 100 samples, where they are more than the largest few samples.
    """
    if not samples_s:
        raise ValueError("no latency samples")
    values = [float(s) for s in samples_s]
    n = len(values)
    mean, std = mean_and_sample_std(values)
    tail = n >= MIN_SAMPLES_FOR_TAIL
    return LatencyStats(
        samples_s=values,
        n=n,
        mean_s=mean,
        std_s=std,
        min_s=min(values),
        max_s=max(values),
        p50_s=nearest_rank_percentile(values, 50),
        p90_s=nearest_rank_percentile(values, 90),
        p95_s=nearest_rank_percentile(values, 95) if tail else None,
        p99_s=nearest_rank_percentile(values, 99) if tail else None,
        stats_source="computed_from_samples",
        **extra,  # type: ignore[arg-type]
    )


def mean_and_sample_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (n - 1), 0 for a single value (as llama-bench does)."""
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, std


def retime_repeated_stamps(t: FloatArray) -> tuple[FloatArray, bool]:
    """Spread samples that share one timestamp evenly up to the next distinct stamp.

    Loggers that stamp once per packet (PyMonsoon: once per USB packet) give runs of equal stamps; integrating
    with diff(t) would give those samples zero width and the whole gap to one sample (research notes §7.1, §10).
    Samples of the last run get the median spacing of the other runs. Returns (times, whether anything moved).
    """
    if t.size < 2 or np.all(np.diff(t) > 0):
        return t, False
    starts = np.flatnonzero(np.concatenate(([True], np.diff(t) > 0)))
    ends = np.concatenate((starts[1:], [t.size]))
    out = t.astype(np.float64, copy=True)
    spacings = [(t[ends[i]] - t[starts[i]]) / (ends[i] - starts[i]) for i in range(len(starts) - 1)]
    last_dt = float(np.median(spacings)) if spacings else 0.0
    for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
        dt = spacings[i] if i < len(spacings) else last_dt
        out[a:b] = t[a] + dt * np.arange(b - a)
    return out, True


def first_match(pattern: re.Pattern[str], lines: Sequence[tuple[int, str]]) -> tuple[int, re.Match[str]] | None:
    for number, line in lines:
        m = pattern.search(line)
        if m:
            return number, m
    return None
