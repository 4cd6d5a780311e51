"""All the leaderboard's SQL, in one place, over short-lived read-only connections.

Only scored submissions are shown. Hidden labels are never selected here, and no query writes: every function
takes the `Store` and reads through `Store.read()` (a read-only connection that retries while the worker writes).
The pages call these functions through `leaderboard.cache`, which keeps each answer for a few seconds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import duckdb
import pandas as pd

from hub.core.registry import BenchmarkSpec
from hub.store import Store
from leaderboard.filters import PROVENANCE_SQL, TRAINING_SQL, Filters, where
from leaderboard.pareto import front_sql

# The benchmark page's table shows this many rows at most; its charts take the Pareto front over every matching row.
PAGE_ROWS = 500

# Every scored submission of a benchmark with what the page shows about it, from the store's `board_rows`
# (one row per scored submission, written when it is scored; cost figures chosen at intake, see hub.store.costs).
_ROWS_SQL = f"""
SELECT * EXCLUDE (metric_names, metric_values), {PROVENANCE_SQL} AS provenance, {TRAINING_SQL} AS training_data,
       metric_names, metric_values
FROM board_rows WHERE benchmark_id = $benchmark
"""
_ROW_COLUMNS = (
    "submission", "model", "model_version", "params", "device", "soc", "form_factor", "runtime", "precision",
    "baseline", "synthetic", "config", "split", "primary_value", "provenance", "integrity", "training_data",
)  # fmt: skip


def ranking(
    store: Store,
    spec: BenchmarkSpec,
    device: str | None = None,
    *,
    filters: Filters | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Scored submissions of one benchmark, best first by its primary metric, one column per metric.

    `rank` is shared by ties (1, 1, 3: competition ranking) and missing where the primary metric is; `tied` says
    which rows share their rank, and `n_matching` how many rows pass the filters (the page shows the best `limit`).
    Filtering, ranking and the limit all run inside DuckDB, so a benchmark with 100k submissions stays fast.
    """
    chosen = filters or Filters()
    if device is not None:
        chosen = replace(chosen, devices=[device])
    with store.read() as con:
        return _ranking(con, spec, chosen, limit)


@dataclass(frozen=True)
class BenchmarkPage:
    """What the benchmark page reads for the chosen filters and cost, from one read-only connection."""

    table: pd.DataFrame  # the best `limit` rows that pass the filters, ranked
    front: pd.DataFrame  # the rows on the quality-against-cost Pareto front, over every row that passes
    options: dict[str, list[Any]]  # the values each filter can take (whatever is chosen now)


def benchmark_page(
    store: Store, spec: BenchmarkSpec, filters: Filters, cost: str, groups: Sequence[str], limit: int = PAGE_ROWS
) -> BenchmarkPage:
    """The page's table, the Pareto front of the primary metric against the store column `cost` within each value
    of `groups` (one chart each: figures of different scope or method never share an axis), and the filters'
    options, all from one connection (opening the file is a good part of a page view's time).

    Ranking, counting and the front run on the narrow columns they need; the wide rows (every cost column and the
    metrics) are then read once, for the table's rows and the front's together. At 100k submissions that one
    read of the wide columns is most of the page's time (`mobench bench leaderboard`), so it is never done twice.
    """
    condition, params = where(filters, _ROW_COLUMNS)
    narrow = ["submission", "primary_value", "scored_at", cost, *groups]
    on_front = front_sql(
        "SELECT * FROM kept", "primary_value", cost, groups, higher_is_better=spec.primary.higher_is_better
    )
    sql = f"""
        {_ranked_ctes(spec, condition, narrow, limit)},
        front AS ({on_front})
        SELECT r.position, {_RANK_COLUMNS}, b.submission IN (SELECT submission FROM front) AS on_front,
               (SELECT count(*) FROM kept) AS n_matching, b.{_wide(spec)}
        FROM ({_ROWS_SQL}) b LEFT JOIN ranked r ON r.submission = b.submission
        WHERE b.submission IN (SELECT submission FROM ranked WHERE position <= $limit
                               UNION ALL SELECT submission FROM front)
    """
    with store.read() as con:
        both = con.execute(sql, {"benchmark": spec.id, **params, "limit": limit}).df()
        options = _filter_options(con, spec.id)
    both = both.rename(columns={"primary_value": spec.primary_metric})
    table = both[both["position"] <= limit].sort_values("position").drop(columns=["position", "on_front"])
    table = _typed(table)
    front = both[both["on_front"]].drop(columns=["position", *_RANKED, "on_front", "n_matching"])
    return BenchmarkPage(table.reset_index(drop=True), front.reset_index(drop=True), options)


