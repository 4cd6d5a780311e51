"""Every evaluator's bootstrap intervals (`hub.core.bootstrap`, issue #24) over its official pooling unit, by hand.

Each family: a case small enough that every resample's value follows from the draws by hand (`draw` depends only on
the number of units and the seed, so the test draws the same resamples as the evaluator), a case whose units are all
alike (the interval collapses to the value), two scorings giving the same bits (`exact_figures` holds the
intervals), and a bound for every metric the spec declares.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evaluators import health, multiple_choice
from hub.core.bootstrap import draw, per_resample, percentile_bounds
from hub.core.coverage import Coverage
from hub.core.evaluation import EvaluationRequest, EvaluationResult, ScoringPlan, ShardedEvaluator
from hub.core.registry import BenchmarkSpec, HealthTask, get_benchmark
from hub.scoring.wiring import make_request
from loaders.mobile_mmlu import read_answer_key
from loaders.synthetic.health import build_pmdata
from tests.fixtures.health import pmdata_task
from tests.fixtures.mobile_mmlu import write_key, write_release, write_run
from tests.test_mobile_mmlu_scoring import KEY, _perm_records

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def _bounds(values: FloatArray) -> tuple[float, float]:
    return percentile_bounds(np.asarray(values, dtype=np.float64))


def _declared_and_reproducible(evaluate: ShardedEvaluator[Any, Any], request: EvaluationRequest) -> EvaluationResult:
    """Score twice: the same bits, intervals included, and a bound for every metric the spec declares."""
    first, second = evaluate(request), evaluate(request)
    assert first.intervals is not None
    assert list(first.intervals.bounds) == [m.name for m in request.spec.metrics]
    figures = first.exact_figures()
    assert figures == second.exact_figures()
    assert all(("interval", f"{m.name}: {side}") in figures for m in request.spec.metrics for side in ("low", "high"))
    return first


# --- multiple choice: the unit is the question ---------------------------------------------------------------------


def _mmlu_request(tmp_path: Path, predictions: Path, key: dict[str, str]) -> EvaluationRequest:
    root = write_release(tmp_path / "mm") if not (tmp_path / "mm").exists() else tmp_path / "mm"
    labels = read_answer_key(write_key(tmp_path / "key.csv", key))
    return make_request(get_benchmark("mobile-mmlu"), root, predictions, "test", "all", labels=labels)


def test_question_intervals_are_the_drawn_questions_by_hand(tmp_path: Path) -> None:
    """The rotated run of tests/test_mobile_mmlu_scoring.py: per question, right in the official order, identical
    pairs among its rotations' answers, and hits per displayed gold position A-D (each shown once per position). A
    resample's figures are those of the questions it drew, a question drawn twice counting twice."""
    request = _mmlu_request(tmp_path, write_run(tmp_path / "out", {"mobile_mmlu_perm": _perm_records()}), KEY)
    result = _declared_and_reproducible(multiple_choice.evaluate, request)
    assert result.intervals is not None and result.intervals.unit == "question" and result.intervals.n_units == 4
    by_hand = {  # question: (right, identical pairs, hits at A-D)
        "0a1b2c3d": (1.0, 6.0, [1, 1, 1, 1]),
        "1b2c3d4e": (1.0, 0.0, [1, 0, 0, 0]),
        "2c3d4e5f": (1.0, 2.0, [1, 0, 0, 1]),
        "3d4e5f6a": (0.0, 6.0, [0, 0, 0, 0]),
    }
    order = list(result.sample_scores)  # the split's order, the units' numbering
    picks = draw(order).picks
    right = np.array([by_hand[q][0] for q in order])
    same_pairs = np.array([by_hand[q][1] for q in order])
    hits = np.array([by_hand[q][2] for q in order], dtype=np.float64)
    bounds = result.intervals.bounds
    assert bounds["accuracy"] == _bounds(100.0 * right[picks].sum(axis=1) / 4.0)
    assert bounds["consistency_pairwise"] == _bounds(100.0 * same_pairs[picks].sum(axis=1) / 24.0)
    recalls = 100.0 * hits[picks].sum(axis=1) / 4.0
    assert bounds["position_bias_rstd"] == _bounds(np.array([statistics.pstdev(row) for row in recalls.tolist()]))
    for metric, (low, high) in bounds.items():
        value = result.metrics[metric]
        assert 0.0 <= low <= value <= high <= 100.0, (metric, low, value, high)
    assert bounds["accuracy"][0] < bounds["accuracy"][1]


