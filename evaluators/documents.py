"""Identity-document metrics for MIDV-500 / MIDV-2019: the authors' localisation protocol and field recognition.

Both evaluators, `evaluate_localisation` and `evaluate_fields`, are `ShardedEvaluator`s: the plan reads and checks
the whole predictions file, the map scores frames one by one (a frame's IoUs and min_d, or its fields' matches and
distances), and the reduce averages those per-frame scores in the split's order, so any chunking gives the same bits.

Localisation follows the dataset authors' evaluation code (SmartEngines/hough_document_localization, `metrics.py`
and `run_stat.py`, Tropin et al., Computer Optics 45(5), 2021), which takes the template-frame IoU from the
SmartDoc-2015 challenge (jchazalon/smartdoc15-ch1-eval):

- `iou_template`: H maps the GT quad onto the template rectangle [0, W] x [0, H] (W, H = the template image's
  size); the predicted quad is warped by H; IoU = Jaccard(rectangle, warped prediction), exact polygon areas.
  Mean over frames; a frame predicted as "no document" (`"quad": null`) scores 0.
- `iou_template_correct`: percent of frames with IoU > 0.9 - 1e-10 (`run_stat.py`: THRESHOLD 0.9).
- `min_d`: both quads are first put in clockwise order (`provide_regular_orientation`); H' maps the *predicted*
  quad onto the template rectangle, the GT corners are mapped by H', and the largest corner distance to the
  rectangle's corners, minimised over the 4 cyclic relabelings, is divided by the template perimeter 2(W + H)
  (`residual_metric`). Mean over the frames that have a predicted quad only, as `run_stat.py` reports it (NaN when
  no frame has one).
- `min_d_correct`: percent of *all* frames with min_d < 0.017 + 1e-10 (RESIDUALS_THRESHOLD 0.017); a frame with no
  quad counts as incorrect.
- `iou_image`: the plain image-plane polygon IoU of predicted and GT quads (`intersection_over_union`, the script's
  non-default `iou`), a secondary view.

Both Jaccard indices keep the script's guard against round-off: an intersection area within a relative 1e-10
above the smaller polygon's area is set to that area. Homographies are solved in float64 (the script hands float32
corners to OpenCV, which moves IoUs by about 1e-7).

Where the script is silent, mobench fixes the rule:
- A predicted quad some corner of which lies on or beyond the GT homography's horizon line (w <= 0 after H) has no
  bounded image in the template frame: a quad straddling the line maps to a region of infinite area, one wholly
  beyond it maps to a region disjoint from the rectangle. Both give IoU 0, the limit of the exact value.
- A GT corner on the predicted quad's horizon line (w = 0 after H', where the script asserts) has no min_d: NaN,
  counted as incorrect like a missing quad.
- Predicted quads that are not 4 finite [x, y] pairs, self-intersect, or have three corners on one line (no
  homography exists) are rejected with the frame id and line; a detector that finds nothing writes `null`.

Field recognition: per field, exact match after upper-casing and mapping the letter O to the digit 0 (the
normalisation Smart Engines apply to MIDV-500 field texts), and the normalised generalised Levenshtein distance
2L / (|a| + |b| + L) of the normalised texts (Yujian & Bo, IEEE TPAMI 29(6), 2007, unit costs; 0 when both are
empty). A field missing from a frame's prediction is read as "" (wrong). Averages are over (frame, field) pairs
as the predictions give them (no per-clip voting):
- `field_accuracy`: percent of (frame, field) pairs read exactly; `field_nld`: mean NGLD over those pairs;
- `document_accuracy`: percent of frames whose every field is read exactly (mobench definition; the release's
  authors publish no document-level figure). Per field and field type it is not reported (not whole frames).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import shapely
from numpy.typing import NDArray

from evaluators.readers.documents import parse_quad, read_prediction_lines
from hub.core.coverage import Coverage, match_predictions
from hub.core.errors import MobenchError
from hub.core.evaluation import Breakdowns, EvaluationRequest, EvaluationResult, ScoringPlan, ShardedEvaluator
from loaders.midv import FRAME_CONFIGS, MIDVLoader
from loaders.midv_annotations import Document, Frame

FloatArray = NDArray[np.float64]

IOU_THRESHOLD = 0.9  # run_stat.py THRESHOLD
MIN_D_THRESHOLD = 0.017  # run_stat.py RESIDUALS_THRESHOLD
THRESHOLD_EPS = 1e-10  # run_stat.py compares `> THRESHOLD - 1e-10` and `< RESIDUALS_THRESHOLD + 1e-10`
AREA_ROUNDOFF = 1e-10  # metrics.py: `area_min < area_inter < area_min * 1.0000000001` -> area_min

# --------------------------------------------------------------------------------------------------------------
# Geometry, vectorised over frames


def template_rectangles(sizes: FloatArray) -> FloatArray:
    """(N, 2) template sizes (W, H) -> (N, 4, 2) corners [[0, 0], [W, 0], [W, H], [0, H]] (`metrics.as_rect`)."""
    w, h = sizes[:, 0], sizes[:, 1]
    zero = np.zeros_like(w)
    return np.stack(
        [np.stack([zero, zero], -1), np.stack([w, zero], -1), np.stack([w, h], -1), np.stack([zero, h], -1)], 1
    )


def homographies(src: FloatArray, dst: FloatArray) -> FloatArray:
    """(N, 3, 3) homographies mapping each src quad's 4 corners onto dst's, h33 = 1 (as cv2.getPerspectiveTransform).

    Solves the same 8x8 linear system as OpenCV, batched, in float64.
    """
    n = src.shape[0]
    x, y = src[..., 0], src[..., 1]
    u, v = dst[..., 0], dst[..., 1]
    one, zero = np.ones_like(x), np.zeros_like(x)
    rows_u = np.stack([x, y, one, zero, zero, zero, -x * u, -y * u], -1)
    rows_v = np.stack([zero, zero, zero, x, y, one, -x * v, -y * v], -1)
    system = np.concatenate([rows_u, rows_v], axis=1)
    rhs = np.concatenate([u, v], axis=1)
    solution = np.linalg.solve(system, rhs[..., None])[..., 0]
    return np.concatenate([solution, np.ones((n, 1))], axis=1).reshape(n, 3, 3)


def apply_homographies(h: FloatArray, points: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Map (N, K, 2) points by (N, 3, 3) homographies; returns (x/w, y/w) as (N, K, 2) and w as (N, K)."""
    homogeneous = np.concatenate([points, np.ones((*points.shape[:-1], 1))], axis=-1)
    mapped = np.einsum("nij,nkj->nki", h, homogeneous)
    w = mapped[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        return mapped[..., :2] / w[..., None], w


def jaccard(a: Any, b: Any) -> FloatArray:
    """IoU of two arrays of shapely polygons, with `metrics.py`'s round-off guard on the intersection area."""
    area_a, area_b = shapely.area(a), shapely.area(b)
    inter = shapely.area(shapely.intersection(a, b))
    smaller = np.minimum(area_a, area_b)
    inter = np.where((inter > smaller) & (inter < smaller * (1 + AREA_ROUNDOFF)), smaller, inter)
    result: FloatArray = inter / (area_a + area_b - inter)
    return result


def clockwise(quads: FloatArray) -> FloatArray:
    """`metrics.provide_regular_orientation`: keep a quad whose first turn is clockwise (image y down), else
    reorder it [q1, q0, q3, q2]."""
    d1 = quads[:, 1] - quads[:, 0]
    d2 = quads[:, 2] - quads[:, 1]
    turn = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
    swapped = quads[:, [1, 0, 3, 2]]
    result: FloatArray = np.where((turn > 0)[:, None, None], quads, swapped)
    return result


@dataclass(frozen=True)
class QuadScores:
    """Per-frame localisation scores; `min_d` is NaN where undefined (no quad, GT corner on the horizon)."""

    iou_template: FloatArray
    min_d: FloatArray
    iou_image: FloatArray


def localisation_scores(gt: FloatArray, pred: FloatArray, template_sizes: FloatArray) -> QuadScores:
    """Score N frames at once: `gt`, `pred` (N, 4, 2) in image pixels (a NaN row = no predicted quad),
    `template_sizes` (N, 2) as (W, H). See the module docstring for the definitions."""
    n = gt.shape[0]
    iou_template = np.zeros(n)
    iou_image = np.zeros(n)
    min_d = np.full(n, np.nan)
    has = ~np.isnan(pred).any(axis=(1, 2))
    if not has.any():
        return QuadScores(iou_template, min_d, iou_image)
    g, p, sizes = gt[has], pred[has], template_sizes[has]
    rect = template_rectangles(sizes)

    to_template = homographies(g, rect)
    warped, w = apply_homographies(to_template, p)
    _, w_gt = apply_homographies(to_template, g[:, :1])
    bounded = ((w * np.sign(w_gt)) > 0).all(axis=1)
    scores = np.zeros(len(g))
    if bounded.any():
        boxes = shapely.box(0, 0, sizes[bounded, 0], sizes[bounded, 1])
        scores[bounded] = jaccard(boxes, shapely.polygons(warped[bounded]))
    iou_template[has] = scores

    iou_image[has] = jaccard(shapely.polygons(g), shapely.polygons(p))

    run, ideal = clockwise(p), clockwise(g)
    mapped, w_ideal = apply_homographies(homographies(run, rect), ideal)
    worst = np.stack(
        [np.linalg.norm(np.roll(mapped, k, axis=1) - rect, axis=-1).max(axis=1) for k in range(4)], axis=1
    ).min(axis=1)
    perimeter = 2 * (sizes[:, 0] + sizes[:, 1])
    min_d[has] = np.where((w_ideal != 0).all(axis=1), worst / perimeter, np.nan)
    return QuadScores(iou_template, min_d, iou_image)


def localisation_metrics(scores: QuadScores) -> dict[str, float]:
    """The five reported figures over a set of frames (`run_stat.py::stat_output`)."""
    if scores.iou_template.size == 0:
        return dict.fromkeys(("iou_template", "iou_template_correct", "min_d", "min_d_correct", "iou_image"), math.nan)
    defined = scores.min_d[~np.isnan(scores.min_d)]
    with np.errstate(invalid="ignore"):
        d_correct = scores.min_d < MIN_D_THRESHOLD + THRESHOLD_EPS
    return {
        "iou_template": float(scores.iou_template.mean()),
        "iou_template_correct": 100.0 * float((scores.iou_template > IOU_THRESHOLD - THRESHOLD_EPS).mean()),
        "min_d": float(defined.mean()) if defined.size else math.nan,
        "min_d_correct": 100.0 * float(d_correct.mean()),
        "iou_image": float(scores.iou_image.mean()),
    }


# --------------------------------------------------------------------------------------------------------------
# Field texts


def normalise_field(text: str) -> str:
    """Upper-case, then the letter O becomes the digit 0 (Smart Engines' MIDV-500 field normalisation)."""
    return text.upper().replace("O", "0")


def levenshtein(a: str, b: str) -> int:
    """Unit-cost edit distance (insert, delete, substitute), one row of the dynamic programme at a time."""
    if a == b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def normalised_levenshtein(a: str, b: str) -> float:
    """Normalised generalised Levenshtein distance 2L / (|a| + |b| + L) in [0, 1] (Yujian & Bo 2007); 0 for two
    empty strings."""
    distance = levenshtein(a, b)
    total = len(a) + len(b) + distance
    return 2.0 * distance / total if total else 0.0


_DATE = re.compile(r"^\d{1,4}[./\- ]\d{1,2}[./\- ]\d{1,4}$")
_NUMERIC = re.compile(r"^[\d ./\-]+$")
_ALPHABETIC = re.compile(r"^[^\W\d_]+(?:[ '\-,.]+[^\W\d_]+)*[.,]?$")


def field_type(value: str) -> str:
    """A coarse field type read from the GT text, since the release names fields only `field01`, `field02`, ...:
    `mrz` (contains '<'), `date`, `numeric`, `alphabetic` (letters with spaces, hyphens, apostrophes) or
    `alphanumeric` (everything else). mobench definition, for the per-field-type breakdown."""
    text = value.strip()
    if "<" in text:
        return "mrz"
    if _DATE.match(text):
        return "date"
    if _NUMERIC.match(text):
        return "numeric"
    if _ALPHABETIC.match(text):
        return "alphabetic"
    return "alphanumeric"


def field_metrics(exact: Iterable[bool], distance: Iterable[float]) -> dict[str, float]:
    """`field_accuracy` (percent exact) and `field_nld` (mean NGLD) over (frame, field) pairs; NaN for none."""
    exact_a = np.fromiter(exact, dtype=bool)
    distance_a = np.fromiter(distance, dtype=np.float64)
    if exact_a.size == 0:
        return {"field_accuracy": math.nan, "field_nld": math.nan}
    return {"field_accuracy": 100.0 * float(exact_a.mean()), "field_nld": float(distance_a.mean())}


# --------------------------------------------------------------------------------------------------------------
# Evaluators


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


# Score `{"id": ..., "quad": [[x, y] x 4] | null}` lines with the authors' protocol (module docstring).
evaluate_localisation: ShardedEvaluator[_QuadUnit, _FrameQuadScores] = ShardedEvaluator(
    _plan_localisation, _map_localisation, _reduce_localisation
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
    group too (module docstring)."""
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


# Score `{"id": ..., "fields": {"field01": "text", ...}}` lines: per-field exact match and normalised generalised
# Levenshtein distance after normalisation (module docstring); per field, field type and frame.
evaluate_fields: ShardedEvaluator[_FieldsUnit, _FrameFields] = ShardedEvaluator(
    _plan_fields, _map_fields, _reduce_fields
)
