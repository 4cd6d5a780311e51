"""95 % bootstrap intervals of a scoring's aggregate metrics, from the same per-unit partials its reduce pools.

Why: a difference of 0.002 between two rows scored on 40 samples looks as real as one of 0.2. Each aggregate metric
gets a percentile bootstrap interval, drawn over the unit the benchmark's official protocol pools (an image for
KITTI's and Sintel's pooled pixel sums, a scene for PIQ23's per-scene medians, a question for Mobile-MMLU, a
participant for the health tasks), so the resamples keep what the official figure averages over together.

How, exactly (and why it reproduces bit for bit):

* the units are numbered in the order their first partial comes in the plan (the split's order), and a resample
  draws as many units, with replacement, from `numpy.random.Generator(PCG64(SEED))`: `RESAMPLES` rows of
  `integers(0, n_units, size=(RESAMPLES, n_units), dtype=pick_dtype(n_units))`. The seed is fixed, so every
  submission scored on the same units draws the same resamples: intervals of two rows are paired, and
  `mobench verify` recomputes them exactly;
* each resample's metrics come from the evaluator's `Resampling.metrics` (`hub.core.evaluation`) over those draws
  (the evaluator's own pooling code, given the drawn units; a unit drawn twice counts twice);
* the interval is the 2.5th and 97.5th percentile of a metric's finite resample values (numpy's default linear
  interpolation); a metric undefined in some resamples (no foreground pixel drawn) takes the others, and one with
  no finite resample value has no interval (NaN bounds).

The number of resamples is 1,000, the usual choice for percentile intervals (Efron & Tibshirani 1993, ch. 13).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

RESAMPLES = 1000
SEED = 20261205
LEVEL = 0.95

IntArray = NDArray[np.intp]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Draws:
    """The resamples of one scoring: which units each resample drew, and which partials each unit holds."""

    # partial indices of each unit, units in order of first appearance
    members: list[IntArray]
    # (RESAMPLES, n_units) unit indices drawn, one row per resample (`pick_dtype`)
    picks: NDArray[np.integer[Any]]

    @property
    def n_resamples(self) -> int:
        return int(self.picks.shape[0])

    def partials(self, resample: int) -> IntArray:
        """The partial indices resample `resample` draws, unit by unit in draw order (a unit drawn twice twice)."""
        return np.concatenate([self.members[u] for u in self.picks[resample]])


# metric name -> one value per resample
ResampledMetrics = dict[str, FloatArray]


@dataclass(frozen=True)
class Intervals:
    """A scoring's metric intervals and how they were drawn (what a bundle carries and verification redraws)."""

    unit: str
    n_units: int
    resamples: int
    seed: int
    level: float
    # metric -> (low, high); NaN bounds when no resample gave the metric a value
    bounds: dict[str, tuple[float, float]]

    def resampling_json(self) -> dict[str, Any]:
        """How the intervals were drawn, as stored beside them (`submissions.resampling`)."""
        return {
            "unit": self.unit,
            "n_units": self.n_units,
            "resamples": self.resamples,
            "seed": self.seed,
            "level": self.level,
        }


def draw(unit_keys: Sequence[Hashable], resamples: int = RESAMPLES, seed: int = SEED) -> Draws:
    """The resamples of a scoring whose partials belong to `unit_keys` (one key per partial)."""
    index: dict[Hashable, int] = {}
    members: list[list[int]] = []
    for position, key in enumerate(unit_keys):
        unit = index.setdefault(key, len(members))
        if unit == len(members):
            members.append([])
        members[unit].append(position)
    generator = np.random.Generator(np.random.PCG64(seed))
    picks = generator.integers(0, len(members), size=(resamples, len(members)), dtype=pick_dtype(len(members)))
    return Draws([np.asarray(m, dtype=np.intp) for m in members], picks)


def pick_dtype(n_units: int) -> type[np.unsignedinteger[Any]] | type[np.signedinteger[Any]]:
    """The integer type the draws are made in: 16 bits while the units fit (7x faster to draw than 64 bits, a
    quarter of the memory: 32 MB for Mobile-MMLU's 16,186 questions), else 64. Chosen from the number of units
    alone, so the same units always give the same draws."""
    return np.uint16 if n_units <= 2**16 else np.int64


