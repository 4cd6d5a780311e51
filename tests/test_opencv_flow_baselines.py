"""The OpenCV flow baselines write prediction trees the evaluators accept, and DIS beats predicting zero flow.

The fixture is a pure translation by (3, 2) px of a smooth random texture, in the official layouts; the GT is
that constant flow. Zero flow therefore has EPE sqrt(3² + 2²) ≈ 3.61 px everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_flow_evaluate import KittiFrame, SintelFrame, write_kitti_tree, write_sintel_tree

from evaluators.flow import evaluate_kitti_2015, evaluate_sintel, prediction_path, write_prediction
from evaluators.result import EvaluationRequest, EvaluationResult
from hub.baselines.opencv_flow import FLOW_BASELINES, WARMUP, DISMediumBaseline
from hub.registry import BenchmarkSpec, get_benchmark, resolve

SHIFT = (3, 2)
HEIGHT, WIDTH = 64, 96


def _gt_flow() -> np.ndarray[Any, np.dtype[np.float32]]:
    flow = np.zeros((HEIGHT, WIDTH, 2), dtype=np.float32)
    flow[...] = SHIFT
    return flow


def _kitti_root(tmp_path: Path) -> Path:
    # GT only away from the border, where np.roll wraps the texture around (no true correspondence).
    valid = np.zeros((HEIGHT, WIDTH), dtype=bool)
    valid[8:-8, 8:-8] = True
    frame = KittiFrame(_gt_flow(), valid, _gt_flow(), valid, np.zeros((HEIGHT, WIDTH), np.uint8))
    return write_kitti_tree(tmp_path / "kitti", {"000000": frame, "000001": frame}, shift=SHIFT)


def _sintel_root(tmp_path: Path) -> Path:
    none = np.zeros((HEIGHT, WIDTH), dtype=bool)
    frames = [SintelFrame(_gt_flow(), none, none), SintelFrame(_gt_flow(), none, none)]
    return write_sintel_tree(tmp_path / "sintel", {"alley_1": frames}, shift=SHIFT)


Evaluator = Callable[[EvaluationRequest], EvaluationResult]
CASES = [("kitti-2015-flow", _kitti_root, evaluate_kitti_2015), ("sintel-clean", _sintel_root, evaluate_sintel)]


def _score(spec: BenchmarkSpec, root: Path, predictions: Path, evaluate: Evaluator) -> EvaluationResult:
    request = EvaluationRequest(
        spec=spec, root=root, predictions=predictions, split=spec.default_split, config=spec.default_config
    )
    return evaluate(request)


@pytest.mark.parametrize(("spec_id", "build", "evaluate"), CASES)
def test_baselines_write_scorable_predictions_and_dis_beats_zero_flow(
    tmp_path: Path, spec_id: str, build: Callable[[Path], Path], evaluate: Evaluator
) -> None:
    spec = get_benchmark(spec_id)
    root = build(tmp_path)
    loader = resolve(spec.loader)(root, spec.default_split, config=spec.default_config, **spec.loader_options)
    sample_ids = loader.sample_ids()

    zero_dir = tmp_path / "zero"
    for sample_id in sample_ids:
        write_prediction(spec, zero_dir, sample_id, np.zeros((HEIGHT, WIDTH, 2), np.float32))
    zero = _score(spec, root, zero_dir, evaluate)
    assert zero.metrics["epe"] == pytest.approx(np.hypot(*SHIFT), abs=1e-6)

    results = {}
    for baseline in FLOW_BASELINES:
        predictions = tmp_path / baseline.name
        timing = baseline.run(spec, loader, predictions)
        assert timing.warmup == WARMUP
        assert len(timing.latencies_s) == len(sample_ids) and all(t > 0 for t in timing.latencies_s)
        assert all((predictions / prediction_path(spec, i)).is_file() for i in sample_ids)
        results[baseline.name] = _score(spec, root, predictions, evaluate)
        assert results[baseline.name].n_samples == len(sample_ids)
        assert np.isfinite(results[baseline.name].metrics["epe"])

    dis = results[DISMediumBaseline.name]
    assert dis.metrics["epe"] < 0.5 * zero.metrics["epe"]
    if spec_id == "kitti-2015-flow":
        assert zero.metrics["fl_all"] == 100.0  # EPE 3.61 > 3 and > 5 % of 3.61 at every GT pixel
        assert dis.metrics["fl_all"] < zero.metrics["fl_all"]


def test_baseline_metadata() -> None:
    names = [b.name for b in FLOW_BASELINES]
    assert names == ["opencv-dis-medium", "opencv-farneback"]
    for baseline in FLOW_BASELINES:
        assert (baseline.runtime, baseline.precision) == ("opencv", "fp32")
        assert baseline.version and baseline.description and baseline.url
    assert resolve(get_benchmark("sintel-final").baselines or "") is FLOW_BASELINES
