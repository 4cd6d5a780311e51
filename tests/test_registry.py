from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from hub.cli.app import app
from hub.core.errors import UnknownBenchmarkError
from hub.core.registry import BenchmarkSpec, all_benchmarks, get_benchmark, unavailable_benchmarks
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
