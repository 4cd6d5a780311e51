"""A health task added as one YAML entry and no Python (#23 item 6): PMData soreness, end to end.

`pmdata-soreness` in `hub/benchmarks/health.yaml` predicts a wellness item Health-LLM never predicts, in prompt words
its spec declares (a mobench addition). It loads on the synthetic release and on the real p01 in place, a baseline
scores it in the demo, it exports and loads back offline, its leaderboard page renders; and what let it in is the
framework, not code that knows it: no project module names it, and a spec for yet another item, made here, runs too.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import datasets
import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from evaluators.health import evaluate
from hub.cli.demo import DemoSummary
from hub.core.errors import DatasetLayoutError, MobenchError
from hub.core.registry import BenchmarkSpec, HealthTask, all_benchmarks, get_benchmark
from hub.export import export_benchmark
from hub.scoring.wiring import make_loader, make_request
from loaders.health.lifesnaps import LifeSnapsTask
from loaders.health.pmdata import PMDataTask
from loaders.health.pmdata_release import WELLNESS_COLUMNS
from loaders.health.windows import HEALTHLLM_PMDATA_PROMPT
from loaders.synthetic.health import build_pmdata
from submissions.baselines.health import PMDATA_BASELINES
from tests.fixtures.health import pmdata_spec
from tests.fixtures.realdata import real_file
from tests.test_registry import SOURCE_PACKAGES, _string_literals

ITEM = "soreness"
APP = str(Path(__file__).resolve().parent.parent / "leaderboard" / "app.py")


def _spec() -> BenchmarkSpec:
    return pmdata_spec(ITEM)


def _variant(metrics: list[str] | None = None, **task: Any) -> BenchmarkSpec:
    """The soreness spec with its task (and metrics) changed: a spec no YAML declares."""
    raw = _spec().model_dump()
    kept = [m for m in raw["metrics"] if metrics is None or m["name"] in metrics]
    changed = {"id": "pmdata-variant", "metrics": kept, "task": {**raw["task"], **task}}
    return BenchmarkSpec.model_validate({**raw, **changed})


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pmdata") / "mini"
    build_pmdata(root)
    return root


def test_the_entry_declares_a_mobench_prompt_on_a_new_item() -> None:
    spec = _spec()
    task = spec.task_as(HealthTask)
    assert (task.dataset, task.label, task.low, task.high, task.lm_eval_task) == ("pmdata", "ordinal", 1, 5, None)
    # declared in the spec (Health-LLM has none for soreness); the words chosen are its template's, so a model sees
    # the four Health-LLM tasks' input block
    assert task.prompt == HEALTHLLM_PMDATA_PROMPT
    assert "mobench addition" in spec.title and spec.description.startswith("A mobench addition, not a Health-LLM")


def test_it_loads_on_the_synthetic_release_with_the_declared_words(mini: Path) -> None:
    spec = _spec()
    rows = list(make_loader(spec, mini, "test", "all"))
    stress = {row["id"]: row for row in make_loader(get_benchmark("pmdata-stress"), mini, "test", "all")}
    labels: dict[str, str] = {}
    for participant in mini.iterdir():
        if participant.is_dir():
            with (participant / "pmsys" / "wellness.csv").open(encoding="utf-8", newline="") as handle:
                for r in csv.DictReader(handle):
                    labels[f"pmdata/{participant.name}/{r['effective_time_frame']}"] = r[ITEM]
    assert len(rows) > 100 and {row["task"] for row in rows} == {spec.id}
    inputs = ("participant", "report_time_utc", "steps", "calories", "resting_hr", "sleep_minutes", "mood")
    for row in rows:
        assert row["label_text"] == labels[row["id"]] and 1 <= row["label"] <= 5
        # the windows and their inputs are the Health-LLM tasks' (the blank submission has none in either)
        assert {k: row[k] for k in inputs} == {k: stress[row["id"]][k] for k in inputs}
        assert row["instruction"] == (
            "You are a personalized healthcare agent trained to predict soreness which ranges from 1 to 5 based on "
            "physiological data and user information."
        )
        assert row["question"] == stress[row["id"]]["question"].replace("predicted stress?", "predicted soreness?")
        assert row["answer"] == f"The predicted soreness level is {row['label_text']}."
    assert set(Counter(row["label"] for row in rows)) == {1.0, 2.0, 3.0, 4.0}


def test_it_loads_the_real_p01_in_place() -> None:
    root = real_file("releases/pmdata/p01").parent  # p01 (complete), p03 (steps only), p12 (no RHR)
    with real_file("releases/pmdata/p01/pmsys/wellness.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == WELLNESS_COLUMNS  # the synthetic builder writes this header
        wellness = {row["effective_time_frame"]: row for row in reader}
    loader = PMDataTask(root, "test", "all", benchmark=_spec())
    rows = list(loader)
    # the 137 reports after p01's first (nothing in the 14 days before it), as for Health-LLM's four items
    assert len(rows) == 137 and rows[0]["id"] == "pmdata/p01/2019-11-02T10:00:01.229Z"
    for row in rows:
        assert row["label_text"] == wellness[row["effective_time_frame"]][ITEM]
    # pandas on p01's wellness.csv: soreness 1 x2, 2 x59, 3 x77; the first report (a 2) has no window
    assert Counter(int(row["label"]) for row in rows) == {1: 2, 2: 58, 3: 77}
    assert sum(loader.report.dropped_windows.values()) == 1 + 83  # p01's first report, p12's 83 (no RHR file)
    healthllm = [len(PMDataTask(root, split, "healthllm", benchmark=_spec())) for split in ("train", "test")]
    assert healthllm == [68, 69]


def test_the_baselines_predict_it_and_it_scores(mini: Path, tmp_path: Path) -> None:
    spec = _spec()
    loader = make_loader(spec, mini, "test", "participant")
    for baseline in PMDATA_BASELINES:
        folder = tmp_path / baseline.name
        baseline.run(spec, loader, folder)
        result = evaluate(make_request(spec, mini, folder))
        assert result.n_samples == len(loader) and 0 <= result.metrics["mae"] <= 4, baseline.name


def test_a_baseline_scores_it_in_the_demo(demo: DemoSummary) -> None:
    with duckdb.connect(str(demo.db_path), read_only=True) as con:
        rows = con.execute(
            "SELECT m.name, s.status, c.value FROM submissions s JOIN models m ON m.id = s.model_id "
            "JOIN scores c ON c.submission_id = s.id "
            "WHERE s.benchmark_id = ? AND c.metric = 'mae' AND c.breakdown = ''",
            [_spec().id],
        ).fetchall()
    assert {name for name, _, _ in rows} == {b.name for b in PMDATA_BASELINES}
    assert all(status == "published" and 0 <= mae <= 4 for _, status, mae in rows)


def test_its_leaderboard_page_renders(demo: DemoSummary, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOBENCH_DB", str(demo.db_path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["page"], at.query_params["benchmark"] = "benchmark", _spec().id
    at.run()
    assert not at.exception, at.exception
    assert at.header[0].value == _spec().title
    ranking = next(e.value for e in at.dataframe if {"rank", "model", "mae"} <= set(e.value.columns))
    assert set(ranking["model"]) == {b.name for b in PMDATA_BASELINES} and ranking["mae"].is_monotonic_increasing


def test_it_exports_and_loads_back_offline(mini: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _spec()
    export_benchmark(spec, mini, tmp_path / "export", configs=["participant"])
    card = (tmp_path / "export" / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in card and "mobench addition" in card
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
    for split in ("test", "train"):
        loaded = datasets.load_dataset(
            str(tmp_path / "export"), "participant", split=split, cache_dir=str(tmp_path / f"hf-{split}")
        )
        assert loaded.to_list() == list(make_loader(spec, mini, split, "participant"))


def test_no_project_python_knows_the_task() -> None:
    """Only the release's reader and the synthetic release's writer hold `soreness` as a string, as they hold every
    column of wellness.csv; nothing names the benchmark (tests/test_registry.py checks every id)."""
    root = Path(__file__).resolve().parent.parent
    naming = {
        str(path.relative_to(root))
        for package in SOURCE_PACKAGES
        for path in (root / package).rglob("*.py")
        for _, value in _string_literals(path)
        if value == ITEM or _spec().id in value
    }
    assert naming == {"loaders/health/pmdata_release.py", "loaders/synthetic/health.py"}


def test_any_numeric_wellness_item_is_a_spec_away(mini: Path, tmp_path: Path) -> None:
    """A task no YAML declares (sleep hours, a number on 0-24 h) runs from its spec alone: windows, baseline, score."""
    numeric = ["mae", "rmse", "no_answer_rate"]  # a regression target has no accuracy
    spec = _variant(numeric, subtask="sleep_duration_h", label="regression", low=0, high=24)
    rows = list(make_loader(spec, mini, "test", "all"))
    assert rows and rows[0]["question"].endswith("What would be the predicted sleep_duration_h?")
    loader = make_loader(spec, mini, "test", "participant")
    PMDATA_BASELINES[-1].run(spec, loader, tmp_path / "ridge")
    assert evaluate(make_request(spec, mini, tmp_path / "ridge")).n_samples == len(loader)


def test_what_the_framework_refuses(mini: Path) -> None:
    with pytest.raises(DatasetLayoutError, match="mood is an input of every window"):
        make_loader(_variant(subtask="mood"), mini, "test", "all")
    with pytest.raises(DatasetLayoutError, match="PMData items: fatigue, readiness, sleep_duration_h"):
        make_loader(_variant(subtask="soreness_area"), mini, "test", "all")
    # an item Health-LLM never predicts needs the spec's words: Health-LLM's are not presented as its prompt for it
    with pytest.raises(MobenchError, match="Health-LLM has no PMData prompt for 'soreness'"):
        make_loader(_variant(prompt=None), mini, "test", "all")
    prompt = _spec().task_as(HealthTask).prompt
    assert prompt is not None
    for answer, problem in (
        ("level {label} of {high}", r"names 'high'; it may name label, task"),
        ("{}", "names ''"),
        ("{label:d}", "Unknown format code 'd'"),
    ):
        with pytest.raises(MobenchError, match=rf"pmdata-variant: task.prompt.answer .*{problem}"):
            make_loader(_variant(prompt={**prompt.model_dump(), "answer": answer}), mini, "test", "all")


def test_lifesnaps_keeps_health_llms_words(tmp_path: Path) -> None:
    raw = next(s for s in all_benchmarks() if s.loader_options.get("task") == "sleep_disorder").model_dump()
    raw["task"]["prompt"] = _spec().task_as(HealthTask).model_dump()["prompt"]
    with pytest.raises(DatasetLayoutError, match=r"declares a task\.prompt; its tasks use Health-LLM's"):
        LifeSnapsTask(tmp_path, task="sleep_disorder", benchmark=BenchmarkSpec.model_validate(raw))
