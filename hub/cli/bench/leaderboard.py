"""The leaderboard's main page at scale: everything the benchmark page loads (the filter options, the ranked
table's best 500 rows with every metric, interval, rank interval and cost column, and the rows on the latency Pareto
front taken over every submission) for one benchmark of a store holding `size` scored submissions (default 100,000),
each with every metric's interval and 100 per-sample scores (10 M rows), against a plain DuckDB scan of the same
scores table (every aggregate score of the benchmark into a DataFrame). Target: the page's data in under 100 ms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from hub.cli.bench import BenchCase, Prepared, benchmark_built_by
from hub.core.registry import BenchmarkSpec
from hub.store import Store
from leaderboard import charts, queries
from leaderboard.filters import Filters
from loaders.synthetic.flow import build_sintel

SAMPLES_PER_SUBMISSION = 100
MODELS = 1000
DEVICES = 20


def _spec() -> BenchmarkSpec:
    """The benchmark whose page is loaded: a Sintel pass (13 metrics, lower is better)."""
    return benchmark_built_by(build_sintel)


def _fill(store: Store, size: int) -> None:
    """Generate the rows inside DuckDB (`range`), so building 10 M rows takes seconds, not the benchmark's time."""
    spec = _spec()
    store.benchmarks.register(spec, None, synthetic=True)
    metrics = [m.name for m in spec.metrics]
    with store.write() as con:
        con.execute(
            f"""INSERT INTO models SELECT 'model-' || i, 'model-' || i, '1.0', 1000000 + i * 1000, NULL, NULL, NULL
                FROM range({MODELS}) t(i)"""
        )
        con.execute(
            f"""INSERT INTO devices SELECT 'device-' || i, 'phone ' || i, 'SoC ' || (i % 5), 'Android', 'phone'
                FROM range({DEVICES}) t(i)"""
        )
        con.execute(
            f"""INSERT INTO submissions (id, benchmark_id, config, split, model_id, device_id, runtime, precision,
                    submitter, is_baseline, synthetic, status, reason, manifest_json, storage_path, n_samples,
                    n_expected, created_at, updated_at)
                SELECT 'sub-' || i, '{spec.id}', 'default', 'training', 'model-' || (i % {MODELS}),
                       'device-' || (i % {DEVICES}), 'tflite', 'int8', 'bench', false, true, 'published', NULL, '{{}}',
                       '', {SAMPLES_PER_SUBMISSION}, {SAMPLES_PER_SUBMISSION},
                       TIMESTAMP '2026-01-01' + to_seconds(i), TIMESTAMP '2026-01-01' + to_seconds(i)
                FROM range({size}) t(i)"""
        )
        con.execute(
            """INSERT INTO scores SELECT 'sub-' || i, metric, hash(i, metric) % 10000 / 1000.0, '', ''
               FROM range(?) t(i), unnest(?::VARCHAR[]) m(metric)""",
            [size, metrics],
        )
        con.execute(  # each metric's interval: value -/+ 0 to 0.5, so neighbours' intervals overlap or not
            """INSERT INTO score_intervals SELECT submission_id, metric, value - hash(submission_id) % 500 / 1000.0,
                      value + hash(submission_id, metric) % 500 / 1000.0
               FROM scores WHERE breakdown = ''"""
        )
        con.execute(
            """INSERT INTO sample_scores SELECT 'sub-' || (k // ?), 'sample-' || (k % ?), 'epe', hash(k) % 1000 / 100.0
               FROM range(?) t(k)""",
            [SAMPLES_PER_SUBMISSION, SAMPLES_PER_SUBMISSION, size * SAMPLES_PER_SUBMISSION],
        )
        con.execute(
            """INSERT INTO measurements (submission_id, metric, statistic, value, unit, n, warmup, scope, method,
                   tool, tool_version, parser, provenance, source_file, record_json, definition, model_sha256)
               SELECT 'sub-' || i, 'latency', statistic, 0.001 * (1 + hash(i, statistic) % 100), 's', 100, 10,
                      'process', 'wall-clock timer', 'benchmark_model', '2.16', 'tflite', 'self-reported',
                      'measurements/log.txt', '{}', NULL, NULL
               FROM range(?) t(i), unnest(['median', 'p90', 'mean', 'std']) s(statistic)""",
            [size],
        )
    store.init()  # derives the cost figures and leaderboard rows of rows written behind the store's back


def _prepare(workdir: Path, size: int) -> Prepared:
    store = Store(workdir / "leaderboard.duckdb")
    if store.path.exists():
        store.path.unlink()
    store.init()
    _fill(store, size)
    spec = _spec()

    latency = charts.COSTS["latency"]

    def project() -> queries.BenchmarkPage:
        return queries.benchmark_page(store, spec, Filters(), latency.source, latency.groups)

    def reference() -> pd.DataFrame:
        with store.read() as con:
            return con.execute(
                """SELECT submission_id, metric, value FROM scores
                   WHERE breakdown = '' AND submission_id IN (SELECT id FROM submissions WHERE benchmark_id = ?)""",
                [spec.id],
            ).df()

    def check(result: Any, scan: Any) -> None:
        page = result
        table, options, scanned = page.table, page.options, scan["submission_id"].nunique()
        matching = int(table["n_matching"].iloc[0])
        if matching != size or scanned != size or len(options["device"]) != min(size, DEVICES):
            raise AssertionError(f"the page counts {matching} submissions, the scan {scanned}")
        if len(table) != min(size, queries.PAGE_ROWS) or not table[spec.primary_metric].is_monotonic_increasing:
            raise AssertionError("the table does not hold the best rows in rank order")
        if page.front.empty:
            raise AssertionError("no Pareto front")
        if not ((table["rank_best"] <= table["rank"]) & (table["rank"] <= table["rank_worst"])).all():
            raise AssertionError("a rank interval does not hold its row's rank")

    rows = size * SAMPLES_PER_SUBMISSION
    return Prepared(project, reference, check, f"{size} scored submissions, {rows} per-sample scores")


CASE = BenchCase(
    name="leaderboard",
    description="the main benchmark page's data (ranking with every metric and cost column) at scale",
    project_name="benchmark page data: filter options + best 500 rows + Pareto front (all in DuckDB)",
    reference_name="plain DuckDB scan of the benchmark's aggregate scores into a DataFrame",
    default_size=100_000,
    prepare=_prepare,
)
