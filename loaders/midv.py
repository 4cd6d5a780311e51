"""MIDV-500 and MIDV-2019 identity-document video frames, read exactly as the official archives unpack.

Why the loader keeps the release's own quad: the ground-truth quadrilateral of a frame is stored with its true
corners even where they lie outside the image (there is no "document out of frame" flag), and the authors' subsets
("all four corners in frame", "at least three", "more than 90 % of the document in frame") are filters on those
corners. So every frame carries the quad as released plus `corners_in_frame` and `area_in_frame`, and the subset
configs are filters on them, never re-annotations.

Field annotations belong to the document, not to a frame: they are read once per document (`documents()`), and
the `documents` config exports them as one row per document (template image, size and every field's quad and
text), so a frame row never repeats them.

A MIDV-500 archive (`01_alb_id.zip`) unpacks into `01_alb_id/`; a MIDV-2019 archive has no top-level folder, so
its entries land directly in the folder it is unpacked into. The loader accepts both: `root` is either one unpacked
archive (or several unpacked into the same folder) or a folder of per-document folders (see the class docstrings).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import datasets
import numpy as np
from numpy.typing import NDArray

from hub.core.errors import DatasetLayoutError, FormatError
from loaders.base import DatasetLoader
from loaders.formats.text import read_json
from loaders.midv_annotations import (
    TEMPLATE_NAME,
    Document,
    Field,
    Frame,
    image_size,
    parse_document_name,
    read_quad,
    read_rgb,
)

_FRAME = re.compile(r"^([A-Z]{2})(\d{2})_(\d{2})\.tif$")
CONFIGS = ("full", "four-corners-in-frame", "documents")
FRAME_CONFIGS = ("full", "four-corners-in-frame")

_LAYOUT_DOC = """
    <root>/                                   the folder the archives were unpacked into
    ├── 01_alb_id/                            one folder per document archive (MIDV-500), or the archive's
    │   ├── images/                           entries directly in <root> (MIDV-2019 archives have no top folder)
    │   │   ├── 01_alb_id.tif                 the document template
    │   │   └── CA/CA01_01.tif ... CA01_30.tif   frames: clip CA (condition C, phone A), document 01, frame 01..30
    │   └── ground_truth/
    │       ├── 01_alb_id.json                {"field01": {"quad": [[x, y] x 4], "value": "..."}, ...}
    │       └── CA/CA01_01.json ...           {"quad": [[x, y] x 4]} in frame pixels, corners may lie outside
    └── 02_aut_drvlic_new/ ...
