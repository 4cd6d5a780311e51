"""The submission page: manifest, status history, every metric, breakdowns, per-sample scores, measurements, and
the result bundle to download (`hub.scoring.bundle`) that lets anyone check those scores with `mobench verify`."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from hub.core.registry import BenchmarkSpec, load_registry
from hub.core.training_data import NONE, Badge, read_declaration
from hub.scoring.bundle import bundle_file_name
from leaderboard import cache, charts
from leaderboard.views.widgets import downloads, link, synthetic_banner


def render(db: str, submission_id: str) -> None:
    row = cache.submission(db, submission_id)
    if row is None:
        st.error(f"No submission {submission_id!r} in this store.")
        return
    spec = load_registry().get(str(row["benchmark_id"]))
    st.header(f"{row['model']} {row['model_version']} on {row['benchmark_id']}")
    if row["synthetic"]:
        synthetic_banner()
    st.markdown(
        f"Status **{row['status']}**"
        + (f": {row['reason']}" if row["reason"] else "")
        + f" · device {row['device']} ({row['soc'] or 'SoC not given'}) · {row['runtime']} · {row['precision']}"
        + f" · split {row['config']}/{row['split']} · {'baseline' if row['baseline'] else 'submission'}"
        + f" · [benchmark page]({link(page='benchmark', benchmark=str(row['benchmark_id']))})"
    )
    st.caption(
        f"Submission id (sha256 of its content): {row['id']} · worker {row['worker_id'] or '—'} · last heartbeat "
        f"{row['heartbeat_at'] if pd.notna(row['heartbeat_at']) else '—'} · attempts {row['attempts']}"
    )
    _training_data(row, spec)
    if pd.notna(row["n_samples"]):  # written with the scores: a bundle needs them
        st.download_button(
            "Download the result bundle",
            data=lambda: cache.bundle(db, submission_id),
            file_name=bundle_file_name(submission_id),
            mime="application/json",
            key="bundle",
        )
        st.caption(
            "One JSON file: the manifest, sha256 of the submission's files and of the ground truth, every score. "
            "Check it against the submission and the official release with "
            "`mobench verify BUNDLE --root RELEASE --submission SUBMISSION`."
        )
    if row["log_excerpt"]:
        with st.expander("Log excerpt (end of the failure's traceback)"):
            st.code(str(row["log_excerpt"]))
    left, right = st.columns(2)
    with left:
        st.markdown("**Status history**")
        history = cache.status_history(db, submission_id)
        st.dataframe(history, hide_index=True, width="stretch")
    with right:
        st.markdown("**All metrics**")
        metrics = cache.aggregate_scores(db, submission_id)
        st.dataframe(metrics, hide_index=True, width="stretch")
        st.caption(_resampling(row["resampling"]))
        if not metrics.empty:
            downloads(metrics, f"{submission_id[:12]}-metrics")
    with st.expander("Manifest"):
        st.json(row["manifest"])

    primary = spec.primary_metric if spec else None
    for name, frame in cache.breakdowns(db, submission_id).items():
        st.markdown(f"**Per {name}**")
        st.dataframe(frame, hide_index=True, width="stretch")
        downloads(frame, f"{submission_id[:12]}-{name}")
        metric = primary if primary in frame.columns else _first_metric(frame, name)
        if metric is not None and frame[metric].notna().any():
            st.altair_chart(charts.breakdown_bars(frame, name, metric), width="stretch")

    st.markdown("**Per-sample scores, worst first**")
    samples = _worst_first(cache.sample_scores(db, submission_id), spec)
    st.dataframe(samples, hide_index=True, width="stretch")
    if not samples.empty:
        downloads(samples, f"{submission_id[:12]}-samples")
    st.caption("Scores only: no ground truth is stored or shown, so hidden test labels never leave the hub.")

    st.markdown("**Measurement records**")
    records = cache.measurements(db, submission_id)
    if records.empty:
        st.info("No latency, memory or energy record came with this submission.")
    else:
        st.dataframe(records, hide_index=True, width="stretch")
        downloads(records, f"{submission_id[:12]}-measurements")
    details = cache.run_details(db, submission_id)
    if details:
        with st.expander("Run details"):
            st.json(details)


def _training_data(row: dict[str, Any], spec: BenchmarkSpec | None) -> None:
    """The badge, and each declared item with what it reads as on this benchmark and why (the detail the
    benchmark page's badge column points to)."""
    badge = Badge(row["training_badge"]) if isinstance(row["training_badge"], str) else Badge.UNDECLARED
    declared = row["training_data"]
    said = {None: "nothing declared", NONE: "declared `none`: fitted on no benchmark's data"}
    st.markdown(
        f"**Training data: {badge.label}**" + (f" ({said[declared]})" if not isinstance(declared, list) else "")
    )
    if isinstance(declared, list) and spec is not None:
        readings = read_declaration(declared, spec, str(row["config"]), str(row["split"]))
        st.dataframe(
            pd.DataFrame([{"declared": r.item, "reads as": r.verdict.value, "why": r.why} for r in readings]),
            hide_index=True,
            width="stretch",
        )


def _resampling(drawn: dict[str, Any] | None) -> str:
    """How the `low`/`high` columns were drawn (`hub.core.bootstrap`), or why there are none."""
    if drawn is None:
        return (
            "No intervals: this submission was scored without resampling (before intervals existed, or by an "
            "evaluator that does not resample yet)."
        )
    return (
        f"low, high: the {drawn['level']:.0%} percentile bootstrap interval of each metric over "
        f"{drawn['resamples']:,} resamples of its {drawn['n_units']:,} {drawn['unit']}s (the unit the official "
        f"protocol pools), seed {drawn['seed']}: every submission scored on the same {drawn['unit']}s gets the same "
        "draws, and `mobench verify` redraws them."
    )


def _first_metric(frame: pd.DataFrame, key: str) -> str | None:
    numeric = [c for c in frame.columns if c != key and pd.api.types.is_numeric_dtype(frame[c])]
    return numeric[0] if numeric else None


# Per-sample scores that are not registry metrics, and whether a higher value is better.
_SAMPLE_SCORES = {"abs_error": False, "correct": True, "document_correct": True}


def _worst_first(samples: pd.DataFrame, spec: BenchmarkSpec | None) -> pd.DataFrame:
    """Sorted by the per-sample score closest to the primary metric, worst end first (missing values first)."""
    if samples.empty or spec is None:
        return samples
    order = {m.name: m.higher_is_better for m in [spec.primary, *spec.metrics]} | _SAMPLE_SCORES
    for name, higher_is_better in order.items():
        if name in samples.columns:
            return samples.sort_values(name, ascending=higher_is_better, na_position="first")
    return samples
