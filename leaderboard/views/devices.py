"""The devices page: one device's best results across benchmarks, and one model across devices."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from leaderboard import cache
from leaderboard.views.widgets import downloads, link, query_param


def render(db: str) -> None:
    st.header("Devices")
    devices = cache.all_devices(db)
    if devices.empty:
        st.info("No scored submission yet, so no device: run `mobench demo` or submit one.")
        return
    st.dataframe(devices, hide_index=True, width="stretch")
    results = cache.primary_results(db)
    results["latency_p50_ms"] = results["latency_p50_s"] * 1e3

    names = list(devices["device"])
    wanted = query_param("device")
    device = st.selectbox("Device", names, index=names.index(wanted) if wanted in names else 0, key="device")
    st.query_params["device"] = device
    st.subheader(f"Best result per benchmark on {device}")
    best = best_per_benchmark(results[results["device"] == device])
    best["details"] = [link(page="submission", submission=s) for s in best["submission"]]
    shown = best[["benchmark", "primary_metric", "value", "model", "model_version", "runtime", "precision",
                  "latency_p50_ms", "synthetic", "details"]]  # fmt: skip
    st.dataframe(
        shown, hide_index=True, width="stretch",
        column_config={"details": st.column_config.LinkColumn("details", display_text="open")},
    )  # fmt: skip
    downloads(shown.drop(columns=["details"]), f"device-{device}")

    models = sorted(set(results["model"]))
    wanted_model = query_param("model")
    model = st.selectbox(
        "Model", models, index=models.index(wanted_model) if wanted_model in models else 0, key="model"
    )
    st.query_params["model"] = model
    st.subheader(f"{model} across devices")
    across = results[results["model"] == model].pivot_table(
        index="benchmark", columns="device", values="value", aggfunc="first", dropna=False
    )
    st.dataframe(across.reset_index(), hide_index=True, width="stretch")
    downloads(across.reset_index(), f"model-{model}")


def best_per_benchmark(results: pd.DataFrame) -> pd.DataFrame:
    """For each benchmark, the row with the best primary value in that benchmark's own direction."""
    known = results.dropna(subset=["value"])
    # sort each benchmark's rows best first in its own direction, then keep the first
    signed = known["value"].where(known["higher_is_better"].astype(bool), -known["value"])
    ordered = known.assign(_signed=signed).sort_values(["benchmark", "_signed"], ascending=[True, False])
    return ordered.drop_duplicates("benchmark").drop(columns="_signed").reset_index(drop=True)
