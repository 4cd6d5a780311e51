"""Byte-level tests of the flow codecs: KITTI 16-bit PNG, Middlebury .flo and the 8-bit PNG masks/frames.

Reference files are built here by hand with cv2/numpy straight from the format definitions (not with the code
under test), so a symmetric mistake in reader and writer (e.g. swapped channels) cannot pass.
"""

from __future__ import annotations

import base64
from pathlib import Path

import cv2
import numpy as np
import pytest

from hub.core.errors import FormatError
from loaders.formats.flo import FLO_TAG, encode_flo, read_flo, read_flo_bytes, write_flo
from loaders.formats.kitti_png import (
    decode_kitti_flow,
    encode_kitti_flow,
    read_kitti_flow,
    read_kitti_flow_bytes,
    write_kitti_flow,
)
from loaders.formats.masks import read_label_map, read_mask, read_rgb8, write_mask, write_rgb8

# ---------------------------------------------------------------- KITTI PNG


def test_kitti_png_hand_built_in_bgr_decodes_r_as_u_g_as_v(tmp_path: Path) -> None:
    # A 1x3 image written in the file's R, G, B terms: u = 3 px -> R = 32768 + 3*64 = 32960;
    # v = -2 px -> G = 32768 - 2*64 = 32640; B = 1 (valid). The second pixel is u = -0.5 (R = 32736),
    # v = 100.25 (G = 32768 + 6416 = 39184). The third is invalid: R = G = 32768, B = 0.
    rgb = np.array([[[32960, 32640, 1], [32736, 39184, 7], [32768, 32768, 0]]], dtype=np.uint16)
    path = tmp_path / "000000_10.png"
    assert cv2.imwrite(str(path), rgb[..., ::-1])  # OpenCV writes BGR: reverse so the file holds R, G, B
    flow, valid = read_kitti_flow(path)
    assert flow.dtype == np.float32 and flow.shape == (1, 3, 2)
    np.testing.assert_array_equal(valid, [[True, True, False]])
    np.testing.assert_array_equal(flow[0, 0], [3.0, -2.0])
    np.testing.assert_array_equal(flow[0, 1], [-0.5, 100.25])
    np.testing.assert_array_equal(flow[0, 2], [0.0, 0.0])  # invalid: zeroed, as the devkit does


def test_kitti_png_writer_puts_u_in_red_and_invalid_as_zero(tmp_path: Path) -> None:
    flow = np.array([[[1.0, -1.0], [5.0, 5.0]]], dtype=np.float32)
    valid = np.array([[True, False]])
    path = tmp_path / "f.png"
    write_kitti_flow(path, flow, valid)
    bgr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert bgr is not None and bgr.dtype == np.uint16 and bgr.shape == (1, 2, 3)
    # u = 1 -> 32768 + 64 = 32832 in R (OpenCV channel 2); v = -1 -> 32704 in G; B = 1.
    np.testing.assert_array_equal(bgr[0, 0], [1, 32704, 32832])
    np.testing.assert_array_equal(bgr[0, 1], [0, 0, 0])


@pytest.mark.parametrize("shape", [(4, 7), (13, 2)])
def test_kitti_png_round_trip_large_negative_and_invalid(tmp_path: Path, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(1)
    # Values on the 1/64 px grid inside the representable range [-512, 512) survive exactly.
    flow = (rng.integers(-500 * 64, 500 * 64, size=(*shape, 2)) / 64).astype(np.float32)
    flow[0, 0] = [500.0, -500.0]
    valid = rng.random(shape) < 0.7
    valid[0, 0] = True
    path = tmp_path / "rt.png"
    write_kitti_flow(path, flow, valid)
    back, back_valid = read_kitti_flow(path)
    np.testing.assert_array_equal(back_valid, valid)
    np.testing.assert_array_equal(back[valid], flow[valid])
    assert not back[~valid].any()


def test_kitti_png_rounds_to_nearest_and_clips(tmp_path: Path) -> None:
    # 0.3*64 = 19.2 -> 19 -> 19/64; -0.3 -> -19/64 (nearest, not truncation towards 32768-19.2 = 32748.8 -> 32748);
    # 600 px -> 32768 + 38400 = 71168 -> clipped to 65535 -> 32767/64 = 511.984375; -600 -> 0 -> -512.
    flow = np.array([[[0.3, -0.3], [600.0, -600.0]]], dtype=np.float32)
    path = tmp_path / "q.png"
    write_kitti_flow(path, flow)
    back, valid = read_kitti_flow(path)
    assert valid.all()
    np.testing.assert_array_equal(back[0, 0], np.array([19 / 64, -19 / 64], dtype=np.float32))
    np.testing.assert_array_equal(back[0, 1], [511.984375, -512.0])


def test_kitti_pure_codec_round_trip() -> None:
    flow = np.array([[[1.5, -2.25], [0.0, 7.0]]], dtype=np.float32)
    valid = np.array([[True, False]])
    rgb = encode_kitti_flow(flow, valid)
    # Hand values: 1.5 -> 32768 + 96 = 32864, -2.25 -> 32768 - 144 = 32624, B = 1; invalid pixel all-zero.
    np.testing.assert_array_equal(rgb, [[[32864, 32624, 1], [0, 0, 0]]])
    back, back_valid = decode_kitti_flow(rgb)
    np.testing.assert_array_equal(back_valid, valid)
    np.testing.assert_array_equal(back[0, 0], flow[0, 0])


def test_kitti_writer_rejects_non_finite_valid_flow_but_not_invalid(tmp_path: Path) -> None:
    flow = np.array([[[np.nan, 0.0], [1.0, 1.0]]], dtype=np.float32)
    with pytest.raises(FormatError, match=r"non-finite flow, first at \(x=0, y=0\)") as err:
        write_kitti_flow(tmp_path / "nan.png", flow)
    assert "nan.png" in str(err.value)
    write_kitti_flow(tmp_path / "ok.png", flow, np.array([[False, True]]))
    back, valid = read_kitti_flow(tmp_path / "ok.png")
    np.testing.assert_array_equal(valid, [[False, True]])
    np.testing.assert_array_equal(back[0, 1], [1.0, 1.0])


def _write_raw(path: Path, image: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), image)
    return path


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.full((3, 4, 3), 128, dtype=np.uint8), "must be 16-bit, found 8-bit"),
        (np.full((3, 4), 32768, dtype=np.uint16), "must have 3 channels .* found 1"),
        (np.full((3, 4, 4), 32768, dtype=np.uint16), "must have 3 channels .* found 4"),
    ],
)
def test_kitti_png_rejects_wrong_depth_or_channels(tmp_path: Path, image: np.ndarray, message: str) -> None:
    path = _write_raw(tmp_path / "bad_10.png", image)
    with pytest.raises(FormatError, match=message) as err:
        read_kitti_flow(path)
    assert str(path) in str(err.value)


