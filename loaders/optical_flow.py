"""What every optical-flow release shares: frame pairs read from the official tree, with declared ground truth.

In the spirit of torchvision's `FlowDataset`: one base class owns the skeleton and a release is a small subclass
that declares what differs. A subclass of `OpticalFlowLoader` gives
- `splits`, `labelled_splits` (those that ship ground truth), `name` (the first part of its sample ids), `title`
  (its name in messages) and `example_tail` (what an id looks like after its prefix, for the unknown-id message);
- its expected folder tree in its class docstring (every layout error quotes it);
- `image_folder()` (the frames of the split, relative to the root) and, when the ground truth does not sit in
  the split's folder, `gt_folder()`;
- `channels`: which per-pixel ground truth the release has, one `Channel` per folder (KITTI's `flow_occ`,
  `flow_noc` and `obj_map`, Sintel's `flow`, `occlusions` and `invalid`): its file format and the columns it fills;
- `pair_columns`: the typed columns that place a pair in the release (KITTI's frame, Sintel's scene and frame);
- `pairs()`: the tree walk and pairing, every `FramePair` of the split in id order;
- `gray_frames = True` when its frames may be 8-bit gray PNGs rather than RGB (read widened to RGB).

The base checks the split, requires the folders one level at a time, lists every missing frame and ground-truth
file at once (the error draws the expected tree), and gives the ids, the image pairs, the ground truth (decoded
by the channels' formats, one size for all) and `ground_truth_files`, so `cached_ground_truth` keys each cache
entry on exactly the files a sample's ground truth is read from.

Unlabelled samples carry the same columns as labelled ones, with the ground-truth columns set to None: one schema
for every split keeps them in one `datasets` config (parquet shards of a config must share their features).
Iterating a loader yields those rows, so every per-pixel column comes flat in row order
(`loaders.formats.flo.flow_feature`, `loaders.formats.masks.mask_feature`), reshaped with the `height` and `width`
columns; `ground_truth()` gives them as (H, W, 2) and (H, W).
"""

from __future__ import annotations

import os
import re
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import datasets
import numpy as np
from numpy.typing import NDArray

from hub.core.errors import DatasetLayoutError, FormatError
from loaders.base import DatasetLoader
from loaders.formats.flo import flow_column, flow_feature, read_flo
from loaders.formats.kitti_png import read_kitti_flow
from loaders.formats.masks import label_map_feature, mask_column, mask_feature, read_label_map, read_mask, read_rgb8
from loaders.gt_cache import CachedGroundTruth


@dataclass(frozen=True)
class PixelColumn:
    """How one per-pixel array is typed and stored in a row: flat, in row order."""

    feature: Callable[[], datasets.List]
    flatten: Callable[[NDArray[Any]], NDArray[Any]]


FLOW = PixelColumn(flow_feature, flow_column)
MASK = PixelColumn(mask_feature, mask_column)
LABELS = PixelColumn(label_map_feature, mask_column)


@dataclass(frozen=True)
class GroundTruthFormat:
    """A ground-truth file format: its suffix, its reader and the per-pixel arrays the reader returns, in order."""

    suffix: str
    read: Callable[[Path], tuple[NDArray[Any], ...]]
    columns: tuple[PixelColumn, ...]


def _alone(read: Callable[[Path], NDArray[Any]]) -> Callable[[Path], tuple[NDArray[Any], ...]]:
    def read_one(path: Path) -> tuple[NDArray[Any], ...]:
        return (read(path),)

    return read_one


# KITTI's 16-bit flow PNG: the flow (H, W, 2) float32 and its valid mask (H, W) bool (the B channel)
KITTI_FLOW_PNG = GroundTruthFormat(".png", read_kitti_flow, (FLOW, MASK))
# Middlebury `.flo`: a dense flow (H, W, 2) float32
MIDDLEBURY_FLO = GroundTruthFormat(".flo", _alone(read_flo), (FLOW,))
# 8-bit gray {0, 255} mask (Sintel's occlusions/, invalid/): (H, W) bool
MASK_PNG = GroundTruthFormat(".png", _alone(read_mask), (MASK,))
# 8-bit gray label map (KITTI's obj_map/): (H, W) uint8
LABEL_MAP_PNG = GroundTruthFormat(".png", _alone(read_label_map), (LABELS,))


