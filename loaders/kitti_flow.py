"""KITTI 2015 optical flow (`data_scene_flow.zip`), read exactly as unpacked from the official download.

Why every ground-truth folder is loaded: the official ranking uses `flow_occ` (all pixels with GT), the
"non-occluded" table uses `flow_noc`, and the Fl-bg / Fl-fg split needs `obj_map` (> 0 = foreground), as in the
devkit's `evaluate_scene_flow.cpp`. torchvision and RAFT load `flow_occ` only, which cannot reproduce the table.

Testing samples carry the same columns as training ones, with the ground-truth columns set to None: one schema
for both splits keeps them in one `datasets` config (parquet shards of a config must share their features).
Iterating the loader yields those rows, so every per-pixel column (flows, valid masks, object map) comes flat in
row order (`loaders.formats.flo.flow_feature`, `loaders.formats.masks.mask_feature`), reshaped with the `height`
and `width` columns; `ground_truth()` gives them as (H, W, 2) and (H, W).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import datasets
import numpy as np
from numpy.typing import NDArray

from hub.core.errors import DatasetLayoutError, FormatError
from loaders.base import DatasetLoader
from loaders.formats.flo import flow_column, flow_feature
from loaders.formats.kitti_png import read_kitti_flow
from loaders.formats.masks import label_map_feature, mask_column, mask_feature, read_label_map, read_rgb8
from loaders.gt_cache import CachedGroundTruth

_FRAME = re.compile(r"^(\d{6})_10\.png$")
GT_FOLDERS = ("flow_occ", "flow_noc", "obj_map")
GT_KEYS = ("flow_occ", "valid_occ", "flow_noc", "valid_noc", "obj_map")


class KittiFlow2015(DatasetLoader, CachedGroundTruth):
    """KITTI 2015 optical flow: frame NNNNNN_10 -> NNNNNN_11 of the left camera.

    <root>/                              (data_scene_flow.zip, unpacked)
    ├── training/
    │   ├── image_2/000000_10.png, 000000_11.png, ...   8-bit RGB frames t and t+1
    │   ├── flow_occ/000000_10.png, ...                 16-bit GT flow, all pixels with GT
    │   ├── flow_noc/000000_10.png, ...                 16-bit GT flow, non-occluded pixels only
    │   └── obj_map/000000_10.png, ...                  8-bit object map, 0 = background
    └── testing/
        └── image_2/000000_10.png, 000000_11.png, ...   (no ground truth)
    """

    splits: ClassVar[tuple[str, ...]] = ("training", "testing")
    split_folders: ClassVar[bool] = True
    name: ClassVar[str] = "kitti-2015"

    def __init__(self, root: str | Path, split: str = "training", config: str | None = None) -> None:
        super().__init__(root, split, config)
        split_dir = self.require(self.root / split, f"{split}/ folder")
        self._images = self.require(split_dir / "image_2", f"{split}/image_2/ folder")
        self.has_ground_truth = split == "training"
        gt_folders = GT_FOLDERS if self.has_ground_truth else ()
        gt_dirs = [self.require(split_dir / d, f"{split}/{d}/ folder") for d in gt_folders]
        frames = sorted(m.group(1) for p in self._images.iterdir() if (m := _FRAME.match(p.name)))
        if not frames:
            raise DatasetLayoutError(f"no NNNNNN_10.png frames in {self._images}\n{self.layout()}")
        listings = {d: {p.name for p in d.iterdir()} for d in [self._images, *gt_dirs]}
        missing = [
            d / name
            for f in frames
            for d, name in [(self._images, f"{f}_11.png"), *((g, f"{f}_10.png") for g in gt_dirs)]
            if name not in listings[d]
        ]
        if missing:
            raise self.missing_files_error(missing)
        self._frames = {f"{self.name}/{split}/{f}": f for f in frames}

    def __repr__(self) -> str:
        return f"KittiFlow2015(root={str(self.root)!r}, split={self.split!r})"

    def sample_ids(self) -> list[str]:
        return list(self._frames)

    def frame_of(self, sample_id: str) -> str:
        """The six-digit frame number of a sample id, e.g. '000042'."""
        try:
            return self._frames[sample_id]
        except KeyError:
            raise DatasetLayoutError(
                f"unknown sample id {sample_id!r} for {self!r}; ids look like '{self.name}/{self.split}/000042'"
            ) from None

    def features(self) -> datasets.Features:
        return datasets.Features(
            {
                "id": datasets.Value("string"),
                "frame": datasets.Value("string"),
                "height": datasets.Value("int32"),
                "width": datasets.Value("int32"),
                "image1": datasets.Image(),
                "image2": datasets.Image(),
                "flow_occ": flow_feature(),
                "valid_occ": mask_feature(),
                "flow_noc": flow_feature(),
                "valid_noc": mask_feature(),
                "obj_map": label_map_feature(),
            }
        )

    def image_pair(self, sample_id: str) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
        """Frames t (`_10`) and t+1 (`_11`) as (H, W, 3) uint8 RGB."""
        frame = self.frame_of(sample_id)
        first = read_rgb8(self._images / f"{frame}_10.png")
        second_path = self._images / f"{frame}_11.png"
        second = read_rgb8(second_path)
        if first.shape != second.shape:
            raise FormatError(second_path, f"frame size {second.shape[:2]} differs from _10.png {first.shape[:2]}")
        return first, second

    def ground_truth_files(self, sample_id: str) -> list[Path]:
        """The sample's `flow_occ`, `flow_noc` and `obj_map` PNGs, in that order."""
        frame = self.frame_of(sample_id)
        if not self.has_ground_truth:
            raise DatasetLayoutError(f"{sample_id}: the KITTI 2015 {self.split} split ships no ground truth")
        return [self.root / self.split / folder / f"{frame}_10.png" for folder in GT_FOLDERS]

    def ground_truth(self, sample_id: str) -> dict[str, NDArray[Any]]:
        """The GT arrays of one sample (no images, so the evaluator stays cheap).

        `flow_occ`/`flow_noc` are (H, W, 2) float32 (0 where invalid), `valid_occ`/`valid_noc` (H, W) bool and
        `obj_map` (H, W) uint8. Decoded on every call; an evaluator reads what it derives from them through
        `cached_ground_truth` instead, decoded once per version of these files.
        """
        occ_path, noc_path, obj_path = self.ground_truth_files(sample_id)
        flow_occ, valid_occ = read_kitti_flow(occ_path)
        flow_noc, valid_noc = read_kitti_flow(noc_path)
        obj_map = read_label_map(obj_path)
        for path, shape in [(noc_path, valid_noc.shape), (obj_path, obj_map.shape)]:
            if shape != valid_occ.shape:
                raise FormatError(path, f"size {shape} differs from flow_occ/{occ_path.name} {valid_occ.shape}")
        return {
            "flow_occ": flow_occ,
            "valid_occ": valid_occ,
            "flow_noc": flow_noc,
            "valid_noc": valid_noc,
            "obj_map": obj_map,
        }

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for sample_id, frame in self._frames.items():
            image1, image2 = self.image_pair(sample_id)
            height, width = image1.shape[:2]
            sample: dict[str, Any] = {
                "id": sample_id,
                "frame": frame,
                "height": height,
                "width": width,
                "image1": image1,
                "image2": image2,
            }
            if self.has_ground_truth:
                gt = self.ground_truth(sample_id)
                if gt["valid_occ"].shape != image1.shape[:2]:
                    raise FormatError(
                        self.root / self.split / "flow_occ" / f"{frame}_10.png",
                        f"GT size {gt['valid_occ'].shape} differs from the frame size {image1.shape[:2]}",
                    )
                sample.update(
                    flow_occ=flow_column(gt["flow_occ"]),
                    valid_occ=mask_column(gt["valid_occ"]),
                    flow_noc=flow_column(gt["flow_noc"]),
                    valid_noc=mask_column(gt["valid_noc"]),
                    obj_map=mask_column(gt["obj_map"]),
                )
            else:
                sample.update(dict.fromkeys(GT_KEYS))
            yield sample
