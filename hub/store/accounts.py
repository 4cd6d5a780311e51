"""The HTTP API's accounts: submission tokens (only their sha256 is stored), the requests each token made, and the
daily quotas they are counted against (per benchmark, as EvalAI does).

Quotas are fair by construction: a submission the platform failed on (`failed`: a bug or an environment problem on
the hub's side) never counts; `total` counts every accepted or rejected attempt, `valid` only those that were not
rejected. A maintainer can grant a token extra submissions per day.

Quotas are atomic: a request *reserves* its place (`reserve`: count and insert in one write transaction, which no
other write of any process overlaps) before its intake runs, and `settle`s it with the outcome afterwards, or
`release`s it when the hub failed. Eight concurrent requests against a quota of two get two places, not eight.

Each token also has a notification signing secret (`notify_secret`), kept in clear because the deliverer signs
with it (`submissions.notify`).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.core.errors import MobenchError
from hub.store.connection import utc_now
from hub.store.database import Store

TOKEN_BYTES = 32


@dataclass(frozen=True)
class Token:
    id: str
    name: str
    extra_daily: int


@dataclass(frozen=True)
class DailyCounts:
    total: int
    valid: int


class QuotaExceeded(MobenchError):
    """The token's daily quota for the benchmark is used up; `retry_after_s` says when a place frees."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


WINDOW = timedelta(days=1)
# What counts against a token's daily quotas for one benchmark: platform failures and duplicates never count; a
# reservation (a request whose intake is running) counts as valid until it is settled.
_COUNTS = """
    SELECT count(*) FILTER (WHERE coalesce(s.status, '') <> 'failed'),
           count(*) FILTER (WHERE r.outcome <> 'rejected' AND coalesce(s.status, '') NOT IN ('failed', 'rejected')),
           min(r.requested_at) FILTER (WHERE coalesce(s.status, '') <> 'failed')
    FROM api_requests r LEFT JOIN submissions s ON s.id = r.submission_id
    WHERE r.token_id = ? AND r.benchmark_id = ? AND r.requested_at > ? AND r.outcome <> 'duplicate'
"""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(store: Store, name: str) -> tuple[Token, str]:
    """A new token for `name`; returns it and the secret, which is shown once and never stored. The token also
    gets a notification signing secret (`notify_secret`)."""
    secret = "mb_" + secrets.token_urlsafe(TOKEN_BYTES)
    token = Token(id=uuid.uuid4().hex[:12], name=name, extra_daily=0)
    store.init()
    with store.write() as con:
        con.execute(
            """INSERT INTO api_tokens (id, name, token_sha256, created_at, revoked_at, extra_daily, notify_secret)
               VALUES (?, ?, ?, ?, NULL, 0, ?)""",
            [token.id, name, token_hash(secret), utc_now(), _new_notify_secret()],
        )
        con.execute("INSERT INTO events VALUES (?, NULL, 'token-created', ?)", [utc_now(), f"{token.id} ({name})"])
    return token, secret


def authenticate(store: Store, secret: str) -> Token | None:
    """The live token whose secret this is (None for an unknown or revoked one)."""
    with store.read() as con:
        row = con.execute(
            "SELECT id, name, extra_daily FROM api_tokens WHERE token_sha256 = ? AND revoked_at IS NULL",
            [token_hash(secret)],
        ).fetchone()
    return Token(str(row[0]), str(row[1]), int(row[2])) if row else None


def _new_notify_secret() -> str:
    return "mbn_" + secrets.token_urlsafe(TOKEN_BYTES)


def notify_secret(store: Store, token_id: str) -> str | None:
    """The key that signs `token_id`'s notifications (None: a token made before notifications, or unknown).

    Kept in clear, unlike the token: the deliverer needs it to sign, and it opens nothing on the hub (whoever holds
    it can forge a notification to the token's holder, no more). The operator shows it to the holder with the
    token (`mobench tokens create`, `mobench tokens notify-secret`)."""
    with store.read() as con:
        row = con.execute("SELECT notify_secret FROM api_tokens WHERE id = ?", [token_id]).fetchone()
    return str(row[0]) if row and row[0] is not None else None


