"""The leaderboard once in a real browser: Debian's headless Chromium driven by Playwright.

Streamlit renders over a websocket after the load event, so every step waits for the app's own elements. The
screenshots are kept in `test-artifacts/` at the repository root (ignored by git) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hub.cli.demo import DemoSummary
from tests.fixtures.declared import declare

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("MOBENCH_REQUIRE_BROWSER"):
            pytest.fail("MOBENCH_REQUIRE_BROWSER is set but no chromium is installed")
        pytest.skip("chromium is not installed (CI installs it: apt-get install chromium)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on port {port} after {timeout_s} s") from None
            time.sleep(0.3)


@pytest.fixture
def served(demo: DemoSummary) -> Iterator[str]:
    """`mobench serve` on the demo's store, on a free loopback port; yields the base URL."""
    with _serve(demo.db_path) as url:
        yield url


@pytest.fixture
def served_declared(demo_db: Path) -> Iterator[str]:
    """`mobench serve` on a copy of the demo's store where one Sintel run declares overlap with the scored data."""
    declare(demo_db, "sintel-final", "opencv-farneback", ["FlyingChairs", "sintel:training"])
    with _serve(demo_db) as url:
        yield url


@contextmanager
def _serve(db: Path) -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "hub.cli.app", "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for_port(port, 60)
        yield f"http://127.0.0.1:{port}/"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_benchmark_page_renders_and_a_filter_click_changes_it(served: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    chromium = _chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 2600})
            page.goto(served + "?page=benchmark&benchmark=sintel-final", timeout=60_000)
            expect(page.get_by_role("heading", name="MPI-Sintel optical flow, final pass")).to_be_visible(
                timeout=60_000
            )
            expect(page.get_by_text("SYNTHETIC demo data").first).to_be_visible()
            grid = page.get_by_test_id("stDataFrame").first
            expect(grid).to_contain_text("opencv-dis-medium", timeout=30_000)
            expect(grid).to_contain_text("opencv-farneback")
            # the 95 % intervals: the rank interval and ≈ columns, each metric's ± text, what they mean
            expect(grid).to_contain_text("rank interval")
            expect(grid).to_contain_text("≈ next")
            expect(grid).to_contain_text("epe ±")
            expect(grid).to_contain_text(" ± ")
            expect(page.get_by_text("cannot tell this row from those ranked 2 to 5").first).to_be_visible()
            expect(page.get_by_text("Quality against cost")).to_be_visible()
            page.wait_for_timeout(1500)  # let the charts finish drawing
            page.screenshot(path=str(ARTIFACTS / "leaderboard-benchmark.png"), full_page=True)

            page.get_by_text("Show synthetic (demo) results").click()
            expect(page.get_by_text("No scored submission matches these filters.")).to_be_visible(timeout=30_000)
            expect(page.get_by_test_id("stDataFrame").first).not_to_contain_text("opencv-dis-medium")
            page.screenshot(path=str(ARTIFACTS / "leaderboard-filtered.png"), full_page=True)
        finally:
            browser.close()
    assert (ARTIFACTS / "leaderboard-benchmark.png").stat().st_size > 20_000


def test_the_training_data_toggle_and_filter_in_a_browser(served_declared: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    chromium = _chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 2600})
            page.goto(served_declared + "?page=benchmark&benchmark=sintel-final", timeout=60_000)
            grid = page.get_by_test_id("stDataFrame").first
            expect(grid).to_contain_text("declared test overlap", timeout=60_000)
            expect(grid).to_contain_text("zero-shot")
            expect(grid).to_contain_text("training data")  # the column's header
            page.screenshot(path=str(ARTIFACTS / "leaderboard-training-data.png"), full_page=True)

            page.get_by_text("Hide declared test overlap").click()
            grid = page.get_by_test_id("stDataFrame").first
            expect(grid).not_to_contain_text("opencv-farneback", timeout=30_000)
            expect(grid).to_contain_text("opencv-dis-medium")
            page.get_by_text("Hide declared test overlap").click()
            expect(page.get_by_test_id("stDataFrame").first).to_contain_text("opencv-farneback", timeout=30_000)

            page.get_by_test_id("stMultiSelect").filter(has_text="Training data").click()
            page.get_by_role("option", name="declared test overlap").click()
            page.keyboard.press("Escape")
            grid = page.get_by_test_id("stDataFrame").first
            expect(grid).not_to_contain_text("opencv-dis-medium", timeout=30_000)
            expect(grid).to_contain_text("opencv-farneback")
            page.screenshot(path=str(ARTIFACTS / "leaderboard-training-filtered.png"), full_page=True)
        finally:
            browser.close()
