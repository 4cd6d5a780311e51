"""The OpenCV flow baselines write prediction trees the evaluators accept, and DIS beats predicting zero flow.

Runs on the synthetic mini benchmarks of `loaders.synthetic.flow` (official layouts, exact GT by construction).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from evaluators.flow import evaluate_kitti_format, evaluate_sintel
from evaluators.readers.flow import prediction_path, write_prediction
from hub.core.evaluation import EvaluationRequest, EvaluationResult
from hub.core.registry import BenchmarkSpec, get_benchmark
from hub.scoring.wiring import make_request, resolve
from loaders.synthetic.flow import build_hd1k, build_kitti_2015, build_sintel
from submissions.baselines.opencv_flow import FLOW_BASELINES, WARMUP, DISMediumBaseline


def _build(builder: Callable[[Path], None], name: str) -> Callable[[Path], Path]:
    def build(tmp_path: Path) -> Path:
        builder(tmp_path / name)
        return tmp_path / name

    return build


Evaluator = Callable[[EvaluationRequest], EvaluationResult]
CASES = [
    ("kitti-2015-flow", _build(build_kitti_2015, "kitti"), evaluate_kitti_format),
    ("sintel-clean", _build(build_sintel, "sintel"), evaluate_sintel),
    ("sintel-final", _build(build_sintel, "sintel"), evaluate_sintel),
    ("hd1k-flow", _build(build_hd1k, "hd1k"), evaluate_kitti_format),  # the same evaluator, on flow_occ alone
]


def _score(spec: BenchmarkSpec, root: Path, predictions: Path, evaluate: Evaluator) -> EvaluationResult:
    request = make_request(spec, root, predictions, split=spec.default_split, config=spec.default_config)
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
        height, width = loader.image_pair(sample_id)[0].shape[:2]
        write_prediction(spec, zero_dir, sample_id, np.zeros((height, width, 2), np.float32))
    zero = _score(spec, root, zero_dir, evaluate)

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
    primary = spec.primary_metric  # fl_all (KITTI, HD1K) or epe (Sintel), both lower-is-better
    assert dis.metrics[primary] < zero.metrics[primary]


def test_baseline_metadata() -> None:
    names = [b.name for b in FLOW_BASELINES]
    assert names == ["opencv-dis-medium", "opencv-farneback"]
    for baseline in FLOW_BASELINES:
        assert (baseline.runtime, baseline.precision) == ("opencv", "fp32")
        assert baseline.version and baseline.description and baseline.url
    assert resolve(get_benchmark("sintel-final").baselines or "") is FLOW_BASELINES
