"""Optical-flow metrics: KITTI-format releases exactly as the KITTI 2015 devkit computes them, MPI-Sintel as its
server columns define.

Two evaluators live here, `evaluate_kitti_format` and `evaluate_sintel`, each a `ShardedEvaluator`: the map scores
images one by one into per-image pools, the reduce pools them in the split's order. The metrics are defined per pixel
in `evaluators.flow_metrics` and per image in `evaluators.flow_pools`.

Each reduce reports the fixed list of metrics its protocol computes, not the spec's names: Sintel's
`SINTEL_METRICS`, and for a KITTI-format release the metrics its declared ground-truth channels allow
(`evaluators.flow_pools.kitti_format_metric_names` of the loader's `gt_keys()`: KITTI 2015's flow_occ, flow_noc and
obj_map give all ten, HD1K's flow_occ alone gives fl_all, epe, epe_image_mean and density). A spec that names a
metric the release cannot have, or a misspelt one, or leaves one out, is then refused by
`hub.core.evaluation.check_metric_names` with the benchmark and the names. Where a benchmark's prediction files live and
how they are read and written is defined once, in `evaluators.readers.flow`, so the baselines, the submission checks
and the evaluators can never disagree on the layout.

Everything is vectorised numpy over whole images, and per split only the pools' integer pixel counts and float64
sums are kept (`evaluators.flow_pools.Pool`), each pooled metric divided once.

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
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from evaluators.flow_metrics import BoolArray
from evaluators.flow_pools import (
    KITTI_SPLIT_ONLY,
    SINTEL_METRICS,
    Pool,
    kitti_format_metric_names,
    kitti_gt_view,
    kitti_view_pool,
    sintel_gt_view,
    sintel_view_pool,
)
from evaluators.readers.flow import match_prediction_files, prediction_layout, read_prediction
from hub.core.bootstrap import Draws, FloatArray, ResampledMetrics, resampled_ratios
from hub.core.evaluation import (
    EvaluationRequest,
    EvaluationResult,
    Resampling,
    ScoringPlan,
    ShardedEvaluator,
    each_sample,
)


@runtime_checkable
class FlowLoader(Protocol):
    """What the flow evaluators and baselines need from an optical-flow loader (`loaders.optical_flow`)."""

    def sample_ids(self) -> list[str]: ...

    def gt_keys(self) -> list[str]: ...

    def ground_truth(self, sample_id: str) -> dict[str, NDArray[Any]]: ...

    def cached_ground_truth(
        self, sample_id: str, derive: Callable[[dict[str, NDArray[Any]]], Mapping[str, NDArray[Any]]]
    ) -> dict[str, NDArray[Any]]: ...

    def image_pair(self, sample_id: str) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]: ...


# (prediction, its valid mask, the sample's GT view) -> the sample's pool
_Scorer = Callable[[NDArray[np.float32], BoolArray, Mapping[str, NDArray[Any]]], Pool]
# one unit: a sample id and its prediction file (relative to the predictions folder)
_Unit = tuple[str, str]
# one partial: the sample's pool, or the problem with its prediction file
_Partial = Pool | str


@dataclass(frozen=True)
class _FlowProtocol:
    """What distinguishes the two protocols: the GT view (cached, see `loaders.gt_cache`), the per-image scorer of
    a view, the view key giving the image size, the metrics computed from the release's GT arrays (its loader's
    `gt_keys()`), the breakdown grouping and the metrics with no per-sample value (computed from the per-sample
    scores)."""

    view: Callable[[Mapping[str, NDArray[Any]]], dict[str, NDArray[Any]]]
    score: _Scorer
    shape_key: str
    names: Callable[[list[str]], list[str]]
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
        """Pool the images' counts and sums in the split's order: each pooled metric is divided once. Reports the
        protocol's metrics for the release's channels, whatever the spec names (the spec is checked against them)."""
        problems = [*plan.context, *(partial for partial in partials if isinstance(partial, str))]
        plan.coverage.raise_for_problems(problems)
        layout = prediction_layout(request.spec)
        names = protocol.names(_open_loader(request).gt_keys())
        per_sample_names = [name for name in names if name not in protocol.split_only]
        split_pool = Pool()
        group_pools: dict[str, Pool] = {}
        sample_scores: dict[str, dict[str, float]] = {}
        for (sample_id, _source), pool in zip(plan.units, partials, strict=True):
            assert isinstance(pool, Pool)  # every problem was raised above
            sample_scores[sample_id] = pool.metrics(per_sample_names)
            split_pool.merge(pool)
            if protocol.group is not None:
                key = protocol.group("/".join(sample_id.split("/")[-layout.id_parts :]))
                group_pools.setdefault(key, Pool()).merge(pool)
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


def _pool_columns(pools: Sequence[Pool], names: Sequence[str]) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Each image's pooled totals and pixel counts per metric, (n_images, k) each, and the metrics' scales."""
    totals = np.array([[pool.totals.get(name, 0.0) for name in names] for pool in pools], dtype=np.float64)
    counts = np.array([[pool.counts.get(name, 0) for name in names] for pool in pools], dtype=np.float64)
    scales = np.array(
        [next((pool.scales[name] for pool in pools if name in pool.scales), 1.0) for name in names], dtype=np.float64
    )
    return totals, counts, scales


