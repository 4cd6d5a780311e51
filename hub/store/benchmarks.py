"""The benchmarks a store knows (`Store.benchmarks`): where each one's data root is, and its hidden answer keys."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from hub.core.registry import BenchmarkSpec
from hub.store.connection import Connection, utc_now


class Benchmarks:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def register(self, spec: BenchmarkSpec, root: Path | None, *, synthetic: bool) -> None:
        """Record (or replace) a benchmark's spec and the data root its split files are read from."""
        with self._connection.write() as con:
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

    def root(self, benchmark_id: str) -> tuple[Path, bool] | None:
        """The registered data root and whether it is synthetic (None when none is registered)."""
        with self._connection.read() as con:
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
        with self._connection.write() as con:
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
        with self._connection.read() as con:
            rows = con.execute(
                "SELECT sample_id, label FROM hidden_labels WHERE benchmark_id = ? ORDER BY sample_id", [benchmark_id]
            ).fetchall()
        return {str(s): str(label) for s, label in rows}
