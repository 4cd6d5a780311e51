"""The HTTP submission API: auth, quotas, rate and size limits, resumable uploads, concurrent submitters."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import pytest
import uvicorn
from fastapi.testclient import TestClient

from hub.cli.demo import DemoSummary
from hub.core.errors import MobenchError
from hub.core.registry import get_benchmark
from hub.store import Store, accounts
from submissions import client as upload_client
from submissions import worker
from submissions.client import remote_submit
from submissions.server import ServerLimits, create_app
from tests.fixtures.api_server import submission_zip


def _zip(demo: DemoSummary, tmp_path: Path, version: str, **manifest_changes: Any) -> Path:
    return submission_zip(demo.db_path.parent / "baseline-runs", tmp_path, version, **manifest_changes)


@pytest.fixture
def hub(demo_db: Path) -> tuple[Store, str]:
    store = Store(demo_db)
    _, secret = accounts.create_token(store, "lab")
    return store, secret


def _client(store: Store, **limits: Any) -> TestClient:
    return TestClient(create_app(store.path, ServerLimits(**limits)))


def _post(api: TestClient, secret: str, archive: Path) -> Any:
    with archive.open("rb") as handle:
        return api.post(
            "/submissions", files={"archive": (archive.name, handle)}, headers={"Authorization": f"Bearer {secret}"}
        )


def test_health_benchmarks_and_openapi(hub: tuple[Store, str]) -> None:
    api = _client(hub[0])
    assert api.get("/health").json()["status"] == "ok"
    benchmarks = {b["id"]: b for b in api.get("/benchmarks").json()}
    assert benchmarks["mobile-mmlu"]["configs"]["all"]["test"] == "hidden"
    assert "root" not in str(api.get("/benchmarks").json())  # no data location leaves the hub
    assert "/submissions" in api.get("/openapi.json").json()["paths"]


def test_submit_score_and_read_back_with_a_token(hub: tuple[Store, str], demo: DemoSummary, tmp_path: Path) -> None:
    store, secret = hub
    api = _client(store)
    archive = _zip(demo, tmp_path, "api-1")
    assert _post(api, "nope", archive).status_code == 401
    assert api.post("/submissions", files={"archive": ("a.zip", b"x")}).status_code == 401
    created = _post(api, secret, archive)
    assert created.status_code == 201, created.text
    receipt = created.json()
    assert receipt["status"] == "queued" and not receipt["duplicate"]
    assert _post(api, secret, archive).json()["duplicate"]  # same content: one submission
    assert api.get(f"/submissions/{receipt['id']}").json()["status"] == "queued"
    worker.process_one(store, worker_id="api-test")
    public = api.get(f"/submissions/{receipt['id']}").json()
    # the public view: state, history of states and aggregate scores; the worker and details are the owner's
    assert public["status"] == "published" and public["scores"]["epe"] > 0 and not public["owner"]
    assert public["worker"] is None and {h["detail"] for h in public["history"]} == {None}
    _, other = accounts.create_token(store, "other lab")
    assert not api.get(f"/submissions/{receipt['id']}", headers={"Authorization": f"Bearer {other}"}).json()["owner"]
    view = api.get(f"/submissions/{receipt['id']}", headers={"authorization": f"bearer {secret}"}).json()
    assert view["owner"] and view["worker"] == "api-test" and view["scores"] == public["scores"]
    assert [h["state"] for h in view["history"]] == ["submitted", "validating", "scoring", "published"]
    # aggregate scores only (the registry's metrics): no per-sample data, no ground truth
    assert set(view["scores"]) == {m.name for m in get_benchmark("sintel-clean").metrics}
    assert view["scores"]["s40_plus"] is None  # no pixel that fast: null, never 0 or NaN
    # each score's 95 % interval, drawn over the split's images, and how (the store's figures, as published)
    assert set(view["intervals"]) == set(view["scores"]) and view["intervals"] == public["intervals"]
    low, high = view["intervals"]["epe"]
    assert low <= view["scores"]["epe"] <= high
    assert view["intervals"]["s40_plus"] == [None, None]  # undefined in every resample: no interval, never 0
    assert public["resampling"] == {"unit": "image", "n_units": 8, "resamples": 1000, "seed": 20261205, "level": 0.95}
    assert api.get("/submissions/none").status_code == 404


def test_the_view_says_what_the_model_was_trained_on(hub: tuple[Store, str], demo: DemoSummary, tmp_path: Path) -> None:
    store, secret = hub
    api = _client(store)
    declared = ["FlyingChairs", "https://huggingface.co/datasets/x/y", "sintel-final:training"]
    receipt = _post(api, secret, _zip(demo, tmp_path, "trained", training_data=declared)).json()
    public = api.get(f"/submissions/{receipt['id']}").json()
    # public: what was declared and what it means here (Sintel's scored training split, in either pass)
    assert public["training_data"] == declared and public["training_badge"] == "contaminated"
    for version, value, problem in (
        ("typo", ["sintel:train"], "item 1 ('sintel:train'): mpi-sintel has no split 'train'"),
        ("blank", None, "is empty: write `none` for a zero-shot model, or leave the field out"),
    ):
        refused = _post(api, secret, _zip(demo, tmp_path, version, training_data=value))
        assert refused.status_code == 422 and problem in refused.json()["detail"], refused.text


def test_a_revoked_token_is_refused(hub: tuple[Store, str], demo: DemoSummary, tmp_path: Path) -> None:
    store, _ = hub
    token, secret = accounts.create_token(store, "gone")
    accounts.revoke_token(store, token.id)
    assert _post(_client(store), secret, _zip(demo, tmp_path, "r")).status_code == 401
    with pytest.raises(MobenchError, match="no live token"):
        accounts.revoke_token(store, token.id)


def test_daily_quotas_are_fair_and_can_be_raised(hub: tuple[Store, str], demo: DemoSummary, tmp_path: Path) -> None:
    store, secret = hub
    api = _client(store, total_per_day=3, valid_per_day=1)
    # a rejected attempt counts against the total, not against the valid quota
    bad = _post(api, secret, _zip(demo, tmp_path, "q0", precision=7))
    assert bad.status_code == 422 and "precision" in bad.json()["detail"]
    first = _post(api, secret, _zip(demo, tmp_path, "q1"))
    assert first.status_code == 201
    second = _post(api, secret, _zip(demo, tmp_path, "q2"))
    assert second.status_code == 429 and "valid submissions" in second.json()["detail"]
    # a run the platform failed on never counts: its slot comes back
    assert store.leases.claim_next("w") is not None
    store.outcomes.end(first.json()["id"], "failed", "worker ran out of disk", worker_id="w")
    assert _post(api, secret, _zip(demo, tmp_path, "q2")).status_code == 201
    token = accounts.authenticate(store, secret)
    assert token is not None
    assert accounts.daily_counts(store, token, "sintel-clean") == accounts.DailyCounts(total=2, valid=1)
    assert _post(api, secret, _zip(demo, tmp_path, "q3")).status_code == 429
    accounts.grant_extra(store, token.id, 2)  # a maintainer grants more
    assert _post(api, secret, _zip(demo, tmp_path, "q3")).status_code == 201


def test_size_and_rate_limits(hub: tuple[Store, str], demo: DemoSummary, tmp_path: Path) -> None:
    store, secret = hub
    archive = _zip(demo, tmp_path, "big")
    too_big = _post(_client(store, max_upload_bytes=1000), secret, archive)
    assert too_big.status_code == 413 and "larger than the 66536 bytes" in too_big.json()["detail"]  # from the headers
    api = _client(store, requests_per_minute=2)
    assert _post(api, secret, archive).status_code == 201
    assert _post(api, secret, archive).json()["duplicate"]
    limited = _post(api, secret, archive)
    assert limited.status_code == 429 and "submissions in a minute" in limited.json()["detail"]
    assert 0 < int(limited.headers["retry-after"]) <= 60


@pytest.fixture(params=[4096])
def server(hub: tuple[Store, str], request: pytest.FixtureRequest) -> Iterator[str]:
    """The API served by uvicorn on a loopback port, in a thread (`request.param`: its upload chunk size)."""
    limits = ServerLimits(chunk_bytes=request.param)
    config = uvicorn.Config(create_app(hub[0].path, limits), host="127.0.0.1", port=0)
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    port = instance.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=30)


def test_a_chunked_upload_resumes_after_a_dropped_connection(
    hub: tuple[Store, str], server: str, demo: DemoSummary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, secret = hub
    archive = _zip(demo, tmp_path, "chunked")
    real_once = upload_client._Client._once
    dropped: list[str] = []

    def flaky(self: Any, method: str, route: str, body: bytes | None) -> Any:
        if method == "PUT" and len(dropped) < 2 and "offset=0" not in route:
            dropped.append(route)
            real_once(self, method, route, body)  # the chunk arrives, but the answer is lost
            raise upload_client._Transient()
        return real_once(self, method, route, body)

    monkeypatch.setattr(upload_client._Client, "_once", flaky)
    seen: list[tuple[int, int]] = []
    receipt = remote_submit(archive, server, secret, progress=lambda done, size: seen.append((done, size)), backoff_s=0)
    assert len(dropped) == 2 and seen[-1] == (archive.stat().st_size, archive.stat().st_size)
    assert receipt["status"] == "queued"
    with duckdb.connect(str(store.path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM submissions WHERE id = ?", [receipt["id"]]).fetchone() == (1,)


@pytest.mark.parametrize("server", [ServerLimits().chunk_bytes], indirect=True)
def test_twenty_concurrent_submitters_while_a_worker_writes_and_the_leaderboard_reads(
    hub: tuple[Store, str], server: str, demo: DemoSummary, tmp_path: Path
) -> None:
    store, _ = hub
    archives = [_zip(demo, tmp_path, f"c{k}") for k in range(20)]
    token, many = accounts.create_token(store, "many")
    accounts.grant_extra(store, token.id, 100)
    reader = subprocess.Popen([sys.executable, "-c", _READER, str(store.path), "10"], stdout=subprocess.PIPE, text=True)
    with ThreadPoolExecutor(max_workers=20) as pool:
        receipts = list(pool.map(lambda a: remote_submit(a, server, many, backoff_s=0.1), archives))
    worker.run(store, once=True, worker_id="concurrent-test")
    out, _ = reader.communicate(timeout=120)
    assert {r["status"] for r in receipts} == {"queued"} and len({r["id"] for r in receipts}) == 20
    with duckdb.connect(str(store.path), read_only=True) as con:
        per_id = con.execute(
            "SELECT id, count(*) FROM submissions WHERE id IN (SELECT unnest(?::VARCHAR[])) GROUP BY id",
            [[r["id"] for r in receipts]],
        ).fetchall()
        scored = con.execute(
            "SELECT count(*) FROM board_rows WHERE submission IN (SELECT unnest(?::VARCHAR[]))",
            [[r["id"] for r in receipts]],
        ).fetchone()
    assert len(per_id) == 20 and all(n == 1 for _, n in per_id) and scored == (20,)
    reads, errors = (int(v) for v in out.split())
    assert reads > 0 and errors == 0


# A leaderboard reader in its own process: short read-only connections (with the store's retry) for N seconds.
_READER = """
import sys, time
from pathlib import Path
from hub.store import Store
from leaderboard import queries
store, until, reads, errors = Store(Path(sys.argv[1])), time.monotonic() + float(sys.argv[2]), 0, 0
while time.monotonic() < until:
    try:
        queries.benchmark_overview(store); reads += 1
    except Exception as error:
        errors += 1; print(repr(error), file=sys.stderr)
    time.sleep(0.05)