def _resampler(
    protocol: _FlowProtocol,
) -> Callable[[EvaluationRequest, ScoringPlan[_Unit], list[_Partial], Draws], ResampledMetrics]:
    def resampled(
        request: EvaluationRequest, plan: ScoringPlan[_Unit], partials: list[_Partial], draws: Draws
    ) -> ResampledMetrics:
        """The pooled metrics over each resample's images: the same per-image sums the reduce adds, added over the
        drawn images (an image drawn twice twice), divided once. KITTI's `epe_image_mean`, a mean of the images'
        own EPE leaving out images without flow_occ pixels, is the same ratio with each image's EPE as its total
        and 1 (0 without pixels) as its count."""
        names = protocol.names(_open_loader(request).gt_keys())
        pools = [pool for pool in partials if isinstance(pool, Pool)]
        pooled = [name for name in names if name != "epe_image_mean"]
        totals, counts, scales = _pool_columns(pools, pooled)
        if "epe_image_mean" in names:
            epe = np.array([pool.metrics(["epe"])["epe"] for pool in pools], dtype=np.float64)
            defined = np.isfinite(epe)
            totals = np.column_stack([totals, np.where(defined, epe, 0.0)])
            counts = np.column_stack([counts, defined.astype(np.float64)])
            scales = np.append(scales, 1.0)
            pooled.append("epe_image_mean")
        values = resampled_ratios(draws, totals, counts, scales)
        return {name: values[:, column] for column, name in enumerate(pooled)}

    return resampled


def _sharded(protocol: _FlowProtocol) -> ShardedEvaluator[_Unit, _Partial]:
    return ShardedEvaluator(
        _plan, _mapper(protocol), _reducer(protocol), Resampling("image", each_sample, _resampler(protocol))
    )


def _kitti_reduce(request: EvaluationRequest, plan: ScoringPlan[_Unit], partials: list[_Partial]) -> EvaluationResult:
    """KITTI 2015 aggregation (devkit `evaluate_scene_flow.cpp::eval`), for any KITTI-format release: outlier and
    pixel counts summed over all images of the split and divided once; `epe_image_mean` is the mean over images of
    each image's mean EPE on flow_occ (RAFT `validate_kitti`), leaving out images without any flow_occ GT pixel.
    The metrics come in `kitti_format_metric_names` order."""
    result = _KITTI_POOLED.reduce(request, plan, partials)
    per_image = [scores["epe"] for scores in result.sample_scores.values() if math.isfinite(scores["epe"])]
    metrics = {**result.metrics, "epe_image_mean": float(np.mean(per_image)) if per_image else math.nan}
    result.metrics = {name: metrics[name] for name in kitti_format_metric_names(_open_loader(request).gt_keys())}
    return result


def _score_sintel(pred: NDArray[np.float32], valid: BoolArray, view: Mapping[str, NDArray[Any]]) -> Pool:
    # .flo predictions are dense: every pixel is valid, so `valid` carries no information here.
    return sintel_view_pool(pred, view)


_KITTI_POOLED = _sharded(
    _FlowProtocol(kitti_gt_view, kitti_view_pool, "occ_valid", kitti_format_metric_names, split_only=KITTI_SPLIT_ONLY)
)

# Score the flow predictions of a KITTI-format release (KITTI 2015, HD1K: KITTI 16-bit flow PNGs, GT channels
# flow_occ and optionally flow_noc and obj_map) with the KITTI 2015 devkit's metrics, as many as its channels allow
# (see `evaluators.flow_pools.kitti_view_pool` and `_kitti_reduce`).
evaluate_kitti_format: ShardedEvaluator[_Unit, _Partial] = ShardedEvaluator(
    _plan, _KITTI_POOLED.map, _kitti_reduce, _KITTI_POOLED.resampling
)

# Score Sintel flow predictions (see `evaluators.flow_pools.sintel_image_pool`), pooled over the split's pixels;
# breakdown `scene`: the same metrics pooled over each scene's pixels.
evaluate_sintel: ShardedEvaluator[_Unit, _Partial] = _sharded(
    _FlowProtocol(
        sintel_gt_view,
        _score_sintel,
        "flow",
        lambda _gt_keys: list(SINTEL_METRICS),
        group=lambda tail: tail.split("/")[0],
        group_name="scene",
    )
)


def _open_loader(request: EvaluationRequest) -> FlowLoader:
    """The split's loader as flow ground truth."""
    return request.ground_truth_as(FlowLoader)  # type: ignore[type-abstract]
