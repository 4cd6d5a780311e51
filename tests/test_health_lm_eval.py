"""The PMData lm-eval tasks, run for real through `lm_eval.simple_evaluate`, and their logs scored by mobench."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evaluators.health import evaluate
from hub.core.registry import get_benchmark
from hub.export import export_benchmark
from hub.scoring.wiring import make_request
from loaders.health.windows import ALPACA_PRIMER
from loaders.lm_tasks.commands import include_path, run_lm_eval
from loaders.synthetic.health import build_pmdata
from tests.fixtures.health import pmdata_task

pytest.importorskip("lm_eval")

from lm_eval.api.model import LM


class TemplateLM(LM):  # type: ignore[misc]  # lm-eval ships no type hints
    """Answers every third prompt off-template ("no idea"), the others with Health-LLM's answer template, level 3."""

    def __init__(self) -> None:
        super().__init__()
        self.prompts: list[str] = []

    def loglikelihood(self, requests: list[Any], disable_tqdm: bool = False) -> list[tuple[float, bool]]:
        raise NotImplementedError

    def loglikelihood_rolling(self, requests: list[Any], disable_tqdm: bool = False) -> list[float]:
        raise NotImplementedError

    def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
        out = []
        for request in requests:
            self.prompts.append(request.args[0])
            out.append("no idea" if int(request.doc_id) % 3 == 0 else "The predicted stress level is 3.")
        return out


def test_task_manager_finds_the_pmdata_tasks() -> None:
    from lm_eval.tasks import TaskManager

    names = set(TaskManager(include_path=str(include_path())).all_tasks)
    assert {"pmdata_stress", "pmdata_readiness", "pmdata_fatigue", "pmdata_sleep_quality"} <= names


def test_lm_eval_run_is_scored_from_its_sample_logs(tmp_path: Path) -> None:
    root = tmp_path / "mini"
    build_pmdata(root)
    export_benchmark(get_benchmark("pmdata-stress"), root, tmp_path / "export", configs=["participant"])
    model = TemplateLM()
    results = run_lm_eval(
        model, ["pmdata_stress"], metadata={"pmdata_stress_data": str(tmp_path / "export")}, output_dir=tmp_path / "out"
    )
    rows = list(pmdata_task(root, "test", "participant", item="stress"))
    assert results["n-samples"]["pmdata_stress"]["effective"] == len(rows)
    assert model.prompts[0].startswith(ALPACA_PRIMER) and rows[0]["question"] in model.prompts[0]

    result = evaluate(make_request(get_benchmark("pmdata-stress"), root, tmp_path / "out", "test", "participant"))
    # doc i answers 3 unless i % 3 == 0 (no answer: scored as the far end of 1-5 from the label)
    errors = [
        abs(r["label"] - (max((1, 5), key=lambda v: abs(v - r["label"])) if i % 3 == 0 else 3))
        for i, r in enumerate(rows)
    ]
    assert result.metrics["mae"] == pytest.approx(sum(errors) / len(errors))
    assert result.metrics["no_answer_rate"] == pytest.approx(100 * len(range(0, len(rows), 3)) / len(rows))
    assert result.details["prediction_form"] == "lm-eval generative"
    # lm-eval's own exact_match (informational) agrees with mobench's reading of the same generations
    answered_right = sum(1 for i, r in enumerate(rows) if i % 3 and r["label"] == 3)
    assert results["results"]["pmdata_stress"]["exact_match,number"] == pytest.approx(answered_right / len(rows))
