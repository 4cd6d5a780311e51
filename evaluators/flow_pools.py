"""Per-image scoring of optical flow: the ground-truth views (what scoring needs of one image's ground truth alone,
cached by `loaders.gt_cache`), the per-image pools of integer pixel counts and float64 sums (`Pool`) and the scorers
that fill them from a prediction and a view, KITTI-format releases (KITTI 2015, HD1K) and MPI-Sintel.

Each protocol computes a fixed list of metrics: `SINTEL_METRICS`, and for a KITTI-format release
`kitti_format_metric_names` of the ground-truth arrays its loader declares (a metric needs its channels), so the
evaluator reports exactly those names and `hub.core.evaluation.check_metric_names` refuses a spec that differs.

Per split only these counts and sums are kept, so memory does not grow with the split, and every pooled metric is
"sum over the split, divided once" (`evaluators.flow` merges the pools in the split's order). A metric whose pixel
set is empty is NaN (`EvaluationResult.to_json` turns it into null), never 0. The per-pixel definitions are in
`evaluators.flow_metrics`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evaluators.flow_metrics import (
    ACCURACY_THRESHOLDS_PX,
    DISTANCE_EDGES_PX,
    SPEED_EDGES_PX,
    BoolArray,
    FloatArray,
    interpolate_background,
    kitti_outliers,
    occlusion_boundary_distance,
    out_of_frame,
    squared_endpoint_error,
    squared_magnitude,
)
from hub.core.errors import MobenchError


@dataclass
class Pool:
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

    def merge(self, other: Pool) -> None:
        for name, total in other.totals.items():
            self._add(name, total, other.counts[name], other.scales[name])

    def metrics(self, names: list[str]) -> dict[str, float]:
        return {name: self._value(name) for name in names}

    def _value(self, name: str) -> float:
        count = self.counts.get(name, 0)
        return self.scales[name] * self.totals[name] / count if count else math.nan


# What scoring needs of one image's ground truth, from the ground truth alone: computed once per version of the
# GT files and cached (`loaders.gt_cache`), then shared by every submission scored against it. A view holds no
# metric value, only pixel sets and GT values, so the pools below give the same bits from a view as from the GT.


def _valid_pixels(flow: FloatArray, valid: BoolArray) -> FloatArray:
    """The (u, v) of the `valid` pixels of an (H, W, 2) flow, as (N, 2) in row-major order (what ``flow[valid]``
    gives). Each (u, v) pair is moved as one opaque item (a void view): boolean indexing of the pairs as a 2-D array
    takes numpy's general path, 4-5x slower (5 ms on a KITTI frame)."""
    pairs = np.ascontiguousarray(flow).view(f"V{2 * flow.itemsize}").reshape(valid.shape)
    return pairs[valid].view(flow.dtype).reshape(-1, 2)


# The GT sets of a KITTI-format release, (metric suffix, view name, flow key, valid key): flow_occ (all pixels with
# GT) is every such release's; flow_noc (non-occluded pixels) only KITTI 2015 ships. `obj_map` (KITTI 2015's
# foreground labels) splits each set's Fl into background and foreground.
_KITTI_SETS = (("", "occ", "flow_occ", "valid_occ"), ("_noc", "noc", "flow_noc", "valid_noc"))
FOREGROUND_KEY = "obj_map"
# metrics with no per-sample value, computed by the evaluator's reduce from the per-sample `epe`
KITTI_SPLIT_ONLY = ("epe_image_mean",)


def kitti_format_metric_names(gt_keys: Collection[str]) -> list[str]:
    """The metrics a KITTI-format release whose ground-truth arrays are `gt_keys` (its loader's `gt_keys()`) is
    scored on, in this order: per GT set it has (flow_occ, then flow_noc) fl_all, with `obj_map` also fl_bg and
    fl_fg; per set epe; then `epe_image_mean` and `density` (both on flow_occ). KITTI 2015 gets all ten; a release
    with flow_occ alone (HD1K) gets fl_all, epe, epe_image_mean and density."""
    sets = [(suffix, keys) for suffix, _name, *keys in _KITTI_SETS if set(keys) <= set(gt_keys)]
    if not sets or sets[0][0] != "":
        raise MobenchError(f"KITTI-format scoring needs flow_occ and valid_occ ground truth, the release has {gt_keys}")
    split = ("_bg", "_fg") if FOREGROUND_KEY in gt_keys else ()
    fl = [f"fl{part}{suffix}" for suffix, _keys in sets for part in ("_all", *split)]
    return [*fl, *(f"epe{suffix}" for suffix, _keys in sets), *KITTI_SPLIT_ONLY, "density"]