"""


class MIDVLoader(DatasetLoader):
    splits: ClassVar[tuple[str, ...]] = ("test",)
    name: ClassVar[str]
    conditions: ClassVar[dict[str, str]]
    phones: ClassVar[dict[str, str]]

    def __init__(self, root: str | Path, split: str = "test", config: str | None = None) -> None:
        super().__init__(root, split, config)
        self.config = config or "full"
        if self.config not in CONFIGS:
            raise DatasetLayoutError(f"{type(self).__name__}: unknown config {self.config!r}; known: {CONFIGS}")
        self._archives = self._find_archives()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(root={str(self.root)!r}, config={self.config!r})"

    def _find_archives(self) -> list[Path]:
        """The unpacked archive folders: `root` itself if it holds `images/`, else its subfolders that do."""
        if (self.root / "images").is_dir():
            return [self.root]
        found = sorted(d for d in self.root.iterdir() if (d / "images").is_dir())
        if not found:
            raise DatasetLayoutError(f"no images/ folder in {self.root} or its subfolders\n{self.layout()}")
        return found

    @classmethod
    def parse_clip(cls, clip: str) -> tuple[str, str]:
        """Clip code -> (capture condition, phone), e.g. MIDV-500 'CA' -> ('clutter', 'iPhone 5')."""
        if len(clip) != 2 or clip[0] not in cls.conditions or clip[1] not in cls.phones:
            raise DatasetLayoutError(
                f"{clip!r} is not a {cls.name} clip code (condition {'/'.join(cls.conditions)} + "
                f"phone {'/'.join(cls.phones)})"
            )
        return cls.conditions[clip[0]], cls.phones[clip[1]]

    @cached_property
    def _documents(self) -> dict[str, tuple[Document, Path]]:
        """Document number -> (document, archive folder), from the templates `images/<doc>.tif`."""
        documents: dict[str, tuple[Document, Path]] = {}
        for archive in self._archives:
            for path in sorted((archive / "images").glob("*.tif")):
                if TEMPLATE_NAME.match(path.name) is None:
                    continue
                name = path.stem
                number, country, document_type = parse_document_name(name)
                if number in documents:
                    raise DatasetLayoutError(
                        f"document number {number} appears twice: {path} and {documents[number][0].template_path}"
                    )
                gt_path = self.require(archive / "ground_truth" / f"{name}.json", f"template GT of {name}")
                width, height = image_size(path)
                documents[number] = (
                    Document(name, number, country, document_type, path, width, height, _read_fields(gt_path)),
                    archive,
                )
        return documents

    def documents(self) -> dict[str, Document]:
        """Every document (template + field annotations) by name, e.g. '01_alb_id'."""
        return {doc.name: doc for doc, _ in sorted(self._documents.values(), key=lambda item: item[0].name)}

    @cached_property
    def _all_frames(self) -> dict[str, Frame]:
        frames: dict[str, Frame] = {}
        for archive in self._archives:
            images = archive / "images"
            for clip_dir in sorted(d for d in images.iterdir() if d.is_dir()):
                for path in sorted(clip_dir.glob("*.tif")):
                    match = _FRAME.match(path.name)
                    if match is None or match.group(1) != clip_dir.name:
                        continue
                    clip, number, index = match.groups()
                    condition, phone = self.parse_clip(clip)
                    if number not in self._documents:
                        raise DatasetLayoutError(
                            f"frame {path} belongs to document {number}, whose template images/{number}_*.tif is "
                            f"missing\n{self.layout()}"
                        )
                    document, doc_archive = self._documents[number]
                    gt_path = self.require(
                        doc_archive / "ground_truth" / clip / f"{path.stem}.json", f"GT of frame {path.name}"
                    )
                    raw = read_json(gt_path)
                    quad = read_quad(gt_path, raw.get("quad") if isinstance(raw, dict) else None)
                    width, height = image_size(path)
                    sample_id = f"{self.name}/{document.name}/{clip}/{path.stem}"
                    frames[sample_id] = Frame(
                        sample_id,
                        document.name,
                        clip,
                        condition,
                        phone,
                        int(index),
                        path,
                        quad,
                        width,
                        height,
                    )
        if not frames:
            raise DatasetLayoutError(
                f"no {self.name} frames images/<CC>/<CC><NN>_<FF>.tif under {self.root}\n{self.layout()}"
            )
        return dict(sorted(frames.items()))

    def all_frame_ids(self) -> list[str]:
        """Every frame of the release, whatever the config (a subset's evaluator ignores predictions for these)."""
        return list(self._all_frames)

    def frame(self, sample_id: str) -> Frame:
        try:
            return self._all_frames[sample_id]
        except KeyError:
            raise DatasetLayoutError(
                f"unknown sample id {sample_id!r}; ids look like '{self.name}/01_alb_id/CA/CA01_01'"
            ) from None

    def sample_ids(self) -> list[str]:
        if self.config == "documents":
            return [f"{self.name}/{name}" for name in self.documents()]
        if self.config == "four-corners-in-frame":
            return [i for i, f in self._all_frames.items() if f.corners_in_frame == 4]
        return list(self._all_frames)

    def document_of(self, sample_id: str) -> Document:
        return self.documents()[self.frame(sample_id).document]

    def image(self, sample_id: str) -> NDArray[np.uint8]:
        return read_rgb(self.frame(sample_id).image_path)

    def features(self) -> datasets.Features:
        if self.config == "documents":
            return datasets.Features(
                {
                    "id": datasets.Value("string"),
                    "document": datasets.Value("string"),
                    "document_type": datasets.Value("string"),
                    "country": datasets.Value("string"),
                    "template": datasets.Image(),
                    "template_width": datasets.Value("int32"),
                    "template_height": datasets.Value("int32"),
                    "fields": datasets.List(
                        {
                            "name": datasets.Value("string"),
                            "value": datasets.Value("string"),
                            "quad": datasets.Array2D((4, 2), "float64"),
                        }
                    ),
                }
            )
        return datasets.Features(
            {
                "id": datasets.Value("string"),
                "document": datasets.Value("string"),
                "document_type": datasets.Value("string"),
                "country": datasets.Value("string"),
                "clip": datasets.Value("string"),
                "condition": datasets.Value("string"),
                "phone": datasets.Value("string"),
                "frame_index": datasets.Value("int32"),
                "image": datasets.Image(),
                "image_width": datasets.Value("int32"),
                "image_height": datasets.Value("int32"),
                "quad": datasets.Array2D((4, 2), "float64"),
                "corners_in_frame": datasets.Value("int32"),
                "area_in_frame": datasets.Value("float64"),
                "template_width": datasets.Value("int32"),
                "template_height": datasets.Value("int32"),
            }
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self.config == "documents":
            for doc in self.documents().values():
                yield {
                    "id": f"{self.name}/{doc.name}",
                    "document": doc.name,
                    "document_type": doc.document_type,
                    "country": doc.country,
                    "template": read_rgb(doc.template_path),
                    "template_width": doc.width,
                    "template_height": doc.height,
                    "fields": [
                        {"name": name, "value": f.value, "quad": np.asarray(f.quad, dtype=np.float64)}
                        for name, f in doc.fields.items()
                    ],
                }
            return
        documents = self.documents()
        for sample_id in self.sample_ids():
            frame = self._all_frames[sample_id]
            doc = documents[frame.document]
            yield {
                "id": sample_id,
                "document": doc.name,
                "document_type": doc.document_type,
                "country": doc.country,
                "clip": frame.clip,
                "condition": frame.condition,
                "phone": frame.phone,
                "frame_index": frame.frame_index,
                "image": self.image(sample_id),
                "image_width": frame.image_width,
                "image_height": frame.image_height,
                "quad": frame.quad,
                "corners_in_frame": frame.corners_in_frame,
                "area_in_frame": frame.area_in_frame,
                "template_width": doc.width,
                "template_height": doc.height,
            }


def _read_fields(path: Path) -> dict[str, Field]:
    raw = read_json(path)
    if not isinstance(raw, dict):
        raise FormatError(path, "template GT is not an object of fields")
    fields: dict[str, Field] = {}
    for name, entry in sorted(raw.items()):
        if not isinstance(entry, dict) or not isinstance(entry.get("value"), str):
            raise FormatError(path, f"field {name!r} has no text 'value'")
        quad = read_quad(path, entry.get("quad"))
        fields[name] = Field(entry["value"], tuple((float(x), float(y)) for x, y in quad))
    return fields


class MIDV500(MIDVLoader):
    __doc__ = (
        "MIDV-500 (Arlazarov et al. 2019): 50 documents x 10 clips (conditions T K H P C x phones A S) x 30 frames."
        + _LAYOUT_DOC
    )
    name = "midv500"
    # Letter meanings: T table, K keyboard, H hand, P partial, C clutter; A Apple iPhone 5, S Samsung Galaxy S3.
    conditions: ClassVar[dict[str, str]] = {
        "T": "table",
        "K": "keyboard",
        "H": "hand",
        "P": "partial",
        "C": "clutter",
    }
    phones: ClassVar[dict[str, str]] = {"A": "iPhone 5", "S": "Samsung Galaxy S3"}


class MIDV2019(MIDVLoader):
    __doc__ = (
        "MIDV-2019 (Bulatov et al. 2019): the 50 MIDV-500 documents, distorted (D) and low-light (L) clips shot on "
        "an iPhone XS Max (X) and a Samsung Galaxy S10 (G). Each archive unpacks without a top folder: unpack each "
        "into a folder named after it, or all into one folder." + _LAYOUT_DOC
    )
    name = "midv2019"
    conditions: ClassVar[dict[str, str]] = {"D": "distorted", "L": "low light"}
    phones: ClassVar[dict[str, str]] = {"X": "iPhone XS Max", "G": "Samsung Galaxy S10"}
