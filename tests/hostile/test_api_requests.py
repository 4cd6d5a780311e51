"""Hostile requests to a real `mobench server` process on loopback: each one an attacker or a careless client sent
in the API review (issue #22), with the bound the server must hold.

The server runs as its own process (`tests.fixtures.api_server`), so its memory is measured apart from the test's
and refusals "from the headers" are checked on a raw socket that sends nothing but the headers.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from hub.cli.demo import DemoSummary
from hub.store import Store, accounts
from submissions.archive import DEFAULT_LIMITS
from tests.fixtures.api_server import RunningServer, mobench_server, submission_zip
from tests.hostile.corpus import CASES, Case, prepare

MIB = 1024 * 1024
CHUNK_MB = 1
BODY_TIMEOUT_S = 1.0
VALID_PER_DAY = 2


@dataclass(frozen=True)
class Hub:
    server: RunningServer
    store: Store
    secret: str
    runs: Path
    uploads: Path

    def auth(self, secret: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {secret or self.secret}"}


@pytest.fixture(scope="module")
def hub(demo: DemoSummary, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    db = tmp_path_factory.mktemp("api-hub") / "mobench.duckdb"
    shutil.copyfile(demo.db_path, db)
    store = Store(db)
    _, secret = accounts.create_token(store, "hostile")
    options = ("--valid-per-day", str(VALID_PER_DAY), "--per-day", "1000", "--per-minute", "1000")
    options += ("--chunk-mb", str(CHUNK_MB), "--body-timeout", str(BODY_TIMEOUT_S))
    with mobench_server(db, *options) as server:
        yield Hub(server, store, secret, demo.db_path.parent / "baseline-runs", db.parent / "uploads")


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float
    closed: bool  # the server closed the connection after answering


def raw_request(port: int, head: str, body: bytes = b"", *, timeout: float = 10.0) -> RawAnswer:
    """Send `head` (request line and headers) and `body` (possibly less than declared) on a fresh connection, then
    read the answer without sending anything more."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        data = b""
        while b"\r\n\r\n" not in data:
            piece = sock.recv(65536)
            assert piece, f"connection closed without an answer: {data!r}"
            data += piece
        seconds = time.monotonic() - started
        header_block, _, rest = data.partition(b"\r\n\r\n")
        lines = header_block.decode().split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            rest += sock.recv(65536)
        try:
            closed = sock.recv(1) == b""
        except (ConnectionResetError, TimeoutError):
            closed = True
    return RawAnswer(int(lines[0].split()[1]), headers, rest, seconds, closed)


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_an_unauthenticated_64_mib_post_is_answered_from_the_headers(hub: Hub) -> None:
    before = _files(hub.uploads)
    answer = raw_request(
        hub.server.port,
        f"POST /submissions HTTP/1.1\nHost: x\nContent-Type: multipart/form-data; boundary=b\n"
        f"Content-Length: {64 * MIB}\n",
    )
    assert answer.status == 401 and answer.headers["www-authenticate"] == "Bearer"
    assert answer.seconds < 2 and answer.closed  # not one byte of the body was needed
    assert _files(hub.uploads) == before  # nothing written
    # a client that sends the body anyway is cut off, not read to the end
    started = time.monotonic()
    # (a TransportError: the server answered and closed the connection while the client was still sending)
    with contextlib.suppress(httpx.TransportError):
        assert httpx.post(f"{hub.server.url}/submissions", content=b"x" * 64 * MIB, timeout=10).status_code == 401
    assert time.monotonic() - started < 2 and _files(hub.uploads) == before


def test_a_declared_terabyte_gets_413_at_once(hub: Hub) -> None:
    head = f"POST /submissions HTTP/1.1\nHost: x\nAuthorization: Bearer {hub.secret}\nContent-Length: {10**12}\n"
    answer = raw_request(hub.server.port, head)
    assert answer.status == 413 and answer.seconds < 2 and answer.closed


def test_a_body_that_stops_arriving_gets_408(hub: Hub) -> None:
    head = (
        f"POST /uploads HTTP/1.1\nHost: x\nAuthorization: Bearer {hub.secret}\nContent-Type: application/json\n"
        "Content-Length: 1000\n"
    )
    answer = raw_request(hub.server.port, head, b'{"size": ')
    assert answer.status == 408 and BODY_TIMEOUT_S <= answer.seconds < BODY_TIMEOUT_S + 3 and answer.closed


