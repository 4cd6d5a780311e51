"""The store: benchmarks, submissions, scores, per-sample scores, measurements and an audit trail.

One class for both backends (`hub.store.connection`: a DuckDB file, or a DuckLake on a PostgreSQL catalog shared
by several machines); the CLI, worker and leaderboard never notice which. Write transactions take turns on either
backend, so each write checks what is there and then inserts, inside its transaction: a DuckLake has no PRIMARY KEY,
UNIQUE or ON CONFLICT, and the store never relies on them. A scored submission is written in one transaction, so a
crash leaves no half-scored row; bulk rows (per-sample scores) go in through Arrow, not row-by-row inserts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from hub.core.errors import MobenchError
from hub.core.evaluation import EvaluationResult
from hub.core.measurements.record import MeasurementRecord
from hub.core.paths import submissions_dir
from hub.core.registry import BenchmarkSpec
from hub.store import board_rows, costs
from hub.store.connection import row_key, utc_now
from hub.store.leases import Leases
from hub.store.rows import NewSubmission, SubmissionRow
from hub.store.schema import MIGRATIONS, SCHEMA_VERSION, STATUSES


class Store(Leases):
    """A mobench store (a DuckDB file or a DuckLake URL). Cheap to construct; opens it only inside `write()` /
    `read()`."""

    # -- schema ------------------------------------------------------------------------------------------------
    def init(self) -> int:
        """Create or migrate the schema; returns the schema version now in the store."""
        with self.write() as con:
            con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP)")
            row = con.execute("SELECT max(version) FROM schema_version").fetchone()
            current = int(row[0]) if row and row[0] is not None else 0
            if current > SCHEMA_VERSION:
                raise MobenchError(
                    f"{self.name} has schema version {current}, newer than this mobench ({SCHEMA_VERSION}): upgrade"
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                con.execute(MIGRATIONS[version - 1])
                con.execute("INSERT INTO schema_version VALUES (?, ?)", [version, utc_now()])
            con.execute(f"INSERT INTO submission_costs {costs.MISSING}")
            con.execute(f"INSERT INTO board_rows {board_rows.MISSING}")
        return SCHEMA_VERSION

    def schema_version(self) -> int:
        with self.read() as con:
            row = con.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    # -- benchmarks --------------------------------------------------------------------------------------------
    def register_benchmark(self, spec: BenchmarkSpec, root: Path | None, *, synthetic: bool) -> None:
        with self.write() as con:
            con.execute("DELETE FROM benchmarks WHERE id = ?", [spec.id])
            con.execute(
                "INSERT INTO benchmarks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    spec.id,
                    spec.version,
                    spec.family,
                    spec.title,
                    spec.primary_metric,
                    spec.primary.higher_is_better,
                    spec.model_dump_json(),
                    str(root) if root is not None else None,
                    synthetic,
                    utc_now(),
                ],
            )
            con.execute(
                "INSERT INTO events VALUES (?, NULL, 'benchmark-registered', ?)",
                [utc_now(), json.dumps({"benchmark": spec.id, "root": str(root), "synthetic": synthetic})],
            )

    def benchmark_root(self, benchmark_id: str) -> tuple[Path, bool] | None:
        with self.read() as con:
            row = con.execute("SELECT root, synthetic FROM benchmarks WHERE id = ?", [benchmark_id]).fetchone()
        if row is None or row[0] is None:
            return None
        return Path(row[0]), bool(row[1])

    def set_hidden_labels(self, benchmark_id: str, labels: dict[str, str]) -> int:
        """Replace a benchmark's hidden answer key. Returns how many labels are stored."""
        table = pa.table(
            {
                "benchmark_id": [benchmark_id] * len(labels),
                "sample_id": list(labels),
                "label": list(labels.values()),
            }
        )
        with self.write() as con:
            con.execute("DELETE FROM hidden_labels WHERE benchmark_id = ?", [benchmark_id])
            con.register("incoming_labels", table)
            con.execute("INSERT INTO hidden_labels SELECT benchmark_id, sample_id, label FROM incoming_labels")
            con.unregister("incoming_labels")
            con.execute(
                "INSERT INTO events VALUES (?, NULL, 'labels-set', ?)",
                [utc_now(), json.dumps({"benchmark": benchmark_id, "n": len(labels)})],
            )
        return len(labels)

    def hidden_labels(self, benchmark_id: str) -> dict[str, str]:
        """For the worker only: no page, export or API calls this."""
        with self.read() as con:
            rows = con.execute(
                "SELECT sample_id, label FROM hidden_labels WHERE benchmark_id = ? ORDER BY sample_id", [benchmark_id]
            ).fetchall()
        return {str(s): str(label) for s, label in rows}

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
        """Record a validated submission as queued. Returns False if the same content was already submitted."""
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
                       submitter, is_baseline, synthetic, status, manifest_json, storage_path, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)""",
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
                ],
            )
            if sub.measurements:
                self._append_measurements(con, sub.id, sub.measurements)
            con.execute("INSERT INTO events VALUES (?, ?, 'submitted', ?)", [now, sub.id, sub.benchmark_id])
        return True

    def start_measuring(self, submission_id: str, worker_id: str) -> None:
        """Enter `measuring`: choose the submission's cost figures from the measurement records stored with it at
        intake (`hub.store.costs`), in the same transaction, so the leaderboard's costs always follow the records."""
        with self.write() as con:
            row = con.execute("SELECT count(*) FROM measurements WHERE submission_id = ?", [submission_id]).fetchone()
            count = int(row[0]) if row else 0
            detail = f"cost figures from {count} measurement record(s)" if count else "no measurement records"
            self._enter(con, submission_id, "measuring", worker_id, detail)
            self._choose_costs(con, submission_id)

    @staticmethod
    def _choose_costs(con: duckdb.DuckDBPyConnection, submission_id: str) -> None:
        """Choose a submission's cost figures again from all its measurement records, in the caller's transaction.
        Its leaderboard row follows when it is published (a rescored submission keeps its old row until then)."""
        con.execute("DELETE FROM submission_costs WHERE submission_id = ?", [submission_id])
        con.execute(f"INSERT INTO submission_costs {costs.ONE_SUBMISSION}", {"submission": submission_id})

    @staticmethod
    def _refresh_board_row(con: duckdb.DuckDBPyConnection, submission_id: str) -> None:
        """Rewrite the submission's leaderboard row (`hub.store.board_rows`); none unless it is published."""
        con.execute("DELETE FROM board_rows WHERE submission = ?", [submission_id])
        con.execute(f"INSERT INTO board_rows {board_rows.ONE_SUBMISSION}", {"submission": submission_id})

    @staticmethod
    def _append_measurements(
        con: duckdb.DuckDBPyConnection, submission_id: str, records: Sequence[MeasurementRecord]
    ) -> None:
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

    def set_status(
        self,
        submission_id: str,
        status: str,
        reason: str | None = None,
        *,
        worker_id: str | None = None,
        log_excerpt: str | None = None,
    ) -> None:
        """Move a submission to `status` with its reason; a worker passes its id, so a result it reaches after
        losing its lease is dropped (`LeaseLostError`) instead of overwriting the new holder's."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        with self.write() as con:
            self._check_lease(con, submission_id, worker_id)
            now = utc_now()
            con.execute(
                """UPDATE submissions SET status = ?, reason = ?, updated_at = ?, lease_expires_at = NULL,
                          log_excerpt = ? WHERE id = ?""",
                [status, reason, now, log_excerpt, submission_id],
            )
            con.execute("INSERT INTO events VALUES (?, ?, ?, ?)", [now, submission_id, status, reason])
            self._refresh_board_row(con, submission_id)

    def record_scores(self, submission_id: str, result: EvaluationResult, *, worker_id: str | None = None) -> None:
        """Write a submission's scores and publish it, all in one transaction (only while `worker_id`, if
        given, still holds its lease: a second worker's result for the same content is never written twice)."""
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
        with self.write() as con:
            self._check_lease(con, submission_id, worker_id)
            con.execute("DELETE FROM scores WHERE submission_id = ?", [submission_id])
            con.execute("DELETE FROM sample_scores WHERE submission_id = ?", [submission_id])
            con.register("incoming_scores", pa.table(scores))
            con.execute(
                "INSERT INTO scores SELECT submission_id, metric, value, breakdown, breakdown_key FROM incoming_scores"
            )
            con.unregister("incoming_scores")
            con.register("incoming_samples", pa.table(samples, schema=_SAMPLE_SCHEMA))
            con.execute("INSERT INTO sample_scores SELECT * FROM incoming_samples")
            con.unregister("incoming_samples")
            now = utc_now()
            con.execute(
                """UPDATE submissions SET status = 'published', reason = NULL, n_samples = ?, n_expected = ?,
                   details_json = ?, updated_at = ?, lease_expires_at = NULL WHERE id = ?""",
                [result.n_samples, result.n_expected, json.dumps(result.details, default=str), now, submission_id],
            )
            con.execute(
                "INSERT INTO events VALUES (?, ?, 'published', ?)",
                [now, submission_id, json.dumps({"n_samples": result.n_samples, "coverage": result.coverage})],
            )
            self._refresh_board_row(con, submission_id)

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
            "submission_costs", "board_rows",
        )  # fmt: skip
        with self.read() as con:
            return {t: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in tables}  # type: ignore[index]


_SAMPLE_SCHEMA = pa.schema(
    [("submission_id", pa.string()), ("sample_id", pa.string()), ("metric", pa.string()), ("value", pa.float64())]
)
