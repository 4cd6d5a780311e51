"""Leases: how several workers share one queue and survive being killed.

A claim leases a submission to one worker for a while (it enters `validating`); the worker renews the lease by
heart-beating and moves it to `scoring` (`advance`); a lease that expires (the worker died) makes the submission
claimable again, whatever active state it was in. Every write of the worker checks that it still holds the lease
(`check_lease`, also called by `hub.store.outcomes` in the transaction that ends its work), so a submission is
scored exactly once whatever is killed when.
"""

from __future__ import annotations

from datetime import timedelta

import duckdb

from hub.core.errors import LeaseLostError
from hub.store import notifications
from hub.store.connection import Connection, utc_now
from hub.store.rows import SubmissionRow
from hub.store.schema import ACTIVE_STATUSES

_ACTIVE_SQL = "(" + ", ".join(f"'{status}'" for status in ACTIVE_STATUSES) + ")"

# how long a claimed submission stays leased to its worker without a heartbeat
DEFAULT_LEASE_S = 60.0


class Leases:
    """The workers' leases on the store's submissions (`Store.leases`): claim, heartbeat, advance."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def claim_next(self, worker_id: str = "local", *, lease_s: float = DEFAULT_LEASE_S) -> SubmissionRow | None:
        """Lease the oldest claimable submission to `worker_id` for `lease_s` seconds and return it as `validating`
        (None when nothing is claimable).

        Claimable: `queued`, or in an active state under a lease that expired (its worker stopped heart-beating:
        killed, crashed, cut off), which is logged as `requeued`. The select and the update run in one write
        transaction, and write transactions take turns (`hub.store.connection`), so two workers can never claim the
        same one.
        """
        with self._connection.write() as con:
            now = utc_now()
            row = con.execute(
                f"""SELECT id, benchmark_id, config, split, status, reason, storage_path, is_baseline, synthetic,
                          worker_id
                   FROM submissions
                   WHERE status = 'queued' OR (status IN {_ACTIVE_SQL} AND lease_expires_at < ?)
                   ORDER BY created_at, id LIMIT 1""",
                [now],
            ).fetchone()
            if row is None:
                return None
            *fields, previous = row
            requeued = None
            if fields[4] != "queued":
                requeued = f"the lease of worker {previous} expired while {fields[4]} (no heartbeat)"
                con.execute("INSERT INTO events VALUES (?, ?, 'requeued', ?)", [now, fields[0], requeued])
            con.execute(
                """UPDATE submissions SET status = 'validating', worker_id = ?, lease_expires_at = ?, heartbeat_at = ?,
                          attempts = attempts + 1, updated_at = ? WHERE id = ?""",
                [worker_id, now + timedelta(seconds=lease_s), now, now, fields[0]],
            )
            con.execute("INSERT INTO events VALUES (?, ?, 'validating', ?)", [now, fields[0], f"worker {worker_id}"])
            notifications.enqueue(con, fields[0], "validating", requeued)
        claimed = SubmissionRow(*fields)
        return SubmissionRow(**{**claimed.__dict__, "status": "validating"})

    def heartbeat(self, submission_id: str, worker_id: str, *, lease_s: float = DEFAULT_LEASE_S) -> bool:
        """Renew `worker_id`'s lease on a submission it is working on; False when it no longer holds it."""
        with self._connection.write() as con:
            now = utc_now()
            renewed = con.execute(  # an UPDATE returns how many rows it changed (a DuckLake has no RETURNING)
                f"""UPDATE submissions SET lease_expires_at = ?, heartbeat_at = ?
                   WHERE id = ? AND status IN {_ACTIVE_SQL} AND worker_id = ?""",
                [now + timedelta(seconds=lease_s), now, submission_id, worker_id],
            ).fetchone()
        return bool(renewed and renewed[0])

    def advance(self, submission_id: str, status: str, worker_id: str, detail: str | None = None) -> None:
        """Move a submission `worker_id` holds to the next active state, with its time and detail in the history."""
        if status not in ACTIVE_STATUSES:
            raise ValueError(f"{status!r} is not an active state ({', '.join(ACTIVE_STATUSES)})")
        with self._connection.write() as con:
            check_lease(con, submission_id, worker_id)
            now = utc_now()
            con.execute("UPDATE submissions SET status = ?, updated_at = ? WHERE id = ?", [status, now, submission_id])
            con.execute("INSERT INTO events VALUES (?, ?, ?, ?)", [now, submission_id, status, detail])
            notifications.enqueue(con, submission_id, status)


def check_lease(con: duckdb.DuckDBPyConnection, submission_id: str, worker_id: str | None) -> None:
    """Inside the caller's write transaction: `worker_id` (if given) must still hold the submission's lease."""
    if worker_id is None:
        return
    row = con.execute("SELECT status, worker_id FROM submissions WHERE id = ?", [submission_id]).fetchone()
    if row is None or row[0] not in ACTIVE_STATUSES or row[1] != worker_id:
        raise LeaseLostError(f"submission {submission_id[:12]}: worker {worker_id} no longer holds it")