def test_questions_all_alike_collapse_and_rotation_metrics_without_rotations_have_none(tmp_path: Path) -> None:
    """Every answer right, every gold A: every resample draws the same figures; no `*_perm` task, so the rotation
    metrics are NaN in every resample and have no interval."""
    key = dict.fromkeys(KEY, "A")
    csv_path = tmp_path / "model_predictions.csv"
    csv_path.write_text("question_id,predicted_answer\n" + "".join(f"{q},A\n" for q in key), encoding="utf-8")
    result = _declared_and_reproducible(multiple_choice.evaluate, _mmlu_request(tmp_path, csv_path, key))
    assert result.intervals is not None
    rotation = {"accuracy_perm_mean", "accuracy_all_perms", "consistency", "consistency_pairwise"}
    for metric, (low, high) in result.intervals.bounds.items():
        if metric in rotation:
            assert math.isnan(result.metrics[metric]) and math.isnan(low) and math.isnan(high)
        else:
            assert low == high == result.metrics[metric], metric
    assert result.intervals.bounds["accuracy"] == (100.0, 100.0)
    assert result.intervals.bounds["position_bias_rstd"] == (0.0, 0.0)  # one position holds the gold: pstdev 0


# --- health: the unit is the participant --------------------------------------------------------------------------

STRESS = get_benchmark("pmdata-stress")
SLEEP_DISORDER = get_benchmark("lifesnaps-sleep-disorder")


def _health_plan(windows: list[tuple[str, float, float | None]]) -> ScoringPlan[Any]:
    """A plan of (participant, label, prediction) windows, as the evaluator's plan makes it."""
    units = [health._Window(f"w{k}", pred, label, who) for k, (who, label, pred) in enumerate(windows)]
    coverage = Coverage({u.window_id: "test" for u in units}, [], [], len(units))
    return ScoringPlan(coverage, units, context={})


def _bare_request(spec: BenchmarkSpec) -> EvaluationRequest:
    """A request without ground truth: the health resampling reads only the spec's task and the plan's windows."""
    return EvaluationRequest(spec, None, Path("."), "test", "participant")  # type: ignore[arg-type]


def _health_intervals(spec: BenchmarkSpec, plan: ScoringPlan[Any]) -> dict[str, tuple[float, float]]:
    request = _bare_request(spec)
    resampling = health.evaluate.resampling
    assert resampling is not None and resampling.unit == "participant"
    return resampling.intervals(request, plan, health._map(request, plan.units)).bounds


def test_participant_intervals_pool_the_drawn_participants_windows() -> None:
    """p1: 2 windows with error 1 each, p2: 1 window with error 4, p3: 3 exact windows. A resample drawing p1 c1
    times, p2 c2 times and p3 c3 times has MAE (2 c1 + 4 c2) / (2 c1 + c2 + 3 c3): windows, not participants,
    are averaged, and a participant drawn twice brings its windows twice."""
    windows = [("p1", 2.0, 3.0), ("p1", 4.0, 3.0), ("p2", 1.0, 5.0), ("p3", 3.0, 3.0), ("p3", 2.0, 2.0)]
    windows.append(("p3", 5.0, 5.0))
    bounds = _health_intervals(STRESS, _health_plan(windows))
    counts = np.stack([np.bincount(row, minlength=3) for row in draw(["p1", "p2", "p3"]).picks]).astype(np.float64)
    c1, c2, c3 = counts.T
    assert bounds["mae"] == _bounds(1.0 * (2.0 * c1 + 4.0 * c2) / (2.0 * c1 + c2 + 3.0 * c3))
    assert bounds["rmse"] == _bounds(np.sqrt(1.0 * (2.0 * c1 + 16.0 * c2) / (2.0 * c1 + c2 + 3.0 * c3)))
    assert bounds["accuracy"] == _bounds(100.0 * (3.0 * c3) / (2.0 * c1 + c2 + 3.0 * c3))
    assert bounds["no_answer_rate"] == (0.0, 0.0)
    point = health.score([(label, pred) for _, label, pred in windows], STRESS.task_as(HealthTask))
    assert bounds["mae"][0] < point["mae"] < bounds["mae"][1] and 0.0 <= bounds["mae"][0] <= bounds["mae"][1] <= 4.0