def interval_columns(metric: str) -> tuple[str, str]:
    """The page's columns holding the low and high end of `metric`'s 95 % interval (missing without one)."""
    return f"{metric}_low", f"{metric}_high"


def _wide(spec: BenchmarkSpec) -> str:
    """The page's columns of a board row: all but the raw metric lists, plus one column per non-primary metric and
    two per metric for its interval (`interval_columns`)."""
    names = """from_json(metric_names, '["VARCHAR"]')"""
    low, high = interval_columns(spec.primary_metric)
    columns = [f"primary_low AS {_quote(low)}", f"primary_high AS {_quote(high)}"]
    for name in [m.name for m in spec.metrics if m.name != spec.primary_metric]:
        at = f"list_position({names}, {_literal(name)})"
        low, high = interval_columns(name)
        columns += [
            f"metric_values[{at}] AS {_quote(name)}",
            f"metric_lows[{at}] AS {_quote(low)}",
            f"metric_highs[{at}] AS {_quote(high)}",
        ]
    dropped = "metric_names, metric_values, metric_lows, metric_highs, primary_low, primary_high, benchmark_id"
    return f"* EXCLUDE ({dropped}), {', '.join(columns)}"


def _ranked_ctes(spec: BenchmarkSpec, condition: str, narrow: Sequence[str], limit: int | None) -> str:
    """`WITH kept, ranked`: the `narrow` columns of the rows that pass `condition`, and the best `limit` (+1) of
    them with their `position`, competition `rank`, whether they are `tied`, their rank interval (`rank_best`,
    `rank_worst`) and whether their interval `overlaps_next` (the row ranked just below them).

    Only the best `limit` (+1) rows are ranked: every row better than one of them is among them, so their
    competition ranks are the global ones; the extra row tells whether the last shown row ties with the next, and
    whether their intervals overlap.

    The rank interval is derived from the primary metric's 95 % intervals, by the rule arena leaderboards use
    (LMSYS's "rank (UB)"), among the kept rows with a value. A row is *certainly better* than row i when its whole
    interval lies above i's (its low > i's high, in the metric's direction) and *certainly worse* when it lies
    below (its high < i's low). `rank_best` = 1 + the rows certainly better than i; `rank_worst` = the rows not
    certainly worse than i, i included. So "rank 2-5" means: the intervals cannot tell this row from those ranked
    2 to 5. A row without an interval (scored before intervals existed, or a metric no resample defined) gets no
    rank interval, and in the others' it is never certainly better nor certainly worse: its uncertainty is unknown.
    The store keeps each row's interval, not its 1,000 resample values, so ranks are bounded from the intervals
    rather than counted per resample.

    A self-join of every ranked row with every kept row is n x n comparisons (about 0.5 s at 100k rows). Each
    count is a running count over the kept bounds sorted once, looked up by an ASOF join with the ranked row's own
    bound, and only bounds that can count for some ranked row are sorted (a low above the smallest ranked high, a
    high at or above the smallest ranked low): a handful next to the n rows when intervals are narrow, all n in the
    worst case (`mobench bench leaderboard`).
    """
    best = f"primary_value {'DESC' if spec.primary.higher_is_better else 'ASC'} NULLS LAST"
    # the primary metric's interval turned "higher is better" (a lower-is-better interval negated and swapped)
    low, high = ("primary_low", "primary_high") if spec.primary.higher_is_better else ("-primary_high", "-primary_low")
    known = "primary_value IS NOT NULL AND isfinite(primary_low) AND isfinite(primary_high)"
    columns = dict.fromkeys([*narrow, "primary_low", "primary_high"])
    return f"""
        WITH kept AS (SELECT {", ".join(columns)} FROM ({_ROWS_SQL}) WHERE {condition}),
        good AS (
            SELECT submission, primary_value, scored_at, CASE WHEN {known} THEN {low} END AS good_low,
                   CASE WHEN {known} THEN {high} END AS good_high
            FROM kept
        ),
        top AS (
            SELECT * FROM good ORDER BY {best}, scored_at, submission
            {"LIMIT $limit + 1" if limit is not None else ""}
        ),
        lows_above AS (  -- per low, how many lows are at or above it
            SELECT good_low AS bound, count(*) OVER (ORDER BY good_low DESC) AS n FROM good
            WHERE good_low > (SELECT min(good_high) FROM top)
        ),
        highs_above AS (  -- per high, how many highs are at or above it
            SELECT good_high AS bound, count(*) OVER (ORDER BY good_high DESC) AS n FROM good
            WHERE good_high >= (SELECT min(good_low) FROM top)
        ),
        unbounded AS (SELECT count(*) AS n FROM good WHERE primary_value IS NOT NULL AND good_low IS NULL),
        intervals AS (
            SELECT t.submission, 1 + coalesce(a.n, 0) AS rank_best,
                   (SELECT n FROM unbounded) + coalesce(h.n, 0) AS rank_worst
            FROM top t
            ASOF LEFT JOIN lows_above a ON t.good_high < a.bound  -- the smallest low above i's high
            ASOF LEFT JOIN highs_above h ON t.good_low <= h.bound  -- the smallest high at or above i's low
            WHERE t.good_low IS NOT NULL
        ),
        ranked AS (
            SELECT t.submission, row_number() OVER (ORDER BY {best}, scored_at, t.submission) AS position,
                   CASE WHEN primary_value IS NULL THEN NULL ELSE rank() OVER (ORDER BY {best}) END AS rank,
                   primary_value IS NOT NULL AND count(*) OVER (PARTITION BY primary_value) > 1 AS tied,
                   i.rank_best, i.rank_worst,
                   good_low <= lead(good_high) OVER next AND lead(good_low) OVER next <= good_high AS overlaps_next
            FROM top t LEFT JOIN intervals i ON i.submission = t.submission
            WINDOW next AS (ORDER BY {best}, scored_at, t.submission)
        )"""


