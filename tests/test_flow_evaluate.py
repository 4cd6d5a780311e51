"""End-to-end flow evaluation on tiny trees in the official on-disk layouts, plus the coverage helper.

The trees come from `tests/fixtures/flow_trees.py` (written with the project's codecs exactly as the releases ship
them: KITTI ``training/{image_2,flow_occ,flow_noc,obj_map}/<frame>_1x.png``, Sintel
``training/{clean,final,flow,occlusions,invalid}/<scene>/frame_XXXX.*``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from evaluators.flow import evaluate_kitti_format, evaluate_sintel
from evaluators.readers.flow import prediction_path
from hub.core.coverage import match_predictions
from hub.core.errors import MobenchError, PredictionError
from hub.core.evaluation import EvaluationRequest
from hub.core.registry import get_benchmark
from hub.scoring.wiring import make_request
from loaders.formats.flo import write_flo
from loaders.formats.kitti_png import write_kitti_flow
from loaders.gt_cache import SUFFIX
from tests.fixtures.flow_trees import write_kitti_tree, write_sintel_tree

KITTI = get_benchmark("kitti-2015-flow")
SINTEL = get_benchmark("sintel-final")
FlowArray = NDArray[np.float32]


def _constant(height: int, width: int, u: float, v: float) -> FlowArray:
    flow = np.zeros((height, width, 2), dtype=np.float32)
    flow[...] = (u, v)
    return flow


# --- coverage helper ------------------------------------------------------------------------------------------


def test_coverage_reports_missing_extra_and_duplicates_by_id_and_source() -> None:
    with pytest.raises(PredictionError) as info:
        match_predictions(
            ["a", "b", "c"],
            [("a", "rows.csv line 2"), ("a", "rows.csv line 5"), ("z", "rows.csv line 3")],
            allow_partial=False,
            expected_source=lambda i: f"a row for {i}",
        ).raise_for_problems()
    assert info.value.problems == [
        "sample b: missing prediction (expected a row for b)",
        "sample c: missing prediction (expected a row for c)",
        "sample z: not in this split (rows.csv line 3)",
        "sample a: 2 predictions (rows.csv line 2, rows.csv line 5)",
    ]


def test_coverage_allow_partial_keeps_extras_as_errors() -> None:
    coverage = match_predictions(["a", "b", "c"], [("c", "c.txt"), ("a", "a.txt")], allow_partial=True)
    assert coverage.to_score == {"a": "a.txt", "c": "c.txt"}  # expected order, not submission order
    assert coverage.missing == ["b"] and coverage.problems == []
    with pytest.raises(PredictionError, match=r"sample x: not in this split \(x.txt\)"):
        match_predictions(["a"], [("a", "a.txt"), ("x", "x.txt")], allow_partial=True).raise_for_problems()


# --- KITTI 2015 -----------------------------------------------------------------------------------------------


def _kitti_fixture(tmp_path: Path) -> Path:
    """Two 4x6 frames with different numbers of GT pixels, so pooled and per-image means differ.

    000000: one flow_occ pixel, (1, 2), GT (10, 0), foreground in obj_map.
    000001: three flow_occ pixels in row 0, GT (0, 0), background.
    flow_noc = flow_occ in both.
    """
    valid_a = np.zeros((4, 6), dtype=bool)
    valid_a[1, 2] = True
    obj_a = np.zeros((4, 6), dtype=np.uint8)
    obj_a[1, 2] = 1
    valid_b = np.zeros((4, 6), dtype=bool)
    valid_b[0, :3] = True
    frames = {
        "000000": {"flow_occ": _constant(4, 6, 10, 0), "valid_occ": valid_a, "obj_map": obj_a},
        "000001": {"flow_occ": _constant(4, 6, 0, 0), "valid_occ": valid_b},
    }
    root = write_kitti_tree(tmp_path / "kitti", frames)
    return write_kitti_tree(root, {"000000": {"image1": np.zeros((8, 8, 3), np.uint8)}}, split="testing")


def _kitti_predictions(tmp_path: Path) -> Path:
    """000000: (14, 0) everywhere -> EPE 4 at its GT pixel, an outlier (4 > 3 and 4 > 0.5 = 5 % of 10).
    000001: (0, 0) but invalid at (0, 1); the row fill copies (0, 0) there -> EPE 0 at all three GT pixels.
    """
    predictions = tmp_path / "predictions"
    (predictions / "flow").mkdir(parents=True)
    write_kitti_flow(predictions / "flow" / "000000_10.png", _constant(4, 6, 14, 0))
    valid = np.ones((4, 6), dtype=bool)
    valid[0, 1] = False
    write_kitti_flow(predictions / "flow" / "000001_10.png", _constant(4, 6, 0, 0), valid)
    return predictions


def _request(spec_id: str, root: Path, predictions: Path, **kwargs: object) -> EvaluationRequest:
    spec = get_benchmark(spec_id)
    options = {"split": spec.default_split, "config": spec.default_config, **kwargs}
    return make_request(spec, root, predictions, **options)  # type: ignore[arg-type]


def test_evaluate_kitti_2015_end_to_end(tmp_path: Path) -> None:
    result = evaluate_kitti_format(_request("kitti-2015-flow", _kitti_fixture(tmp_path), _kitti_predictions(tmp_path)))
    # Pooled over 4 GT pixels: 1 outlier -> fl_all 25 %; it is the only foreground pixel -> fl_fg 100 %,
    # fl_bg 0 / 3 = 0 %. EPE pooled: (4 + 0 + 0 + 0) / 4 = 1; image mean: (4 + 0) / 2 = 2.
    # density: the prediction was valid at 3 of the 4 GT pixels -> 75 %.
    assert result.metrics == pytest.approx(
        {
            "fl_all": 25.0, "fl_bg": 0.0, "fl_fg": 100.0,
            "fl_all_noc": 25.0, "fl_bg_noc": 0.0, "fl_fg_noc": 100.0,
            "epe": 1.0, "epe_noc": 1.0, "epe_image_mean": 2.0, "density": 75.0,
        }
    )  # fmt: skip
    assert list(result.metrics) == [m.name for m in KITTI.metrics]
    assert (result.n_samples, result.n_expected, result.missing, result.breakdowns) == (2, 2, [], {})
    first = result.sample_scores["kitti-2015/training/000000"]
    assert first["epe"] == 4.0 and first["fl_all"] == 100.0 and math.isnan(first["fl_bg"])
    second = result.sample_scores["kitti-2015/training/000001"]
    assert second["fl_all"] == 0.0 and second["density"] == pytest.approx(200 / 3)
    assert "epe_image_mean" not in first
    assert result.to_json()["metrics"]["fl_fg"] == 100.0


def test_kitti_empty_pixel_set_is_null_in_json(tmp_path: Path) -> None:
    root = _kitti_fixture(tmp_path)
    predictions = _kitti_predictions(tmp_path)
    (predictions / "flow" / "000000_10.png").unlink()  # the only foreground pixel goes with it
    result = evaluate_kitti_format(_request("kitti-2015-flow", root, predictions, allow_partial=True))
    assert math.isnan(result.metrics["fl_fg"])
    assert result.to_json()["metrics"]["fl_fg"] is None
    assert result.missing == ["kitti-2015/training/000000"]
    assert (result.n_samples, result.n_expected, result.coverage) == (1, 2, 0.5)
    assert result.metrics["epe"] == 0.0 and result.metrics["density"] == pytest.approx(200 / 3)


def test_kitti_collects_every_prediction_problem(tmp_path: Path) -> None:
    root = _kitti_fixture(tmp_path)
    predictions = _kitti_predictions(tmp_path)
    write_kitti_flow(predictions / "flow" / "000001_10.png", _constant(5, 6, 0, 0))  # wrong size
    (predictions / "flow" / "000000_10.png").unlink()  # missing
    write_kitti_flow(predictions / "flow" / "000099_10.png", _constant(4, 6, 0, 0))  # extra
    (predictions / "flow" / "notes.txt").write_text("hello")  # misnamed
    (predictions / "flow" / ".DS_Store").write_bytes(b"")  # hidden files are skipped
    with pytest.raises(PredictionError) as info:
        evaluate_kitti_format(_request("kitti-2015-flow", root, predictions))
    problems = "\n".join(info.value.problems)
    assert len(info.value.problems) == 4
    assert "sample kitti-2015/training/000000: missing prediction (expected flow/000000_10.png)" in problems
    assert "sample kitti-2015/training/000099: not in this split (flow/000099_10.png)" in problems
    assert "flow/notes.txt: not a prediction file" in problems
    assert "sample kitti-2015/training/000001:" in problems and "6x5 (WxH)" in problems


def test_kitti_unreadable_png_names_the_sample(tmp_path: Path) -> None:
    root = _kitti_fixture(tmp_path)
    predictions = _kitti_predictions(tmp_path)
    (predictions / "flow" / "000001_10.png").write_bytes(b"not a png")
    with pytest.raises(PredictionError, match=r"sample kitti-2015/training/000001: unreadable prediction .*000001_10"):
        evaluate_kitti_format(_request("kitti-2015-flow", root, predictions))


def test_kitti_testing_split_has_no_labels(tmp_path: Path) -> None:
    root = _kitti_fixture(tmp_path)
    with pytest.raises(MobenchError, match="split 'testing' cannot be scored here"):
        evaluate_kitti_format(_request("kitti-2015-flow", root, tmp_path / "predictions", split="testing"))


def test_prediction_paths() -> None:
    assert str(prediction_path(KITTI, "kitti-2015/training/000042")) == "flow/000042_10.png"
    assert str(prediction_path(SINTEL, "sintel/final/training/alley_1/frame_0007")) == "alley_1/frame_0007.flo"


# --- Sintel ---------------------------------------------------------------------------------------------------


def _sintel_fixture(tmp_path: Path) -> Path:
    """alley_1: 2 frame pairs, cave_2: 1 pair; 4x6 frames, GT flow (0, 0) everywhere.

    alley_1/frame_0001 has its left column occluded and pixel (0, 5) marked invalid.
    """
    occluded = np.zeros((4, 6), dtype=bool)
    occluded[:, 0] = True
    invalid = np.zeros((4, 6), dtype=bool)
    invalid[0, 5] = True
    zero = _constant(4, 6, 0, 0)
    scenes = {
        "alley_1": [{"flow": zero, "occlusion": occluded, "invalid": invalid}, {"flow": zero}, {}],
        "cave_2": [{"flow": zero}, {}],
    }
    root = write_sintel_tree(tmp_path / "sintel", scenes)
    return write_sintel_tree(root, {"market_1": [{}, {}]}, split="test")


def _sintel_predictions(tmp_path: Path, errors: Mapping[str, float]) -> Path:
    """Constant predictions (u, 0) per `<scene>/frame_XXXX`, so every pixel's EPE is u (GT is zero)."""
    predictions = tmp_path / "predictions"
    for name, u in errors.items():
        (predictions / name).parent.mkdir(parents=True, exist_ok=True)
        write_flo(predictions / f"{name}.flo", _constant(4, 6, u, 0))
    return predictions


