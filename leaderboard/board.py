"""The benchmark page's tables, as plain pandas: scored submissions, reported reference rows, filters, cost columns.

Kept apart from Streamlit so that every rule a visitor relies on is testable on its own: reference rows are never
ranked (they have no rank and carry their flag and source), missing values stay missing (never 0), a latency
interval comes from the repetitions behind it, the Pareto front is computed over every row the filters leave
(`leaderboard.queries.benchmark_page`), not only the ones the table shows, and a metric's 95 % interval and a rank
interval show only where the store has them (never made up for a row scored without one).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from hub.core.references import FLAG, ReferenceResult
from hub.core.registry import BenchmarkSpec
from leaderboard.filters import REPORTED
from leaderboard.pareto import mean_interval, overlapping
from leaderboard.queries import interval_columns

# The columns a visitor reads first; every metric of the benchmark can be added with the column picker.
LEAD_COLUMNS = ("rank", "rank_interval", "tied", "overlaps_next", "model")
# the columns that say what the 95 % intervals make of the ranking: left out when no shown row has an interval
RANK_INTERVAL_COLUMNS = ("rank_interval", "overlaps_next")
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
    # a count the store lacks comes as a nullable integer; as a float it is NaN, which mean_interval reads as none
    counts = table["latency_n"].astype("float64")
    intervals = [
        mean_interval(mean, std, n)
        for mean, std, n in zip(table["latency_mean_ms"], table["latency_std_s"] * 1e3, counts, strict=True)
    ]
    table["latency_ci_low_ms"] = pd.Series([lo for lo, _ in intervals], index=table.index, dtype="float64")
    table["latency_ci_high_ms"] = pd.Series([hi for _, hi in intervals], index=table.index, dtype="float64")
    table["peak_memory_mb"] = table["peak_memory_b"] / 1e6
    if {"rank_best", "rank_worst"} <= set(table.columns):
        table["rank_interval"] = rank_intervals(table["rank_best"], table["rank_worst"])
    for column in list(table.columns):
        low, high = interval_columns(str(column))
        if {low, high} <= set(table.columns):
            bounds = zip(table[column], table[low], table[high], strict=True)
            texts = [plus_minus(v, lo, hi) for v, lo, hi in bounds]
            table[plus_minus_column(str(column))] = pd.Series(texts, index=table.index, dtype="string")
    return table


def rank_intervals(best: pd.Series, worst: pd.Series) -> pd.Series:
    """Rank intervals as text, "2–5" ("3" when one rank), missing without one (`queries._ranked_ctes`)."""
    low, high = best.astype("string"), worst.astype("string")
    return (low + "–" + high).mask((low == high).fillna(False), low)


def plus_minus_column(metric: str) -> str:
    """The table's text column reading `metric` as value ± half-width [low, high]."""
    return f"{metric} ±"


def plus_minus(value: float, low: float, high: float) -> str | None:
    """`value ± half-width [low, high]` of a 95 % interval, None unless all three are finite.

    The half-width is (high - low) / 2, rounded to two significant digits, and the value and bounds to the same
    decimal place: the digits the interval supports. A percentile interval need not be centred on the value, so
    the bounds follow. The exact value stays in the metric's own column, the exact bounds on the submission page.
    """
    if not all(isinstance(v, float | int) and math.isfinite(v) for v in (value, low, high)):
        return None
    half = (high - low) / 2
    if half <= 0:
        return f"{value:.4g} ± 0 [{low:.4g}, {high:.4g}]"
    places = max(0, 1 - math.floor(math.log10(half)))
    return f"{value:.{places}f} ± {half:.{places}f} [{low:.{places}f}, {high:.{places}f}]"


def table_columns(rows: pd.DataFrame, chosen: Sequence[str]) -> list[str]:
    """The ranking table's columns: the lead columns, then each chosen one, a metric followed by its ± column;
    the rank-interval and ± columns only when some row has an interval."""
    derived = {*RANK_INTERVAL_COLUMNS, *(plus_minus_column(c) for c in chosen)}
    ordered = [*LEAD_COLUMNS, *[c for column in chosen for c in (column, plus_minus_column(column))]]
    return [c for c in dict.fromkeys(ordered) if c in rows and not (c in derived and rows[c].isna().all())]


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
