"""SPAQ (Fang et al., CVPR 2020): 11,125 smartphone photos from 66 phones, each with a mean opinion score (MOS, 0-100),
five attribute scores, EXIF tags and scene category labels, as the authors ship it (github.com/h4nwei/SPAQ; the
facts and their sources: hub/benchmarks/notes/spaq.md).

- the annotations are three Excel workbooks, read from their first sheet with openpyxl: a header row, then one row
  per image keyed by `Image name` (`00001.jpg`); the EXIF workbook heads its last two columns with one `Time` cell
  (pandas calls the second `Unnamed: 8`), so they become `time_1` and `time_2`;
- MOS and the attribute scores lie in [0, 100], scene weights in [0, 1] (an image with k categories has 1/k in
  each); a value outside, a missing or non-numeric cell, a repeated image, or an EXIF or scene row for an image the
  MOS workbook lacks (or the reverse) is refused naming the workbook, its row and column;
- no split file is published (the paper samples 80 % of the images at random for training, the rest for testing),
  so **mobench fixes the splits**, and keeps them stable across versions: an image is in `test` when the first 8
  bytes of sha256("2020:<Image name>") (big-endian) fall below a fifth of their range, in `train` otherwise
  (`split_of`; SPLIT_SEED 2020). It depends on the name alone, never on a list order or an RNG, so adding,
  dropping or reordering rows moves no other image; the share is about 20 %, not exactly.

Licence: educational and research use only (the release's Readme.txt), so mobench ships none of it.
"""

from __future__ import annotations

import hashlib
import math
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from io import BytesIO
from pathlib import Path
from typing import Any

import datasets
import openpyxl
from openpyxl.utils.exceptions import InvalidFileException
from PIL import Image, UnidentifiedImageError

from hub.core.errors import DatasetLayoutError, FormatError
from loaders.base import DatasetLoader

ANNOTATIONS = "Annotations"
IMAGE_FOLDER = "TestImage"
MOS_FILE = "MOS and Image attribute scores.xlsx"
EXIF_FILE = "EXIF_tags.xlsx"
SCENE_FILE = "Scene category labels.xlsx"
IMAGE_COLUMN = "Image name"
# (header cell, feature name) of each workbook after `Image name`; the EXIF `Time` header spans two columns
MOS_FIELDS: tuple[tuple[str, str], ...] = (
    ("MOS", "mos"),
    ("Brightness", "brightness"),
    ("Colorfulness", "colorfulness"),
    ("Contrast", "contrast"),
    ("Noisiness", "noisiness"),
    ("Sharpness", "sharpness"),
)
EXIF_FIELDS: tuple[tuple[str | None, str], ...] = (
    ("Focal length", "focal_length"),
    ("F-number", "f_number"),
    ("Exposure time", "exposure_time"),
    ("ISO", "iso"),
    ("Brightness", "exif_brightness"),
    ("Flash", "flash"),
    ("Time", "time_1"),
    (None, "time_2"),
)
SCENE_FIELDS: tuple[tuple[str, str], ...] = (
    ("Animal", "scene_animal"),
    ("Cityscape", "scene_cityscape"),
    ("Human", "scene_human"),
    ("Indoor scene", "scene_indoor"),
    ("Landscape", "scene_landscape"),
    ("Night scene", "scene_night"),
    ("Plant", "scene_plant"),
    ("Still-life", "scene_still_life"),
    ("Others", "scene_others"),
)
# config `image`: the paper's random 80/20 image split, fixed by mobench; `device`: held-out phones (mobench's)
CONFIGS: tuple[str, ...] = ("image", "device")
SPLIT_SEED = 2020
_TEST_BELOW = 2**64 // 5  # a fifth of the range of the 8-byte prefix: about 20 % of keys in test
EXIF_MAKE, EXIF_MODEL = 0x010F, 0x0110


