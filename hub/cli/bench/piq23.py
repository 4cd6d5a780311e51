"""PIQ23 scoring: all metrics of one submission through `evaluators.iqa.score_piq23` (per-scene statistics from
pairwise sign matrices, all scenes at once) against the obvious script: scipy.stats per scene in a Python loop.

The workload is the release's shape: `size` images (5,116 by default) spread over up to 50 scenes of unequal
size, JOD centred per scene, predictions = JOD plus noise rounded to two decimals (so ties occur, as with real
model outputs). Both sides start from the same arrays and produce srcc/plcc/krcc/mae (median over scenes), the
means over scenes and the pooled figures; the check compares every metric to 1e-9.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import scipy.stats

from evaluators.iqa import CORRELATIONS, score_piq23
from hub.cli.bench import BenchCase, Prepared

CONDITIONS = ("Outdoor", "Indoor", "Lowlight", "Night")
MAX_SCENES = 50


def _prepare(workdir: Path, size: int) -> Prepared:
    rng = np.random.default_rng(0)
    n_scenes = max(2, min(MAX_SCENES, round(size / 102)))
    scene_of = np.sort(rng.integers(0, n_scenes, size))
    scenes = [f"Scene_{k}" for k in scene_of]
    conditions = [CONDITIONS[k % len(CONDITIONS)] for k in scene_of]
    jod = rng.normal(0.0, 1.4, size)
    for k in range(n_scenes):
        jod[scene_of == k] -= jod[scene_of == k].mean()
    score = np.round(jod + rng.normal(0.0, 0.8, size), 2)
    images = [f"{i}_{scene}.jpg" for i, scene in enumerate(scenes)]
    predictions = dict(zip(images, score.tolist(), strict=True))

    def project() -> dict[str, float]:
        metrics, _, _ = score_piq23(images, scenes, conditions, jod, predictions)
        return metrics

    def reference() -> dict[str, float]:
        per_scene: dict[str, list[float]] = {name: [] for name in (*CORRELATIONS, "mae")}
        for k in range(n_scenes):
            rows = scene_of == k
            x, y = score[rows], jod[rows]
            per_scene["srcc"].append(scipy.stats.spearmanr(x, y).statistic)
            per_scene["plcc"].append(scipy.stats.pearsonr(x, y).statistic)
            per_scene["krcc"].append(scipy.stats.kendalltau(x, y).statistic)
            per_scene["mae"].append(float(np.mean(np.abs(x - y))))
        metrics = {name: float(np.median(values)) for name, values in per_scene.items()}
        metrics |= {f"{name}_mean": float(np.mean(per_scene[name])) for name in CORRELATIONS}
        metrics["srcc_global"] = scipy.stats.spearmanr(score, jod).statistic
        metrics["plcc_global"] = scipy.stats.pearsonr(score, jod).statistic
        metrics["krcc_global"] = scipy.stats.kendalltau(score, jod).statistic
        return metrics

    def check(a: Any, b: Any) -> None:
        if set(a) != set(b):
            raise AssertionError(f"metric names differ: {sorted(a)} vs {sorted(b)}")
        off = {k: (a[k], b[k]) for k in a if not math.isclose(a[k], b[k], rel_tol=0.0, abs_tol=1e-9)}
        if off:
            raise AssertionError(f"metrics differ (project, reference): {off}")

    return Prepared(project, reference, check, f"{size} predictions in {n_scenes} scenes, all metrics")


CASE = BenchCase(
    name="piq23",
    description="score one PIQ23 submission with the per-scene protocol (SRCC, PLCC, KRCC, MAE; median, mean, pooled)",
    project_name="evaluators.iqa.score_piq23 (pairwise sign matrices, all scenes at once, plus breakdowns)",
    reference_name="scipy.stats spearmanr/pearsonr/kendalltau per scene in a Python loop",
    default_size=5116,
    prepare=_prepare,
)
