"""How a worker's work on a submission ends (`Store.outcomes`), each in one write transaction.

* `publish`: the scores, breakdowns and per-sample scores (Arrow, not row-by-row inserts), the metrics' intervals
  and how they were drawn (`hub.core.bootstrap`), the cost figures chosen
  from the measurement records stored at intake (`hub.store.costs`), the `published` state and the leaderboard row
  (`hub.store.board_rows`). A crash leaves either all of it or none of it.
* `end`: `rejected` (the submitter's fault) or `failed` (the hub's), with the reason and the log excerpt.

A worker passes its id, so a result it reaches after losing its lease is dropped (`LeaseLostError`) instead of
overwriting the new holder's (`hub.store.leases.check_lease`).
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pyarrow as pa

from hub.core.bootstrap import Intervals
from hub.core.evaluation import EvaluationResult
from hub.store import board_rows, costs, notifications
from hub.store.connection import Connection, utc_now
from hub.store.leases import check_lease

# how a worker's work on a submission can end without publishing it
UNPUBLISHED_ENDS = ("rejected", "failed")

_SAMPLE_SCHEMA = pa.schema(
    [("submission_id", pa.string()), ("sample_id", pa.string()), ("metric", pa.string()), ("value", pa.float64())]
)


class Outcomes:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def publish(self, submission_id: str, result: EvaluationResult, *, worker_id: str | None = None) -> None:
        """Write a submission's scores and cost figures and publish it, all in one transaction (only while
        `worker_id`, if given, still holds its lease: a second worker's result for the same content is never
        written twice)."""
        scores, samples = _score_tables(submission_id, result)
        with self._connection.write() as con:
            check_lease(con, submission_id, worker_id)
            con.execute("DELETE FROM scores WHERE submission_id = ?", [submission_id])
            con.execute("DELETE FROM sample_scores WHERE submission_id = ?", [submission_id])
            con.register("incoming_scores", scores)
            con.execute(
                "INSERT INTO scores SELECT submission_id, metric, value, breakdown, breakdown_key FROM incoming_scores"
            )
            con.unregister("incoming_scores")
            con.register("incoming_samples", samples)
            con.execute("INSERT INTO sample_scores SELECT * FROM incoming_samples")
            con.unregister("incoming_samples")
            resampling = write_intervals(con, submission_id, result.intervals)
            records = costs.choose(con, submission_id)
            now = utc_now()
            con.execute(
                """UPDATE submissions SET status = 'published', reason = NULL, n_samples = ?, n_expected = ?,
                   details_json = ?, resampling = ?, updated_at = ?, lease_expires_at = NULL WHERE id = ?""",
                [
                    result.n_samples,
                    result.n_expected,
                    json.dumps(result.details, default=str),
                    resampling,
                    now,
                    submission_id,
                ],
            )
            detail = {"n_samples": result.n_samples, "coverage": result.coverage, "measurement_records": records}
            con.execute("INSERT INTO events VALUES (?, ?, 'published', ?)", [now, submission_id, json.dumps(detail)])
            notifications.enqueue(con, submission_id, "published")
            board_rows.refresh(con, submission_id)

    def end(
        self,
        submission_id: str,
        status: str,
        reason: str,
        *,
        worker_id: str | None = None,
        log_excerpt: str | None = None,
    ) -> None:
        """End a submission unpublished: `rejected` or `failed`, with its reason (and a failure's log excerpt);
        a board row it had from an earlier publication goes."""
        if status not in UNPUBLISHED_ENDS:
            raise ValueError(f"{status!r}: a submission ends unpublished as {' or '.join(UNPUBLISHED_ENDS)}")
        with self._connection.write() as con:
            check_lease(con, submission_id, worker_id)
            now = utc_now()
            con.execute(
                """UPDATE submissions SET status = ?, reason = ?, updated_at = ?, lease_expires_at = NULL,
                          log_excerpt = ? WHERE id = ?""",
                [status, reason, now, log_excerpt, submission_id],
            )
            con.execute("INSERT INTO events VALUES (?, ?, ?, ?)", [now, submission_id, status, reason])
            notifications.enqueue(con, submission_id, status, reason)
            board_rows.refresh(con, submission_id)


def write_intervals(con: duckdb.DuckDBPyConnection, submission_id: str, intervals: Intervals | None) -> str | None:
    """Replace a submission's metric intervals in the caller's transaction; returns how they were drawn (JSON, the
    `submissions.resampling` text), None for a result without intervals."""
    con.execute("DELETE FROM score_intervals WHERE submission_id = ?", [submission_id])
    if intervals is None:
        return None
    con.executemany(
        "INSERT INTO score_intervals VALUES (?, ?, ?, ?)",
        [[submission_id, metric, low, high] for metric, (low, high) in intervals.bounds.items()],
    )
    return json.dumps(intervals.resampling_json())


def _score_tables(submission_id: str, result: EvaluationResult) -> tuple[pa.Table, pa.Table]:
    """The result's aggregate and breakdown scores, and its per-sample scores, as the Arrow tables inserted."""
    scores: dict[str, list[Any]] = {"metric": [], "value": [], "breakdown": [], "breakdown_key": []}

    def add(metric: str, value: float, breakdown: str, key: str) -> None:
        scores["metric"].append(metric)
        scores["value"].append(value)
        scores["breakdown"].append(breakdown)
        scores["breakdown_key"].append(key)

    for metric, value in result.metrics.items():
        add(metric, value, "", "")
    for breakdown, groups in result.breakdowns.items():
        for key, values in groups.items():
            for metric, value in values.items():
                add(metric, value, breakdown, key)
    scores["submission_id"] = [submission_id] * len(scores["metric"])
    samples: dict[str, list[Any]] = {"submission_id": [], "sample_id": [], "metric": [], "value": []}
    for sample_id, values in result.sample_scores.items():
        for metric, value in values.items():
            samples["submission_id"].append(submission_id)
            samples["sample_id"].append(sample_id)
            samples["metric"].append(metric)
            samples["value"].append(value)
    return pa.table(scores), pa.table(samples, schema=_SAMPLE_SCHEMA)