# what `_ranked_ctes` tells about each ranked row
_RANKED = ("rank", "tied", "rank_best", "rank_worst", "overlaps_next")
_RANK_COLUMNS = ", ".join(f"r.{column}" for column in _RANKED)


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    """Ranks as integers that can be missing (no primary value, no interval), never floats."""
    return table.astype({"rank": "Int64", "rank_best": "Int64", "rank_worst": "Int64"})


def _ranking(con: duckdb.DuckDBPyConnection, spec: BenchmarkSpec, filters: Filters, limit: int | None) -> pd.DataFrame:
    condition, params = where(filters, _ROW_COLUMNS)
    # Ranking and counting run on the narrow (id, value, time) rows; only the shown rows are then read whole.
    sql = f"""
        {_ranked_ctes(spec, condition, ["submission", "primary_value", "scored_at"], limit)}
        SELECT {_RANK_COLUMNS}, (SELECT count(*) FROM kept) AS n_matching, b.{_wide(spec)}
        FROM ranked r JOIN ({_ROWS_SQL}) b ON b.submission = r.submission
        WHERE {"r.position <= $limit" if limit is not None else "TRUE"}
        ORDER BY r.position
    """
    named: dict[str, object] = {"benchmark": spec.id, **params}
    if limit is not None:
        named["limit"] = limit
    return _typed(con.execute(sql, named).df()).rename(columns={"primary_value": spec.primary_metric})


