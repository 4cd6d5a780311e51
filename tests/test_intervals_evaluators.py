"""Every evaluator's bootstrap intervals (`hub.core.bootstrap`, issue #24) over its official pooling unit, by hand.

Each family: a case small enough that every resample's value follows from the draws by hand (`draw` depends only on
the number of units and the seed, so the test draws the same resamples as the evaluator), a case whose units are all
alike (the interval collapses to the value), two scorings giving the same bits (`exact_figures` holds the
intervals), and a bound for every metric the spec declares.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.stats

from evaluators import documents, health, iqa, multiple_choice
from hub.cli.demo import DemoSummary
from hub.core.bootstrap import draw, per_resample, percentile_bounds
from hub.core.coverage import Coverage
from hub.core.evaluation import EvaluationRequest, EvaluationResult, ScoringPlan, ShardedEvaluator
from hub.core.registry import BenchmarkSpec, HealthTask, ImageQualityOptions, all_benchmarks, get_benchmark
from hub.scoring.executors import score
from hub.scoring.wiring import make_request
from hub.store import Store
from loaders.mobile_mmlu import read_answer_key
from loaders.spaq import SPAQ
from loaders.synthetic.health import build_pmdata
from loaders.synthetic.spaq import build_spaq
from submissions.worker import prepare_request
from tests.fixtures.health import pmdata_task
from tests.fixtures.midv import MIDV500_FRAMES, build_tree, write_lines
from tests.fixtures.mobile_mmlu import write_key, write_release, write_run
from tests.fixtures.piq23 import fixture_images, write_piq23_tree, write_predictions
from tests.test_midv_evaluate import CA1, CA2, HA1, TS1, _gt_lines
from tests.test_midv_evaluate import _request as _midv_request
from tests.test_mobile_mmlu_scoring import KEY, _perm_records
from tests.test_piq23_evaluate import _predictions as _piq23_predictions
from tests.test_piq23_evaluate import _request as _piq23_request

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


@pytest.mark.parametrize("spec", [s for s in all_benchmarks() if s.family == "health-sensing"], ids=lambda s: s.id)
def test_every_health_task_has_an_interval_for_every_declared_metric(spec: BenchmarkSpec) -> None:
    """Every health benchmark, the demo's and LifeSnaps' alike (ordinal, regression, binary): windows of three
    participants on the task's scale, one without an answer."""
    task = spec.task_as(HealthTask)
    scale = [0.0, 1.0] if task.classes else [task.low, (task.low + task.high) / 2, task.high]
    windows: list[tuple[str, float, float | None]] = [
        (f"p{k % 3}", scale[k % len(scale)], scale[(k * 7) % len(scale)]) for k in range(12)
    ]
    windows.append(("p0", scale[0], None))
    bounds = _health_intervals(spec, _health_plan(windows))
    assert list(bounds) == [m.name for m in spec.metrics]
    assert all(math.isfinite(low) and low <= high for low, high in bounds.values()), bounds


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


# --- documents: the unit is the frame -----------------------------------------------------------------------------


@pytest.fixture
def midv(tmp_path: Path) -> Path:
    return build_tree(tmp_path / "raw", MIDV500_FRAMES)


def _shifted(quad: Any, dx: float) -> list[list[float]]:
    return [[float(x) + dx, float(y)] for x, y in quad]


