"""The benchmark page: the ranked table, the literature's reported rows, filters, and quality against cost."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from hub.core.references import FLAG, references_for
from hub.core.registry import BenchmarkSpec
from hub.core.training_data import Badge
from leaderboard import board, cache, charts, filters
from leaderboard.pareto import front_sql
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
    show_reported = st.sidebar.toggle("Show results reported in papers", value=True, key="show_reported")
    references = board.reference_rows(spec, references_for(spec.id)) if show_reported else pd.DataFrame()
    # The page's data comes in one query with the filters and the charts' cost as the visitor left them (widget
    # values live in the session between reruns); the widgets are then drawn with the options it returns.
    chosen = _chosen_filters()
    cost = charts.COSTS[str(st.session_state.get("cost", next(iter(charts.COSTS))))]
    page = cache.benchmark_page(db, spec.id, chosen, cost.source, cost.groups)
    _filter_widgets(page.options, references)
    shown = board.submission_rows(page.table)
    reported = filters.apply(references, chosen)

    columns = _column_picker(spec, shown)
    st.subheader("Ranking")
    if shown.empty:
        st.info(
            "No scored submission matches these filters."
            if page.options["device"]
            else "No scored submission for this benchmark yet."
        )
    else:
        shown["details"] = [link(page="submission", submission=s) for s in shown["submission"]]
        matching = int(shown["n_matching"].iloc[0])
        if matching > len(shown):
            st.caption(f"The best {len(shown)} of {matching} matching submissions; narrow them with the filters.")
        if shown["tied"].any():
            st.caption("Rows marked tied share their rank (equal primary metric).")
        table = shown[[*board.table_columns(shown, columns), "details"]]
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            column_config={
                "rank": st.column_config.NumberColumn("rank", help="Shared by ties; missing without a primary value"),
                **_interval_columns(columns),
                "training_data": st.column_config.TextColumn("training data", help=TRAINING_HELP, width="medium"),
                "details": st.column_config.LinkColumn("details", display_text="open"),
            },
        )
        st.caption(_intervals_caption(table))
        downloads(table.drop(columns=["details"]), f"{spec.id}-ranking")
        if (shown["training_data"] == Badge.CONTAMINATED.label).any():
            st.caption(
                f'Rows marked "{Badge.CONTAMINATED.label}" were trained on data this benchmark scores or tests on, '
                "by their own declaration; the sidebar hides them. A submission page lists what each one declared."
            )
        if (shown["integrity"] == "timed model ≠ scored model").any():
            st.error("Some latency/energy figures timed a different model file than the one that was scored.")

    if not reported.empty:
        st.subheader("Reported in the literature")
        st.warning(
            f"{FLAG.capitalize()}: these figures are copied from the cited papers and READMEs (each with the text it "
            "was quoted from), on the official splits and settings the source states. They are not ranked against "
            "the submissions above."
        )
        lead = ["flag", "model", "params", "params_basis", spec.primary_metric]
        other = [m.name for m in spec.metrics if m.name != spec.primary_metric and reported[m.name].notna().any()]
        extra = [c for c in ("device", "reported_latency_ms", "reported_tokens_per_s") if reported[c].notna().any()]
        ref_table = reported[[*lead, *other, "config", "split", *extra, "citation", "where", "quote", "url", "note"]]
        st.dataframe(ref_table, hide_index=True, width="stretch", column_config={"url": st.column_config.LinkColumn()})
        downloads(ref_table, f"{spec.id}-reported")

    _cost_charts(spec, shown, board.submission_rows(page.front), reported)


# what the interval columns say (`leaderboard.queries._ranked_ctes`, `leaderboard.board`), as help and caption
PLUS_MINUS_HELP = "value ± half the width of its 95 % bootstrap interval [low, high], to the digits it supports"
RANK_INTERVAL_HELP = (
    "derived from the primary metric's 95 % intervals: best rank = 1 + the rows whose interval is wholly better "
    "than this row's, worst rank = the rows whose interval is not wholly worse (this row included); rank 2–5: the "
    "intervals cannot tell this row from those ranked 2 to 5"
)
NEXT_HELP = "this row's 95 % interval overlaps the next row's: the two cannot be told apart"


def _interval_columns(columns: list[str]) -> dict[str, Any]:
    """How the rank-interval, ≈ and ± columns read."""
    return {
        "rank_interval": st.column_config.TextColumn("rank interval", help=f"Rank interval {RANK_INTERVAL_HELP}."),
        "overlaps_next": st.column_config.CheckboxColumn("≈ next", help=f"Checked: {NEXT_HELP}."),
        **{board.plus_minus_column(c): st.column_config.TextColumn(help=f"The {PLUS_MINUS_HELP}.") for c in columns},
    }


def _intervals_caption(table: pd.DataFrame) -> str:
    """What the intervals and rank intervals say, or that the rows shown have none."""
    if "rank_interval" not in table:
        return (
            "No row shown has a 95 % interval: they were scored before intervals existed, or by an evaluator that "
            "does not resample yet."
        )
    return (
        f"**±**: {PLUS_MINUS_HELP} (1,000 resamples of the unit the official protocol pools, named on each "
        "submission's page; the same draws for every submission scored on the same units). **Rank interval**, as "
        f"arena leaderboards show it, {RANK_INTERVAL_HELP}. **≈ next**: {NEXT_HELP}. A row scored without "
        "intervals has none of these, and counts as neither wholly better nor wholly worse in the others' rank "
        "intervals: its uncertainty is unknown."
    )


TRAINING_HELP = (
    "What the submitter declares the model was trained on, read against this benchmark's data: zero-shot (`none`, "
    "or other datasets only), trained on its training split (only splits disjoint from the scored one), declared "
    "test overlap (the scored split, the test split, the dataset as a whole or a dataset that shares its samples), "
    "undeclared (nothing said). The submission page lists the declaration."
)


def _options(options: dict[str, list[Any]], references: pd.DataFrame, column: str) -> list[str]:
    values = {str(v) for v in options.get(column, [])}
    if column in references:
        values |= {str(v) for v in references[column].dropna()}
    return sorted(values)


def _chosen_filters() -> filters.Filters:
    """The filters as the visitor set them (the widgets' values kept in the session), before the widgets draw."""
    state = st.session_state
    picked = state.get("f_params") if state.get("f_params_moved") else None
    return filters.Filters(
        devices=tuple(state.get("f_device", ())),
        socs=tuple(state.get("f_soc", ())),
        runtimes=tuple(state.get("f_runtime", ())),
        precisions=tuple(state.get("f_precision", ())),
        params=(picked[0] * 1e6, picked[1] * 1e6) if picked else None,
        provenances=tuple(state.get("f_provenance", filters.PROVENANCES)),
        synthetic=bool(state.get("f_synthetic", True)),
        training=tuple(state.get("f_training", ())),
        hide_contaminated=bool(state.get("f_hide_contaminated", False)),
    )


def _params_moved() -> None:
    # an untouched slider means "any size", which also keeps rows whose size nobody stated
    st.session_state["f_params_moved"] = True


def _filter_widgets(options: dict[str, list[Any]], references: pd.DataFrame) -> None:
    sidebar = st.sidebar
    sidebar.markdown("**Filters**")
    sidebar.multiselect("Device", _options(options, references, "device"), key="f_device")
    sidebar.multiselect("SoC", _options(options, references, "soc"), key="f_soc")
    sidebar.multiselect("Runtime", _options(options, references, "runtime"), key="f_runtime")
    sidebar.multiselect("Precision", _options(options, references, "precision"), key="f_precision")
    known = [float(v) for v in options.get("params", [])]
    if "params" in references:
        known += [float(v) for v in references["params"].dropna()]
    if known and min(known) < max(known):
        low, high = min(known) / 1e6, max(known) / 1e6
        sidebar.slider("Parameters (millions)", low, high, (low, high), key="f_params", on_change=_params_moved)
    sidebar.multiselect("Provenance", list(filters.PROVENANCES), default=list(filters.PROVENANCES), key="f_provenance")
    sidebar.toggle("Show synthetic (demo) results", value=True, key="f_synthetic")
    sidebar.multiselect("Training data", list(filters.TRAINING), key="f_training", help=TRAINING_HELP)
    sidebar.toggle(f"Hide {Badge.CONTAMINATED.label}", value=False, key="f_hide_contaminated", help=TRAINING_HELP)


def _column_picker(spec: BenchmarkSpec, submissions: pd.DataFrame) -> list[str]:
    metrics = [m.name for m in spec.metrics]
    available = [*metrics, *[c for c in board.DESCRIPTIVE_COLUMNS if c in submissions.columns]]
    default = [spec.primary_metric, *[c for c in board.DEFAULT_COLUMNS if c in submissions.columns]]
    chosen = st.multiselect("Columns", available, default=default, key="columns")
    if spec.primary_metric not in chosen:
        chosen = [spec.primary_metric, *chosen]  # the ranking metric always shows
    return chosen


def _cost_charts(spec: BenchmarkSpec, shown: pd.DataFrame, front: pd.DataFrame, reported: pd.DataFrame) -> None:
    st.subheader("Quality against cost")
    left, right = st.columns([3, 1])
    name = left.selectbox("Cost", list(charts.COSTS), key="cost")
    log = right.checkbox("Log axis", value=True, key="log_axis")
    cost = replace(charts.COSTS[name], log=log)
    drawn = 0
    rows = pd.concat([f for f in (shown, front) if not f.empty]) if not (shown.empty and front.empty) else shown
    keys = rows.dropna(subset=[cost.column])[list(cost.groups)].drop_duplicates() if not rows.empty else rows
    for key in keys.itertuples(index=False) if not rows.empty else []:
        title = f"{name}, {' / '.join(str(k) for k in key)}"
        marked = board.chart_points(_in_group(shown, cost, key), _in_group(front, cost, key), cost.column)
        drawn += _chart(spec, marked, cost, title)
    if name == "latency" and not reported.empty and reported["reported_latency_ms"].notna().any():
        papers = reported.dropna(subset=["reported_latency_ms"]).assign(submission=lambda f: f["citation"] + f["model"])
        for device, group in papers.groupby("device", dropna=False):
            front_rows = _front_of(group, spec)
            marked = board.chart_points(group, front_rows, charts.REPORTED_LATENCY.column)
            reported_cost = replace(charts.REPORTED_LATENCY, log=log)
            drawn += _chart(spec, marked, reported_cost, f"reported in papers, on {device} (not reproduced)")
    if not drawn:
        st.info(f"No row has both {spec.primary_metric} and a {name} figure.")
    if name.startswith("energy"):
        st.caption("One chart per energy scope and method: figures measured differently are never put on one axis.")


def _in_group(frame: pd.DataFrame, cost: charts.Cost, key: tuple[Any, ...]) -> pd.DataFrame:
    """The rows of `frame` with a `cost` figure whose group columns hold `key` (missing matches missing)."""
    if frame.empty:
        return frame
    keep = frame[cost.column].notna()
    for column, value in zip(cost.groups, key, strict=True):
        keep &= frame[column].isna() if pd.isna(value) else frame[column] == value
    return frame[keep]


def _front_of(rows: pd.DataFrame, spec: BenchmarkSpec) -> pd.DataFrame:
    """The Pareto front of a small in-memory table (the papers' rows), by the same SQL as the store's."""
    sql = front_sql(
        "SELECT * FROM rows", spec.primary_metric, charts.REPORTED_LATENCY.column, (),
        higher_is_better=spec.primary.higher_is_better,
    )  # fmt: skip
    with duckdb.connect() as con:
        con.register("rows", rows)
        ids = {r[0] for r in con.execute(sql).fetchall()}
    return rows[rows["submission"].isin(list(ids))]


def _as_tuple(key: object) -> tuple[object, ...]:
    return key if isinstance(key, tuple) else (key,)


def _chart(spec: BenchmarkSpec, scored: pd.DataFrame, cost: charts.Cost, title: str) -> int:
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
