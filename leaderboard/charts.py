"""Charts of the leaderboard: quality against one on-device cost, with the Pareto front drawn and labelled.

One chart holds figures of one cost, one scope and one method only (the pages group rows before calling), so a
process-level latency never shares an axis with a whole-device one, nor a fuel-gauge energy with a power-monitor
one. Points that the timed repetitions cannot tell apart on cost are drawn hollow and say so in their tooltip. A
row's quality carries its 95 % bootstrap interval as a vertical bar, where the store has one.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import pandas as pd

from hub.core.registry import BenchmarkSpec
from leaderboard.queries import interval_columns


@dataclass(frozen=True)
class Cost:
    """One cost axis: the column plotted, its title, the interval columns behind its error bars (if any), the
    store column it comes from, and the columns whose values get a chart each (scope, method: never mixed)."""

    column: str
    title: str
    low: str | None = None
    high: str | None = None
    source: str = ""
    groups: tuple[str, ...] = ()
    log: bool = True


LATENCY = Cost(
    "latency_mean_ms",
    "mean latency per sample (ms; bars: 95 % CI of the mean over the timed repetitions)",
    "latency_ci_low_ms",
    "latency_ci_high_ms",
    source="latency_mean_s",
    groups=("latency_scope",),
)
MEMORY = Cost("peak_memory_mb", "peak memory (MB)", source="peak_memory_b", groups=("peak_memory_kind",))
ENERGY_GROSS = Cost(
    "energy_per_inference_gross_j",
    "energy per inference, gross (J)",
    source="energy_per_inference_gross_j",
    groups=("energy_scope", "energy_method"),
)
ENERGY_NET = Cost(
    "energy_per_inference_net_j",
    "energy per inference, net of idle (J)",
    source="energy_per_inference_net_j",
    groups=("energy_scope", "energy_method"),
)
REPORTED_LATENCY = Cost(
    "reported_latency_ms", "latency as the paper reports it (ms; statistic as stated there)", groups=("device",)
)
COSTS = {"latency": LATENCY, "energy (gross)": ENERGY_GROSS, "energy (net)": ENERGY_NET, "memory": MEMORY}


def quality_vs_cost(table: pd.DataFrame, spec: BenchmarkSpec, cost: Cost) -> alt.LayerChart | None:
    """Primary metric against `cost`, one point per row; `table` needs `pareto` and `not_distinguishable_from`
    (`leaderboard.board.chart_points`). None when no row has both values."""
    metric = spec.primary
    data = table.dropna(subset=[cost.column, metric.name]).copy()
    if data.empty:
        return None
    data["distinguishable"] = data["not_distinguishable_from"].fillna("") == ""
    low, high = interval_columns(metric.name)
    bounded = {low, high} <= set(data.columns) and bool(data[low].notna().any())
    direction = f"{'higher' if metric.higher_is_better else 'lower'} is better"
    bars = "; bars: 95 % interval" if bounded else ""
    y_title = f"{metric.name} ({metric.unit + ', ' if metric.unit else ''}{direction}{bars})"
    scale = alt.Scale(type="log") if cost.log and (data[cost.column] > 0).all() else alt.Scale(zero=False)
    x = alt.X(f"{cost.column}:Q", title=cost.title, scale=scale, axis=alt.Axis(format=".3~g"))
    y = alt.Y(f"{metric.name}:Q", title=y_title, scale=alt.Scale(zero=False), axis=alt.Axis(format=".3~g"))
    tooltip = [
        c for c in ("model", "model_version", "device", "runtime", "precision", "provenance", "submission") if c in data
    ] + [metric.name, *([low, high] if bounded else []), cost.column, "pareto", "not_distinguishable_from"]
    base = alt.Chart(data)
    # stroke by provenance; filled when the row's cost is distinguishable from every other row's, hollow otherwise
    points = base.mark_point(size=120, filled=False, strokeWidth=2).encode(
        x=x,
        y=y,
        color=alt.Color("provenance:N", title="provenance"),
        fill=alt.condition("datum.distinguishable", alt.Color("provenance:N", legend=None), alt.value("white")),
        shape=alt.Shape("pareto:N", title="on the Pareto front"),
        tooltip=tooltip,
    )
    front = data[data["pareto"]].sort_values(cost.column)
    line = alt.Chart(front).mark_line(strokeDash=[4, 3], color="gray").encode(x=x, y=y)
    labels = alt.Chart(front).mark_text(align="left", dx=8, dy=-8).encode(x=x, y=y, text="model:N")
    layers: list[alt.Chart] = [line, points, labels]
    if cost.low and cost.high and {cost.low, cost.high} <= set(data.columns):
        bars = (
            base.transform_filter(f"isValid(datum['{cost.low}'])")
            .mark_rule()
            .encode(x=alt.X(f"{cost.low}:Q", scale=scale), x2=f"{cost.high}:Q", y=y)
        )
        layers.insert(0, bars)
    if bounded:
        quality_bars = (
            base.transform_filter(f"isValid(datum['{low}']) && isValid(datum['{high}'])")
            .mark_rule()
            .encode(x=x, y=alt.Y(f"{low}:Q", title=y_title, scale=alt.Scale(zero=False)), y2=f"{high}:Q")
        )
        layers.insert(0, quality_bars)
    return alt.LayerChart(layer=layers).properties(height=340)


def breakdown_bars(frame: pd.DataFrame, key: str, metric: str) -> alt.Chart:
    """One bar per breakdown key (scene, field, participant, ...) of one metric."""
    data = frame.dropna(subset=[metric])
    chart: alt.Chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(f"{metric}:Q", axis=alt.Axis(format=".3~g")),
            y=alt.Y(f"{key}:N", sort="-x", title=key),
            tooltip=[key, metric],
        )
        .properties(height=max(120, 18 * len(data)))
    )
    return chart
