"""The leaderboard's table rules on hand-made rows: Pareto front, overlapping intervals, filters, reference rows,
rank intervals and the metrics' ± text."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from hub.core.references import FLAG, ReferenceResult
from hub.core.registry import get_benchmark
from leaderboard import board, filters, queries
from leaderboard.filters import Filters
from leaderboard.pareto import front_sql, mean_interval, overlapping
from tests.fixtures.scored_rows import HIGHER, Scored, store_with_rows

NAN = math.nan


def pareto_front(
    quality: list[float], cost: list[float], *, higher_is_better: bool, groups: list[str] | None = None
) -> list[bool]:
    """`front_sql` (the store's Pareto query) run on a hand-made table."""
    frame = pd.DataFrame(
        {"submission": [f"s{i}" for i in range(len(quality))], "q": quality, "c": cost, "g": groups or [""] * len(cost)}
    )
    sql = front_sql("SELECT * FROM frame", "q", "c", ["g"] if groups else [], higher_is_better=higher_is_better)
    with duckdb.connect() as con:
        con.register("frame", frame)
        on = {row[0] for row in con.execute(sql).fetchall()}
    return [f"s{i}" in on for i in range(len(quality))]


def test_pareto_front_by_hand() -> None:
    # quality (higher better), cost: A (0.9, 10) B (0.8, 5) C (0.7, 6: worse and dearer than B) D (0.9, 12: as good as
    # A but dearer) E (0.95, NaN cost: never on the front) F (0.5, 1: cheapest)
    quality = [0.9, 0.8, 0.7, 0.9, 0.95, 0.5]
    cost = [10.0, 5.0, 6.0, 12.0, NAN, 1.0]
    assert pareto_front(quality, cost, higher_is_better=True) == [True, True, False, False, False, True]
    # lower is better: the same numbers read as errors -> F (0.5 at cost 1) dominates everything dearer
    assert pareto_front(quality, cost, higher_is_better=False) == [False, False, False, False, False, True]


def test_pareto_front_keeps_exact_ties_and_is_taken_per_group() -> None:
    # two identical results dominate neither each other: both stay on the front
    assert pareto_front([0.5, 0.5], [2.0, 2.0], higher_is_better=True) == [True, True]
    # equal quality at a higher cost is dominated
    assert pareto_front([0.5, 0.5], [1.0, 2.0], higher_is_better=True) == [True, False]
    # one front per scope: the dearer, worse point is on its own scope's front
    assert pareto_front([0.9, 0.5], [1.0, 2.0], higher_is_better=True, groups=["process", "device"]) == [True, True]


def test_overlapping_intervals_and_the_mean_interval() -> None:
    assert overlapping([1.0, 2.5, 4.0, NAN], [3.0, 3.5, 5.0, NAN]) == [[1], [0], [], []]
    low, high = mean_interval(10.0, 2.0, 16)
    assert low == pytest.approx(10 - 1.96 * 2 / 4) and high == pytest.approx(10 + 1.96 * 2 / 4)
    assert mean_interval(10.0, 2.0, 1) == (None, None)  # one repetition has no interval
    assert mean_interval(NAN, 2.0, 16) == (None, None)


def _ranking() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rank": pd.array([1, 1, 3], dtype="Int64"),
            "tied": [True, True, False],
            "submission": ["a", "b", "c"],
            "model": ["m1", "m2", "m3"],
            "params": pd.array([1_000_000, None, 5_000_000], dtype="Int64"),
            "device": ["Pixel 8", "host CPU", "Pixel 8"],
            "soc": ["Tensor G3", "EPYC", "Tensor G3"],
            "runtime": ["tflite", "opencv", "onnxruntime"],
            "precision": ["int8", "fp32", "fp16"],
            "synthetic": [False, True, False],
            "epe": [1.0, 1.0, 2.0],
            "latency_p50_s": [0.010, 0.020, NAN],
            "latency_p90_s": [0.012, 0.025, NAN],
            "latency_mean_s": [0.010, 0.021, NAN],
            "latency_std_s": [0.002, 0.001, NAN],
            "latency_n": [100, 100, None],
            "provenance": [filters.SELF_REPORTED, filters.MEASURED, filters.NO_MEASUREMENTS],
            "peak_memory_b": [2e8, NAN, 3e8],
        }
    )


