"""Field-reading baseline: find the document, rectify it, read each template field with RapidOCR (PP-OCRv4 mobile).

The pipeline a phone app runs: the OpenCV quad detector (`submissions.baselines.document_detect`) finds the
document; the frame is warped onto the template's rectangle with the homography quad -> template; each field's
template box (from the document's annotation, as a fixed-layout reader knows it) is cropped with a small margin
and read by RapidOCR's recogniser alone (PP-OCRv4 mobile recognition on ONNX Runtime; detection and the angle
classifier are off because the crop already is one text line). Frames without a detected quad get empty fields.

The detector orders corners from the image's top-left; a card held upside down would be read rotated (a known
limit of this baseline). The ONNX models ship inside the `rapidocr-onnxruntime` wheel, so nothing is downloaded at
run time. That package is the optional `ocr` extra: without it `FIELD_BASELINES` is empty and a warning says why,
so `mobench demo` simply runs no field baseline.

Timing: detection + rectification + recognition of every field of one frame; one warm-up frame is excluded.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from evaluators.documents import template_rectangles
from evaluators.readers.documents import write_jsonl
from hub.core.registry import BenchmarkSpec
from hub.core.training_data import Declaration
from loaders.base import DatasetLoader
from loaders.midv_annotations import Document
from submissions.baselines import Baseline, BaselineTiming
from submissions.baselines.document_detect import detect_document, midv_loader

log = logging.getLogger(__name__)

WARMUP = 1
MARGIN = 3  # px of template added around each field box before reading it
PREDICTIONS_FILE = "fields.jsonl"
# the model card of the recogniser RapidOCR's wheel ships converted to ONNX (ch_PP-OCRv4_rec_infer.onnx)
RECOGNISER_CARD = "https://huggingface.co/PaddlePaddle/PP-OCRv4_mobile_rec"


def rectify(frame: NDArray[np.uint8], quad: NDArray[np.float64], document: Document) -> NDArray[np.uint8]:
    """The frame warped so that `quad` fills the template rectangle [0, W] x [0, H]."""
    size = np.array([[document.width, document.height]], dtype=np.float64)
    target = template_rectangles(size)[0].astype(np.float32)
    homography = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    return np.asarray(cv2.warpPerspective(frame, homography, (document.width, document.height)), dtype=np.uint8)


def field_crops(rectified: NDArray[np.uint8], document: Document) -> dict[str, NDArray[np.uint8]]:
    """Each field's template bounding box (plus `MARGIN`), cut from the rectified document."""
    crops = {}
    for name, field in document.fields.items():
        quad = np.asarray(field.quad)
        x0, y0 = np.floor(quad.min(axis=0)).astype(int) - MARGIN
        x1, y1 = np.ceil(quad.max(axis=0)).astype(int) + MARGIN
        crops[name] = rectified[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)]
    return crops


class RapidOCRFieldReader(Baseline):
    name = "opencv-quad+rapidocr-ppocrv4-mobile"
    runtime = "onnxruntime"
    precision = "fp32"
    description = (
        "OpenCV quad detector, rectification onto the template, then RapidOCR (PP-OCRv4 mobile recogniser, ONNX "
        "Runtime) on each template field box"
    )
    url = "https://github.com/RapidAI/RapidOCR"

    def __init__(self, engine_class: Any) -> None:
        self._engine_class = engine_class
        self._engine: Any = None
        self.version = metadata.version("rapidocr-onnxruntime")

    def training_data(self, spec: BenchmarkSpec, config: str) -> Declaration:
        """The recogniser's: PP-OCRv4 mobile was trained by the PaddleOCR team on data its model card does not list
        in full, so the card names it. The detector is fitted on nothing, and the field boxes come with the
        benchmark's templates (its `documents` config), read as a fixed-layout reader knows its documents."""
        return [RECOGNISER_CARD]

    def timed_models(self) -> list[Path]:
        """The PP-OCRv4 mobile recogniser this runs (RapidOCR's wheel ships it; detection and angle are off)."""
        spec = importlib.util.find_spec("rapidocr_onnxruntime")
        folder = Path(next(iter(spec.submodule_search_locations or []))) if spec else None
        model = folder / "models" / "ch_PP-OCRv4_rec_infer.onnx" if folder else None
        return [model] if model is not None and model.is_file() else []

    def read(self, crop: NDArray[np.uint8]) -> str:
        if crop.size == 0:
            return ""
        if self._engine is None:
            self._engine = self._engine_class()
        result, _ = self._engine(crop, use_det=False, use_cls=False, use_rec=True)
        return " ".join(str(text) for text, _score in result or []).strip()

    def infer(self, frame: NDArray[np.uint8], document: Document) -> dict[str, str]:
        quad = detect_document(frame)
        if quad is None:
            return {}
        crops = field_crops(rectify(frame, quad, document), document)
        return {name: self.read(crop) for name, crop in crops.items()}

    def run(self, spec: BenchmarkSpec, loader: DatasetLoader, predictions_dir: Path) -> BaselineTiming:
        midv = midv_loader(self.name, loader)
        ids = midv.sample_ids()
        if not ids:
            return BaselineTiming(latencies_s=[], warmup=0)
        for _ in range(WARMUP):
            self.infer(midv.image(ids[0]), midv.document_of(ids[0]))
        latencies: list[float] = []
        records = []
        for sample_id in ids:
            frame, document = midv.image(sample_id), midv.document_of(sample_id)
            start = time.perf_counter()
            fields = self.infer(frame, document)
            latencies.append(time.perf_counter() - start)
            records.append({"id": sample_id, "fields": fields})
        write_jsonl(predictions_dir / PREDICTIONS_FILE, records)
        return BaselineTiming(latencies_s=latencies, warmup=WARMUP)


def _field_baselines() -> list[Baseline]:
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as error:
        log.warning(
            "field-OCR baseline skipped: %s (install it with  pip install 'mobench[ocr]' && "
            "pip install --no-deps 'rapidocr-onnxruntime>=1.4')",
            error,
        )
        return []
    return [RapidOCRFieldReader(RapidOCR)]


FIELD_BASELINES: list[Baseline] = _field_baselines()
