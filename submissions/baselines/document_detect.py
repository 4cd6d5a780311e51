"""A classical OpenCV document detector: edges and contours -> the largest convex quadrilateral, or null.

It is the textbook "document scanner" pipeline (grayscale, blur, Canny, dilate, external contours, polygon
approximation with `cv2.approxPolyDP`), the floor any learned detector should beat on MIDV. Frames are processed
at a fixed working height (`WORK_HEIGHT`), so the cost does not grow with the phone's resolution, and the quad is
scaled back to frame pixels. A frame where no convex quadrilateral covers at least `MIN_AREA` of the picture gets
`"quad": null` ("no document found"), which the protocol scores 0.

Timing: each inference is the detection on an RGB frame already in memory; reading the TIFF and writing the JSONL
are not timed. Two warm-up inferences on the first frame are excluded.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from evaluators.readers.documents import write_jsonl
from hub.core.errors import MobenchError
from hub.core.registry import BenchmarkSpec
from hub.core.training_data import NONE, Declaration
from loaders.base import DatasetLoader
from loaders.midv import MIDVLoader
from submissions.baselines import Baseline, BaselineTiming

WARMUP = 2
WORK_HEIGHT = 480  # px; MIDV-500 frames are 1920 px high, the detector works on a 4x smaller copy
MIN_AREA = 0.08  # a document covers at least 8 % of the frame
APPROX_EPSILON = 0.02  # approxPolyDP tolerance, as a share of the contour's perimeter
PREDICTIONS_FILE = "quads.jsonl"


def order_clockwise(quad: NDArray[np.float64]) -> NDArray[np.float64]:
    """Corners clockwise on screen (image y down), starting at the one nearest the image's top-left corner."""
    centre = quad.mean(axis=0)
    angles = np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0])
    ordered = quad[np.argsort(angles)]  # increasing angle with y down = clockwise on screen
    start = int(np.argmin(ordered.sum(axis=1)))
    return np.roll(ordered, -start, axis=0)


def detect_document(rgb: NDArray[np.uint8]) -> NDArray[np.float64] | None:
    """The largest convex 4-corner contour approximation, in frame pixels, or None."""
    height, width = rgb.shape[:2]
    scale = min(1.0, WORK_HEIGHT / height)
    small = cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    gray = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), (5, 5), 0)
    edges = cv2.dilate(cv2.Canny(gray, 50, 150), np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    min_area = MIN_AREA * small.shape[0] * small.shape[1]
    best: NDArray[Any] | None = None
    best_area = min_area
    for contour in contours:
        approx = cv2.approxPolyDP(contour, APPROX_EPSILON * cv2.arcLength(contour, True), True)
        if len(approx) != 4 or not cv2.isContourConvex(approx):
            continue
        area = cv2.contourArea(approx)
        if area >= best_area:
            best, best_area = approx, area
    if best is None:
        return None
    return order_clockwise(best.reshape(4, 2).astype(np.float64) / scale)


def midv_loader(name: str, loader: DatasetLoader) -> MIDVLoader:
    if not isinstance(loader, MIDVLoader):
        raise MobenchError(f"{name}: {type(loader).__name__} is not a MIDV loader")
    return loader


class OpenCVDocumentDetector(Baseline):
    name = "opencv-quad-detector"
    version = cv2.__version__
    runtime = "opencv"
    precision = "fp32"
    description = (
        f"OpenCV Canny edges + contours, largest convex quadrilateral from approxPolyDP (epsilon {APPROX_EPSILON} x "
        f"perimeter, area >= {MIN_AREA:.0%} of the frame) at {WORK_HEIGHT} px height; null when none"
    )
    url = "https://docs.opencv.org/4.x/dd/d49/tutorial_py_contour_features.html"

    def training_data(self, spec: BenchmarkSpec, config: str) -> Declaration:
        """None: edges and contours with the fixed thresholds above, nothing fitted to any data."""
        return NONE

    def run(self, spec: BenchmarkSpec, loader: DatasetLoader, predictions_dir: Path) -> BaselineTiming:
        midv = midv_loader(self.name, loader)
        ids = midv.sample_ids()
        if not ids:
            return BaselineTiming(latencies_s=[], warmup=0)
        first = midv.image(ids[0])
        for _ in range(WARMUP):
            detect_document(first)
        latencies: list[float] = []
        records = []
        for sample_id in ids:
            frame = midv.image(sample_id)
            start = time.perf_counter()
            quad = detect_document(frame)
            latencies.append(time.perf_counter() - start)
            records.append({"id": sample_id, "quad": None if quad is None else np.round(quad, 2).tolist()})
        write_jsonl(predictions_dir / PREDICTIONS_FILE, records)
        return BaselineTiming(latencies_s=latencies, warmup=WARMUP)


DOCUMENT_BASELINES: list[Baseline] = [OpenCVDocumentDetector()]