# u1's windows are all class 1 predicted 1, so a resample drawing only u1 has no class 0 and its macro F1 is class
# 1's alone; u2 declines to answer once (scored as the worst answer)
_CLASS_WINDOWS = [("u1", 1.0, 1.0), ("u1", 1.0, 1.0), ("u2", 0.0, 1.0), ("u2", 0.0, None), ("u3", 0.0, 0.0)]
_CLASS_WINDOWS += [("u3", 1.0, 0.0), ("u4", 0.0, 0.0)]


@pytest.mark.parametrize(
    ("spec", "windows"),
    [
        (SLEEP_DISORDER, _CLASS_WINDOWS),
        (STRESS, [(who, 1.0 + 2 * label, pred) for who, label, pred in _CLASS_WINDOWS]),
    ],
    ids=["binary", "ordinal"],
)
def test_participant_resamples_are_score_of_the_drawn_windows(
    spec: BenchmarkSpec, windows: list[tuple[str, float, float | None]]
) -> None:
    """The vectorised resampling gives what `score` itself gives over each resample's windows, macro F1 included."""
    task = spec.task_as(HealthTask)
    plan = _health_plan(windows)
    request = _bare_request(spec)
    draws = draw([u.participant for u in plan.units])
    pairs = [(u.label, u.prediction) for u in plan.units]
    by_score = per_resample(draws, lambda idx: health.score([pairs[i] for i in idx], task), health.metric_names(task))
    resampling = health.evaluate.resampling
    assert resampling is not None
    vectorised = resampling.metrics(request, plan, health._map(request, plan.units), draws)
    assert set(vectorised) == set(by_score)
    for name, values in by_score.items():
        np.testing.assert_allclose(vectorised[name], values, rtol=1e-13, atol=0, err_msg=name)
    if task.classes:
        assert health.score([(1.0, 1.0), (1.0, 1.0)], task)["macro_f1"] == 100.0
        drew_only_u1 = [r for r, row in enumerate(draws.picks.tolist()) if set(row) == {0}]
        assert all(vectorised["macro_f1"][r] == 100.0 for r in drew_only_u1)


def test_identical_participants_collapse_the_interval() -> None:
    windows = [(f"p{k}", label, label) for k in range(4) for label in (1.0, 3.0, 5.0)]
    bounds = _health_intervals(STRESS, _health_plan(windows))
    assert bounds == {"mae": (0.0, 0.0), "rmse": (0.0, 0.0), "accuracy": (100.0, 100.0), "no_answer_rate": (0.0, 0.0)}


@pytest.fixture(scope="module")
def pmdata(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pm") / "mini"
    build_pmdata(root)
    return root


def test_health_intervals_on_the_synthetic_release(pmdata: Path, tmp_path: Path) -> None:
    rows = list(pmdata_task(pmdata, "test", "all", item="stress"))
    predictions = tmp_path / "preds.csv"
    predictions.write_text("window_id,prediction\n" + "".join(f"{r['id']},3\n" for r in rows), encoding="utf-8")
    request = make_request(STRESS, pmdata, predictions, "test", "all")
    result = _declared_and_reproducible(health.evaluate, request)
    assert result.intervals is not None and result.intervals.unit == "participant"
    assert result.intervals.n_units == len({r["participant"] for r in rows}) > 1
    per_participant = [b["mae"] for b in result.breakdowns["participant"].values()]
    low, high = result.intervals.bounds["mae"]
    assert min(per_participant) <= low <= result.metrics["mae"] <= high <= max(per_participant)
