"""Scoring a KITTI-size optical-flow submission the way the worker does, against the I/O floor of reading it.

Workload: `size` frame pairs (default 200: the KITTI 2015 training split) of 1242x375, written by
`loaders.synthetic.flow.build_kitti_2015` in the official layout (sparse LiDAR-like GT in `flow_occ`/`flow_noc`,
`obj_map`), plus one dense 16-bit PNG prediction per pair (the GT plus Gaussian noise) written by
`submissions.readers.flow.write_prediction`.

- project: `hub.wiring.make_request` + `hub.executors.score` on `kitti-2015-flow`, what `submissions.worker` runs: list
  the release and `flow/` and match them, then per pair read `flow_occ`, `flow_noc` and `obj_map` and the
  prediction PNG, check the prediction, fill it with the devkit's background interpolation and compute all 10
  metrics (Fl-bg/fg/all on occ and noc, EPE, density), pooled and per sample.
- reference: `cv2.imread(path, cv2.IMREAD_UNCHANGED)` of every prediction file and nothing else: the floor of
  decoding the submission. Both run with the files in the page cache (the warm-up run reads them first).

The check: both saw the same frames, and the project scored a positive number of GT pixels no larger than the
pixels the reference decoded (KITTI's GT is sparse, so the project scores fewer pixels than the files hold).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
from numpy.typing import NDArray

from hub.cli.bench import BenchCase, Prepared, build_once
from hub.cli.bench.flow import SEED, predictions_for, scoring_sides
from hub.core.registry import get_benchmark
from loaders.synthetic.flow import build_kitti_2015

BENCHMARK = "kitti-2015-flow"
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
    spec = get_benchmark(BENCHMARK)
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
    project_name="hub.wiring.make_request + score (kitti-2015-flow: read GT and predictions; all metrics)",
    reference_name="cv2.imread(IMREAD_UNCHANGED) of every prediction file (the decoding floor)",
    default_size=200,
    prepare=_prepare,
)
