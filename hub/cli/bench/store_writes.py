"""Store bulk writes: per-sample scores through Arrow (what `Store.outcomes.publish` does) against row-by-row
parameterised INSERTs, the obvious alternative the design rules out."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from hub.cli.bench import BenchCase, Prepared, benchmark_built_by
from hub.core.evaluation import EvaluationResult
from hub.store import Store
from loaders.synthetic.flow import build_sintel

METRICS = ("epe", "epe_matched", "acc_1px", "acc_3px")


def scored(size: int) -> EvaluationResult:
    """A result with `size` samples of random per-sample scores for `METRICS`."""
    rng = random.Random(0)
    samples = {f"sample/{i:06d}": {m: rng.random() for m in METRICS} for i in range(size)}
    return EvaluationResult(
        benchmark=benchmark_built_by(build_sintel).id,
        config="default",
        split="training",
        n_samples=size,
        n_expected=size,
        metrics={"epe": 1.0},
        sample_scores=samples,
    )


Row = tuple[str, str, str, float]


def prepare_writes(
    workdir: Path, samples: int, insert: Callable[[duckdb.DuckDBPyConnection, list[Row]], None]
) -> Prepared:
    """The project's `Store.outcomes.publish` of `samples` x `METRICS` per-sample scores against `insert` of the
    same rows, each side replacing the submission's rows in one transaction of its own store; the check: both tables
    hold every row."""
    result = scored(samples)
    rows = [
        ("bench", sample, metric, value) for sample, v in result.sample_scores.items() for metric, value in v.items()
    ]
    arrow_store, loop_store = Store(workdir / "arrow.duckdb"), Store(workdir / "loop.duckdb")
    for store in (arrow_store, loop_store):
        store.init()

    def project() -> int:
        arrow_store.outcomes.publish("bench", result)
        return _count(arrow_store)

    def reference() -> int:
        with loop_store.write() as con:
            con.execute("DELETE FROM sample_scores WHERE submission_id = 'bench'")
            insert(con, rows)
        return _count(loop_store)

    def check(a: Any, b: Any) -> None:
        if not a == b == len(rows):
            raise AssertionError(f"row counts differ: Arrow {a}, reference {b}, expected {len(rows)}")

    return Prepared(
        project, reference, check, f"{len(rows)} per-sample scores ({samples} samples x {len(METRICS)} metrics)"
    )


def _count(store: Store) -> int:
    """Per-sample score rows of the bench's submission."""
    with store.read() as con:
        row = con.execute("SELECT count(*) FROM sample_scores WHERE submission_id = 'bench'").fetchone()
    return int(row[0]) if row else 0


def _row_by_row(con: duckdb.DuckDBPyConnection, rows: list[Row]) -> None:
    for row in rows:
        con.execute("INSERT INTO sample_scores VALUES (?, ?, ?, ?)", row)


CASE = BenchCase(
    name="store",
    description="write per-sample scores of one submission into DuckDB",
    project_name="Store.outcomes.publish (Arrow bulk insert, one transaction)",
    reference_name="row-by-row parameterised INSERT in one transaction",
    default_size=2000,
    prepare=lambda workdir, size: prepare_writes(workdir, size, _row_by_row),
)
