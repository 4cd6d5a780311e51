"""One row per published submission with everything a leaderboard page reads, written in the publishing transaction.

The benchmark page ranks, filters and counts every scored submission of a benchmark on each view. Joining
submissions, models, devices, cost figures and 10 M-row score tables for that on every click does not scale, so the
store keeps this denormalised table: a submission's row is (re)written (`refresh`) whenever what it shows can change
(published with its scores and cost figures, status changed) inside the same transaction, and `Store.init` fills it
for stores recorded before it existed (`fill_missing`). The aggregate metrics travel in the row, so a page fetches
the metric columns of the rows it shows without touching the scores table: `metric_names` (a JSON array, in name
order) and `metric_values` (a DOUBLE[] in the same order); `leaderboard.queries` takes a metric out by its position
in the names. The metrics' 95 % intervals travel the same way (`metric_lows`, `metric_highs`, NULL for a
submission scored without them), the primary metric's also as `primary_low`/`primary_high`.
"""

from __future__ import annotations

import duckdb

from hub.store.costs import COST_COLUMNS

_COSTS = ", ".join(f"c.{column}" for column in COST_COLUMNS if column != "integrity")


def board_rows_select(submission_filter: str) -> str:
    """The SELECT that yields `board_rows` rows for the scored submissions `submission_filter` names (an SQL
    condition on a submission id column named `sid`)."""
    scored = submission_filter.replace("sid", "submission_id")
    own = submission_filter.replace("sid", "s.id")
    return f"""
WITH aggregate AS (
    SELECT submission_id, list(metric ORDER BY metric) AS names, list(value ORDER BY metric) AS metric_values
    FROM scores WHERE breakdown = '' AND ({scored}) GROUP BY submission_id
), bounds AS (
    SELECT submission_id, list(metric ORDER BY metric) AS names, list(low ORDER BY metric) AS lows,
           list(high ORDER BY metric) AS highs
    FROM score_intervals WHERE ({scored}) GROUP BY submission_id
)
SELECT s.id AS submission, s.benchmark_id, m.name AS model, m.version AS model_version, m.params,
       d.name AS device, d.soc, d.form_factor, s.runtime, s.precision, s.is_baseline AS baseline, s.synthetic,
       s.config, s.split, a.metric_values[list_position(a.names, b.primary_metric)] AS primary_value,
       {_COSTS}, coalesce(c.integrity, 'no measurements') AS integrity,
       s.n_samples, s.n_expected, s.created_at AS submitted_at, s.updated_at AS scored_at,
       to_json(a.names)::VARCHAR AS metric_names, a.metric_values,
       i.lows[list_position(i.names, b.primary_metric)] AS primary_low,
       i.highs[list_position(i.names, b.primary_metric)] AS primary_high,
       CASE WHEN i.names = a.names THEN i.lows END AS metric_lows,
       CASE WHEN i.names = a.names THEN i.highs END AS metric_highs,
       s.training_badge
FROM submissions s
JOIN benchmarks b ON b.id = s.benchmark_id
JOIN models m ON m.id = s.model_id
JOIN devices d ON d.id = s.device_id
LEFT JOIN submission_costs c ON c.submission_id = s.id
LEFT JOIN aggregate a ON a.submission_id = s.id
LEFT JOIN bounds i ON i.submission_id = s.id
WHERE s.status = 'published' AND ({own})
"""


ONE_SUBMISSION = board_rows_select("sid = $submission")
MISSING = board_rows_select("sid NOT IN (SELECT submission FROM board_rows)")


def refresh(con: duckdb.DuckDBPyConnection, submission_id: str) -> None:
    """Rewrite a submission's leaderboard row in the caller's transaction: none unless it is published."""
    con.execute("DELETE FROM board_rows WHERE submission = ?", [submission_id])
    con.execute(f"INSERT INTO board_rows {ONE_SUBMISSION}", {"submission": submission_id})


def fill_missing(con: duckdb.DuckDBPyConnection) -> None:
    """Derive the row of every published submission that has none, in the caller's transaction."""
    con.execute(f"INSERT INTO board_rows {MISSING}")
