"""Where a submission's samples are scored: in this process, on a local process pool, or on a Ray cluster.

Every evaluator is a `ShardedEvaluator` (plan -> map -> reduce, `hub.core.evaluation`). The plan and the reduce run
here; an executor runs the map over contiguous chunks of the plan's units and returns the per-unit partials in the
plan's order, so the reduce computes exactly what it computes in one process: the metrics are bit-identical
whichever executor scored them (`tests/test_executors.py`).

A process or a Ray task cannot be handed the request itself (it holds an open loader), so it gets a `ScoringJob`:
the request as plain data, rebuilt on the other side with `hub.scoring.wiring.make_request`. On a cluster every node
must therefore see the release and the submission at the same paths (a shared or synced folder), and a hidden-label
benchmark's answer key travels with the job to the hub's own nodes.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from hub.core.errors import MobenchError
from hub.core.evaluation import EvaluationRequest, EvaluationResult, ScoringPlan, ShardedEvaluator
from hub.core.registry import get_benchmark
from hub.scoring.wiring import evaluator_for, make_request

EXECUTORS = ("local", "process", "ray")
# chunks per worker process: small enough to balance unequal samples, large enough that the per-chunk cost of
# rebuilding the request (opening the release's index) stays negligible
CHUNKS_PER_WORKER = 4


@dataclass(frozen=True)
class ScoringJob:
    """An `EvaluationRequest` as plain, picklable data."""

    benchmark: str
    root: str
    predictions: str
    split: str
    config: str
    allow_partial: bool
    labels: dict[str, str] | None

    @classmethod
    def of(cls, request: EvaluationRequest) -> ScoringJob:
        return cls(
            benchmark=request.spec.id,
            root=str(request.ground_truth.root),
            predictions=str(request.predictions),
            split=request.split,
            config=request.config,
            allow_partial=request.allow_partial,
            labels=dict(request.labels) if request.labels is not None else None,
        )

    def request(self) -> EvaluationRequest:
        spec = get_benchmark(self.benchmark)
        return make_request(
            spec, Path(self.root), Path(self.predictions), self.split, self.config, self.allow_partial, self.labels
        )


def map_chunk(job: ScoringJob, units: Sequence[Any]) -> list[Any]:
    """The map of one chunk, in another process: rebuild the request, score the units."""
    request = job.request()
    return evaluator_for(request.spec).map(request, units)


def chunks(units: Sequence[Any], n: int) -> list[list[Any]]:
    """`units` cut into at most `n` contiguous chunks of near-equal size, in order."""
    if not units:
        return []
    size = math.ceil(len(units) / max(1, n))
    return [list(units[i : i + size]) for i in range(0, len(units), size)]


class Executor(Protocol):
    """Runs an evaluator's map over units; returns one partial per unit, in the units' order."""

    def describe(self) -> str: ...

    def run(self, request: EvaluationRequest, evaluator: ShardedEvaluator[Any, Any], units: list[Any]) -> list[Any]: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Everything in this process, on the request as it is (the default: nothing to start)."""

    def describe(self) -> str:
        return "this process"

    def run(self, request: EvaluationRequest, evaluator: ShardedEvaluator[Any, Any], units: list[Any]) -> list[Any]:
        return evaluator.map(request, units)

    def close(self) -> None:
        pass


class ProcessExecutor:
    """A pool of `processes` local processes, started on first use and kept for the next submissions.

    Processes are spawned, not forked: the worker that owns the pool runs a heartbeat thread and holds DuckDB
    connections, neither of which may be copied into a child mid-flight.
    """

    def __init__(self, processes: int | None = None) -> None:
        self.processes = processes or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None

    def describe(self) -> str:
        return f"{self.processes} local processes"

    def run(self, request: EvaluationRequest, evaluator: ShardedEvaluator[Any, Any], units: list[Any]) -> list[Any]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"))
        job = ScoringJob.of(request)
        parts = chunks(units, self.processes * CHUNKS_PER_WORKER)
        return [partial for part in self._pool.map(map_chunk, [job] * len(parts), parts) for partial in part]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


class RayExecutor:
    """Ray tasks: a local Ray instance by default, or the cluster at `address` (e.g. ``ray://head:10001``)."""

    def __init__(self, address: str | None = None, processes: int | None = None) -> None:
        self.address, self.processes = address, processes

    def describe(self) -> str:
        return f"Ray at {self.address}" if self.address else "a local Ray instance"

    def run(self, request: EvaluationRequest, evaluator: ShardedEvaluator[Any, Any], units: list[Any]) -> list[Any]:
        ray = _ray()
        if not ray.is_initialized():
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report to send from a hub's workers
            options: dict[str, Any] = {"include_dashboard": False, "logging_level": "warning"}
            if self.address:
                options["address"] = self.address
            else:
                options["num_cpus"] = self.processes or os.cpu_count() or 1
            ray.init(**options)
        remote = ray.remote(map_chunk)
        job = ray.put(ScoringJob.of(request))
        workers = int(ray.cluster_resources().get("CPU", 1))
        refs = [remote.remote(job, part) for part in chunks(units, workers * CHUNKS_PER_WORKER)]
        return [partial for part in ray.get(refs) for partial in part]

    def close(self) -> None:
        ray = _ray()
        if ray.is_initialized():
            ray.shutdown()


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise MobenchError("--executor ray needs the ray package: pip install 'mobench[ray]'") from exc
    return ray


def make_executor(kind: str, *, processes: int | None = None, address: str | None = None) -> Executor:
    if kind == "local":
        return LocalExecutor()
    if kind == "process":
        return ProcessExecutor(processes)
    if kind == "ray":
        return RayExecutor(address, processes)
    raise MobenchError(f"unknown executor {kind!r}; choose one of: {', '.join(EXECUTORS)}")


def score(
    request: EvaluationRequest,
    executor: Executor | None = None,
    *,
    planned: Callable[[ScoringPlan[Any]], None] | None = None,
) -> EvaluationResult:
    """Score a request with its benchmark's official metrics, the path every caller takes after `make_request`
    (worker, `mobench evaluate`, `mobench verify`, the benches): plan, map on `executor` (this process by default),
    reduce, whose metric names are checked against the spec's (`ShardedEvaluator.reduced`). `planned` is called once
    the submission passed its plan (the worker moves it to `scoring` there)."""
    evaluator = evaluator_for(request.spec)
    plan = evaluator.plan(request)
    if planned is not None:
        planned(plan)
    partials = (executor or LocalExecutor()).run(request, evaluator, plan.units)
    return evaluator.reduced(request, plan, partials)
