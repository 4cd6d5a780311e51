"""The store: one object per store that holds its connection and the collaborators that each do one job.

`Store` holds a `Connection` (`hub.store.connection`: a DuckDB file, or a DuckLake on a PostgreSQL catalog shared by
several machines; the CLI, worker and leaderboard never notice which) and gives each job to a small object over it:

* `store.benchmarks` (`hub.store.benchmarks`): registered data roots and hidden answer keys;
* `store.leases` (`hub.store.leases`): the workers' claims, heartbeats and moves between active states;
* `store.outcomes` (`hub.store.outcomes`): publishing a scored submission (scores, cost figures, leaderboard row)
  or ending it `rejected` / `failed`;
* `store.notifications` (`hub.store.notifications`): the outbox of state-change notifications, as the deliverer
  claims and records them (each state change writes its own row, in its own transaction).

The `Store` itself creates and migrates the schema (`hub.store.schema`), records submissions at intake and finds
and lists them, copies a whole store, and passes `read()` / `write()` (and the location's `name`, `path`,
`exists()`) through to its connection, which every query elsewhere uses. The API's tokens and quotas are functions
over a store (`hub.store.accounts`), as is reading a scored result back (`hub.store.results`).

Write transactions take turns on either backend, so each write checks what is there and then inserts, inside its
transaction: a DuckLake has no PRIMARY KEY, UNIQUE or ON CONFLICT, and the store never relies on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from hub.core.errors import MobenchError
from hub.core.measurements.record import MeasurementRecord
from hub.core.paths import submissions_dir
from hub.store import board_rows, costs, notifications, schema, training
from hub.store.benchmarks import Benchmarks
from hub.store.connection import Connection, row_key, utc_now
from hub.store.leases import Leases
from hub.store.notifications import Notifications
from hub.store.outcomes import Outcomes
from hub.store.rows import NewSubmission, SubmissionRow


class Store:
    """A mobench store (a DuckDB file or a DuckLake URL). Cheap to construct; opens it only inside `write()` /
    `read()`."""

    def __init__(self, location: str | Path, *, lock_timeout_s: float = 10.0) -> None:
        self.connection = Connection(location, lock_timeout_s=lock_timeout_s)
        self.benchmarks = Benchmarks(self.connection)
        self.leases = Leases(self.connection)
        self.outcomes = Outcomes(self.connection)
        self.notifications = Notifications(self.connection)

    # -- the connection, which every query of the project goes through ----------------------------------------
    @property
    def location(self) -> str:
        """What the store was opened with: a DuckDB file's path or a DuckLake URL."""
        return self.connection.location

    @property
    def path(self) -> Path:
        """The DuckDB file or the lake's data folder: accepted submissions are kept beside it."""
        return self.connection.path

    @property
    def name(self) -> str:
        """The store for messages: the file's path, or the lake's URL without its password."""
        return self.connection.name

    def exists(self) -> bool:
        return self.connection.exists()

    def write(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """One read-write transaction: committed when the block ends, rolled back if it raises."""
        return self.connection.write()

    def read(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """One read transaction (one snapshot, even on a lake that others write to)."""
        return self.connection.read()

    # -- schema ------------------------------------------------------------------------------------------------
    def init(self) -> int:
        """Create or migrate the schema and derive the cost figures, training-data badges and leaderboard rows that
        submissions lack (rows written before those existed, or behind the store's back) or whose badge today's
        specs read differently (`hub.store.training`); returns the schema version."""
        while True:
            with self.write() as con:
                if schema.migrate_step(con, self.name):
                    continue
                costs.fill_missing(con)
                training.refresh(con)  # before the board rows: it drops the rows whose badge it changes
                board_rows.fill_missing(con)
                return schema.SCHEMA_VERSION

    def schema_version(self) -> int:
        with self.read() as con:
            return schema.version(con)

    # -- submissions -------------------------------------------------------------------------------------------
    def find_submission(self, submission_id: str) -> SubmissionRow | None:
        with self.read() as con:
            row = con.execute(
                """SELECT id, benchmark_id, config, split, status, reason, storage_path, is_baseline, synthetic
                   FROM submissions WHERE id = ?""",
                [submission_id],
            ).fetchone()
        return SubmissionRow(*row) if row else None

    def add_submission(self, sub: NewSubmission) -> bool:
        """Record a validated submission as queued, with its measurement records, in one transaction. Returns False
        if the same content was already submitted."""
        with self.write() as con:
            if con.execute("SELECT 1 FROM submissions WHERE id = ?", [sub.id]).fetchone():
                return False
            model_id = row_key(sub.model["name"], sub.model["version"], sub.model.get("sha256"))
            device_id = row_key(sub.device["name"], sub.device.get("soc"), sub.device.get("os"))
            con.execute(
                "INSERT INTO models SELECT $1, $2, $3, $4, $5, $6, $7 WHERE $1 NOT IN (SELECT id FROM models)",
                [
                    model_id,
                    sub.model["name"],
                    sub.model["version"],
                    sub.model.get("params"),
                    sub.model.get("license"),
                    sub.model.get("url"),
                    sub.model.get("sha256"),
                ],
            )
            con.execute(
                "INSERT INTO devices SELECT $1, $2, $3, $4, $5 WHERE $1 NOT IN (SELECT id FROM devices)",
                [
                    device_id,
                    sub.device["name"],
                    sub.device.get("soc"),
                    sub.device.get("os"),
                    sub.device.get("form_factor"),
                ],
            )
            now = utc_now()
            con.execute(
                """INSERT INTO submissions (id, benchmark_id, config, split, model_id, device_id, runtime, precision,
                       submitter, is_baseline, synthetic, status, manifest_json, storage_path, created_at, updated_at,
                       training_data_json, training_badge)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)""",
                [
                    sub.id,
                    sub.benchmark_id,
                    sub.config,
                    sub.split,
                    model_id,
                    device_id,
                    sub.runtime,
                    sub.precision,
                    sub.submitter,
                    sub.is_baseline,
                    sub.synthetic,
                    sub.manifest_json,
                    sub.storage_path,
                    now,
                    now,
                    training.encode(sub.training_data),
                    sub.training_badge,
                ],
            )
            if sub.measurements:
                append_measurements(con, sub.id, sub.measurements)
            con.execute("INSERT INTO events VALUES (?, ?, 'submitted', ?)", [now, sub.id, sub.benchmark_id])
            if sub.notify_url is not None and sub.notify_token is not None:
                notifications.subscribe(con, sub.id, sub.notify_url, sub.notify_token)
        return True

    def list_submissions(self, benchmark_id: str | None = None) -> list[dict[str, Any]]:
        query = """
            SELECT s.id, s.benchmark_id, m.name AS model, m.version AS model_version, d.name AS device,
                   s.runtime, s.precision, s.submitter, s.status, s.reason, s.is_baseline, s.synthetic,
                   s.created_at, s.updated_at
            FROM submissions s JOIN models m ON m.id = s.model_id JOIN devices d ON d.id = s.device_id
        """
        params: list[Any] = []
        if benchmark_id is not None:
            query += " WHERE s.benchmark_id = ?"
            params.append(benchmark_id)
        query += " ORDER BY s.created_at, s.id"
        with self.read() as con:
            cur = con.execute(query, params)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    # -- the whole store ---------------------------------------------------------------------------------------
    def copy_from(self, source: Store) -> dict[str, int]:
        """Copy every row of `source` (e.g. the DuckDB file a hub outgrew) into this store, which must hold no
        submission yet, in one transaction; returns the rows copied per table. Both are migrated first, so their
        tables and columns match; rows travel as Arrow batches, by column name. The accepted submissions' paths
        are moved from beside `source` to beside this store (`hub.core.paths.submissions_dir`): the caller copies
        that folder."""
        source.init()
        self.init()
        copied: dict[str, int] = {}
        with self.write() as con, source.read() as old:
            if con.execute("SELECT count(*) FROM submissions").fetchone() != (0,):
                raise MobenchError(f"{self.name} already holds submissions: copy into a new store")
            tables = old.execute(
                """SELECT table_name FROM duckdb_tables()
                   WHERE database_name = current_database() AND table_name <> 'schema_version' ORDER BY 1"""
            ).fetchall()
            for (table,) in tables:
                con.register("incoming_rows", old.execute(f"SELECT * FROM {table}").fetch_record_batch())
                row = con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming_rows").fetchone()
                con.unregister("incoming_rows")
                copied[str(table)] = int(row[0]) if row else 0
            con.execute(
                """UPDATE submissions SET storage_path = $new || substr(storage_path, length($old) + 1)
                   WHERE starts_with(storage_path, $old)""",
                {"old": str(submissions_dir(source.path)), "new": str(submissions_dir(self.path))},
            )
            con.execute("INSERT INTO events VALUES (?, NULL, 'store-copied', ?)", [utc_now(), f"from {source.name}"])
        return copied

    def table_counts(self) -> dict[str, int]:
        """Row counts of every table: what the tests compare to prove a rejected input changed nothing."""
        tables = (
            "benchmarks", "models", "devices", "submissions", "scores", "sample_scores", "measurements",
            "submission_costs", "board_rows", "score_intervals",
        )  # fmt: skip
        with self.read() as con:
            return {t: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in tables}  # type: ignore[index]


def append_measurements(
    con: duckdb.DuckDBPyConnection, submission_id: str, records: Sequence[MeasurementRecord]
) -> None:
    """Insert a submission's measurement records (as parsed at intake) in the caller's transaction, as one Arrow
    table."""
    columns: dict[str, list[Any]] = {
        "submission_id": [submission_id] * len(records),
        "metric": [r.metric for r in records],
        "statistic": [r.statistic for r in records],
        "value": [r.value for r in records],
        "unit": [r.unit for r in records],
        "n": [r.n for r in records],
        "warmup": [r.warmup for r in records],
        "scope": [r.scope for r in records],
        "method": [r.method for r in records],
        "tool": [r.tool for r in records],
        "tool_version": [r.tool_version for r in records],
        "parser": [r.parser for r in records],
        "provenance": [r.provenance for r in records],
        "source_file": [r.source_file for r in records],
        "record_json": [r.model_dump_json() for r in records],
        "definition": [r.definition or None for r in records],
        "model_sha256": [r.model_sha256 or None for r in records],
    }
    con.register("incoming_measurements", pa.table(columns))
    con.execute(f"INSERT INTO measurements ({', '.join(columns)}) SELECT * FROM incoming_measurements")
    con.unregister("incoming_measurements")
