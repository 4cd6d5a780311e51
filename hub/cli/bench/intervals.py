"""What the metrics' bootstrap intervals add to publishing a typical submission, in a hub of `size` submissions.

Workload: a KITTI-size optical-flow submission (200 pairs of 1242x375, the `flow-kitti` case's release and
predictions), published into a store that already holds the intervals of `size` submissions (default 10,000: ten
metrics each, 100,000 rows of `score_intervals`).

- project: what intervals add at publishing: `Resampling.intervals` over the submission's per-image partials (1,000
  resamples of the 200 images, `hub.core.bootstrap`, all ten metrics) and `hub.store.outcomes.write_intervals`, the
  store write of the publishing transaction that replaces the submission's interval rows among the others.
- reference: the scoring itself, as the worker runs it without intervals: the evaluator's plan, map (decode every
  prediction PNG, score it against the cached ground-truth view) and official reduce, with the ground-truth cache
  warm (the warm-up run fills it).

The issue's target is intervals under 10 % of a typical submission's scoring time: a speed-up of at least 10.
The check: the intervals cover exactly the metrics the scoring reported, and are finite wherever the metric is.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa

from hub.cli.bench import BenchCase, Prepared, benchmark_built_by
from hub.cli.bench.flow import keep_gt_cache_in, predictions_for
from hub.cli.bench.flow_kitti import release
from hub.core.bootstrap import Intervals
from hub.core.evaluation import EvaluationResult
from hub.scoring.wiring import evaluator_for, make_request
from hub.store import Store
from hub.store.outcomes import write_intervals
from loaders.synthetic.flow import build_kitti_2015

PAIRS = 200


def _store_with_intervals(path: Path, submissions: int, metrics: list[str]) -> Store:
    """A store whose `score_intervals` holds `submissions` submissions' bounds (written once, as one Arrow table)."""
    path.unlink(missing_ok=True)
    store = Store(path)
    store.init()
    n = submissions * len(metrics)
    rows = pa.table(
        {
            "submission_id": [f"{i:064x}" for i in range(submissions) for _ in metrics],
            "metric": metrics * submissions,
            "low": [0.0] * n,
            "high": [1.0] * n,
        }
    )
    with store.write() as con:
        con.register("incoming", rows)
        con.execute("INSERT INTO score_intervals SELECT * FROM incoming")
        con.unregister("incoming")
    return store


def _prepare(workdir: Path, size: int) -> Prepared:
    keep_gt_cache_in(workdir)
    spec = benchmark_built_by(build_kitti_2015)
    root, key = release(workdir, PAIRS)
    predictions = predictions_for(root, key, spec, "flow_occ")
    evaluator = evaluator_for(spec)
    resampling = evaluator.resampling
    if resampling is None:
        raise AssertionError(f"{spec.id}'s evaluator declares no resampling")
    request = make_request(spec, root, predictions, spec.default_split, spec.default_config)
    plan = evaluator.plan(request)
    partials = evaluator.map(request, plan.units)
    store = _store_with_intervals(workdir / "intervals.duckdb", size, [m.name for m in spec.metrics])
    published = f"{size:064x}"

    def project() -> Intervals:
        intervals = resampling.intervals(request, plan, partials)
        with store.write() as con:
            write_intervals(con, published, intervals)
        return intervals

    def reference() -> EvaluationResult:
        scoring = evaluator.plan(request)
        return evaluator.reduce(request, scoring, evaluator.map(request, scoring.units))

    def check(intervals: Any, result: Any) -> None:
        if list(intervals.bounds) != list(result.metrics):
            raise AssertionError(f"intervals for {list(intervals.bounds)}, metrics {list(result.metrics)}")
        for metric, value in result.metrics.items():
            if math.isfinite(value) and not all(map(math.isfinite, intervals.bounds[metric])):
                raise AssertionError(f"{metric} = {value} has no finite interval: {intervals.bounds[metric]}")

    workload = f"{PAIRS} KITTI-size pairs, 1,000 resamples, into a store holding {size} submissions' intervals"
    return Prepared(project, reference, check, workload)


CASE = BenchCase(
    name="intervals",
    description="the metrics' bootstrap intervals at publishing, against the scoring of the same submission",
    project_name="Resampling.intervals (1,000 resamples of 200 images, 10 metrics) + write_intervals",
    reference_name="plan + map + reduce of the same KITTI 2015 submission (warm GT cache)",
    default_size=10_000,
    prepare=_prepare,
)
