"""The health evaluator: metrics on hand-computed cases, the number rule, and bad predictions named by window."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evaluators.health import evaluate, macro_f1, score, worst_value
from evaluators.readers.health import parse_number
from hub.cli.app import app
from hub.core.errors import PredictionError
from hub.core.evaluation import EvaluationRequest
from hub.core.registry import HealthTask, get_benchmark
from hub.scoring.wiring import make_request
from loaders.synthetic.health import build_pmdata
from tests.fixtures.health import pmdata_task

STRESS = get_benchmark("pmdata-stress").task_as(HealthTask)
SLEEP_DISORDER = get_benchmark("lifesnaps-sleep-disorder").task_as(HealthTask)
SRI = get_benchmark("lifesnaps-stress-resilience").task_as(HealthTask)


def test_ordinal_metrics_by_hand() -> None:
    # labels 2, 3, 5; predictions 2.5, 3, 1 -> errors 0.5, 0, 4
    metrics = score([(2.0, 2.5), (3.0, 3.0), (5.0, 1.0)], STRESS)
    assert metrics["mae"] == pytest.approx((0.5 + 0 + 4) / 3)  # 1.5
    assert metrics["rmse"] == pytest.approx(math.sqrt((0.25 + 0 + 16) / 3))  # 2.3274
    # rounded half up: 2.5 -> 3 (wrong), 3 (right), 1 (wrong)
    assert metrics["accuracy"] == pytest.approx(100 / 3)
    assert metrics["no_answer_rate"] == 0.0


def test_no_answer_counts_as_the_worst_answer() -> None:
    assert worst_value(2.0, STRESS) == 5.0 and worst_value(4.0, STRESS) == 1.0
    assert worst_value(1.0, SLEEP_DISORDER) == 0.0
    # label 2 without an answer -> scored as 5: error 3; label 4 predicted 4: error 0
    metrics = score([(2.0, None), (4.0, 4.0)], STRESS)
    assert metrics["mae"] == 1.5 and metrics["no_answer_rate"] == 50.0
    assert set(score([], SRI)) == {"mae", "rmse", "no_answer_rate"} and math.isnan(score([], SRI)["mae"])


def test_binary_metrics_by_hand() -> None:
    pairs = [(1.0, 1.0), (1.0, 0.0), (0.0, 0.0), (0.0, 0.0)]
    # class 1: TP 1, FP 0, FN 1 -> F1 2/3; class 0: TP 2, FP 1, FN 0 -> F1 4/5; macro (2/3 + 4/5) / 2
    assert macro_f1(pairs) == pytest.approx(100 * (2 / 3 + 4 / 5) / 2)
    metrics = score(pairs, SLEEP_DISORDER)
    assert metrics["accuracy"] == 75.0 and "mae" not in metrics


def test_number_rule() -> None:
    assert parse_number("The predicted stress level is 4.", STRESS) == 4.0
    assert parse_number("Based on 14 days of data, the predicted stress level is 2.5", STRESS) == 2.5
    assert parse_number("Answer: 3", STRESS) == 3.0
    assert parse_number(" 5\n", STRESS) == 5.0
    assert parse_number("14 days are not enough", STRESS) is None  # off the scale
    assert parse_number("The predicted stress level is 7.", STRESS) is None
    assert parse_number("I cannot tell", STRESS) is None
    assert parse_number("1", SLEEP_DISORDER) == 1.0 and parse_number("0.5", SLEEP_DISORDER) is None


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pm") / "mini"
    build_pmdata(root)
    return root


def _request(root: Path, predictions: Path) -> EvaluationRequest:
    return make_request(get_benchmark("pmdata-stress"), root, predictions, "test", "participant")


def test_scores_a_csv_with_breakdowns(mini: Path, tmp_path: Path) -> None:
    loader = pmdata_task(mini, "test", "participant", item="stress")
    rows = list(loader)
    preds = tmp_path / "preds.csv"
    # predict 3 everywhere: the error of each window is |label - 3|
    preds.write_text("window_id,prediction\n" + "".join(f"{r['id']},3\n" for r in rows), encoding="utf-8")
    result = evaluate(_request(mini, preds))
    expected_mae = sum(abs(r["label"] - 3) for r in rows) / len(rows)
    assert result.n_samples == len(rows) and result.metrics["mae"] == pytest.approx(expected_mae)
    assert set(result.breakdowns["participant"]) == {r["participant"] for r in rows}
    # the windows labelled 3 are predicted exactly (the synthetic release has some: the assertion must not be skipped)
    threes = [r for r in rows if r["label"] == 3]
    assert threes
    assert result.breakdowns["label"]["3"]["mae"] == 0.0
    assert result.breakdowns["label"]["3"]["n_windows"] == len(threes)
    assert result.details["load_report"]["missing_files"] == ["p05/fitbit/resting_heart_rate.json"]

    out = CliRunner().invoke(
        app,
        [
            "evaluate",
            "pmdata-stress",
            "--root",
            str(mini),
            "--predictions",
            str(preds),
            "--config",
            "participant",
            "--split",
            "test",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["metrics"]["mae"] == pytest.approx(expected_mae)


def test_bad_predictions_name_the_window(mini: Path, tmp_path: Path) -> None:
    ids = pmdata_task(mini, "test", "participant", item="stress").sample_ids()
    preds = tmp_path / "bad.csv"
    lines = [
        "window_id,prediction",
        f"{ids[0]},abc",  # not a number
        f"{ids[1]},7",  # off the 1-5 scale
        f"{ids[2]},3",
        f"{ids[2]},4",  # duplicate
        "pmdata/p99/2020-01-01T00:00:00.000Z,3",  # unknown
        *(f"{wid},2" for wid in ids[4:]),  # ids[3] missing
    ]
    preds.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(PredictionError) as err:
        evaluate(_request(mini, preds))
    text = str(err.value)
    assert f"window {ids[0]}: prediction 'abc' is not a number (bad.csv line 2)" in text
    assert f"window {ids[1]}: prediction 7 is not within 1-5 (bad.csv line 3)" in text
    assert f"sample {ids[2]}: 2 predictions" in text
    assert "sample pmdata/p99/2020-01-01T00:00:00.000Z: not in this split" in text
    assert f"sample {ids[3]}: missing prediction" in text


def test_a_folder_needs_one_csv(mini: Path, tmp_path: Path) -> None:
    (tmp_path / "preds").mkdir()
    with pytest.raises(PredictionError, match="found CSV files: none"):
        evaluate(_request(mini, tmp_path / "preds"))
