"""The home page: every benchmark as a card, searchable by name, and the devices that appear."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from hub.core.references import references_for
from hub.core.registry import BenchmarkSpec
from hub.results_dataset import published_repo
from leaderboard import cache
from leaderboard.views.widgets import link, synthetic_banner


def render(db: str, registry: dict[str, BenchmarkSpec], overview: pd.DataFrame) -> None:
    st.caption("Official metrics next to on-device cost. Baselines are simple reference algorithms, marked as such.")
    st.caption(_results_dataset())
    if overview["synthetic"].any():
        synthetic_banner()
    search = st.text_input("Search benchmarks", placeholder="name, id or family", key="search").strip().lower()
    registered = {str(r["id"]): r for _, r in overview.iterrows()}
    cards = [spec for spec in registry.values() if not search or search in _haystack(spec)]
    if not cards:
        st.info(f"No benchmark matches {search!r}.")
    for start in range(0, len(cards), 3):
        for column, spec in zip(st.columns(3), cards[start : start + 3], strict=False):
            with column.container(border=True):
                _card(spec, registered.get(spec.id))
    devices = cache.all_devices(db)
    st.subheader("Devices")
    if devices.empty:
        st.info("No device yet: results appear here once a submission is scored.")
    else:
        st.dataframe(devices, hide_index=True, width="stretch")
        st.markdown(f"[Compare devices]({link(page='devices')})")


def _results_dataset() -> str:
    """Where a visitor takes every published result away as a dataset (`hub.results_dataset`)."""
    repo = published_repo()
    where = f"on the Hugging Face Hub as [{repo}](https://huggingface.co/datasets/{repo}), or " if repo else ""
    return (
        f"All published results as a dataset: {where}from this hub's store with `mobench results export --out DIR` "
        '(`contents`, one row per submission, and per-sample `details`; `datasets.load_dataset(DIR, "contents")`).'
    )


def _haystack(spec: BenchmarkSpec) -> str:
    return f"{spec.id} {spec.title} {spec.family}".lower()


def _card(spec: BenchmarkSpec, row: pd.Series | None) -> None:
    primary = spec.primary
    arrow = "↑" if primary.higher_is_better else "↓"
    st.markdown(f"**{spec.title}**  \n`{spec.id}` · {spec.family}")
    st.markdown(f"primary metric **{primary.name}** {arrow}{' (' + primary.unit + ')' if primary.unit else ''}")
    n_refs = len(references_for(spec.id))
    if row is None:
        st.caption(f"not registered in this hub · {n_refs} reported result(s) from papers")
    else:
        best = row["best"]
        best_text = "—" if best is None or (isinstance(best, float) and math.isnan(best)) else f"{best:.4g}"
        updated = row["last_update"]
        st.markdown(
            f"{int(row['submissions'])} scored submission(s) · best **{best_text}** · "
            f"{int(row['devices'])} device(s)  \nlast update {updated if pd.notna(updated) else '—'}"
            + (" · SYNTHETIC data" if row["synthetic"] else "")
            + f"  \n{n_refs} reported result(s) from papers"
        )
    st.markdown(f"[Open]({link(page='benchmark', benchmark=spec.id)})")