def test_kitti_png_rejects_non_png_truncated_and_missing(tmp_path: Path) -> None:
    jpeg = tmp_path / "jpeg_10.png"
    encoded, data = cv2.imencode(".jpg", np.zeros((4, 4, 3), dtype=np.uint8))
    assert encoded
    jpeg.write_bytes(data.tobytes())
    with pytest.raises(FormatError, match="not a PNG") as err:
        read_kitti_flow(jpeg)
    assert str(jpeg) in str(err.value)

    whole = tmp_path / "whole.png"
    write_kitti_flow(whole, np.zeros((20, 20, 2), dtype=np.float32))
    cut = tmp_path / "cut_10.png"
    cut.write_bytes(whole.read_bytes()[:40])
    with pytest.raises(FormatError, match="could not be decoded") as err:
        read_kitti_flow(cut)
    assert str(cut) in str(err.value)

    with pytest.raises(FormatError, match="cannot read file") as err:
        read_kitti_flow(tmp_path / "absent_10.png")
    assert "absent_10.png" in str(err.value)


def test_a_png_chunk_longer_than_the_file_is_refused_before_decoding() -> None:
    """atheris found this 45-byte PNG (a valid 4x3 header, then an IEND chunk declaring 0xFF364400 bytes): OpenCV
    allocated the declared length, 4.3 GB, before refusing it. The chunk walk refuses it from the lengths alone,
    and a whole PNG whose chunks all fit still decodes."""
    hostile = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAQAAAADCAIAAAA7lv///zZEAElFTkSuQmCC")
    with pytest.raises(FormatError, match=r"chunk b'IEND' at byte 33 declares 4281746432 bytes, 0 remain"):
        read_kitti_flow_bytes(hostile, "flow/000000_10.png")
    whole = encode_kitti_flow(np.zeros((3, 4, 2), dtype=np.float32))
    ok, png = cv2.imencode(".png", whole[..., ::-1])
    assert ok
    flow, valid = read_kitti_flow_bytes(png.tobytes(), "flow/000000_10.png")
    assert flow.shape == (3, 4, 2) and valid.all()
    with pytest.raises(FormatError, match="no IEND chunk"):
        read_kitti_flow_bytes(png.tobytes()[:-12], "flow/000000_10.png")


# ---------------------------------------------------------------- .flo


def _flo_bytes(width: int, height: int, values: np.ndarray, tag: bytes = b"PIEH") -> bytes:
    return tag + np.array([width, height], dtype="<i4").tobytes() + values.astype("<f4").tobytes()


def test_flo_tag_is_the_float_202021_25() -> None:
    assert np.frombuffer(FLO_TAG, dtype="<f4")[0] == np.float32(202021.25)


def test_flo_hand_built_file_is_width_first_and_interleaved(tmp_path: Path) -> None:
    # Width 3, height 2, payload 0..11: row 0 is (0,1) (2,3) (4,5), row 1 is (6,7) (8,9) (10,11).
    path = tmp_path / "frame_0001.flo"
    path.write_bytes(_flo_bytes(3, 2, np.arange(12, dtype=np.float32)))
    flow = read_flo(path)
    assert flow.dtype == np.float32 and flow.shape == (2, 3, 2)
    np.testing.assert_array_equal(flow[0, 2], [4.0, 5.0])
    np.testing.assert_array_equal(flow[1, 0], [6.0, 7.0])


