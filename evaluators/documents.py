"""Identity-document metrics for MIDV-500 / MIDV-2019: the authors' localisation protocol and field recognition.

Both evaluators, `evaluate_localisation` and `evaluate_fields`, are `ShardedEvaluator`s: the plan reads and checks
the whole predictions file, the map scores frames one by one (a frame's IoUs and min_d, or its fields' matches and
distances), and the reduce averages those per-frame scores in the split's order, so any chunking gives the same bits.
The metrics are defined in `evaluators.document_quads` (localisation: the template-frame IoU, min_d and the image
IoU, after the dataset authors' code) and `evaluators.document_fields` (field texts: exact match and normalised
Levenshtein distance after normalisation, field types); their public names are importable from here too.

Predicted quads that are not 4 finite [x, y] pairs, self-intersect, or have three corners on one line (no
homography exists) are rejected with the frame id and line; a detector that finds nothing writes `null`.

Intervals (`hub.core.bootstrap`) resample **frames**, with all their (frame, field) pairs: the authors' `run_stat.py`
averages over all frames as one flat list (not per clip, not per document), the field figures average the pairs the
frames' predictions give (no per-clip voting), and the subset configs only choose which frames are in the list. A
resample draws frames with replacement (a frame drawn twice counts twice) and takes the same means: the values of
`localisation_columns` over the drawn frames that count (min_d over those with a quad), exact reads and NGLD over
the drawn frames' pairs, `document_correct` over the drawn frames. The 30 frames of a clip are close views of one
document, so these intervals say how much the figure depends on which frames were scored, and are narrower than a
bootstrap over clips would be.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from evaluators.document_fields import field_metrics, field_type, levenshtein, normalise_field, normalised_levenshtein
from evaluators.document_quads import (
    AREA_ROUNDOFF,
    IOU_THRESHOLD,
    MIN_D_THRESHOLD,
    THRESHOLD_EPS,
    FloatArray,
    QuadScores,
    apply_homographies,
    clockwise,
    homographies,
    jaccard,
    localisation_columns,
    localisation_metrics,
    localisation_scores,
    template_rectangles,
)
from evaluators.readers.documents import parse_quad, read_prediction_lines
from hub.core.bootstrap import Draws, ResampledMetrics, ratios, resampled_sums
from hub.core.coverage import Coverage, match_predictions
from hub.core.errors import MobenchError
from hub.core.evaluation import (
    Breakdowns,
    EvaluationRequest,
    EvaluationResult,
    Resampling,
    ScoringPlan,
    ShardedEvaluator,
    each_sample,
)
from loaders.midv import FRAME_CONFIGS, MIDVLoader
from loaders.midv_annotations import Document, Frame

# the metrics' public names stay importable from here, where the benchmark's evaluators are
__all__ = [
    "AREA_ROUNDOFF",
    "IOU_THRESHOLD",
    "MIN_D_THRESHOLD",
    "THRESHOLD_EPS",
    "QuadScores",
    "apply_homographies",
    "clockwise",
    "evaluate_fields",
    "evaluate_localisation",
    "field_metrics",
    "field_type",
    "frame_groups",
    "homographies",
    "jaccard",
    "levenshtein",
    "localisation_metrics",
    "localisation_scores",
    "normalise_field",
    "normalised_levenshtein",
    "open_loader",
    "template_rectangles",
]


def open_loader(request: EvaluationRequest) -> MIDVLoader:
    if request.config not in FRAME_CONFIGS:
        raise MobenchError(
            f"{request.spec.id}: config {request.config!r} holds the per-document field annotations, not frames; "
            f"score one of: {', '.join(FRAME_CONFIGS)}"
        )
    return request.ground_truth_as(MIDVLoader)


def _matched(
    request: EvaluationRequest, loader: MIDVLoader, key: str, parse: Callable[[Any, str], Any]
) -> tuple[dict[str, Any], Coverage]:
    """Read, parse and match prediction lines; returns (id -> parsed value, coverage).

    Predictions for frames of the release outside the chosen subset config are ignored, so one predictions file
    serves every config; ids that are not frames of the release at all are errors.
    """
    lines, problems = read_prediction_lines(request.predictions, key)
    expected = loader.sample_ids()
    expected_set = set(expected)
    release = set(loader.all_frame_ids())
    lines = [line for line in lines if line.sample_id in expected_set or line.sample_id not in release]
    coverage = match_predictions(
        expected, ((line.sample_id, line.source) for line in lines), allow_partial=request.allow_partial
    )
    parsed: dict[str, Any] = {}
    for line in lines:
        if coverage.to_score.get(line.sample_id) != line.source:
            continue
        value = parse(line.value, line.sample_id)
        if isinstance(value, str):
            problems.append(f"sample {line.sample_id}: {line.source}: {value}")
        else:
            parsed[line.sample_id] = value
    coverage.raise_for_problems(problems)
    return parsed, coverage


def frame_groups(frame: Frame, document: Document) -> dict[str, list[str]]:
    """The breakdown keys of one frame: condition, phone, document type, document, and every subset it is in."""
    return {
        "condition": [frame.condition],
        "phone": [frame.phone],
        "document_type": [document.document_type],
        "document": [document.name],
        "subset": frame.subsets,
    }


def _breakdowns(
    groups: list[dict[str, list[str]]], metrics: Callable[[str, list[int]], dict[str, float]]
) -> Breakdowns:
    """`groups[k]` names the breakdown keys of scored item k; `metrics(breakdown, items)` scores one group."""
    members: dict[str, dict[str, list[int]]] = {}
    for index, item_groups in enumerate(groups):
        for breakdown, keys in item_groups.items():
            for key in keys:
                members.setdefault(breakdown, {}).setdefault(key, []).append(index)
    return {
        name: {key: metrics(name, items) for key, items in sorted(by_key.items())} for name, by_key in members.items()
    }


# one unit: a frame id and its parsed quad, None for `"quad": null`
_QuadUnit = tuple[str, FloatArray | None]


@dataclass(frozen=True)
class _FrameQuadScores:
    """One frame's partial: its three localisation scores and its breakdown keys (`frame_groups`)."""

    iou_template: float
    min_d: float
    iou_image: float
    groups: dict[str, list[str]]


