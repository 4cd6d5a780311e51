"""Scoring a Sintel-size optical-flow submission the way the worker does, against the I/O floor of reading it.

Workload: `size` frame pairs (default and at most 1,041: the MPI-Sintel training split) of 1024x436, written by
`loaders.synthetic.flow.build_sintel` in the official layout, with the real split's scenes and lengths (its first
`size` pairs), plus one `.flo` prediction per pair (the GT plus Gaussian noise) written by
`evaluators.readers.flow.write_prediction`: 3.7 GB of predictions at the default size.

- project: `hub.scoring.wiring.make_request` + `hub.scoring.executors.score` on `sintel-clean`, what
  `submissions.worker` runs: list the release and the prediction folder and match them, then per pair read the
  prediction `.flo`, check it (size, finite), map the pair's ground-truth view from the ground-truth cache
  (`loaders.gt_cache`: the GT flow and one label byte per pixel for matched/unmatched, invalid, speed bin and distance
  bin) and compute all 13 metrics, pooled over the split, per scene and per sample. The cache is filled by the first
  scoring of the release, which is the bench's warm-up run (it lives in `<workdir>/gt-cache` unless `$MOBENCH_GT_CACHE`
  says otherwise), so the timed runs are what the worker does from its second submission against a release on; the first
  one also decodes the GT `.flo`, occlusion and invalid PNGs and runs the distance transform, ~25 ms a pair more.
- reference: `numpy.fromfile` of every prediction file and nothing else (no GT, no checks, no metrics): the floor
  of reading the submission. Both run with the files in the page cache (the warm-up run reads them first).

What is and is not comparable: the reference is the cost of one copy of 3.5 MB out of the page cache into a buffer
the allocator hands back every time (no page faults), ~0.2-0.7 ms a pair on this machine. Any correct scorer reads
the GT flow too (twice the bytes), and the metrics need the float64 end-point error of 446,464 pixels, its square
root and ten pooled float64 sums over row-major selections of it (bit-for-bit the published definitions), ~5 ms a
pair here however it is arranged. So the ratio measures the scoring against the I/O floor; it cannot reach 1.5x
and is a number to watch for regressions, not a target. `flow-kitti`, where decoding the submission costs as much
as scoring it, is the case where the two sides are close to the same work.

The check: both saw the same number of frames and of pixels (the project's pixel count of `epe`, which covers every
pixel, against the reference's float32 values less the 3-value header, halved).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from evaluators.readers.flow import write_prediction
from hub.cli.bench import BenchCase, Prepared, Timed, benchmark_built_by, build_once
from hub.core.evaluation import EvaluationResult
from hub.core.registry import BenchmarkSpec
from hub.scoring.executors import score
from hub.scoring.wiring import make_loader, make_request
from loaders.gt_cache import GT_CACHE_ENV
from loaders.kitti_flow import KittiFlow2015
from loaders.sintel import Sintel
from loaders.synthetic.flow import build_sintel

SHAPE = (436, 1024)  # (H, W) of every Sintel frame
# MPI-Sintel-complete training scenes and their frame counts: 1,064 frames, 1,041 pairs
SCENES = (
    ("alley_1", 50), ("alley_2", 50), ("ambush_2", 21), ("ambush_4", 33), ("ambush_5", 50), ("ambush_6", 20),
    ("ambush_7", 50), ("bamboo_1", 50), ("bamboo_2", 50), ("bandage_1", 50), ("bandage_2", 50), ("cave_2", 50),
    ("cave_4", 50), ("market_2", 50), ("market_5", 50), ("market_6", 40), ("mountain_1", 50), ("shaman_2", 50),
    ("shaman_3", 50), ("sleeping_1", 50), ("sleeping_2", 50), ("temple_2", 50), ("temple_3", 50),
)  # fmt: skip
NOISE_PX = 0.5
SEED = 0


def scenes_for(pairs: int) -> list[tuple[str, int]]:
    """The real split's scenes (name, frames), cut off after `pairs` frame pairs (a scene of n frames has n - 1)."""
    chosen = []
    for name, frames in SCENES:
        if pairs <= 0:
            break
        chosen.append((name, min(frames, pairs + 1)))
        pairs -= chosen[-1][1] - 1
    return chosen


