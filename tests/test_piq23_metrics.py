"""PIQ23 per-scene statistics and the median protocol, against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from evaluators.iqa import global_correlations, per_scene_statistics, score_piq23

# Four scenes of four images, JOD 1, 2, 3, 4 in every scene.
# A: predictions 1, 2, 4, 3 (last two swapped). Ranks differ by d = 0, 0, 1, -1, so
#    SRCC = 1 - 6 * 2 / (4 * 15) = 0.8; of the 6 pairs only (3, 4) is discordant: KRCC = (5 - 1) / 6 = 2/3;
#    centred x = -1.5, -0.5, 1.5, 0.5 and y = -1.5, -0.5, 0.5, 1.5: PLCC = 4 / sqrt(5 * 5) = 0.8;
#    MAE = (0 + 0 + 1 + 1) / 4 = 0.5.
# B: predictions 4, 3, 2, 1: SRCC = PLCC = KRCC = -1; MAE = (3 + 1 + 1 + 3) / 4 = 2.
# C: predictions 2, 2, 2, 2 (constant): correlations count as 0; MAE = (1 + 0 + 1 + 2) / 4 = 1.
# D: predictions 2, 4, 6, 8: SRCC = PLCC = KRCC = 1; MAE = (1 + 2 + 3 + 4) / 4 = 2.5.
# Medians over the 4 scenes: SRCC, PLCC = (0 + 0.8) / 2 = 0.4; KRCC = (0 + 2/3) / 2 = 1/3; MAE = (1 + 2) / 2 = 1.5.
# Means: SRCC, PLCC = (0.8 - 1 + 0 + 1) / 4 = 0.2; KRCC = (2/3 - 1 + 0 + 1) / 4 = 1/6.
# Had the constant scene been skipped, the SRCC median would be 0.8: the rule matters.
SCENES = ["A", "B", "C", "D"]
PREDICTIONS = {"A": [1, 2, 4, 3], "B": [4, 3, 2, 1], "C": [2, 2, 2, 2], "D": [2, 4, 6, 8]}


def _arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    scene_of = np.repeat(np.arange(4), 4)
    score = np.array([v for s in SCENES for v in PREDICTIONS[s]], dtype=float)
    jod = np.tile([1.0, 2.0, 3.0, 4.0], 4)
    return scene_of, score, jod


def test_per_scene_values_match_the_hand_computation() -> None:
    scene_of, score, jod = _arrays()
    stats = per_scene_statistics(SCENES, scene_of, score, jod)
    np.testing.assert_allclose(stats.srcc, [0.8, -1, 0, 1], atol=1e-12)
    np.testing.assert_allclose(stats.plcc, [0.8, -1, 0, 1], atol=1e-12)
    np.testing.assert_allclose(stats.krcc, [2 / 3, -1, 0, 1], atol=1e-12)
    np.testing.assert_allclose(stats.mae, [0.5, 2, 1, 2.5], atol=1e-12)
    assert stats.constant_prediction.tolist() == [False, False, True, False]
    assert stats.n.tolist() == [4, 4, 4, 4]


def test_median_and_mean_over_scenes_and_the_constant_scene_in_the_breakdown() -> None:
    scene_of, score, jod = _arrays()
    images = [f"{i}.jpg" for i in range(16)]
    scenes = [SCENES[k] for k in scene_of]
    conditions = ["Indoor" if s in "AB" else "Night" for s in scenes]
    predictions = dict(zip(images, score.tolist(), strict=True))
    metrics, breakdowns, _ = score_piq23(images, scenes, conditions, jod, predictions)
    assert metrics["srcc"] == pytest.approx(0.4) and metrics["plcc"] == pytest.approx(0.4)
    assert metrics["krcc"] == pytest.approx(1 / 3) and metrics["mae"] == pytest.approx(1.5)
    assert metrics["srcc_mean"] == pytest.approx(0.2) and metrics["plcc_mean"] == pytest.approx(0.2)
    assert metrics["krcc_mean"] == pytest.approx(1 / 6)
    assert breakdowns["scene"]["C"] == {"n": 4, "srcc": 0, "plcc": 0, "krcc": 0, "mae": 1, "constant_prediction": 1}
    assert breakdowns["scene"]["A"]["constant_prediction"] == 0
    # per condition, the same median protocol over that condition's scenes: Indoor = A, B; Night = C, D
    assert breakdowns["condition"]["Indoor"]["srcc"] == pytest.approx((0.8 - 1) / 2)
    assert breakdowns["condition"]["Night"]["mae"] == pytest.approx((1 + 2.5) / 2)
    assert breakdowns["condition"]["Night"]["n_scenes"] == 2 and breakdowns["condition"]["Night"]["n_images"] == 8


def test_global_figures_pool_all_images() -> None:
    # Two scenes, each perfectly ranked, but the first sits far above the second on the prediction scale:
    # per scene SRCC = 1; pooled, predictions 10, 11, 0, 1 against JOD -1, 1, -1, 1 give ranks 3, 4, 1, 2 vs
    # 1.5, 3.5, 1.5, 3.5; centred: (0.5, 1.5, -1.5, -0.5) and (-1, 1, -1, 1), products sum to 2, squares to 5
    # and 4, so SRCC_global = 2 / sqrt(20)
    score = np.array([10.0, 11.0, 0.0, 1.0])
    jod = np.array([-1.0, 1.0, -1.0, 1.0])
    metrics, _, _ = score_piq23(
        ["a", "b", "c", "d"], ["P", "P", "Q", "Q"], ["Indoor"] * 4, jod, dict(zip("abcd", score.tolist(), strict=True))
    )
    assert metrics["srcc"] == pytest.approx(1.0)  # scipy: 0.9999999999999999 for these two pairs
    assert metrics["srcc_global"] == pytest.approx(2 / math.sqrt(20))
    assert metrics["plcc_global"] == pytest.approx(scipy.stats.pearsonr(score, jod).statistic)
    assert global_correlations(np.ones(4), jod) == {"srcc": 0.0, "plcc": 0.0, "krcc": 0.0}


def test_scenes_without_a_defined_correlation_are_left_out() -> None:
    # scene X has one image, scene Y constant JOD: both undefined whatever the predictions; Z: SRCC -1
    scene_of = np.array([0, 1, 1, 1, 2, 2, 2])
    jod = np.array([0.0, 1.0, 1.0, 1.0, 1.0, 2.0, 3.0])
    score = np.array([5.0, 1.0, 2.0, 3.0, 3.0, 2.0, 1.0])
    stats = per_scene_statistics(["X", "Y", "Z"], scene_of, score, jod)
    assert math.isnan(stats.srcc[0]) and math.isnan(stats.srcc[1]) and stats.srcc[2] == pytest.approx(-1)
    metrics, _, _ = score_piq23(
        [str(i) for i in range(7)],
        [["X", "Y", "Z"][k] for k in scene_of],
        ["Indoor"] * 7,
        jod,
        {str(i): float(v) for i, v in enumerate(score)},
    )
    assert metrics["srcc"] == pytest.approx(-1) and metrics["srcc_mean"] == pytest.approx(-1)
    # MAE is defined for all three: 5, (0 + 1 + 2) / 3 = 1, (2 + 0 + 2) / 3 = 4/3 -> median 4/3
    assert metrics["mae"] == pytest.approx(4 / 3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_scene_statistics_are_scipy_per_scene_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 40, 12)
    scene_of = rng.permutation(np.repeat(np.arange(12), sizes))
    jod = np.round(rng.normal(size=len(scene_of)), 1)  # ties in the labels too
    score = np.round(jod + rng.normal(size=len(scene_of)), 1)
    stats = per_scene_statistics([str(k) for k in range(12)], scene_of, score, jod)
    for k in range(12):
        x, y = score[scene_of == k], jod[scene_of == k]
        assert stats.mae[k] == np.mean(np.abs(x - y))
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            continue
        assert stats.srcc[k] == scipy.stats.spearmanr(x, y).statistic
        assert stats.plcc[k] == scipy.stats.pearsonr(x, y).statistic
        assert stats.krcc[k] == scipy.stats.kendalltau(x, y).statistic