def test_flo_round_trip_exact_including_large_and_big_endian_input(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    flow = rng.uniform(-500, 500, size=(5, 9, 2)).astype(np.float32)
    flow[0, 0] = [500.0, -500.0]
    flow[0, 1] = [1 / 3, -1e-7]
    path = tmp_path / "rt.flo"
    write_flo(path, flow.astype(">f4"))  # a big-endian array must still be written little-endian
    assert path.stat().st_size == 12 + 8 * 9 * 5
    np.testing.assert_array_equal(read_flo(path), flow)
    assert encode_flo(flow) == path.read_bytes()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_flo_bytes(2, 2, np.zeros(8), tag=b"PIEX"), "bad .flo magic"),
        (_flo_bytes(2, 2, np.zeros(8))[:-4], r"truncated .flo file: 40 bytes, expected 12 \+ 8\*2\*2 = 44"),
        (_flo_bytes(2, 2, np.zeros(9)), "oversized .flo file: 48 bytes"),
        (b"PIEH\x02\x00", "truncated .flo file: 6 bytes"),
        (_flo_bytes(0, 2, np.zeros(0)), "absurd .flo size 0x2"),
        (_flo_bytes(3, -5, np.zeros(0)), "absurd .flo size 3x-5"),
        (_flo_bytes(200_000, 1, np.zeros(0)), "absurd .flo size 200000x1"),
    ],
)
def test_flo_rejects_bad_files_naming_them(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "scene" / "frame_0007.flo"
    path.parent.mkdir()
    path.write_bytes(data)
    with pytest.raises(FormatError, match=message) as err:
        read_flo(path)
    assert str(path) in str(err.value)


def test_flo_bytes_reader_names_the_member() -> None:
    with pytest.raises(FormatError, match=r"^predictions.zip:alley_1/frame_0001.flo: bad .flo magic"):
        read_flo_bytes(b"XXXX" + bytes(8), "predictions.zip:alley_1/frame_0001.flo")


def test_flo_writer_rejects_wrong_shape(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"\(H, W, 2\)"):
        write_flo(tmp_path / "x.flo", np.zeros((4, 4, 3), dtype=np.float32))


# ---------------------------------------------------------------- 8-bit masks and frames


def test_mask_thresholds_above_zero_and_writes_0_255(tmp_path: Path) -> None:
    # Sintel stores {0, 255}; its README says "1 = occluded", so 1 must count as set too.
    path = _write_raw(tmp_path / "occ.png", np.array([[0, 255, 1]], dtype=np.uint8))
    np.testing.assert_array_equal(read_mask(path), [[False, True, True]])
    out = tmp_path / "out.png"
    write_mask(out, np.array([[True, False]]))
    np.testing.assert_array_equal(cv2.imread(str(out), cv2.IMREAD_UNCHANGED), [[255, 0]])


def test_label_map_keeps_object_ids(tmp_path: Path) -> None:
    path = _write_raw(tmp_path / "obj.png", np.array([[0, 1, 2, 7]], dtype=np.uint8))
    labels = read_label_map(path)
    assert labels.dtype == np.uint8
    np.testing.assert_array_equal(labels, [[0, 1, 2, 7]])


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((2, 2, 3), dtype=np.uint8), "single-channel"),
        (np.zeros((2, 2), dtype=np.uint16), "8-bit PNG, found uint16"),
    ],
)
def test_mask_rejects_colour_or_16_bit(tmp_path: Path, image: np.ndarray, message: str) -> None:
    path = _write_raw(tmp_path / "m.png", image)
    with pytest.raises(FormatError, match=message) as err:
        read_mask(path)
    assert str(path) in str(err.value)


def test_rgb_frame_is_returned_in_rgb_order(tmp_path: Path) -> None:
    bgr = np.zeros((1, 2, 3), dtype=np.uint8)
    bgr[0, 0] = [255, 0, 0]  # pure blue in OpenCV's BGR
    path = _write_raw(tmp_path / "frame.png", bgr)
    rgb = read_rgb8(path)
    np.testing.assert_array_equal(rgb[0, 0], [0, 0, 255])
    write_rgb8(tmp_path / "again.png", rgb)
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / "again.png"), cv2.IMREAD_UNCHANGED), bgr)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((2, 2, 3), dtype=np.uint16), "8-bit PNG, found uint16"),
        (np.zeros((2, 2), dtype=np.uint8), "3-channel RGB PNG, found 1"),
    ],
)
def test_rgb_frame_rejects_16_bit_or_gray(tmp_path: Path, image: np.ndarray, message: str) -> None:
    path = _write_raw(tmp_path / "frame_0001.png", image)
    with pytest.raises(FormatError, match=message) as err:
        read_rgb8(path)
    assert str(path) in str(err.value)
