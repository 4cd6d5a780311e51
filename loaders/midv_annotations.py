"""What MIDV-500 / MIDV-2019 annotations hold, read as released: document templates, frames, quads, fields.

Quads stay exactly as released (corners may lie outside the frame); the geometry helpers say how much of a quad
lies inside the frame, for the published subsets, and whether it is degenerate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import NDArray
from PIL import Image

from hub.core.errors import DatasetLayoutError, FormatError

TEMPLATE_NAME = re.compile(r"^(\d{2})_([a-z0-9]+)_([a-z0-9_]+)\.tif$")
VARIANTS = ("new", "old")

# The published subsets, as filters on the released quad (README of SmartEngines/hough_document_localization,
# runlists_midv500/): corners counted inside the closed frame rectangle [0, W] x [0, H].
SUBSETS = ("four-corners-in-frame", "three-corners-in-frame", "area-in-frame-90")


@dataclass(frozen=True)
class Field:
    value: str
    quad: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Document:
    """One document type: its template and its field annotations (in template pixels)."""

    name: str
    number: str
    country: str
    document_type: str
    template_path: Path
    width: int
    height: int
    fields: dict[str, Field]


@dataclass(frozen=True)
class Frame:
    """One annotated video frame; `quad` is the released GT quad, clockwise from the document's top-left."""

    sample_id: str
    document: str
    clip: str
    condition: str
    phone: str
    frame_index: int
    image_path: Path
    quad: NDArray[np.float64]
    image_width: int
    image_height: int

    @property
    def corners_in_frame(self) -> int:
        return corners_in_frame(self.quad, self.image_width, self.image_height)

    @property
    def area_in_frame(self) -> float:
        return area_in_frame(self.quad, self.image_width, self.image_height)

    @property
    def subsets(self) -> list[str]:
        """The published subsets this frame belongs to (see `SUBSETS`)."""
        corners = self.corners_in_frame
        member = {
            "four-corners-in-frame": corners == 4,
            "three-corners-in-frame": corners >= 3,
            "area-in-frame-90": self.area_in_frame >= 0.9,
        }
        return [name for name in SUBSETS if member[name]]


def corners_in_frame(quad: NDArray[np.float64], width: int, height: int) -> int:
    """How many quad corners lie in the closed frame rectangle [0, W] x [0, H].

    The authors' `four_vertices_in_frame` runlist uses the rectangle "engorged by a small value eps"; with integer
    GT corners a closed rectangle is the same test.
    """
    x, y = quad[:, 0], quad[:, 1]
    return int(np.count_nonzero((x >= 0) & (x <= width) & (y >= 0) & (y <= height)))


def area_in_frame(quad: NDArray[np.float64], width: int, height: int) -> float:
    """Share of the document's (image-plane) area inside the frame, 0..1; the authors' 90 % subset filters on it."""
    document = shapely.Polygon(quad)
    if not document.is_valid or document.area == 0:
        return 0.0
    return float(shapely.intersection(document, shapely.box(0, 0, width, height)).area / document.area)


def parse_document_name(name: str) -> tuple[str, str, str]:
    """`02_aut_drvlic_new` -> ("02", "aut", "drvlic"): number, country code, type (the new/old variant dropped)."""
    match = TEMPLATE_NAME.match(f"{name}.tif")
    if match is None:
        raise DatasetLayoutError(f"{name!r} is not a MIDV document name like '01_alb_id' or '02_aut_drvlic_new'")
    number, country, rest = match.groups()
    parts = rest.split("_")
    if len(parts) > 1 and parts[-1] in VARIANTS:
        parts = parts[:-1]
    return number, country, "_".join(parts)


def read_quad(path: Path, raw: object) -> NDArray[np.float64]:
    """A GT quad as (4, 2) float64, checked: four finite corners, no three on one line (else no homography)."""
    try:
        quad = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        raise FormatError(path, f"quad {raw!r} is not a list of 4 [x, y] pairs") from None
    if quad.shape != (4, 2) or not np.isfinite(quad).all():
        raise FormatError(path, f"quad {raw!r} is not a list of 4 finite [x, y] pairs")
    if has_collinear_corners(quad):
        raise FormatError(path, f"quad {raw!r} has three corners on one line (degenerate)")
    return quad


def has_collinear_corners(quad: NDArray[np.float64]) -> bool:
    """True if some three of the four corners are collinear (relative to the quad's size)."""
    a, b, c = quad, np.roll(quad, -1, axis=0), np.roll(quad, -2, axis=0)
    cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - b[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - b[:, 0])
    scale = float(np.ptp(quad, axis=0).max()) ** 2
    return bool(scale == 0 or (np.abs(cross) <= 1e-12 * scale).any())


def read_rgb(path: Path) -> NDArray[np.uint8]:
    """A TIFF frame or template as (H, W, 3) uint8 RGB."""
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except OSError as error:
        raise FormatError(path, f"not a readable image ({error})") from None


def image_size(path: Path) -> tuple[int, int]:
    try:
        with Image.open(path) as image:
            return image.size
    except OSError as error:
        raise FormatError(path, f"not a readable image ({error})") from None
