"""The mobench leaderboard (Streamlit): per benchmark and device, quality against on-device cost.

Four views, each with a stable URL through query parameters: home (`?page=home`), a benchmark
(`?page=benchmark&benchmark=sintel-final`), devices (`?page=devices&device=...&model=...`) and one submission
(`?page=submission&submission=<id>`). Reads the store through short-lived read-only connections (see hub.store),
so the worker can keep writing; the page never writes. Start it with `mobench serve` (or `streamlit run
leaderboard/app.py` with MOBENCH_DB set).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hub.core.errors import MobenchError
from hub.core.paths import default_store
from hub.core.registry import BenchmarkSpec, load_registry
from leaderboard import cache
from leaderboard.views import benchmark, devices, home, submission
from leaderboard.views.widgets import query_param

PAGES = {"home": "Home", "benchmark": "Benchmark", "devices": "Devices", "submission": "Submission"}


def main() -> None:
    st.set_page_config(page_title="mobench leaderboard", layout="wide")
    st.title("mobench leaderboard")
    db = default_store()
    try:
        overview = cache.benchmark_overview(db)
    except MobenchError as exc:
        st.error(str(exc))
        return
    registry = load_registry()
    wanted = query_param("page") or ("benchmark" if query_param("benchmark") else "home")
    pages = list(PAGES)
    page = st.sidebar.radio(
        "Page", pages, index=pages.index(wanted) if wanted in pages else 0, format_func=PAGES.__getitem__
    )
    st.query_params["page"] = page
    if overview.empty:
        st.info("No benchmark is registered in this store yet: run `mobench demo` or `mobench register`.")
    if page == "home":
        home.render(db, registry, overview)
    elif page == "devices":
        devices.render(db)
    elif page == "submission":
        _submission_page(db)
    else:
        _benchmark_page(db, registry, overview)


def _benchmark_page(db: str, registry: dict[str, BenchmarkSpec], overview: pd.DataFrame) -> None:
    registered = [b for b in overview["id"] if b in registry]
    ids = registered + [b for b in registry if b not in registered]
    wanted = query_param("benchmark")
    bench_id = st.sidebar.selectbox(
        "Benchmark",
        ids,
        index=ids.index(wanted) if wanted in ids else 0,
        format_func=lambda b: f"{registry[b].title} ({b})" + ("" if b in registered else " · reported results only"),
    )
    st.query_params["benchmark"] = bench_id
    synthetic = bool(overview.set_index("id")["synthetic"].get(bench_id, False))
    benchmark.render(db, registry[bench_id], synthetic)


def _submission_page(db: str) -> None:
    chosen = query_param("submission")
    typed = st.sidebar.text_input("Submission id", value=chosen or "", key="submission_id").strip()
    if not typed:
        st.info("Open a submission from a benchmark page, or paste its id in the sidebar.")
        return
    st.query_params["submission"] = typed
    submission.render(db, typed)


main()
