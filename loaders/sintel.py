"""MPI-Sintel optical flow (`MPI-Sintel-complete.zip`), read exactly as unpacked from the official download.

Pairs are built per scene: `flow/<scene>/frame_i.flo` maps `frame_i` to `frame_{i+1}` of the same scene, and the
last frame of a scene starts no pair (pairing across scenes is a classic bug). Besides the flow, the occlusion
masks (needed for EPE matched/unmatched and the d-ranges) and the invalid masks are loaded. The official release
has an `invalid/` mask for every frame, so a missing one means a broken or partial copy and is an error rather
than "all valid".

The skeleton (ids, checks, ground truth, the rows and their schema, test rows with the ground-truth columns set to
None) is `loaders.optical_flow.OpticalFlowLoader`'s; this module declares the tree, the pairing and the channels.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

import datasets

from hub.core.errors import DatasetLayoutError
from loaders.optical_flow import MASK_PNG, MIDDLEBURY_FLO, Channel, FramePair, OpticalFlowLoader, frames_named

_FRAME = re.compile(r"^frame_(\d{4})\.png$")
PASSES = ("clean", "final")


def _frame_name(number: int) -> str:
    return f"frame_{number:04d}"


class Sintel(OpticalFlowLoader):
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
    title: ClassVar[str] = "Sintel"
    example_tail: ClassVar[str] = "alley_1/frame_0001"
    pair_columns: ClassVar[dict[str, datasets.Value]] = {
        "scene": datasets.Value("string"),
        "frame": datasets.Value("int32"),
    }
    channels: ClassVar[tuple[Channel, ...]] = (
        Channel("flow", MIDDLEBURY_FLO, ("flow",)),
        Channel("occlusions", MASK_PNG, ("occlusion",)),
        Channel("invalid", MASK_PNG, ("invalid",)),
    )

    def __init__(
        self, root: str | Path, split: str = "training", config: str | None = None, pass_name: str = "clean"
    ) -> None:
        if pass_name not in PASSES:
            raise DatasetLayoutError(f"Sintel: unknown pass {pass_name!r}; valid passes: {', '.join(PASSES)}")
        self.pass_name = pass_name
        super().__init__(root, split, config)

    def image_folder(self) -> str:
        return f"{self.split}/{self.pass_name}"

    def id_prefix(self) -> str:
        return f"{self.name}/{self.pass_name}/{self.split}"

    def __repr__(self) -> str:
        return f"Sintel(root={str(self.root)!r}, split={self.split!r}, pass_name={self.pass_name!r})"

    def pairs(self) -> list[FramePair]:
        """Frames i -> i+1 of each scene folder, frames numbered from 1 without gaps; the ground truth is named
        after frame i."""
        scenes = sorted(p.name for p in self.images.iterdir() if p.is_dir())
        if not scenes:
            raise DatasetLayoutError(f"no scene folders in {self.images}\n{self.layout()}")
        pairs = []
        for scene in scenes:
            folder = self.images / scene
            found = [int(match.group(1)) for match in frames_named(folder, _FRAME)]
            numbers = self.sequence_frames(f"scene {folder}", found, lambda n: f"{_frame_name(n)}.png", first=1)
            for number in numbers[:-1]:
                name = f"{scene}/{_frame_name(number)}"
                columns = {"scene": scene, "frame": number}
                first, second = folder / f"{_frame_name(number)}.png", folder / f"{_frame_name(number + 1)}.png"
                pairs.append(FramePair(name, columns, first, second, name))
        return pairs

    def scene_of(self, sample_id: str) -> str:
        """The scene a sample belongs to (the per-scene breakdown key)."""
        return str(self.pair(sample_id).columns["scene"])
