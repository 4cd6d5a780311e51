"""Per submission, the one set of cost figures the leaderboard shows, chosen in the transaction that publishes it.

A submission may carry several figures of one metric (two logs, several power rails, a range and a peak). Their
statistics are never mixed: per submission and metric one *figure set* (same provenance, scope, method, definition,
rail, source file and protocol) is chosen, mobench's own measurements first, then in a fixed order, and every column
of that metric comes from it. The others stay visible under the submission's measurements. The integrity label
compares the sha256 of the timed model (in the records) with the manifest's (the scored model).

Measurements are parsed and checked at intake and never change after it, so nothing is measured when a submission
is scored: the figures are chosen (`choose`) from the stored records in the transaction that publishes the scores
(`hub.store.outcomes`), and kept in `submission_costs`; the leaderboard then reads one narrow row per submission
instead of re-ranking every measurement on each page view. `Store.init` fills the table for published submissions
recorded before it existed (`fill_missing`).
"""

from __future__ import annotations

import duckdb

COST_COLUMNS = (
    "latency_p50_s", "latency_p90_s", "latency_mean_s", "latency_std_s", "latency_n", "latency_scope",
    "latency_provenance", "peak_memory_b", "peak_memory_kind", "energy_per_inference_gross_j",
    "energy_per_inference_net_j", "energy_scope", "energy_method", "integrity",
)  # fmt: skip


def costs_select(submission_filter: str) -> str:
    """The SELECT that yields `submission_costs` rows for the submissions `submission_filter` (an SQL condition on
    a submission id column named `sid`) names, e.g. ``sid = $submission`` or
    ``sid NOT IN (SELECT submission_id FROM submission_costs)``."""
    measured = submission_filter.replace("sid", "submission_id")
    own = submission_filter.replace("sid", "s.id")
    return rf"""
WITH figures AS (
    SELECT submission_id, metric, statistic, value, n, scope, method, definition, provenance,
           dense_rank() OVER (
               PARTITION BY submission_id, metric
               ORDER BY provenance = 'measured-by-mobench' DESC, scope, method, coalesce(definition, ''),
                        coalesce(json_extract_string(record_json, '$.rail'), ''), coalesce(source_file, ''),
                        n, warmup
           ) AS figure_set
    FROM measurements
    WHERE ({measured})
      AND ((metric = 'latency' AND statistic IN ('median', 'p90', 'mean', 'std'))
       OR (metric = 'peak_memory' AND statistic LIKE '%\_peak' ESCAPE '\')
       OR (metric = 'energy_per_inference' AND statistic IN ('gross', 'net')))
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
    FROM measurements WHERE ({measured}) GROUP BY submission_id
)
SELECT s.id AS submission_id,
       l.latency_p50_s, l.latency_p90_s, l.latency_mean_s, l.latency_std_s, l.latency_n, l.latency_scope,
       l.latency_provenance, mem.peak_memory_b, mem.peak_memory_kind,
       e.energy_per_inference_gross_j, e.energy_per_inference_net_j, e.energy_scope, e.energy_method,
       CASE
           WHEN l.submission_id IS NULL AND e.submission_id IS NULL THEN 'no measurements'
           WHEN m.sha256 IS NULL OR t.timed_hashes IS NULL OR len(t.timed_hashes) = 0 THEN 'unverified'
           WHEN t.timed_hashes = [m.sha256] AND t.hash_declared THEN 'same model as declared (the log has no hash)'
           WHEN t.timed_hashes = [m.sha256] THEN 'timed model = scored model'
           ELSE 'timed model ≠ scored model'
       END AS integrity
FROM submissions s
JOIN models m ON m.id = s.model_id
LEFT JOIN latency l ON l.submission_id = s.id
LEFT JOIN memory mem ON mem.submission_id = s.id
LEFT JOIN energy e ON e.submission_id = s.id
LEFT JOIN timed t ON t.submission_id = s.id
WHERE ({own})
"""


ONE_SUBMISSION = costs_select("sid = $submission")
# What `Store.init` derives for rows written before (or behind) it: published submissions only. A queued one gets its
# figures when it is published; deriving them earlier would let any intake, even a refused one, write to the store.
MISSING = costs_select(
    "sid NOT IN (SELECT submission_id FROM submission_costs)"
    " AND sid IN (SELECT id FROM submissions WHERE status = 'published')"
)


def choose(con: duckdb.DuckDBPyConnection, submission_id: str) -> int:
    """Choose a submission's cost figures again from all its measurement records, in the caller's transaction;
    returns how many records it has."""
    con.execute("DELETE FROM submission_costs WHERE submission_id = ?", [submission_id])
    con.execute(f"INSERT INTO submission_costs {ONE_SUBMISSION}", {"submission": submission_id})
    row = con.execute("SELECT count(*) FROM measurements WHERE submission_id = ?", [submission_id]).fetchone()
    return int(row[0]) if row else 0


def fill_missing(con: duckdb.DuckDBPyConnection) -> None:
    """Derive the cost figures of every published submission that has none, in the caller's transaction."""
    con.execute(f"INSERT INTO submission_costs {MISSING}")
