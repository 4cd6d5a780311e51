"""The API's first gate, an ASGI middleware that decides from the request's headers alone, before one byte of a body
is read: who is calling (`Authorization: Bearer <token>`, the scheme case-insensitive as RFC 7235 says) and
whether the declared `Content-Length` fits the operation. A write without a valid token is answered 401 and a body
declared too large 413, at once, and the connection is closed, so a stranger's 64 MiB never reaches the disk and a
declared 10^12 bytes is never waited for.

A caller over its rate limit is refused (429) the same way, before its body, by the operation's `admit`.

A body that is read is bounded too: its bytes are counted as they arrive (a chunked body has no length to check
first), and it must keep arriving: `idle_s` without a byte, or longer in all than `grace_s` plus its size at
`min_rate` bytes a second, is answered 408.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.store.accounts import Token

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
UNAUTHORIZED = "send Authorization: Bearer <token> (mobench tokens create NAME)"
CLOSE = {"Connection": "close"}


def bearer_secret(header: str) -> str | None:
    """The credentials of a `Bearer` Authorization header (scheme in any case), None for any other form."""
    scheme, _, secret = header.strip().partition(" ")
    secret = secret.strip()
    return secret if scheme.lower() == "bearer" and secret and " " not in secret else None


def unauthorized(detail: str = UNAUTHORIZED) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer", **CLOSE})


@dataclass(frozen=True)
class BodyTiming:
    idle_s: float = 15.0
    grace_s: float = 30.0
    min_rate: float = 64 * 1024  # bytes a second, over the whole body


@dataclass(frozen=True)
class Write:
    """What the guard knows of a write operation: how large its body may be, and `admit`, which refuses a caller
    over its rate limit (an HTTPException 429) and counts the request otherwise."""

    body_bytes: int
    admit: Callable[[Token], None] | None = None


class RequestGuard:
    """Authenticates every request that carries a token (the token, or None, goes to `scope["state"]["token"]`),
    and refuses from the headers a write without one, a body over its operation's limit and a caller its operation
    does not admit. `write(method, path)` is None for no such write operation, which the router refuses (404, 405)
    without reading the body."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticate: Callable[[str], Token | None],
        write: Callable[[str, str], Write | None],
        timing: BodyTiming,
    ) -> None:
        self.app, self.authenticate, self.write, self.timing = app, authenticate, write, timing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            token = await self._token(Headers(scope=scope))
            write = self.write(scope["method"], scope["path"]) if scope["method"] in BODY_METHODS else None
            if write is not None:
                if token is None:
                    raise unauthorized()
                declared = self._declared_size(scope, write.body_bytes)
                if write.admit is not None:
                    write.admit(token)
                receive = self._bounded(receive, write.body_bytes, declared)
        except HTTPException as refusal:
            await _answer(refusal, scope, receive, send)
            return
        scope["state"] = {**scope.get("state", {}), "token": token}
        await self.app(scope, receive, send)

    async def _token(self, headers: Headers) -> Token | None:
        header = headers.get("authorization")
        if header is None:
            return None
        secret = bearer_secret(header)
        if secret is None:
            raise unauthorized("the Authorization header must be: Bearer <token>")
        token = await run_in_threadpool(self.authenticate, secret)
        if token is None:
            raise unauthorized("unknown or revoked token")
        return token

    def _declared_size(self, scope: Scope, limit: int) -> int | None:
        declared = Headers(scope=scope).get("content-length")
        if declared is None:
            return None
        if not declared.strip().isdigit():
            raise HTTPException(400, "Content-Length must be a number of bytes", headers=CLOSE)
        size = int(declared)
        if size > limit:
            raise HTTPException(
                413, f"request body of {size} bytes, larger than the {limit} bytes this takes", headers=CLOSE
            )
        return size

    def _bounded(self, receive: Receive, limit: int, declared: int | None) -> Receive:
        timing = self.timing
        deadline = time.monotonic() + timing.grace_s + (declared if declared is not None else limit) / timing.min_rate
        received = 0
        done = False

        async def bounded() -> Message:
            nonlocal received, done
            if done:  # the body is in: later calls wait for a disconnect, which has no deadline
                return await receive()
            wait = min(timing.idle_s, deadline - time.monotonic())
            try:
                message = await asyncio.wait_for(receive(), timeout=max(wait, 0.0))
            except TimeoutError:
                raise HTTPException(408, "the request body did not arrive in time", headers=CLOSE) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"request body larger than the {limit} bytes this takes", headers=CLOSE)
                done = not message.get("more_body", False)
            return message

        return bounded


async def _answer(refusal: HTTPException, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer a refusal made from the headers, and close the connection: the body was never read."""
    headers: dict[str, Any] = {**(refusal.headers or {}), **CLOSE}
    response = JSONResponse({"detail": refusal.detail}, status_code=refusal.status_code, headers=headers)
    await response(scope, receive, send)