def rotate_notify_secret(store: Store, token_id: str) -> str:
    """Give a live token a new notification signing secret (the first, for a token made before notifications)
    and return it: events sent from now on are signed with it."""
    secret = _new_notify_secret()
    _update(store, token_id, "UPDATE api_tokens SET notify_secret = ? WHERE id = ? AND revoked_at IS NULL", [secret])
    return secret


def revoke_token(store: Store, token_id: str) -> None:
    _update(store, token_id, "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [utc_now()])


def grant_extra(store: Store, token_id: str, extra_daily: int) -> None:
    if extra_daily < 0:
        raise MobenchError("--extra must be 0 or more submissions per day")
    _update(store, token_id, "UPDATE api_tokens SET extra_daily = ? WHERE id = ?", [extra_daily])


def _update(store: Store, token_id: str, sql: str, params: list[object]) -> None:
    with store.write() as con:
        changed = con.execute(sql, [*params, token_id]).fetchone()  # how many rows (a DuckLake has no RETURNING)
    if not changed or not changed[0]:
        raise MobenchError(f"no live token {token_id!r}: `mobench tokens list` shows them")


def list_tokens(store: Store) -> list[dict[str, object]]:
    with store.read() as con:
        rows = con.execute(
            "SELECT id, name, created_at, revoked_at, extra_daily FROM api_tokens ORDER BY created_at"
        ).fetchall()
    keys = ("id", "name", "created_at", "revoked_at", "extra_daily")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def reserve(store: Store, token: Token, benchmark_id: str, *, total_per_day: int, valid_per_day: int) -> str:
    """Reserve one of the token's daily places for `benchmark_id` (its extra grant added) and return the request's
    id; a `QuotaExceeded` when none is left. The count and the reservation are one write transaction."""
    request_id = uuid.uuid4().hex
    now = utc_now()
    with store.write() as con:
        row = con.execute(_COUNTS, [token.id, benchmark_id, now - WINDOW]).fetchone()
        counts = DailyCounts(int(row[0]), int(row[1])) if row else DailyCounts(0, 0)
        oldest: datetime | None = row[2] if row else None
        retry_after = max(1, int(((oldest + WINDOW) - now).total_seconds()) + 1) if oldest else 1
        if counts.total >= total_per_day + token.extra_daily:
            raise QuotaExceeded(
                f"daily quota reached for {benchmark_id}: {counts.total} submissions in 24 h", retry_after
            )
        if counts.valid >= valid_per_day + token.extra_daily:
            raise QuotaExceeded(
                f"daily quota reached for {benchmark_id}: {counts.valid} valid submissions in 24 h", retry_after
            )
        con.execute(
            "INSERT INTO api_requests VALUES (?, ?, NULL, 'reserved', ?, ?)", [token.id, benchmark_id, now, request_id]
        )
    return request_id


def settle(store: Store, request_id: str, submission_id: str | None, outcome: str) -> None:
    """Record what a reserved request became: `queued`, `duplicate` (counts nothing) or `rejected`."""
    with store.write() as con:
        con.execute(
            "UPDATE api_requests SET submission_id = ?, outcome = ? WHERE request_id = ?",
            [submission_id, outcome, request_id],
        )


def release(store: Store, request_id: str) -> None:
    """Give a reservation back: the hub failed, not the submitter."""
    with store.write() as con:
        con.execute("DELETE FROM api_requests WHERE request_id = ? AND outcome = 'reserved'", [request_id])


def owns(store: Store, token: Token, submission_id: str) -> bool:
    """Whether `token` submitted `submission_id` (its owner sees the rejection reason, the log and the worker)."""
    with store.read() as con:
        row = con.execute(
            "SELECT count(*) FROM api_requests WHERE token_id = ? AND submission_id = ? AND outcome = 'queued'",
            [token.id, submission_id],
        ).fetchone()
    return bool(row and row[0])


def daily_counts(store: Store, token: Token, benchmark_id: str) -> DailyCounts:
    """What `token` submitted to `benchmark_id` in the last 24 h, platform failures left out."""
    with store.read() as con:
        row = con.execute(_COUNTS, [token.id, benchmark_id, utc_now() - WINDOW]).fetchone()
    return DailyCounts(int(row[0]), int(row[1])) if row else DailyCounts(0, 0)