def split_of(key: str, seed: int = SPLIT_SEED) -> str:
    """`test` or `train` for an image name (or a device), from sha256("<seed>:<key>") alone (module docstring)."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return "test" if int.from_bytes(digest[:8], "big") < _TEST_BELOW else "train"


def exif_device(path: Path, data: bytes | None = None) -> str | None:
    """`Make Model` from a JPEG's own EXIF (IFD0 tags 0x010F, 0x0110), None where it has neither; reads the file's
    header only, or `data`, its bytes, where the caller holds them."""
    try:
        with Image.open(path if data is None else BytesIO(data)) as image:
            exif = image.getexif()
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise FormatError(path, f"not a readable image ({error})") from None
    make, model = (str(exif.get(tag, "")).strip("\x00 ") for tag in (EXIF_MAKE, EXIF_MODEL))
    if model.lower().startswith(make.lower()):
        return model or None
    return f"{make} {model}".strip() or None


def _header(cells: tuple[Any, ...]) -> tuple[str | None, ...]:
    return tuple(c.strip() or None if isinstance(c, str) else c for c in cells)


def read_workbook(path: Path, columns: tuple[str | None, ...]) -> list[tuple[int, tuple[Any, ...]]]:
    """(row number as Excel shows it, cells) of each non-empty row of the first sheet, whose header must be
    `columns` (trailing empty cells ignored)."""
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise FormatError(path, f"not a readable .xlsx workbook ({error})") from None
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = _header(next(rows, ()))
        while len(header) > len(columns) and header[-1] is None:
            header = header[:-1]
        if header != columns:
            shown = ", ".join("(blank)" if c is None else str(c) for c in header)
            expected = ", ".join("(blank)" if c is None else c for c in columns)
            raise FormatError(path, f"header row is {shown!r}; the release has {expected!r}")
        out: list[tuple[int, tuple[Any, ...]]] = []
        for number, cells in enumerate(rows, start=2):
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            extra = [c for c in cells[len(columns) :] if c is not None]
            if extra:
                wide = len(columns) + len(extra)
                raise FormatError(path, f"row {number}: {wide} cells, the release has {len(columns)}")
            out.append((number, (*cells, *[None] * (len(columns) - len(cells)))[: len(columns)]))
    finally:
        book.close()
    return out


def _number(path: Path, row: int, image: str, column: str | None, value: Any, low: float, high: float) -> float:
    """A numeric cell, finite and within [low, high], else an error naming workbook, row, image and column."""
    number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
    if not (math.isfinite(number) and low <= number <= high):
        where = f"row {row}: image {image}: column {column or '(blank)'}"
        wanted = "a number" if math.isinf(high) else f"a number in [{low:g}, {high:g}]"
        raise FormatError(path, f"{where}: {value!r} is not {wanted}")
    return number


@dataclass(frozen=True)
class SPAQLabel:
    """One image's annotations, typed: MOS and attributes, and the EXIF and scene rows where those workbooks ship."""

    image: str
    mos: float
    attributes: dict[str, float]
    exif: dict[str, float] | None
    scenes: dict[str, float] | None


