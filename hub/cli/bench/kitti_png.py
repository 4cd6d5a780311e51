"""KITTI flow PNG decoding: `loaders.formats.kitti_png.read_kitti_flow` (bytes -> (flow, valid), the reader of every
KITTI GT and prediction file) against bare `cv2.imread(path, cv2.IMREAD_UNCHANGED)`, which only decodes the PNG.

Workload: the `flow_occ` GT files of a KITTI-size release, `size` of them (default 200, the training split) at
1242x375, written by `loaders.synthetic.flow.build_kitti_2015` (sparse LiDAR-like validity, as in the release). The
project's side reads each file, decodes it unchanged, checks depth and channels, converts u, v to float32 pixels
and takes validity from B; the reference stops after decoding. The check: both saw the same pixels, and the
project found as many valid pixels as the files have non-zero B values (counted once, outside the timing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hub.cli.bench import BenchCase, Prepared
from hub.cli.bench.flow_kitti import SHAPE, imread, release
from loaders.formats.kitti_png import read_kitti_flow


def _prepare(workdir: Path, size: int) -> Prepared:
    root, _ = release(workdir, size)
    files = sorted((root / "training" / "flow_occ").glob("*_10.png"))
    valid_pixels = sum(int(np.count_nonzero(imread(path)[..., 0])) for path in files)

    def project() -> tuple[int, int]:
        pixels = valid = 0
        for path in files:
            _, mask = read_kitti_flow(path)
            pixels += mask.size
            valid += int(np.count_nonzero(mask))
        return pixels, valid

    def reference() -> int:
        pixels = 0
        for path in files:
            height, width = imread(path).shape[:2]
            pixels += height * width
        return pixels

    def check(a: Any, b: Any) -> None:
        if a != (b, valid_pixels):
            raise AssertionError(f"(pixels, valid pixels): reader {a}, cv2.imread {(b, valid_pixels)}")

    height, width = SHAPE
    return Prepared(project, reference, check, f"{len(files)} KITTI flow PNGs of {width}x{height} (flow_occ GT)")


CASE = BenchCase(
    name="kitti-png",
    description="decode KITTI 16-bit flow PNGs to (flow, valid)",
    project_name="loaders.formats.kitti_png.read_kitti_flow (read, decode, check, convert)",
    reference_name="cv2.imread(path, IMREAD_UNCHANGED) (decode only)",
    default_size=200,
    prepare=_prepare,
)