SINTEL_ERRORS = {"alley_1/frame_0001": 1.0, "alley_1/frame_0002": 3.0, "cave_2/frame_0001": 0.0}


def test_evaluate_sintel_end_to_end(tmp_path: Path) -> None:
    result = evaluate_sintel(
        _request("sintel-final", _sintel_fixture(tmp_path), _sintel_predictions(tmp_path, SINTEL_ERRORS))
    )
    # 3 frames x 24 px with EPE 1, 3, 0: epe = (24 + 72 + 0) / 72 = 4/3; all speeds are 0 -> s0_10 = epe.
    # Unmatched = the 4 occluded pixels of alley_1/frame_0001 (EPE 1): 1.0; matched: (20 + 72) / 68.
    # Invalid: one pixel of EPE 1 dropped: (23 + 72) / 71.
    # Distance bins: only alley_1/frame_0001 has a boundary (columns 0 and 1); all 24 of its pixels are < 10 px
    # away -> d0_10 = 1; nothing farther -> NaN.
    # acc_3px: EPE < 3 in frames 1 (EPE 1) and 3 (EPE 0) -> 48/72; acc_1px: only frame 3 -> 24/72.
    m = result.metrics
    assert m["epe"] == pytest.approx(4 / 3)
    assert m["s0_10"] == pytest.approx(4 / 3) and math.isnan(m["s10_40"]) and math.isnan(m["s40_plus"])
    assert m["epe_unmatched"] == pytest.approx(1.0) and m["epe_matched"] == pytest.approx(92 / 68)
    assert m["epe_excl_invalid"] == pytest.approx(95 / 71)
    assert m["d0_10"] == pytest.approx(1.0) and math.isnan(m["d10_60"]) and math.isnan(m["d60_140"])
    assert m["acc_1px"] == pytest.approx(100 / 3) and m["acc_3px"] == pytest.approx(200 / 3)
    assert m["acc_5px"] == pytest.approx(100.0)
    assert list(m) == [metric.name for metric in SINTEL.metrics]
    # Per scene: alley_1 pools 48 px (EPE 1 and 3) -> 2.0; cave_2 -> 0.
    assert result.breakdowns["scene"]["alley_1"]["epe"] == pytest.approx(2.0)
    assert result.breakdowns["scene"]["cave_2"]["epe"] == 0.0
    assert result.sample_scores["sintel/final/training/alley_1/frame_0002"]["epe"] == pytest.approx(3.0)
    assert (result.n_samples, result.n_expected) == (3, 3)