def predictions_for(root: Path, key: str, spec: BenchmarkSpec, flow_key: str) -> Path:
    """A submission for the release at `root` (built from `key`), beside it: one dense prediction per pair of the
    default split, the GT `flow_key` plus Gaussian noise, in the benchmark's own format (`write_prediction`)."""

    def write(predictions: Path) -> None:
        loader = cast(Sintel | KittiFlow2015, make_loader(spec, root, spec.default_split))
        rng = np.random.default_rng(SEED)
        for sample_id in loader.sample_ids():
            gt = loader.ground_truth(sample_id)[flow_key]
            write_prediction(spec, predictions, sample_id, gt + NOISE_PX * rng.standard_normal(gt.shape, np.float32))

    return build_once(root.with_name(f"{root.name}-predictions"), key, write)


def scoring_sides(
    spec: BenchmarkSpec, root: Path, predictions: Path, files: Sequence[Path], read: Callable[[Path], Any]
) -> tuple[Timed, Timed]:
    """The project's side (the worker's scoring path) and the reference (`read` on every prediction file), whose
    result is (frames read, pixels read)."""

    def project() -> EvaluationResult:
        return score(make_request(spec, root, predictions))

    def reference() -> tuple[int, int]:
        pixels = 0
        for path in files:
            pixels += read(path)
        return len(files), pixels

    return project, reference


def keep_gt_cache_in(workdir: Path) -> None:
    """Point the ground-truth cache at `<workdir>/gt-cache` unless `$MOBENCH_GT_CACHE` is set: the bench's releases
    (up to 4 GB of cache for the full Sintel split) then go away with the workdir, not into the user's cache."""
    os.environ.setdefault(GT_CACHE_ENV, str(workdir / "gt-cache"))


def _fromfile_pixels(path: Path) -> int:
    values = np.fromfile(path, dtype="<f4")
    return (values.size - 3) // 2  # 12-byte header (tag, width, height), then u, v per pixel


def sintel_workload(workdir: Path, size: int) -> tuple[BenchmarkSpec, Path, Path, list[tuple[str, int]]]:
    """The Sintel release of `size` pairs and its `.flo` submission under `workdir` (built once per key):
    (spec, release root, predictions folder, scenes)."""
    spec = benchmark_built_by(build_sintel)  # sintel-clean, the first of the two passes
    scenes = scenes_for(size)
    key = f"{SHAPE} {scenes} seed {SEED}"
    root = build_once(
        workdir / f"sintel-{sum(n - 1 for _, n in scenes)}",
        key,
        lambda folder: build_sintel(folder, SEED, size=SHAPE, training_scenes=scenes, test_scenes=()),
    )
    return spec, root, predictions_for(root, key, spec, "flow"), scenes


def _prepare(workdir: Path, size: int) -> Prepared:
    keep_gt_cache_in(workdir)
    spec, root, predictions, scenes = sintel_workload(workdir, size)
    files = sorted(predictions.rglob("*.flo"))
    project, reference = scoring_sides(spec, root, predictions, files, _fromfile_pixels)

    def check(result: Any, read: Any) -> None:
        scored = (result.n_samples, result.details["pixel_counts"]["epe"])
        if scored != read:
            raise AssertionError(f"the project scored (frames, pixels) {scored}, the reference read {read}")

    frames = sum(n for _, n in scenes)
    return Prepared(
        project,
        reference,
        check,
        f"{frames - len(scenes)} pairs of {SHAPE[1]}x{SHAPE[0]} in {len(scenes)} scenes ({frames} frames), "
        f".flo predictions",
    )


CASE = BenchCase(
    name="flow",
    description="score a Sintel-size .flo submission (1,041 pairs of 1024x436, all 13 metrics) as the worker does",
    project_name="hub.scoring.wiring.make_request + score (sintel-clean: predictions + cached GT views; all metrics)",
    reference_name="numpy.fromfile of every prediction file (the I/O floor)",
    default_size=1041,
    prepare=_prepare,
)