def percentile_bounds(values: FloatArray, level: float = LEVEL) -> tuple[float, float]:
    """The central `level` percentile interval of a metric's finite resample values (NaN, NaN if none)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return math.nan, math.nan
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(finite, [tail, 1.0 - tail])
    return float(low), float(high)


def per_resample(
    draws: Draws, pooled: Callable[[IntArray], Mapping[str, float]], names: Sequence[str]
) -> ResampledMetrics:
    """Each metric in every resample, by calling `pooled` (the evaluator's own pooling over a list of partial
    indices) once per resample: for evaluators whose pooling is cheap next to their scoring."""
    values = {name: np.empty(draws.n_resamples, dtype=np.float64) for name in names}
    for resample in range(draws.n_resamples):
        metrics = pooled(draws.partials(resample))
        for name in names:
            values[name][resample] = metrics[name]
    return values


def resampled_ratios(draws: Draws, totals: FloatArray, counts: FloatArray, scales: FloatArray) -> FloatArray:
    """(resamples, k): `scales * sum(totals) / sum(counts)` over each resample's drawn units, NaN where a count is 0.

    The pooling of every metric that is a ratio of sums over units (a pixel-pooled mean or percentage, an accuracy,
    a mean error): `totals` and `counts` are (n_units, k) per-unit sums. Summed by gathering the drawn rows and
    adding them in draw order (no BLAS product, whose summation order depends on the machine), in blocks of
    resamples so the gathered rows stay small.
    """
    out = np.empty((draws.n_resamples, totals.shape[1]), dtype=np.float64)
    block = max(1, 2_000_000 // max(1, draws.picks.shape[1] * totals.shape[1]))
    for start in range(0, draws.n_resamples, block):
        picks = draws.picks[start : start + block]
        out[start : start + block] = ratios(totals[picks].sum(axis=1), counts[picks].sum(axis=1), scales)
    return out


def ratios(total: FloatArray, count: FloatArray, scales: FloatArray | float = 1.0) -> FloatArray:
    """`scales * total / count` of summed totals and counts, NaN where the count is 0 (nothing to average)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, scales * total / np.where(count > 0, count, 1), np.nan)


def unit_sums(draws: Draws, per_partial: FloatArray) -> FloatArray:
    """(n_units, k): the rows of `per_partial` (one per partial) summed within each unit, in partial order."""
    return np.stack([per_partial[members].sum(axis=0) for members in draws.members])


def resampled_sums(draws: Draws, per_unit: FloatArray) -> FloatArray:
    """(resamples, k): each column of `per_unit` (n_units, k) summed over each resample's drawn units (a unit drawn
    twice twice), for pooled figures over thousands of units, where gathering whole rows (`resampled_ratios`, whose
    sums run across the gathered rows) costs about a second.

    - A column of integers (a count, a 0/1 flag) whose sums stay below 2**53: how many times each resample drew each
      unit (one `bincount` per resample) times the columns, one matrix product per block of resamples. Every product
      and partial sum is an exact integer, so any summation order, on any machine, gives the same bits.
    - Any other column (an IoU, a distance): its drawn values gathered into one contiguous row per resample and
      added by numpy's pairwise summation, whose order depends only on the number of units (a matrix product of
      fractional values would depend on the machine's BLAS).
    """
    n_units, k = per_unit.shape
    finite_max = np.abs(per_unit).max(axis=0, initial=0.0)
    exact = np.all(per_unit == np.trunc(per_unit), axis=0) & (n_units * finite_max < 2.0**53)
    counts = per_unit[:, exact]
    gathered = [(j, np.ascontiguousarray(per_unit[:, j])) for j in np.flatnonzero(~exact)]
    out = np.empty((draws.n_resamples, k), dtype=np.float64)
    block = max(1, 2_000_000 // max(1, n_units))
    weights = np.empty((block, n_units), dtype=np.float64)
    for start in range(0, draws.n_resamples, block):
        picks = draws.picks[start : start + block]
        rows = slice(start, start + len(picks))
        if counts.shape[1]:
            for row, drawn in enumerate(picks):
                weights[row] = np.bincount(drawn, minlength=n_units)
            out[rows, exact] = weights[: len(picks)] @ counts
        for j, column in gathered:
            out[rows, j] = column[picks].sum(axis=1)
    return out