def test_sintel_bad_predictions_each_name_their_sample(tmp_path: Path) -> None:
    root = _sintel_fixture(tmp_path)
    predictions = _sintel_predictions(tmp_path, {**SINTEL_ERRORS, "alley_1/frame_0009": 0.0})  # extra
    nan_flow = _constant(4, 6, 0, 0)
    nan_flow[2, 3, 1] = np.nan
    write_flo(predictions / "alley_1" / "frame_0001.flo", nan_flow)  # NaN
    (predictions / "alley_1" / "frame_0002.flo").write_bytes(b"XXXX" + bytes(200))  # bad magic
    write_flo(predictions / "cave_2" / "frame_0001.flo", _constant(6, 4, 0, 0))  # transposed size
    with pytest.raises(PredictionError) as info:
        evaluate_sintel(_request("sintel-final", root, predictions))
    problems = info.value.problems
    assert len(problems) == 4
    for sample, what in (
        ("alley_1/frame_0009", "not in this split (alley_1/frame_0009.flo)"),
        ("alley_1/frame_0001", "NaN or infinite"),
        ("alley_1/frame_0002", "unreadable prediction"),
        ("cave_2/frame_0001", "4x6 (WxH) but the ground truth is 6x4"),
    ):
        assert any(f"sample sintel/final/training/{sample}:" in p and what in p for p in problems), (sample, problems)


