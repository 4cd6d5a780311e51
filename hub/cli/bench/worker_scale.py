"""One large submission scored by 1 process against 2: what `mobench worker --executor process` buys on this machine.

Workload: the `flow` case's Sintel-size release and `.flo` submission (its builders, `size` frame pairs of
1024x436), scored through `hub.scoring.executors.score`, i.e. the worker's plan -> map -> reduce:

- project: the map on a `ProcessExecutor` of 2 spawned processes, kept alive between runs as a worker keeps it
  (the warm-up run pays for starting them), each chunk re-opening the release from a `ScoringJob`;
- reference: the same map in this process (`LocalExecutor`, the worker's default).

Both sides read the pairs' ground-truth views from the ground-truth cache (`loaders.gt_cache`, in `<workdir>/gt-cache`
unless `$MOBENCH_GT_CACHE` says otherwise), filled by the project's warm-up run, so neither decodes GT in the timed
runs and both do the same per-pair work.

The check: every metric, breakdown and per-sample score is bit-identical (any NaN equals any NaN), so the speed-up
can only come from running the same work in parallel. The ratio is the speed-up of 2 processes over 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.cli.bench import BenchCase, Prepared
from hub.cli.bench.flow import SHAPE, keep_gt_cache_in, sintel_workload
from hub.scoring.executors import LocalExecutor, ProcessExecutor, score
from hub.scoring.wiring import make_request

PROCESSES = 2


def _prepare(workdir: Path, size: int) -> Prepared:
    keep_gt_cache_in(workdir)  # before the pool spawns its processes, which inherit the environment
    spec, root, predictions, scenes = sintel_workload(workdir, size)
    request = make_request(spec, root, predictions)
    pool = ProcessExecutor(PROCESSES)

    def check(parallel: Any, single: Any) -> None:
        if parallel.exact_figures() != single.exact_figures():
            raise AssertionError(f"{PROCESSES} processes and 1 process gave different figures")

    pairs = sum(n for _, n in scenes) - len(scenes)
    return Prepared(
        lambda: score(request, pool),
        lambda: score(request, LocalExecutor()),
        check,
        f"{pairs} pairs of {SHAPE[1]}x{SHAPE[0]} (.flo), sintel-clean, all metrics",
    )


CASE = BenchCase(
    name="worker-scale",
    description=f"one large Sintel submission scored on {PROCESSES} processes against 1 (same figures, bit for bit)",
    project_name=f"hub.scoring.executors.score on ProcessExecutor({PROCESSES}) (spawned pool, kept between runs)",
    reference_name="hub.scoring.executors.score on LocalExecutor (one process, the worker's default)",
    default_size=300,
    prepare=_prepare,
)
