"""PIQ23 (DXOMARK, Chahine et al., CVPR 2023): 5,116 smartphone portraits of 50 scenes, scored in JOD per attribute.

The loader reads the release exactly as DXOMARK ships it (checked against github.com/DXOMARK-Research/PIQ2023):

- every CSV has CRLF line endings; the score files have 14 columns in a fixed order, and `IMAGE PATH` uses a
  Windows backslash (`Overall\\66_Indoor_Scene_0.jpg`), so the path is split on `\\` (or `/`), never opened as is;
- image extensions come in mixed case (jpg, JPG, jpeg, tiff, tif): names are used exactly as the CSV spells them;
- split membership is keyed on the exact `IMAGE` (device split) or `SCENE` (scene split) value. Never by substring:
  `Indoor_Scene_1` is a prefix of `Indoor_Scene_10`..`_13`, which is how a well-known IQA toolbox puts images of
  `Indoor_Scene_12`/`_13` into the wrong split;
- the per-attribute split files (`Test split/Device Split/DeviceSplit_Test_Scores_Overall.csv`, ...) repeat the
  score columns plus `SPLIT`. Where present they are cross-checked against the index files: same images, same JOD
  (the release's copies differ from `Scores_*.csv` by at most one float ulp, so the check allows 1e-9).

JOD is zero-mean *within a scene* and comparable only there; see `evaluators.iqa` for the per-scene protocol.
Licence: non-commercial research only, no redistribution of images or derived data, so mobench ships none of it.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PureWindowsPath
from typing import Any

import datasets

from hub.core.errors import DatasetLayoutError, FormatError
from loaders.base import DatasetLoader
from loaders.formats.text import open_text

ATTRIBUTES: tuple[str, ...] = ("Details", "Exposure", "Overall")
SCORE_COLUMNS: tuple[str, ...] = (
    "IMAGE PATH",
    "JOD",
    "JOD STD",
    "CI LOW",
    "CI HIGH",
    "CI RANGE",
    "QUALITY LEVEL",
    "CLUSTER",
    "TOTAL COMPARISONS",
    "IMAGE",
    "SCENE",
    "ATTRIBUTE",
    "SCENE IDX",
    "CONDITION",
)
CONDITIONS: tuple[str, ...] = ("Outdoor", "Indoor", "Lowlight", "Night")
CONFIGS: tuple[str, ...] = ("device", "scene")
# mobench split name -> the release's SPLIT value
SPLIT_VALUES: dict[str, str] = {"train": "Train", "test": "Test"}
SPLIT_FOLDER = "Test split"
DEVICE_SPLIT_FILE = "Device Split.csv"
DEVICE_SPLIT_COLUMNS: tuple[str, ...] = ("IMAGE", "SPLIT")
SCENE_SPLIT_FILE = "Scene Split.csv"
SCENE_SPLIT_COLUMNS: tuple[str, ...] = ("SCENE", "SPLIT", "NB IMAGES")
METADATA_FILE = Path("Metadata") / "Image Metadata.csv"
METADATA_COLUMNS: tuple[str, ...] = ("Image", "Device")
# per-attribute split files repeat the scores plus SPLIT; the JOD there differs from Scores_*.csv by <= 1 ulp
JOD_CROSS_CHECK_TOLERANCE = 1e-9


def scores_file_name(attribute: str) -> str:
    return f"Scores_{attribute}.csv"


def per_attribute_split_file(config: str, split: str, attribute: str) -> Path:
    """`Test split/Device Split/DeviceSplit_Test_Scores_Overall.csv` and the like, relative to the root."""
    kind = config.capitalize()
    return Path(SPLIT_FOLDER) / f"{kind} Split" / f"{kind}Split_{SPLIT_VALUES[split]}_Scores_{attribute}.csv"


def image_name(value: str) -> str:
    """The bare file name of an `IMAGE PATH`-like value (`Overall\\12_Night_Scene_3.JPG` -> `12_Night_Scene_3.JPG`)."""
    return PureWindowsPath(value).name


@dataclass(frozen=True)
class PIQ23Label:
    """One row of `Scores_<Attribute>.csv`, typed, plus the capturing device from the metadata file if shipped."""

    image: str
    image_path: str
    jod: float
    jod_std: float
    ci_low: float
    ci_high: float
    ci_range: float
    quality_level: int
    cluster: int
    total_comparisons: int
    scene: str
    scene_idx: int
    condition: str
    attribute: str
    device: str | None


def read_release_csv(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) pairs of one release CSV, whose header must be exactly `columns` in order.

    `newline=""` lets the csv module take the release's CRLF line endings as row ends (never as data).
    """
    with open_text(path) as handle:
        reader = csv.reader(handle)
        header = tuple(next(reader, ()))
        if header != columns:
            raise FormatError(path, f"header is {','.join(header)!r}; the release has {','.join(columns)!r}")
        rows: list[tuple[int, dict[str, str]]] = []
        for cells in reader:
            if not cells:
                continue
            if len(cells) != len(columns):
                raise FormatError(path, f"line {reader.line_num}: {len(cells)} columns, expected {len(columns)}")
            rows.append((reader.line_num, dict(zip(columns, cells, strict=True))))
    return rows


