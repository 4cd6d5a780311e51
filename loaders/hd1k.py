"""HD1K optical flow (the HCI benchmark suite, Kondermann et al., CVPR Workshops 2016), read as unpacked from the
official downloads (`hd1k_input.zip`, `hd1k_flow_gt.zip`, `hd1k_challenge.zip`) into one root.

What the release holds, and the sources, are in `hub/benchmarks/notes/hd1k.md`. In short: the training frames are
36 sequences (000000-000035) of `<sequence>_<frame>.png` (six and four digits) at 2560x1080; their ground truth is a
KITTI-format 16-bit flow PNG of the same name in `flow_occ/` (frame -> frame + 1; the B channel marks the pixels
with ground truth, which is semi-dense); the challenge pairs are `<sequence>_0010.png` -> `<sequence>_0011.png`
(the four-digit names of the authors' own devkit, `flow/benchmark_hd1k.py` in `ozendelait/rvc_devkit`, whose
submission is `flow/<sequence>_0010.png`) and ship no ground truth. As torchvision does, pairs never cross a
sequence; unlike it, a sequence's frames must follow each other without gaps from its first one (torchvision pairs
the n-th and n+1-th files it finds), so a partial copy is an error rather than pairs of frames that do not follow
each other. Where a sequence starts is not fixed: no source shows the release's first frame number (ptlflow's
validation list starts every sequence at 0010). The uncertainty maps (`hd1k_flow_uncertainty.zip`) are not read.
The frames are 8-bit PNGs, read as RGB; a single-channel (gray) frame is widened to RGB, as torchvision and RAFT do
(RAFT's loader has a gray branch that no other release it reads needs). None of this has yet been checked on the
real release's files.
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
_CHALLENGE_PAIR = re.compile(r"^(\d{6})_0010\.png$")


class HD1K(OpticalFlowLoader):
    """HD1K optical flow: frame i -> i+1 of a sequence (training), or a challenge pair _0010 -> _0011 (testing).

    <root>/                                       (hd1k_input, hd1k_flow_gt and hd1k_challenge, unpacked)
    ├── hd1k_input/image_2/000000_0000.png, 000000_0001.png, ...   frames, <sequence>_<frame>.png
    ├── hd1k_flow_gt/flow_occ/000000_0000.png, ...                 16-bit KITTI-format GT flow, frame -> frame + 1
    └── hd1k_challenge/image_2/000000_0010.png, 000000_0011.png, ...   testing pairs (no ground truth)
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
    gray_frames: ClassVar[bool] = True

    def image_folder(self) -> str:
        return "hd1k_input/image_2" if self.split == "training" else "hd1k_challenge/image_2"

    def gt_folder(self) -> str:
        return "hd1k_flow_gt"

    def pairs(self) -> list[FramePair]:
        """Training: frames i -> i+1 of each sequence, the ground truth named after frame i. Testing: each
        `<sequence>_0010.png` with its `_0011.png`."""
        if self.split == "testing":
            numbered = {match.group(1): [10, 11] for match in frames_named(self.images, _CHALLENGE_PAIR)}
        else:
            found: dict[str, list[int]] = defaultdict(list)
            for match in frames_named(self.images, _SEQUENCE_FRAME):
                found[match.group(1)].append(int(match.group(2)))
            numbered = {}
            for sequence, numbers in sorted(found.items()):
                where, name = f"sequence {sequence} in {self.images}", partial(self._file_name, sequence)
                numbered[sequence] = self.sequence_frames(where, numbers, name, first=min(numbers))
        if not numbered:
            pattern = "NNNNNN_0010.png" if self.split == "testing" else "NNNNNN_NNNN.png"
            raise DatasetLayoutError(f"no {pattern} frames in {self.images}\n{self.layout()}")
        pairs = []
        for sequence, numbers in numbered.items():
            for number in numbers[:-1]:
                first, second = (self.images / self._file_name(sequence, n) for n in (number, number + 1))
                stem = f"{sequence}_{number:04d}"
                pairs.append(FramePair(stem, {"sequence": sequence, "frame": number}, first, second, stem))
        return pairs

    @staticmethod
    def _file_name(sequence: str, number: int) -> str:
        """A frame's file name, `000000_0042.png` (training and challenge frames are named alike)."""
        return f"{sequence}_{number:04d}.png"
