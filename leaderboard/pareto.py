"""Which results are worth their cost: the Pareto front of quality against cost, and which costs overlap.

A result is on the front when no other result is at least as good in quality *and* at least as cheap, and strictly
better in one of the two. Rows missing either value are never on the front (a missing figure is not a free one).
Cost intervals (e.g. a 95 % confidence interval of mean latency from the timed repetitions) that overlap mean the
two costs cannot be told apart from the measurements: the leaderboard marks those pairs "not distinguishable".
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def _finite(value: float | None) -> float | None:
    """`value` as a float, or None when it is missing or not finite (pandas hands NaN for missing)."""
    return float(value) if value is not None and math.isfinite(value) else None


def pareto_front(
    quality: Sequence[float | None], cost: Sequence[float | None], *, higher_is_better: bool
) -> list[bool]:
    """For each row, whether it is on the quality-against-cost Pareto front (lower cost is always better)."""
    sign = 1.0 if higher_is_better else -1.0
    rows: list[tuple[float, float] | None] = []
    for q, c in zip(quality, cost, strict=True):
        good, cheap = _finite(q), _finite(c)
        rows.append(None if good is None or cheap is None else (sign * good, cheap))
    on_front: list[bool] = []
    for i, row in enumerate(rows):
        if row is None:
            on_front.append(False)
            continue
        good, cheap = row
        dominated = any(
            other is not None and other[0] >= good and other[1] <= cheap and (other[0] > good or other[1] < cheap)
            for j, other in enumerate(rows)
            if j != i
        )
        on_front.append(not dominated)
    return on_front


def overlapping(low: Sequence[float | None], high: Sequence[float | None]) -> list[list[int]]:
    """For each row, the other rows whose closed [low, high] interval overlaps its own (none without an interval)."""
    intervals: list[tuple[float, float] | None] = []
    for lo, hi in zip(low, high, strict=True):
        a, b = _finite(lo), _finite(hi)
        intervals.append(None if a is None or b is None else (a, b))
    result: list[list[int]] = []
    for i, own in enumerate(intervals):
        if own is None:
            result.append([])
            continue
        result.append(
            [
                j
                for j, other in enumerate(intervals)
                if j != i and other is not None and other[0] <= own[1] and own[0] <= other[1]
            ]
        )
    return result


def mean_interval(mean: float | None, std: float | None, n: float | None) -> tuple[float, float] | tuple[None, None]:
    """The normal-approximation 95 % confidence interval of a mean, mean ± 1.96·std/√n (None without n ≥ 2)."""
    m, s, count = _finite(mean), _finite(std), _finite(n)
    if m is None or s is None or count is None or count < 2:
        return None, None
    half = 1.96 * s / math.sqrt(count)
    return m - half, m + half
