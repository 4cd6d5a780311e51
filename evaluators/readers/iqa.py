"""Reading PIQ23 predictions: a CSV `IMAGE,SCORE`, one row per image of the split; the NTIRE 2024 submission kit's
`CLASS` and `CONDITION` columns may stand beside them (its `results/result_23_PIQ.csv` has IMAGE,CLASS,CONDITION,
SCORE) and are not read; any other column is refused.

Image names are normalised as the loader normalises them (`loaders.piq23.image_name`: backslashes, case of the
extension), so a submitter's paths match the release's whether they were written on Windows or not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from evaluators.readers.files import csv_errors, csv_rows, find_prediction_files, open_predictions
from hub.core.errors import PredictionError
from loaders.piq23 import image_name

PREDICTION_COLUMNS: tuple[str, str] = ("IMAGE", "SCORE")
NTIRE_KIT_COLUMNS = ("CLASS", "CONDITION")


@dataclass(frozen=True)
class PredictionRow:
    image: str
    score: float
    source: str


def read_score_csv(path: Path) -> tuple[list[PredictionRow], list[str]]:
    """Rows of a prediction CSV and every problem with a value, each naming the image and the line.

    A missing `IMAGE` or `SCORE` column fails at once; values that are empty, not numbers, NaN or infinite are
    collected so that the submitter sees all of them in one report.
    """
    rows: list[PredictionRow] = []
    problems: list[str] = []
    with open_predictions(path) as handle, csv_errors(path):
        for line, row in csv_rows(path, handle, PREDICTION_COLUMNS, NTIRE_KIT_COLUMNS):
            source = f"{path.name} line {line}"
            image = image_name((row.get("IMAGE") or "").strip())
            if not image:
                problems.append(f"{source}: empty IMAGE")
                continue
            raw = (row.get("SCORE") or "").strip()
            try:
                score = float(raw)
            except ValueError:
                score = math.nan
            if not math.isfinite(score):
                problems.append(f"image {image}: SCORE {raw!r} is not a finite number ({source})")
            rows.append(PredictionRow(image, score, source))
    return rows, problems


def prediction_file(predictions: Path) -> Path:
    """The CSV to read: `predictions` itself, or the single `*.csv` inside a submission's predictions/ folder."""
    found = find_prediction_files(predictions, "*.csv", "an IMAGE,SCORE csv")
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise PredictionError([f"{predictions}: expected exactly one IMAGE,SCORE csv, found {names}"])
    return found[0]
