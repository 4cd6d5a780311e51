"""MIDV-500 / MIDV-2019 field recognition: how a predicted text is normalised, compared and typed.

Field recognition: per field, exact match after upper-casing and mapping the letter O to the digit 0 (the
normalisation Smart Engines apply to MIDV-500 field texts), and the normalised generalised Levenshtein distance
2L / (|a| + |b| + L) of the normalised texts (Yujian & Bo, IEEE TPAMI 29(6), 2007, unit costs; 0 when both are
empty). A field missing from a frame's prediction is read as "" (wrong). Averages are over (frame, field) pairs
as the predictions give them (no per-clip voting):
- `field_accuracy`: percent of (frame, field) pairs read exactly; `field_nld`: mean NGLD over those pairs;
- `document_accuracy`: percent of frames whose every field is read exactly (mobench definition; the release's
  authors publish no document-level figure). Per field and field type it is not reported (not whole frames).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np


def normalise_field(text: str) -> str:
    """Upper-case, then the letter O becomes the digit 0 (Smart Engines' MIDV-500 field normalisation)."""
    return text.upper().replace("O", "0")


def levenshtein(a: str, b: str) -> int:
    """Unit-cost edit distance (insert, delete, substitute), one row of the dynamic programme at a time."""
    if a == b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def normalised_levenshtein(a: str, b: str) -> float:
    """Normalised generalised Levenshtein distance 2L / (|a| + |b| + L) in [0, 1] (Yujian & Bo 2007); 0 for two
    empty strings."""
    distance = levenshtein(a, b)
    total = len(a) + len(b) + distance
    return 2.0 * distance / total if total else 0.0


_DATE = re.compile(r"^\d{1,4}[./\- ]\d{1,2}[./\- ]\d{1,4}$")
_NUMERIC = re.compile(r"^[\d ./\-]+$")
_ALPHABETIC = re.compile(r"^[^\W\d_]+(?:[ '\-,.]+[^\W\d_]+)*[.,]?$")


def field_type(value: str) -> str:
    """A coarse field type read from the GT text, since the release names fields only `field01`, `field02`, ...:
    `mrz` (contains '<'), `date`, `numeric`, `alphabetic` (letters with spaces, hyphens, apostrophes) or
    `alphanumeric` (everything else). mobench definition, for the per-field-type breakdown."""
    text = value.strip()
    if "<" in text:
        return "mrz"
    if _DATE.match(text):
        return "date"
    if _NUMERIC.match(text):
        return "numeric"
    if _ALPHABETIC.match(text):
        return "alphabetic"
    return "alphanumeric"


def field_metrics(exact: Iterable[bool], distance: Iterable[float]) -> dict[str, float]:
    """`field_accuracy` (percent exact) and `field_nld` (mean NGLD) over (frame, field) pairs; NaN for none."""
    exact_a = np.fromiter(exact, dtype=bool)
    distance_a = np.fromiter(distance, dtype=np.float64)
    if exact_a.size == 0:
        return {"field_accuracy": math.nan, "field_nld": math.nan}
    return {"field_accuracy": 100.0 * float(exact_a.mean()), "field_nld": float(distance_a.mean())}
