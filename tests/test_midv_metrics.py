"""The authors' localisation protocol and the field metrics on hand-computed cases."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from evaluators.documents import (
    QuadScores,
    field_type,
    levenshtein,
    localisation_metrics,
    localisation_scores,
    normalise_field,
    normalised_levenshtein,
)
from evaluators.readers.documents import parse_quad

Quad = Sequence[Sequence[float]]

# Template 100 x 50 and a GT quad equal to the template rectangle: H is the identity, so the template frame is
# the image plane and every IoU below is a plain rectangle overlap.
RECT = [[0, 0], [100, 0], [100, 50], [0, 50]]
PERIMETER = 2 * (100 + 50)


def _score(gt: Quad, pred: Quad | None, size: tuple[float, float] = (100, 50)) -> QuadScores:
    pred_array = np.full((1, 4, 2), np.nan) if pred is None else np.asarray([pred], dtype=np.float64)
    return localisation_scores(np.asarray([gt], dtype=np.float64), pred_array, np.asarray([size], dtype=np.float64))


def test_identical_quad_scores_one_and_zero_distance() -> None:
    scores = _score(RECT, RECT)
    assert scores.iou_template[0] == pytest.approx(1.0)
    assert scores.iou_image[0] == pytest.approx(1.0)
    assert scores.min_d[0] == pytest.approx(0.0, abs=1e-12)


def test_cyclic_relabeling_and_reverse_order_change_nothing() -> None:
    # Starting at another corner, or going round the other way, is the same quad: minD takes the best of the 4
    # cyclic relabelings after putting both quads in clockwise order.
    for pred in (RECT[1:] + RECT[:1], RECT[::-1]):
        scores = _score(RECT, pred)
        assert scores.iou_template[0] == pytest.approx(1.0)
        assert scores.min_d[0] == pytest.approx(0.0, abs=1e-9)


def test_shifted_prediction() -> None:
    # Shift by 10 px in x: overlap 90 x 50 = 4500, union 5000 + 5000 - 4500 = 5500 -> IoU 4500 / 5500.
    # minD: H' maps the prediction onto the rectangle (a shift by -10), so every GT corner lands 10 px from its
    # rectangle corner: 10 / perimeter 300.
    scores = _score(RECT, [[10, 0], [110, 0], [110, 50], [10, 50]])
    assert scores.iou_template[0] == pytest.approx(4500 / 5500)
    assert scores.min_d[0] == pytest.approx(10 / PERIMETER)


def test_iou_is_measured_in_the_template_frame_not_in_pixels() -> None:
    # The GT quad is the template rectangle scaled by 2 (H = scale 1/2). A 20 px shift in the image is 10 template
    # px: the same 4500 / 5500 as above, and minD 10 / 300 in template units.
    gt = [[0, 0], [200, 0], [200, 100], [0, 100]]
    scores = _score(gt, [[20, 0], [220, 0], [220, 100], [20, 100]])
    assert scores.iou_template[0] == pytest.approx(4500 / 5500)
    assert scores.min_d[0] == pytest.approx(10 / PERIMETER)


def test_rotated_prediction() -> None:
    # Square template 100 x 100; prediction = the GT square turned 45 degrees about its centre (50, 50).
    # Overlap = regular octagon of area s^2 (2 sqrt 2 - 2); IoU = (2 sqrt 2 - 2) / (2 - (2 sqrt 2 - 2)) = 1 / sqrt 2.
    # minD: each GT corner maps 45 degrees away from a rectangle corner on the circle of radius r = 50 sqrt 2, a
    # chord of 2 r sin(22.5 deg) to its nearest corner; divided by the perimeter 400.
    r = 50 * math.sqrt(2)
    turned = [[50, 50 - r], [50 + r, 50], [50, 50 + r], [50 - r, 50]]
    scores = _score([[0, 0], [100, 0], [100, 100], [0, 100]], turned, size=(100, 100))
    assert scores.iou_template[0] == pytest.approx(1 / math.sqrt(2))
    assert scores.min_d[0] == pytest.approx(2 * r * math.sin(math.pi / 8) / 400)


def test_prediction_partly_outside_the_template() -> None:
    # Prediction covers x in [50, 150]: overlap 50 x 50 = 2500, union 5000 + 5000 - 2500 = 7500 -> 1/3.
    scores = _score(RECT, [[50, 0], [150, 0], [150, 50], [50, 50]])
    assert scores.iou_template[0] == pytest.approx(1 / 3)


def test_disjoint_and_missing_quads_score_zero() -> None:
    disjoint = _score(RECT, [[200, 0], [300, 0], [300, 50], [200, 50]])
    assert disjoint.iou_template[0] == 0.0 and disjoint.iou_image[0] == 0.0
    none = _score(RECT, None)
    assert none.iou_template[0] == 0.0 and none.iou_image[0] == 0.0 and math.isnan(none.min_d[0])


def test_prediction_across_the_horizon_line_scores_zero() -> None:
    # GT trapezoid with the short side on top: its legs meet at (50, -50) and its top and bottom are parallel,
    # so H sends the line y = -50 to infinity. A prediction reaching y = -100 straddles that line: its image in the
    # template frame is unbounded (infinite area), IoU 0, although it overlaps the GT in the image.
    gt = [[25, 0], [75, 0], [100, 50], [0, 50]]
    scores = _score(gt, [[0, -100], [100, -100], [100, 50], [0, 50]])
    assert scores.iou_template[0] == 0.0
    # image plane: GT area (50 + 100) / 2 * 50 = 3750 inside the 100 x 150 prediction -> 3750 / 15000
    assert scores.iou_image[0] == pytest.approx(3750 / 15000)


def test_aggregation_follows_run_stat() -> None:
    # iou mean (1 + 0.95 + 0.5 + 0) / 4 = 0.6125; correct (>= 0.9): 2 of 4. minD mean over the 3 frames with a
    # quad: (0 + 0.02 + 0.01) / 3 = 0.01; minD correct (< 0.017) counts the quad-less frame as wrong: 2 of 4.
    scores = QuadScores(
        iou_template=np.array([1.0, 0.95, 0.5, 0.0]),
        min_d=np.array([0.0, 0.02, 0.01, np.nan]),
        iou_image=np.array([1.0, 0.9, 0.4, 0.0]),
    )
    assert localisation_metrics(scores) == pytest.approx(
        {"iou_template": 0.6125, "iou_template_correct": 50.0, "min_d": 0.01, "min_d_correct": 50.0, "iou_image": 0.575}
    )


def test_thresholds_are_inclusive_as_in_run_stat() -> None:
    # run_stat.py: correct if iou > 0.9 - 1e-10 and minD < 0.017 + 1e-10, so the thresholds themselves count.
    scores = QuadScores(np.array([0.9]), np.array([0.017]), np.array([0.9]))
    metrics = localisation_metrics(scores)
    assert metrics["iou_template_correct"] == 100.0 and metrics["min_d_correct"] == 100.0


def test_no_frames_gives_nan_not_zero() -> None:
    empty = QuadScores(np.array([]), np.array([]), np.array([]))
    assert all(math.isnan(v) for v in localisation_metrics(empty).values())


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ([[0, 0], [1, 0], [1, 1]], "4 [x, y]"),
        ([[0, 0], [1, 0], [1, 1], [0, "1"]], "4 [x, y]"),
        ([[0, 0], [1, 0], [1, 1], [0, True]], "4 [x, y]"),
        ([[0, 0], [1, 0], [1, 1], [0, math.inf]], "non-finite"),
        ([[0, 0], [10, 0], [20, 0], [0, 10]], "three corners on one line"),
        ([[0, 0], [10, 10], [10, 0], [0, 10]], "self-intersecting"),
    ],
)
def test_bad_quads_are_rejected(raw: object, problem: str) -> None:
    result = parse_quad(raw)
    assert isinstance(result, str) and problem in result


def test_null_and_good_quads_parse() -> None:
    assert parse_quad(None) is None
    np.testing.assert_array_equal(parse_quad([[0, 0], [1.5, 0], [1, 1], [0, 1]]), [[0, 0], [1.5, 0], [1, 1], [0, 1]])


def test_field_normalisation() -> None:
    assert normalise_field("Bob o'Neil") == "B0B 0'NEIL"
    assert normalise_field("A0B12") == normalise_field("aob12") == "A0B12"


def test_levenshtein_and_its_normalisation() -> None:
    # kitten -> sitting: k->s, e->i, insert g = 3; 2 * 3 / (6 + 7 + 3) = 0.375
    assert levenshtein("kitten", "sitting") == 3
    assert normalised_levenshtein("kitten", "sitting") == pytest.approx(0.375)
    # one empty string: L = 3, 2 * 3 / (3 + 0 + 3) = 1; identical: 0; both empty: 0 by definition
    assert normalised_levenshtein("ABC", "") == 1.0
    assert normalised_levenshtein("ABC", "ABC") == 0.0
    assert normalised_levenshtein("", "") == 0.0
    # one substitution in 5 characters: 2 * 1 / (5 + 5 + 1) = 2 / 11
    assert normalised_levenshtein("A0B12", "A0B13") == pytest.approx(2 / 11)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("12.03.1985", "date"),
        ("1985-03-12", "date"),
        ("123 456", "numeric"),
        ("Bob O'Neil", "alphabetic"),
        ("МАРИЯ", "alphabetic"),
        ("ID482913", "alphanumeric"),
        ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "mrz"),
    ],
)
def test_field_types(value: str, kind: str) -> None:
    assert field_type(value) == kind


def test_a_singular_quad_has_no_homography_and_leaves_the_others_alone() -> None:
    """Found by tests/test_fuzz.py: one frame's singular system (three corners on a line) used to raise LinAlgError
    for the whole batch; now that frame's homography is NaN and the others are what they were."""
    from evaluators.document_quads import homographies

    square = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]])
    flat = np.array([[0.0, 0.0], [5.0, 0.0], [10.0, 0.0], [0.0, 10.0]])  # three corners on y = 0
    target = np.array([[0.0, 0.0], [20.0, 0.0], [20.0, 20.0], [0.0, 20.0]])
    alone = homographies(square[None], target[None])
    both = homographies(np.stack([square, flat]), np.stack([target, target]))
    assert np.isnan(both[1].ravel()[:8]).all()  # h33 stays 1
    assert np.array_equal(both[0], alone[0]) and np.allclose(alone[0], np.diag([2.0, 2.0, 1.0]))
