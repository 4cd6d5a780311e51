"""The HTTP submission API: remote `mobench submit`, token auth, rate limits, daily quotas, resumable uploads.

Endpoints (the OpenAPI spec is served at /openapi.json, the docs at /docs; `submissions.api_schema` declares it):

- `GET /health`, `GET /benchmarks` (what the registry declares; never a data root or a label),
- `POST /submissions` (multipart `archive`: a submission .zip, and optionally `notify_url`, told of every state
  change: `submissions.notify`) and `GET /submissions/{id}`,
- resumable uploads for large archives: `POST /uploads` (declared size + sha256), `PUT /uploads/{id}?offset=N`
  (the next chunk), `GET /uploads/{id}` (how much arrived, to resume after a dropped connection),
  `POST /uploads/{id}/complete` (checksum checked, then the same intake as `POST /submissions`).

Every write needs `Authorization: Bearer <token>` (`mobench tokens create`), checked from the headers before the
body is read, as are the declared size and the token's rate limits (`submissions.api_guard`): one on starting
submissions, another on chunks. Each token has daily quotas per benchmark, reserved atomically before the intake
(`hub.store.accounts.reserve`). Archives then go through exactly the local intake (`submissions.queue.submit`):
safe extraction, strict manifest, nothing executed; messages name files inside the archive, never a server path.

What is public: a submission's state, its history of states and, once published, its aggregate scores (never
per-sample data, ground truth or anything of a hidden split). Only the token that submitted it also sees why it was
rejected or failed, the log excerpt, the worker holding it and the history's details. The server is one process
that takes the store one short transaction at a time (see hub.store.connection); the worker and the leaderboard
run as their own processes beside it.
"""

import math
import re
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, cast

from fastapi import Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException
from starlette.routing import Match

from hub.core.errors import MobenchError, clip, excerpt
from hub.core.paths import submissions_dir
from hub.core.registry import all_benchmarks
from hub.core.version import mobench_version
from hub.store import Store, accounts
from hub.store.accounts import Token
from submissions.api_guard import BodyTiming, RequestGuard, Write, unauthorized
from submissions.api_reads import benchmark_of, submission_view
from submissions.api_schema import (
    UPLOAD_ID,
    BenchmarkInfo,
    Health,
    Receipt,
    SubmissionView,
    UploadBody,
    UploadState,
    links,
    problems,
    upload_request,
)
from submissions.api_uploads import Uploads
from submissions.manifest import MAX_MANIFEST_BYTES
from submissions.notify_url import MAX_URL_CHARS, Subscription
from submissions.queue import submit

SMALL_BODY = 64 * 1024  # what a JSON request or an empty POST may carry
DETAIL_CHARS = 2000  # no error message is longer (a submitter's input is quoted in short excerpts anyway)


@dataclass(frozen=True)
class ServerLimits:
    max_upload_bytes: int = 512 * 1024 * 1024
    chunk_bytes: int = 8 * 1024 * 1024
    requests_per_minute: int = 60  # starting a submission or an upload
    chunks_per_minute: int = 600
    total_per_day: int = 10  # per token and benchmark, accepted or rejected (platform failures never count)
    valid_per_day: int = 5  # per token and benchmark, not rejected
    upload_ttl_s: float = 24 * 3600  # an upload left incomplete this long expires
    notify_allow_private: bool = False  # a notify_url may name a loopback or private address (submissions.notify_url)
    body: BodyTiming = field(default_factory=BodyTiming)


