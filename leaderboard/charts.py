"""Charts of the leaderboard: quality against on-device cost."""

from __future__ import annotations

import altair as alt
import pandas as pd

from hub.core.registry import BenchmarkSpec


def quality_vs_latency(table: pd.DataFrame, spec: BenchmarkSpec) -> alt.Chart | None:
    """Primary metric against median latency, one point per submission; None when no row has a latency."""
    data = table.dropna(subset=["latency_p50_ms", spec.primary_metric])
    if data.empty:
        return None
    metric = spec.primary
    direction = f"{'higher' if metric.higher_is_better else 'lower'} is better"
    y_title = f"{metric.name} ({metric.unit + ', ' if metric.unit else ''}{direction})"
    chart: alt.Chart = (
        alt.Chart(data)
        .mark_circle(size=120)
        .encode(
            x=alt.X(
                "latency_p50_ms:Q",
                title="median latency per sample (ms)",
                scale=alt.Scale(zero=False),
                axis=alt.Axis(format=".3~g"),
            ),
            y=alt.Y(f"{metric.name}:Q", title=y_title, scale=alt.Scale(zero=False), axis=alt.Axis(format=".3~g")),
            color=alt.Color("device:N"),
            shape=alt.Shape("baseline:N"),
            tooltip=["model", "model_version", "device", "runtime", "precision", metric.name, "latency_p50_ms"],
        )
        .properties(height=320)
    )
    return chart
