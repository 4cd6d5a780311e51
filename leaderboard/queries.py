"""All the leaderboard's SQL, in one place, over short-lived read-only connections.

Only scored submissions are shown. Hidden labels are never selected here, and no query writes: every function
takes the `Store` and reads through `Store.read()` (a read-only connection that retries while the worker writes).
The pages call these functions through `leaderboard.cache`, which keeps each answer for a few seconds.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pandas as pd

from hub.core.registry import BenchmarkSpec
from hub.store import Store

# A submission may carry several figures of one metric (two logs, several power rails, a range and a peak). Their
# statistics are never mixed: per submission and metric one *figure set* (same provenance, scope, method,
# definition, rail, source file and protocol) is chosen, mobench's own measurements first, then in a fixed order,
# and every column of that metric comes from it. The others stay visible under the submission's measurements.
_RANKING_SQL = r"""
WITH figures AS (
    SELECT submission_id, metric, statistic, value, n, scope, method, definition, provenance,
           dense_rank() OVER (
               PARTITION BY submission_id, metric
               ORDER BY provenance = 'measured-by-mobench' DESC, scope, method, coalesce(definition, ''),
                        coalesce(json_extract_string(record_json, '$.rail'), ''), coalesce(source_file, ''),
                        n, warmup
           ) AS figure_set
    FROM measurements
    WHERE (metric = 'latency' AND statistic IN ('median', 'p90', 'mean', 'std'))
       OR (metric = 'peak_memory' AND statistic LIKE '%\_peak' ESCAPE '\')
       OR (metric = 'energy_per_inference' AND statistic IN ('gross', 'net'))
), chosen AS (
    SELECT * FROM figures WHERE figure_set = 1
), latency AS (
    SELECT submission_id,
           max(value) FILTER (WHERE statistic = 'median') AS latency_p50_s,
           max(value) FILTER (WHERE statistic = 'p90') AS latency_p90_s,
           max(value) FILTER (WHERE statistic = 'mean') AS latency_mean_s,
           max(value) FILTER (WHERE statistic = 'std') AS latency_std_s,
           max(n) AS latency_n,
           any_value(scope) AS latency_scope,
           any_value(provenance) AS latency_provenance
    FROM chosen WHERE metric = 'latency' GROUP BY submission_id
), memory AS (
    SELECT submission_id, max(value) AS peak_memory_b, any_value(definition) AS peak_memory_kind
    FROM chosen WHERE metric = 'peak_memory' GROUP BY submission_id
), energy AS (
    SELECT submission_id,
           max(value) FILTER (WHERE statistic = 'gross') AS energy_per_inference_gross_j,
           max(value) FILTER (WHERE statistic = 'net') AS energy_per_inference_net_j,
           any_value(scope) AS energy_scope, any_value(method) AS energy_method
    FROM chosen WHERE metric = 'energy_per_inference' GROUP BY submission_id
), timed AS (
    SELECT submission_id, list(DISTINCT model_sha256) FILTER (WHERE model_sha256 IS NOT NULL) AS timed_hashes,
           bool_and(json_extract_string(record_json, '$.validation_flags') LIKE '%model_sha256_from_manifest%')
               AS hash_declared
    FROM measurements GROUP BY submission_id
)
SELECT s.id AS submission, m.name AS model, m.version AS model_version, m.params, d.name AS device, d.soc AS soc,
       d.form_factor, s.runtime, s.precision, s.is_baseline AS baseline, s.synthetic, s.config, s.split,
       p.value AS primary_value,
       l.latency_p50_s, l.latency_p90_s, l.latency_mean_s, l.latency_std_s, l.latency_n, l.latency_scope,
       l.latency_provenance,
       mem.peak_memory_b, mem.peak_memory_kind,
       e.energy_per_inference_gross_j, e.energy_per_inference_net_j, e.energy_scope, e.energy_method,
       CASE
           WHEN l.submission_id IS NULL AND e.submission_id IS NULL THEN 'no measurements'
           WHEN m.sha256 IS NULL OR t.timed_hashes IS NULL OR len(t.timed_hashes) = 0 THEN 'unverified'
           WHEN t.timed_hashes = [m.sha256] AND t.hash_declared THEN 'same model as declared (the log has no hash)'
           WHEN t.timed_hashes = [m.sha256] THEN 'timed model = scored model'
           ELSE 'timed model ≠ scored model'
       END AS integrity,
       s.n_samples, s.n_expected, s.created_at AS submitted_at, s.updated_at AS scored_at
FROM submissions s
JOIN models m ON m.id = s.model_id
JOIN devices d ON d.id = s.device_id
LEFT JOIN scores p ON p.submission_id = s.id AND p.breakdown = '' AND p.metric = ?
LEFT JOIN latency l ON l.submission_id = s.id
LEFT JOIN memory mem ON mem.submission_id = s.id
LEFT JOIN energy e ON e.submission_id = s.id
LEFT JOIN timed t ON t.submission_id = s.id
WHERE s.benchmark_id = ? AND s.status = 'scored'
"""


def ranking(store: Store, spec: BenchmarkSpec, device: str | None = None) -> pd.DataFrame:
    """Scored submissions of one benchmark, best first by its primary metric, one column per metric.

    `rank` is shared by ties (1, 1, 3: competition ranking) and missing where the primary metric is; `tied` says
    which rows share their rank.
    """
    sql = _RANKING_SQL
    params: list[object] = [spec.primary_metric, spec.id]
    if device is not None:
        sql += " AND d.name = ?"
        params.append(device)
    order = "DESC" if spec.primary.higher_is_better else "ASC"
    sql += f" ORDER BY primary_value {order} NULLS LAST, s.updated_at, s.id"
    others = [m.name for m in spec.metrics if m.name != spec.primary_metric]
    with store.read() as con:
        table = con.execute(sql, params).df()
        wide = _metric_columns(con, spec.id, others)
    ranks = table["primary_value"].rank(method="min", ascending=not spec.primary.higher_is_better)
    table.insert(0, "rank", ranks.astype("Int64"))
    table.insert(1, "tied", table["rank"].duplicated(keep=False) & table["rank"].notna())
    table = table.rename(columns={"primary_value": spec.primary_metric})
    if not wide.empty:
        table = table.merge(wide, on="submission", how="left")
    for name in others:
        if name not in table.columns:
            table[name] = float("nan")
    return table


def _metric_columns(con: duckdb.DuckDBPyConnection, benchmark_id: str, names: list[str]) -> pd.DataFrame:
    """One column per aggregate metric (`names`), one row per scored submission of the benchmark."""
    if not names:
        return pd.DataFrame()
    columns = ", ".join(f"max(value) FILTER (WHERE metric = ?) AS {_quote(n)}" for n in names)
    return con.execute(
        f"""SELECT submission_id AS submission, {columns} FROM scores
            WHERE breakdown = '' AND submission_id IN
                  (SELECT id FROM submissions WHERE benchmark_id = ? AND status = 'scored')
            GROUP BY submission_id""",
        [*names, benchmark_id],
    ).df()


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


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
               LEFT JOIN submissions s ON s.benchmark_id = b.id AND s.status = 'scored'
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
               WHERE s.status = 'scored' GROUP BY ALL ORDER BY d.name"""
        ).df()


