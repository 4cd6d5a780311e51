"""Which results are worth their cost: the Pareto front of quality against cost, and which costs overlap.

A result is on the front when no other result is at least as good in quality *and* at least as cheap, and strictly
better in one of the two (two identical results are both on it). Rows missing either value are never on the front
(a missing figure is not a free one). The front is taken inside DuckDB over every row that passes the filters
(`front_sql`), so 100k submissions never leave the database for it; the page then draws the front and the rows its
table shows. Cost intervals (a 95 % confidence interval of mean latency from the timed repetitions) that overlap
mean the two costs cannot be told apart from the measurements: those drawn rows are marked "not distinguishable".
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def front_sql(relation: str, quality: str, cost: str, groups: Sequence[str], *, higher_is_better: bool) -> str:
    """A SELECT of the `submission` ids on the front of `quality` against `cost` within each `groups` value (one
    chart each), over the SQL `relation`.

    Per group and distinct cost the best quality is kept; a row is on the front when it has that best quality and
    it beats the best quality of every strictly cheaper cost in its group.
    """
    sign = "" if higher_is_better else "-"
    # The group columns themselves (NULL is a group of its own, matched with IS NOT DISTINCT FROM), not one string
    # built from them: at 100k rows that string is a good part of the page's time.
    names = [f"g{i}" for i in range(len(groups))]
    carried = "".join(f", {column} AS {name}" for column, name in zip(groups, names, strict=True))
    same_group = "".join(f" AND c.{name} IS NOT DISTINCT FROM p.{name}" for name in names)
    by_group = ", ".join(names)
    return f"""
WITH points AS (
    SELECT submission, {sign}({quality}) AS good, {cost} AS cheap{carried} FROM ({relation})
    WHERE {quality} IS NOT NULL AND {cost} IS NOT NULL AND isfinite({quality}) AND isfinite({cost})
), best AS (
    SELECT {by_group + ", " if names else ""}cheap, max(good) AS best_good FROM points GROUP BY ALL
), cheaper AS (
    SELECT *, max(best_good) OVER (
        {"PARTITION BY " + by_group if names else ""} ORDER BY cheap ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS best_cheaper
    FROM best
)
SELECT p.submission FROM points p JOIN cheaper c ON c.cheap = p.cheap{same_group}
WHERE p.good = c.best_good AND (c.best_cheaper IS NULL OR c.best_good > c.best_cheaper)
"""


def overlapping(low: Sequence[float | None], high: Sequence[float | None]) -> list[list[int]]:
    """For each row, the other rows whose closed [low, high] interval overlaps its own (none without an interval)."""
    lo = np.array([np.nan if v is None else v for v in low], dtype=np.float64)
    hi = np.array([np.nan if v is None else v for v in high], dtype=np.float64)
    known = np.isfinite(lo) & np.isfinite(hi)
    meets = (lo[:, None] <= hi[None, :]) & (lo[None, :] <= hi[:, None]) & known[:, None] & known[None, :]
    np.fill_diagonal(meets, False)
    return [np.flatnonzero(row).tolist() for row in meets]


def mean_interval(mean: float | None, std: float | None, n: float | None) -> tuple[float, float] | tuple[None, None]:
    """The normal-approximation 95 % confidence interval of a mean, mean ± 1.96·std/√n (None without n ≥ 2)."""
    values = [None if v is None or not math.isfinite(v) else float(v) for v in (mean, std, n)]
    m, s, count = values
    if m is None or s is None or count is None or count < 2:
        return None, None
    half = 1.96 * s / math.sqrt(count)
    return m - half, m + half
