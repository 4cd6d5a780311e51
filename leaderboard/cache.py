"""The pages' only way to the data: each `leaderboard.queries` function, cached for a few seconds per store.

Streamlit reruns the page on every click; a short time-to-live keeps those reruns from reopening the database
while a fresh result still shows within seconds of the worker scoring it. Keys are the store's path and the
query's arguments, so two stores never share an answer.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from hub.core.registry import get_benchmark
from hub.scoring.bundle import build_bundle, dumps
from hub.store import Store
from leaderboard import queries
from leaderboard.filters import Filters

TTL_S = 5


def _store(db: str) -> Store:
    return Store(db)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def benchmark_overview(db: str) -> pd.DataFrame:
    return queries.benchmark_overview(_store(db))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def benchmark_page(
    db: str, benchmark_id: str, filters: Filters, cost: str, groups: tuple[str, ...]
) -> queries.BenchmarkPage:
    return queries.benchmark_page(_store(db), get_benchmark(benchmark_id), filters, cost, groups)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def all_devices(db: str) -> pd.DataFrame:
    return queries.all_devices(_store(db))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def primary_results(db: str) -> pd.DataFrame:
    return queries.primary_results(_store(db))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def submission(db: str, submission_id: str) -> dict[str, Any] | None:
    return queries.submission(_store(db), submission_id)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def status_history(db: str, submission_id: str) -> pd.DataFrame:
    return queries.status_history(_store(db), submission_id)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def aggregate_scores(db: str, submission_id: str) -> pd.DataFrame:
    return queries.aggregate_scores(_store(db), submission_id)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def breakdowns(db: str, submission_id: str) -> dict[str, pd.DataFrame]:
    store = _store(db)
    return {
        name: queries.breakdown(store, submission_id, name) for name in queries.breakdown_names(store, submission_id)
    }


@st.cache_data(ttl=TTL_S, show_spinner=False)
def sample_scores(db: str, submission_id: str) -> pd.DataFrame:
    return queries.sample_scores(_store(db), submission_id)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def run_details(db: str, submission_id: str) -> dict[str, Any]:
    return queries.run_details(_store(db), submission_id)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def measurements(db: str, submission_id: str) -> pd.DataFrame:
    return queries.measurements(_store(db), submission_id)


def bundle(db: str, submission_id: str) -> str:
    """A submission's result bundle (`hub.scoring.bundle`), as JSON text. Not cached: it is built only when a visitor
    asks for it (it hashes the submission's and the release's files), and then from the files as they are."""
    return dumps(build_bundle(_store(db), submission_id))