def _filter_options(con: duckdb.DuckDBPyConnection, benchmark_id: str) -> dict[str, list[Any]]:
    row = con.execute(
        """SELECT list(DISTINCT device ORDER BY device), list(DISTINCT soc ORDER BY soc),
                  list(DISTINCT runtime ORDER BY runtime), list(DISTINCT precision ORDER BY precision),
                  [min(params), max(params)]
           FROM board_rows WHERE benchmark_id = ?""",
        [benchmark_id],
    ).fetchone()
    names = ("device", "soc", "runtime", "precision", "params")
    return {name: [v for v in (values or []) if v is not None] for name, values in zip(names, row or (), strict=True)}


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def benchmark_overview(store: Store) -> pd.DataFrame:
    """Per registered benchmark: scored submissions, best primary value (in its own direction), last update,
    devices."""
    with store.read() as con:
        return con.execute(
            """SELECT b.id, b.title, b.family, b.primary_metric, b.higher_is_better, b.synthetic,
                      count(DISTINCT s.id) AS submissions,
                      CASE WHEN b.higher_is_better THEN max(p.value) ELSE min(p.value) END AS best,
                      max(s.updated_at) AS last_update, count(DISTINCT s.device_id) AS devices
               FROM benchmarks b
               LEFT JOIN submissions s ON s.benchmark_id = b.id AND s.status = 'published'
               LEFT JOIN scores p ON p.submission_id = s.id AND p.breakdown = '' AND p.metric = b.primary_metric
                                  AND isfinite(p.value)
               GROUP BY b.id, b.title, b.family, b.primary_metric, b.higher_is_better, b.synthetic
               ORDER BY b.id"""
        ).df()


def all_devices(store: Store) -> pd.DataFrame:
    """Every device with a scored submission: name, SoC, OS, form factor, how many submissions and benchmarks."""
    with store.read() as con:
        return con.execute(
            """SELECT d.name AS device, d.soc, d.os, d.form_factor, count(*) AS submissions,
                      count(DISTINCT s.benchmark_id) AS benchmarks
               FROM submissions s JOIN devices d ON d.id = s.device_id
               WHERE s.status = 'published' GROUP BY ALL ORDER BY d.name"""
        ).df()


def primary_results(store: Store) -> pd.DataFrame:
    """Every scored submission's primary metric with its model, device and median latency: the devices page's
    source (best per benchmark on one device, one model across devices)."""
    with store.read() as con:
        return con.execute(
            """SELECT r.benchmark_id AS benchmark, b.primary_metric, b.higher_is_better, r.submission, r.model,
                      r.model_version, r.device, r.soc, r.runtime, r.precision, r.synthetic,
                      r.primary_value AS value, r.latency_p50_s
               FROM board_rows r JOIN benchmarks b ON b.id = r.benchmark_id
               ORDER BY r.benchmark_id, r.device, r.model"""
        ).df()