def test_the_bearer_scheme_is_case_insensitive_and_401_says_how(hub: Hub) -> None:
    answer = httpx.post(
        f"{hub.server.url}/uploads",
        json={"size": 10, "sha256": "0" * 64},
        headers={"authorization": f"bearer {hub.secret}"},
    )
    assert answer.status_code == 201, answer.text
    refused = httpx.get(f"{hub.server.url}/uploads/{answer.json()['upload_id']}")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert httpx.get(f"{hub.server.url}/health", headers={"Authorization": "Basic eDp5"}).status_code == 401


def _alias_bomb_zip(work: Path) -> Path:
    """The review's 444-byte manifest: nine nested levels of aliases, ninefold each, named as the benchmark."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    archive = work / "alias-bomb.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("manifest.yaml", "\n".join(lines) + "\nbenchmark: *a8\n")
        zf.writestr("predictions/x.flo", b"x")
    return archive


def test_a_yaml_alias_bomb_is_refused_small_and_fast(hub: Hub, tmp_path: Path) -> None:
    archive = _alias_bomb_zip(tmp_path)
    assert archive.stat().st_size < 2048
    started = time.monotonic()
    answer = httpx.post(
        f"{hub.server.url}/submissions", files={"archive": ("bomb.zip", archive.read_bytes())}, headers=hub.auth()
    )
    assert answer.status_code == 422 and time.monotonic() - started < 2
    assert len(answer.content) < 64 * 1024
    assert "anchors and aliases" in answer.json()["detail"] and "lol" not in answer.json()["detail"]


def _start_upload(hub: Hub, size: int) -> str:
    answer = httpx.post(f"{hub.server.url}/uploads", json={"size": size, "sha256": "ab" * 32}, headers=hub.auth())
    assert answer.status_code == 201, answer.text
    upload_id: str = answer.json()["upload_id"]
    return upload_id


def test_a_200_mib_chunk_is_refused_without_the_server_holding_it(hub: Hub) -> None:
    upload_id = _start_upload(hub, 10)
    rss = hub.server.rss_bytes()
    declared = raw_request(
        hub.server.port,
        f"PUT /uploads/{upload_id}?offset=0 HTTP/1.1\nHost: x\nAuthorization: Bearer {hub.secret}\n"
        f"Content-Length: {200 * MIB}\n",
    )
    assert declared.status == 413 and declared.seconds < 2

    def chunked() -> Iterator[bytes]:  # no Content-Length: the server counts what arrives and stops reading
        for _ in range(200):
            yield b"\0" * MIB

    try:
        streamed: int | None = httpx.put(
            f"{hub.server.url}/uploads/{upload_id}", params={"offset": 0}, content=chunked(), headers=hub.auth()
        ).status_code
    except httpx.TransportError:
        streamed = None  # the server answered and closed while the client was still sending
    assert streamed in (409, None)  # 409: past the 10 bytes the upload declared, cut off at the first piece
    assert hub.server.rss_bytes() - rss < 50 * MIB
    state = httpx.get(f"{hub.server.url}/uploads/{upload_id}", headers=hub.auth()).json()
    assert state["offset"] == 0  # nothing of the refused chunk was kept


def test_two_chunks_at_one_offset_cannot_both_land(hub: Hub) -> None:
    upload_id = _start_upload(hub, 10)
    head = (
        f"PUT /uploads/{upload_id}?offset=0 HTTP/1.1\nHost: x\nAuthorization: Bearer {hub.secret}\nContent-Length: 10\n"
    )
    with socket.create_connection(("127.0.0.1", hub.server.port), timeout=10) as first:
        first.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + b"01234")  # half of it, then a pause
        time.sleep(0.3)
        second = httpx.put(
            f"{hub.server.url}/uploads/{upload_id}", params={"offset": 0}, content=b"abcdefghij", headers=hub.auth()
        )
        assert second.status_code == 409 and "being written" in second.json()["detail"]
        first.sendall(b"56789")
        assert first.recv(65536).startswith(b"HTTP/1.1 200")
    state = httpx.get(f"{hub.server.url}/uploads/{upload_id}", headers=hub.auth()).json()
    assert state["offset"] == 10


@pytest.mark.parametrize(
    "body",
    [
        {"size": True, "sha256": "ab" * 32},
        {"size": 10, "sha256": "g" * 64},
        {"size": 10},
        {"size": 10.5, "sha256": "ab" * 32},
    ],
)
def test_an_upload_declaration_is_checked_field_by_field(hub: Hub, body: dict[str, object]) -> None:
    answer = httpx.post(f"{hub.server.url}/uploads", json=body, headers=hub.auth())
    assert answer.status_code == 422 and isinstance(answer.json()["detail"], str)
    assert "body." in answer.json()["detail"]  # names the field


def test_eight_concurrent_valid_submissions_against_a_quota_of_two(hub: Hub, tmp_path: Path) -> None:
    token, secret = accounts.create_token(hub.store, "racer")
    archives = [submission_zip(hub.runs, tmp_path, f"race-{k}") for k in range(8)]

    def send(archive: Path) -> httpx.Response:
        with archive.open("rb") as handle:
            return httpx.post(
                f"{hub.server.url}/submissions",
                files={"archive": (archive.name, handle)},
                headers=hub.auth(secret),
                timeout=60,
            )

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(send, archives))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * VALID_PER_DAY + [429] * (8 - VALID_PER_DAY), [a.text for a in answers]
    assert all(int(a.headers["retry-after"]) > 0 for a in answers if a.status_code == 429)
    assert accounts.daily_counts(hub.store, token, "sintel-clean") == accounts.DailyCounts(VALID_PER_DAY, VALID_PER_DAY)


# the zip cases refused under the intake's default limits (a few lower a limit to test it, which the server does not)
ZIP_CASES = [c for c in CASES if c.id.startswith("zip-") and c.at == "intake" and c.limits == DEFAULT_LIMITS]


@pytest.mark.parametrize("entry", ZIP_CASES, ids=[c.id for c in ZIP_CASES])
def test_each_hostile_zip_is_a_4xx_naming_no_server_path(hub: Hub, entry: Case, tmp_path: Path) -> None:
    ws = prepare(entry, hub.runs, tmp_path / "work")
    assert ws.submit is not None and ws.submit.suffix == ".zip"
    answer = httpx.post(
        f"{hub.server.url}/submissions",
        files={"archive": ("submission.zip", ws.submit.read_bytes())},
        headers=hub.auth(),
        timeout=60,
    )
    assert answer.status_code in (413, 422), answer.text
    detail = answer.json()["detail"]
    assert str(hub.store.path.parent) not in detail  # the uploads and staging folders are the hub's own
    assert all(not p.exists() for p in ws.escapes)


def test_a_rejection_reason_names_files_inside_the_submission(hub: Hub, tmp_path: Path) -> None:
    from submissions import worker

    entry = next(c for c in CASES if c.id == "health-extra-column")
    ws = prepare(entry, hub.runs, tmp_path / "work")
    (ws.predictions / "second.csv").write_text("window_id,prediction\n")  # the reader names its folder
    archive = shutil.make_archive(str(tmp_path / "health"), "zip", ws.folder)
    _, secret = accounts.create_token(hub.store, "reasons")
    answer = httpx.post(
        f"{hub.server.url}/submissions",
        files={"archive": ("health.zip", Path(archive).read_bytes())},
        headers=hub.auth(secret),
    )
    assert answer.status_code == 201, answer.text
    while (row := worker.process_one(hub.store, worker_id="reasons")) is not None and row.id != answer.json()["id"]:
        pass
    mine = httpx.get(f"{hub.server.url}/submissions/{answer.json()['id']}", headers=hub.auth(secret)).json()
    assert mine["status"] == "rejected" and mine["reason"].startswith(
        "1 problem(s) with the predictions:\n  - predictions: "
    )
    assert str(hub.store.path.parent) not in json.dumps(mine)
    public = httpx.get(f"{hub.server.url}/submissions/{answer.json()['id']}").json()
    assert public["status"] == "rejected" and public["reason"] is None and public["log_excerpt"] is None


def test_405_lists_every_method_of_the_path(hub: Hub) -> None:
    answer = httpx.request("OPTIONS", f"{hub.server.url}/uploads/{'0' * 32}")
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, PUT"


def test_429_says_when_to_come_back(hub: Hub, demo: DemoSummary, tmp_path: Path) -> None:
    db = tmp_path / "mobench.duckdb"
    shutil.copyfile(demo.db_path, db)
    _, secret = accounts.create_token(Store(db), "hasty")
    with mobench_server(db, "--per-minute", "1") as server:
        sent = [
            httpx.post(
                f"{server.url}/uploads",
                json={"size": 1, "sha256": "ab" * 32},
                headers={"Authorization": f"Bearer {secret}"},
            )
            for _ in range(2)
        ]
        # a caller over its limit is refused from the headers too: its 64 MiB archive is never read
        archive = raw_request(
            server.port,
            f"POST /submissions HTTP/1.1\nHost: x\nAuthorization: Bearer {secret}\n"
            f"Content-Type: multipart/form-data; boundary=b\nContent-Length: {64 * MIB}\n",
        )
    assert [a.status_code for a in sent] == [201, 429] and 0 < int(sent[1].headers["retry-after"]) <= 60
    assert archive.status == 429 and archive.seconds < 2 and archive.closed and int(archive.headers["retry-after"]) > 0
