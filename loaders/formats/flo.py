"""Middlebury `.flo` optical-flow files, as shipped by MPI-Sintel (`training/flow/<scene>/frame_XXXX.flo`).

Layout (Sintel README, "DATA FORMAT"; identical to the Middlebury `flow_code`): bytes 0-3 the tag "PIEH"
(the float32 202021.25 in little-endian, a sanity check), bytes 4-7 int32 width, bytes 8-11 int32 height, then
width*height*2 float32 values, u and v interleaved in row order. Everything is little-endian, so the file size
is exactly 12 + 8*W*H.

Why so strict: common readers use the host byte order (wrong on big-endian machines), read the header as
(h, w) instead of (w, h), or `np.resize` the payload, which silently repeats data when a file is truncated.
We use explicit '<f4'/'<i4', check the size to the byte and `reshape`, so a damaged submission fails loudly.
"""

from __future__ import annotations

from pathlib import Path

import datasets
import numpy as np
from numpy.typing import NDArray

from hub.core.errors import FormatError
from loaders.formats.masks import read_bytes

FLO_TAG = b"PIEH"  # == np.float32(202021.25).tobytes() on little-endian
HEADER_BYTES = 12
MAX_SIDE = 100_000  # far beyond any real frame; a larger header value means a corrupt or foreign file


def read_flo_bytes(data: bytes, name: str | Path) -> NDArray[np.float32]:
    """Decode the bytes of a `.flo` file into an (H, W, 2) float32 array (u, v in pixels)."""
    if len(data) < HEADER_BYTES:
        raise FormatError(name, f"truncated .flo file: {len(data)} bytes, the header alone is {HEADER_BYTES}")
    if data[:4] != FLO_TAG:
        raise FormatError(name, f"bad .flo magic {data[:4]!r}: expected {FLO_TAG!r} (float32 202021.25)")
    width, height = (int(v) for v in np.frombuffer(data, dtype="<i4", count=2, offset=4))
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise FormatError(name, f"absurd .flo size {width}x{height} (width x height); each must be 1..{MAX_SIDE}")
    expected = HEADER_BYTES + 8 * width * height
    if len(data) != expected:
        kind = "truncated" if len(data) < expected else "oversized"
        raise FormatError(name, f"{kind} .flo file: {len(data)} bytes, expected 12 + 8*{width}*{height} = {expected}")
    values = np.frombuffer(data, dtype="<f4", count=2 * width * height, offset=HEADER_BYTES)
    return values.reshape(height, width, 2).astype(np.float32)


def read_flo(path: str | Path) -> NDArray[np.float32]:
    """Read a `.flo` file into an (H, W, 2) float32 array (u, v in pixels)."""
    return read_flo_bytes(read_bytes(path), path)


def encode_flo(flow: NDArray[np.floating], name: str | Path = "flow array") -> bytes:
    """Encode an (H, W, 2) flow field as the bytes of a `.flo` file."""
    if flow.ndim != 3 or flow.shape[2] != 2 or flow.shape[0] == 0 or flow.shape[1] == 0:
        raise FormatError(name, f"flow must be a non-empty (H, W, 2) array, got shape {flow.shape}")
    height, width = flow.shape[:2]
    if width > MAX_SIDE or height > MAX_SIDE:
        raise FormatError(name, f"flow of {width}x{height} exceeds the {MAX_SIDE} px limit of the reader")
    header = FLO_TAG + np.array([width, height], dtype="<i4").tobytes()
    return header + np.ascontiguousarray(flow, dtype="<f4").tobytes()


def write_flo(path: str | Path, flow: NDArray[np.floating]) -> None:
    """Write an (H, W, 2) flow field (u, v in pixels) as a `.flo` file."""
    Path(path).write_bytes(encode_flo(flow, path))


def flow_feature() -> datasets.List:
    """An (H, W, 2) float32 flow column whose H and W may differ between rows (KITTI sizes vary), stored flat.

    The column holds the H*W*2 values of `flow_column(flow)`: the (u, v) of each pixel, pixels in row-major order
    (the order of a `.flo` payload); the row's `height` and `width` columns give the shape back:
    `np.asarray(row["flow"]).reshape(row["height"], row["width"], 2)`.

    Why flat: `datasets` 5.2 allows a dynamic size on the first dimension only (`Array3D(shape=(None, None, 2))`
    is refused), and the nested lists that would keep the shape decode one numpy array per pixel under
    `.with_format("numpy")` (about 2.5 s per KITTI field). A flat list decodes as one float32 array, and unlike
    `Array2D(shape=(None, 2))` a missing field (test splits) stays None instead of becoming NaN.
    """
    return datasets.List(datasets.Value("float32"))


def flow_column(flow: NDArray[np.float32]) -> NDArray[np.float32]:
    """The values of an (H, W, 2) flow in a `flow_feature()` column (a view of the C-contiguous arrays the readers
    return, so nothing is copied)."""
    return flow.reshape(-1)