def test_submission_rows_units_and_intervals() -> None:
    rows = board.submission_rows(_ranking())
    assert rows["latency_p50_ms"].tolist()[:2] == pytest.approx([10.0, 20.0])
    assert math.isnan(rows["latency_p50_ms"].iloc[2]) and math.isnan(rows["peak_memory_mb"].iloc[1])
    assert rows["latency_ci_low_ms"].iloc[0] == pytest.approx(10 - 1.96 * 2 / 10)


def test_filters() -> None:
    rows = board.submission_rows(_ranking())
    assert list(filters.apply(rows, Filters())["model"]) == ["m1", "m2", "m3"]
    assert list(filters.apply(rows, Filters(devices=["Pixel 8"]))["model"]) == ["m1", "m3"]
    assert list(filters.apply(rows, Filters(precisions=["int8", "fp16"]))["model"]) == ["m1", "m3"]
    # a parameter range drops the row whose size is unknown
    assert list(filters.apply(rows, Filters(params=(0, 2e6)))["model"]) == ["m1"]
    assert list(filters.apply(rows, Filters(synthetic=False))["model"]) == ["m1", "m3"]
    assert list(filters.apply(rows, Filters(provenances=[filters.MEASURED]))["model"]) == ["m2"]


def test_chart_points_mark_the_front_and_indistinguishable_latencies() -> None:
    rows = board.submission_rows(_ranking())
    shown, front = rows.iloc[1:], rows.iloc[:1]  # the table shows m2, m3; the front (over all rows) is m1
    marked = board.chart_points(shown, front, "latency_mean_ms")
    assert list(marked["model"]) == ["m2", "m3", "m1"] and list(marked["pareto"]) == [False, False, True]
    # m1: 10 ± 0.39 ms, m2: 21 ± 0.20 ms: far apart
    assert list(marked["not_distinguishable_from"]) == ["", "", ""]
    rows.loc[1, "latency_ci_low_ms"] = 10.2
    marked = board.chart_points(rows, front, "latency_mean_ms")  # a front row that is shown is drawn once
    assert list(marked["model"]) == ["m1", "m2", "m3"]
    assert marked["not_distinguishable_from"].tolist()[:2] == ["m2", "m1"]


def test_reference_rows_are_unranked_flagged_and_sourced() -> None:
    spec = get_benchmark("sintel-clean")
    ref = ReferenceResult.model_validate(
        {
            "benchmark": "sintel-clean",
            "split": "test",
            "config": "default",
            "model": {"name": "FastFlowNet", "params": 1370000},
            "metrics": {"epe": 4.89},
            "device": {"name": "NVIDIA Jetson TX2"},
            "latency_s": 0.0375,
            "citation": "Kong et al. ICRA 2021",
            "url": "https://example.org/readme",
            "where": "README table",
            "quote": "FastFlowNet | 4.89 | 37.5 ms",
        }
    )
    rows = board.reference_rows(spec, [ref])
    row = rows.iloc[0]
    assert pd.isna(row["rank"]) and row["flag"] == FLAG and row["provenance"] == filters.REPORTED
    assert row["epe"] == 4.89 and math.isnan(row["epe_matched"])  # what the source does not give stays missing
    assert row["reported_latency_ms"] == pytest.approx(37.5) and row["quote"] == "FastFlowNet | 4.89 | 37.5 ms"
    # a runtime filter keeps only rows that have that runtime: a reference row has none
    assert filters.apply(rows, Filters(runtimes=["tflite"])).empty


