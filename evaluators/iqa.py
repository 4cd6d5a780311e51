"""Image-quality scoring: one evaluator for the family, whose protocol each benchmark's spec declares.

The spec's `evaluator_options` (`hub.core.registry.ImageQualityOptions`) name the pooling and the label field the
scores are compared with (`target`); nothing here is specific to one release beyond the per-scene protocol's PIQ23
rows. Each statistic follows its scipy.stats definition, as pyiqa's do:

- `srcc`: Spearman's rank correlation (Pearson on average ranks, ties averaged) = `scipy.stats.spearmanr`;
- `plcc`: Pearson's linear correlation on the raw scores, no fitted mapping = `scipy.stats.pearsonr`;
- `krcc`: Kendall's tau-b (ties in either variable handled) = `scipy.stats.kendalltau` (its default variant);
- `mae`: mean |SCORE - target|, meaningful only for predictions on the target's scale (per-scene protocol only).

**`pooling: per-scene-median`** (PIQ23). PIQ23's JOD scores are zero-mean *within each scene* and comparable only
there, so the official protocol computes every metric per scene and reports the **median across scenes**
(github.com/DXOMARK-Research/PIQ2023, README, "Benchmarks": "the reported results represent the median of the
metrics across all scenes"; the repository has no metric code, and nothing official mentions a fitted mapping).
Reported: `srcc`, `plcc`, `krcc`, `mae` = the median over scenes (the official numbers); `srcc_mean`,
`plcc_mean`, `krcc_mean` = the mean over scenes; `srcc_global`, `plcc_global`, `krcc_global` = pooled over all
scored images as one list (what pyiqa reports for PIQ23) — NOT comparable to the paper, since JOD means nothing
across scenes. Breakdowns per scene and per condition.

**`pooling: all-images`** (SPAQ). The target is one absolute scale over the whole release (SPAQ's MOS, 0-100), so
`srcc`, `plcc` and `krcc` are computed once over all scored images of the split as one list
(`global_correlations`); no breakdown. The release's label rows are read by their `image` and `target` fields
(`QualityRelease`), so a release needs no code here.

Undefined statistics (mobench's rules; the official material says nothing):
- predictions that are all equal carry no ranking information: SRCC, PLCC and KRCC count as **0** (per scene in
  the median and the mean, never skipped, so constant outputs cannot hide a weak scene; the per-scene breakdown
  names the scene with `constant_prediction = 1`; `details.constant_prediction` says so for all-images pooling);
- fewer than two scored images or a constant target (impossible in the releases; only reachable with
  `--allow-partial` or odd data) leaves no defined correlation whatever the predictions: NaN (per scene: left out
  of the correlation aggregates, NaN in its breakdown, listed in `details`; its MAE still counts).

Predictions: a CSV with the columns `IMAGE` and `SCORE` (NTIRE 2024 portrait-quality challenge convention, whose
results file is the input CSV plus a `SCORE` column; other columns are ignored), one row per image of the split.
`IMAGE` is the release's file name; a path whose last component is that name (`Overall\\1_Indoor_Scene_0.jpg`,
`TestImage/00001.jpg`) is accepted.

Every correlation, per scene or pooled, is the scipy.stats call itself (`global_correlations`), as in pyiqa
(IQA-PyTorch, `pyiqa/metrics/correlation_coefficient.py`), which PIQ23's repository takes its model code from. A
hand-written version computing all scenes at once from pairwise sign matrices saved 37 ms on a release-size
submission (5,116 images in 50 scenes: 0.009 s against 0.046 s, `mobench bench`), too little to keep a second
implementation; it differed from scipy by 1-4 units in the last place.

Intervals (`hub.core.bootstrap`) resample the unit the protocol pools over (`_UNITS`):
- per-scene pooling resamples **scenes**: the official figure is a median over scenes, each scene's statistic
  computed within the scene, so a resample draws scenes with replacement and takes the median (and mean) of the
  drawn scenes' statistics, each computed once from all the scene's images (`per_scene_statistics`) and taken as
  often as the scene is drawn (by position, never merged by name: a scene drawn twice counts twice). `*_global`
  pools the drawn scenes' images as one list (`global_correlations`, duplicates included).
- all-images pooling resamples **images**: the figure is one correlation over all images, so a resample draws images
  with replacement and computes `global_correlations` over them (a duplicated image is a tie in both lists). That
  is three scipy calls per resample: about 2 s for 2,000 images x 1,000 resamples, far more than scoring the
  submission once, and the price of computing each resample with the reduce's own code.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import scipy.stats
from numpy.typing import NDArray

from evaluators.readers.iqa import prediction_file, read_score_csv
from hub.core.bootstrap import Draws, ResampledMetrics, per_resample
from hub.core.coverage import match_predictions
from hub.core.errors import MobenchError
from hub.core.evaluation import EvaluationRequest, EvaluationResult, Resampling, ScoringPlan, ShardedEvaluator
from hub.core.registry import ImageQualityOptions
from loaders.piq23 import PIQ23

CORRELATIONS: tuple[str, ...] = ("srcc", "plcc", "krcc")

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class SceneStatistics:
    """Per-scene statistics, arrays indexed like `scenes`; correlations are already 0 for constant predictions
    and NaN where undefined (see the module docstring)."""

    scenes: list[str]
    n: NDArray[np.int64]
    srcc: FloatArray
    plcc: FloatArray
    krcc: FloatArray
    mae: FloatArray
    constant_prediction: BoolArray

    def values(self, name: str) -> FloatArray:
        """The per-scene array of one statistic (`srcc`, `plcc`, `krcc` or `mae`)."""
        values: FloatArray = getattr(self, name)
        return values


def per_scene_statistics(
    scenes: list[str], scene_of: NDArray[np.int64], score: FloatArray, jod: FloatArray
) -> SceneStatistics:
    """SRCC, PLCC, KRCC (`global_correlations` of each scene's images) and MAE of every scene (images of scene k
    have `scene_of == k`, taken in their order)."""
    n_scenes = len(scenes)
    counts = np.bincount(scene_of, minlength=n_scenes).astype(np.int64)
    order = np.argsort(scene_of, kind="stable")
    values = {name: np.full(n_scenes, math.nan) for name in (*CORRELATIONS, "mae")}
    constant = np.zeros(n_scenes, dtype=bool)
    for k, rows in enumerate(np.split(order, np.cumsum(counts)[:-1])):
        x, y = score[rows], jod[rows]
        for name, value in global_correlations(x, y).items():
            values[name][k] = value
        if len(x):
            values["mae"][k] = np.mean(np.abs(x - y))
        constant[k] = _defined(x, y) and np.ptp(x) == 0
    return SceneStatistics(scenes, counts, values["srcc"], values["plcc"], values["krcc"], values["mae"], constant)


def _defined(score: FloatArray, jod: FloatArray) -> bool:
    """Whether any correlation is defined: at least two images and a target that is not constant."""
    return len(score) >= 2 and bool(np.ptp(jod) > 0)


def global_correlations(score: FloatArray, jod: FloatArray) -> dict[str, float]:
    """SRCC/PLCC/KRCC of the images as one list (scipy.stats), 0 for constant predictions and NaN where undefined
    (module docstring); `per_scene_statistics` applies it to each scene."""
    if not _defined(score, jod):
        return dict.fromkeys(CORRELATIONS, math.nan)
    if np.ptp(score) == 0:
        return dict.fromkeys(CORRELATIONS, 0.0)
    return {
        "srcc": float(scipy.stats.spearmanr(score, jod).statistic),
        "plcc": float(scipy.stats.pearsonr(score, jod).statistic),
        "krcc": float(scipy.stats.kendalltau(score, jod).statistic),
    }


def _aggregate(stats: SceneStatistics, keep: BoolArray) -> dict[str, float]:
    """Median and mean over the kept scenes' defined values (NaN if none)."""
    figures = scene_aggregates(stats, np.flatnonzero(keep)[None, :])
    return {name: float(values[0]) for name, values in figures.items()}


