"""MPI-Sintel optical flow (`MPI-Sintel-complete.zip`), read exactly as unpacked from the official download.

Pairs are built per scene: `flow/<scene>/frame_i.flo` maps `frame_i` to `frame_{i+1}` of the same scene, and the
last frame of a scene starts no pair (pairing across scenes is a classic bug). Besides the flow, the occlusion
masks (needed for EPE matched/unmatched and the d-ranges) and the invalid masks are loaded. The official release
has an `invalid/` mask for every frame, so a missing one means a broken or partial copy and is an error rather
than "all valid".

Test samples carry the same columns as training ones, with the ground-truth columns set to None, so that both
splits share one `datasets` schema (parquet shards of a config must share their features). Iterating the loader
yields those rows, so every per-pixel column (the flow, both masks) comes flat in row order
(`loaders.formats.flo.flow_feature`, `loaders.formats.masks.mask_feature`), reshaped with the `height` and `width`
columns; `ground_truth()` gives them as (H, W, 2) and (H, W).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import datasets
import numpy as np
from numpy.typing import NDArray

from hub.core.errors import DatasetLayoutError, FormatError
from loaders.base import DatasetLoader
from loaders.formats.flo import flow_column, flow_feature, read_flo
from loaders.formats.masks import mask_column, mask_feature, read_mask, read_rgb8
from loaders.gt_cache import CachedGroundTruth

_FRAME = re.compile(r"^frame_(\d{4})\.png$")
PASSES = ("clean", "final")
GT_KEYS = ("flow", "occlusion", "invalid")


@dataclass(frozen=True)
class _Pair:
    scene: str
    frame: int  # number of the first frame; the flow maps frame -> frame + 1


class Sintel(DatasetLoader, CachedGroundTruth):
    """MPI-Sintel optical flow, one pass (clean or final) at a time.

    <root>/                                (MPI-Sintel-complete.zip, unpacked)
    ├── training/
    │   ├── clean/<scene>/frame_0001.png ... frame_NNNN.png   8-bit RGB frames
    │   ├── final/<scene>/frame_0001.png ... frame_NNNN.png
    │   ├── flow/<scene>/frame_0001.flo ... frame_(NNNN-1).flo
    │   ├── occlusions/<scene>/frame_0001.png ...          8-bit {0,255}, 255 = occluded
    │   └── invalid/<scene>/frame_0001.png ...             8-bit {0,255}, 255 = invalid
    └── test/                                (named test/, not testing/)
        ├── clean/<scene>/frame_0001.png ...
        └── final/<scene>/frame_0001.png ...
    """

    splits: ClassVar[tuple[str, ...]] = ("training", "test")
    split_folders: ClassVar[bool] = True
    name: ClassVar[str] = "sintel"

    def __init__(
        self, root: str | Path, split: str = "training", config: str | None = None, pass_name: str = "clean"
    ) -> None:
        super().__init__(root, split, config)
        if pass_name not in PASSES:
            raise DatasetLayoutError(f"Sintel: unknown pass {pass_name!r}; valid passes: {', '.join(PASSES)}")
        self.pass_name = pass_name
        self.has_ground_truth = split == "training"
        split_dir = self.require(self.root / split, f"{split}/ folder")
        self._images = self.require(split_dir / pass_name, f"{split}/{pass_name}/ folder")
        self._flow = split_dir / "flow"
        self._occlusions = split_dir / "occlusions"
        self._invalid = split_dir / "invalid"
        gt_dirs: list[tuple[Path, str]] = []
        if self.has_ground_truth:
            gt_dirs = [
                (self.require(self._flow, "training/flow/ folder"), ".flo"),
                (self.require(self._occlusions, "training/occlusions/ folder"), ".png"),
                (self.require(self._invalid, "training/invalid/ folder"), ".png"),
            ]
        scenes = sorted(p.name for p in self._images.iterdir() if p.is_dir())
        if not scenes:
            raise DatasetLayoutError(f"no scene folders in {self._images}\n{self.layout()}")
        self._pairs: dict[str, _Pair] = {}
        missing: list[Path] = []
        for scene in scenes:
            numbers = self._frame_numbers(scene)
            for number in numbers[:-1]:
                pair = _Pair(scene, number)
                self._pairs[self._id(pair)] = pair
                for folder, suffix in gt_dirs:
                    path = folder / scene / f"frame_{number:04d}{suffix}"
                    if not path.is_file():
                        missing.append(path)
        if missing:
            raise self.missing_files_error(missing, "ground-truth file(s)")

    def _frame_numbers(self, scene: str) -> list[int]:
        folder = self._images / scene
        numbers = sorted(int(m.group(1)) for p in folder.iterdir() if (m := _FRAME.match(p.name)))
        if len(numbers) < 2:
            raise DatasetLayoutError(
                f"scene {folder} has {len(numbers)} frame_XXXX.png file(s); a scene needs at least 2\n{self.layout()}"
            )
        first_missing = next((i for i, n in enumerate(numbers, start=1) if n != i), None)
        if first_missing is not None:
            raise DatasetLayoutError(
                f"scene {folder}: frames must be numbered frame_0001.png, frame_0002.png, ... without gaps; "
                f"frame_{first_missing:04d}.png is missing\n{self.layout()}"
            )
        return numbers

    def _id(self, pair: _Pair) -> str:
        return f"{self.name}/{self.pass_name}/{self.split}/{pair.scene}/frame_{pair.frame:04d}"

    def __repr__(self) -> str:
        return f"Sintel(root={str(self.root)!r}, split={self.split!r}, pass_name={self.pass_name!r})"

    def _pair(self, sample_id: str) -> _Pair:
        try:
            return self._pairs[sample_id]
        except KeyError:
            example = f"{self.name}/{self.pass_name}/{self.split}/alley_1/frame_0001"
            raise DatasetLayoutError(
                f"unknown sample id {sample_id!r} for {self!r}; ids look like {example!r}"
            ) from None

    def sample_ids(self) -> list[str]:
        return list(self._pairs)

    def scene_of(self, sample_id: str) -> str:
        """The scene a sample belongs to (the per-scene breakdown key)."""
        return self._pair(sample_id).scene

    def features(self) -> datasets.Features:
        return datasets.Features(
            {
                "id": datasets.Value("string"),
                "scene": datasets.Value("string"),
                "frame": datasets.Value("int32"),
                "height": datasets.Value("int32"),
                "width": datasets.Value("int32"),
                "image1": datasets.Image(),
                "image2": datasets.Image(),
                "flow": flow_feature(),
                "occlusion": mask_feature(),
                "invalid": mask_feature(),
            }
        )

    def image_pair(self, sample_id: str) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
        """Frames i and i+1 of the sample's scene in this pass, as (H, W, 3) uint8 RGB."""
        pair = self._pair(sample_id)
        folder = self._images / pair.scene
        first = read_rgb8(folder / f"frame_{pair.frame:04d}.png")
        second_path = folder / f"frame_{pair.frame + 1:04d}.png"
        second = read_rgb8(second_path)
        if first.shape != second.shape:
            raise FormatError(second_path, f"frame size {second.shape[:2]} differs from the previous frame's")
        return first, second

    def ground_truth_files(self, sample_id: str) -> list[Path]:
        """The pair's `flow/` `.flo`, `occlusions/` and `invalid/` PNGs, in that order."""
        pair = self._pair(sample_id)
        if not self.has_ground_truth:
            raise DatasetLayoutError(f"{sample_id}: the Sintel {self.split} split ships no ground truth")
        name = f"{pair.scene}/frame_{pair.frame:04d}"
        return [self._flow / f"{name}.flo", self._occlusions / f"{name}.png", self._invalid / f"{name}.png"]

    def ground_truth(self, sample_id: str) -> dict[str, NDArray[Any]]:
        """`flow` (H, W, 2) float32, `occlusion` and `invalid` (H, W) bool, for frame i -> i+1.

        Decoded on every call; an evaluator reads what it derives from them through `cached_ground_truth` instead,
        decoded once per version of these files.
        """
        flow_path, *mask_paths = self.ground_truth_files(sample_id)
        flow = read_flo(flow_path)
        masks = {}
        for key, path in zip(("occlusion", "invalid"), mask_paths, strict=True):
            masks[key] = read_mask(path)
            if masks[key].shape != flow.shape[:2]:
                raise FormatError(path, f"mask size {masks[key].shape} differs from the flow size {flow.shape[:2]}")
        return {"flow": flow, **masks}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for sample_id, pair in self._pairs.items():
            image1, image2 = self.image_pair(sample_id)
            height, width = image1.shape[:2]
            sample: dict[str, Any] = {
                "id": sample_id,
                "scene": pair.scene,
                "frame": pair.frame,
                "height": height,
                "width": width,
                "image1": image1,
                "image2": image2,
            }
            if self.has_ground_truth:
                gt = self.ground_truth(sample_id)
                if gt["flow"].shape[:2] != image1.shape[:2]:
                    raise FormatError(
                        self._flow / pair.scene / f"frame_{pair.frame:04d}.flo",
                        f"flow size {gt['flow'].shape[:2]} differs from the frame size {image1.shape[:2]}",
                    )
                sample.update(
                    flow=flow_column(gt["flow"]),
                    occlusion=mask_column(gt["occlusion"]),
                    invalid=mask_column(gt["invalid"]),
                )
            else:
                sample.update(dict.fromkeys(GT_KEYS))
            yield sample
