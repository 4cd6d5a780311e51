"""PNG rasters of the flow datasets other than the KITTI flow codec: 8-bit frames, masks and label maps.

Why one strict reader: OpenCV's default `imread` silently converts whatever it finds (16-bit, palette, alpha) to
8-bit BGR, which hides a wrong file behind plausible pixels. Here every PNG is decoded unchanged, its depth and
channel count are checked against what the official release ships, and a mismatch names the file.

- Frames (KITTI `image_2/`, Sintel `clean/`, `final/`): 8-bit RGB. OpenCV works in BGR, so we flip. A release whose
  frames may be 8-bit gray (HD1K, see `hub/benchmarks/notes/hd1k.md`) reads them widened to RGB.
- Sintel `occlusions/` and `invalid/`: 8-bit gray with values {0, 255} (the README says "1 = occluded"; the files
  hold 255), so a pixel is set when its value is > 0.
- KITTI `obj_map/`: 8-bit gray label map, 0 = background, > 0 = a foreground object (the devkit's fg test).

The `*_feature()` helpers say how these arrays are typed as `datasets` columns: flat, like flows
(`loaders.formats.flo.flow_feature`), so that every per-pixel column of a flow dataset follows one rule, "flat in
row order; reshape with the row's (height, width[, 2])".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import cv2
import datasets
import numpy as np
from numpy.typing import NDArray

from hub.core.errors import FormatError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Far beyond any frame of the releases (KITTI 1242x375, Sintel 1024x436). A 1 kB PNG can declare 20000x20000 pixels
# (OpenCV's own cap is 2^30), and OpenCV decodes into the whole raster before it finds that the pixel data is not
# there: a minute and 12 GB of memory per file for a 16-bit RGB one.
MAX_PNG_PIXELS = 50_000_000

_Pixel = TypeVar("_Pixel", bound=np.generic)


# PNG spec (ISO/IEC 15948, 11.2.2 IHDR): the bit depths each colour type allows.
PNG_BIT_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


def decode_png(data: bytes, name: str | Path) -> NDArray[Any]:
    """Decode PNG bytes without any conversion (depth and channels as stored; colour in OpenCV's BGR order)."""
    if not data.startswith(PNG_SIGNATURE):
        raise FormatError(name, "not a PNG file (missing the PNG signature)")
    if len(data) < 29 or data[12:16] != b"IHDR":
        raise FormatError(name, "PNG could not be decoded (no IHDR header chunk)")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if width * height > MAX_PNG_PIXELS:
        raise FormatError(name, f"PNG of {width}x{height} pixels is larger than the {MAX_PNG_PIXELS} pixels accepted")
    depth, colour, compression, filtering, interlace = data[24:29]
    if depth not in PNG_BIT_DEPTHS.get(colour, ()) or compression or filtering or interlace > 1:
        # OpenCV's decoder does not refuse every such header: a 45-byte PNG with bit depth 22 took 4 GB (atheris)
        raise FormatError(
            name, f"PNG header is invalid (bit depth {depth}, colour type {colour}, compression {compression}, "
            f"filter {filtering}, interlace {interlace})"
        )  # fmt: skip
    _check_chunks(data, name)
    try:
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:  # OpenCV refuses some headers with an exception rather than None
        raise FormatError(name, f"PNG could not be decoded ({exc.err or exc})") from None
    if image is None:
        raise FormatError(name, "PNG could not be decoded (corrupt or truncated)")
    return np.asarray(image)


def _check_chunks(data: bytes, name: str | Path) -> None:
    """Refuse a PNG whose chunks do not fit in its bytes, before OpenCV reads them.

    OpenCV's PNG decoder allocates a chunk's declared length before reading it: a 45-byte file whose second chunk
    declares 0xFF364400 bytes took 4.3 GB of memory to be refused (atheris, tests/test_atheris.py). The PNG spec
    (ISO/IEC 15948, 5.3) caps a chunk's length at 2^31 - 1; each chunk is length, type, data and CRC, and the file
    ends with IEND. Walking the chunk headers costs a few microseconds per chunk.
    """
    offset = len(PNG_SIGNATURE)
    while offset + 12 <= len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        kind = data[offset + 4 : offset + 8]
        if length > 2**31 - 1 or offset + 12 + length > len(data):
            raise FormatError(
                name, f"PNG could not be decoded (chunk {kind!r} at byte {offset} declares {length} bytes, "
                f"{max(0, len(data) - offset - 12)} remain)"
            )  # fmt: skip
        if kind == b"IEND":
            return
        offset += 12 + length
    raise FormatError(name, "PNG could not be decoded (truncated: no IEND chunk)")


def read_bytes(path: str | Path) -> bytes:
    """Read a whole file; a missing or unreadable file is a FormatError naming it (shared by every codec)."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise FormatError(path, f"cannot read file: {exc.strerror or exc}") from exc


def read_png(path: str | Path) -> NDArray[Any]:
    """Read a PNG file unchanged."""
    return decode_png(read_bytes(path), path)


def write_png(path: str | Path, image: NDArray[Any]) -> None:
    """Write an array (OpenCV channel order) as a PNG, keeping its bit depth."""
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise FormatError(path, f"OpenCV could not encode a {image.dtype} array of shape {image.shape} as PNG")
    Path(path).write_bytes(encoded.tobytes())


def _gray8(image: NDArray[Any], name: str | Path, what: str) -> NDArray[np.uint8]:
    if image.dtype != np.uint8:
        raise FormatError(name, f"{what} must be an 8-bit PNG, found {image.dtype}")
    if image.ndim != 2:
        raise FormatError(name, f"{what} must be a single-channel (gray) PNG, found {image.shape[2]} channels")
    return image.astype(np.uint8, copy=False)


def read_rgb8(path: str | Path, *, gray: bool = False) -> NDArray[np.uint8]:
    """Read an 8-bit RGB frame as an (H, W, 3) uint8 array in RGB order. With `gray`, an 8-bit single-channel frame
    is read too, its value copied to R, G and B (what torchvision's `convert("RGB")` and RAFT's loader make of it)."""
    image = read_png(path)
    if image.dtype != np.uint8:
        raise FormatError(path, f"frame must be an 8-bit PNG, found {image.dtype}")
    if gray and image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        channels = 1 if image.ndim == 2 else image.shape[2]
        raise FormatError(path, f"frame must be a 3-channel RGB PNG, found {channels} channel(s)")
    return np.ascontiguousarray(image[..., ::-1]).astype(np.uint8, copy=False)


def write_rgb8(path: str | Path, rgb: NDArray[np.uint8]) -> None:
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise FormatError(path, f"a frame must be an (H, W, 3) uint8 RGB array, got {rgb.dtype} {rgb.shape}")
    write_png(path, np.ascontiguousarray(rgb[..., ::-1]))


def read_mask(path: str | Path) -> NDArray[np.bool_]:
    """Read an 8-bit gray mask (Sintel occlusions/invalid, stored as {0, 255}) as bool: set where > 0."""
    return _gray8(read_png(path), path, "mask") > 0


def write_mask(path: str | Path, mask: NDArray[np.bool_]) -> None:
    """Write a bool mask the way Sintel ships them: 8-bit gray, 255 where set, 0 elsewhere."""
    if mask.ndim != 2:
        raise FormatError(path, f"a mask must be a 2-D array, got shape {mask.shape}")
    write_png(path, np.where(mask, 255, 0).astype(np.uint8))


def read_label_map(path: str | Path) -> NDArray[np.uint8]:
    """Read an 8-bit gray label map (KITTI obj_map: 0 = background, > 0 = foreground object)."""
    return _gray8(read_png(path), path, "label map")


def write_label_map(path: str | Path, labels: NDArray[np.uint8]) -> None:
    if labels.dtype != np.uint8 or labels.ndim != 2:
        raise FormatError(path, f"a label map must be a 2-D uint8 array, got {labels.dtype} {labels.shape}")
    write_png(path, labels)


def mask_feature() -> datasets.List:
    """An (H, W) bool column whose H and W may differ between rows (KITTI sizes vary), stored flat.

    The column holds the H*W values of `mask_column(mask)`, pixels in row-major order; the row's `height` and
    `width` columns give the shape back: `np.asarray(row["valid_occ"]).reshape(row["height"], row["width"])`.
    `.with_format("numpy")` returns it as bool.

    Why flat: `Array2D(shape=(None, None))` is refused by datasets 5.2 (only the first dimension may be dynamic),
    and nested (H, W) lists decode one numpy array per image row under `.with_format("numpy")` (about 4 ms per
    KITTI mask, 3 per row); a flat list decodes as one array (under 1 ms), and a missing mask (test splits) stays
    None.
    """
    return datasets.List(datasets.Value("bool"))


def label_map_feature() -> datasets.List:
    """An (H, W) uint8 column whose H and W may differ between rows, stored flat like `mask_feature()`.

    The stored values are exact uint8 (`.with_format("arrow")` and the column's feature say so), but
    `.with_format("numpy")` hands every integer column back as int64: the values are the same, the dtype is not.
    """
    return datasets.List(datasets.Value("uint8"))


def mask_column(pixels: NDArray[_Pixel]) -> NDArray[_Pixel]:
    """The values of an (H, W) mask or label map in a `mask_feature()`/`label_map_feature()` column, in row-major
    order (a view of the C-contiguous arrays the readers return, so nothing is copied)."""
    return pixels.reshape(-1)
