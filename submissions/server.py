"""The HTTP submission API: remote `mobench submit`, token auth, rate limits, daily quotas, resumable uploads.

Endpoints (the OpenAPI spec is served at /openapi.json, the docs at /docs):

- `GET /health`, `GET /benchmarks` (what the registry declares; never a data root or a label),
- `POST /submissions` (multipart `archive`: a submission .zip) and `GET /submissions/{id}` (state, reason, the
  worker holding it and its heartbeat, the log excerpt, aggregate scores only: no ground truth, no per-sample
  labels, nothing of a hidden split),
- resumable uploads for large archives: `POST /uploads` (declared size + sha256), `PUT /uploads/{id}?offset=N`
  (the next chunk), `GET /uploads/{id}` (how much arrived, to resume after a dropped connection),
  `POST /uploads/{id}/complete` (checksum checked, then the same intake as `POST /submissions`).

Every write needs `Authorization: Bearer <token>` (`mobench tokens create`); each token has a rate limit on
starting submissions (an upload's chunks are not counted) and daily quotas per benchmark (`hub.store.accounts`).
Archives are size-capped before they are read and then go through exactly the local intake
(`submissions.queue.submit`): safe extraction, strict manifest, nothing executed. The server is one process that
takes the store one short transaction at a time (see hub.store.connection); the worker and the leaderboard run as
their own processes beside it and meet it only in the store's file lock (see the README).
"""

import math
import threading
import time
import uuid
import zipfile
import zlib
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Header, HTTPException, Query, Request, UploadFile

from hub.core.errors import MobenchError, SubmissionError
from hub.core.hashing import sha256_file
from hub.core.paths import submissions_dir
from hub.core.registry import all_benchmarks, get_benchmark
from hub.core.version import mobench_version
from hub.store import Store, accounts
from hub.store.accounts import Token
from submissions.manifest import MAX_MANIFEST_BYTES, parse_manifest_text
from submissions.queue import submit


@dataclass(frozen=True)
class ServerLimits:
    max_upload_bytes: int = 512 * 1024 * 1024
    chunk_bytes: int = 8 * 1024 * 1024
    requests_per_minute: int = 60
    total_per_day: int = 10  # per token and benchmark, accepted or rejected (platform failures never count)
    valid_per_day: int = 5  # per token and benchmark, not rejected


