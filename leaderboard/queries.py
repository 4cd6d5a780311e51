"""All the leaderboard's SQL, in one place, over short-lived read-only connections.

Only scored submissions are shown. Hidden labels are never selected here.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from hub.core.registry import BenchmarkSpec
from hub.store import Store

# A submission may carry several figures of one metric (two logs, several power rails, a range and a peak). Their
# statistics are never mixed: per submission and metric one *figure set* (same provenance, scope, method,
# definition, rail, source file and protocol) is chosen, mobench's own measurements first, then in a fixed order,
# and every column of that metric comes from it. The others stay visible under the submission's measurements.
_RANKING_SQL = r"""
WITH figures AS (
    SELECT submission_id, metric, statistic, value, scope, method, definition, provenance,
           dense_rank() OVER (
               PARTITION BY submission_id, metric
               ORDER BY provenance = 'measured-by-mobench' DESC, scope, method, coalesce(definition, ''),
                        coalesce(json_extract_string(record_json, '$.rail'), ''), coalesce(source_file, ''),
                        n, warmup
           ) AS figure_set
    FROM measurements
    WHERE (metric = 'latency' AND statistic IN ('median', 'p90'))
       OR (metric = 'peak_memory' AND statistic LIKE '%\_peak' ESCAPE '\')
       OR (metric = 'energy_per_inference' AND statistic IN ('gross', 'net'))
), chosen AS (
    SELECT * FROM figures WHERE figure_set = 1
), latency AS (
    SELECT submission_id,
           max(value) FILTER (WHERE statistic = 'median') AS latency_p50_s,
           max(value) FILTER (WHERE statistic = 'p90') AS latency_p90_s,
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
SELECT s.id AS submission, m.name AS model, m.version AS model_version, d.name AS device, d.soc AS soc,
       s.runtime, s.precision, s.is_baseline AS baseline, s.synthetic, p.value AS primary_value,
       l.latency_p50_s, l.latency_p90_s, l.latency_scope, l.latency_provenance,
       mem.peak_memory_b, mem.peak_memory_kind,
       e.energy_per_inference_gross_j, e.energy_per_inference_net_j, e.energy_scope, e.energy_method,
       CASE
           WHEN l.submission_id IS NULL AND e.submission_id IS NULL THEN 'no measurements'
           WHEN m.sha256 IS NULL OR t.timed_hashes IS NULL OR len(t.timed_hashes) = 0 THEN 'unverified'
           WHEN t.timed_hashes = [m.sha256] AND t.hash_declared THEN 'same model as declared (the log has no hash)'
           WHEN t.timed_hashes = [m.sha256] THEN 'timed model = scored model'
           ELSE 'timed model ≠ scored model'
       END AS integrity,
       s.n_samples, s.n_expected, s.updated_at AS scored_at
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


def registered_benchmarks(store: Store) -> pd.DataFrame:
    with store.read() as con:
        return con.execute(
            """SELECT b.id, b.title, b.synthetic, count(s.id) FILTER (WHERE s.status = 'scored') AS scored
               FROM benchmarks b LEFT JOIN submissions s ON s.benchmark_id = b.id
               GROUP BY ALL ORDER BY b.id"""
        ).df()


def devices(store: Store, benchmark_id: str) -> list[str]:
    with store.read() as con:
        rows = con.execute(
            """SELECT DISTINCT d.name FROM submissions s JOIN devices d ON d.id = s.device_id
               WHERE s.benchmark_id = ? AND s.status = 'scored' ORDER BY 1""",
            [benchmark_id],
        ).fetchall()
    return [str(r[0]) for r in rows]


def ranking(store: Store, spec: BenchmarkSpec, device: str | None = None) -> pd.DataFrame:
    """Scored submissions of one benchmark, best first by its primary metric, one column per metric."""
    sql = _RANKING_SQL
    params: list[object] = [spec.primary_metric, spec.id]
    if device is not None:
        sql += " AND d.name = ?"
        params.append(device)
    order = "DESC" if spec.primary.higher_is_better else "ASC"
    sql += f" ORDER BY primary_value {order} NULLS LAST, s.updated_at"
    with store.read() as con:
        table = con.execute(sql, params).df()
        metrics = con.execute(
            """SELECT submission_id AS submission, metric, value FROM scores
               WHERE breakdown = '' AND submission_id IN (SELECT id FROM submissions WHERE benchmark_id = ?)""",
            [spec.id],
        ).df()
    table.insert(0, "rank", range(1, len(table) + 1))
    table = table.rename(columns={"primary_value": spec.primary_metric})
    if not metrics.empty:
        wide = metrics.pivot_table(index="submission", columns="metric", values="value", aggfunc="first")
        others = [m.name for m in spec.metrics if m.name != spec.primary_metric and m.name in wide.columns]
        table = table.merge(wide[others], left_on="submission", right_index=True, how="left")
    return table


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
    with store.read() as con:
        long = con.execute(
            "SELECT sample_id, metric, value FROM sample_scores WHERE submission_id = ?", [submission_id]
        ).df()
    if long.empty:
        return long
    return long.pivot_table(index="sample_id", columns="metric", values="value", aggfunc="first").reset_index()


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