def _number(path: Path, line: int, row: dict[str, str], column: str) -> float:
    try:
        value = float(row[column])
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise FormatError(path, f"line {line}: image {row.get('IMAGE', '?')}: {column} {row[column]!r} is not a number")
    return value


def _integer(path: Path, line: int, row: dict[str, str], column: str) -> int:
    """The release writes some integer columns as floats (`143.0`, `-1.0`); anything fractional is an error."""
    value = _number(path, line, row, column)
    if not value.is_integer():
        raise FormatError(path, f"line {line}: image {row['IMAGE']}: {column} {row[column]!r} is not an integer")
    return int(value)


class PIQ23(DatasetLoader):
    """The PIQ23 release as downloaded from DXOMARK (one attribute per loader, chosen by `attribute`):

        <root>/
          Details/  Exposure/  Overall/        the same 5,116 crops per attribute: 66_Indoor_Scene_0.jpg,
                                               31_Indoor_Scene_0.tiff, 2_Indoor_Scene_0.JPG, ...
          Scores_Overall.csv                   IMAGE PATH,JOD,JOD STD,CI LOW,CI HIGH,CI RANGE,QUALITY LEVEL,
          Scores_Details.csv                   CLUSTER,TOTAL COMPARISONS,IMAGE,SCENE,ATTRIBUTE,SCENE IDX,CONDITION
          Scores_Exposure.csv                  (CRLF; also accepted under Scores/, as in the GitHub repository)
          Test split/
            Device Split.csv                   IMAGE,SPLIT                 (Train / Test per image)
            Scene Split.csv                    SCENE,SPLIT,NB IMAGES       (Train / Test per scene)
            Device Split/DeviceSplit_{Train,Test}_Scores_{Attr}.csv   (optional; cross-checked)
            Scene Split/SceneSplit_{Train,Test}_Scores_{Attr}.csv     (optional; cross-checked)
          Metadata/Image Metadata.csv          Image,Device                (optional: fills `device`)

    Configs: `device` (the device split) and `scene` (the scene split); splits `train` and `test`, both labelled.
    The sample id is the `IMAGE` file name, unique within an attribute; samples keep the score file's row order.
    """

    splits = ("train", "test")

    def __init__(
        self, root: str | Path, split: str = "test", config: str | None = None, attribute: str = "Overall"
    ) -> None:
        super().__init__(root, split, config or CONFIGS[0])
        if self.config not in CONFIGS:
            raise DatasetLayoutError(f"PIQ23: unknown config {self.config!r}; configs: {', '.join(CONFIGS)}")
        if attribute not in ATTRIBUTES:
            raise DatasetLayoutError(f"PIQ23: unknown attribute {attribute!r}; attributes: {', '.join(ATTRIBUTES)}")
        self.attribute = attribute

    # ---------------------------------------------------------------------------------------------- reading

    @cached_property
    def _all_labels(self) -> list[PIQ23Label]:
        """Every row of the attribute's score file, checked, in file order."""
        path = self._scores_path()
        devices = self._devices()
        labels: list[PIQ23Label] = []
        seen: dict[str, int] = {}
        scene_facts: dict[str, tuple[int, str, int]] = {}
        for line, row in read_release_csv(path, SCORE_COLUMNS):
            image = row["IMAGE"]
            if not image or image != image.strip():
                raise FormatError(path, f"line {line}: IMAGE {image!r} is empty or padded")
            if image in seen:
                raise FormatError(path, f"line {line}: image {image} already listed on line {seen[image]}")
            seen[image] = line
            folder, name = PureWindowsPath(row["IMAGE PATH"]).parts[:-1], image_name(row["IMAGE PATH"])
            if name != image or folder != (self.attribute,):
                raise FormatError(
                    path, f"line {line}: IMAGE PATH {row['IMAGE PATH']!r} is not {self.attribute}\\{image}"
                )
            if row["ATTRIBUTE"] != self.attribute:
                raise FormatError(path, f"line {line}: image {image}: ATTRIBUTE {row['ATTRIBUTE']!r}")
            if row["CONDITION"] not in CONDITIONS:
                raise FormatError(
                    path, f"line {line}: image {image}: CONDITION {row['CONDITION']!r} is not one of {CONDITIONS}"
                )
            scene_idx = _integer(path, line, row, "SCENE IDX")
            facts = scene_facts.setdefault(row["SCENE"], (scene_idx, row["CONDITION"], line))
            if facts[:2] != (scene_idx, row["CONDITION"]):
                raise FormatError(
                    path,
                    f"line {line}: scene {row['SCENE']} has SCENE IDX {scene_idx} / CONDITION {row['CONDITION']}, "
                    f"but {facts[0]} / {facts[1]} on line {facts[2]}",
                )
            labels.append(
                PIQ23Label(
                    image=image,
                    image_path=row["IMAGE PATH"],
                    jod=_number(path, line, row, "JOD"),
                    jod_std=_number(path, line, row, "JOD STD"),
                    ci_low=_number(path, line, row, "CI LOW"),
                    ci_high=_number(path, line, row, "CI HIGH"),
                    ci_range=_number(path, line, row, "CI RANGE"),
                    quality_level=_integer(path, line, row, "QUALITY LEVEL"),
                    cluster=_integer(path, line, row, "CLUSTER"),
                    total_comparisons=_integer(path, line, row, "TOTAL COMPARISONS"),
                    scene=row["SCENE"],
                    scene_idx=scene_idx,
                    condition=row["CONDITION"],
                    attribute=self.attribute,
                    device=devices.get(image) if devices is not None else None,
                )
            )
        if not labels:
            raise DatasetLayoutError(f"{path}: no images listed\n{self.layout()}")
        return labels

    def _scores_path(self) -> Path:
        name = scores_file_name(self.attribute)
        for candidate in (self.root / name, self.root / "Scores" / name):
            if candidate.is_file():
                return candidate
        return self.require(self.root / name, f"score file {name}")

    def _devices(self) -> dict[str, str] | None:
        path = self.root / METADATA_FILE
        if not path.is_file():
            return None
        devices: dict[str, str] = {}
        for line, row in read_release_csv(path, METADATA_COLUMNS):
            if row["Image"] in devices:
                raise FormatError(path, f"line {line}: image {row['Image']} listed twice")
            devices[row["Image"]] = row["Device"]
        return devices

    def _split_value(self, path: Path, line: int, row: dict[str, str], key: str) -> str:
        if row["SPLIT"] not in SPLIT_VALUES.values():
            raise FormatError(path, f"line {line}: {key}: SPLIT {row['SPLIT']!r} is neither Train nor Test")
        return row["SPLIT"]

    def _device_membership(self) -> dict[str, str]:
        """image -> Train/Test, keyed on the exact IMAGE value; every scored image must be listed once."""
        path = self.require(self.root / SPLIT_FOLDER / DEVICE_SPLIT_FILE, "device split file")
        known = {label.image for label in self._all_labels}
        membership: dict[str, str] = {}
        for line, row in read_release_csv(path, DEVICE_SPLIT_COLUMNS):
            image = row["IMAGE"]
            if image not in known:
                raise FormatError(path, f"line {line}: image {image} is not in {scores_file_name(self.attribute)}")
            if image in membership:
                raise FormatError(path, f"line {line}: image {image} listed twice")
            membership[image] = self._split_value(path, line, row, f"image {image}")
        unlisted = [image for image in known if image not in membership]
        if unlisted:
            raise FormatError(path, f"{len(unlisted)} image(s) have no split, e.g. {', '.join(sorted(unlisted)[:5])}")
        return membership

    def _scene_membership(self) -> dict[str, str]:
        """image -> Train/Test through the exact SCENE value; NB IMAGES must match the score file's count."""
        path = self.require(self.root / SPLIT_FOLDER / SCENE_SPLIT_FILE, "scene split file")
        counts = Counter(label.scene for label in self._all_labels)
        scenes: dict[str, str] = {}
        for line, row in read_release_csv(path, SCENE_SPLIT_COLUMNS):
            scene = row["SCENE"]
            if scene not in counts:
                raise FormatError(path, f"line {line}: scene {scene} is not in {scores_file_name(self.attribute)}")
            if scene in scenes:
                raise FormatError(path, f"line {line}: scene {scene} listed twice")
            if row["NB IMAGES"].strip() != str(counts[scene]):
                raise FormatError(
                    path,
                    f"line {line}: scene {scene}: NB IMAGES {row['NB IMAGES']} but the score file has {counts[scene]}",
                )
            scenes[scene] = self._split_value(path, line, row, f"scene {scene}")
        unlisted = sorted(scene for scene in counts if scene not in scenes)
        if unlisted:
            raise FormatError(path, f"scene(s) without a split: {', '.join(unlisted)}")
        return {label.image: scenes[label.scene] for label in self._all_labels}

    def _cross_check(self, members: list[PIQ23Label]) -> None:
        """Compare the split with the per-attribute split file, if the release copy has it."""
        config = self.config or CONFIGS[0]
        path = self.root / per_attribute_split_file(config, self.split, self.attribute)
        index = SCENE_SPLIT_FILE if config == "scene" else DEVICE_SPLIT_FILE
        if not path.is_file():
            return
        expected = {label.image: label for label in members}
        listed: set[str] = set()
        for line, row in read_release_csv(path, (*SCORE_COLUMNS, "SPLIT")):
            image = row["IMAGE"]
            label = expected.get(image)
            if label is None or row["SPLIT"] != SPLIT_VALUES[self.split]:
                raise DatasetLayoutError(
                    f"{path}: line {line}: image {image} ({row['SCENE']}, SPLIT {row['SPLIT']}) is not in the "
                    f"{self.split} split given by {SPLIT_FOLDER}/{index}"
                )
            if abs(_number(path, line, row, "JOD") - label.jod) > JOD_CROSS_CHECK_TOLERANCE:
                raise DatasetLayoutError(f"{path}: line {line}: image {image}: JOD differs from the score file")
            listed.add(image)
        absent = [image for image in expected if image not in listed]
        if absent:
            raise DatasetLayoutError(
                f"{path}: {len(absent)} image(s) of the {self.split} split are missing, e.g. {', '.join(absent[:5])}"
            )

    @cached_property
    def _labels(self) -> list[PIQ23Label]:
        membership = self._device_membership() if self.config == "device" else self._scene_membership()
        wanted = SPLIT_VALUES[self.split]
        members = [label for label in self._all_labels if membership[label.image] == wanted]
        self._cross_check(members)
        return members

    # ------------------------------------------------------------------------------------------------ API

    def labels(self) -> list[PIQ23Label]:
        """The split's typed score rows in sample order, without touching any image (what evaluators need)."""
        return list(self._labels)

    def image_path(self, sample_id: str) -> Path:
        """Where the image of `sample_id` lives: `<root>/<Attribute>/<IMAGE>`, the name spelled as in the CSV."""
        return self.root / self.attribute / sample_id

    def sample_ids(self) -> list[str]:
        return [label.image for label in self._labels]

    def features(self) -> datasets.Features:
        return datasets.Features(
            {
                "id": datasets.Value("string"),
                "image": datasets.Image(),
                "image_path": datasets.Value("string"),
                "jod": datasets.Value("float64"),
                "jod_std": datasets.Value("float64"),
                "ci_low": datasets.Value("float64"),
                "ci_high": datasets.Value("float64"),
                "ci_range": datasets.Value("float64"),
                "quality_level": datasets.Value("int32"),
                "cluster": datasets.Value("int32"),
                "total_comparisons": datasets.Value("int32"),
                "scene": datasets.Value("string"),
                "scene_idx": datasets.Value("int32"),
                "condition": datasets.Value("string"),
                "attribute": datasets.Value("string"),
                "device": datasets.Value("string"),
            }
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Samples with the image as the file's own bytes: JPEG/TIFF stay byte-identical through an export."""
        columns = [name for name in self.features() if name not in ("id", "image")]
        for label in self._labels:
            path = self.require(self.image_path(label.image), f"image of {label.image}")
            image = {"bytes": path.read_bytes(), "path": label.image}
            yield {"id": label.image, "image": image, **{name: getattr(label, name) for name in columns}}
