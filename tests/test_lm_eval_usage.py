"""`mobench lm-eval-tasks`: the commands it prints name tasks that exist and the export they read."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from hub.cli.app import app
from hub.core.errors import MobenchError
from loaders.lm_tasks.commands import include_path, usage


@pytest.mark.parametrize(
    ("benchmark", "task", "data_key"),
    [("mobile-mmlu", "mobile_mmlu_perm", "mobile_mmlu_data"), ("pmdata-stress", "pmdata_stress", "pmdata_stress_data")],
)
def test_usage_names_the_shipped_task_and_its_export(benchmark: str, task: str, data_key: str) -> None:
    from lm_eval.tasks import TaskManager

    text = usage(benchmark, "/exports/x")
    assert f"--include_path {include_path()}" in text and f'"{data_key}": "/exports/x"' in text
    assert task in text and task in TaskManager(include_path=str(include_path())).all_tasks
    assert f"mobench evaluate {benchmark}" in text


def test_benchmarks_without_lm_eval_tasks_say_which_have_them() -> None:
    with pytest.raises(MobenchError, match=r"no lm-eval tasks for sintel-clean.*pmdata-stress"):
        usage("sintel-clean")
    result = CliRunner().invoke(app, ["lm-eval-tasks", "--path-only"])
    assert result.output.strip() == str(include_path())
