"""Ingesting a million per-sample scores: `Store.outcomes.publish` (the rows go in as one Arrow table, which is how
the store writes them) against DuckDB's `executemany` of a parameterised INSERT, the usual DB-API bulk path.

Workload: `size` per-sample score rows (default 200,000: `executemany` manages about 6,000-9,000 rows a second
here, so the issue's 1,000,000 takes 2-3 minutes a run on that side; pass `--size 1000000 --repeats 1` for it), as
`size / 4` samples x the four metrics of the `store` case, for one submission. Both sides replace the submission's
rows in one transaction: the project through `Store.outcomes.publish` (which also writes the aggregate scores, the
cost figures, the status and the leaderboard row), the reference by deleting them and `executemany` of the same
rows. The check: both tables hold all `size` rows.
"""

from __future__ import annotations

import duckdb

from hub.cli.bench import BenchCase
from hub.cli.bench.store_writes import METRICS, Row, prepare_writes


def _executemany(con: duckdb.DuckDBPyConnection, rows: list[Row]) -> None:
    con.executemany("INSERT INTO sample_scores VALUES (?, ?, ?, ?)", rows)


CASE = BenchCase(
    name="ingest",
    description="write one submission's per-sample scores into the store (1M rows with --size 1000000)",
    project_name="Store.outcomes.publish (one Arrow table, one transaction)",
    reference_name="executemany of a parameterised INSERT, one transaction",
    default_size=200_000,
    prepare=lambda workdir, size: prepare_writes(workdir, max(1, size // len(METRICS)), _executemany),
)