def test_rank_intervals_by_hand(tmp_path: Path) -> None:
    spec = get_benchmark("spaq")
    table = queries.ranking(store_with_rows(tmp_path / "s.duckdb", spec, HIGHER), spec)
    assert list(table["model"]) == ["A", "B", "E", "C", "D", "F"] and list(table["rank"]) == [1, 2, 3, 4, 5, 6]
    assert table["rank_best"].tolist() == [1, 1, pd.NA, 3, 3, 5]
    assert table["rank_worst"].tolist() == [3, 3, pd.NA, 5, 5, 6]
    # A ≈ B and C ≈ D; D is told apart from F; next to E (no interval) nothing is claimed, nor after the last row
    assert table["overlaps_next"].tolist() == [True, pd.NA, pd.NA, True, False, pd.NA]
    assert (table["srcc_low"].tolist()[:2], table["plcc_high"].tolist()[:2]) == ([0.85, 0.84], [1.95, 1.92])
    assert math.isnan(table["srcc_low"].iloc[2]) and math.isnan(table["plcc_high"].iloc[2])


def test_rank_intervals_lower_is_better_and_past_the_page(tmp_path: Path) -> None:
    spec = get_benchmark("sintel-clean")  # EPE: lower is better, so an interval's low end is its good end
    rows: Scored = {"A": (1.0, (0.9, 1.1)), "B": (1.2, (1.05, 1.3)), "C": (2.0, (1.8, 2.2)), "D": (2.1, (NAN, NAN))}
    store = store_with_rows(tmp_path / "s.duckdb", spec, rows)
    table = queries.ranking(store, spec)
    # D's interval is undefined (no resample gave a value): no rank interval, and never certainly worse than C
    assert table["rank_best"].tolist() == [1, 1, 3, pd.NA] and table["rank_worst"].tolist() == [3, 3, 4, pd.NA]
    assert table["overlaps_next"].tolist() == [True, False, pd.NA, pd.NA]
    # the page shows the best 2: their rank intervals count every kept row, and B's mark looks at C below the page
    page = queries.benchmark_page(store, spec, Filters(), "latency_mean_s", ("latency_scope",), limit=2)
    shown = page.table
    assert list(shown["model"]) == ["A", "B"] and list(shown["rank_worst"]) == [3, 3]
    assert shown["overlaps_next"].tolist() == [True, False]


def test_the_plus_minus_text_and_the_rank_interval_text() -> None:
    assert board.plus_minus(0.9, 0.85, 0.95) == "0.900 ± 0.050 [0.850, 0.950]"
    # two significant digits of the half-width; an asymmetric interval keeps its own bounds
    assert board.plus_minus(11.793837, 9.7, 14.9) == "11.8 ± 2.6 [9.7, 14.9]"
    assert board.plus_minus(123.4, 100.0, 140.0) == "123 ± 20 [100, 140]"
    assert board.plus_minus(1.0, 1.0, 1.0) == "1 ± 0 [1, 1]"
    assert board.plus_minus(0.5, NAN, NAN) is None  # no interval: nothing, never a made-up ± 0
    best = pd.Series([1, 3, None], dtype="Int64")
    assert board.rank_intervals(best, pd.Series([3, 3, None], dtype="Int64")).tolist() == ["1–3", "3", pd.NA]


def test_table_columns_show_intervals_only_where_there_are_some(tmp_path: Path) -> None:
    spec = get_benchmark("spaq")
    rows = board.submission_rows(queries.ranking(store_with_rows(tmp_path / "s.duckdb", spec, HIGHER), spec))
    columns = board.table_columns(rows, ["srcc", "plcc", "device"])
    assert columns == [*board.LEAD_COLUMNS, "srcc", "srcc ±", "plcc", "plcc ±", "device"]
    assert rows["srcc ±"].tolist()[:3] == ["0.900 ± 0.050 [0.850, 0.950]", "0.880 ± 0.040 [0.840, 0.920]", pd.NA]
    assert rows["rank_interval"].tolist()[:3] == ["1–3", "1–3", pd.NA]
    unbounded = board.submission_rows(
        queries.ranking(store_with_rows(tmp_path / "u.duckdb", spec, {"A": (0.9, None), "B": (0.8, None)}), spec)
    )
    assert board.table_columns(unbounded, ["srcc"]) == ["rank", "tied", "model", "srcc"]