def _plan_localisation(request: EvaluationRequest) -> ScoringPlan[_QuadUnit]:
    """Read, parse and match every quad line, so that a broken line is reported before any frame is scored."""
    parsed, coverage = _matched(request, open_loader(request), "quad", lambda raw, _id: parse_quad(raw))
    return ScoringPlan(coverage, [(sample_id, parsed[sample_id]) for sample_id in coverage.to_score])


def _map_localisation(request: EvaluationRequest, units: Sequence[_QuadUnit]) -> list[_FrameQuadScores]:
    """Score the chunk's frames in one vectorised call: `localisation_scores` works row by row (batched solves,
    element-wise polygon areas), so a frame's scores are the same bits whatever chunk it is scored in."""
    loader = open_loader(request)
    documents = loader.documents()
    frames = [loader.frame(sample_id) for sample_id, _ in units]
    gt = np.array([f.quad for f in frames]).reshape(-1, 4, 2)
    pred = np.array([np.full((4, 2), np.nan) if quad is None else quad for _, quad in units]).reshape(-1, 4, 2)
    sizes = np.array([(documents[f.document].width, documents[f.document].height) for f in frames], dtype=np.float64)
    scores = localisation_scores(gt, pred, sizes.reshape(-1, 2))
    return [
        _FrameQuadScores(
            float(scores.iou_template[k]),
            float(scores.min_d[k]),
            float(scores.iou_image[k]),
            frame_groups(frame, documents[frame.document]),
        )
        for k, frame in enumerate(frames)
    ]


