"""The Streamlit leaderboard, driven by streamlit's AppTest against the demo's store, and once in real Chromium."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from hub.cli.demo import DemoSummary
from tests.browser import free_port, render, wait_for_port

APP = str(Path(__file__).resolve().parent.parent / "leaderboard" / "app.py")


def _app(db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("MOBENCH_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def test_leaderboard_ranks_the_demo_baselines(demo: DemoSummary, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(demo.db_path, monkeypatch)
    benchmark = at.sidebar.selectbox[0]
    assert "kitti-2015-flow" in benchmark.options[0] or "kitti-2015-flow" in str(benchmark.value)
    ranking = at.dataframe[0].value
    assert set(ranking["model"]) == {"opencv-dis-medium", "opencv-farneback"}
    assert list(ranking["rank"]) == [1, 2]
    assert any("SYNTHETIC" in w.value for w in at.warning)
    measurements = at.dataframe[-1].value  # the chosen submission's measurement records, with their flags
    assert {"peak_memory", "latency"} <= set(measurements["metric"])
    assert measurements["flags"].str.contains("rss_peak_is_whole_process_lifetime").all()


def test_leaderboard_shows_a_submissions_scene_breakdown(demo: DemoSummary, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(demo.db_path, monkeypatch)
    at.sidebar.selectbox[0].select("sintel-final").run()
    assert not at.exception
    assert any("Per scene" in m.value for m in at.markdown)
    scenes = at.dataframe[1].value
    assert "scene" in scenes.columns and "epe" in scenes.columns and len(scenes) >= 2
    at.sidebar.selectbox[1].select(at.sidebar.selectbox[1].options[1]).run()  # one device only
    assert len(at.dataframe[0].value) == 2


def test_empty_store_explains_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.store import Store

    Store(tmp_path / "empty.duckdb").init()
    at = _app(tmp_path / "empty.duckdb", monkeypatch)
    assert any("mobench demo" in i.value for i in at.info)


def test_leaderboard_renders_in_headless_chromium(demo: DemoSummary, tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("MOBENCH_REQUIRE_BROWSER"):
            pytest.fail("MOBENCH_REQUIRE_BROWSER is set but no chromium is installed")
        pytest.skip("chromium is not installed (CI installs it: apt-get install chromium)")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "hub.cli.app", "serve", "--port", str(port)],
        env={**os.environ, "MOBENCH_DB": str(demo.db_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port, 60)
        shot = tmp_path / "leaderboard.png"
        url = f"http://127.0.0.1:{port}/"
        text, html = render(chromium, url, tmp_path / "profile", shot, wait_for="Submission details")
        assert "mobench leaderboard" in text and "Quality against latency" in text
        assert "opencv-dis-medium" in html
        assert "SYNTHETIC demo data" in text
        assert shot.stat().st_size > 20_000
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_a_link_with_benchmark_selects_it(demo: DemoSummary, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOBENCH_DB", str(demo.db_path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["benchmark"] = "sintel-clean"
    at.run()
    assert not at.exception
    assert at.sidebar.selectbox[0].value == "sintel-clean"
    assert any(h.value == "MPI-Sintel optical flow, clean pass" for h in at.header)