def test_frame_intervals_are_the_means_over_the_drawn_frames(midv: Path, tmp_path: Path) -> None:
    """Four frames: one exact, two shifted (lower IoUs), one without a quad (IoU 0, no min_d). Each resample's
    figure is the mean of its drawn frames' own scores (the map's, in `sample_scores`), min_d over the drawn frames
    with a quad; a frame drawn twice counts twice."""
    lines = _gt_lines()
    shifts = {CA2: 4.0, TS1: 25.0}
    for line in lines:
        if line["id"] in shifts:
            line["quad"] = _shifted(line["quad"], shifts[str(line["id"])])
        elif line["id"] == HA1:
            line["quad"] = None
    request = _midv_request(midv, write_lines(tmp_path / "p" / "quads.jsonl", lines))
    result = _declared_and_reproducible(documents.evaluate_localisation, request)
    assert result.intervals is not None and result.intervals.unit == "frame" and result.intervals.n_units == 4
    frames = list(result.sample_scores)
    picks = draw(frames).picks
    score = {name: np.array([result.sample_scores[f][name] for f in frames]) for name in ("iou_template", "min_d")}
    bounds = result.intervals.bounds
    iou = score["iou_template"]
    assert len(set(iou.tolist())) == 4  # four different frames: the resamples are not trivial
    assert bounds["iou_template"] == _bounds(iou[picks].sum(axis=1) / 4.0)
    assert bounds["iou_template_correct"] == _bounds(100.0 * ((iou > 0.9 - 1e-10)[picks].sum(axis=1) / 4.0))
    with_quad = ~np.isnan(score["min_d"])
    with np.errstate(invalid="ignore"):  # 0 / 0 in a resample of the null frame alone: no min_d, left out
        min_d = np.where(with_quad, score["min_d"], 0.0)[picks].sum(axis=1) / with_quad[picks].sum(axis=1)
    assert np.isnan(min_d).any() and bounds["min_d"] == _bounds(min_d)
    assert bounds["iou_template_correct"][0] < bounds["iou_template_correct"][1]
    for metric in ("iou_template", "iou_image", "min_d"):
        values = [result.sample_scores[f][metric] for f in frames if not math.isnan(result.sample_scores[f][metric])]
        low, high = bounds[metric]
        assert min(values) <= low <= result.metrics[metric] <= high <= max(values), metric


def test_frames_without_any_quad_collapse_and_have_no_min_d(midv: Path, tmp_path: Path) -> None:
    lines = [{"id": line["id"], "quad": None} for line in _gt_lines()]
    request = _midv_request(midv, write_lines(tmp_path / "p" / "quads.jsonl", lines))
    result = _declared_and_reproducible(documents.evaluate_localisation, request)
    assert result.intervals is not None
    bounds = result.intervals.bounds
    assert {m: bounds[m] for m in ("iou_template", "iou_template_correct", "min_d_correct", "iou_image")} == {
        "iou_template": (0.0, 0.0),
        "iou_template_correct": (0.0, 0.0),
        "min_d_correct": (0.0, 0.0),
        "iou_image": (0.0, 0.0),
    }
    assert all(math.isnan(b) for b in bounds["min_d"]) and math.isnan(result.metrics["min_d"])


def test_field_intervals_pool_the_drawn_frames_pairs(midv: Path, tmp_path: Path) -> None:
    """The fields case of tests/test_midv_evaluate.py. Per frame (exact reads, summed NGLD, pairs, every field
    right): CA1 (2, 0, 2, yes), CA2 (1, 2/11, 2, no), TS1 (1, 1, 2, no), HA1 (1, 0, 1, yes): pairs are pooled, so
    a frame of two fields weighs twice a frame of one, and a frame drawn twice brings its pairs twice."""
    lines = [
        {"id": CA1, "fields": {"field01": "BOB O'NEIL", "field02": "aob12"}},
        {"id": CA2, "fields": {"field01": "Bob O'Neil", "field02": "A0B13"}},
        {"id": TS1, "fields": {"field01": "Bob O'Neil"}},
        {"id": HA1, "fields": {"field01": "12.03.1985"}},
    ]
    request = _midv_request(midv, write_lines(tmp_path / "fields.jsonl", lines), benchmark="midv500-fields")
    result = _declared_and_reproducible(documents.evaluate_fields, request)
    assert result.intervals is not None and result.intervals.unit == "frame"
    by_hand = {CA1: (2.0, 0.0, 2.0, 100.0), CA2: (1.0, 2 / 11, 2.0, 0.0), TS1: (1.0, 1.0, 2.0, 0.0)}
    by_hand[HA1] = (1.0, 0.0, 1.0, 100.0)
    exact, distance, pairs, correct = np.array([by_hand[f] for f in result.sample_scores]).T
    picks = draw(list(result.sample_scores)).picks
    bounds = result.intervals.bounds
    assert bounds["field_accuracy"] == _bounds(100.0 * (exact[picks].sum(axis=1) / pairs[picks].sum(axis=1)))
    assert bounds["field_nld"] == pytest.approx(_bounds(distance[picks].sum(axis=1) / pairs[picks].sum(axis=1)))
    assert bounds["document_accuracy"] == _bounds(correct[picks].sum(axis=1) / 4.0)
    for metric, (low, high) in bounds.items():
        assert low <= result.metrics[metric] <= high, metric


