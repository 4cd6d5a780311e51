"""Reading MIDV-500 / MIDV-2019 predictions: JSONL, one object per frame, and writing them (for the baselines).

`{"id": "midv500/01_alb_id/CA/CA01_01", "quad": [[x, y] x 4] | null}` for localisation,
`{"id": ..., "fields": {"field01": "text", ...}}` for fields. Every problem names the file and line; a quad that
is not 4 finite corners, self-intersects or has three corners on one line is rejected here, before any metric.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from evaluators.readers.files import find_prediction_files, open_predictions
from hub.core.errors import PredictionError
from loaders.formats.text import loads_json
from loaders.midv_annotations import has_collinear_corners

FloatArray = NDArray[np.float64]
MAX_COORDINATE = 1e7  # px; frames are a few thousand px wide, and corners a little outside them are fine


@dataclass(frozen=True)
class PredictionLine:
    sample_id: str
    source: str
    value: Any


def prediction_files(predictions: Path) -> list[Path]:
    """The JSONL files to read: the path itself, or every `*.jsonl` under a predictions folder."""
    expected = "a .jsonl file or a folder holding .jsonl files"
    files = find_prediction_files(predictions, "**/*.jsonl", expected)
    if not files:
        raise PredictionError([f"{predictions}: no predictions: expected {expected}"])
    return files


def read_prediction_lines(predictions: Path, key: str) -> tuple[list[PredictionLine], list[str]]:
    """Every `{"id": ..., key: ...}` line, and a problem (naming file and line) for every line that is not one."""
    lines: list[PredictionLine] = []
    problems: list[str] = []
    for path in prediction_files(predictions):
        label = path.name
        with open_predictions(path) as handle:
            for number, text in enumerate(handle, 1):
                if not text.strip():
                    continue
                where = f"{label} line {number}"
                try:
                    record = loads_json(text)
                except json.JSONDecodeError as error:
                    problems.append(f"{where}: not valid JSON ({error.msg})")
                    continue
                if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                    problems.append(f'{where}: expected an object {{"id": "<frame id>", "{key}": ...}}')
                    continue
                if key not in record:
                    problems.append(f"sample {record['id']}: {where}: no {key!r}")
                    continue
                lines.append(PredictionLine(record["id"], where, record[key]))
    return lines, problems


def _preview(raw: Any) -> str:
    """The start of a value as JSON, for a problem line (a value nested too deeply for json.dumps is not shown)."""
    try:
        return json.dumps(raw)[:80]
    except RecursionError:
        return "a value nested too deeply to show"


def parse_quad(raw: Any) -> FloatArray | str | None:
    """A predicted quad as (4, 2) float64, None for `null`, or a problem description."""
    if raw is None:
        return None
    if (
        not isinstance(raw, list)
        or len(raw) != 4
        or not all(isinstance(c, list) and len(c) == 2 for c in raw)
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for c in raw for v in c)
    ):
        return f"quad must be null or 4 [x, y] number pairs, got {_preview(raw)}"
    try:
        quad = np.asarray(raw, dtype=np.float64)
    except OverflowError:  # an integer beyond float range, e.g. 10**400
        return "quad has a coordinate too large to be a float"
    if not np.isfinite(quad).all():
        return "quad has a non-finite coordinate"
    if np.abs(quad).max() > MAX_COORDINATE:  # overflows the geometry (squared extents) long before it means anything
        return f"quad has a coordinate beyond ±{MAX_COORDINATE:g} px"
    if has_collinear_corners(quad):
        return "quad has three corners on one line (degenerate; write null if no document was found)"
    if not shapely.Polygon(quad).is_valid:
        return "quad is self-intersecting (corners must go round the document in order)"
    return quad


def write_jsonl(path: Path, records: Iterable[Mapping[str, Any]]) -> Path:
    """Write prediction records one JSON object per line (what the baselines submit)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path