class RateLimiter:
    """At most `per_minute` requests per token in any 60 s window (in this server process)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, token_id: str, what: str) -> None:
        """Count one request, or refuse it with 429 and the seconds until a place frees."""
        now = time.monotonic()
        with self._lock:
            seen = self._seen[token_id]
            while seen and now - seen[0] > 60:
                seen.popleft()
            if len(seen) >= self.per_minute:
                wait = math.ceil(60 - (now - seen[0])) or 1
                raise HTTPException(
                    429, f"more than {self.per_minute} {what} in a minute: slow down", {"Retry-After": str(wait)}
                )
            seen.append(now)


def create_app(db: str | Path, limits: ServerLimits | None = None) -> FastAPI:
    limits = limits or ServerLimits()
    store = Store(db)
    store.init()
    uploads = Uploads(
        store, submissions_dir(store.path).parent / "uploads", chunk_bytes=limits.chunk_bytes, ttl_s=limits.upload_ttl_s
    )
    uploads.expire()
    starts, chunks = RateLimiter(limits.requests_per_minute), RateLimiter(limits.chunks_per_minute)
    # one intake at a time: two requests with the same content must not both pass the duplicate check
    intake_lock = threading.Lock()
    app = FastAPI(title="mobench submission API", version=mobench_version())
    bearer = HTTPBearer(auto_error=False, description="a token from `mobench tokens create NAME`")

    def write_operation(method: str, path: str) -> Write | None:
        """Each write operation's body limit and rate limit, for the guard (None: no such operation)."""
        if method == "POST" and path in ("/submissions", "/uploads"):
            # the archive and its multipart envelope, or a small JSON declaration; either starts a submission
            size = limits.max_upload_bytes + MAX_MANIFEST_BYTES if path == "/submissions" else SMALL_BODY
            return Write(size, lambda token: starts.check(token.id, "submissions"))
        if method == "PUT" and re.fullmatch(r"/uploads/[^/]+", path):
            return Write(limits.chunk_bytes, lambda token: chunks.check(token.id, "chunks"))
        if method == "POST" and re.fullmatch(r"/uploads/[^/]+/complete", path):
            return Write(SMALL_BODY)
        return None

    app.add_middleware(
        RequestGuard,
        authenticate=lambda secret: accounts.authenticate(store, secret),
        write=write_operation,
        timing=limits.body,
    )
    _answer_problems_as_one_line(app)

    def maybe_caller(
        request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> Token | None:
        token: Token | None = getattr(request.state, "token", None)  # checked by RequestGuard from the headers
        return token

    def caller(token: Annotated[Token | None, Depends(maybe_caller)]) -> Token:
        if token is None:
            raise unauthorized()
        return token

    def intake(token: Token, archive: Path, shown: str, notify_url: str | None = None) -> Receipt:
        benchmark = benchmark_of(archive, shown)
        try:
            request_id = accounts.reserve(
                store, token, benchmark, total_per_day=limits.total_per_day, valid_per_day=limits.valid_per_day
            )
        except accounts.QuotaExceeded as error:
            raise HTTPException(429, str(error), {"Retry-After": str(error.retry_after_s)}) from None
        try:
            with intake_lock:
                notify = Subscription(token.id, notify_url, limits.notify_allow_private)
                receipt = submit(archive, store, shown=shown, notify=notify)
        except MobenchError as error:
            accounts.settle(store, request_id, None, "rejected")
            raise HTTPException(422, str(error)) from None
        except BaseException:
            accounts.release(store, request_id)
            raise
        if receipt.duplicate and not accounts.owns(store, token, receipt.id):
            accounts.settle(store, request_id, receipt.id, "duplicate")
            raise HTTPException(
                409,
                f"this content was already submitted by another token: its public state is /submissions/{receipt.id}",
            )
        accounts.settle(store, request_id, receipt.id, "duplicate" if receipt.duplicate else "queued")
        return Receipt(id=receipt.id, benchmark=receipt.benchmark, status=receipt.status, duplicate=receipt.duplicate)

    @app.get("/health", operation_id="health")
    def health() -> Health:
        return Health(status="ok", version=mobench_version(), schema_version=store.schema_version())

    @app.get("/benchmarks", operation_id="list_benchmarks")
    def benchmarks() -> list[BenchmarkInfo]:
        return [
            BenchmarkInfo(
                id=spec.id,
                title=spec.title,
                family=spec.family,
                primary_metric=spec.primary_metric,
                higher_is_better=spec.primary.higher_is_better,
                configs={c.name: {s.name: s.labels for s in c.splits} for c in spec.configs},
                prediction_format=spec.prediction_format,
                license=spec.license.id,
            )
            for spec in all_benchmarks()
        ]

    status_link = {"GetSubmission": ("get_submission", {"submission_id": "$response.body#/id"})}

    @app.post(
        "/submissions",
        status_code=201,
        operation_id="post_submission",
        openapi_extra={
            "requestBody": {
                "content": {"multipart/form-data": {"encoding": {"archive": {"contentType": "application/zip"}}}}
            }
        },
        responses={
            **links(201, "queued, or the same content this token sent before", **status_link),
            **problems(400, 401, 408, 409, 413, 422, 429),
        },
    )
    def post_submission(
        archive: Annotated[UploadFile, File(description="the submission as a .zip")],
        token: Annotated[Token, Depends(caller)],
        notify_url: Annotated[
            str | None,
            Form(
                max_length=MAX_URL_CHARS,
                description="an http(s) URL POSTed a signed JSON event at every state change (or the manifest's "
                "notify_url); see the README's Notifications",
            ),
        ] = None,
    ) -> Receipt:
        path = uploads.folder / f"{uuid.uuid4().hex}.zip"
        try:
            _copy_capped(archive.file, path, limits.max_upload_bytes)
            return intake(token, path, _shown_name(archive.filename), notify_url)
        finally:
            path.unlink(missing_ok=True)

    @app.get(
        "/submissions/{submission_id}",
        operation_id="get_submission",
        openapi_extra={"security": [{}, {"HTTPBearer": []}]},  # public; a token shows its owner more
        responses=problems(401, 404),
    )
    def get_submission(submission_id: str, token: Annotated[Token | None, Depends(maybe_caller)]) -> SubmissionView:
        return submission_view(store, submission_id, token)

    upload_link = {"upload_id": "$response.body#/upload_id"}
    UploadRequest = upload_request(limits.max_upload_bytes)

    @app.post(
        "/uploads",
        status_code=201,
        operation_id="start_upload",
        responses={
            **links(
                201,
                "the upload is open: send chunks from offset 0",
                PutChunk=("upload_chunk", {**upload_link, "offset": "$response.body#/offset"}),
                GetUpload=("upload_status", upload_link),
                Complete=("complete_upload", upload_link),
            ),
            **problems(400, 401, 408, 413, 422, 429),
        },
    )
    def start_upload(body: UploadRequest, token: Annotated[Token, Depends(caller)]) -> UploadState:  # type: ignore[valid-type]
        upload = cast(UploadBody, body)  # UploadRequest is UploadBody with this server's size limit
        upload_id = uploads.start(token, upload.size, upload.sha256)
        return UploadState(upload_id=upload_id, offset=0, size=upload.size, chunk_bytes=limits.chunk_bytes)

    upload_id_path = Annotated[str, PathParam(pattern=UPLOAD_ID, description="the id `POST /uploads` returned")]

    @app.get("/uploads/{upload_id}", operation_id="upload_status", responses=problems(401, 404, 422))
    def upload_status(upload_id: upload_id_path, token: Annotated[Token, Depends(caller)]) -> UploadState:
        part, size, _ = uploads.find(upload_id, token)
        return UploadState(upload_id=upload_id, offset=part.stat().st_size, size=size, chunk_bytes=limits.chunk_bytes)

    @app.put(
        "/uploads/{upload_id}",
        operation_id="upload_chunk",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary", "minLength": 1}}
                },
            }
        },
        responses={
            **links(
                200,
                "the chunk is stored: the next starts at `offset`",
                PutChunk=("upload_chunk", {"upload_id": "$request.path.upload_id", "offset": "$response.body#/offset"}),
                Complete=("complete_upload", {"upload_id": "$request.path.upload_id"}),
            ),
            **problems(400, 401, 404, 408, 409, 413, 422, 429),
        },
    )
    async def upload_chunk(
        upload_id: upload_id_path,
        request: Request,
        token: Annotated[Token, Depends(caller)],
        offset: Annotated[int, Query(ge=0, description="where this chunk starts: the bytes the upload holds")],
    ) -> UploadState:
        part, size, _ = uploads.find(upload_id, token)
        declared = request.headers.get("content-length")
        with uploads.writing(upload_id):
            held = await uploads.append(
                part, size, offset, int(declared) if declared is not None else None, request.stream()
            )
        return UploadState(upload_id=upload_id, offset=held, size=size, chunk_bytes=limits.chunk_bytes)

    @app.post(
        "/uploads/{upload_id}/complete",
        status_code=201,
        operation_id="complete_upload",
        responses={**links(201, "the archive is submitted", **status_link), **problems(401, 404, 409, 413, 422, 429)},
    )
    def complete_upload(upload_id: upload_id_path, token: Annotated[Token, Depends(caller)]) -> Receipt:
        part, size, digest = uploads.find(upload_id, token)
        with uploads.writing(upload_id):
            archive = uploads.complete(upload_id, part, size, digest)
            try:
                return intake(token, archive, "the uploaded archive")
            finally:
                archive.unlink(missing_ok=True)
                uploads.close(upload_id)

    return app


def _answer_problems_as_one_line(app: FastAPI) -> None:
    """Every error body is {"detail": "<one line>"} as the spec declares: validation errors are worded as one line,
    a 405 lists every method of its path in Allow (Starlette lists the first matching route's only), and no detail
    is longer than DETAIL_CHARS."""

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:5]]
        return JSONResponse({"detail": clip("invalid request: " + "; ".join(parts), DETAIL_CHARS)}, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            allowed = {
                method
                for route in app.router.routes
                if route.matches(request.scope)[0] != Match.NONE
                for method in getattr(route, "methods", None) or ()
            }
            headers["Allow"] = ", ".join(sorted(allowed))
        return JSONResponse(
            {"detail": clip(str(exc.detail), DETAIL_CHARS)}, status_code=exc.status_code, headers=headers
        )


def _shown_name(filename: str | None) -> str:
    """How messages name an uploaded archive: its client-side file name, quoted short, or a neutral name."""
    return f"archive {excerpt(Path(filename).name, 80)}" if filename else "the uploaded archive"


def _copy_capped(source: Any, target: Path, cap: int) -> None:
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(1 << 20):
            written += len(chunk)
            if written > cap:
                raise HTTPException(413, f"archive larger than {cap} bytes")
            out.write(chunk)