# --- image quality: scenes for PIQ23's per-scene medians, images for SPAQ's pooled correlations -------------------


def test_scene_intervals_take_each_drawn_scene_as_often_as_drawn(tmp_path: Path) -> None:
    """The four scenes of tests/test_piq23_evaluate.py: SRCC 0.8, -1, 0, 1 and MAE 0.5, 2, 1, 1. A resample's
    median is over its drawn scenes' statistics with repetitions: drawing Indoor_Scene_1 twice, Indoor_Scene_10 and
    Night_Scene_28 gives SRCC median (0 + 0.8) / 2 = 0.4, where merging the repeated scene would give 0."""
    root = tmp_path / "piq23"
    write_piq23_tree(root)
    request = _piq23_request(root, _piq23_predictions(tmp_path / "scores.csv"))
    result = _declared_and_reproducible(iqa.evaluate, request)
    assert result.intervals is not None and result.intervals.unit == "scene" and result.intervals.n_units == 4
    scene_of = {image.name: image.scene for image in fixture_images()}
    images = list(result.sample_scores)  # the partials' order, which numbers the scenes
    scenes = list(dict.fromkeys(scene_of[image] for image in images))
    draws = draw([scene_of[image] for image in images])
    per_scene = {m: np.array([result.breakdowns["scene"][s][m] for s in scenes]) for m in ("srcc", "mae")}
    assert sorted(per_scene["srcc"].tolist()) == pytest.approx([-1.0, 0.0, 0.8, 1.0])
    bounds = result.intervals.bounds
    for metric, values in per_scene.items():
        assert bounds[metric] == _bounds(np.median(values[draws.picks], axis=1)), metric
        assert min(values) <= bounds[metric][0] <= result.metrics[metric] <= bounds[metric][1] <= max(values)
    assert bounds["srcc_mean"] == _bounds(per_scene["srcc"][draws.picks].mean(axis=1))
    merged = np.array([np.median(per_scene["srcc"][np.unique(row)]) for row in draws.picks])
    assert bounds["srcc"] != _bounds(merged)
    # *_global: the drawn scenes' images as one list, each scene's images as often as it is drawn (0 by the rule
    # where they are all Night_Scene_28's constant predictions)
    score = np.array([result.sample_scores[image]["score"] for image in images])
    jod = np.array([result.sample_scores[image]["jod"] for image in images])
    drawn = [draws.partials(r) for r in range(draws.n_resamples)]
    pooled = [iqa.global_correlations(score[rows], jod[rows])["srcc"] for rows in drawn]
    assert bounds["srcc_global"] == _bounds(np.array(pooled))


def test_scene_aggregates_count_repeats_and_leave_out_undefined_scenes() -> None:
    """Scene 0: SRCC 0.2, scene 1: 0.6, scene 2: undefined (NaN, e.g. one scored image). Drawing 0, 0, 1 gives the
    median 0.2 (0.4 if the repeat were merged); 2, 2, 1 leaves 0.6 alone; 2, 2, 2 has no defined value."""
    nan = math.nan
    stats = iqa.SceneStatistics(
        ["a", "b", "c"],
        np.array([4, 4, 1]),
        np.array([0.2, 0.6, nan]),
        np.array([0.1, 0.5, nan]),
        np.array([0.0, 0.3, nan]),
        np.array([1.0, 2.0, 4.0]),
        np.zeros(3, dtype=bool),
    )
    figures = iqa.scene_aggregates(stats, np.array([[0, 0, 1], [2, 2, 1], [2, 2, 2], [0, 1, 1]]))
    np.testing.assert_array_equal(figures["srcc"], [0.2, 0.6, nan, 0.6])
    np.testing.assert_allclose(figures["srcc_mean"], [1.0 / 3.0, 0.6, nan, 1.4 / 3.0], rtol=1e-15)
    np.testing.assert_array_equal(figures["mae"], [1.0, 4.0, 4.0, 2.0])