class SPAQ(DatasetLoader):
    """The SPAQ release as the authors ship it (SPAQ.zip, unpacked):

        <root>/
          Annotations/
            MOS and Image attribute scores.xlsx   Image name, MOS, Brightness, Colorfulness, Contrast, Noisiness,
                                                  Sharpness                      (one row per image; required)
            EXIF_tags.xlsx                        Image name, Focal length, F-number, Exposure time, ISO,
                                                  Brightness, Flash, Time (two columns)       (optional)
            Scene category labels.xlsx            Image name, Animal, Cityscape, Human, Indoor scene, Landscape,
                                                  Night scene, Plant, Still-life, Others      (optional)
          TestImage/
            00001.jpg ... 11125.jpg               every image, for training and testing alike

    Configs: `image` (the default: mobench's fixed ~80/20 split by image name, as the paper splits) and `device`
    (a mobench addition, not in the paper: whole phones held out, ~80/20 of the phones by the same hash of
    `Make Model`, read from each JPEG's own EXIF; an image without EXIF Make/Model is in neither split);
    splits `train` and `test`, both labelled. The sample id is the `Image name`; samples keep the workbook's order.
    """

    splits = ("train", "test")

    def __init__(self, root: str | Path, split: str = "test", config: str | None = None) -> None:
        super().__init__(root, split, config or CONFIGS[0])
        if self.config not in CONFIGS:
            raise DatasetLayoutError(f"SPAQ: unknown config {self.config!r}; configs: {', '.join(CONFIGS)}")

    def _workbook(self, name: str, required: bool) -> Path | None:
        path = self.root / ANNOTATIONS / name
        if required:
            return self.require(path, f"annotation workbook {ANNOTATIONS}/{name}")
        return path if path.is_file() else None

    def _rows(self, name: str, fields: tuple[tuple[Any, str], ...], high: float) -> dict[str, dict[str, float]] | None:
        """image -> {feature: value} of one workbook (None if an optional one is absent), every value checked."""
        path = self._workbook(name, required=name == MOS_FILE)
        if path is None:
            return None
        low = -math.inf if math.isinf(high) else 0.0
        values: dict[str, dict[str, float]] = {}
        lines: dict[str, int] = {}
        for row, cells in read_workbook(path, (IMAGE_COLUMN, *(header for header, _ in fields))):
            image = cells[0]
            if not isinstance(image, str) or not image or image != image.strip():
                raise FormatError(path, f"row {row}: {IMAGE_COLUMN} {image!r} is not an image file name")
            if image in lines:
                raise FormatError(path, f"row {row}: image {image} already listed on row {lines[image]}")
            lines[image] = row
            values[image] = {
                feature: _number(path, row, image, header, cell, low, high)
                for (header, feature), cell in zip(fields, cells[1:], strict=True)
            }
        if not values:
            raise DatasetLayoutError(f"{path}: no image listed\n{self.layout()}")
        return values

    @cached_property
    def _all_labels(self) -> list[SPAQLabel]:
        """Every image of the MOS workbook, in its order, with its EXIF and scene rows (cross-checked)."""
        scores = self._rows(MOS_FILE, MOS_FIELDS, 100.0)
        assert scores is not None  # the MOS workbook is required
        exif = self._rows(EXIF_FILE, EXIF_FIELDS, math.inf)
        scenes = self._rows(SCENE_FILE, SCENE_FIELDS, 1.0)
        for name, rows in ((EXIF_FILE, exif), (SCENE_FILE, scenes)):
            if rows is None:
                continue
            extra = [image for image in rows if image not in scores]
            absent = [image for image in scores if image not in rows]
            if extra or absent:
                what = f"lists {extra[0]}, which {MOS_FILE} lacks" if extra else f"lacks {len(absent)} image(s)"
                shown = "" if extra else f" of {MOS_FILE}, e.g. {', '.join(absent[:5])}"
                raise FormatError(self.root / ANNOTATIONS / name, f"{what}{shown}")
        for image, row in (exif or {}).items():
            if not row["flash"].is_integer():
                raise FormatError(self.root / ANNOTATIONS / EXIF_FILE, f"image {image}: Flash {row['flash']!r}")
        return [
            SPAQLabel(
                image=image,
                mos=values["mos"],
                attributes={k: v for k, v in values.items() if k != "mos"},
                exif=exif[image] if exif is not None else None,
                scenes=scenes[image] if scenes is not None else None,
            )
            for image, values in scores.items()
        ]

    @cached_property
    def _devices(self) -> dict[str, str | None]:
        """image -> `Make Model` from its JPEG's EXIF, for the device config (reads every image's header)."""
        return {label.image: self.device_of(label.image) for label in self._all_labels}

    @cached_property
    def _labels(self) -> list[SPAQLabel]:
        if self.config == "image":
            return [label for label in self._all_labels if split_of(label.image) == self.split]
        devices = self._devices
        return [
            label
            for label in self._all_labels
            if devices[label.image] is not None and split_of(str(devices[label.image])) == self.split
        ]

    # ------------------------------------------------------------------------------------------------ API

    def labels(self) -> list[SPAQLabel]:
        """The split's annotations in sample order, without reading an image (except for the device config)."""
        return list(self._labels)

    def image_path(self, sample_id: str) -> Path:
        """`<root>/TestImage/<Image name>`."""
        return self.root / IMAGE_FOLDER / sample_id

    def device_of(self, sample_id: str) -> str | None:
        """The phone that took the image, from its EXIF Make and Model (None where it names none)."""
        return exif_device(self.require(self.image_path(sample_id), f"image of {sample_id}"))

    def sample_ids(self) -> list[str]:
        return [label.image for label in self._labels]

    def empty_reason(self) -> str:
        if self.config == "device" and not any(self._devices.values()):
            return f"no image under {self.root / IMAGE_FOLDER} carries an EXIF Make or Model"
        return super().empty_reason()

    def features(self) -> datasets.Features:
        number = datasets.Value("float64")
        return datasets.Features(
            {
                "id": datasets.Value("string"),
                "image": datasets.Image(),
                **{feature: number for _, feature in MOS_FIELDS},
                **{feature: datasets.Value("int32" if feature == "flash" else "float64") for _, feature in EXIF_FIELDS},
                **{feature: number for _, feature in SCENE_FIELDS},
                "scene_categories": datasets.List(datasets.Value("string")),
                "device": datasets.Value("string"),
            }
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Samples with the image as the file's own bytes (byte-identical through an export); EXIF and scene
        columns are None where their workbook is absent; `device` is None where the JPEG names no phone."""
        for label in self._labels:
            path = self.require(self.image_path(label.image), f"image of {label.image}")
            data = path.read_bytes()
            exif: dict[str, Any] = dict.fromkeys((f for _, f in EXIF_FIELDS), None) | (label.exif or {})
            if label.exif is not None:
                exif["flash"] = int(label.exif["flash"])
            scenes = label.scenes or {}
            yield {
                "id": label.image,
                "image": {"bytes": data, "path": label.image},
                "mos": label.mos,
                **label.attributes,
                **exif,
                **{feature: scenes.get(feature) for _, feature in SCENE_FIELDS},
                "scene_categories": [h for h, f in SCENE_FIELDS if scenes.get(f, 0.0) > 0],
                "device": exif_device(path, data),
            }
