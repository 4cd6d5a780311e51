"""Synthetic mini MIDV and the two baselines: exact GT by construction, detector and OCR runs scored end to end."""

from __future__ import annotations

import builtins
import logging
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from evaluators.documents import evaluate_fields, evaluate_localisation
from evaluators.readers.documents import read_prediction_lines
from hub.core.registry import get_benchmark
from hub.scoring.wiring import make_loader, make_request
from loaders.midv import MIDV500, MIDV2019
from loaders.midv_annotations import read_rgb
from loaders.synthetic import is_synthetic
from loaders.synthetic.midv import DOCUMENTS, build_midv500, build_midv2019
from submissions.baselines import field_ocr
from submissions.baselines.document_detect import OpenCVDocumentDetector, detect_document, order_clockwise


def test_synthetic_trees_follow_both_official_layouts(tmp_path: Path) -> None:
    build_midv500(tmp_path / "m500")
    build_midv2019(tmp_path / "m2019")
    assert is_synthetic(tmp_path / "m500") and is_synthetic(tmp_path / "m2019")
    assert (tmp_path / "m500" / "01_syn_id" / "images" / "TA" / "TA01_01.tif").is_file()
    assert (tmp_path / "m2019" / "images" / "LG" / "LG02_03.tif").is_file()  # no document folder
    m500, m2019 = MIDV500(tmp_path / "m500"), MIDV2019(tmp_path / "m2019")
    assert len(m500) == len(m2019) == 2 * 2 * 3
    assert {f.value for d in m500.documents().values() for f in d.fields.values()} == {
        v for texts in DOCUMENTS.values() for v in texts.values()
    }
    assert min(m500.frame(i).corners_in_frame for i in m500.sample_ids()) < 4  # partly out-of-frame views


def test_synthetic_gt_quad_is_where_the_card_is(tmp_path: Path) -> None:
    # The card is warped by the homography template rectangle -> GT quad: mapping the frame back with it gives
    # the template again (up to interpolation, blur, lighting and noise) wherever the card is in the frame.
    build_midv500(tmp_path)
    loader = MIDV500(tmp_path)
    sample_id = loader.sample_ids()[0]
    frame, document = loader.frame(sample_id), loader.document_of(sample_id)
    template = read_rgb(document.template_path).astype(np.float64)
    rect = np.array([[0, 0], [document.width, 0], [document.width, document.height], [0, document.height]])
    homography = cv2.getPerspectiveTransform(frame.quad.astype(np.float32), rect.astype(np.float32))
    back = cv2.warpPerspective(loader.image(sample_id), homography, (document.width, document.height))
    inner = (slice(10, -10), slice(10, -10))
    assert np.corrcoef(back[inner].ravel(), template[inner].ravel())[0, 1] > 0.8


def test_detector_orders_corners_clockwise_from_top_left() -> None:
    quad = np.array([[90.0, 80.0], [10.0, 10.0], [10.0, 80.0], [95.0, 5.0]])
    np.testing.assert_array_equal(order_clockwise(quad), [[10, 10], [95, 5], [90, 80], [10, 80]])


def test_detector_finds_a_plain_card_and_reports_none_on_an_empty_frame() -> None:
    frame = np.full((200, 160, 3), 40, dtype=np.uint8)
    cv2.rectangle(frame, (30, 50), (130, 150), (230, 230, 230), -1)
    quad = detect_document(frame)
    assert quad is not None
    np.testing.assert_allclose(quad, [[30, 50], [130, 50], [130, 150], [30, 150]], atol=3)
    assert detect_document(np.full((200, 160, 3), 40, dtype=np.uint8)) is None


@pytest.mark.parametrize(
    ("benchmark", "build"), [("midv500-localization", build_midv500), ("midv2019-localization", build_midv2019)]
)
def test_detector_baseline_is_scored(tmp_path: Path, benchmark: str, build: Any) -> None:
    build(tmp_path / "raw")
    spec = get_benchmark(benchmark)
    loader = make_loader(spec, tmp_path / "raw", "test")
    timing = OpenCVDocumentDetector().run(spec, loader, tmp_path / "predictions")
    assert len(timing.latencies_s) == len(loader) and all(t > 0 for t in timing.latencies_s)
    result = evaluate_localisation(make_request(spec, tmp_path / "raw", tmp_path / "predictions", "test", "full"))
    assert result.n_samples == len(loader)
    assert result.metrics["iou_template_correct"] > 0  # it finds some cards on the synthetic frames


def test_field_baselines_are_empty_without_rapidocr(monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    real_import = builtins.__import__

    def refuse(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("rapidocr_onnxruntime"):
            raise ImportError("No module named 'rapidocr_onnxruntime'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)
    with caplog.at_level(logging.WARNING):
        assert field_ocr._field_baselines() == []
    assert "mobench[ocr]" in caplog.text


def test_rapidocr_field_baseline_is_scored(tmp_path: Path) -> None:
    pytest.importorskip("rapidocr_onnxruntime")
    build_midv500(tmp_path / "raw")
    spec = get_benchmark("midv500-fields")
    loader = make_loader(spec, tmp_path / "raw", "test")
    [baseline] = field_ocr.FIELD_BASELINES
    baseline.run(spec, loader, tmp_path / "predictions")
    lines, problems = read_prediction_lines(tmp_path / "predictions", "fields")
    assert not problems and len(lines) == len(loader)
    result = evaluate_fields(make_request(spec, tmp_path / "raw", tmp_path / "predictions", "test", "full"))
    assert result.metrics["field_accuracy"] > 0  # PP-OCRv4 reads some of the synthetic fields exactly