def kitti_gt_view(gt: Mapping[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
    """The KITTI-format ground truth of one image as `kitti_view_pool` scores it: per GT set the image has (`occ`,
    and `noc` when it ships flow_noc) its valid mask `<set>_valid` (H, W), and at its valid pixels in row-major order
    the GT flow `<set>_flow` (N, 2) float32, |GT|² `<set>_mag_sq` (N,) float64 and, when it ships `obj_map`, the
    foreground flag `<set>_foreground` (N,) (``obj_map > 0``).

    Why only the valid pixels: KITTI's GT is sparse (LiDAR), HD1K's semi-dense, and no metric looks at any other
    pixel.
    """
    foreground = np.asarray(gt[FOREGROUND_KEY]) > 0 if FOREGROUND_KEY in gt else None
    view: dict[str, NDArray[Any]] = {}
    for _suffix, name, flow_key, valid_key in _KITTI_SETS:
        if flow_key not in gt:
            continue
        valid = np.asarray(gt[valid_key], dtype=bool)
        flow = _valid_pixels(np.asarray(gt[flow_key]), valid)
        view |= {f"{name}_valid": valid, f"{name}_flow": flow, f"{name}_mag_sq": squared_magnitude(flow)}
        if foreground is not None:
            view[f"{name}_foreground"] = foreground[valid]
    return view


def kitti_view_pool(pred: FloatArray, pred_valid: BoolArray, view: Mapping[str, NDArray[Any]]) -> Pool:
    """All KITTI-format counts and sums of one image (everything except `epe_image_mean`, which is per image).

    Follows the KITTI 2015 devkit `evaluate_scene_flow.cpp::flowErrorsOutlier`, called once with flow_noc and once
    with flow_occ (here: once per GT set the view has):

    - the prediction is filled with `interpolate_background` first, so every GT pixel is scored;
    - fl_bg / fl_fg / fl_all: percent of GT-valid pixels that are `kitti_outliers`, with background =
      ``obj_map == 0`` and foreground = ``obj_map > 0`` (fl_bg / fl_fg only when the view has `obj_map`'s flags);
      suffix ``_noc`` for flow_noc, none for flow_occ;
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
    pool = Pool()
    for suffix, name, _flow_key, _valid_key in _KITTI_SETS:
        if f"{name}_valid" not in view:
            continue
        epe_sq = squared_endpoint_error(_valid_pixels(filled, view[f"{name}_valid"]), view[f"{name}_flow"])
        outliers = kitti_outliers(epe_sq, view[f"{name}_mag_sq"])
        pixels, hits = outliers.size, int(np.count_nonzero(outliers))
        if (foreground := view.get(f"{name}_foreground")) is not None:
            fg_pixels, fg_hits = int(np.count_nonzero(foreground)), int(np.count_nonzero(outliers & foreground))
            pool.add_count(f"fl_bg{suffix}", hits - fg_hits, pixels - fg_pixels)
            pool.add_count(f"fl_fg{suffix}", fg_hits, fg_pixels)
        pool.add_count(f"fl_all{suffix}", hits, pixels)
        pool.add_mean(f"epe{suffix}", np.sqrt(epe_sq))
    gt_valid = view["occ_valid"]
    pool.add_count("density", int(np.count_nonzero(pred_valid & gt_valid)), int(np.count_nonzero(gt_valid)))
    return pool


def kitti_image_pool(pred: FloatArray, pred_valid: BoolArray, gt: Mapping[str, NDArray[Any]]) -> Pool:
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
# every metric `sintel_view_pool` pools, in this order (one with no pixels in the split is NaN)
SINTEL_METRICS = (
    "epe",
    "epe_matched",
    "epe_unmatched",
    "epe_excl_invalid",
    *_SPEED_BINS,
    *_DISTANCE_BINS,
    *(f"acc_{threshold}px" for threshold in ACCURACY_THRESHOLDS_PX),
)


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


def sintel_view_pool(pred: FloatArray, view: Mapping[str, NDArray[Any]]) -> Pool:
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
    pool = Pool()
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


def sintel_image_pool(pred: FloatArray, gt: Mapping[str, NDArray[Any]]) -> Pool:
    """`sintel_view_pool` of the pair's GT as the loader gives it (uncached)."""
    return sintel_view_pool(pred, sintel_gt_view(gt))
