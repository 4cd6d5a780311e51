"""Optical-flow metrics: KITTI 2015 exactly as its devkit computes them, MPI-Sintel as its server columns define.

Two evaluators live here, `evaluate_kitti_2015` and `evaluate_sintel`, each a `ShardedEvaluator`: the map scores
images one by one into per-image pools, the reduce pools them in the split's order. Where a benchmark's prediction
files live and how they are read and written is defined once, in `evaluators.readers.flow`, so the baselines, the
submission checks and the evaluators can never disagree on the layout.

Everything is vectorised numpy over whole images. Per split, only integer pixel counts and float64 sums are kept
(`_Pool`), so memory does not grow with the split, and every pooled metric is "sum over the split, divided once".
A metric whose pixel set is empty is NaN (`EvaluationResult.to_json` turns it into null), never 0.

Sources:
- KITTI 2015 devkit (`devkit_scene_flow.zip`, `cpp/evaluate_scene_flow.cpp::flowErrorsOutlier` and `eval`,
  `cpp/io_flow.h::FlowImage::interpolateBackground`), Menze & Geiger, CVPR 2015.
- RAFT `evaluate.py::validate_kitti` / `validate_sintel` (Teed & Deng, ECCV 2020) for the community EPE figures.
- MPI-Sintel: Butler et al., ECCV 2012 and the benchmark's result-table columns (EPE all / matched / unmatched,
  d0-10 / d10-60 / d60-140, s0-10 / s10-40 / s40+); the server publishes no code.
- GMFlow `evaluate.py::validate_sintel` (Xu et al., CVPR 2022) for matched/unmatched with the in-frame test and
  for the speed-bin edges.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np
from numpy.typing import NDArray

from evaluators.readers.flow import match_prediction_files, prediction_layout, read_prediction
from hub.core.evaluation import EvaluationRequest, EvaluationResult, ScoringPlan, ShardedEvaluator

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


# --------------------------------------------------------------------------------------------------------------
# Pooling: integer counts and float64 sums, divided once


@dataclass
class _Pool:
    """Running sums and pixel counts per metric; metrics are `scale * total / count` (NaN when count is 0)."""

    totals: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    scales: dict[str, float] = field(default_factory=dict)

    def add_mean(self, name: str, values: NDArray[np.float64]) -> None:
        """Pool `values` into the mean metric `name`."""
        self._add(name, float(values.sum(dtype=np.float64)), int(values.size), 1.0)

    def add_percent(self, name: str, flags: BoolArray) -> None:
        """Pool `flags` into the percentage metric `name` (percent of True)."""
        self.add_count(name, int(np.count_nonzero(flags)), int(flags.size))

    def add_count(self, name: str, hits: int, pixels: int) -> None:
        """Pool `hits` of `pixels` into the percentage metric `name` (counted without selecting the pixels)."""
        self._add(name, hits, pixels, 100.0)

    def _add(self, name: str, total: float, count: int, scale: float) -> None:
        self.totals[name] = self.totals.get(name, 0) + total
        self.counts[name] = self.counts.get(name, 0) + count
        self.scales[name] = scale

    def merge(self, other: _Pool) -> None:
        for name, total in other.totals.items():
            self._add(name, total, other.counts[name], other.scales[name])

    def metrics(self, names: list[str]) -> dict[str, float]:
        return {name: self._value(name) for name in names}

    def _value(self, name: str) -> float:
        count = self.counts.get(name, 0)
        return self.scales[name] * self.totals[name] / count if count else math.nan


# --------------------------------------------------------------------------------------------------------------
# Per-image scoring


# What scoring needs of one image's ground truth, from the ground truth alone: computed once per version of the
# GT files and cached (`loaders.gt_cache`), then shared by every submission scored against it. A view holds no
# metric value, only pixel sets and GT values, so the pools below give the same bits from a view as from the GT.


def _valid_pixels(flow: FloatArray, valid: BoolArray) -> FloatArray:
    """The (u, v) of the `valid` pixels of an (H, W, 2) flow, as (N, 2) in row-major order (what ``flow[valid]``
    gives). Each (u, v) pair is moved as one opaque item (a void view): boolean indexing of the pairs as a 2-D array
    takes numpy's general path, 4-5x slower (5 ms on a KITTI frame)."""
    pairs = np.ascontiguousarray(flow).view(f"V{2 * flow.itemsize}").reshape(valid.shape)
    return pairs[valid].view(flow.dtype).reshape(-1, 2)


