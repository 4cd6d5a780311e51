"""The mobench leaderboard (Streamlit): per benchmark and device, quality against on-device cost.

Reads the store through short-lived read-only connections (see hub.store), so the worker can keep writing.
Start it with `mobench serve` (or `streamlit run leaderboard/app.py` with MOBENCH_DB set).
"""

from __future__ import annotations

import streamlit as st

from hub.core.errors import MobenchError
from hub.core.paths import default_db_path
from hub.core.registry import load_registry
from hub.store import Store
from leaderboard import charts, queries

ALL_DEVICES = "all devices"
DISPLAY_DROP = ["submission", "latency_p50_s", "latency_p90_s"]


def main() -> None:
    st.set_page_config(page_title="mobench leaderboard", layout="wide")
    st.title("mobench leaderboard")
    st.caption("Official metrics next to on-device cost. Baselines are simple reference algorithms, marked as such.")
    store = Store(default_db_path())
    try:
        registered = queries.registered_benchmarks(store)
    except MobenchError as exc:
        st.error(str(exc))
        return
    registry = load_registry()
    ids = [b for b in registered["id"] if b in registry]
    if not ids:
        st.info("No benchmark is registered in this store yet: run `mobench demo` or `mobench register`.")
        return
    # ?benchmark=<id> selects a benchmark, so a view can be linked to.
    wanted = st.query_params.get("benchmark")
    start = ids.index(wanted) if wanted in ids else 0
    bench_id = st.sidebar.selectbox("Benchmark", ids, index=start, format_func=lambda b: f"{registry[b].title} ({b})")
    st.query_params["benchmark"] = bench_id
    spec = registry[bench_id]
    synthetic = bool(registered.set_index("id").loc[bench_id, "synthetic"])
    device_choice = st.sidebar.selectbox("Device", [ALL_DEVICES, *queries.devices(store, bench_id)])
    device = None if device_choice == ALL_DEVICES else device_choice

    st.header(spec.title)
    if synthetic:
        st.warning(
            "SYNTHETIC demo data: this benchmark is registered with mobench's generated mini data in the official "
            "format, not the official release. Its numbers say nothing about real models."
        )
    primary = spec.primary
    st.markdown(
        f"Ranked by **{primary.name}** ({'higher' if primary.higher_is_better else 'lower'} is better"
        f"{', ' + primary.unit if primary.unit else ''}): {primary.description}. Licence: {spec.license.id}."
    )
    table = queries.ranking(store, spec, device)
    if table.empty:
        st.info("No scored submission for this benchmark and device yet.")
        return
    table["latency_p50_ms"] = table["latency_p50_s"] * 1000
    table["latency_p90_ms"] = table["latency_p90_s"] * 1000
    table["submission_id"] = table["submission"].str.slice(0, 12)
    st.dataframe(table.drop(columns=DISPLAY_DROP), hide_index=True, width="stretch")
    st.download_button(
        "Download CSV", table.drop(columns=["submission_id"]).to_csv(index=False), file_name=f"{spec.id}.csv"
    )
    if (table["integrity"] == "timed model ≠ scored model").any():
        st.error("Some latency/energy figures timed a different model file than the one that was scored (integrity).")
    scopes = sorted(set(table["latency_scope"].dropna()))
    if scopes:
        # Figures of different scope (what was timed) are never put on one axis.
        scope = st.selectbox("Latency scope", scopes) if len(scopes) > 1 else scopes[0]
        chart = charts.quality_vs_latency(table[table["latency_scope"] == scope], spec)
        if chart is not None:
            st.subheader("Quality against latency")
            st.altair_chart(chart, width="stretch")
            st.caption(f"Latency scope: {scope}. Figures of another scope are not comparable and not shown.")

    st.subheader("Submission details")
    labels: dict[str, str] = {
        str(row.submission): f"#{row.rank} {row.model} {row.model_version} · {row.device} · {row.submission_id}"
        for row in table.itertuples()
    }
    chosen = str(st.selectbox("Submission", list(labels), format_func=labels.__getitem__))
    for name in queries.breakdown_names(store, chosen):
        st.markdown(f"**Per {name}**")
        st.dataframe(queries.breakdown(store, chosen, name), hide_index=True, width="stretch")
    details = queries.run_details(store, chosen)
    if details:
        with st.expander("Run details"):
            st.json(details)
    with st.expander("Per-sample scores"):
        st.dataframe(queries.sample_scores(store, chosen), hide_index=True, width="stretch")
    st.markdown("**Measurements**")
    st.dataframe(queries.measurements(store, chosen), hide_index=True, width="stretch")


main()