print(reads, errors)
"""


def test_an_incomplete_upload_expires(hub: tuple[Store, str]) -> None:
    store, secret = hub
    api = _client(store, upload_ttl_s=0.0)
    auth = {"Authorization": f"Bearer {secret}"}
    first = api.post("/uploads", json={"size": 10, "sha256": "ab" * 32}, headers=auth).json()["upload_id"]
    api.post("/uploads", json={"size": 10, "sha256": "ab" * 32}, headers=auth)  # starting another expires the first
    gone = api.get(f"/uploads/{first}", headers=auth)
    assert gone.status_code == 404 and "expire" in gone.json()["detail"]
    assert not (store.path.parent / "uploads" / f"{first}.part").exists()


def test_a_refused_submission_leaves_a_store_with_queued_work_as_it_was(
    hub: tuple[Store, str], demo: DemoSummary, tmp_path: Path
) -> None:
    """A queued submission has no cost row yet; a refused submission must not add one (intake used to backfill)."""
    from submissions.queue import submit
    from tests.test_hostile import table_rows

    store, _ = hub
    submit(_zip(demo, tmp_path, "waiting"), store)
    before = table_rows(store)
    window = {"trace": "measurements/x.csv", "start_s": 5.0, "end_s": 1.0, "inferences": 1}
    with pytest.raises(MobenchError, match=r"end_s \(1\.0\) must be after start_s \(5\.0\)"):
        submit(_zip(demo, tmp_path, "backwards", power_windows=[window]), store)
    assert table_rows(store) == before


def test_sigterm_stops_the_leaderboard_and_its_streamlit_child(demo: DemoSummary) -> None:
    import signal

    from tests.fixtures.api_server import free_port

    port = free_port()
    cmd = [sys.executable, "-c", "from hub.cli.app import main; main()", "serve", "--db", str(demo.db_path)]
    serve = subprocess.Popen([*cmd, "--port", str(port)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not _listening(port):
        assert serve.poll() is None and time.monotonic() < deadline, "mobench serve did not start"
        time.sleep(0.2)
    serve.send_signal(signal.SIGTERM)
    assert serve.wait(timeout=30) is not None
    assert not _listening(port)  # the Streamlit child is gone with it: nothing holds the port


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
