"""The evaluation worker: takes queued submissions one at a time, scores them, stores the result.

Each submission goes through the states a submitter sees, each with its time in the history:
`validating` (claimed: its benchmark's data root, hidden labels and ground-truth split are found, and the
evaluator's plan matches the prediction files and reads and checks the text ones), `scoring` (the map reads and
checks the remaining predictions and computes per-sample statistics, the reduce the official metrics) and
`published` (one transaction: the scores, the cost figures chosen from the measurement records checked at intake,
and the leaderboard row; the worker measures nothing, the costs were measured where the model ran). A submission
whose predictions are wrong (missing samples, bad files) is `rejected` with the evaluator's message; an unexpected
error is `failed` with its type and message (and the end of its traceback as the log excerpt), so a maintainer can
tell the submitter's fault from the hub's. Either way no score row is written: scores land only in the one
transaction that publishes it.

Crash safety: a claim is a lease (`store.leases.claim_next`), renewed by a heartbeat thread while the submission is
scored. A worker killed at any point leaves either nothing (the scores' transaction did not commit) or a complete
result; its lease then expires and the next worker claims the submission again. Scoring is deterministic and the
finishing transaction checks that the lease is still this worker's, so a submission is scored exactly once.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.core.errors import LeaseLostError, MobenchError
from hub.core.evaluation import EvaluationRequest, EvaluationResult, ScoringPlan
from hub.core.registry import get_benchmark
from hub.core.version import mobench_git_commit, mobench_version
from hub.scoring.executors import Executor, LocalExecutor, score
from hub.scoring.wiring import make_request
from hub.store import Store, SubmissionRow
from hub.store.leases import DEFAULT_LEASE_S

LOG_EXCERPT_CHARS = 2000


def prepare_request(store: Store, row: SubmissionRow) -> EvaluationRequest:
    """The `validating` step: everything the evaluator needs, found in the store and the registry."""
    spec = get_benchmark(row.benchmark_id)
    registered = store.benchmarks.root(spec.id)
    if registered is None:
        raise MobenchError(f"{spec.id} has no registered data root: run `mobench register {spec.id} --root ...`")
    labels = None
    if spec.config(row.config).split(row.split).labels == "hidden":
        labels = store.benchmarks.hidden_labels(spec.id)
        if not labels:
            raise MobenchError(
                f"{spec.id} keeps its labels hidden and none are stored: run `mobench labels set {spec.id} KEY`"
            )
    predictions = Path(row.storage_path) / "predictions"
    return make_request(spec, registered[0], predictions, row.split, row.config, labels=labels)


def evaluate_submission(store: Store, row: SubmissionRow, executor: Executor | None = None) -> EvaluationResult:
    """Validate and score a submission without changing its state (what `process_one` does between states)."""
    return score(prepare_request(store, row), executor)


def scored_by(worker_id: str, executor: Executor) -> dict[str, str | None]:
    """Which mobench scored a result, and where: kept with the result, so a bundle written later names the code
    that produced the figures, not the code that exported them."""
    return {
        "mobench": mobench_version(),
        "git_commit": mobench_git_commit(),
        "worker": worker_id,
        "executor": executor.describe(),
    }


def public_reason(store: Store, row: SubmissionRow, text: str) -> str:
    """A rejection reason as its submitter may read it: file names relative to the submission's own folder, the
    benchmark's data root and the hub's folder named, never shown (an evaluator's message names absolute paths)."""
    private = [(str(Path(row.storage_path)) + os.sep, ""), (str(Path(row.storage_path)), "<submission>")]
    registered = store.benchmarks.root(row.benchmark_id)
    if registered is not None:
        private.append((str(registered[0]), "<data root>"))
    private.append((str(store.path.parent), "<hub>"))
    for path, shown in private:
        text = text.replace(path, shown)
    return text


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Heartbeat:
    """Renews a lease every third of its length in a background thread while the `with` block runs."""

    def __init__(self, store: Store, submission_id: str, worker_id: str, lease_s: float) -> None:
        self.store, self.submission_id, self.worker_id, self.lease_s = store, submission_id, worker_id, lease_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{submission_id[:12]}", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            try:
                if not self.store.leases.heartbeat(self.submission_id, self.worker_id, lease_s=self.lease_s):
                    return  # the lease was taken over: the finishing transaction will notice
            except MobenchError:
                continue  # the file was busy for too long: try again at the next beat

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def process_one(
    store: Store,
    *,
    worker_id: str | None = None,
    lease_s: float = DEFAULT_LEASE_S,
    executor: Executor | None = None,
) -> SubmissionRow | None:
    """Score the oldest claimable submission; returns it (with its new status) or None if nothing is claimable.

    The evaluator's plan (coverage, prediction text files) is the `validating` step; its map runs on `executor`
    (this process by default) during `scoring`, and its reduce gives the official figures.
    """
    me = worker_id or default_worker_id()
    executor = executor or LocalExecutor()
    row = store.leases.claim_next(me, lease_s=lease_s)
    if row is None:
        return None
    try:
        with Heartbeat(store, row.id, me, lease_s):
            try:
                request = prepare_request(store, row)

                def scoring(plan: ScoringPlan[Any]) -> None:
                    where = f"{len(plan.units)} samples of {request.config}/{request.split} on {executor.describe()}"
                    store.leases.advance(row.id, "scoring", me, where)

                result = score(request, executor, planned=scoring)
                result.details["scored_by"] = scored_by(me, executor)
            except LeaseLostError:
                raise
            except MobenchError as exc:
                store.outcomes.end(row.id, "rejected", public_reason(store, row, str(exc)), worker_id=me)
                return store.find_submission(row.id)
            except Exception as exc:  # a bug or an environment problem, not the submitter's fault
                excerpt = traceback.format_exc()[-LOG_EXCERPT_CHARS:]
                store.outcomes.end(row.id, "failed", f"{type(exc).__name__}: {exc}", worker_id=me, log_excerpt=excerpt)
                return store.find_submission(row.id)
        store.outcomes.publish(row.id, result, worker_id=me)
    except LeaseLostError:
        pass  # another worker holds it now and will finish it
    return store.find_submission(row.id)


def run(
    store: Store,
    *,
    once: bool,
    poll_s: float = 2.0,
    on_done: Callable[[SubmissionRow], None] | None = None,
    worker_id: str | None = None,
    lease_s: float = DEFAULT_LEASE_S,
    executor: Executor | None = None,
) -> int:
    """Process the queue. With `once`, stop when it is empty; otherwise poll forever. Returns how many ran."""
    done = 0
    while True:
        row = process_one(store, worker_id=worker_id, lease_s=lease_s, executor=executor)
        if row is None:
            if once:
                return done
            time.sleep(poll_s)
            continue
        done += 1
        if on_done is not None:
            on_done(row)