class RateLimiter:
    """At most `per_minute` requests per token in any 60 s window (in this server process)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, token_id: str) -> bool:
        now = time.monotonic()
        with self._lock:
            seen = self._seen[token_id]
            while seen and now - seen[0] > 60:
                seen.popleft()
            if len(seen) >= self.per_minute:
                return False
            seen.append(now)
            return True


def create_app(db: str | Path, limits: ServerLimits | None = None) -> FastAPI:
    limits = limits or ServerLimits()
    store = Store(db)
    store.init()
    uploads = submissions_dir(store.path).parent / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    limiter = RateLimiter(limits.requests_per_minute)
    # one intake at a time: two requests with the same content must not both pass the duplicate check
    intake_lock = threading.Lock()
    app = FastAPI(title="mobench submission API", version=mobench_version())

    def caller(authorization: Annotated[str | None, Header()] = None) -> Token:
        if not authorization or not authorization.startswith("Bearer "):
            raise HTTPException(401, "send Authorization: Bearer <token> (mobench tokens create NAME)")
        token = accounts.authenticate(store, authorization.removeprefix("Bearer ").strip())
        if token is None:
            raise HTTPException(401, "unknown or revoked token")
        return token

    def starting_caller(token: Annotated[Token, Depends(caller)]) -> Token:
        """A caller starting a submission: these are rate-limited (an upload's chunks are not)."""
        if not limiter.allow(token.id):
            raise HTTPException(429, f"more than {limits.requests_per_minute} requests in a minute: slow down")
        return token

    def check_length(request: Request) -> None:
        declared = request.headers.get("content-length")
        if declared is not None and int(declared) > limits.max_upload_bytes + MAX_MANIFEST_BYTES:
            raise HTTPException(413, f"request larger than {limits.max_upload_bytes} bytes")

    def intake(token: Token, archive: Path) -> dict[str, Any]:
        benchmark = _benchmark_of(archive)
        counts = accounts.daily_counts(store, token, benchmark)
        if counts.total >= limits.total_per_day + token.extra_daily:
            raise HTTPException(429, f"daily quota reached for {benchmark}: {counts.total} submissions in 24 h")
        if counts.valid >= limits.valid_per_day + token.extra_daily:
            raise HTTPException(429, f"daily quota reached for {benchmark}: {counts.valid} valid submissions in 24 h")
        with intake_lock:
            try:
                receipt = submit(archive, store)
            except MobenchError as error:
                accounts.record_request(store, token, benchmark, None, "rejected")
                raise HTTPException(422, str(error)) from None
            accounts.record_request(store, token, benchmark, receipt.id, "duplicate" if receipt.duplicate else "queued")
        return {
            "id": receipt.id,
            "benchmark": receipt.benchmark,
            "status": receipt.status,
            "duplicate": receipt.duplicate,
        }

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": mobench_version(), "schema_version": store.schema_version()}

    @app.get("/benchmarks")
    def benchmarks() -> list[dict[str, Any]]:
        return [
            {
                "id": spec.id,
                "title": spec.title,
                "family": spec.family,
                "primary_metric": spec.primary_metric,
                "higher_is_better": spec.primary.higher_is_better,
                "configs": {c.name: {s.name: s.labels for s in c.splits} for c in spec.configs},
                "prediction_format": spec.prediction_format,
                "license": spec.license.id,
            }
            for spec in all_benchmarks()
        ]

    @app.post("/submissions", status_code=201, dependencies=[Depends(check_length)])
    def post_submission(
        archive: Annotated[UploadFile, File(description="the submission as a .zip")],
        token: Annotated[Token, Depends(starting_caller)],
    ) -> dict[str, Any]:
        path = uploads / f"{uuid.uuid4().hex}.zip"
        try:
            _copy_capped(archive.file, path, limits.max_upload_bytes)
            return intake(token, path)
        finally:
            path.unlink(missing_ok=True)

    @app.get("/submissions/{submission_id}")
    def get_submission(submission_id: str) -> dict[str, Any]:
        return _submission_view(store, submission_id)

    @app.post("/uploads", status_code=201)
    def start_upload(body: dict[str, Any], token: Annotated[Token, Depends(starting_caller)]) -> dict[str, Any]:
        size, digest = body.get("size"), str(body.get("sha256", ""))
        if not isinstance(size, int) or size <= 0 or len(digest) != 64:
            raise HTTPException(422, "send {'size': <bytes>, 'sha256': <64 hex digits>}")
        if size > limits.max_upload_bytes:
            raise HTTPException(413, f"archive larger than {limits.max_upload_bytes} bytes")
        upload_id = uuid.uuid4().hex
        with store.write() as con:
            con.execute(
                "INSERT INTO api_uploads VALUES (?, ?, ?, ?, now()::TIMESTAMP, NULL)",
                [upload_id, token.id, size, digest],
            )
        (uploads / f"{upload_id}.part").touch()
        return {"upload_id": upload_id, "offset": 0, "size": size, "chunk_bytes": limits.chunk_bytes}

    open_uploads: dict[tuple[str, str], tuple[int, str]] = {}  # (upload, token) -> (size, sha256), read once

    def upload_of(upload_id: str, token: Token) -> tuple[Path, int, str]:
        known = open_uploads.get((upload_id, token.id))
        if known is None:  # e.g. after a server restart: the store still knows the upload, the part file stays
            with store.read() as con:
                row = con.execute(
                    "SELECT size, sha256 FROM api_uploads WHERE id = ? AND token_id = ? AND completed_at IS NULL",
                    [upload_id, token.id],
                ).fetchone()
            if row is not None:
                known = open_uploads[(upload_id, token.id)] = (int(row[0]), str(row[1]))
        part = uploads / f"{upload_id}.part"
        if known is None or not part.is_file():
            raise HTTPException(404, f"no open upload {upload_id} for this token")
        return part, known[0], known[1]

    @app.get("/uploads/{upload_id}")
    def upload_status(upload_id: str, token: Annotated[Token, Depends(caller)]) -> dict[str, Any]:
        part, size, _ = upload_of(upload_id, token)
        return {"upload_id": upload_id, "offset": part.stat().st_size, "size": size}

    @app.put("/uploads/{upload_id}")
    async def upload_chunk(
        upload_id: str, request: Request, token: Annotated[Token, Depends(caller)], offset: Annotated[int, Query()]
    ) -> dict[str, Any]:
        part, size, _ = upload_of(upload_id, token)
        have = part.stat().st_size
        if offset != have:
            raise HTTPException(409, f"the upload holds {have} bytes; send the chunk at offset {have}")
        chunk = await request.body()
        if len(chunk) > limits.chunk_bytes or have + len(chunk) > size:
            raise HTTPException(413, f"chunk too large (at most {limits.chunk_bytes} bytes, {size - have} left)")
        with part.open("ab") as handle:
            handle.write(chunk)
        return {"upload_id": upload_id, "offset": have + len(chunk), "size": size}

    @app.post("/uploads/{upload_id}/complete", status_code=201)
    def complete_upload(upload_id: str, token: Annotated[Token, Depends(caller)]) -> dict[str, Any]:
        part, size, digest = upload_of(upload_id, token)
        if part.stat().st_size != size:
            raise HTTPException(409, f"the upload holds {part.stat().st_size} of {size} bytes: send the rest")
        if sha256_file(part) != digest:
            part.unlink()
            raise HTTPException(422, "checksum mismatch: the archive arrived damaged; start the upload again")
        archive = part.with_suffix(".zip")
        part.rename(archive)
        open_uploads.pop((upload_id, token.id), None)
        try:
            receipt = intake(token, archive)
        finally:
            archive.unlink(missing_ok=True)
            with store.write() as con:
                con.execute("UPDATE api_uploads SET completed_at = now()::TIMESTAMP WHERE id = ?", [upload_id])
        return receipt

    return app


def _copy_capped(source: Any, target: Path, cap: int) -> None:
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(1 << 20):
            written += len(chunk)
            if written > cap:
                raise HTTPException(413, f"archive larger than {cap} bytes")
            out.write(chunk)


def _benchmark_of(archive: Path) -> str:
    """The benchmark a zip's manifest names, read without extracting anything (for the quota check), by the same
    hardened YAML loader and size cap as the intake's."""
    try:
        with zipfile.ZipFile(archive) as zf:
            names = [n for n in zf.namelist() if n.rstrip("/").split("/")[-1] == "manifest.yaml"]
            if not names:
                raise HTTPException(422, "the archive has no manifest.yaml")
            with zf.open(min(names, key=len)) as member:
                data = member.read(MAX_MANIFEST_BYTES + 1)
        if len(data) > MAX_MANIFEST_BYTES:
            raise HTTPException(422, f"manifest.yaml: manifest larger than {MAX_MANIFEST_BYTES} bytes")
        raw = parse_manifest_text(data.decode("utf-8"), "manifest.yaml")
    except (zipfile.BadZipFile, zlib.error, UnicodeDecodeError, RuntimeError, NotImplementedError) as error:
        raise HTTPException(422, f"not a readable submission zip: {error}") from None
    except SubmissionError as error:
        raise HTTPException(422, str(error)) from None
    try:
        return get_benchmark(str(raw.get("benchmark"))).id
    except MobenchError as error:
        raise HTTPException(422, f"manifest.yaml: field 'benchmark': {error}") from None


def _submission_view(store: Store, submission_id: str) -> dict[str, Any]:
    with store.read() as con:
        row = con.execute(
            """SELECT id, benchmark_id, config, split, status, reason, created_at, updated_at, worker_id,
                      heartbeat_at, lease_expires_at, attempts, log_excerpt
               FROM submissions WHERE id = ?""",
            [submission_id],
        ).fetchone()
        if row is None:
            raise HTTPException(404, f"no submission {submission_id}")
        history = con.execute(
            "SELECT ts, kind, detail FROM events WHERE submission_id = ? ORDER BY ts", [submission_id]
        ).fetchall()
        scores = con.execute(
            "SELECT metric, value FROM scores WHERE submission_id = ? AND breakdown = '' ORDER BY metric",
            [submission_id],
        ).fetchall()
    keys = ("id", "benchmark", "config", "split", "status", "reason", "created_at", "updated_at", "worker",
            "heartbeat_at", "lease_expires_at", "attempts", "log_excerpt")  # fmt: skip
    view: dict[str, Any] = {k: (str(v) if hasattr(v, "isoformat") else v) for k, v in zip(keys, row, strict=True)}
    view["history"] = [{"at": str(ts), "state": kind, "detail": detail} for ts, kind, detail in history]
    # JSON has no NaN: a metric with nothing to average over is null, as `mobench evaluate --json` prints it
    view["scores"] = {metric: value if value is None or math.isfinite(value) else None for metric, value in scores}
    return view
