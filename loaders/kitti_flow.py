"""KITTI 2015 optical flow (`data_scene_flow.zip`), read exactly as unpacked from the official download.

Why every ground-truth folder is loaded: the official ranking uses `flow_occ` (all pixels with GT), the
"non-occluded" table uses `flow_noc`, and the Fl-bg / Fl-fg split needs `obj_map` (> 0 = foreground), as in the
devkit's `evaluate_scene_flow.cpp`. torchvision and RAFT load `flow_occ` only, which cannot reproduce the table.

The skeleton (ids, checks, ground truth, the rows and their schema, testing rows with the ground-truth columns set
to None) is `loaders.optical_flow.OpticalFlowLoader`'s; this module declares the tree, the pairing and the channels.
"""

from __future__ import annotations

import re
from typing import ClassVar

import datasets

from hub.core.errors import DatasetLayoutError
from loaders.optical_flow import KITTI_FLOW_PNG, LABEL_MAP_PNG, Channel, FramePair, OpticalFlowLoader, frames_named

_FRAME = re.compile(r"^(\d{6})_10\.png$")


class KittiFlow2015(OpticalFlowLoader):
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
    title: ClassVar[str] = "KITTI 2015"
    example_tail: ClassVar[str] = "000042"
    pair_columns: ClassVar[dict[str, datasets.Value]] = {"frame": datasets.Value("string")}
    channels: ClassVar[tuple[Channel, ...]] = (
        Channel("flow_occ", KITTI_FLOW_PNG, ("flow_occ", "valid_occ")),
        Channel("flow_noc", KITTI_FLOW_PNG, ("flow_noc", "valid_noc")),
        Channel("obj_map", LABEL_MAP_PNG, ("obj_map",)),
    )

    def image_folder(self) -> str:
        return f"{self.split}/image_2"

    def pairs(self) -> list[FramePair]:
        """Each `NNNNNN_10.png` of `image_2/` with its `_11.png`; the ground truth is named after frame t."""
        frames = [match.group(1) for match in frames_named(self.images, _FRAME)]
        if not frames:
            raise DatasetLayoutError(f"no NNNNNN_10.png frames in {self.images}\n{self.layout()}")
        return [
            FramePair(
                frame, {"frame": frame}, self.images / f"{frame}_10.png", self.images / f"{frame}_11.png", f"{frame}_10"
            )
            for frame in frames
        ]

    def frame_of(self, sample_id: str) -> str:
        """The six-digit frame number of a sample id, e.g. '000042'."""
        return str(self.pair(sample_id).columns["frame"])
