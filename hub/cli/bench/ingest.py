"""Ingesting a million per-sample scores: `Store.record_scores` (the rows go in as one Arrow table, which is how the
store writes them) against DuckDB's `executemany` of a parameterised INSERT, the usual DB-API bulk path.

Workload: `size` per-sample score rows (default 200,000: `executemany` manages about 6,000-9,000 rows a second
here, so the issue's 1,000,000 takes 2-3 minutes a run on that side; pass `--size 1000000 --repeats 1` for it), as
`size / 4` samples x the four metrics of the `store` case, for one submission. Both sides replace the submission's
rows in one transaction: the project through `record_scores` (which also writes the aggregate scores, the status and
the leaderboard row), the reference by deleting them and `executemany` of the same rows. The check: both tables
hold all `size` rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.cli.bench import BenchCase, Prepared
from hub.cli.bench.store_writes import METRICS, count, fresh_stores, scored


def _prepare(workdir: Path, size: int) -> Prepared:
    result = scored(max(1, size // len(METRICS)))
    rows = [
        ("bench", sample_id, metric, value)
        for sample_id, v in result.sample_scores.items()
        for metric, value in v.items()
    ]
    arrow_store, loop_store = fresh_stores(workdir)

    def project() -> int:
        arrow_store.record_scores("bench", result)
        return count(arrow_store)

    def reference() -> int:
        with loop_store.write() as con:
            con.execute("DELETE FROM sample_scores WHERE submission_id = 'bench'")
            con.executemany("INSERT INTO sample_scores VALUES (?, ?, ?, ?)", rows)
        return count(loop_store)

    def check(a: Any, b: Any) -> None:
        if not a == b == len(rows):
            raise AssertionError(f"rows stored: Arrow {a}, executemany {b}, expected {len(rows)}")

    return Prepared(
        project,
        reference,
        check,
        f"{len(rows)} per-sample scores ({len(result.sample_scores)} samples x {len(METRICS)} metrics)",
    )


CASE = BenchCase(
    name="ingest",
    description="write one submission's per-sample scores into the store (1M rows with --size 1000000)",
    project_name="Store.record_scores (one Arrow table, one transaction)",
    reference_name="executemany of a parameterised INSERT, one transaction",
    default_size=200_000,
    prepare=_prepare,
)