def primary_results(store: Store) -> pd.DataFrame:
    """Every scored submission's primary metric with its model, device and median latency: the devices page's
    source (best per benchmark on one device, one model across devices)."""
    with store.read() as con:
        return con.execute(
            """SELECT s.benchmark_id AS benchmark, b.primary_metric, b.higher_is_better, s.id AS submission,
                      m.name AS model, m.version AS model_version, d.name AS device, d.soc, s.runtime, s.precision,
                      s.synthetic, p.value AS value,
                      (SELECT max(x.value) FROM measurements x
                       WHERE x.submission_id = s.id AND x.metric = 'latency' AND x.statistic = 'median')
                          AS latency_p50_s
               FROM submissions s
               JOIN benchmarks b ON b.id = s.benchmark_id
               JOIN models m ON m.id = s.model_id
               JOIN devices d ON d.id = s.device_id
               LEFT JOIN scores p ON p.submission_id = s.id AND p.breakdown = '' AND p.metric = b.primary_metric
               WHERE s.status = 'scored' ORDER BY s.benchmark_id, d.name, m.name"""
        ).df()


def submission(store: Store, submission_id: str) -> dict[str, Any] | None:
    """One submission's row (any status): benchmark, model, device, status and reason, manifest, times."""
    with store.read() as con:
        frame = con.execute(
            """SELECT s.id, s.benchmark_id, s.config, s.split, s.status, s.reason, s.runtime, s.precision,
                      s.submitter, s.is_baseline AS baseline, s.synthetic, s.n_samples, s.n_expected,
                      s.created_at, s.updated_at, s.manifest_json, m.name AS model, m.version AS model_version,
                      m.params, d.name AS device, d.soc
               FROM submissions s JOIN models m ON m.id = s.model_id JOIN devices d ON d.id = s.device_id
               WHERE s.id = ?""",
            [submission_id],
        ).df()
    if frame.empty:
        return None
    row: dict[str, Any] = {str(k): v for k, v in frame.iloc[0].to_dict().items()}
    row["manifest"] = json.loads(row.pop("manifest_json"))
    return row


def status_history(store: Store, submission_id: str) -> pd.DataFrame:
    """Every state a submission went through, oldest first, with its reason or detail."""
    with store.read() as con:
        return con.execute(
            "SELECT ts AS at, kind AS state, detail FROM events WHERE submission_id = ? ORDER BY ts",
            [submission_id],
        ).df()


def aggregate_scores(store: Store, submission_id: str) -> pd.DataFrame:
    """A submission's aggregate metrics (no breakdown)."""
    with store.read() as con:
        return con.execute(
            "SELECT metric, value FROM scores WHERE submission_id = ? AND breakdown = '' ORDER BY metric",
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
