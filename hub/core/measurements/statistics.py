"""The one definition of a latency percentile, shared by the log readers, the runner and the efficiency figures.

Nearest rank (not interpolation), so every reported percentile is a latency that was actually observed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def nearest_rank_percentile(samples: Sequence[float], q: float) -> float:
    """The smallest sample with at least q% of the samples at or below it (nearest-rank method, q in (0, 100])."""
    if not samples:
        raise ValueError("no samples")
    if not 0 < q <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {q}")
    ordered = sorted(samples)
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[rank - 1]
