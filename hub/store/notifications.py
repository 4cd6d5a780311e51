"""The notifications outbox: one row per state change of a submission that named a `notify_url`.

A state change and its notification are one write: `enqueue` runs inside the transaction that changes the state
(intake, a claim, `advance`, `publish`, `end`), so a notification exists exactly when its state change committed,
whatever is killed when, and nothing is sent from inside a transaction. The deliverer (`submissions.notify`) sends
the rows later, from any process, through `Notifications`:

* `claim_next` takes the oldest due row, in its submission's order (no row is sent while an earlier one of the same
  submission is still pending), and leases it to the caller for a while, so two deliverers never send one row at
  once and a deliverer killed mid-send leaves a row that is sent again when the lease ends (at least once: the
  event's id lets a receiver drop a repeat);
* the per-token cap is counted in the same transaction: a row first taken for delivery counts against its token
  for 24 hours, and a row beyond the cap is `dropped`, with the reason in `last_error`, never sent;
* `record` writes what an attempt gave: `delivered`, another try at a later time, or `gave-up`.

The event's body is built at enqueue, from the transaction's own rows (the scores of a published submission are
those just written), so it says what the state change was, not what the store holds when it is sent.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb

from hub.core.errors import clip
from hub.core.evaluation import finite_or_none
from hub.store.connection import Connection, utc_now

PENDING, DELIVERED, GAVE_UP, DROPPED = "pending", "delivered", "gave-up", "dropped"
NOTIFICATION_STATUSES = (PENDING, DELIVERED, GAVE_UP, DROPPED)
REASON_CHARS = 2000  # an event's reason is cut to this (the API cuts its messages to the same length)
CAP_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class Due:
    """A notification leased to one deliverer: where to send it, what, and the secret that signs it."""

    id: str
    submission_id: str
    url: str
    body: str
    attempts: int  # this one included
    secret: str


def subscribe(con: duckdb.DuckDBPyConnection, submission_id: str, url: str, token_id: str) -> None:
    """In the intake's transaction: `submission_id` is notified at `url`, signed with `token_id`'s secret, from its
    first state (`queued`) on."""
    con.execute("UPDATE submissions SET notify_url = ?, notify_token = ? WHERE id = ?", [url, token_id, submission_id])
    enqueue(con, submission_id, "queued")


def enqueue(con: duckdb.DuckDBPyConnection, submission_id: str, state: str, reason: str | None = None) -> None:
    """In the caller's state-change transaction: the event of `submission_id` entering `state`, if it named a
    notify_url (otherwise nothing)."""
    row = con.execute(
        "SELECT notify_url, notify_token, benchmark_id FROM submissions WHERE id = ?", [submission_id]
    ).fetchone()
    if row is None or row[0] is None:
        return
    url, token_id, benchmark = str(row[0]), str(row[1]), str(row[2])
    now = utc_now()
    sequence = _count(con, "SELECT count(*) FROM notifications WHERE submission_id = ?", [submission_id]) + 1
    event_id = uuid.uuid4().hex
    scores: dict[str, float | None] | None = None
    if state == "published":
        rows = con.execute(
            "SELECT metric, value FROM scores WHERE submission_id = ? AND breakdown = '' ORDER BY metric",
            [submission_id],
        ).fetchall()
        scores = {str(m): finite_or_none(v) for m, v in rows}
    body: dict[str, Any] = {
        "event": event_id,
        "id": submission_id,
        "benchmark": benchmark,
        "state": state,
        "reason": clip(reason, REASON_CHARS) if reason else None,
        "scores": scores,
        "sequence": sequence,
        "at": now.isoformat(timespec="microseconds") + "Z",
    }
    con.execute(
        """INSERT INTO notifications (id, submission_id, sequence, token_id, url, state, body, status, attempts,
                                      created_at, next_attempt_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)""",
        [event_id, submission_id, sequence, token_id, url, state, json.dumps(body, allow_nan=False), now, now],
    )


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> int:
    row = con.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


class Notifications:
    """The outbox as the deliverer sees it (`Store.notifications`): claim the next due row, record an attempt."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def claim_next(self, *, lease_s: float, per_token_daily: int) -> Due | None:
        """Lease the oldest due notification to the caller for `lease_s` seconds (None when nothing is due).

        Due: pending, its retry time reached, and no earlier event of its submission still pending. On the way,
        rows that must not be sent are `dropped` with the reason: the token was revoked or has no secret, or it
        already had `per_token_daily` notifications taken for delivery in the last 24 hours.
        """
        with self._connection.write() as con:
            now = utc_now()
            candidates = con.execute(
                """SELECT n.id, n.submission_id, n.token_id, n.url, n.body, n.attempts, t.notify_secret,
                          t.revoked_at IS NOT NULL
                   FROM notifications n LEFT JOIN api_tokens t ON t.id = n.token_id
                   WHERE n.status = 'pending' AND n.next_attempt_at <= $now
                     AND NOT EXISTS (SELECT 1 FROM notifications e WHERE e.submission_id = n.submission_id
                                     AND e.status = 'pending' AND e.sequence < n.sequence)
                   ORDER BY n.created_at, n.sequence""",
                {"now": now},
            ).fetchall()
            taken: Counter[str] = Counter()
            for event_id, submission_id, token_id, url, body, attempts, secret, revoked in candidates:
                if revoked or secret is None:
                    why = "the token was revoked" if revoked else "the token has no signing secret"
                    _finish(con, event_id, DROPPED, why, now)
                    continue
                if attempts == 0:
                    if token_id not in taken:
                        taken[token_id] = _count(
                            con,
                            "SELECT count(*) FROM notifications WHERE token_id = ? AND first_attempt_at > ?",
                            [token_id, now - CAP_WINDOW],
                        )
                    if taken[token_id] >= per_token_daily:
                        why = f"the token's cap of {per_token_daily} notifications in 24 hours was reached"
                        _finish(con, event_id, DROPPED, why, now)
                        continue
                con.execute(
                    """UPDATE notifications SET attempts = attempts + 1, next_attempt_at = ?,
                              first_attempt_at = coalesce(first_attempt_at, ?) WHERE id = ?""",
                    [now + timedelta(seconds=lease_s), now, event_id],
                )
                return Due(str(event_id), str(submission_id), str(url), str(body), int(attempts) + 1, str(secret))
        return None

    def record(self, event_id: str, status: str, error: str | None = None, *, retry_at: datetime | None = None) -> None:
        """What an attempt gave: `delivered` or `gave-up` (final), or `pending` again at `retry_at`; `error` says
        what went wrong (kept after a later success, as the history of the delivery)."""
        with self._connection.write() as con:
            if status == PENDING:
                if retry_at is None:
                    raise ValueError("a notification tried again needs its retry_at")
                con.execute(
                    "UPDATE notifications SET next_attempt_at = ?, last_error = ? WHERE id = ?",
                    [retry_at, error, event_id],
                )
            else:
                _finish(con, event_id, status, error, utc_now())

    def counts(self) -> dict[str, int]:
        """How many notifications are in each status (every status listed, zeros included)."""
        with self._connection.read() as con:
            rows = con.execute("SELECT status, count(*) FROM notifications GROUP BY status").fetchall()
        found = {str(status): int(n) for status, n in rows}
        return {status: found.get(status, 0) for status in NOTIFICATION_STATUSES}


def _finish(con: duckdb.DuckDBPyConnection, event_id: str, status: str, error: str | None, now: datetime) -> None:
    if status not in (DELIVERED, GAVE_UP, DROPPED):
        raise ValueError(f"{status!r} does not end a notification")
    con.execute(
        """UPDATE notifications SET status = ?, finished_at = ?, next_attempt_at = NULL,
                  last_error = coalesce(?, last_error) WHERE id = ?""",
        [status, now, error, event_id],
    )