def scene_aggregates(stats: SceneStatistics, drawn: NDArray[np.integer[Any]]) -> dict[str, FloatArray]:
    """Each statistic's median over scenes (and each correlation's mean), for every row of `drawn`: (sets, k)
    indices into `stats`' scenes, one set of scenes per row (a scene drawn twice counts twice: its value is taken
    twice, never merged by name). A scene whose statistic is undefined (NaN) is left out; NaN if none is left."""
    out: dict[str, FloatArray] = {}
    for name in (*CORRELATIONS, "mae"):
        medians, means = _median_and_mean(stats.values(name)[drawn])
        out[name] = medians
        if name in CORRELATIONS:
            out[f"{name}_mean"] = means
    return out


def _median_and_mean(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The median and the mean of each row's finite values (NaN for a row with none): numpy's median and mean of
    the row as it is when all its values are finite, of its finite values otherwise."""
    medians, means = np.full(len(values), math.nan), np.full(len(values), math.nan)
    finite = np.isfinite(values)
    whole = finite.all(axis=1) & (values.shape[1] > 0)
    if whole.any():
        medians[whole] = np.median(values[whole], axis=1)
        means[whole] = values[whole].mean(axis=1)
    for row in np.flatnonzero(~whole):
        kept = values[row][finite[row]]
        if kept.size:
            medians[row], means[row] = np.median(kept), kept.mean()
    return medians, means


def score_piq23(
    images: list[str], scenes: list[str], conditions: list[str], jod: FloatArray, predictions: dict[str, float]
) -> tuple[dict[str, float], dict[str, dict[str, dict[str, float]]], SceneStatistics]:
    """Metrics and breakdowns for the images that have a prediction (`images`, `scenes`... aligned lists)."""
    scored = [i for i, image in enumerate(images) if image in predictions]
    names = sorted({scenes[i] for i in scored})
    index = {name: k for k, name in enumerate(names)}
    scene_of = np.array([index[scenes[i]] for i in scored], dtype=np.int64)
    score = np.array([predictions[images[i]] for i in scored], dtype=np.float64)
    truth = jod[scored]
    stats = per_scene_statistics(names, scene_of, score, truth)
    everything = np.ones(len(names), dtype=bool)
    metrics = _aggregate(stats, everything)
    metrics.update({f"{k}_global": v for k, v in global_correlations(score, truth).items()})

    condition_of = {scenes[i]: conditions[i] for i in scored}
    by_condition: dict[str, dict[str, float]] = {}
    for condition in sorted(set(condition_of.values())):
        keep = np.array([condition_of[name] == condition for name in names])
        summary = {k: v for k, v in _aggregate(stats, keep).items() if not k.endswith("_mean")}
        by_condition[condition] = summary | {"n_scenes": float(keep.sum()), "n_images": float(stats.n[keep].sum())}
    by_scene = {
        name: {
            "n": float(stats.n[k]),
            **{metric: float(stats.values(metric)[k]) for metric in (*CORRELATIONS, "mae")},
            "constant_prediction": float(stats.constant_prediction[k]),
        }
        for k, name in enumerate(names)
    }
    return metrics, {"scene": by_scene, "condition": by_condition}, stats


@runtime_checkable
class QualityRelease(Protocol):
    """What the all-images protocol reads of a split's ground truth: its label rows in sample order, each with the
    release's `image` file name and the field the spec's `evaluator_options.target` names (e.g. SPAQ's `mos`)."""

    def labels(self) -> Sequence[Any]: ...


@dataclass(frozen=True)
class _Truth:
    """What the evaluator reads of one label row: the target, and the scene and condition the per-scene protocol
    groups by (empty for all-images pooling)."""

    image: str
    truth: float
    scene: str = ""
    condition: str = ""


def _field(request: EvaluationRequest, row: Any, name: str) -> Any:
    if not hasattr(row, name):
        raise MobenchError(
            f"{request.spec.id}: the label rows of {type(request.ground_truth).__name__} have no field {name!r}, "
            "which its evaluator_options name"
        )
    return getattr(row, name)


def _truths(request: EvaluationRequest) -> list[_Truth]:
    """The split's label rows as the spec's protocol reads them: per-scene pooling is PIQ23's protocol and reads
    PIQ23 rows; all-images pooling reads any release's rows by `image` and the options' `target`."""
    options = request.spec.options_as(ImageQualityOptions)
    if options.pooling == "per-scene-median":
        scenes = request.ground_truth_as(PIQ23).labels()
        return [_Truth(r.image, float(_field(request, r, options.target)), r.scene, r.condition) for r in scenes]
    rows = request.ground_truth_as(QualityRelease).labels()  # type: ignore[type-abstract]
    return [_Truth(str(_field(request, r, "image")), float(_field(request, r, options.target))) for r in rows]


@dataclass(frozen=True)
class _Scored:
    """One image's partial: its prediction next to its ground truth (every statistic pools several images, so the
    map only pairs them; the reduce computes)."""

    image: str
    score: float
    truth: float
    scene: str
    condition: str


def _plan(request: EvaluationRequest) -> ScoringPlan[tuple[str, float]]:
    """Read and check the `IMAGE,SCORE` CSV; units are (image, score) in the release's image order."""
    truths = _truths(request)
    path = prediction_file(request.predictions)
    rows, value_problems = read_score_csv(path)
    coverage = match_predictions(
        [t.image for t in truths],
        ((row.image, row.source) for row in rows),
        allow_partial=request.allow_partial,
    )
    coverage.raise_for_problems(value_problems)
    predictions = {row.image: row.score for row in rows}
    units = [(t.image, predictions[t.image]) for t in truths if t.image in predictions]
    return ScoringPlan(coverage, units, context=path.name)


def _map(request: EvaluationRequest, units: Sequence[tuple[str, float]]) -> list[_Scored]:
    truths = {t.image: t for t in _truths(request)}
    return [
        _Scored(image, score, truths[image].truth, truths[image].scene, truths[image].condition)
        for image, score in units
    ]


def _reduce_per_scene(
    request: EvaluationRequest, plan: ScoringPlan[tuple[str, float]], partials: list[_Scored], target: str
) -> EvaluationResult:
    """The per-scene median protocol over every scored image (module docstring)."""
    jod = np.array([p.truth for p in partials], dtype=np.float64)
    metrics, breakdowns, stats = score_piq23(
        [p.image for p in partials],
        [p.scene for p in partials],
        [p.condition for p in partials],
        jod,
        {p.image: p.score for p in partials},
    )
    sample_scores = {
        p.image: {"score": p.score, target: p.truth, "abs_error": abs(p.score - p.truth)} for p in partials
    }
    details: dict[str, Any] = {
        "protocol": "per-scene statistics, median over scenes (official); *_mean: mean over scenes; "
        "*_global: pooled over all images, not comparable to the paper",
        "attribute": request.ground_truth_as(PIQ23).attribute,
        "n_scenes": len(stats.scenes),
        "krcc_variant": "tau-b",
        "constant_prediction_scenes": [s for s, c in zip(stats.scenes, stats.constant_prediction, strict=True) if c],
        "undefined_correlation_scenes": [
            s for s, v in zip(stats.scenes, stats.srcc, strict=True) if not math.isfinite(float(v))
        ],
        "prediction_file": plan.context,
    }
    return EvaluationResult.scored(
        request,
        plan.coverage,
        metrics,
        breakdowns=breakdowns,
        sample_scores=sample_scores,
        details=details,
    )


def _reduce_all_images(
    request: EvaluationRequest, plan: ScoringPlan[tuple[str, float]], partials: list[_Scored], target: str
) -> EvaluationResult:
    """SRCC, PLCC and KRCC over every scored image as one list (module docstring), no breakdown."""
    score = np.array([p.score for p in partials], dtype=np.float64)
    truth = np.array([p.truth for p in partials], dtype=np.float64)
    details: dict[str, Any] = {
        "protocol": "SRCC, PLCC (raw scores, no fitted mapping) and KRCC over all scored images as one list",
        "target": target,
        "krcc_variant": "tau-b",
        "constant_prediction": bool(len(score) > 0 and np.ptp(score) == 0),
        "prediction_file": plan.context,
    }
    return EvaluationResult.scored(
        request,
        plan.coverage,
        global_correlations(score, truth),
        sample_scores={p.image: {"score": p.score, target: p.truth} for p in partials},
        details=details,
    )


def _reduce(
    request: EvaluationRequest, plan: ScoringPlan[tuple[str, float]], partials: list[_Scored]
) -> EvaluationResult:
    """The protocol the spec's `evaluator_options` name: per-scene medians or all images pooled."""
    options = request.spec.options_as(ImageQualityOptions)
    pool = _reduce_per_scene if options.pooling == "per-scene-median" else _reduce_all_images
    return pool(request, plan, partials, options.target)


# the unit each protocol pools over, which its intervals resample
_UNITS = {"per-scene-median": "scene", "all-images": "image"}


def _pooling(request: EvaluationRequest) -> str:
    return request.spec.options_as(ImageQualityOptions).pooling


def _unit_of(request: EvaluationRequest, _plan: ScoringPlan[Any], partials: list[_Scored]) -> list[Hashable]:
    """A partial's unit: its scene for per-scene pooling, itself (its position) for all-images pooling."""
    if _pooling(request) == "per-scene-median":
        return [p.scene for p in partials]
    return list(range(len(partials)))


def _resampled(
    request: EvaluationRequest, _plan: ScoringPlan[Any], partials: list[_Scored], draws: Draws
) -> ResampledMetrics:
    """Every metric over each resample's drawn units, a unit drawn twice counting twice.

    Pooled correlations (all-images' `srcc`, `plcc`, `krcc`; per-scene's `*_global`): `global_correlations` of
    the drawn units' images as one list, duplicates included (tied ranks, as scipy takes them). Per-scene figures:
    every scene's statistics computed once (`per_scene_statistics`, each scene's images in their order, as the
    reduce takes them), then the median and mean over each resample's drawn scenes (`scene_aggregates`)."""
    score = np.array([p.score for p in partials], dtype=np.float64)
    truth = np.array([p.truth for p in partials], dtype=np.float64)
    pooled = per_resample(draws, lambda drawn: global_correlations(score[drawn], truth[drawn]), CORRELATIONS)
    if _pooling(request) != "per-scene-median":
        return pooled
    scene_of = np.empty(len(partials), dtype=np.int64)
    for unit, members in enumerate(draws.members):
        scene_of[members] = unit
    scenes = [partials[int(members[0])].scene for members in draws.members]
    stats = per_scene_statistics(scenes, scene_of, score, truth)
    return scene_aggregates(stats, draws.picks) | {f"{name}_global": pooled[name] for name in CORRELATIONS}


# Score an `IMAGE,SCORE` CSV on one image-quality benchmark, config and split with its spec's protocol; intervals
# over the protocol's unit.
evaluate: ShardedEvaluator[tuple[str, float], _Scored] = ShardedEvaluator(
    _plan, _map, _reduce, Resampling(lambda request: _UNITS[_pooling(request)], _unit_of, _resampled)
)
