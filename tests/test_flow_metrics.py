"""Hand-computed cases for the optical-flow metric core in `evaluators.flow_metrics` and `evaluators.flow_pools` (no
files involved)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from evaluators.flow_metrics import (
    interpolate_background,
    kitti_outliers,
    occlusion_boundary_distance,
    out_of_frame,
    squared_endpoint_error,
    squared_magnitude,
)
from evaluators.flow_pools import kitti_image_pool, sintel_image_pool


def _flow(u: list[float], v: list[float] | None = None) -> NDArray[np.float64]:
    """A 1-row flow field from per-pixel u (and v, default 0)."""
    v = v if v is not None else [0.0] * len(u)
    return np.stack([np.array([u], dtype=np.float64), np.array([v], dtype=np.float64)], axis=-1)


def _outliers(pred: NDArray[np.float64], gt: NDArray[np.float64]) -> list[bool]:
    with np.errstate(all="raise"):  # zero |GT| must not produce division warnings
        flags = kitti_outliers(squared_endpoint_error(pred, gt), squared_magnitude(gt))
    return [bool(f) for f in flags.ravel()]


# --- KITTI outlier rule: EPE > 3 px AND EPE > 5 % of |GT| ------------------------------------------------------


def test_exactly_three_px_is_not_an_outlier() -> None:
    # GT (0, 0), prediction (3, 0): EPE = 3, and 3 > 3 is false. GT (0, 0), prediction (0, 3 + 1/64): EPE 3.016 > 3
    # and |GT| = 0 so the relative test passes (devkit: 3.016 / 0 = inf > 0.05) -> outlier.
    assert _outliers(_flow([3.0, 0.0], [0.0, 3.015625]), _flow([0.0, 0.0])) == [False, True]


def test_just_above_three_px_depends_on_gt_magnitude() -> None:
    # EPE = 3.0001 in both pixels. |GT| = 100: 5 % is 5 px, 3.0001 < 5 -> not an outlier.
    # |GT| = 10: 5 % is 0.5 px, 3.0001 > 0.5 -> outlier.
    assert _outliers(_flow([103.0001, 13.0001]), _flow([100.0, 10.0])) == [False, True]


def test_exactly_five_percent_is_not_an_outlier() -> None:
    # |GT| = 80, 5 % = 4 px. Prediction 76: EPE = 4 (> 3 but not > 4) -> not an outlier.
    # Prediction 76 - 1/64: EPE = 4.015625 > 4 -> outlier. Same along v with GT (0, -80).
    pred = _flow([76.0, 75.984375, 0.0], [0.0, 0.0, -76.0])
    gt = _flow([80.0, 80.0, 0.0], [0.0, 0.0, -80.0])
    assert _outliers(pred, gt) == [False, True, False]


def test_zero_magnitude_gt_without_warnings() -> None:
    # GT (0, 0): EPE 0 (0/0 in the devkit's ratio) -> not an outlier; EPE 2 -> not; EPE 5 (3-4-5) -> outlier.
    assert _outliers(_flow([0.0, 2.0, 3.0], [0.0, 0.0, 4.0]), _flow([0.0, 0.0, 0.0])) == [False, False, True]


# --- devkit interpolateBackground -----------------------------------------------------------------------------


def test_interpolate_background_rows_then_columns() -> None:
    # 5 rows x 6 columns. Invalid predicted pixels hold garbage (99) that must be ignored (the devkit reads 0).
    #   row 0: all invalid          -> above the first valid row: copies row 1 (column pass, top)
    #   row 1: valid at col 1 = (2, -1) and col 4 = (5, -3)
    #          col 0     -> left extrapolation of col 1:                  (2, -1)
    #          col 2, 3  -> interior gap, per-component min of neighbours: (min(2, 5), min(-1, -3)) = (2, -3)
    #          col 5     -> right extrapolation of col 4:                 (5, -3)
    #   row 2: all invalid, between valid rows -> never filled by the devkit, stays (0, 0)
    #   row 3: valid only at col 0 = (7, 8)    -> whole row (7, 8)
    #   row 4: all invalid          -> below the last valid row: copies row 3
    flow = np.full((5, 6, 2), 99.0, dtype=np.float32)
    valid = np.zeros((5, 6), dtype=bool)
    flow[1, 1], flow[1, 4], flow[3, 0] = (2, -1), (5, -3), (7, 8)
    valid[1, 1] = valid[1, 4] = valid[3, 0] = True

    filled = interpolate_background(flow, valid)

    row1 = [(2, -1), (2, -1), (2, -3), (2, -3), (5, -3), (5, -3)]
    expected = np.array([row1, row1, [(0, 0)] * 6, [(7, 8)] * 6, [(7, 8)] * 6], dtype=np.float64)
    np.testing.assert_array_equal(filled, expected)
    assert flow[0, 0, 0] == 99.0  # input untouched


def test_interpolate_background_gap_at_row_start_is_extrapolated_not_min_filled() -> None:
    # Row: invalid, invalid, valid (4, 1), invalid, valid (-2, 6). Cols 0-1 precede the first valid pixel, so the
    # devkit's interior rule (u1 > 0) does not apply: they copy (4, 1). Col 3 is interior: (min(4,-2), min(1,6)).
    flow = np.zeros((1, 5, 2), dtype=np.float32)
    flow[0, 2], flow[0, 4] = (4, 1), (-2, 6)
    valid = np.array([[False, False, True, False, True]])
    filled = interpolate_background(flow, valid)
    np.testing.assert_array_equal(filled[0], [(4, 1), (4, 1), (4, 1), (-2, 1), (-2, 6)])


def test_interpolate_background_all_invalid_is_zero() -> None:
    filled = interpolate_background(np.full((2, 3, 2), 5.0, dtype=np.float32), np.zeros((2, 3), dtype=bool))
    np.testing.assert_array_equal(filled, np.zeros((2, 3, 2)))


# --- KITTI per-image counts -----------------------------------------------------------------------------------


def _kitti_gt(
    flow: NDArray[Any], valid_occ: NDArray[np.bool_], valid_noc: NDArray[np.bool_], obj_map: NDArray[Any]
) -> dict[str, NDArray[Any]]:
    return {"flow_occ": flow, "valid_occ": valid_occ, "flow_noc": flow, "valid_noc": valid_noc, "obj_map": obj_map}


def test_kitti_bg_fg_split_invalid_gt_and_density() -> None:
    # 2x3 image, GT flow (0, 0) everywhere, so a pixel is an outlier iff its EPE > 3 (|GT| = 0).
    # Predicted u: [[4, 0, 9], [0, 4, -]] with (1, 2) invalid; the row fill copies its left neighbour (1, 1) = 4
    # (right extrapolation), so the EPEs scored are [[4, 0, 9], [0, 4, 4]].
    # flow_occ valid: all but (0, 2), so its 9 px error is ignored. flow_noc valid: row 1 only.
    # obj_map: foreground (> 0) at (0, 0) and (1, 1), background elsewhere.
    #   occ: fg (0,0), (1,1) both outliers -> fl_fg = 100 %; bg (0,1), (1,0), (1,2) -> 1 outlier -> fl_bg = 1/3;
    #        fl_all = 3/5 = 60 %; epe = (4 + 0 + 0 + 4 + 4) / 5 = 2.4
    #   noc: fg (1,1) -> 100 %; bg (1,0), (1,2) -> 1/2 = 50 %; fl_all_noc = 2/3; epe_noc = 8/3
    # density: 5 flow_occ pixels, the prediction was valid at 4 of them -> 80 %.
    gt_flow = np.zeros((2, 3, 2), dtype=np.float32)
    pred = np.zeros((2, 3, 2), dtype=np.float32)
    pred[..., 0] = [[4, 0, 9], [0, 4, 0]]
    pred_valid = np.array([[True, True, True], [True, True, False]])
    valid_occ = np.array([[True, True, False], [True, True, True]])
    valid_noc = np.array([[False, False, False], [True, True, True]])
    obj_map = np.array([[1, 0, 0], [0, 2, 0]], dtype=np.uint8)

    m = kitti_image_pool(pred, pred_valid, _kitti_gt(gt_flow, valid_occ, valid_noc, obj_map)).metrics(
        ["fl_bg", "fl_fg", "fl_all", "fl_bg_noc", "fl_fg_noc", "fl_all_noc", "epe", "epe_noc", "density"]
    )
    assert m["fl_fg"] == pytest.approx(100.0)
    assert m["fl_bg"] == pytest.approx(100 / 3)
    assert m["fl_all"] == pytest.approx(60.0)
    assert m["fl_fg_noc"] == pytest.approx(100.0)
    assert m["fl_bg_noc"] == pytest.approx(50.0)
    assert m["fl_all_noc"] == pytest.approx(200 / 3)
    assert m["epe"] == pytest.approx(2.4)
    assert m["epe_noc"] == pytest.approx(8 / 3)
    assert m["density"] == pytest.approx(80.0)


def test_kitti_empty_pixel_set_is_nan() -> None:
    # No foreground in obj_map -> fl_fg has no pixels: NaN, not 0.
    gt = _kitti_gt(
        np.zeros((1, 2, 2), np.float32), np.ones((1, 2), bool), np.ones((1, 2), bool), np.zeros((1, 2), np.uint8)
    )
    m = kitti_image_pool(np.zeros((1, 2, 2), np.float32), np.ones((1, 2), bool), gt).metrics(["fl_fg", "fl_bg"])
    assert math.isnan(m["fl_fg"])
    assert m["fl_bg"] == 0.0


# --- Sintel ---------------------------------------------------------------------------------------------------


def _sintel_gt(
    flow: NDArray[Any], occlusion: NDArray[np.bool_] | None = None, invalid: NDArray[np.bool_] | None = None
) -> dict[str, NDArray[Any]]:
    shape = flow.shape[:2]
    return {
        "flow": flow.astype(np.float32),
        "occlusion": occlusion if occlusion is not None else np.zeros(shape, bool),
        "invalid": invalid if invalid is not None else np.zeros(shape, bool),
    }


def test_out_of_frame_edges_are_inclusive() -> None:
    # W = 4, H = 2, pixel x + u: x=0,u=-0.5 -> -0.5 out; x=1,u=2 -> 3 = W-1 in; x=2,u=1.5 -> 3.5 out; x=3,u=0 in.
    # Row 1 (y = 1): v = 0 stays in; row 0 (y = 0) v = 1 -> 1 = H-1 in.
    flow = np.zeros((2, 4, 2))
    flow[1, :, 0] = [-0.5, 2.0, 1.5, 0.0]
    flow[0, :, 1] = [1.0, 1.0, 1.0, 1.5]  # y + v = 1.5 > H-1 at col 3 -> out
    assert out_of_frame(flow).tolist() == [[False, False, False, True], [True, False, True, False]]


def test_sintel_matched_unmatched_with_out_of_frame_target() -> None:
    # 1x4 frame, prediction zero so EPE = |GT|. GT u = [0, 0, 1, 2]: targets x+u = [0, 1, 3, 5]; 5 > W-1 = 3
    # so pixel 3 leaves the frame although the occlusion map does not flag it; pixel 1 is occluded.
    # unmatched = {1, 3}: EPE (0 + 2) / 2 = 1.0; matched = {0, 2}: (0 + 1) / 2 = 0.5; all: 3 / 4 = 0.75.
    # invalid/ flags pixel 3: epe_excl_invalid = (0 + 0 + 1) / 3.
    gt = _sintel_gt(
        _flow([0, 0, 1, 2]),
        occlusion=np.array([[False, True, False, False]]),
        invalid=np.array([[False, False, False, True]]),
    )
    m = sintel_image_pool(np.zeros((1, 4, 2), np.float32), gt).metrics(
        ["epe", "epe_matched", "epe_unmatched", "epe_excl_invalid"]
    )
    assert m == pytest.approx({"epe": 0.75, "epe_matched": 0.5, "epe_unmatched": 1.0, "epe_excl_invalid": 1 / 3})


def test_sintel_speed_bin_edges() -> None:
    # Prediction zero so EPE = |GT|. |GT| = [9.5, 10 (u=6, v=8), 40, 40.5, 25]:
    # s0_10 (< 10) = 9.5; s10_40 (10..40 inclusive) = (10 + 40 + 25) / 3 = 25; s40_plus (> 40) = 40.5.
    gt = _sintel_gt(_flow([9.5, 6.0, 40.0, 40.5, 25.0], [0.0, 8.0, 0.0, 0.0, 0.0]))
    # Keep every target inside the frame: the speed bins do not depend on it, but it avoids surprises.
    m = sintel_image_pool(np.zeros((1, 5, 2), np.float32), gt).metrics(["s0_10", "s10_40", "s40_plus"])
    assert m == pytest.approx({"s0_10": 9.5, "s10_40": 25.0, "s40_plus": 40.5})


def test_sintel_accuracy_thresholds_are_strict() -> None:
    # GT zero, prediction u = EPE = [0.5, 1, 2.9, 3, 5, 6]:
    # acc_1px: EPE < 1 -> 1 of 6; acc_3px: < 3 -> 3 of 6; acc_5px: < 5 -> 4 of 6 (5 itself is not below 5).
    pred = _flow([0.5, 1.0, 2.9, 3.0, 5.0, 6.0]).astype(np.float32)
    m = sintel_image_pool(pred, _sintel_gt(np.zeros((1, 6, 2)))).metrics(["acc_1px", "acc_3px", "acc_5px"])
    assert m == pytest.approx({"acc_1px": 100 / 6, "acc_3px": 50.0, "acc_5px": 400 / 6})


def test_occlusion_boundary_distance_hand_example() -> None:
    # 3x6 occlusion map with column 0 occluded: boundary pixels are column 0 (occluded, non-occluded neighbour)
    # and column 1 (non-occluded, occluded neighbour). Distance of column k to the boundary is max(k - 1, 0).
    occluded = np.zeros((3, 6), dtype=bool)
    occluded[:, 0] = True
    distance = occlusion_boundary_distance(occluded)
    assert distance is not None
    np.testing.assert_allclose(distance, np.tile([0, 0, 1, 2, 3, 4], (3, 1)))
    assert occlusion_boundary_distance(np.zeros((3, 6), dtype=bool)) is None
    assert occlusion_boundary_distance(np.ones((3, 6), dtype=bool)) is None


def test_sintel_distance_bins() -> None:
    # 3 x 150 frame, column 0 occluded: column k lies max(k - 1, 0) px from the boundary (see above).
    # GT zero; the prediction's u equals the column index, so EPE = k (no out-of-frame effect: GT is zero).
    #   d0_10  : distance < 10       -> columns 0..10   -> mean(0..10)   = 5
    #   d10_60 : 10 <= distance < 60 -> columns 11..60  -> mean(11..60)  = 35.5
    #   d60_140: 60 <= d <= 140      -> columns 61..141 -> mean(61..141) = 101; columns 142..149 are farther.
    occluded = np.zeros((3, 150), dtype=bool)
    occluded[:, 0] = True
    pred = np.zeros((3, 150, 2), np.float32)
    pred[..., 0] = np.arange(150)
    gt = _sintel_gt(np.zeros((3, 150, 2)), occlusion=occluded)
    pool = sintel_image_pool(pred, gt)
    assert pool.metrics(["d0_10", "d10_60", "d60_140"]) == pytest.approx(
        {"d0_10": 5.0, "d10_60": 35.5, "d60_140": 101.0}
    )
    assert pool.counts["d0_10"] == 3 * 11 and pool.counts["d60_140"] == 3 * 81


def test_sintel_frame_without_occlusion_boundary_adds_no_distance_pixels() -> None:
    m = sintel_image_pool(np.zeros((2, 2, 2), np.float32), _sintel_gt(np.zeros((2, 2, 2)))).metrics(
        ["d0_10", "d10_60", "d60_140", "epe"]
    )
    assert all(math.isnan(m[k]) for k in ("d0_10", "d10_60", "d60_140"))
    assert m["epe"] == 0.0


def _interpolate_background_loops(flow: NDArray[Any], valid: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Pixel-by-pixel transcription of the devkit's `interpolateBackground` loops, as an oracle."""
    f = np.where(valid[..., None], flow, 0.0).astype(np.float64)
    ok = valid.copy()
    height, width = ok.shape
    for v in range(height):
        count = 0
        for u in range(width):
            if ok[v, u]:
                if count >= 1:
                    u1, u2 = u - count, u - 1
                    if u1 > 0 and u2 < width - 1:
                        f[v, u1 : u2 + 1] = np.minimum(f[v, u1 - 1], f[v, u2 + 1])
                        ok[v, u1 : u2 + 1] = True
                count = 0
            else:
                count += 1
        for u in range(width):
            if ok[v, u]:
                f[v, :u], ok[v, :u] = f[v, u], True
                break
        for u in range(width - 1, -1, -1):
            if ok[v, u]:
                f[v, u + 1 :], ok[v, u + 1 :] = f[v, u], True
                break
    for u in range(width):
        for v in range(height):
            if ok[v, u]:
                f[:v, u], ok[:v, u] = f[v, u], True
                break
        for v in range(height - 1, -1, -1):
            if ok[v, u]:
                f[v + 1 :, u], ok[v + 1 :, u] = f[v, u], True
                break
    return f


@pytest.mark.parametrize("density", [0.0, 0.02, 0.1, 0.5, 0.95])
def test_interpolate_background_matches_devkit_loops_on_random_masks(density: float) -> None:
    rng = np.random.default_rng(int(density * 100))
    flow = rng.normal(0, 20, size=(23, 31, 2)).astype(np.float32)
    valid = rng.random((23, 31)) < density
    valid[rng.random(23) < 0.3] = False  # some fully invalid rows
    np.testing.assert_array_equal(interpolate_background(flow, valid), _interpolate_background_loops(flow, valid))
