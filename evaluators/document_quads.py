"""MIDV-500 / MIDV-2019 document localisation: the metrics of predicted quads, vectorised over frames.

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
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

IOU_THRESHOLD = 0.9  # run_stat.py THRESHOLD
MIN_D_THRESHOLD = 0.017  # run_stat.py RESIDUALS_THRESHOLD
THRESHOLD_EPS = 1e-10  # run_stat.py compares `> THRESHOLD - 1e-10` and `< RESIDUALS_THRESHOLD + 1e-10`
AREA_ROUNDOFF = 1e-10  # metrics.py: `area_min < area_inter < area_min * 1.0000000001` -> area_min


def template_rectangles(sizes: FloatArray) -> FloatArray:
    """(N, 2) template sizes (W, H) -> (N, 4, 2) corners [[0, 0], [W, 0], [W, H], [0, H]] (`metrics.as_rect`)."""
    w, h = sizes[:, 0], sizes[:, 1]
    zero = np.zeros_like(w)
    return np.stack(
        [np.stack([zero, zero], -1), np.stack([w, zero], -1), np.stack([w, h], -1), np.stack([zero, h], -1)], 1
    )


def homographies(src: FloatArray, dst: FloatArray) -> FloatArray:
    """(N, 3, 3) homographies mapping each src quad's 4 corners onto dst's, h33 = 1 (as cv2.getPerspectiveTransform).

    Solves the same 8x8 linear system as OpenCV, batched, in float64. A quad whose system is singular (corners that
    are numerically degenerate although the reader's collinearity test let them through) has no homography: its
    matrix is NaN, so the figures that need it are undefined for that frame (as `min_d` is when a corner maps to
    infinity), and the other frames are solved as before.
    """
    n = src.shape[0]
    x, y = src[..., 0], src[..., 1]
    u, v = dst[..., 0], dst[..., 1]
    one, zero = np.ones_like(x), np.zeros_like(x)
    rows_u = np.stack([x, y, one, zero, zero, zero, -x * u, -y * u], -1)
    rows_v = np.stack([zero, zero, zero, x, y, one, -x * v, -y * v], -1)
    system = np.concatenate([rows_u, rows_v], axis=1)
    rhs = np.concatenate([u, v], axis=1)
    try:
        solution = np.linalg.solve(system, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        solution = np.full((n, 8), np.nan)
        for k in range(n):
            with contextlib.suppress(np.linalg.LinAlgError):
                solution[k] = np.linalg.solve(system[k], rhs[k])
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


# name -> (one value per frame, whether the frame counts, scale): the figure over a set of frames is `scale` times
# the mean of its counting frames' values (NaN if none counts)
LocalisationColumns = dict[str, tuple[FloatArray, NDArray[np.bool_], float]]


def localisation_columns(scores: QuadScores) -> LocalisationColumns:
    """The frames' values the five reported figures average (`run_stat.py::stat_output`): the IoUs and the
    0/1 "correct" flags over every frame, min_d over the frames where it is defined (those with a quad)."""
    every = np.ones(scores.iou_template.shape, dtype=bool)
    defined = ~np.isnan(scores.min_d)
    with np.errstate(invalid="ignore"):
        d_correct = scores.min_d < MIN_D_THRESHOLD + THRESHOLD_EPS
    return {
        "iou_template": (scores.iou_template, every, 1.0),
        "iou_template_correct": (
            (scores.iou_template > IOU_THRESHOLD - THRESHOLD_EPS).astype(np.float64),
            every,
            100.0,
        ),
        "min_d": (scores.min_d, defined, 1.0),
        "min_d_correct": (d_correct.astype(np.float64), every, 100.0),
        "iou_image": (scores.iou_image, every, 1.0),
    }


def localisation_metrics(scores: QuadScores) -> dict[str, float]:
    """The five reported figures over a set of frames (`run_stat.py::stat_output`): `localisation_columns`'
    means."""
    return {
        name: scale * float(values[counted].mean()) if counted.any() else math.nan
        for name, (values, counted, scale) in localisation_columns(scores).items()
    }