def test_image_intervals_pool_the_drawn_images(tmp_path: Path, spaq: Path) -> None:
    """SPAQ: SRCC, PLCC and KRCC over the drawn images, duplicates included (scipy, as the reduce)."""
    mos = {label.image: label.mos for label in SPAQ(spaq, "test", "image").labels()}
    noisy = {image: value + 10.0 * math.sin(k) for k, (image, value) in enumerate(mos.items())}
    request = make_request(get_benchmark("spaq"), spaq, _spaq_predictions(tmp_path / "p.csv", noisy), "test", "image")
    result = _declared_and_reproducible(iqa.evaluate, request)
    assert result.intervals is not None and result.intervals.unit == "image" and result.intervals.n_units == len(mos)
    images = list(result.sample_scores)
    score, truth = np.array([noisy[i] for i in images]), np.array([mos[i] for i in images])
    picks = draw(images).picks
    kendall = [scipy.stats.kendalltau(score[row], truth[row]).statistic for row in picks]
    assert result.intervals.bounds["krcc"] == _bounds(np.array(kendall))
    for metric, (low, high) in result.intervals.bounds.items():
        assert low < result.metrics[metric] < high, metric


@pytest.mark.parametrize(("value", "expected"), [(lambda m: 0.02 * m - 1, 1.0), (lambda m: 50.0, 0.0)])
def test_image_intervals_collapse_for_affine_and_constant_predictions(
    tmp_path: Path, spaq: Path, value: Callable[[float], float], expected: float
) -> None:
    """An affine map of MOS ranks and correlates perfectly in every resample (a duplicated image ties in both
    lists); constant predictions are 0 by mobench's rule in every resample."""
    mos = {label.image: label.mos for label in SPAQ(spaq, "test", "image").labels()}
    predictions = _spaq_predictions(tmp_path / "p.csv", {image: value(m) for image, m in mos.items()})
    result = iqa.evaluate(make_request(get_benchmark("spaq"), spaq, predictions, "test", "image"))
    assert result.intervals is not None
    for low, high in result.intervals.bounds.values():
        assert low == pytest.approx(expected, abs=1e-12) and high == pytest.approx(expected, abs=1e-12)


@pytest.fixture(scope="module")
def spaq(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("spaq") / "SPAQ"
    build_spaq(root, seed=0)
    return root


def _spaq_predictions(path: Path, scores: dict[str, float]) -> Path:
    return write_predictions(path, [(image, repr(value)) for image, value in scores.items()])


# --- every registered benchmark ------------------------------------------------------------------------------------


def _official_unit(spec: BenchmarkSpec) -> str:
    """The unit issue #24 names for each family's official pooling (image quality: per its spec's pooling)."""
    if spec.family == "image-quality":
        return {"per-scene-median": "scene", "all-images": "image"}[spec.options_as(ImageQualityOptions).pooling]
    families = {"optical-flow": "image", "document-analysis": "frame", "health-sensing": "participant"}
    return (families | {"multiple-choice": "question"})[spec.family]


def test_every_benchmark_has_an_interval_for_every_declared_metric(demo: DemoSummary) -> None:
    """The demo's published submissions, one per benchmark it scores: every declared metric has bounds, finite
    and ordered wherever the metric itself is finite, over the unit its family's protocol pools."""
    store = Store(demo.db_path)
    chosen: dict[str, str] = {}
    for row in store.list_submissions():
        if row["status"] == "published":
            chosen.setdefault(row["benchmark_id"], row["id"])
    assert {spec.family for spec in all_benchmarks()} <= {get_benchmark(b).family for b in chosen}
    for submission_id in chosen.values():
        found = store.find_submission(submission_id)
        assert found is not None
        request = prepare_request(store, found)
        result = score(request)
        assert result.intervals is not None, request.spec.id
        assert list(result.intervals.bounds) == [m.name for m in request.spec.metrics], request.spec.id
        assert result.intervals.unit == _official_unit(request.spec), request.spec.id
        for metric, value in result.metrics.items():
            low, high = result.intervals.bounds[metric]
            if math.isfinite(value):
                assert math.isfinite(low) and low <= high, (request.spec.id, metric, value, low, high)
