"""Notifications (issue #24): every state change of a submission that names a `notify_url` is POSTed to it, signed
with its token's secret, retried with backoff, never delaying the worker, never to a non-HTTP(S) or (by default)
private URL, within a per-token cap.

The receivers are real HTTP servers on loopback (`Receiver`), so the hub's own `--notify-allow-private` switch is
on wherever they are the target; the submissions are the demo's Sintel baseline, scored by the real worker.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from hub.cli.demo import DemoSummary
from hub.core.errors import SubmissionError
from hub.store import Store, accounts
from hub.store.accounts import Token
from submissions import worker
from submissions.notify import Deliverer, DeliveryPolicy, post
from submissions.notify_url import UNSIGNED, Subscription, check_url
from submissions.queue import submit
from tests.fixtures.api_server import free_port, mobench_server, submission_zip

BASELINE = "sintel-clean--opencv-dis-medium"
STATES = ["queued", "validating", "scoring", "published"]
# fast retries for tests on loopback; the receivers are on loopback, so private targets are allowed
QUICK = DeliveryPolicy(timeout_s=2.0, backoff_s=0.2, max_attempts=50, poll_s=0.05, allow_private=True)


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class Receiver:
    """A webhook receiver on a loopback port: records every POST as it arrives, then waits `delay_s` and answers
    `status` (or, with `trickle_s`, sends its status line one byte every `trickle_s` seconds)."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[Received] = []
        self.delay_s = 0.0
        self.trickle_s = 0.0
        self.status = 200
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    receiver.received.append(Received({k: v for k, v in self.headers.items()}, body))
                time.sleep(receiver.delay_s)
                with suppress(OSError):  # the hub gave up waiting and closed the connection
                    if receiver.trickle_s:
                        for byte in b"HTTP/1.1 200 OK\r\n":
                            self.wfile.write(bytes([byte]))
                            time.sleep(receiver.trickle_s)
                        return
                    self.send_response(receiver.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test reads what arrived from `received`."""

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook?from=mobench"

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.event for r in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    up = Receiver()
    yield up
    up.close()


@dataclass(frozen=True)
class Hub:
    store: Store
    token: Token
    secret: str  # the token's API secret
    signing: str  # the token's notification secret
    runs: Path


@pytest.fixture
def hub(demo_db: Path, demo: DemoSummary) -> Hub:
    store = Store(demo_db)
    token, secret = accounts.create_token(store, "lab")
    signing = accounts.notify_secret(store, token.id)
    assert signing is not None and signing != secret
    return Hub(store, token, secret, signing, demo.db_path.parent / "baseline-runs")


def _folder(hub: Hub, tmp_path: Path, version: str, notify_url: str | None = None) -> Path:
    """The demo's Sintel baseline run as model `version` (new content), with `notify_url` in its manifest."""
    folder = tmp_path / version
    shutil.copytree(hub.runs / BASELINE, folder)
    manifest = yaml.safe_load((folder / "manifest.yaml").read_text())
    manifest["model"]["version"] = version
    if notify_url is not None:
        manifest["notify_url"] = notify_url
    (folder / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    return folder


def _submit(hub: Hub, tmp_path: Path, version: str, url: str) -> str:
    notify = Subscription(token_id=hub.token.id, allow_private=True)
    return submit(_folder(hub, tmp_path, version, url), hub.store, notify=notify).id


def _verify(secret: str, received: Received, *, tolerance_s: int = 300) -> bool:
    """What a receiver does (the README's recipe): HMAC-SHA256 of "<timestamp>.<raw body>", compared in constant
    time, and a timestamp no older than `tolerance_s`."""
    timestamp = received.headers["X-Mobench-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + received.body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(timestamp)) <= tolerance_s
    return fresh and hmac.compare_digest("sha256=" + expected, received.headers["X-Mobench-Signature"])


def _rows(store: Store, submission_id: str) -> list[dict[str, Any]]:
    with store.read() as con:
        cur = con.execute(
            """SELECT state, status, attempts, last_error, first_attempt_at, finished_at, body FROM notifications
               WHERE submission_id = ? ORDER BY sequence""",
            [submission_id],
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout_s} s: {what}"
        time.sleep(0.05)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hub.cli.app", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_each_state_change_reaches_the_receiver_signed_and_in_order(
    hub: Hub, receiver: Receiver, tmp_path: Path
) -> None:
    """The whole path on the command line: `mobench submit --token` on the hub's machine, `mobench worker --once`
    delivering in its background thread."""
    folder = _folder(hub, tmp_path, "notify-cli", receiver.url)
    db = str(hub.store.path)
    submitted = _cli("submit", str(folder), "--db", db, "--token", hub.secret, "--notify-allow-private")
    assert submitted.returncode == 0, submitted.stderr
    [row] = [r for r in hub.store.list_submissions() if r["model_version"] == "notify-cli"]
    worked = _cli("worker", "--db", db, "--once", "--notify-allow-private")
    assert worked.returncode == 0, worked.stderr
    assert "published" in worked.stdout

    events = receiver.events()
    assert [e["state"] for e in events] == STATES  # each once, in order
    assert [e["sequence"] for e in events] == [1, 2, 3, 4]
    assert {e["id"] for e in events} == {row["id"]} and {e["benchmark"] for e in events} == {"sintel-clean"}
    assert len({e["event"] for e in events}) == 4
    for received in receiver.received:
        assert _verify(hub.signing, received)
        assert received.headers["X-Mobench-Event"] == received.event["event"]
        assert received.headers["Content-Type"] == "application/json"
    # a receiver's check is not a formality: another body, another secret or an old timestamp fail it
    first = receiver.received[0]
    assert not _verify(hub.signing, Received(first.headers, first.body.replace(b"queued", b"publish")))
    assert not _verify(hub.secret, first)
    assert not _verify(hub.signing, first, tolerance_s=-1)
    # scores only once published, the aggregates the store holds
    with hub.store.read() as con:
        scores = dict(
            con.execute(
                "SELECT metric, value FROM scores WHERE submission_id = ? AND breakdown = ''", [row["id"]]
            ).fetchall()
        )
    assert [e["scores"] for e in events[:3]] == [None, None, None]
    # JSON has no NaN: a metric with nothing to average over (Sintel's s40_plus on tiny flows) is null
    assert events[3]["scores"] == {m: None if math.isnan(v) else v for m, v in scores.items()}
    assert scores["epe"] > 0 and None in events[3]["scores"].values()
    assert {e["reason"] for e in events} == {None}
    assert [r["status"] for r in _rows(hub.store, row["id"])] == ["delivered"] * 4
    # the URL is routing, not part of the published manifest (leaderboard, bundles)
    with hub.store.read() as con:
        manifest_json = con.execute("SELECT manifest_json FROM submissions WHERE id = ?", [row["id"]]).fetchone()
    assert manifest_json is not None and "notify_url" not in manifest_json[0] and "hook" not in manifest_json[0]


def test_a_rejection_is_notified_with_its_reason(hub: Hub, receiver: Receiver, tmp_path: Path) -> None:
    folder = _folder(hub, tmp_path, "notify-rejected", receiver.url)
    next(folder.glob("predictions/*/*.flo")).unlink()  # a missing sample: the submitter's fault
    submit(folder, hub.store, notify=Subscription(hub.token.id, allow_private=True))
    with Deliverer(hub.store, QUICK):
        done = worker.process_one(hub.store, worker_id="rejecting")
    assert done is not None and done.status == "rejected" and done.reason
    events = receiver.events()
    assert [e["state"] for e in events] == ["queued", "validating", "scoring", "rejected"]
    assert events[-1]["reason"] == done.reason and events[-1]["scores"] is None
    assert all(_verify(hub.signing, r) for r in receiver.received)


def test_a_receiver_that_is_down_gets_everything_once_it_comes_up(hub: Hub, tmp_path: Path) -> None:
    port = free_port()  # nothing listens there yet: connections are refused
    sid = _submit(hub, tmp_path, "notify-down", f"http://127.0.0.1:{port}/hook")
    with Deliverer(hub.store, QUICK):
        done = worker.process_one(hub.store, worker_id="down")
        assert done is not None and done.status == "published"  # scoring went on meanwhile
        _wait_for(lambda: _rows(hub.store, sid)[0]["attempts"] >= 3, 20, "three refused attempts")
        first = _rows(hub.store, sid)[0]
        assert first["status"] == "pending" and "ConnectionRefusedError" in first["last_error"]
        # in order: nothing later of this submission is tried while its first event waits
        assert [r["attempts"] for r in _rows(hub.store, sid)[1:]] == [0, 0, 0]
        up = Receiver(port)
        try:
            _wait_for(lambda: len(up.events()) == 4, 30, "the four events after the receiver came up")
        finally:
            up.close()
    assert [e["state"] for e in up.events()] == STATES
    rows = _rows(hub.store, sid)
    assert [r["status"] for r in rows] == ["delivered"] * 4 and rows[0]["attempts"] >= 4


def test_a_receiver_that_stays_down_is_given_up_after_backoff(hub: Hub, tmp_path: Path) -> None:
    """Four attempts, 0.2 s, then 0.4 s, then 0.8 s apart: given up after at least 1.4 s, with the last error."""
    sid = _submit(hub, tmp_path, "notify-gone", f"http://127.0.0.1:{free_port()}/hook")
    policy = DeliveryPolicy(timeout_s=1.0, backoff_s=0.2, max_attempts=4, poll_s=0.02, allow_private=True)
    assert [policy.backoff(n) for n in (1, 2, 3, 4)] == [0.2, 0.4, 0.8, 1.6]
    with Deliverer(hub.store, policy):
        _wait_for(lambda: _rows(hub.store, sid)[0]["status"] == "gave-up", 20, "giving up")
    [queued] = _rows(hub.store, sid)
    assert queued["attempts"] == 4 and queued["last_error"].startswith("attempt 4: ConnectionRefusedError")
    took = (queued["finished_at"] - queued["first_attempt_at"]).total_seconds()
    assert 1.4 <= took < 5.0, took


def test_a_slow_receiver_never_delays_scoring(hub: Hub, receiver: Receiver, tmp_path: Path) -> None:
    """The receiver sleeps 10 s on every request while the worker scores: the worker's time is the same as with no
    notification at all, each attempt is cut at the 0.5 s timeout, and everything arrives once it answers again."""
    submit(_folder(hub, tmp_path, "warm-up"), hub.store)
    worker.process_one(hub.store, worker_id="warm-up")  # the first scoring of a process pays for its imports
    submit(_folder(hub, tmp_path, "plain"), hub.store)
    started = time.monotonic()
    assert worker.process_one(hub.store, worker_id="plain") is not None
    plain_s = time.monotonic() - started

    receiver.delay_s = 10.0
    sid = _submit(hub, tmp_path, "notify-slow", receiver.url)
    policy = DeliveryPolicy(timeout_s=0.5, backoff_s=0.2, max_attempts=50, poll_s=0.05, allow_private=True)
    with Deliverer(hub.store, policy):
        _wait_for(lambda: len(receiver.received) >= 1, 10, "the first request at the slow receiver")
        started = time.monotonic()
        done = worker.process_one(hub.store, worker_id="slow")
        notified_s = time.monotonic() - started
        assert done is not None and done.status == "published"
        print(f"worker: {plain_s:.3f} s without notifications, {notified_s:.3f} s with a receiver sleeping 10 s")
        assert notified_s < plain_s + 1.0 and notified_s < receiver.delay_s
        _wait_for(lambda: _rows(hub.store, sid)[0]["last_error"] is not None, 5, "the first attempt timing out")
        first = _rows(hub.store, sid)[0]
        assert first["status"] == "pending" and first["last_error"].endswith("no answer within 0.5 s")
        receiver.delay_s = 0.0
        _wait_for(lambda: [r["status"] for r in _rows(hub.store, sid)] == ["delivered"] * 4, 30, "delivery")
    delivered: dict[str, str] = {}
    for event in receiver.events():
        delivered.setdefault(event["event"], event["state"])
    assert list(delivered.values()) == STATES  # at least once each, first arrivals in order
    assert len(receiver.received) > 4  # the timed-out attempts had arrived too: the event id tells repeats apart


def test_a_receiver_that_trickles_its_answer_is_cut_off_at_the_timeout(receiver: Receiver) -> None:
    receiver.trickle_s = 0.1  # a byte every 0.1 s: no single read ever waits 0.5 s
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        post(receiver.url, b"{}", {"Content-Type": "application/json"}, timeout_s=0.5, allow_private=True)
    assert time.monotonic() - started < 1.5
    assert len(receiver.received) == 1


def test_the_per_token_cap_drops_what_is_beyond_it(hub: Hub, receiver: Receiver, tmp_path: Path) -> None:
    sid = _submit(hub, tmp_path, "notify-capped", receiver.url)
    capped = DeliveryPolicy(timeout_s=2.0, backoff_s=0.2, poll_s=0.05, allow_private=True, per_token_daily=2)
    with Deliverer(hub.store, capped):
        worker.process_one(hub.store, worker_id="capped")
    assert [e["state"] for e in receiver.events()] == ["queued", "validating"]
    rows = _rows(hub.store, sid)
    assert [r["status"] for r in rows] == ["delivered", "delivered", "dropped", "dropped"]
    assert all("cap of 2 notifications in 24 hours" in r["last_error"] for r in rows[2:])
    assert all(r["attempts"] == 0 for r in rows[2:])  # never sent
    # another token's submissions have their own count
    other, _ = accounts.create_token(hub.store, "other lab")
    folder = _folder(hub, tmp_path, "notify-other", receiver.url)
    other_id = submit(folder, hub.store, notify=Subscription(other.id, allow_private=True)).id
    assert Deliverer(hub.store, capped).deliver_due() == 1
    assert [r["status"] for r in _rows(hub.store, other_id)] == ["delivered"]


def test_a_revoked_token_is_notified_no_more(hub: Hub, receiver: Receiver, tmp_path: Path) -> None:
    sid = _submit(hub, tmp_path, "notify-revoked", receiver.url)
    accounts.revoke_token(hub.store, hub.token.id)
    assert Deliverer(hub.store, QUICK).deliver_due() == 0
    [queued] = _rows(hub.store, sid)
    assert queued["status"] == "dropped" and queued["last_error"] == "the token was revoked"
    assert receiver.received == []


def test_a_name_resolving_to_loopback_is_refused_at_delivery(hub: Hub, receiver: Receiver, tmp_path: Path) -> None:
    """Checked on the addresses the name has when the event is sent, not only as written at intake."""
    sid = _submit(hub, tmp_path, "notify-rebound", f"http://localhost:{receiver.port}/hook")
    public_only = DeliveryPolicy(timeout_s=2.0, backoff_s=0.2, poll_s=0.05, allow_private=False)
    assert Deliverer(hub.store, public_only).deliver_due() == 1
    [queued] = _rows(hub.store, sid)
    assert queued["status"] == "gave-up" and queued["attempts"] == 1
    assert queued["last_error"].startswith("refused: localhost resolves to") and "loopback" in queued["last_error"]
    assert receiver.received == []


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("file:///etc/passwd", "only http:// and https:// URLs are notified, not 'file'"),
        ("ftp://example.org/hook", "only http:// and https:// URLs are notified, not 'ftp'"),
        ("javascript:alert(1)", "only http:// and https:// URLs are notified, not 'javascript'"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "only http:// and https:// URLs are notified, not 'gopher'"),
        ("example.org/hook", "only http:// and https:// URLs are notified"),
        ("https://user:secret@example.org/hook", "a user name or password in the URL is not accepted"),
        ("https://example.org/hook#part", "a fragment (#...) is never sent over HTTP"),
        ("https://example.org/a b", "no space or control character"),
        ("https:///hook", "the URL names no host"),
        ("https://example.org:99999/hook", "not a valid URL"),
        ("https://example.org/" + "x" * 2000, "longer than 2000 characters"),
        ("http://127.0.0.1:8000/hook", "127.0.0.1 is a loopback address"),
        ("http://localhost/hook", "localhost is this hub's own machine"),
        ("http://[::1]/hook", "::1 is a loopback address"),
        ("http://10.1.2.3/hook", "10.1.2.3 is a private or reserved address"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a private or reserved address"),
        ("http://[::ffff:192.168.0.1]/hook", "192.168.0.1 is a private or reserved address"),
    ],
)
def test_an_unacceptable_notify_url_is_refused_at_intake(hub: Hub, tmp_path: Path, url: str, problem: str) -> None:
    before = hub.store.table_counts()
    folder = _folder(hub, tmp_path, "refused", url)
    with pytest.raises(SubmissionError) as refused:
        submit(folder, hub.store, notify=Subscription(token_id=hub.token.id))
    message = str(refused.value)
    assert message.startswith("manifest.yaml") and "notify_url" in message and problem in message, message
    assert hub.store.table_counts() == before


def test_a_notify_url_needs_a_token_and_a_signing_secret(hub: Hub, tmp_path: Path) -> None:
    folder = _folder(hub, tmp_path, "unsigned", "https://example.org/hook")
    with pytest.raises(SubmissionError, match="field 'notify_url': notifications are signed with the secret"):
        submit(folder, hub.store, notify=UNSIGNED)
    # on the command line: without --token (or with another hub's) the same refusal, exit status 2
    refused = _cli("submit", str(folder), "--db", str(hub.store.path), "--token", "mb_not-this-hubs")
    assert refused.returncode == 2 and "notifications are signed with the secret" in refused.stderr
    # a token made before notifications has no secret until a maintainer gives it one
    with hub.store.write() as con:
        con.execute("UPDATE api_tokens SET notify_secret = NULL WHERE id = ?", [hub.token.id])
    with pytest.raises(SubmissionError, match=f"mobench tokens notify-secret {hub.token.id}"):
        submit(folder, hub.store, notify=Subscription(token_id=hub.token.id))
    shown = _cli("tokens", "notify-secret", hub.token.id, "--db", str(hub.store.path))
    given = accounts.notify_secret(hub.store, hub.token.id)
    assert shown.returncode == 0 and given is not None and given in shown.stdout
    assert submit(folder, hub.store, notify=Subscription(token_id=hub.token.id)).status == "queued"


def test_check_url_takes_ordinary_receivers() -> None:
    for url in ("https://hooks.example.org/mobench?team=7", "HTTP://example.org", "http://203.0.113.9:8080/x"):
        assert check_url(url) == url


def test_the_api_field_and_the_manifest_field_over_a_real_server(hub: Hub, receiver: Receiver, tmp_path: Path) -> None:
    """`POST /submissions` with a `notify_url` form field, and a manifest's `notify_url`, on a real `mobench
    server` on loopback; then a real `mobench worker --once` delivers both submissions' events."""
    db = hub.store.path
    auth = {"Authorization": f"Bearer {hub.secret}"}
    with mobench_server(db, "--notify-allow-private") as server:

        def send(archive: Path, **form: str) -> httpx.Response:
            with archive.open("rb") as handle:
                files = {"archive": (archive.name, handle, "application/zip")}
                return httpx.post(f"{server.url}/submissions", files=files, data=form, headers=auth, timeout=60)

        by_field = send(submission_zip(hub.runs, tmp_path, "api-field"), notify_url=receiver.url)
        assert by_field.status_code == 201, by_field.text
        in_manifest = send(submission_zip(hub.runs, tmp_path, "api-manifest", notify_url=receiver.url + "&m=1"))
        assert in_manifest.status_code == 201, in_manifest.text
        refused = send(submission_zip(hub.runs, tmp_path, "api-ftp"), notify_url="ftp://example.org/hook")
        assert refused.status_code == 422
        assert refused.json()["detail"] == "notify_url: only http:// and https:// URLs are notified, not 'ftp'"
        refused = send(submission_zip(hub.runs, tmp_path, "api-file", notify_url="file:///etc/passwd"))
        assert refused.status_code == 422 and "field 'notify_url'" in refused.json()["detail"]
        spec = httpx.get(f"{server.url}/openapi.json").json()
        body = spec["paths"]["/submissions"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
        form = spec["components"]["schemas"][body["$ref"].rpartition("/")[2]]["properties"]
        assert form["notify_url"]["anyOf"][0]["maxLength"] == 2000
        public = httpx.get(f"{server.url}/submissions/{by_field.json()['id']}", headers=auth).json()
        assert "hook" not in json.dumps(public)  # not even its owner's view repeats the URL
    worked = _cli("worker", "--db", str(db), "--once", "--notify-allow-private")
    assert worked.returncode == 0, worked.stderr
    for receipt in (by_field.json(), in_manifest.json()):
        events = [r for r in receiver.received if r.event["id"] == receipt["id"]]
        assert [r.event["state"] for r in events] == STATES, receipt
        assert all(_verify(hub.signing, r) for r in events)
    assert {r["status"] for r in _rows(hub.store, by_field.json()["id"])} == {"delivered"}


def test_mobench_notify_drains_what_is_due(hub: Hub, tmp_path: Path) -> None:
    port = free_port()
    sid = _submit(hub, tmp_path, "notify-drain", f"http://127.0.0.1:{port}/hook")
    up = Receiver(port)
    try:
        drained = _cli("notify", "--db", str(hub.store.path), "--notify-allow-private")
        assert drained.returncode == 0, drained.stderr
        assert "1 attempt(s) made" in drained.stdout and "1 delivered" in drained.stdout
        assert [e["state"] for e in up.events()] == ["queued"]
    finally:
        up.close()
    assert [r["status"] for r in _rows(hub.store, sid)] == ["delivered"]
