"""Store bulk writes: per-sample scores through Arrow (what `Store.record_scores` does) against row-by-row
parameterised INSERTs, the obvious alternative the design rules out."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from hub.cli.bench import BenchCase, Prepared
from hub.core.evaluation import EvaluationResult
from hub.store import Store

METRICS = ("epe", "epe_matched", "acc_1px", "acc_3px")


def scored(size: int) -> EvaluationResult:
    """A result with `size` samples of random per-sample scores for `METRICS`."""
    rng = random.Random(0)
    samples = {f"sample/{i:06d}": {m: rng.random() for m in METRICS} for i in range(size)}
    return EvaluationResult(
        benchmark="sintel-clean",
        config="default",
        split="training",
        n_samples=size,
        n_expected=size,
        metrics={"epe": 1.0},
        sample_scores=samples,
    )


def fresh_stores(workdir: Path) -> tuple[Store, Store]:
    """Two stores with the current schema: one for the project's side, one for the reference."""
    stores = Store(workdir / "arrow.duckdb"), Store(workdir / "loop.duckdb")
    for store in stores:
        store.init()
    return stores


def _prepare(workdir: Path, size: int) -> Prepared:
    result = scored(size)
    samples = result.sample_scores
    arrow_store, loop_store = fresh_stores(workdir)

    def project() -> int:
        arrow_store.record_scores("bench", result)
        return count(arrow_store)

    def reference() -> int:
        with loop_store.write() as con:
            con.execute("DELETE FROM sample_scores WHERE submission_id = 'bench'")
            for sample_id, values in samples.items():
                for metric, value in values.items():
                    con.execute("INSERT INTO sample_scores VALUES ('bench', ?, ?, ?)", [sample_id, metric, value])
        return count(loop_store)

    def check(a: Any, b: Any) -> None:
        if a != b or a != size * len(METRICS):
            raise AssertionError(f"row counts differ: arrow {a}, loop {b}, expected {size * len(METRICS)}")

    return Prepared(project, reference, check, f"{size} samples x {len(METRICS)} metrics = {size * len(METRICS)} rows")


def count(store: Store) -> int:
    """Per-sample score rows of the bench's submission."""
    with store.read() as con:
        row = con.execute("SELECT count(*) FROM sample_scores WHERE submission_id = 'bench'").fetchone()
    return int(row[0]) if row else 0


CASE = BenchCase(
    name="store",
    description="write per-sample scores of one submission into DuckDB",
    project_name="Store.record_scores (Arrow bulk insert, one transaction)",
    reference_name="row-by-row parameterised INSERT in one transaction",
    default_size=2000,
    prepare=_prepare,
)
