"""KITTI optical-flow PNGs: 3-channel 16-bit, R = u, G = v, B = valid.

Official definition (KITTI 2015 devkit `readme.txt`): "Optical flow maps are saved as 3-channel uint16 PNG images:
The first channel contains the u-component, the second channel the v-component and the third channel denotes if
the pixel is valid or not (1 if true, 0 otherwise). To convert the u-/v-flow into floating point values, convert
the value to float, subtract 2^15 and divide the result by 64.0". The devkit's C++ reader (`io_flow.h`) treats a
pixel as valid when blue > 0 and sets u = v = 0 otherwise; its writer clamps to [0, 65535] and writes invalid
pixels as all-zero. Ground truth and submissions use the same format, so one codec serves both.

Traps this module exists to avoid: OpenCV returns channels as BGR (so u is channel 2, not 0), a plain
`cv2.imread` or PIL silently drops to 8 bits, and validity must come from B only (invalid GT pixels hold 32768 in
R and G). Encoding rounds to the nearest 1/64 px and clips, where `astype(uint16)` alone would truncate and wrap
flows beyond ±512 px around.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from hub.core.errors import FormatError
from loaders.formats.masks import decode_png, read_bytes, write_png

OFFSET = 2**15
SCALE = 64.0


def decode_kitti_flow(
    rgb: NDArray[Any], name: str | Path = "KITTI flow array"
) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """Turn an (H, W, 3) uint16 array in R, G, B order into (flow (H, W, 2) float32, valid (H, W) bool)."""
    return _decode(rgb, name, red=0)


def _decode(image: NDArray[Any], name: str | Path, red: int) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """`decode_kitti_flow` for an image whose R channel is `red` (0 in the file's order, 2 in OpenCV's BGR).

    Why it is written this way: this runs on every GT and prediction PNG, and the plain numpy version
    (`(rgb[..., :2] - OFFSET) / SCALE`, then `flow[~valid] = 0`) cost half as much again as decoding the PNG, in
    strided reads and a boolean mask broadcast over the last axis. Here every pass is contiguous: OpenCV picks the
    channels, the offset and scale are applied in place (multiplying by 1/64, a power of two, gives the very bits
    dividing by 64 does), and an invalid pixel's (u, v) pair is zeroed as one 64-bit word, which leaves +0.0 in
    both, exactly as the mask assignment did.
    """
    if image.dtype != np.uint16:
        depth = 8 * image.dtype.itemsize
        raise FormatError(name, f"KITTI flow PNG must be 16-bit, found {depth}-bit ({image.dtype})")
    if image.ndim != 3 or image.shape[2] != 3:
        channels = 1 if image.ndim == 2 else image.shape[2]
        raise FormatError(name, f"KITTI flow PNG must have 3 channels (R=u, G=v, B=valid), found {channels}")
    image = np.ascontiguousarray(image)
    valid = np.asarray(cv2.extractChannel(image, 2 - red)) > 0
    uv = np.empty((*image.shape[:2], 2), dtype=np.uint16)
    cv2.mixChannels([image], [uv], [red, 0, 1, 1])
    flow = uv.astype(np.float32)
    flow -= np.float32(OFFSET)
    flow *= np.float32(1.0 / SCALE)
    flow.view(np.uint64)[..., 0] *= valid
    return flow, valid


def encode_kitti_flow(
    flow: NDArray[np.floating],
    valid: NDArray[np.bool_] | None = None,
    name: str | Path = "KITTI flow array",
) -> NDArray[np.uint16]:
    """Turn flow (H, W, 2) and an optional valid mask (default: all valid) into (H, W, 3) uint16 R, G, B."""
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise FormatError(name, f"flow must be an (H, W, 2) array, got shape {flow.shape}")
    if valid is None:
        valid = np.ones(flow.shape[:2], dtype=bool)
    elif valid.shape != flow.shape[:2]:
        raise FormatError(name, f"valid mask shape {valid.shape} does not match flow shape {flow.shape[:2]}")
    valid = valid.astype(bool, copy=False)
    values = flow.astype(np.float64)
    bad = valid & ~np.isfinite(values).all(axis=2)
    if bad.any():
        y, x = np.argwhere(bad)[0]
        raise FormatError(name, f"{int(bad.sum())} valid pixel(s) have non-finite flow, first at (x={x}, y={y})")
    quantised = np.clip(np.rint(np.where(valid[..., None], values, 0.0) * SCALE + OFFSET), 0, 65535)
    rgb = np.zeros((*flow.shape[:2], 3), dtype=np.uint16)
    rgb[..., :2] = quantised.astype(np.uint16)
    rgb[..., 2] = 1
    rgb[~valid] = 0
    return rgb


def read_kitti_flow_bytes(data: bytes, name: str | Path) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """Decode the bytes of a KITTI flow PNG (e.g. a member of a submission zip)."""
    return _decode(decode_png(data, name), name, red=2)  # OpenCV decodes to B, G, R


def read_kitti_flow(path: str | Path) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """Read a KITTI flow PNG: flow (H, W, 2) float32 with u, v in pixels (0 where invalid), valid (H, W) bool."""
    return read_kitti_flow_bytes(read_bytes(path), path)


def write_kitti_flow(path: str | Path, flow: NDArray[np.floating], valid: NDArray[np.bool_] | None = None) -> None:
    """Write flow (and validity, default all valid) as a KITTI 16-bit PNG, the GT and submission format."""
    rgb = encode_kitti_flow(flow, valid, name=path)
    write_png(path, np.ascontiguousarray(rgb[..., ::-1]))