def _reduce_localisation(
    request: EvaluationRequest, plan: ScoringPlan[_QuadUnit], partials: list[_FrameQuadScores]
) -> EvaluationResult:
    """The five figures (`localisation_metrics`) over the split and over each breakdown group, from the frames'
    scores as arrays in the split's order, so every mean adds the same floats in the same order."""
    scores = QuadScores(
        np.array([p.iou_template for p in partials], dtype=np.float64),
        np.array([p.min_d for p in partials], dtype=np.float64),
        np.array([p.iou_image for p in partials], dtype=np.float64),
    )

    def subset_metrics(_breakdown: str, index: list[int]) -> dict[str, float]:
        return localisation_metrics(
            QuadScores(scores.iou_template[index], scores.min_d[index], scores.iou_image[index])
        )

    return EvaluationResult.scored(
        request,
        plan.coverage,
        localisation_metrics(scores),
        breakdowns=_breakdowns([p.groups for p in partials], subset_metrics),
        sample_scores={
            sample_id: {"iou_template": p.iou_template, "min_d": p.min_d, "iou_image": p.iou_image}
            for (sample_id, _), p in zip(plan.units, partials, strict=True)
        },
        details={"frames_without_quad": sum(quad is None for _, quad in plan.units)},
    )


def _resampled_localisation(
    _request: EvaluationRequest, _plan: ScoringPlan[_QuadUnit], partials: list[_FrameQuadScores], draws: Draws
) -> ResampledMetrics:
    """The five figures over each resample's drawn frames (a frame drawn twice counts twice): `scale` times the mean
    of the `localisation_columns` values of the drawn frames that count, as `localisation_metrics` takes it over
    all frames (a resample drawing no frame with a quad has no min_d)."""
    columns = localisation_columns(
        QuadScores(
            np.array([p.iou_template for p in partials], dtype=np.float64),
            np.array([p.min_d for p in partials], dtype=np.float64),
            np.array([p.iou_image for p in partials], dtype=np.float64),
        )
    )
    totals = [np.where(counted, values, 0.0) for values, counted, _ in columns.values()]
    means = _resampled_ratios(draws, totals, [counted for _, counted, _ in columns.values()])
    return {name: scale * means[:, j] for j, (name, (_, _, scale)) in enumerate(columns.items())}


def _resampled_ratios(draws: Draws, totals: Sequence[FloatArray], counts: Sequence[Any]) -> FloatArray:
    """(resamples, k): `sum(totals[j]) / sum(counts[j])` over each resample's drawn frames, NaN where nothing
    counts; summed by `resampled_sums` (counts and flags exactly), the cheaper way at 15,000 frames."""
    n = len(totals)
    sums = resampled_sums(draws, np.column_stack([*totals, *counts]).astype(np.float64))
    return ratios(sums[:, :n], sums[:, n:])


# Score `{"id": ..., "quad": [[x, y] x 4] | null}` lines with the authors' protocol (`evaluators.document_quads`).
evaluate_localisation: ShardedEvaluator[_QuadUnit, _FrameQuadScores] = ShardedEvaluator(
    _plan_localisation,
    _map_localisation,
    _reduce_localisation,
    Resampling("frame", each_sample, _resampled_localisation),
)


def _parse_fields(raw: Any, sample_id: str, loader: MIDVLoader) -> dict[str, str] | str:
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        return 'fields must be an object {"field01": "text", ...} of strings'
    known = loader.document_of(sample_id).fields
    unknown = sorted(set(raw) - set(known))
    if unknown:
        return f"unknown field(s) {', '.join(unknown)}; this document has {', '.join(known)}"
    return dict(raw)


# one unit: a frame id and its predicted texts by field name
_FieldsUnit = tuple[str, dict[str, str]]


class _FieldPair(NamedTuple):
    """One (frame, field) pair: read exactly, its NGLD and its breakdown keys."""

    exact: bool
    distance: float
    groups: dict[str, list[str]]


@dataclass(frozen=True)
class _FrameFields:
    """One frame's partial: its pairs in the document's field order and its own scores (over its pairs only)."""

    pairs: list[_FieldPair]
    scores: dict[str, float]


def _plan_fields(request: EvaluationRequest) -> ScoringPlan[_FieldsUnit]:
    """Read, parse and match every fields line (only fields of the frame's document), before any is scored."""
    loader = open_loader(request)
    parsed, coverage = _matched(request, loader, "fields", lambda raw, i: _parse_fields(raw, i, loader))
    return ScoringPlan(coverage, [(sample_id, parsed[sample_id]) for sample_id in coverage.to_score])


