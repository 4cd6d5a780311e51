"""The per-pixel definitions of the optical-flow metrics: end-point error, KITTI 2015's outlier test and its
background interpolation, MPI-Sintel's out-of-frame test and distance to the nearest occlusion boundary.

Vectorised numpy over whole images, no files and no pooling: `evaluators.flow_pools` pools them per image and
`evaluators.flow` over a split. Each constant and function cites its source:
- KITTI 2015 devkit (`devkit_scene_flow.zip`, `cpp/evaluate_scene_flow.cpp::flowErrorsOutlier`,
  `cpp/io_flow.h::FlowImage::interpolateBackground`), Menze & Geiger, CVPR 2015;
- RAFT `evaluate.py` (Teed & Deng, ECCV 2020) for the accuracy thresholds;
- MPI-Sintel: Butler et al., ECCV 2012 and the benchmark's result-table columns; GMFlow `evaluate.py::validate_sintel`
  and `utils/utils.py::compute_out_of_boundary_mask` (Xu et al., CVPR 2022) for the in-frame test and the speed-bin
  edges. The distance bins are a mobench definition (`occlusion_boundary_distance`).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.floating[Any]]
BoolArray = NDArray[np.bool_]

# KITTI 2015 devkit `evaluate_scene_flow.cpp`: ABS_THRESH 3.0, REL_THRESH 0.05.
ABS_THRESH_PX = 3.0
REL_THRESH = 0.05

# Sintel speed bins on |GT flow| (px/frame): s0-10 is < 10, s10-40 is 10..40 inclusive, s40+ is > 40 (GMFlow).
SPEED_EDGES_PX = (10.0, 40.0)
# Sintel distance-to-occlusion-boundary bins (px): [0, 10), [10, 60), [60, 140] (mobench definition, see
# `occlusion_boundary_distance`).
DISTANCE_EDGES_PX = (10.0, 60.0, 140.0)
# Accuracy thresholds: percent of pixels with EPE strictly below t (RAFT's 1px/3px/5px convention).
ACCURACY_THRESHOLDS_PX = (1, 3, 5)


# --------------------------------------------------------------------------------------------------------------
# Pure per-pixel metric core


def squared_endpoint_error(pred: FloatArray, gt: FloatArray) -> NDArray[np.float64]:
    """Per-pixel squared end-point error |pred - gt|², in float64 (float16/32 sums bias split-wide means).

    du² + dv², one component at a time and in place: the same float64 operations in the same order as an einsum
    over an (H, W, 2) float64 difference, so the same bits, without the two 7 MB temporaries (5x faster on Sintel).
    """
    du = pred[..., 0].astype(np.float64)
    du -= gt[..., 0]
    du *= du
    dv = pred[..., 1].astype(np.float64)
    dv -= gt[..., 1]
    dv *= dv
    du += dv
    return du


def squared_magnitude(flow: FloatArray) -> NDArray[np.float64]:
    """Per-pixel |flow|², in float64, one component at a time (see `squared_endpoint_error`)."""
    u = flow[..., 0].astype(np.float64)
    u *= u
    v = flow[..., 1].astype(np.float64)
    v *= v
    u += v
    return u


def kitti_outliers(epe_sq: NDArray[np.float64], gt_mag_sq: NDArray[np.float64]) -> BoolArray:
    """KITTI 2015 flow outliers: EPE > 3 px AND EPE > 5 % of |GT| (both strict).

    Source: devkit `evaluate_scene_flow.cpp::flowErrorsOutlier`,
    ``f_err = f_dist > ABS_THRESH && f_dist / f_mag > REL_THRESH`` with ABS_THRESH 3.0, REL_THRESH 0.05.

    Computed on squares, ``d² > 9`` and ``400·d² > |gt|²`` (20 = 1 / 0.05), which is the same test for
    non-negative d and |gt| but needs no division: a zero-magnitude GT pixel is an outlier exactly when EPE > 3 px,
    as in the devkit (where f_dist / 0 = inf), without 0/0 warnings. KITTI values lie on a 1/64 px grid, so these
    squares are exact in float64 and a pixel exactly at 3 px or exactly at 5 % is *not* an outlier. (The devkit
    itself computes in float32, where e.g. 4 / 80 rounds to 0.050000001 > 0.05; we implement the published
    definition, which differs from the devkit binary only on such exact ties.)
    """
    inv_rel = 1.0 / REL_THRESH
    return (epe_sq > ABS_THRESH_PX**2) & (epe_sq * inv_rel * inv_rel > gt_mag_sq)


def interpolate_background(flow: FloatArray, valid: BoolArray) -> NDArray[np.float64]:
    """Fill a sparse prediction's invalid pixels the way the KITTI devkit does before scoring it.

    Source: devkit `io_flow.h::FlowImage::interpolateBackground` (invalid pixels are first read as flow 0).

    1. Each row: a run of invalid pixels between two valid ones gets, per component, the minimum of its left and
       right valid neighbours (``min(u_left, u_right)``, ``min(v_left, v_right)``).
    2. Each row: pixels left of the row's first valid pixel copy it; pixels right of its last valid pixel copy that.
    3. Each column: pixels above the column's first valid pixel copy it, pixels below its last valid pixel copy
       that. After step 2 every row is either fully valid or fully invalid, so this copies the first (last) valid
       row upwards (downwards); fully invalid rows *between* valid rows stay at flow 0, as in the devkit.

    Returns a new (H, W, 2) float64 array; `flow` is not modified.
    """
    if valid.all():  # a dense prediction (most are) has nothing to fill: the steps below would return it as is
        dense: NDArray[np.float64] = flow.astype(np.float64)
        return dense
    height, width = valid.shape
    filled = np.where(valid[..., None], flow.astype(np.float64), 0.0)
    columns = np.arange(width)
    previous = np.maximum.accumulate(np.where(valid, columns, -1), axis=1)
    following = np.minimum.accumulate(np.where(valid, columns, width)[:, ::-1], axis=1)[:, ::-1]
    has_previous = (previous >= 0)[..., None]
    has_following = (following < width)[..., None]
    rows = np.arange(height)[:, None]
    left = filled[rows, np.clip(previous, 0, width - 1)]
    right = filled[rows, np.clip(following, 0, width - 1)]
    # For a valid pixel both neighbours are the pixel itself, so the min leaves it unchanged.
    filled = np.where(
        has_previous & has_following,
        np.minimum(left, right),
        np.where(has_previous, left, np.where(has_following, right, filled)),
    )
    valid_rows = np.flatnonzero(valid.any(axis=1))
    if valid_rows.size:
        first, last = valid_rows[0], valid_rows[-1]
        filled[:first] = filled[first]
        filled[last + 1 :] = filled[last]
    return filled


def out_of_frame(gt_flow: FloatArray) -> BoolArray:
    """Pixels whose GT target (x + u, y + v) falls outside [0, W-1] x [0, H-1].

    Source: GMFlow `utils/utils.py::compute_out_of_boundary_mask` as used by `evaluate.py::validate_sintel`.
    Sintel's occlusion maps do not flag every pixel that leaves the frame, so "unmatched" needs this test too.
    """
    height, width = gt_flow.shape[:2]
    x = np.arange(width)[None, :] + gt_flow[..., 0].astype(np.float64)
    y = np.arange(height)[:, None] + gt_flow[..., 1].astype(np.float64)
    outside: BoolArray = (x < 0) | (x > width - 1) | (y < 0) | (y > height - 1)
    return outside


def occlusion_boundary_distance(occluded: BoolArray) -> NDArray[np.float32] | None:
    """Euclidean distance (px) of every pixel to the nearest occlusion boundary; None if there is no boundary.

    The Sintel paper and server define d0-10 / d10-60 / d60-140 only in words ("distance to the nearest
    occlusion boundary") and publish no code, so mobench fixes this definition:

    - a *boundary pixel* is an occluded pixel with a non-occluded 4-neighbour, or a non-occluded pixel with an
      occluded 4-neighbour (both sides of the edge, so the boundary is symmetric);
    - the distance is the exact Euclidean distance to the nearest boundary pixel
      (`cv2.distanceTransform`, DIST_L2 with DIST_MASK_PRECISE); boundary pixels are at distance 0;
    - a frame whose occlusion map has no boundary (no occlusion at all, or all occluded) has no distances and
      contributes no pixels to the d-bins.
    """
    boundary = np.zeros(occluded.shape, dtype=bool)
    horizontal = occluded[:, 1:] != occluded[:, :-1]
    vertical = occluded[1:, :] != occluded[:-1, :]
    boundary[:, 1:] |= horizontal
    boundary[:, :-1] |= horizontal
    boundary[1:, :] |= vertical
    boundary[:-1, :] |= vertical
    if not boundary.any():
        return None
    # distanceTransform measures the distance to the nearest zero pixel (any other value is "not a source").
    source = np.logical_not(boundary).view(np.uint8)
    return np.asarray(cv2.distanceTransform(source, cv2.DIST_L2, cv2.DIST_MASK_PRECISE), dtype=np.float32)
