"""The benchmark page's tables, as plain pandas: scored submissions, reported reference rows, filters, cost columns.

Kept apart from Streamlit so that every rule a visitor relies on is testable on its own: reference rows are never
ranked (they have no rank and carry their flag and source), missing values stay missing (never 0), a latency
interval comes from the repetitions behind it, and the Pareto front is computed over what the filters leave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from hub.core.references import FLAG, ReferenceResult
from hub.core.registry import BenchmarkSpec
from leaderboard.pareto import mean_interval, overlapping, pareto_front

MEASURED = "measured by mobench"
SELF_REPORTED = "self-reported"
REPORTED = "reported in a paper"
NO_MEASUREMENTS = "no measurements"
PROVENANCES = (MEASURED, SELF_REPORTED, NO_MEASUREMENTS, REPORTED)
_PROVENANCE = {"measured-by-mobench": MEASURED, "self-reported": SELF_REPORTED}

# The columns a visitor reads first; every metric of the benchmark can be added with the column picker.
LEAD_COLUMNS = ("rank", "tied", "model")
DESCRIPTIVE_COLUMNS = (
    "model_version", "params", "precision", "runtime", "device", "soc", "provenance",
    "latency_p50_ms", "latency_p90_ms", "peak_memory_mb", "energy_per_inference_gross_j",
    "energy_per_inference_net_j", "energy_scope", "integrity", "split", "synthetic", "submitted_at",
)  # fmt: skip
# shown until the visitor picks others
DEFAULT_COLUMNS = (
    "params", "precision", "runtime", "device", "provenance", "latency_p50_ms", "peak_memory_mb",
    "energy_per_inference_net_j",
)  # fmt: skip


def submission_rows(ranking: pd.DataFrame) -> pd.DataFrame:
    """The ranking with the visitor's units (ms, MB), its provenance label and its latency interval."""
    table = ranking.copy()
    table["provenance"] = [
        _PROVENANCE.get(p, NO_MEASUREMENTS) if isinstance(p, str) else NO_MEASUREMENTS
        for p in table["latency_provenance"]
    ]
    table["latency_p50_ms"] = table["latency_p50_s"] * 1e3
    table["latency_p90_ms"] = table["latency_p90_s"] * 1e3
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


@dataclass(frozen=True)
class Filters:
    """What the visitor narrowed the page to; an empty selection means "no restriction"."""

    devices: Sequence[str] = ()
    socs: Sequence[str] = ()
    runtimes: Sequence[str] = ()
    precisions: Sequence[str] = ()
    params: tuple[float, float] | None = None
    provenances: Sequence[str] = field(default_factory=lambda: PROVENANCES)
    synthetic: bool = True


def apply_filters(table: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """The rows that pass every filter. A row missing the filtered field passes only an unrestricted filter."""
    if table.empty:
        return table
    keep = pd.Series(True, index=table.index)
    for column, chosen in (
        ("device", filters.devices),
        ("soc", filters.socs),
        ("runtime", filters.runtimes),
        ("precision", filters.precisions),
    ):
        if chosen:
            keep &= table[column].isin(list(chosen)) if column in table else False
    if filters.params is not None:
        low, high = filters.params
        keep &= table["params"].between(low, high).fillna(False).astype(bool) if "params" in table else False
    keep &= table["provenance"].isin(list(filters.provenances))
    if not filters.synthetic and "synthetic" in table:
        keep &= ~table["synthetic"].fillna(False).astype(bool)
    return table[keep]


def with_pareto(table: pd.DataFrame, spec: BenchmarkSpec, cost: str) -> pd.DataFrame:
    """`table` plus `pareto` (on the quality-vs-`cost` front) and `not_distinguishable_from` (the models whose
    latency interval overlaps this row's, when `cost` has intervals)."""
    out = table.copy()
    out["pareto"] = pareto_front(
        list(out[spec.primary_metric]), list(out[cost]), higher_is_better=spec.primary.higher_is_better
    )
    if cost == "latency_mean_ms" and {"latency_ci_low_ms", "latency_ci_high_ms"} <= set(out.columns):
        overlaps = overlapping(list(out["latency_ci_low_ms"]), list(out["latency_ci_high_ms"]))
        names = list(out["model"])
        out["not_distinguishable_from"] = [", ".join(names[j] for j in group) for group in overlaps]
    else:
        out["not_distinguishable_from"] = ""
    return out
