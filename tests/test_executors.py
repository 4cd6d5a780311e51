"""Scale-out scoring is exact: every family's submissions scored in one process, on 2 processes and on a local Ray
instance give bit-identical metrics, breakdowns and per-sample scores; and the map/reduce split itself is exact
whatever the chunk sizes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.cli.demo import DemoSummary
from hub.core.evaluation import EvaluationRequest, exact_bits
from hub.core.registry import all_benchmarks
from hub.scoring.executors import Executor, LocalExecutor, ProcessExecutor, RayExecutor, chunks, score
from hub.scoring.wiring import evaluator_for
from hub.store import Store
from submissions.worker import prepare_request, process_one


@pytest.fixture(scope="module")
def requests(demo: DemoSummary) -> list[EvaluationRequest]:
    """One published demo submission per benchmark: every family the registry knows."""
    store = Store(demo.db_path)
    chosen: dict[str, str] = {}
    for row in store.list_submissions():
        if row["status"] == "published":
            chosen.setdefault(row["benchmark_id"], row["id"])
    found = [store.find_submission(sid) for sid in chosen.values()]
    return [prepare_request(store, row) for row in found if row is not None]


def test_the_demo_covers_every_family(requests: list[EvaluationRequest]) -> None:
    assert {r.spec.family for r in requests} == {spec.family for spec in all_benchmarks()}


@pytest.fixture(scope="module")
def reference(requests: list[EvaluationRequest]) -> dict[str, dict[tuple[str, str], bytes | str]]:
    return {r.spec.id: score(r, LocalExecutor()).exact_figures() for r in requests}


@pytest.fixture(scope="module", params=["process", "ray"])
def executor(request: pytest.FixtureRequest) -> Iterator[Executor]:
    if request.param == "ray":
        pytest.importorskip("ray")
        chosen: Executor = RayExecutor(processes=2)
    else:
        chosen = ProcessExecutor(2)
    yield chosen
    chosen.close()


def test_every_family_scores_bit_identically_on_another_executor(
    requests: list[EvaluationRequest], reference: dict[str, dict[tuple[str, str], bytes | str]], executor: Executor
) -> None:
    for request in requests:
        got = score(request, executor).exact_figures()
        assert got == reference[request.spec.id], (request.spec.id, executor.describe())
        assert got, request.spec.id


def test_any_chunking_of_the_map_gives_the_same_bits(
    requests: list[EvaluationRequest], reference: dict[str, dict[tuple[str, str], bytes | str]]
) -> None:
    """What the executors rely on: the reduce sees per-unit partials, so cutting the map anywhere changes nothing."""
    for request in requests:
        evaluator = evaluator_for(request.spec)
        plan = evaluator.plan(request)
        for size in (1, 2, 3, 7):
            partials: list[Any] = []
            for part in chunks(plan.units, max(1, len(plan.units) // size)):
                partials += evaluator.map(request, part)
            assert evaluator.reduced(request, plan, partials).exact_figures() == reference[request.spec.id], size


def test_chunks_keep_order_and_cover_everything() -> None:
    units = list(range(10))
    assert chunks(units, 3) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert chunks(units, 20) == [[u] for u in units]
    assert chunks([], 4) == []


def test_the_worker_scores_on_the_chosen_executor(demo: DemoSummary, demo_db: Path, executor: Executor) -> None:
    """A re-queued submission goes through the worker's states again on `executor`, to the same scores."""
    store = Store(demo_db)
    sid = next(r["id"] for r in store.list_submissions() if r["benchmark_id"] == "sintel-clean")
    with store.read() as con:
        before = con.execute("SELECT metric, value FROM scores WHERE submission_id = ? ORDER BY ALL", [sid]).fetchall()
    with store.write() as con:
        con.execute("UPDATE submissions SET status = 'queued' WHERE id = ?", [sid])
    row = process_one(store, worker_id="scale-out", executor=executor)
    assert row is not None and row.id == sid and row.status == "published"
    with store.read() as con:
        after = con.execute("SELECT metric, value FROM scores WHERE submission_id = ? ORDER BY ALL", [sid]).fetchall()
        (detail,) = con.execute(
            "SELECT detail FROM events WHERE submission_id = ? AND kind = 'scoring' ORDER BY ts DESC LIMIT 1", [sid]
        ).fetchone()  # type: ignore[misc]
    assert [(m, exact_bits(v)) for m, v in after] == [(m, exact_bits(v)) for m, v in before]
    assert detail.endswith(f"on {executor.describe()}")