def test_sintel_allow_partial(tmp_path: Path) -> None:
    root = _sintel_fixture(tmp_path)
    partial = {k: v for k, v in SINTEL_ERRORS.items() if k != "alley_1/frame_0002"}
    predictions = _sintel_predictions(tmp_path, partial)
    with pytest.raises(PredictionError, match="alley_1/frame_0002: missing prediction"):
        evaluate_sintel(_request("sintel-final", root, predictions))
    result = evaluate_sintel(_request("sintel-final", root, predictions, allow_partial=True))
    assert result.missing == ["sintel/final/training/alley_1/frame_0002"]
    assert (result.n_samples, result.n_expected) == (2, 3)
    assert result.metrics["epe"] == pytest.approx(0.5)  # (24 * 1 + 24 * 0) / 48


def test_sintel_test_split_has_no_labels(tmp_path: Path) -> None:
    root = _sintel_fixture(tmp_path)
    with pytest.raises(MobenchError, match="split 'test' cannot be scored here"):
        evaluate_sintel(_request("sintel-final", root, tmp_path / "predictions", split="test"))


# --- the ground-truth cache (loaders.gt_cache) ------------------------------------------------------------------


@pytest.mark.parametrize("benchmark", ["kitti-2015-flow", "sintel-final"])
def test_scores_are_the_same_bits_with_the_gt_cache_cold_warm_and_off(
    benchmark: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if benchmark == "sintel-final":
        root, predictions, evaluate = (
            _sintel_fixture(tmp_path),
            _sintel_predictions(tmp_path, SINTEL_ERRORS),
            evaluate_sintel,
        )
    else:
        root, predictions, evaluate = _kitti_fixture(tmp_path), _kitti_predictions(tmp_path), evaluate_kitti_format
    monkeypatch.setenv("MOBENCH_GT_CACHE", "off")
    off = evaluate(_request(benchmark, root, predictions)).exact_figures()
    monkeypatch.setenv("MOBENCH_GT_CACHE", str(tmp_path / "cache"))
    cold = evaluate(_request(benchmark, root, predictions)).exact_figures()
    assert len(list((tmp_path / "cache").rglob(f"*{SUFFIX}"))) == (3 if benchmark == "sintel-final" else 2)
    warm = evaluate(_request(benchmark, root, predictions)).exact_figures()
    assert off == cold == warm


def test_a_changed_gt_file_is_scored_as_it_is_now(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOBENCH_GT_CACHE", str(tmp_path / "cache"))
    root, predictions = _sintel_fixture(tmp_path), _sintel_predictions(tmp_path, SINTEL_ERRORS)
    assert evaluate_sintel(_request("sintel-final", root, predictions)).metrics["epe"] == pytest.approx(4 / 3)
    write_flo(root / "training" / "flow" / "cave_2" / "frame_0001.flo", _constant(4, 6, 6, 0))  # EPE 0 -> 6
    assert evaluate_sintel(_request("sintel-final", root, predictions)).metrics["epe"] == pytest.approx(10 / 3)
