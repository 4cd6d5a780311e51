"""The bootstrap intervals' mechanics (`hub.core.bootstrap`), checked by hand, and the flow evaluators' intervals.

The flow case is small enough to know every resample: two images, so a resample draws image 0 twice, image 1 twice
or one of each, and a pooled metric takes exactly three values.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from evaluators.flow import evaluate_kitti_format
from hub.core.bootstrap import (
    RESAMPLES,
    SEED,
    Draws,
    draw,
    per_resample,
    percentile_bounds,
    resampled_ratios,
    unit_sums,
)
from tests.test_flow_evaluate import _kitti_fixture, _kitti_predictions, _request


def test_units_are_numbered_in_order_of_first_appearance() -> None:
    draws = draw(["b", "a", "b", "c", "a"])
    assert [m.tolist() for m in draws.members] == [[0, 2], [1, 4], [3]]
    assert draws.picks.shape == (RESAMPLES, 3)
    assert draws.picks.min() >= 0 and draws.picks.max() <= 2


def test_the_draws_depend_only_on_the_number_of_units_and_the_seed() -> None:
    """Paired resamples: two submissions on the same units draw the same rows, whatever the keys are called."""
    first, second = draw(["x", "y", "z"]), draw([10, 20, 30])
    assert np.array_equal(first.picks, second.picks)
    expected = np.random.Generator(np.random.PCG64(SEED)).integers(0, 3, size=(RESAMPLES, 3), dtype=np.uint16)
    assert np.array_equal(first.picks, expected)
    assert not np.array_equal(draw(["x", "y", "z"], seed=SEED + 1).picks, first.picks)


def test_a_resample_takes_every_partial_of_each_drawn_unit_in_draw_order() -> None:
    draws = Draws([np.array([0, 2]), np.array([1])], np.array([[1, 0], [0, 0]]))
    assert draws.partials(0).tolist() == [1, 0, 2]
    assert draws.partials(1).tolist() == [0, 2, 0, 2]


def test_percentile_bounds_interpolate_linearly_and_skip_undefined_resamples() -> None:
    values = np.arange(101, dtype=np.float64)  # 0..100: the 2.5th percentile is 2.5, the 97.5th 97.5
    assert percentile_bounds(values) == pytest.approx((2.5, 97.5), abs=1e-12)
    assert percentile_bounds(np.append(values, [np.nan, np.inf])) == percentile_bounds(values)
    low, high = percentile_bounds(np.array([np.nan, np.nan]))
    assert math.isnan(low) and math.isnan(high)


def test_resampled_ratios_pool_sums_over_the_drawn_units() -> None:
    # unit 0: 1 hit of 2 pixels, unit 1: 3 hits of 4 pixels; second column a mean with a unit without pixels
    totals = np.array([[1.0, 6.0], [3.0, 0.0]])
    counts = np.array([[2.0, 3.0], [4.0, 0.0]])
    draws = Draws([np.array([0]), np.array([1])], np.array([[0, 0], [0, 1], [1, 1]]))
    got = resampled_ratios(draws, totals, counts, np.array([100.0, 1.0]))
    assert got[:, 0].tolist() == [50.0, 100.0 * 4 / 6, 75.0]
    assert got[0, 1] == 2.0 and got[1, 1] == 2.0 and math.isnan(got[2, 1])


def test_unit_sums_add_the_partials_of_each_unit() -> None:
    draws = draw(["p1", "p2", "p1"])
    assert unit_sums(draws, np.array([[1.0], [2.0], [4.0]])).tolist() == [[5.0], [2.0]]


def test_per_resample_calls_the_pooling_once_per_resample() -> None:
    draws = Draws([np.array([0]), np.array([1])], np.array([[0, 1], [1, 1]]))
    values = [1.0, 3.0]
    got = per_resample(draws, lambda idx: {"mean": float(np.mean([values[i] for i in idx]))}, ["mean"])
    assert got["mean"].tolist() == [2.0, 3.0]


def test_kitti_intervals_span_the_single_image_values(tmp_path: Path) -> None:
    """Image 0 has one GT pixel, an outlier (EPE 4); image 1 three exact pixels. A resample of two images is
    {0, 0} (fl_all 100 %), {1, 1} (0 %) or one of each (25 %), each pair drawn about a quarter of the time, so the
    2.5th and 97.5th percentiles are the single-image values: fl_all [0, 100], epe_image_mean [0, 4]."""
    request = _request("kitti-2015-flow", _kitti_fixture(tmp_path), _kitti_predictions(tmp_path))
    result = evaluate_kitti_format(request)
    assert result.intervals is not None
    assert (result.intervals.unit, result.intervals.n_units) == ("image", 2)
    assert (result.intervals.resamples, result.intervals.seed, result.intervals.level) == (RESAMPLES, SEED, 0.95)
    bounds = result.intervals.bounds
    assert list(bounds) == list(result.metrics)
    assert bounds["fl_all"] == (0.0, 100.0)
    assert bounds["epe"] == (0.0, 4.0)
    assert bounds["epe_image_mean"] == (0.0, 4.0)
    assert bounds["density"] == (pytest.approx(200 / 3), 100.0)
    for metric, (low, high) in bounds.items():
        if math.isfinite(result.metrics[metric]):
            assert low <= result.metrics[metric] <= high, metric
    again = evaluate_kitti_format(request)
    assert again.exact_figures() == result.exact_figures()
    assert ("interval", "fl_all: low") in result.exact_figures()
    assert result.to_json()["intervals"]["bounds"]["fl_all"] == [0.0, 100.0]