def _map_fields(request: EvaluationRequest, units: Sequence[_FieldsUnit]) -> list[_FrameFields]:
    """Per frame, every field of its document against the prediction (a missing field is read as "")."""
    loader = open_loader(request)
    documents = loader.documents()
    partials: list[_FrameFields] = []
    for sample_id, texts in units:
        frame = loader.frame(sample_id)
        document = documents[frame.document]
        base = frame_groups(frame, document)
        pairs: list[_FieldPair] = []
        for name, field in document.fields.items():
            truth, read = normalise_field(field.value), normalise_field(texts.get(name, ""))
            groups = {**base, "field": [f"{document.name}/{name}"], "field_type": [field_type(field.value)]}
            pairs.append(_FieldPair(truth == read, normalised_levenshtein(read, truth), groups))
        own = field_metrics((p.exact for p in pairs), (p.distance for p in pairs))
        partials.append(_FrameFields(pairs, {**own, "document_correct": 100.0 * all(p.exact for p in pairs)}))
    return partials


def _reduce_fields(
    request: EvaluationRequest, plan: ScoringPlan[_FieldsUnit], partials: list[_FrameFields]
) -> EvaluationResult:
    """Field metrics over the (frame, field) pairs of the split in its order, per field, field type and frame
    group too (`evaluators.document_fields`)."""
    frames = [(sample_id, frame) for (sample_id, _), frame in zip(plan.units, partials, strict=True)]
    pairs = [pair for _, frame in frames for pair in frame.pairs]
    pair_frame = [sample_id for sample_id, frame in frames for _ in frame.pairs]
    sample_scores = {sample_id: frame.scores for sample_id, frame in frames}

    def metrics_of(breakdown: str, indices: list[int]) -> dict[str, float]:
        """Field metrics over the pairs; document accuracy too where the group is made of whole frames."""
        result = field_metrics((pairs[k].exact for k in indices), (pairs[k].distance for k in indices))
        if breakdown not in ("field", "field_type"):
            correct = [sample_scores[i]["document_correct"] for i in dict.fromkeys(pair_frame[k] for k in indices)]
            result["document_accuracy"] = float(np.mean(correct)) if correct else math.nan
        return result

    return EvaluationResult.scored(
        request,
        plan.coverage,
        metrics_of("", list(range(len(pairs)))),
        breakdowns=_breakdowns([p.groups for p in pairs], metrics_of),
        sample_scores=sample_scores,
        details={"fields_scored": len(pairs)},
    )


def _resampled_fields(
    _request: EvaluationRequest, _plan: ScoringPlan[_FieldsUnit], partials: list[_FrameFields], draws: Draws
) -> ResampledMetrics:
    """The three figures over each resample's drawn frames, each with all its (frame, field) pairs (a frame drawn
    twice counts twice): `field_accuracy` and `field_nld` pool the pairs as `field_metrics` does (exact reads and
    summed NGLD over the number of pairs), `document_accuracy` is the mean of the drawn frames' `document_correct`."""
    exact = np.array([sum(p.exact for p in frame.pairs) for frame in partials], dtype=np.float64)
    distance = np.array([sum(p.distance for p in frame.pairs) for frame in partials], dtype=np.float64)
    pairs = np.array([len(frame.pairs) for frame in partials], dtype=np.float64)
    correct = np.array([frame.scores["document_correct"] for frame in partials], dtype=np.float64)
    ratios = _resampled_ratios(draws, [exact, distance, correct], [pairs, pairs, np.ones_like(pairs)])
    return {"field_accuracy": 100.0 * ratios[:, 0], "field_nld": ratios[:, 1], "document_accuracy": ratios[:, 2]}


# Score `{"id": ..., "fields": {"field01": "text", ...}}` lines: per-field exact match and normalised generalised
# Levenshtein distance after normalisation (`evaluators.document_fields`); per field, field type and frame.
evaluate_fields: ShardedEvaluator[_FieldsUnit, _FrameFields] = ShardedEvaluator(
    _plan_fields, _map_fields, _reduce_fields, Resampling("frame", each_sample, _resampled_fields)
)
