"""The benchmark page's tables, as plain pandas: scored submissions, reported reference rows, filters, cost columns.

Kept apart from Streamlit so that every rule a visitor relies on is testable on its own: reference rows are never
ranked (they have no rank and carry their flag and source), missing values stay missing (never 0), a latency
interval comes from the repetitions behind it, and the Pareto front is computed over every row the filters leave
(`leaderboard.queries.benchmark_page`), not only the ones the table shows.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from hub.core.references import FLAG, ReferenceResult
from hub.core.registry import BenchmarkSpec
from leaderboard.filters import REPORTED
from leaderboard.pareto import mean_interval, overlapping

# The columns a visitor reads first; every metric of the benchmark can be added with the column picker.
LEAD_COLUMNS = ("rank", "tied", "model")
DESCRIPTIVE_COLUMNS = (
    "model_version", "params", "precision", "runtime", "device", "soc", "provenance", "training_data",
    "latency_p50_ms", "latency_p90_ms", "peak_memory_mb", "energy_per_inference_gross_j",
    "energy_per_inference_net_j", "energy_scope", "integrity", "split", "synthetic", "submitted_at",
)  # fmt: skip
# shown until the visitor picks others
DEFAULT_COLUMNS = (
    "training_data", "params", "precision", "runtime", "device", "provenance", "latency_p50_ms", "peak_memory_mb",
    "energy_per_inference_net_j",
)  # fmt: skip


def submission_rows(ranking: pd.DataFrame) -> pd.DataFrame:
    """Ranking (or cost-point) rows in the visitor's units (ms, MB), with the latency interval behind each figure."""
    table = ranking.copy()
    for source, target in (("latency_p50_s", "latency_p50_ms"), ("latency_p90_s", "latency_p90_ms")):
        if source in table:
            table[target] = table[source] * 1e3
    table["latency_mean_ms"] = table["latency_mean_s"] * 1e3
    intervals = [
        mean_interval(mean, std, n)
        for mean, std, n in zip(table["latency_mean_ms"], table["latency_std_s"] * 1e3, table["latency_n"], strict=True)
    ]
    table["latency_ci_low_ms"] = pd.Series([lo for lo, _ in intervals], index=table.index, dtype="float64")
    table["latency_ci_high_ms"] = pd.Series([hi for _, hi in intervals], index=table.index, dtype="float64")
    table["peak_memory_mb"] = table["peak_memory_b"] / 1e6
    return table


def reference_rows(spec: BenchmarkSpec, references: Sequence[ReferenceResult]) -> pd.DataFrame:
    """The literature's results for `spec`, one row each, unranked, flagged and with their quoted source."""
    rows = []
    for ref in references:
        if ref.benchmark != spec.id:
            continue
        rows.append(
            {
                "rank": pd.NA,
                "model": ref.model.name,
                "params": ref.model.params,
                "params_basis": ref.model.params_basis,  # a size label ("3B") is not a count
                "device": ref.device.name if ref.device else None,
                "soc": ref.device.soc if ref.device and ref.device.soc else None,
                "provenance": REPORTED,
                "config": ref.config,
                "split": ref.split,
                **{m.name: ref.metrics.get(m.name) for m in spec.metrics},
                "reported_latency_ms": ref.latency_s * 1e3 if ref.latency_s is not None else None,
                "reported_memory_mb": ref.memory_bytes / 1e6 if ref.memory_bytes is not None else None,
                "reported_tokens_per_s": ref.throughput_tokens_per_s,
                "flag": FLAG,
                "citation": ref.citation,
                "where": ref.where,
                "quote": ref.quote,
                "url": ref.url,
                "note": ref.note,
            }
        )
    frame = pd.DataFrame(rows)
    for name in [m.name for m in spec.metrics]:
        if name in frame:
            frame[name] = frame[name].astype("float64")
    return frame


def chart_points(shown: pd.DataFrame, front: pd.DataFrame, cost: str) -> pd.DataFrame:
    """The rows one chart draws: those the table shows and those on the Pareto front (taken over every row the
    filters leave, `leaderboard.queries.benchmark_page`), each once, with `pareto` and `not_distinguishable_from`
    (the drawn models whose latency interval overlaps this row's, when `cost` has intervals)."""
    extra = front[~front["submission"].isin(shown["submission"])]
    frames = [frame for frame in (shown, extra) if not frame.empty]
    drawn = pd.concat(frames, ignore_index=True) if frames else shown.copy()
    drawn["pareto"] = drawn["submission"].isin(front["submission"])
    if cost == "latency_mean_ms" and {"latency_ci_low_ms", "latency_ci_high_ms"} <= set(drawn.columns):
        overlaps = overlapping(list(drawn["latency_ci_low_ms"]), list(drawn["latency_ci_high_ms"]))
        names = list(drawn["model"])
        drawn["not_distinguishable_from"] = [", ".join(names[j] for j in group) for group in overlaps]
    else:
        drawn["not_distinguishable_from"] = ""
    return drawn