@dataclass(frozen=True)
class Channel:
    """One ground-truth folder of a release: per pair the file `<folder>/<pair.gt_name><suffix>`, decoded into the
    arrays named `keys` (one per array of its format), e.g. KITTI's `flow_noc/` into `flow_noc` and `valid_noc`."""

    folder: str
    format: GroundTruthFormat
    keys: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.keys) != len(self.format.columns):
            raise TypeError(f"channel {self.folder}/: {len(self.keys)} keys for {len(self.format.columns)} arrays")

    def columns(self) -> Iterator[tuple[str, PixelColumn]]:
        return zip(self.keys, self.format.columns, strict=True)


@dataclass(frozen=True)
class FramePair:
    """One sample: frame t, frame t+1 and the name of its ground-truth files."""

    tail: str  # the sample id after the loader's `id_prefix()`, e.g. '000042' or 'alley_1/frame_0001'
    columns: Mapping[str, Any]  # its values of the loader's `pair_columns`
    first: Path
    second: Path
    gt_name: str  # every ground-truth file's path under its channel's folder, without the suffix


class OpticalFlowLoader(DatasetLoader, CachedGroundTruth):
    """An optical-flow release: frame pairs and their per-pixel ground truth (the module docstring says what a
    subclass declares)."""

    name: ClassVar[str]
    title: ClassVar[str]
    example_tail: ClassVar[str]
    labelled_splits: ClassVar[tuple[str, ...]] = ("training",)
    pair_columns: ClassVar[Mapping[str, datasets.Value]]
    channels: ClassVar[tuple[Channel, ...]]
    gray_frames: ClassVar[bool] = False

    def __init__(self, root: str | Path, split: str = "training", config: str | None = None) -> None:
        super().__init__(root, split, config)
        self.has_ground_truth = split in self.labelled_splits
        self.images = self._require_folder(self.image_folder())
        if self.has_ground_truth:
            for channel in self.channels:
                self._require_folder(f"{self.gt_folder()}/{channel.folder}")
        self._pairs = {f"{self.id_prefix()}/{pair.tail}": pair for pair in self.pairs()}
        self._check_files()

    @abstractmethod
    def image_folder(self) -> str:
        """The folder of the split's frames, relative to the root."""

    def gt_folder(self) -> str:
        """The folder that holds the channels' folders, relative to the root: the split's own by default."""
        return self.split

    @abstractmethod
    def pairs(self) -> list[FramePair]:
        """Every frame pair of the split, in id order, found by walking `self.images`."""

    def id_prefix(self) -> str:
        """What every sample id of this loader starts with."""
        return f"{self.name}/{self.split}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(root={str(self.root)!r}, split={self.split!r})"

    def _require_folder(self, relative: str) -> Path:
        """`root/relative`, each of its folders required in turn (the first missing one is named)."""
        path = self.root
        for index, part in enumerate(parts := relative.split("/")):
            path = self.require(path / part, f"{'/'.join(parts[: index + 1])}/ folder")
        return path

    def _check_files(self) -> None:
        """Every pair's frames and ground-truth files exist (each folder listed once), else one error lists them."""
        listings: dict[Path, set[str]] = {}
        missing: list[Path] = []
        only_ground_truth = True
        for pair in self._pairs.values():
            gt_files = self._gt_paths(pair) if self.has_ground_truth else []
            for path in [pair.first, pair.second, *gt_files]:
                if path.parent not in listings:
                    listings[path.parent] = _names(path.parent)
                if path.name not in listings[path.parent]:
                    missing.append(path)
                    only_ground_truth &= path in gt_files
        if missing:
            raise self.missing_files_error(missing, "ground-truth file(s)" if only_ground_truth else "file(s)")

    def sequence_frames(self, where: str, numbers: Sequence[int], name: Callable[[int], str], first: int) -> list[int]:
        """The frame numbers of one sequence (a Sintel scene, an HD1K sequence), sorted: at least two, numbered from
        `first` without gaps, else a layout error naming the first missing frame."""
        ordered = sorted(numbers)
        if len(ordered) < 2:
            raise DatasetLayoutError(
                f"{where} has {len(ordered)} frame(s) named like {name(first)}; it needs at least 2\n{self.layout()}"
            )
        gap = next((number for number, found in enumerate(ordered, start=first) if found != number), None)
        if gap is not None:
            raise DatasetLayoutError(
                f"{where}: frames must be numbered {name(first)}, {name(first + 1)}, ... without gaps; "
                f"{name(gap)} is missing\n{self.layout()}"
            )
        return ordered

    def sample_ids(self) -> list[str]:
        return list(self._pairs)

    def pair(self, sample_id: str) -> FramePair:
        """The frame pair of a sample id."""
        try:
            return self._pairs[sample_id]
        except KeyError:
            example = f"{self.id_prefix()}/{self.example_tail}"
            raise DatasetLayoutError(
                f"unknown sample id {sample_id!r} for {self!r}; ids look like {example!r}"
            ) from None

    @classmethod
    def gt_keys(cls) -> list[str]:
        """The names of the ground-truth arrays (and columns), in `channels` order."""
        return [key for channel in cls.channels for key in channel.keys]

    def features(self) -> datasets.Features:
        pixels = {key: column.feature() for channel in self.channels for key, column in channel.columns()}
        return datasets.Features(
            {
                "id": datasets.Value("string"),
                **self.pair_columns,
                "height": datasets.Value("int32"),
                "width": datasets.Value("int32"),
                "image1": datasets.Image(),
                "image2": datasets.Image(),
                **pixels,
            }
        )

    def image_pair(self, sample_id: str) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
        """Frames t and t+1 of the sample as (H, W, 3) uint8 RGB."""
        pair = self.pair(sample_id)
        first = read_rgb8(pair.first, gray=self.gray_frames)
        second = read_rgb8(pair.second, gray=self.gray_frames)
        if first.shape != second.shape:
            raise FormatError(
                pair.second, f"frame size {second.shape[:2]} differs from {pair.first.name} {first.shape[:2]}"
            )
        return first, second

    def _gt_paths(self, pair: FramePair) -> list[Path]:
        folder = self.root / self.gt_folder()
        return [folder / channel.folder / f"{pair.gt_name}{channel.format.suffix}" for channel in self.channels]

    def ground_truth_files(self, sample_id: str) -> list[Path]:
        """The sample's ground-truth files, one per channel, in `channels` order."""
        pair = self.pair(sample_id)
        if not self.has_ground_truth:
            raise DatasetLayoutError(f"{sample_id}: the {self.title} {self.split} split ships no ground truth")
        return self._gt_paths(pair)

    def ground_truth(self, sample_id: str) -> dict[str, NDArray[Any]]:
        """The ground-truth arrays of one sample (no images, so the evaluator stays cheap), keyed by `gt_keys()`:
        flows (H, W, 2) float32 (0 where invalid), masks (H, W) bool, label maps (H, W) uint8, all of one size.

        Decoded on every call; an evaluator reads what it derives from them through `cached_ground_truth` instead,
        decoded once per version of these files.
        """
        paths = self.ground_truth_files(sample_id)
        arrays: dict[str, NDArray[Any]] = {}
        for channel, path in zip(self.channels, paths, strict=True):
            decoded = channel.format.read(path)
            arrays.update(zip(channel.keys, decoded, strict=True))
            size, reference = decoded[0].shape[:2], arrays[self.channels[0].keys[0]].shape[:2]
            if size != reference:
                raise FormatError(
                    path, f"size {size} differs from {self.channels[0].folder}/{paths[0].name} {reference}"
                )
        return arrays

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for sample_id, pair in self._pairs.items():
            image1, image2 = self.image_pair(sample_id)
            height, width = image1.shape[:2]
            sample: dict[str, Any] = {
                "id": sample_id,
                **pair.columns,
                "height": height,
                "width": width,
                "image1": image1,
                "image2": image2,
            }
            if not self.has_ground_truth:
                yield sample | dict.fromkeys(self.gt_keys())
                continue
            gt = self.ground_truth(sample_id)
            size = gt[self.channels[0].keys[0]].shape[:2]
            if size != image1.shape[:2]:
                raise FormatError(
                    self._gt_paths(pair)[0], f"GT size {size} differs from the frame size {image1.shape[:2]}"
                )
            yield sample | {key: column.flatten(gt[key]) for c in self.channels for key, column in c.columns()}


def frames_named(folder: Path, pattern: re.Pattern[str]) -> list[re.Match[str]]:
    """The matches of `pattern` among the names of the files in `folder`, in name order."""
    return sorted((m for name in os.listdir(folder) if (m := pattern.match(name))), key=lambda m: m.string)


def _names(folder: Path) -> set[str]:
    """The names in `folder` (none if it cannot be listed: every file said to be in it is then missing)."""
    try:
        return set(os.listdir(folder))
    except OSError:
        return set()
