"""The evaluation worker: takes queued submissions one at a time, scores them, stores the result.

A submission whose predictions are wrong (missing samples, bad files) is `rejected` with the evaluator's message;
an unexpected error is `failed` with its type and message, so a maintainer can tell the submitter's fault from
the hub's. Either way no score row is written: scores land only in the one transaction that marks it `scored`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from hub.core.errors import MobenchError
from hub.core.evaluation import EvaluationResult
from hub.core.registry import get_benchmark
from hub.store import Store, SubmissionRow
from hub.wiring import make_request, score


def evaluate_submission(store: Store, row: SubmissionRow) -> EvaluationResult:
    spec = get_benchmark(row.benchmark_id)
    registered = store.benchmark_root(spec.id)
    if registered is None:
        raise MobenchError(f"{spec.id} has no registered data root: run `mobench register {spec.id} --root ...`")
    labels = None
    if spec.config(row.config).split(row.split).labels == "hidden":
        labels = store.hidden_labels(spec.id)
        if not labels:
            raise MobenchError(
                f"{spec.id} keeps its labels hidden and none are stored: run `mobench labels set {spec.id} KEY`"
            )
    predictions = Path(row.storage_path) / "predictions"
    return score(make_request(spec, registered[0], predictions, row.split, row.config, labels=labels))


def process_one(store: Store) -> SubmissionRow | None:
    """Score the oldest queued submission; returns it (with its new status) or None if the queue is empty."""
    row = store.claim_next()
    if row is None:
        return None
    try:
        result = evaluate_submission(store, row)
    except MobenchError as exc:
        store.set_status(row.id, "rejected", str(exc))
        return store.find_submission(row.id)
    except Exception as exc:  # a bug or an environment problem, not the submitter's fault
        store.set_status(row.id, "failed", f"{type(exc).__name__}: {exc}")
        return store.find_submission(row.id)
    store.record_scores(row.id, result)
    return store.find_submission(row.id)


def run(
    store: Store, *, once: bool, poll_s: float = 2.0, on_done: Callable[[SubmissionRow], None] | None = None
) -> int:
    """Process the queue. With `once`, stop when it is empty; otherwise poll forever. Returns how many ran."""
    done = 0
    while True:
        row = process_one(store)
        if row is None:
            if once:
                return done
            time.sleep(poll_s)
            continue
        done += 1
        if on_done is not None:
            on_done(row)