def submission(store: Store, submission_id: str) -> dict[str, Any] | None:
    """One submission's row (any status): benchmark, model, device, status and reason, manifest, declared training
    data and its badge, times, and how its intervals were drawn (`resampling`: unit, n_units, resamples, seed,
    level)."""
    with store.read() as con:
        frame = con.execute(
            """SELECT s.id, s.benchmark_id, s.config, s.split, s.status, s.reason, s.runtime, s.precision,
                      s.submitter, s.is_baseline AS baseline, s.synthetic, s.n_samples, s.n_expected,
                      s.created_at, s.updated_at, s.worker_id, s.heartbeat_at, s.attempts, s.log_excerpt,
                      s.manifest_json, s.training_data_json, s.training_badge, s.resampling, m.name AS model,
                      m.version AS model_version, m.params, d.name AS device, d.soc
               FROM submissions s JOIN models m ON m.id = s.model_id JOIN devices d ON d.id = s.device_id
               WHERE s.id = ?""",
            [submission_id],
        ).df()
    if frame.empty:
        return None
    row: dict[str, Any] = {str(k): v for k, v in frame.iloc[0].to_dict().items()}
    row["manifest"] = json.loads(row.pop("manifest_json"))
    declared = row.pop("training_data_json")  # NULL: undeclared
    row["training_data"] = json.loads(declared) if isinstance(declared, str) else None
    drawn = row.pop("resampling")  # how its intervals were drawn; NULL: scored without intervals
    row["resampling"] = json.loads(drawn) if isinstance(drawn, str) else None
    return row


def status_history(store: Store, submission_id: str) -> pd.DataFrame:
    """Every state a submission went through, oldest first, with its reason or detail."""
    with store.read() as con:
        return con.execute(
            "SELECT ts AS at, kind AS state, detail FROM events WHERE submission_id = ? ORDER BY ts",
            [submission_id],
        ).df()


def aggregate_scores(store: Store, submission_id: str) -> pd.DataFrame:
    """A submission's aggregate metrics (no breakdown), each with its 95 % interval (`low`, `high`; missing when it
    was scored without one)."""
    with store.read() as con:
        return con.execute(
            """SELECT s.metric, s.value, i.low, i.high FROM scores s
               LEFT JOIN score_intervals i ON i.submission_id = s.submission_id AND i.metric = s.metric
               WHERE s.submission_id = ? AND s.breakdown = '' ORDER BY s.metric""",
            [submission_id],
        ).df()


def breakdown_names(store: Store, submission_id: str) -> list[str]:
    with store.read() as con:
        rows = con.execute(
            "SELECT DISTINCT breakdown FROM scores WHERE submission_id = ? AND breakdown <> '' ORDER BY 1",
            [submission_id],
        ).fetchall()
    return [str(r[0]) for r in rows]


def breakdown(store: Store, submission_id: str, name: str) -> pd.DataFrame:
    with store.read() as con:
        long = con.execute(
            "SELECT breakdown_key, metric, value FROM scores WHERE submission_id = ? AND breakdown = ?",
            [submission_id, name],
        ).df()
    if long.empty:
        return long
    wide = long.pivot_table(index="breakdown_key", columns="metric", values="value", aggfunc="first")
    return wide.rename_axis(name).reset_index()


def sample_scores(store: Store, submission_id: str) -> pd.DataFrame:
    """Per-sample scores (scores only: no ground truth is stored, so none can be shown), one row per sample."""
    with store.read() as con:
        long = con.execute(
            "SELECT sample_id, metric, value FROM sample_scores WHERE submission_id = ?", [submission_id]
        ).df()
    if long.empty:
        return long
    return long.pivot_table(
        index="sample_id", columns="metric", values="value", aggfunc="first", dropna=False
    ).reset_index()


def run_details(store: Store, submission_id: str) -> dict[str, Any]:
    """What the evaluator recorded about how the predictions were made (e.g. lm-eval version and model args)."""
    with store.read() as con:
        row = con.execute("SELECT details_json FROM submissions WHERE id = ?", [submission_id]).fetchone()
    details: dict[str, Any] = json.loads(row[0]) if row and row[0] else {}
    return details


def measurements(store: Store, submission_id: str) -> pd.DataFrame:
    with store.read() as con:
        return con.execute(
            """SELECT metric, statistic, value, unit, n, warmup, scope, method, definition, tool, tool_version,
                      provenance, source_file, json_extract_string(record_json, '$.validation_flags') AS flags
               FROM measurements WHERE submission_id = ? ORDER BY metric, statistic""",
            [submission_id],
        ).df()
