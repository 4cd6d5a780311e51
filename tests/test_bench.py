from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli.app import app
from hub.cli.bench import cases, get_case, run_case
from hub.core.errors import MobenchError


def test_every_case_runs_on_a_small_workload_and_both_sides_agree(tmp_path: Path) -> None:
    assert "store" in cases()
    for name, case in cases().items():
        report = run_case(case, tmp_path / name, size=max(1, case.default_size // 100), repeats=1)
        assert report.project_median_s > 0 and report.reference_median_s > 0
        doc = report.to_json()
        assert doc["case"] == name and doc["reference"]["name"] == case.reference_name
        assert len(doc["project"]["runs_s"]) == 1 and len(doc["reference"]["runs_s"]) == 1


def test_check_catches_sides_that_compute_different_things(tmp_path: Path) -> None:
    case = get_case("store")
    prepared = case.prepare(tmp_path, 3)
    with pytest.raises(AssertionError, match="row counts differ"):
        prepared.check(12, 11)


def test_cli_bench_json_and_unknown_case(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "store", "--size", "20", "--repeats", "1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["reference"]["name"].startswith("row-by-row") and report["speedup"] > 0
    with pytest.raises(MobenchError, match="known cases"):
        get_case("nope")
