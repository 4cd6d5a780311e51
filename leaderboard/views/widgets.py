"""Pieces every page uses: links with query parameters, CSV/Parquet downloads, the synthetic banner, citations."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from hub.core.registry import BenchmarkSpec

SYNTHETIC_WARNING = (
    "SYNTHETIC demo data: this benchmark is registered with mobench's generated mini data in the official "
    "format, not the official release. Its numbers say nothing about real models."
)


def link(**params: str) -> str:
    """A relative URL to a view of this app: every view has one (`?page=benchmark&benchmark=sintel-final`)."""
    return "?" + urlencode({k: v for k, v in params.items() if v})


def parquet_bytes(table: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    return buffer.getvalue()


def downloads(table: pd.DataFrame, name: str) -> None:
    """CSV and Parquet of exactly the rows and columns shown."""
    left, right = st.columns(2)
    left.download_button(
        "Download CSV", table.to_csv(index=False), file_name=f"{name}.csv", mime="text/csv", key=f"csv-{name}"
    )
    right.download_button(
        "Download Parquet",
        parquet_bytes(table),
        file_name=f"{name}.parquet",
        mime="application/vnd.apache.parquet",
        key=f"parquet-{name}",
    )


def synthetic_banner() -> None:
    st.warning(SYNTHETIC_WARNING)


def cite_box(spec: BenchmarkSpec) -> None:
    with st.expander("Cite this benchmark"):
        st.code(spec.citation.strip(), language="bibtex")
        st.caption(f"Licence: {spec.license.id} ({spec.license.url}). {spec.license.note}")


def query_param(name: str) -> str | None:
    value = st.query_params.get(name)
    return str(value) if value else None
