"""The benchmark page: the ranked table, the literature's reported rows, filters, and quality against cost."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from hub.core.references import FLAG, references_for
from hub.core.registry import BenchmarkSpec
from leaderboard import board, cache, charts
from leaderboard.views.widgets import cite_box, downloads, link, synthetic_banner


def render(db: str, spec: BenchmarkSpec, synthetic: bool) -> None:
    st.header(spec.title)
    if synthetic:
        synthetic_banner()
    primary = spec.primary
    st.markdown(
        f"Ranked by **{primary.name}** ({'higher' if primary.higher_is_better else 'lower'} is better"
        f"{', ' + primary.unit if primary.unit else ''}): {primary.description}. Licence: {spec.license.id}."
    )
    cite_box(spec)
    submissions = board.submission_rows(cache.ranking(db, spec.id))
    if not submissions.empty:
        submissions["details"] = [link(page="submission", submission=s) for s in submissions["submission"]]
    show_reported = st.sidebar.toggle("Show results reported in papers", value=True, key="show_reported")
    references = board.reference_rows(spec, references_for(spec.id)) if show_reported else pd.DataFrame()
    filters = _filters(submissions, references)
    shown = board.apply_filters(submissions, filters)
    reported = board.apply_filters(references, filters) if not references.empty else references

    columns = _column_picker(spec, submissions)
    st.subheader("Ranking")
    if shown.empty:
        st.info(
            "No scored submission matches these filters."
            if not submissions.empty
            else "No scored submission for this benchmark yet."
        )
    else:
        if shown["tied"].any():
            st.caption("Rows marked tied share their rank (equal primary metric).")
        table = shown[[c for c in ["rank", "tied", "model", *columns, "details"] if c in shown.columns]]
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            column_config={
                "rank": st.column_config.NumberColumn("rank", help="Shared by ties; missing without a primary value"),
                "details": st.column_config.LinkColumn("details", display_text="open"),
            },
        )
        downloads(table.drop(columns=["details"]), f"{spec.id}-ranking")
        if (shown["integrity"] == "timed model ≠ scored model").any():
            st.error("Some latency/energy figures timed a different model file than the one that was scored.")

    if not reported.empty:
        st.subheader("Reported in the literature")
        st.warning(
            f"{FLAG.capitalize()}: these figures are copied from the cited papers and READMEs (each with the text it "
            "was quoted from), on the official splits and settings the source states. They are not ranked against "
            "the submissions above."
        )
        lead = ["flag", "model", "params", spec.primary_metric]
        other = [m.name for m in spec.metrics if m.name != spec.primary_metric and reported[m.name].notna().any()]
        extra = [c for c in ("device", "reported_latency_ms", "reported_tokens_per_s") if reported[c].notna().any()]
        ref_table = reported[[*lead, *other, "config", "split", *extra, "citation", "where", "quote", "url", "note"]]
        st.dataframe(ref_table, hide_index=True, width="stretch", column_config={"url": st.column_config.LinkColumn()})
        downloads(ref_table, f"{spec.id}-reported")

    _cost_charts(spec, shown, reported)


def _options(frames: Sequence[pd.DataFrame], column: str) -> list[str]:
    values: set[str] = set()
    for frame in frames:
        if column in frame:
            values |= {str(v) for v in frame[column].dropna()}
    return sorted(values)


def _filters(submissions: pd.DataFrame, references: pd.DataFrame) -> board.Filters:
    sidebar = st.sidebar
    sidebar.markdown("**Filters**")
    frames = [submissions, references]
    devices = sidebar.multiselect("Device", _options(frames, "device"), key="f_device")
    socs = sidebar.multiselect("SoC", _options(frames, "soc"), key="f_soc")
    runtimes = sidebar.multiselect("Runtime", _options(frames, "runtime"), key="f_runtime")
    precisions = sidebar.multiselect("Precision", _options(frames, "precision"), key="f_precision")
    params_known = (
        pd.concat([f["params"] for f in frames if "params" in f]).dropna()
        if any("params" in f for f in frames)
        else pd.Series(dtype="float64")
    )
    params: tuple[float, float] | None = None
    if len(params_known) and params_known.min() < params_known.max():
        low, high = float(params_known.min()), float(params_known.max())
        chosen = sidebar.slider("Parameters (millions)", low / 1e6, high / 1e6, (low / 1e6, high / 1e6), key="f_params")
        if chosen != (low / 1e6, high / 1e6):
            params = (chosen[0] * 1e6, chosen[1] * 1e6)
    provenances = sidebar.multiselect(
        "Provenance", list(board.PROVENANCES), default=list(board.PROVENANCES), key="f_provenance"
    )
    synthetic = sidebar.toggle("Show synthetic (demo) results", value=True, key="f_synthetic")
    return board.Filters(devices, socs, runtimes, precisions, params, provenances, synthetic)


def _column_picker(spec: BenchmarkSpec, submissions: pd.DataFrame) -> list[str]:
    metrics = [m.name for m in spec.metrics]
    available = [*metrics, *[c for c in board.DESCRIPTIVE_COLUMNS if c in submissions.columns]]
    default = [spec.primary_metric, *[c for c in board.DEFAULT_COLUMNS if c in submissions.columns]]
    chosen = st.multiselect("Columns", available, default=default, key="columns")
    if spec.primary_metric not in chosen:
        chosen = [spec.primary_metric, *chosen]  # the ranking metric always shows
    return chosen


def _cost_charts(spec: BenchmarkSpec, shown: pd.DataFrame, reported: pd.DataFrame) -> None:
    st.subheader("Quality against cost")
    left, right = st.columns([3, 1])
    name = left.selectbox("Cost", list(charts.COSTS), key="cost")
    log = right.checkbox("Log axis", value=True, key="log_axis")
    cost = charts.COSTS[name]
    cost = charts.Cost(cost.column, cost.title, cost.low, cost.high, log)
    group_by = {
        "latency": ["latency_scope"],
        "memory": ["peak_memory_kind"],
    }.get(name, ["energy_scope", "energy_method"])
    drawn = 0
    if not shown.empty:
        has_cost = shown.dropna(subset=[cost.column])
        for key, group in has_cost.groupby(group_by, dropna=False) if not has_cost.empty else []:
            drawn += _chart(spec, group, cost, f"{name}, {' / '.join(str(k) for k in _as_tuple(key))}")
    if name == "latency" and not reported.empty and reported["reported_latency_ms"].notna().any():
        rows = reported.dropna(subset=["reported_latency_ms"])
        for device, group in rows.groupby("device", dropna=False):
            reported_cost = charts.Cost(charts.REPORTED_LATENCY.column, charts.REPORTED_LATENCY.title, log=cost.log)
            drawn += _chart(spec, group, reported_cost, f"reported in papers, on {device} (not reproduced)")
    if not drawn:
        st.info(f"No row has both {spec.primary_metric} and a {name} figure.")
    if name.startswith("energy"):
        st.caption("One chart per energy scope and method: figures measured differently are never put on one axis.")


def _as_tuple(key: object) -> tuple[object, ...]:
    return key if isinstance(key, tuple) else (key,)


def _chart(spec: BenchmarkSpec, group: pd.DataFrame, cost: charts.Cost, title: str) -> int:
    scored = board.with_pareto(group, spec, cost.column)
    chart = charts.quality_vs_cost(scored, spec, cost)
    if chart is None:
        return 0
    st.markdown(f"**{title}**")
    st.altair_chart(chart, width="stretch")
    front = scored[scored["pareto"]]
    names = [
        str(model) + (f" (cost not distinguishable from {overlap})" if overlap else "")
        for model, overlap in zip(front["model"], front["not_distinguishable_from"], strict=True)
    ]
    st.caption("Pareto front (no other row is both better and cheaper): " + "; ".join(names))
    return 1
