from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from hub.cli.demo import DemoSummary, run_demo


@pytest.fixture(scope="session", autouse=True)
def _private_mobench_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test reads or writes the user's own mobench folder (store, demo pointer)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOBENCH_HOME", str(tmp_path_factory.mktemp("mobench-home")))
        patch.delenv("MOBENCH_DB", raising=False)
        yield


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    """One run of the whole demo (synthetic data, baselines, intake, worker) shared by the end-to-end tests."""
    return run_demo(tmp_path_factory.mktemp("demo") / "work", console=Console(quiet=True))


@pytest.fixture
def demo_db(demo: DemoSummary, tmp_path: Path) -> Path:
    """A private copy of the demo database, for tests that write to it."""
    copy = tmp_path / "mobench.duckdb"
    shutil.copyfile(demo.db_path, copy)
    return copy
