from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from hub.cli.app import app
from hub.core.errors import MobenchError, UnknownBenchmarkError
from hub.core.registry import (
    BenchmarkSpec,
    HealthTask,
    MultipleChoiceTask,
    all_benchmarks,
    get_benchmark,
    unavailable_benchmarks,
)
from hub.scoring.wiring import resolve


def test_flow_benchmarks_are_registered_with_their_primary_metrics() -> None:
    ids = {s.id for s in all_benchmarks()}
    assert {"kitti-2015-flow", "sintel-clean", "sintel-final"} <= ids
    kitti = get_benchmark("kitti-2015-flow")
    assert kitti.primary_metric == "fl_all" and not kitti.primary.higher_is_better
    assert kitti.config().split("testing").labels == "none"
    assert get_benchmark("sintel-final").loader_options == {"pass_name": "final"}


def test_every_spec_points_at_importable_code() -> None:
    for spec in all_benchmarks():
        assert callable(resolve(spec.loader)), spec.id
        assert callable(resolve(spec.evaluator)), spec.id
        if spec.synthetic_builder:
            assert callable(resolve(spec.synthetic_builder)), spec.id


def test_unknown_benchmark_lists_known_ids() -> None:
    with pytest.raises(UnknownBenchmarkError, match="kitti-2015-flow"):
        get_benchmark("kitti-2016")


def test_unknown_split_and_config_are_named() -> None:
    spec = get_benchmark("sintel-clean")
    with pytest.raises(UnknownBenchmarkError, match="known splits: training, test"):
        spec.config().split("val")
    with pytest.raises(UnknownBenchmarkError, match="known configs: default"):
        spec.config("scene")


def test_spec_validation_rejects_a_primary_metric_it_does_not_report() -> None:
    raw = get_benchmark("sintel-clean").model_dump()
    raw["primary_metric"] = "f1"
    with pytest.raises(ValidationError, match="primary_metric"):
        BenchmarkSpec.model_validate(raw)
    raw = get_benchmark("sintel-clean").model_dump()
    raw["surprise"] = 1
    with pytest.raises(ValidationError, match="surprise"):
        BenchmarkSpec.model_validate(raw)


def test_unavailable_benchmarks_are_listed_with_their_reason_and_never_loaded() -> None:
    assert "fedmobile-ili" in unavailable_benchmarks()
    with pytest.raises(UnknownBenchmarkError, match="not available: The mobile-sensing dataset"):
        get_benchmark("fedmobile-ili")
    listed = CliRunner().invoke(app, ["benchmarks", "--json"])
    entries = {e["id"]: e for e in json.loads(listed.output)}
    assert entries["fedmobile-ili"]["available"] is False and entries["kitti-2015-flow"]["available"] is True


SOURCE_PACKAGES = ("hub", "loaders", "evaluators", "submissions", "leaderboard")


def _string_literals(path: Path) -> Iterator[tuple[int, str]]:
    """(line, value) of every string literal of a module: constants, docstrings and the literal parts of f-strings."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def test_no_benchmark_id_or_spec_path_is_written_in_python_outside_the_specs() -> None:
    """Everything per benchmark lives in hub/benchmarks/*.yaml: no module under the five packages holds a string
    literal that is a benchmark id, or one that contains a spec's loader, evaluator, labels reader, baselines or
    models path (tests are exempt). A module that needs a benchmark finds it through its spec's fields."""
    specs = all_benchmarks()
    ids = {s.id for s in specs} | set(unavailable_benchmarks())
    paths = {p for s in specs for p in (s.loader, s.evaluator, s.labels_reader, s.baselines, s.models) if p}
    root = Path(__file__).resolve().parent.parent
    found = []
    for package in SOURCE_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            for line, value in _string_literals(path):
                where = f"{path.relative_to(root)}:{line}"
                if value in ids:
                    found.append(f"{where}: benchmark id {value!r}")
                found += [f"{where}: spec path {p}" for p in sorted(paths) if p in value]
    assert not found, "benchmarks named outside hub/benchmarks/*.yaml:\n" + "\n".join(found)


def test_family_is_a_closed_set_and_the_task_is_typed() -> None:
    raw = get_benchmark("pmdata-stress").model_dump()
    with pytest.raises(ValidationError, match="family"):
        BenchmarkSpec.model_validate({**raw, "family": "health"})
    with pytest.raises(ValidationError, match="low 5 is not below high 1"):
        BenchmarkSpec.model_validate({**raw, "task": {**raw["task"], "low": 5, "high": 1}})
    with pytest.raises(ValidationError, match="type"):
        BenchmarkSpec.model_validate({**raw, "task": {**raw["task"], "type": "regression"}})
    assert {u.family for u in unavailable_benchmarks().values()} <= {s.family for s in all_benchmarks()}


def test_what_the_python_side_reads_of_each_spec() -> None:
    from evaluators.readers.flow import CODECS
    from evaluators.readers.mobile_mmlu_tasks import registered_task

    for spec in all_benchmarks():
        if spec.prediction_files is not None:
            assert spec.prediction_files.codec in CODECS, spec.id
        if isinstance(spec.task, MultipleChoiceTask):
            assert registered_task(spec.task.lm_eval_prefix) == spec.task, spec.id
    assert get_benchmark("pmdata-stress").task_as(HealthTask).lm_eval_task == "pmdata_stress"
    with pytest.raises(MobenchError, match="sintel-clean declares no task, where a HealthTask is needed"):
        get_benchmark("sintel-clean").task_as(HealthTask)
    # `mobench demo --with-models` runs SmolLM2 where a spec names it
    with_models = {s.id: tuple(m.name for m in resolve(s.models)) for s in all_benchmarks() if s.models}
    assert with_models == dict.fromkeys(("pmdata-stress", "mobile-mmlu", "mobile-mmlu-pro"), ("SmolLM2-135M-Instruct",))
