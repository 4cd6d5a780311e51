"""`mobench serve` finds the store to show by itself, or says exactly what to pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.cli.app import store_to_serve
from hub.cli.demo import DemoSummary
from hub.core.errors import MobenchError
from hub.core.paths import remember_demo_store
from hub.core.registry import get_benchmark
from hub.store import Store


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MOBENCH_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_without_any_store_it_says_what_to_run(home: Path) -> None:
    with pytest.raises(MobenchError, match=r"no benchmark is registered in .*mobench.duckdb .*run `mobench demo`"):
        store_to_serve(None)


def test_after_a_demo_it_serves_the_demo_store(
    home: Path, demo: DemoSummary, capsys: pytest.CaptureFixture[str]
) -> None:
    remember_demo_store(demo.db_path)
    assert store_to_serve(None) == str(demo.db_path.resolve())
    assert "serving the last demo's store" in capsys.readouterr().out


def test_the_hubs_own_store_wins_once_it_has_a_benchmark(home: Path, demo: DemoSummary) -> None:
    remember_demo_store(demo.db_path)
    hub = Store(home / "mobench.duckdb")
    hub.init()
    hub.benchmarks.register(get_benchmark("sintel-final"), None, synthetic=False)
    assert store_to_serve(None) == str(hub.path)


def test_a_named_store_must_exist(home: Path, tmp_path: Path) -> None:
    with pytest.raises(MobenchError, match=r"no mobench store at .*nothing\.duckdb"):
        store_to_serve(tmp_path / "nothing.duckdb")
