"""MIDV localisation scoring: `evaluators.documents.localisation_scores` (homographies solved as one batched linear
system, shapely's vectorised polygon operations) against a plain per-frame loop in the style of the authors'
`metrics.py`: one `cv2.getPerspectiveTransform`, one `shapely.Polygon` intersection per frame.

The workload is a synthetic MIDV-500-sized report (15,000 frames at full size): GT quads of 1080x1920 frames,
some partly out of frame, predictions near them with noise, 10 % without a quad. The reference runs OpenCV in
float32 as the authors' script does, so the check allows 1e-4 between the two.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import shapely

from evaluators.documents import AREA_ROUNDOFF, QuadScores, localisation_scores
from hub.cli.bench import BenchCase, Prepared

FRAME = (1080, 1920)
TEMPLATES = np.array([[856, 540], [1000, 700], [880, 1250]], dtype=np.float64)
NO_QUAD_SHARE = 0.1
TOLERANCE = 1e-4


def _quads(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    width, height = FRAME
    size = rng.uniform(500, 1000, size=(n, 1, 1)) * np.array([1.0, 0.63])
    base = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
    angle = rng.uniform(-0.5, 0.5, size=n)
    rotation = np.stack(
        [np.stack([np.cos(angle), -np.sin(angle)], -1), np.stack([np.sin(angle), np.cos(angle)], -1)], 1
    )
    centre = rng.uniform([100, 300], [width - 100, height - 300], size=(n, 1, 2))
    gt = np.einsum("nij,nkj->nki", rotation, base * size) + centre + rng.uniform(-30, 30, size=(n, 4, 2))
    gt = np.round(gt)
    pred = gt + rng.normal(0, 12, size=gt.shape)
    pred[rng.random(n) < NO_QUAD_SHARE] = np.nan
    return gt, pred


def _jaccard(a: shapely.Polygon, b: shapely.Polygon) -> float:
    inter = a.intersection(b).area
    smaller = min(a.area, b.area)
    if smaller < inter < smaller * (1 + AREA_ROUNDOFF):
        inter = smaller
    return float(inter / (a.area + b.area - inter))


def _rect(width: float, height: float) -> np.ndarray:
    return np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)


def per_frame_reference(gt: np.ndarray, pred: np.ndarray, sizes: np.ndarray) -> QuadScores:
    """The same definitions, one frame at a time (the authors' `metrics.py` shape)."""
    n = len(gt)
    iou_template, min_d, iou_image = np.zeros(n), np.full(n, np.nan), np.zeros(n)
    for k in range(n):
        if np.isnan(pred[k]).any():
            continue
        rect = _rect(*sizes[k])
        h = cv2.getPerspectiveTransform(gt[k].astype(np.float32), rect.astype(np.float32))
        homogeneous = np.c_[pred[k], np.ones(4)] @ h.T
        w_gt = (np.r_[gt[k][0], 1.0] @ h.T)[2]
        if (homogeneous[:, 2] * np.sign(w_gt) > 0).all():
            warped = homogeneous[:, :2] / homogeneous[:, 2:]
            iou_template[k] = _jaccard(shapely.box(0, 0, *sizes[k]), shapely.Polygon(warped))
        iou_image[k] = _jaccard(shapely.Polygon(gt[k]), shapely.Polygon(pred[k]))
        run, ideal = pred[k], gt[k]
        oriented = []
        for quad in (run, ideal):
            d1, d2 = quad[1] - quad[0], quad[2] - quad[1]
            oriented.append(quad if d1[0] * d2[1] - d1[1] * d2[0] > 0 else quad[[1, 0, 3, 2]])
        h_run = cv2.getPerspectiveTransform(oriented[0].astype(np.float32), rect.astype(np.float32))
        mapped = np.c_[oriented[1], np.ones(4)] @ h_run.T
        mapped = mapped[:, :2] / mapped[:, 2:]
        worst = min(
            max(math.dist(p, q) for p, q in zip(np.roll(mapped, r, axis=0), rect, strict=True)) for r in range(4)
        )
        min_d[k] = worst / (2 * (sizes[k][0] + sizes[k][1]))
    return QuadScores(iou_template, min_d, iou_image)


def _prepare(workdir: Path, size: int) -> Prepared:
    rng = np.random.default_rng(0)
    gt, pred = _quads(rng, size)
    sizes = TEMPLATES[rng.integers(0, len(TEMPLATES), size=size)]

    def check(project: Any, reference: Any) -> None:
        for name in ("iou_template", "min_d", "iou_image"):
            a, b = getattr(project, name), getattr(reference, name)
            if not np.allclose(a, b, atol=TOLERANCE, rtol=0, equal_nan=True):
                worst = float(np.nanmax(np.abs(a - b)))
                raise AssertionError(f"{name} differs between the batched and the per-frame path (max {worst:.3g})")

    return Prepared(
        project=lambda: localisation_scores(gt, pred, sizes),
        reference=lambda: per_frame_reference(gt, pred, sizes),
        check=check,
        workload=f"{size} frames (1080x1920, {NO_QUAD_SHARE:.0%} without a quad): iou_template, min_d, iou_image",
    )


CASE = BenchCase(
    name="midv",
    description="score MIDV localisation predictions with the authors' protocol (template-frame IoU, minD, image IoU)",
    project_name="localisation_scores (batched homographies + vectorised shapely)",
    reference_name="per-frame loop: cv2.getPerspectiveTransform + shapely.Polygon per frame",
    default_size=15000,
    prepare=_prepare,
)
