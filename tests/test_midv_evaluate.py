"""MIDV evaluators end to end on fixture trees: JSONL predictions, coverage and line-numbered errors, breakdowns,
subset configs, field scoring, and `mobench evaluate`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evaluators.documents import evaluate_fields, evaluate_localisation
from hub.cli.app import app
from hub.core.errors import MobenchError, PredictionError
from hub.core.evaluation import EvaluationRequest
from hub.core.registry import get_benchmark
from hub.scoring.wiring import make_request
from tests.fixtures.midv import MIDV500_FRAMES, build_tree, frame_id, write_lines

CA1 = frame_id("midv500", "01_alb_id", "CA", 1)
CA2 = frame_id("midv500", "01_alb_id", "CA", 2)
TS1 = frame_id("midv500", "01_alb_id", "TS", 1)
HA1 = frame_id("midv500", "02_aut_drvlic_new", "HA", 1)


def _gt_lines() -> list[dict[str, object]]:
    return [
        {"id": frame_id("midv500", doc, clip, index), "quad": quad}
        for (doc, clip, index), quad in sorted(MIDV500_FRAMES.items())
    ]


def _request(
    root: Path,
    predictions: Path,
    benchmark: str = "midv500-localization",
    config: str = "full",
    allow_partial: bool = False,
) -> EvaluationRequest:
    spec = get_benchmark(benchmark)
    return make_request(spec, root, predictions, "test", config, allow_partial=allow_partial)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return build_tree(tmp_path / "raw", MIDV500_FRAMES)


def test_perfect_and_null_predictions_with_breakdowns(root: Path, tmp_path: Path) -> None:
    lines = _gt_lines()
    for line in lines:
        if line["id"] == HA1:
            line["quad"] = None  # "no document": IoU 0, incorrect
    result = evaluate_localisation(_request(root, write_lines(tmp_path / "p" / "quads.jsonl", lines)))
    # 3 of 4 frames exact (IoU 1, minD 0), one null (IoU 0, minD undefined)
    assert result.metrics["iou_template"] == pytest.approx(0.75)
    assert result.metrics["iou_template_correct"] == pytest.approx(75.0)
    assert result.metrics["min_d"] == pytest.approx(0.0, abs=1e-9)
    assert result.metrics["min_d_correct"] == pytest.approx(75.0)
    assert result.details["frames_without_quad"] == 1
    assert set(result.breakdowns) == {"condition", "phone", "document_type", "document", "subset"}
    assert result.breakdowns["condition"]["hand"]["iou_template"] == 0.0
    assert result.breakdowns["phone"]["Samsung Galaxy S3"]["iou_template"] == pytest.approx(1.0)
    assert result.breakdowns["document_type"]["drvlic"]["iou_template_correct"] == 0.0
    # subsets: four corners in frame = CA1 and HA1 -> (1 + 0) / 2
    assert result.breakdowns["subset"]["four-corners-in-frame"]["iou_template"] == pytest.approx(0.5)
    assert result.breakdowns["subset"]["three-corners-in-frame"]["iou_template"] == pytest.approx(2 / 3)
    assert result.to_json()["breakdowns"]["document"]["02_aut_drvlic_new"]["min_d"] is None


def test_subset_config_ignores_frames_outside_it(root: Path, tmp_path: Path) -> None:
    predictions = write_lines(tmp_path / "quads.jsonl", _gt_lines())
    result = evaluate_localisation(_request(root, predictions, config="four-corners-in-frame"))
    assert (result.n_samples, result.n_expected) == (2, 2)
    assert sorted(result.sample_scores) == [CA1, HA1]


def test_missing_lines_are_an_error_unless_partial(root: Path, tmp_path: Path) -> None:
    predictions = write_lines(tmp_path / "quads.jsonl", _gt_lines()[:3])
    with pytest.raises(PredictionError, match=f"sample {HA1}: missing prediction"):
        evaluate_localisation(_request(root, predictions))
    result = evaluate_localisation(_request(root, predictions, allow_partial=True))
    assert result.missing == [HA1] and result.n_samples == 3 and result.metrics["iou_template"] == pytest.approx(1.0)


def test_bad_lines_are_all_reported_by_line_number(root: Path, tmp_path: Path) -> None:
    lines: list[object] = [*_gt_lines()]
    lines.append("{not json")  # line 5
    lines.append({"id": "midv500/99_xxx_id/CA/CA99_01", "quad": None})  # line 6: unknown frame
    lines.append({"id": CA1, "quad": None})  # line 7: duplicate of line 1
    lines.append({"id": CA2})  # line 8: no quad
    lines.append(["not", "an", "object"])  # line 9
    predictions = write_lines(tmp_path / "quads.jsonl", lines)
    with pytest.raises(PredictionError) as raised:
        evaluate_localisation(_request(root, predictions))
    message = str(raised.value)
    assert "quads.jsonl line 5: not valid JSON" in message
    assert "sample midv500/99_xxx_id/CA/CA99_01: not in this split (quads.jsonl line 6)" in message
    assert f"sample {CA1}: 2 predictions (quads.jsonl line 1, quads.jsonl line 7)" in message
    assert f"sample {CA2}: quads.jsonl line 8: no 'quad'" in message
    assert "quads.jsonl line 9: expected an object" in message


def test_invalid_quad_is_rejected_with_frame_and_line(root: Path, tmp_path: Path) -> None:
    lines = _gt_lines()
    lines[2]["quad"] = [[0, 0], [10, 10], [10, 0], [0, 10]]
    predictions = write_lines(tmp_path / "quads.jsonl", lines)
    with pytest.raises(PredictionError, match=rf"sample {TS1}: quads.jsonl line 3: quad is self-intersecting"):
        evaluate_localisation(_request(root, predictions))


def test_documents_config_is_not_scored(root: Path, tmp_path: Path) -> None:
    predictions = write_lines(tmp_path / "fields.jsonl", [])
    with pytest.raises(MobenchError, match="per-document field annotations"):
        evaluate_fields(_request(root, predictions, benchmark="midv500-fields", config="documents"))


def test_fields_hand_computed(root: Path, tmp_path: Path) -> None:
    # 01_alb_id fields: field01 "Bob O'Neil" (alphabetic), field02 "A0B12" (alphanumeric);
    # 02_aut_drvlic_new: field01 "12.03.1985" (date). Normalised: "B0B 0'NEIL", "A0B12", "12.03.1985".
    lines = [
        {"id": CA1, "fields": {"field01": "BOB O'NEIL", "field02": "aob12"}},  # both right after normalisation
        {"id": CA2, "fields": {"field01": "Bob O'Neil", "field02": "A0B13"}},  # field02: one substitution
        {"id": TS1, "fields": {"field01": "Bob O'Neil"}},  # field02 missing -> "" (NGLD 1)
        {"id": HA1, "fields": {"field01": "12.03.1985"}},
    ]
    result = evaluate_fields(_request(root, write_lines(tmp_path / "fields.jsonl", lines), benchmark="midv500-fields"))
    # 7 (frame, field) pairs, 5 exact; NGLD sum = 2/11 (A0B12 vs A0B13) + 1 (empty) = 13/11, over 7 pairs;
    # frames with every field right: CA1 and HA1 of 4.
    assert result.metrics["field_accuracy"] == pytest.approx(100 * 5 / 7)
    assert result.metrics["field_nld"] == pytest.approx((2 / 11 + 1) / 7)
    assert result.metrics["document_accuracy"] == pytest.approx(50.0)
    assert result.breakdowns["field"]["01_alb_id/field02"]["field_accuracy"] == pytest.approx(100 / 3)
    assert "document_accuracy" not in result.breakdowns["field_type"]["date"]
    assert result.breakdowns["field_type"]["alphabetic"]["field_accuracy"] == 100.0
    assert result.breakdowns["condition"]["table"] == pytest.approx(
        {"field_accuracy": 50.0, "field_nld": 0.5, "document_accuracy": 0.0}
    )
    assert result.sample_scores[CA2]["document_correct"] == 0.0


def test_unknown_field_names_the_line(root: Path, tmp_path: Path) -> None:
    lines = [{"id": i, "fields": {}} for i in (CA1, CA2, TS1)] + [{"id": HA1, "fields": {"field09": "x"}}]
    with pytest.raises(PredictionError, match=rf"sample {HA1}: fields.jsonl line 4: unknown field\(s\) field09"):
        evaluate_fields(_request(root, write_lines(tmp_path / "fields.jsonl", lines), benchmark="midv500-fields"))


def test_cli_evaluate_json(root: Path, tmp_path: Path) -> None:
    predictions = write_lines(tmp_path / "quads.jsonl", _gt_lines())
    result = CliRunner().invoke(
        app,
        ["evaluate", "midv500-localization", "--root", str(root), "--predictions", str(predictions), "--json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["config"] == "full" and report["n_samples"] == 4
    assert report["metrics"]["iou_template_correct"] == pytest.approx(100.0)
