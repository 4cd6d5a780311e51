"""A scored submission's result read back from the store: the figures a result bundle carries (`hub.scoring.bundle`).

The figures come back as the core result type, exactly as `store.outcomes.publish` wrote them: DuckDB keeps every
DOUBLE as written (NaN, infinities, -0.0), so each one is bit for bit what the evaluator returned, and a
re-scoring can be compared with it figure by figure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hub.core.bootstrap import Intervals
from hub.core.errors import MobenchError
from hub.core.evaluation import Breakdowns, EvaluationResult
from hub.core.training_data import Badge
from hub.store.database import Store
from hub.store.rows import SubmissionRow


@dataclass(frozen=True)
class StoredResult:
    submission: SubmissionRow
    manifest: dict[str, Any]
    result: EvaluationResult
    training_badge: Badge | None  # what the manifest's training_data earned on the benchmark (hub.core.training_data)


def resolve_submission(store: Store, id_or_prefix: str) -> SubmissionRow:
    """The submission whose id is or starts with `id_or_prefix` (`mobench submissions` shows 12 characters)."""
    with store.read() as con:
        rows = con.execute(
            "SELECT id FROM submissions WHERE starts_with(id, ?) ORDER BY id LIMIT 2", [id_or_prefix]
        ).fetchall()
    row = store.find_submission(str(rows[0][0])) if len(rows) == 1 else None
    if row is None:
        found = "more than one submission" if rows else "no submission"
        raise MobenchError(f"{found} in {store.name} has an id starting with {id_or_prefix!r} (`mobench submissions`)")
    return row


def stored_result(store: Store, submission: SubmissionRow) -> StoredResult:
    """The manifest and every figure of a scored submission: aggregates, breakdowns, per-sample scores, counts."""
    with store.read() as con:
        head = con.execute(
            """SELECT manifest_json, n_samples, n_expected, details_json, resampling, training_badge
               FROM submissions WHERE id = ?""",
            [submission.id],
        ).fetchone()
        bounds = con.execute(
            "SELECT metric, low, high FROM score_intervals WHERE submission_id = ? ORDER BY metric", [submission.id]
        ).fetchall()
        scores = con.execute(
            """SELECT metric, value, breakdown, breakdown_key FROM scores WHERE submission_id = ?
               ORDER BY breakdown, breakdown_key, metric""",
            [submission.id],
        ).fetchall()
        samples = con.execute(
            "SELECT sample_id, metric, value FROM sample_scores WHERE submission_id = ? ORDER BY sample_id, metric",
            [submission.id],
        ).fetchall()
    if head is None or head[1] is None:  # n_samples is written only with the scores
        reason = f": {submission.reason}" if submission.reason else ""
        raise MobenchError(f"submission {submission.id} has no scores (status {submission.status}{reason})")
    metrics: dict[str, float] = {}
    breakdowns: Breakdowns = {}
    for metric, value, breakdown, key in scores:
        if breakdown:
            breakdowns.setdefault(breakdown, {}).setdefault(key, {})[metric] = float(value)
        else:
            metrics[metric] = float(value)
    sample_scores: dict[str, dict[str, float]] = {}
    for sample_id, metric, value in samples:
        sample_scores.setdefault(sample_id, {})[metric] = float(value)
    result = EvaluationResult(
        benchmark=submission.benchmark_id,
        config=submission.config,
        split=submission.split,
        n_samples=int(head[1]),
        n_expected=int(head[2]),
        metrics=metrics,
        breakdowns=breakdowns,
        sample_scores=sample_scores,
        details=json.loads(head[3]) if head[3] else {},
        intervals=_intervals(head[4], bounds),
    )
    return StoredResult(
        submission=submission,
        manifest=json.loads(head[0]),
        result=result,
        training_badge=None if head[5] is None else Badge(head[5]),
    )


def _intervals(resampling: str | None, bounds: list[tuple[Any, ...]]) -> Intervals | None:
    """The stored intervals and how they were drawn; None for a submission scored before intervals existed."""
    if resampling is None:
        return None
    drawn = json.loads(resampling)
    return Intervals(
        unit=drawn["unit"],
        n_units=drawn["n_units"],
        resamples=drawn["resamples"],
        seed=drawn["seed"],
        level=drawn["level"],
        bounds={str(metric): (float(low), float(high)) for metric, low, high in bounds},
    )
