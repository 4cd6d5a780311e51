"""What the API reads to answer a request: the benchmark an archive's manifest names (before the intake, for the
quota reservation) and a submission's view, public or its owner's (`submissions.server` says which is which)."""

import json
from pathlib import Path

from starlette.exceptions import HTTPException

from hub.core.errors import MobenchError, SubmissionError, excerpt
from hub.core.evaluation import finite_or_none
from hub.core.registry import get_benchmark
from hub.store import Store, accounts
from hub.store.accounts import Token
from submissions.api_schema import HistoryEntry, SubmissionView
from submissions.archive import read_member
from submissions.manifest import MAX_MANIFEST_BYTES, parse_manifest_text


def benchmark_of(archive: Path, shown: str) -> str:
    """The benchmark a zip's manifest names, read without extracting anything (for the quota reservation), with
    the intake's own zip checks and hardened YAML loader; every problem is a 422."""
    try:
        raw = parse_manifest_text(
            read_member(archive, "manifest.yaml", MAX_MANIFEST_BYTES, shown).decode("utf-8"), "manifest.yaml"
        )
    except UnicodeDecodeError as error:
        raise HTTPException(422, f"manifest.yaml: not UTF-8 text at byte {error.start}") from None
    except SubmissionError as error:
        raise HTTPException(422, str(error)) from None
    benchmark = raw.get("benchmark")
    if not isinstance(benchmark, str) or len(benchmark) > 100:
        raise HTTPException(422, f"manifest.yaml: field 'benchmark': expected a benchmark id, got {excerpt(benchmark)}")
    try:
        return get_benchmark(benchmark).id
    except MobenchError as error:
        raise HTTPException(422, f"manifest.yaml: field 'benchmark': {error}") from None


def submission_view(store: Store, submission_id: str, token: Token | None) -> SubmissionView:
    with store.read() as con:
        row = con.execute(
            """SELECT id, benchmark_id, config, split, status, created_at, updated_at, reason, worker_id,
                      heartbeat_at, lease_expires_at, attempts, log_excerpt, training_data_json, training_badge,
                      resampling
               FROM submissions WHERE id = ?""",
            [submission_id],
        ).fetchone()
        if row is None:
            raise HTTPException(404, f"no submission {excerpt(submission_id)}")
        history = con.execute(
            "SELECT ts, kind, detail FROM events WHERE submission_id = ? ORDER BY ts", [submission_id]
        ).fetchall()
        scores = con.execute(
            "SELECT metric, value FROM scores WHERE submission_id = ? AND breakdown = '' ORDER BY metric",
            [submission_id],
        ).fetchall()
        bounds = con.execute(
            "SELECT metric, low, high FROM score_intervals WHERE submission_id = ? ORDER BY metric", [submission_id]
        ).fetchall()
    owner = token is not None and accounts.owns(store, token, submission_id)
    published = row[4] == "published"
    text = [None if v is None else str(v) for v in row]
    view = SubmissionView(
        id=row[0],
        benchmark=row[1],
        config=row[2],
        split=row[3],
        status=row[4],
        created_at=text[5],
        updated_at=text[6],
        history=[
            HistoryEntry(at=str(ts), state=kind, detail=detail if owner else None) for ts, kind, detail in history
        ],
        # JSON has no NaN: a metric with nothing to average over is null, as `mobench evaluate --json` prints it
        scores={m: finite_or_none(v) for m, v in scores} if published else {},
        intervals={m: [finite_or_none(low), finite_or_none(high)] for m, low, high in bounds} if published else {},
        resampling=json.loads(row[15]) if published and row[15] else None,
        owner=owner,
        training_data=json.loads(row[13]) if row[13] is not None else None,
        training_badge=row[14],
    )
    if owner:
        view.reason, view.worker, view.heartbeat_at, view.lease_expires_at = text[7], text[8], text[9], text[10]
        view.attempts, view.log_excerpt = row[11], row[12]
    return view
