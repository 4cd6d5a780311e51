"""Format detection and the single entry point `parse_file`, over the registry of every parser.

Detection never guesses: each format's detector looks for that tool's own fixed strings; if no detector or more
than one claims a file, the user is told to pass `format=` (CLI `--format`). A forced format runs that parser
alone, which fails with its own message (file and line) when the file is something else.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from pydantic import ValidationError

from hub.core.errors import FormatError
from hub.core.measurements.record import MeasurementFile
from submissions.measurements import (
    android_battery,
    executorch,
    llamacpp,
    mlperf,
    mlperf_mobile,
    monsoon,
    onnxruntime,
    perf_stat,
    perfetto,
    powermetrics,
    qai_hub,
    rapl,
    tegrastats,
    tflite,
)
from submissions.measurements.base import FormatSpec, ParseResult, Source

MOBENCH_RECORDS = "mobench-records"


def _detect_mobench(src: Source) -> bool:
    return f'"{MOBENCH_RECORDS}"' in src.text[:2000]


def _parse_mobench(src: Source) -> ParseResult:
    """mobench's own records file: already canonical, validated field by field."""
    try:
        parsed = MeasurementFile.model_validate_json(src.data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise src.error(None, f"not a valid {MOBENCH_RECORDS} file: {where}: {first['msg']}") from exc
    for index, record in enumerate(parsed.records):
        for name in ("value", "sampling_rate_hz", "window_s"):
            number = getattr(record, name)
            if number is not None and not math.isfinite(number):  # JSON's Infinity / NaN / 1e999 parse as floats
                raise src.error(
                    None, f"not a valid {MOBENCH_RECORDS} file: records.{index}.{name}: {number} is not finite"
                )
    records = [r.model_copy(update={"source_file": src.display}) for r in parsed.records]
    return ParseResult(MOBENCH_RECORDS, src.display, src.sha256, extra_records=records)


_ALL: tuple[FormatSpec, ...] = (
    FormatSpec(MOBENCH_RECORDS, "records written by mobench itself", _detect_mobench, _parse_mobench),
    *tflite.SPECS,
    *llamacpp.SPECS,
    *onnxruntime.SPECS,
    *mlperf.SPECS,
    *mlperf_mobile.SPECS,
    *qai_hub.SPECS,
    *executorch.SPECS,
    *monsoon.SPECS,
    *android_battery.SPECS,
    *perfetto.SPECS,
    *tegrastats.SPECS,
    *rapl.SPECS,
    *perf_stat.SPECS,
    *powermetrics.SPECS,
)

FORMATS: dict[str, FormatSpec] = {spec.name: spec for spec in _ALL}


def detect_format(src: Source) -> str:
    """The one format whose detector claims the file, or a FormatError saying none or several did."""
    if not src.data.strip():
        raise src.error(None, "empty file")
    claims = [spec.name for spec in _ALL if spec.detect(src)]
    if not claims:
        raise src.error(None, f"not a measurement format mobench recognises; pass --format (one of {sorted(FORMATS)})")
    if len(claims) > 1:
        raise src.error(None, f"ambiguous: looks like each of {claims}; pass --format to choose")
    return claims[0]


def parse_file(path: Path, format: str | None = None, *, display_name: str = "") -> ParseResult:
    """Parse one raw measurement file; `format` forces a parser, otherwise it is detected.

    `display_name` is what error messages and records call the file (e.g. its path inside a submission).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FormatError(display_name or path, f"cannot read the file: {exc.strerror}") from exc
    src = Source(path=path, data=data, name=display_name)
    if format is not None and format not in FORMATS:
        raise FormatError(src.display, f"unknown format {format!r}; known: {sorted(FORMATS)}")
    name = format if format is not None else detect_format(src)
    try:
        result = FORMATS[name].parse(src)
    # A value the canonical types refuse (pydantic's ValidationError is a ValueError), a row the csv module
    # refuses (a field over its size limit): the file is wrong, not the hub.
    except (ValueError, csv.Error) as exc:
        raise FormatError(src.display, f"not a valid {name} file: {exc}") from exc
    if format is not None and not FORMATS[name].detect(src):
        result.flags.append("format_forced_without_detection_match")
    return result
