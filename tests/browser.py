"""A minimal Chrome DevTools Protocol client: headless Chromium loads a page, we wait until its live content
(Streamlit renders over a websocket after the load event) shows some text, then read it and take a screenshot."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from websockets.sync.client import connect


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on port {port} after {timeout_s} s") from None
            time.sleep(0.3)


def render(
    chromium: str, url: str, profile: Path, screenshot: Path, wait_for: str, timeout_s: float = 60
) -> tuple[str, str]:
    """Open `url`, wait until the page's text contains `wait_for`, save a PNG screenshot; returns the page text and
    its HTML (widget values such as a selectbox's choice live in attributes, not in the text)."""
    port = free_port()
    browser = subprocess.Popen(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--window-size=1400,1800",
            f"--remote-debugging-port={port}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, 30)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            pages = [t for t in json.load(response) if t.get("type") == "page"]
        with connect(pages[0]["webSocketDebuggerUrl"], max_size=None) as ws:
            counter = iter(range(1, 1_000_000))

            def call(method: str, **params: Any) -> dict[str, Any]:
                message_id = next(counter)
                ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
                while True:
                    reply = json.loads(ws.recv(timeout=30))
                    if reply.get("id") == message_id:
                        if "error" in reply:
                            raise RuntimeError(f"{method}: {reply['error']}")
                        result: dict[str, Any] = reply["result"]
                        return result

            call("Page.navigate", url=url)
            deadline = time.monotonic() + timeout_s
            text = ""
            while wait_for not in text:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{wait_for!r} did not appear in {url}; the page shows: {text[:500]!r}")
                time.sleep(0.5)
                evaluated = call("Runtime.evaluate", expression="document.body ? document.body.innerText : ''")
                text = str(evaluated["result"].get("value", ""))
            time.sleep(1.0)  # let charts finish drawing before the screenshot
            shot = call("Page.captureScreenshot", format="png")
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            html = call("Runtime.evaluate", expression="document.documentElement.outerHTML")
            return text, str(html["result"].get("value", ""))
    finally:
        browser.terminate()
        browser.wait(timeout=30)
