"""Honest figures from raw on-device measurements.

Latency statistics are recomputed from the raw per-iteration samples, never copied from a tool's summary: the
warm-up iterations are dropped first (first runs pay for lazy allocation, JIT and cold caches), and percentiles use
the nearest-rank definition so that p90 is a latency that was actually observed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from submissions.measurements.record import MeasurementRecord, Provenance


def nearest_rank_percentile(samples: Sequence[float], q: float) -> float:
    """The smallest sample with at least q% of the samples at or below it (nearest-rank method, q in (0, 100])."""
    if not samples:
        raise ValueError("no samples")
    if not 0 < q <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {q}")
    ordered = sorted(samples)
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[rank - 1]


def latency_records(
    samples_s: Sequence[float],
    *,
    warmup: int,
    scope: str,
    method: str,
    tool: str,
    tool_version: str,
    parser: str,
    provenance: Provenance,
    source_file: str = "",
) -> list[MeasurementRecord]:
    """Median, p90 and mean latency of the measured iterations (warm-up already excluded from `samples_s`)."""
    if not samples_s:
        raise ValueError("no latency samples after warm-up")
    n = len(samples_s)
    stats = {
        "median": nearest_rank_percentile(samples_s, 50),
        "p90": nearest_rank_percentile(samples_s, 90),
        "mean": sum(samples_s) / n,
    }
    return [
        MeasurementRecord(
            metric="latency",
            statistic=name,
            value=value,
            unit="s",
            n=n,
            warmup=warmup,
            scope=scope,
            method=method,
            tool=tool,
            tool_version=tool_version,
            parser=parser,
            provenance=provenance,
            source_file=source_file,
        )
        for name, value in stats.items()
    ]
