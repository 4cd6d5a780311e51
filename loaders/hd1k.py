"""HD1K optical flow (the HCI benchmark suite, Kondermann et al., CVPR Workshops 2016), read as unpacked from the
official downloads (`hd1k_input.zip`, `hd1k_flow_gt.zip`, `hd1k_challenge.zip`) into one root.

The tree is the one torchvision's `HD1K` reads: the training frames are sequences `<sequence>_<frame>.png` (six and
four digits), their ground truth KITTI-format 16-bit flow PNGs of the same name (frame -> frame + 1; the B channel
marks the pixels with ground truth, which is semi-dense); the challenge pairs are named like KITTI's,
`<sequence>_10.png` -> `<sequence>_11.png`, and ship no ground truth. As torchvision does, pairs never cross a
sequence; unlike it, frames must be numbered from 0000 without gaps (torchvision pairs the n-th and n+1-th files it
finds), so a partial copy is an error rather than pairs of frames that do not follow each other. The uncertainty
maps (`hd1k_flow_uncertainty.zip`) are not read. The frames are read as 8-bit RGB PNGs, as for KITTI; this reading
has not yet been checked on the real release's files.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import partial
from typing import ClassVar

import datasets

from hub.core.errors import DatasetLayoutError
from loaders.optical_flow import KITTI_FLOW_PNG, Channel, FramePair, OpticalFlowLoader, frames_named

_SEQUENCE_FRAME = re.compile(r"^(\d{6})_(\d{4})\.png$")
_CHALLENGE_PAIR = re.compile(r"^(\d{6})_10\.png$")


class HD1K(OpticalFlowLoader):
    """HD1K optical flow: frame i -> i+1 of a sequence (training), or a KITTI-style _10 -> _11 pair (testing).

    <root>/                                       (hd1k_input, hd1k_flow_gt and hd1k_challenge, unpacked)
    ├── hd1k_input/image_2/000000_0000.png, 000000_0001.png, ...   frames, <sequence>_<frame>.png
    ├── hd1k_flow_gt/flow_occ/000000_0000.png, ...                 16-bit KITTI-format GT flow, frame -> frame + 1
    └── hd1k_challenge/image_2/000000_10.png, 000000_11.png, ...   testing pairs (no ground truth)
    """

    splits: ClassVar[tuple[str, ...]] = ("training", "testing")
    name: ClassVar[str] = "hd1k"
    title: ClassVar[str] = "HD1K"
    example_tail: ClassVar[str] = "000000_0042"
    pair_columns: ClassVar[dict[str, datasets.Value]] = {
        "sequence": datasets.Value("string"),
        "frame": datasets.Value("int32"),
    }
    channels: ClassVar[tuple[Channel, ...]] = (Channel("flow_occ", KITTI_FLOW_PNG, ("flow_occ", "valid_occ")),)

    def image_folder(self) -> str:
        return "hd1k_input/image_2" if self.split == "training" else "hd1k_challenge/image_2"

    def gt_folder(self) -> str:
        return "hd1k_flow_gt"

    def pairs(self) -> list[FramePair]:
        """Training: frames i -> i+1 of each sequence, the ground truth named after frame i. Testing: each
        `<sequence>_10.png` with its `_11.png`."""
        if self.split == "testing":
            numbered = {match.group(1): [10, 11] for match in frames_named(self.images, _CHALLENGE_PAIR)}
        else:
            found: dict[str, list[int]] = defaultdict(list)
            for match in frames_named(self.images, _SEQUENCE_FRAME):
                found[match.group(1)].append(int(match.group(2)))
            numbered = {}
            for sequence, numbers in sorted(found.items()):
                where, name = f"sequence {sequence} in {self.images}", partial(self._file_name, sequence)
                numbered[sequence] = self.sequence_frames(where, numbers, name, first=0)
        if not numbered:
            pattern = "NNNNNN_10.png" if self.split == "testing" else "NNNNNN_NNNN.png"
            raise DatasetLayoutError(f"no {pattern} frames in {self.images}\n{self.layout()}")
        pairs = []
        for sequence, numbers in numbered.items():
            for number in numbers[:-1]:
                first, second = (self.images / self._file_name(sequence, n) for n in (number, number + 1))
                stem = self._stem(sequence, number)
                pairs.append(FramePair(stem, {"sequence": sequence, "frame": number}, first, second, stem))
        return pairs

    def _file_name(self, sequence: str, number: int) -> str:
        return f"{self._stem(sequence, number)}.png"

    def _stem(self, sequence: str, number: int) -> str:
        """A frame's file name without `.png`: `000000_0042` in a training sequence, `000000_10` in a testing pair."""
        return f"{sequence}_{number:04d}" if self.split == "training" else f"{sequence}_{number}"