_KITTI_SETS = (("", "occ", "flow_occ", "valid_occ"), ("_noc", "noc", "flow_noc", "valid_noc"))


def kitti_gt_view(gt: Mapping[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
    """The KITTI ground truth of one image as `kitti_view_pool` scores it: per GT set (`occ`, `noc`) its valid mask
    `<set>_valid` (H, W), and at its valid pixels in row-major order the GT flow `<set>_flow` (N, 2) float32,
    |GT|² `<set>_mag_sq` (N,) float64 and the foreground flag `<set>_foreground` (N,) (``obj_map > 0``).

    Why only the valid pixels: KITTI's GT is sparse (LiDAR), and no metric looks at any other pixel.
    """
    foreground = np.asarray(gt["obj_map"]) > 0
    view: dict[str, NDArray[Any]] = {}
    for _suffix, name, flow_key, valid_key in _KITTI_SETS:
        valid = np.asarray(gt[valid_key], dtype=bool)
        flow = _valid_pixels(np.asarray(gt[flow_key]), valid)
        view |= {
            f"{name}_valid": valid,
            f"{name}_flow": flow,
            f"{name}_mag_sq": squared_magnitude(flow),
            f"{name}_foreground": foreground[valid],
        }
    return view


def kitti_view_pool(pred: FloatArray, pred_valid: BoolArray, view: Mapping[str, NDArray[Any]]) -> _Pool:
    """All KITTI 2015 counts and sums of one image (everything except `epe_image_mean`, which is per image).

    Follows devkit `evaluate_scene_flow.cpp::flowErrorsOutlier`, called once with flow_noc and once with flow_occ:

    - the prediction is filled with `interpolate_background` first, so every GT pixel is scored;
    - fl_bg / fl_fg / fl_all: percent of GT-valid pixels that are `kitti_outliers`, with background =
      ``obj_map == 0`` and foreground = ``obj_map > 0``; suffix ``_noc`` for flow_noc, none for flow_occ;
    - density: percent of flow_occ GT pixels where the submission itself was valid (``num_pixels_all_result /
      num_pixels_all``), i.e. before interpolation;
    - epe / epe_noc: end-point error over GT-valid pixels, on the interpolated prediction (community figure,
      RAFT `validate_kitti`; the KITTI server reports none).

    `view` is `kitti_gt_view` of the image's GT. Only the GT-valid pixels of the prediction are taken, in row-major
    order, so every per-pixel value and every sum is the one the whole image would give, without passes over the
    pixels no metric counts. A dense prediction (most are) is taken as it is: `interpolate_background` would only
    convert it to float64, which `squared_endpoint_error` does anyway.
    """
    filled = pred if pred_valid.all() else interpolate_background(pred, pred_valid)
    pool = _Pool()
    for suffix, name, _flow_key, _valid_key in _KITTI_SETS:
        epe_sq = squared_endpoint_error(_valid_pixels(filled, view[f"{name}_valid"]), view[f"{name}_flow"])
        outliers = kitti_outliers(epe_sq, view[f"{name}_mag_sq"])
        foreground = view[f"{name}_foreground"]
        pixels, fg_pixels = outliers.size, int(np.count_nonzero(foreground))
        hits, fg_hits = int(np.count_nonzero(outliers)), int(np.count_nonzero(outliers & foreground))
        pool.add_count(f"fl_bg{suffix}", hits - fg_hits, pixels - fg_pixels)
        pool.add_count(f"fl_fg{suffix}", fg_hits, fg_pixels)
        pool.add_count(f"fl_all{suffix}", hits, pixels)
        pool.add_mean(f"epe{suffix}", np.sqrt(epe_sq))
    gt_valid = view["occ_valid"]
    pool.add_count("density", int(np.count_nonzero(pred_valid & gt_valid)), int(np.count_nonzero(gt_valid)))
    return pool


def kitti_image_pool(pred: FloatArray, pred_valid: BoolArray, gt: Mapping[str, NDArray[Any]]) -> _Pool:
    """`kitti_view_pool` of the image's GT as the loader gives it (uncached)."""
    return kitti_view_pool(pred, pred_valid, kitti_gt_view(gt))


# Bits of a Sintel view's `labels`: each pixel's membership of every pixel set the metrics pool over.
UNMATCHED = 0b1  # occluded or GT target outside the frame
INVALID = 0b10  # flagged in invalid/
SPEED_SHIFT = 2  # 2 bits: 0 = s0-10, 1 = s10-40, 2 = s40+, 3 = none (non-finite GT)
DISTANCE_SHIFT = 4  # 2 bits: 0 = d0-10, 1 = d10-60, 2 = d60-140, 3 = none (farther, or no boundary in the frame)
_BIN_BITS = 0b11
_SPEED_BINS = ("s0_10", "s10_40", "s40_plus")
_DISTANCE_BINS = ("d0_10", "d10_60", "d60_140")


def _bin_labels(members: Sequence[BoolArray]) -> NDArray[np.uint8]:
    """Per pixel, the index of the one disjoint set in `members` that holds it, or len(members) if none does."""
    labels = np.full(members[0].shape, len(members), dtype=np.uint8)
    for index, member in enumerate(members):
        labels[member] = index
    return labels


def sintel_gt_view(gt: Mapping[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
    """The Sintel ground truth of one frame pair as `sintel_view_pool` scores it: the GT `flow` (H, W, 2), a uint8
    `labels` (H, W) whose bits place each pixel in every pixel set of the metrics (`UNMATCHED`, `INVALID`, the
    speed bin at `SPEED_SHIFT`, the distance bin at `DISTANCE_SHIFT`), and `has_boundary` (0-d bool): whether
    the occlusion map has a boundary at all (without one, the d-bins get no pixels, not even an empty set).

    Why: the out-of-frame test, the speed and the distance transform depend on the GT alone and cost more than the
    prediction's EPE; one byte per pixel keeps them for every later submission.
    """
    gt_flow = np.asarray(gt["flow"])
    occluded = np.asarray(gt["occlusion"], dtype=bool)
    speed = np.sqrt(squared_magnitude(gt_flow))
    slow, fast = SPEED_EDGES_PX
    labels = _bin_labels([speed < slow, (speed >= slow) & (speed <= fast), speed > fast]) << SPEED_SHIFT
    distance = occlusion_boundary_distance(occluded)
    if distance is None:
        labels |= _BIN_BITS << DISTANCE_SHIFT
    else:
        near, mid, far = DISTANCE_EDGES_PX
        bins = [distance < near, (distance >= near) & (distance < mid), (distance >= mid) & (distance <= far)]
        labels |= _bin_labels(bins) << DISTANCE_SHIFT
    labels[occluded | out_of_frame(gt_flow)] |= UNMATCHED
    labels[np.asarray(gt["invalid"], dtype=bool)] |= INVALID
    return {"flow": gt_flow, "labels": labels, "has_boundary": np.asarray(distance is not None)}


def _members(values: NDArray[np.float64], labels: NDArray[np.uint8], bits: int, value: int) -> NDArray[np.float64]:
    """The values of the pixels whose `labels & bits` is `value`, in row-major order (all of them: no copy)."""
    member = (labels & bits) == value
    return values if np.count_nonzero(member) == member.size else values[member]


def sintel_view_pool(pred: FloatArray, view: Mapping[str, NDArray[Any]]) -> _Pool:
    """All Sintel counts and sums of one frame pair, over ALL pixels (the community convention, RAFT/GMFlow).

    - epe: every pixel, `invalid/` masks ignored (RAFT `validate_sintel`, GMFlow, torchvision, ptlflow);
    - epe_matched / epe_unmatched: unmatched = occluded (``occlusions/`` > 0) OR GT target outside the frame
      (`out_of_frame`), matched = the rest (GMFlow `validate_sintel` with `evaluate_matched_unmatched`; the
      Sintel paper's "visible in only one of the two frames");
    - epe_excl_invalid: every pixel not flagged in ``invalid/``;
    - s0_10 / s10_40 / s40_plus: by GT speed |gt| < 10, 10 <= |gt| <= 40, |gt| > 40 (Sintel table, GMFlow edges);
    - d0_10 / d10_60 / d60_140: by distance to the nearest occlusion boundary, [0, 10), [10, 60), [60, 140]
      (definition in `occlusion_boundary_distance`; frames without a boundary add nothing);
    - acc_1px / acc_3px / acc_5px: percent of pixels with EPE < 1 / 3 / 5 px (RAFT's "1px/3px/5px").

    `view` is `sintel_gt_view` of the pair's GT. Each set's EPE values are pooled in row-major order, as boolean
    indexing of the whole image gives them, so the float64 sums keep their bits.
    """
    epe = np.sqrt(squared_endpoint_error(pred, view["flow"])).ravel()
    labels = view["labels"].ravel()
    pool = _Pool()
    pool.add_mean("epe", epe)
    pool.add_mean("epe_matched", _members(epe, labels, UNMATCHED, 0))
    pool.add_mean("epe_unmatched", _members(epe, labels, UNMATCHED, UNMATCHED))
    pool.add_mean("epe_excl_invalid", _members(epe, labels, INVALID, 0))
    binned = [(SPEED_SHIFT, _SPEED_BINS), *([(DISTANCE_SHIFT, _DISTANCE_BINS)] if view["has_boundary"] else [])]
    for shift, names in binned:
        for index, name in enumerate(names):
            pool.add_mean(name, _members(epe, labels, _BIN_BITS << shift, index << shift))
    for threshold in ACCURACY_THRESHOLDS_PX:
        pool.add_percent(f"acc_{threshold}px", epe < threshold)
    return pool


def sintel_image_pool(pred: FloatArray, gt: Mapping[str, NDArray[Any]]) -> _Pool:
    """`sintel_view_pool` of the pair's GT as the loader gives it (uncached)."""
    return sintel_view_pool(pred, sintel_gt_view(gt))


# --------------------------------------------------------------------------------------------------------------
# Evaluators


@runtime_checkable
class FlowLoader(Protocol):
    """What the flow evaluators and baselines need from `loaders.kitti_flow` / `loaders.sintel`."""

    def sample_ids(self) -> list[str]: ...

    def ground_truth(self, sample_id: str) -> dict[str, NDArray[Any]]: ...

    def cached_ground_truth(
        self, sample_id: str, derive: Callable[[dict[str, NDArray[Any]]], Mapping[str, NDArray[Any]]]
    ) -> dict[str, NDArray[Any]]: ...

    def image_pair(self, sample_id: str) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]: ...


# (prediction, its valid mask, the sample's GT view) -> the sample's pool
_Scorer = Callable[[NDArray[np.float32], BoolArray, Mapping[str, NDArray[Any]]], _Pool]
# one unit: a sample id and its prediction file (relative to the predictions folder)
_Unit = tuple[str, str]
# one partial: the sample's pool, or the problem with its prediction file
_Partial = _Pool | str


@dataclass(frozen=True)
class _FlowProtocol:
    """What distinguishes the two benchmarks: the GT view (cached, see `loaders.gt_cache`), the per-image scorer of
    a view, the view key giving the image size, the breakdown grouping and the metrics with no per-sample value
    (computed from the per-sample scores)."""

    view: Callable[[Mapping[str, NDArray[Any]]], dict[str, NDArray[Any]]]
    score: _Scorer
    shape_key: str
    group: Callable[[str], str] | None = None
    group_name: str = ""
    split_only: tuple[str, ...] = ()


def _plan(request: EvaluationRequest) -> ScoringPlan[_Unit]:
    """Match the prediction files to the split's samples; problems with the files themselves come from the map,
    and all of them are reported together by the reduce, so nothing is scored from a broken submission."""
    layout = prediction_layout(request.spec)
    coverage, problems = match_prediction_files(
        layout, request.predictions, _open_loader(request).sample_ids(), request.allow_partial
    )
    return ScoringPlan(coverage, list(coverage.to_score.items()), context=problems)


def _mapper(protocol: _FlowProtocol) -> Callable[[EvaluationRequest, Sequence[_Unit]], list[_Partial]]:
    def map_units(request: EvaluationRequest, units: Sequence[_Unit]) -> list[_Partial]:
        """Read, check and score each unit's prediction against its ground truth's view: one pool per image."""
        layout = prediction_layout(request.spec)
        loader = _open_loader(request)
        partials: list[_Partial] = []
        for sample_id, source in units:
            view = loader.cached_ground_truth(sample_id, protocol.view)
            shape = view[protocol.shape_key].shape[:2]
            prediction = read_prediction(layout, request.predictions / source, sample_id, shape)
            partials.append(prediction if isinstance(prediction, str) else protocol.score(*prediction, view))
        return partials

    return map_units


def _reducer(
    protocol: _FlowProtocol,
) -> Callable[[EvaluationRequest, ScoringPlan[_Unit], list[_Partial]], EvaluationResult]:
    def reduce(request: EvaluationRequest, plan: ScoringPlan[_Unit], partials: list[_Partial]) -> EvaluationResult:
        """Pool the images' counts and sums in the split's order: each pooled metric is divided once."""
        problems = [*plan.context, *(partial for partial in partials if isinstance(partial, str))]
        plan.coverage.raise_for_problems(problems)
        layout = prediction_layout(request.spec)
        names = [m.name for m in request.spec.metrics]
        per_sample_names = [name for name in names if name not in protocol.split_only]
        split_pool = _Pool()
        group_pools: dict[str, _Pool] = {}
        sample_scores: dict[str, dict[str, float]] = {}
        for (sample_id, _source), pool in zip(plan.units, partials, strict=True):
            assert isinstance(pool, _Pool)  # every problem was raised above
            sample_scores[sample_id] = pool.metrics(per_sample_names)
            split_pool.merge(pool)
            if protocol.group is not None:
                key = protocol.group("/".join(sample_id.split("/")[-layout.id_parts :]))
                group_pools.setdefault(key, _Pool()).merge(pool)
        breakdowns = {protocol.group_name: {k: p.metrics(names) for k, p in group_pools.items()}}
        return EvaluationResult.scored(
            request,
            plan.coverage,
            split_pool.metrics(names),
            breakdowns=breakdowns if protocol.group else {},
            sample_scores=sample_scores,
            details={"pixel_counts": dict(split_pool.counts)},
        )

    return reduce


def _sharded(protocol: _FlowProtocol) -> ShardedEvaluator[_Unit, _Partial]:
    return ShardedEvaluator(_plan, _mapper(protocol), _reducer(protocol))


def _kitti_reduce(request: EvaluationRequest, plan: ScoringPlan[_Unit], partials: list[_Partial]) -> EvaluationResult:
    """KITTI 2015 aggregation (devkit `evaluate_scene_flow.cpp::eval`): outlier and pixel counts summed over all
    images of the split and divided once; `epe_image_mean` is the mean over images of each image's mean EPE on
    flow_occ (RAFT `validate_kitti`), leaving out images without any flow_occ GT pixel."""
    result = _KITTI_POOLED.reduce(request, plan, partials)
    per_image = [scores["epe"] for scores in result.sample_scores.values() if math.isfinite(scores["epe"])]
    metrics = {**result.metrics, "epe_image_mean": float(np.mean(per_image)) if per_image else math.nan}
    result.metrics = {m.name: metrics[m.name] for m in request.spec.metrics}
    return result


def _score_sintel(pred: NDArray[np.float32], valid: BoolArray, view: Mapping[str, NDArray[Any]]) -> _Pool:
    # .flo predictions are dense: every pixel is valid, so `valid` carries no information here.
    return sintel_view_pool(pred, view)


_KITTI_POOLED = _sharded(
    _FlowProtocol(kitti_gt_view, kitti_view_pool, shape_key="occ_valid", split_only=("epe_image_mean",))
)

# Score KITTI 2015 flow predictions with the devkit's metrics (see `kitti_image_pool` and `_kitti_reduce`).
evaluate_kitti_2015: ShardedEvaluator[_Unit, _Partial] = ShardedEvaluator(_plan, _KITTI_POOLED.map, _kitti_reduce)

# Score Sintel flow predictions (see `sintel_image_pool`), pooled over the split's pixels; breakdown `scene`: the
# same metrics pooled over each scene's pixels.
evaluate_sintel: ShardedEvaluator[_Unit, _Partial] = _sharded(
    _FlowProtocol(
        sintel_gt_view, _score_sintel, shape_key="flow", group=lambda tail: tail.split("/")[0], group_name="scene"
    )
)


def _open_loader(request: EvaluationRequest) -> FlowLoader:
    """The split's loader as flow ground truth."""
    return request.ground_truth_as(FlowLoader)  # type: ignore[type-abstract]
