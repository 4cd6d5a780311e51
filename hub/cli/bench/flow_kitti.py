"""Scoring a KITTI-size optical-flow submission the way the worker does, against the I/O floor of reading it.

Workload: `size` frame pairs (default 200: the KITTI 2015 training split) of 1242x375, written by
`loaders.synthetic.flow.build_kitti_2015` in the official layout (sparse LiDAR-like GT in `flow_occ`/`flow_noc`,
`obj_map`), plus one dense 16-bit PNG prediction per pair (the GT plus Gaussian noise) written by
`evaluators.readers.flow.write_prediction`.

- project: `hub.scoring.wiring.make_request` + `hub.scoring.executors.score` on `kitti-2015-flow`, what
  `submissions.worker` runs: list the release and `flow/` and match them, then per pair decode the prediction PNG, map
  the pair's ground-truth view from the ground-truth cache (`loaders.gt_cache`: the `flow_occ`/`flow_noc` valid masks
  and, at their valid pixels, the GT flow, |GT|² and the `obj_map` foreground flag), fill the prediction with the
  devkit's background interpolation when it is sparse and compute all 10 metrics (Fl-bg/fg/all on occ and noc, EPE,
  density) on the GT-valid pixels, pooled and per sample. The cache is filled by the first scoring of the release, which
  is the bench's warm-up run (in `<workdir>/gt-cache` unless `$MOBENCH_GT_CACHE` says otherwise), so the timed runs are
  what the worker does from its second submission against a release on; the first one also decodes the three GT
  PNGs of each pair (~40 ms a pair more).
- reference: `cv2.imread(path, cv2.IMREAD_UNCHANGED)` of every prediction file and nothing else: the floor of
  decoding the submission. Both run with the files in the page cache (the warm-up run reads them first).

What is comparable: both sides decode the same 16-bit PNG with the same libpng through OpenCV (the project from the
bytes it read, `cv2.imdecode`, after checking the header), ~17 ms a pair here, most of either side. The project
then also turns the PNG into float flow and a valid mask, which the reference never does, and scores it; with a
warm cache that is a few ms a pair, so the ratio is the cost of scoring over the decode floor. What is not: a cold
cache (the first submission against a release) pays the GT decode on top, which the reference never does.

The check: both saw the same frames, and the project scored a positive number of GT pixels no larger than the
pixels the reference decoded (KITTI's GT is sparse, so the project scores fewer pixels than the files hold).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
from numpy.typing import NDArray

from hub.cli.bench import BenchCase, Prepared, benchmark_built_by, build_once
from hub.cli.bench.flow import SEED, keep_gt_cache_in, predictions_for, scoring_sides
from loaders.synthetic.flow import build_kitti_2015

SHAPE = (375, 1242)  # (H, W) of most KITTI 2015 frames


def release(workdir: Path, size: int) -> tuple[Path, str]:
    """`workdir/kitti-<size>`: a KITTI-size training split of `size` pairs (shared by the KITTI cases), and its key.

    Each size has a folder of its own, so cases of different sizes in one `--workdir` never replace each
    other's trees under a submission or an export made for another.
    """
    key = f"{SHAPE} x {size} seed {SEED}"
    sizes = [SHAPE] * size
    root = build_once(
        workdir / f"kitti-{size}",
        key,
        lambda folder: build_kitti_2015(folder, SEED, training_sizes=sizes, testing_sizes=()),
    )
    return root, key


def imread(path: Path) -> NDArray[Any]:
    """Bare `cv2.imread(path, cv2.IMREAD_UNCHANGED)`, the reference decoder."""
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise AssertionError(f"cv2.imread could not read {path}")
    return image


def _imread_pixels(path: Path) -> int:
    height, width = imread(path).shape[:2]
    return int(height * width)


def _prepare(workdir: Path, size: int) -> Prepared:
    keep_gt_cache_in(workdir)
    spec = benchmark_built_by(build_kitti_2015)
    root, key = release(workdir, size)
    predictions = predictions_for(root, key, spec, "flow_occ")
    files = sorted((predictions / "flow").glob("*_10.png"))
    project, reference = scoring_sides(spec, root, predictions, files, _imread_pixels)

    def check(result: Any, read: Any) -> None:
        frames, pixels = read
        scored = result.details["pixel_counts"]["density"]  # every flow_occ GT pixel
        if result.n_samples != frames or not 0 < scored <= pixels:
            raise AssertionError(
                f"the project scored {result.n_samples} frames ({scored} GT pixels), "
                f"the reference read {frames} frames ({pixels} pixels)"
            )

    return Prepared(project, reference, check, f"{size} pairs of {SHAPE[1]}x{SHAPE[0]}, 16-bit PNG predictions")


CASE = BenchCase(
    name="flow-kitti",
    description="score a KITTI-size PNG submission (200 pairs of 1242x375, all 10 metrics) as the worker does",
    project_name="make_request + score (kitti-2015-flow: predictions + cached GT views; all metrics)",
    reference_name="cv2.imread(IMREAD_UNCHANGED) of every prediction file (the decoding floor)",
    default_size=200,
    prepare=_prepare,
)
