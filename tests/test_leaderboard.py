"""The Streamlit leaderboard, driven by streamlit's AppTest against the demo's store (every page)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest

from hub.cli.demo import DemoSummary, demo_specs
from hub.core.references import FLAG, references_for
from hub.core.registry import get_benchmark
from hub.store import Store
from tests.fixtures.declared import declare
from tests.fixtures.scored_rows import HIGHER, store_with_rows

APP = str(Path(__file__).resolve().parent.parent / "leaderboard" / "app.py")


def _app(db: Path, monkeypatch: pytest.MonkeyPatch, **params: str) -> AppTest:
    monkeypatch.setenv("MOBENCH_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _frame(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first dataframe on the page that has all of `columns`."""
    for element in at.dataframe:
        if set(columns) <= set(element.value.columns):
            frame: pd.DataFrame = element.value
            return frame
    raise AssertionError(f"no table with columns {columns}")


def _submission_id(db: Path, benchmark: str, model: str) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(
            "SELECT s.id FROM submissions s JOIN models m ON m.id = s.model_id WHERE benchmark_id = ? AND m.name = ?",
            [benchmark, model],
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_home_shows_every_benchmark_as_a_card_and_the_devices(
    demo: DemoSummary, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(demo.db_path, monkeypatch)
    text = " ".join(m.value for m in at.markdown)
    assert "`kitti-2015-flow`" in text and "`mobile-mmlu`" in text
    assert "?page=benchmark&benchmark=sintel-final" in text  # every card links to its page
    assert any("SYNTHETIC" in w.value for w in at.warning)
    assert "host CPU" in " ".join(_frame(at, "device", "soc")["device"])
    at.text_input[0].input("sintel").run()
    text = " ".join(m.value for m in at.markdown)
    assert "`sintel-clean`" in text and "`kitti-2015-flow`" not in text


def test_benchmark_page_ranks_the_demo_baselines(demo: DemoSummary, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(demo.db_path, monkeypatch, page="benchmark", benchmark="kitti-2015-flow")
    ranking = _frame(at, "rank", "model", "fl_all")
    # rank and what the intervals make of it, model, primary metric with its interval first
    assert list(ranking.columns[:7]) == [
        "rank",
        "rank_interval",
        "tied",
        "overlaps_next",
        "model",
        "fl_all",
        "fl_all ±",
    ]
    assert ranking["rank_interval"].notna().all()  # the flow evaluators resample images: every row has one
    assert ranking["fl_all ±"].str.fullmatch(r"[0-9.]+ ± [0-9.]+ \[[0-9.]+, [0-9.]+\]").all()
    assert set(ranking["model"]) == {"opencv-dis-medium", "opencv-farneback"}
    assert list(ranking["rank"]) == [1, 2] and not ranking["tied"].any()
    assert ranking["fl_all"].is_monotonic_increasing  # lower is better
    assert any("SYNTHETIC" in w.value for w in at.warning)
    # no energy sensor here: the energy column is missing, never 0
    assert ranking["energy_per_inference_net_j"].isna().all()
    assert ranking["details"].str.startswith("?page=submission&submission=").all()


def test_the_hd1k_page_ranks_its_baselines_on_the_flow_occ_metrics(
    demo: DemoSummary, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(demo.db_path, monkeypatch, page="benchmark", benchmark="hd1k-flow")
    assert any(h.value == "HD1K optical flow (HCI benchmark suite)" for h in at.header)
    ranking = _frame(at, "rank", "model", "fl_all")
    assert set(ranking["model"]) == {"opencv-dis-medium", "opencv-farneback"} and list(ranking["rank"]) == [1, 2]
    assert ranking["fl_all"].is_monotonic_increasing and not {"fl_bg", "fl_all_noc"} & set(ranking.columns)
    assert any("SYNTHETIC" in w.value for w in at.warning)


def test_filters_change_the_rows(demo: DemoSummary, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(demo.db_path, monkeypatch, page="benchmark", benchmark="sintel-final")
    assert len(_frame(at, "rank", "epe")) == 2
    at.sidebar.toggle(key="f_synthetic").set_value(False).run()
    assert not any("epe" in d.value.columns and "rank" in d.value.columns for d in at.dataframe)
    assert any("No scored submission matches these filters" in i.value for i in at.info)
    at.sidebar.toggle(key="f_synthetic").set_value(True).run()
    at.sidebar.multiselect(key="f_runtime").set_value(["opencv"]).run()
    assert len(_frame(at, "rank", "epe")) == 2
    at.sidebar.multiselect(key="f_provenance").set_value(["self-reported"]).run()
    assert any("No scored submission matches these filters" in i.value for i in at.info)


def test_the_training_data_badge_filters_and_hides_declared_overlap(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    declare(demo_db, "sintel-final", "opencv-farneback", ["FlyingChairs", "sintel:training"])
    at = _app(demo_db, monkeypatch, page="benchmark", benchmark="sintel-final")
    ranking = _frame(at, "rank", "epe", "training_data")
    badges = dict(zip(ranking["model"], ranking["training_data"], strict=True))
    assert badges == {"opencv-dis-medium": "zero-shot", "opencv-farneback": "declared test overlap"}
    assert any('Rows marked "declared test overlap"' in c.value for c in at.caption)
    at.sidebar.toggle(key="f_hide_contaminated").set_value(True).run()
    assert list(_frame(at, "rank", "epe")["model"]) == ["opencv-dis-medium"]
    assert not any('Rows marked "declared test overlap"' in c.value for c in at.caption)
    at.sidebar.toggle(key="f_hide_contaminated").set_value(False).run()
    at.sidebar.multiselect(key="f_training").set_value(["declared test overlap"]).run()
    assert list(_frame(at, "rank", "epe")["model"]) == ["opencv-farneback"]
    at.sidebar.multiselect(key="f_training").set_value(["trained on its training split", "undeclared"]).run()
    assert any("No scored submission matches these filters" in i.value for i in at.info)
    # the reported rows declare nothing: a badge filter leaves none, the toggle hides none
    assert not any("flag" in d.value.columns for d in at.dataframe)
    at.sidebar.multiselect(key="f_training").set_value([]).run()
    at.sidebar.toggle(key="f_hide_contaminated").set_value(True).run()
    assert len(_frame(at, "flag", "quote")) == len(references_for("sintel-final"))


def test_a_fitted_baseline_shows_as_trained_on_the_training_split(
    demo: DemoSummary, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(demo.db_path, monkeypatch, page="benchmark", benchmark="piq23-overall")
    ranking = _frame(at, "rank", "srcc", "training_data")
    assert list(ranking["training_data"]) == ["trained on its training split"]


def test_column_picker_adds_any_metric(demo: DemoSummary, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(demo.db_path, monkeypatch, page="benchmark", benchmark="sintel-final")
    assert "acc_1px" not in _frame(at, "rank", "epe").columns
    at.multiselect(key="columns").set_value(["acc_1px", "s40_plus"]).run()
    ranking = _frame(at, "rank", "epe")
    assert {"acc_1px", "s40_plus"} <= set(ranking.columns)  # the primary metric stays even when not picked
    assert ranking["s40_plus"].isna().all()  # no pixel that fast in the mini data: missing, not 0


def test_intervals_rank_intervals_and_indistinguishable_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hand-made rows (tests/test_leaderboard_board.py works their rank intervals out by the rule): the page shows
    each one's ± text, its rank interval and the ≈ mark, and nothing for the row scored without intervals."""
    store = store_with_rows(tmp_path / "s.duckdb", get_benchmark("spaq"), HIGHER)
    at = _app(store.path, monkeypatch, page="benchmark", benchmark="spaq")
    ranking = _frame(at, "rank", "rank_interval", "srcc ±")
    assert list(ranking["model"]) == ["A", "B", "E", "C", "D", "F"]
    assert ranking["rank_interval"].fillna("").tolist() == ["1–3", "1–3", "", "3–5", "3–5", "5–6"]
    assert [None if pd.isna(v) else bool(v) for v in ranking["overlaps_next"]] == [True, None, None, True, False, None]
    assert ranking["srcc ±"].iloc[0] == "0.900 ± 0.050 [0.850, 0.950]" and pd.isna(ranking["srcc ±"].iloc[2])
    assert ranking["srcc"].iloc[0] == 0.90  # the exact value keeps its own column
    captions = " ".join(c.value for c in at.caption)
    assert "derived from the primary metric's 95 % intervals" in captions.lower()
    assert "cannot tell this row from those ranked 2 to 5" in captions and "≈ next" in captions
    at.multiselect(key="columns").set_value(["plcc"]).run()  # a picked metric comes with its interval
    assert _frame(at, "rank", "plcc ±")["plcc ±"].iloc[0] == "1.900 ± 0.050 [1.850, 1.950]"


def test_a_page_without_intervals_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = store_with_rows(tmp_path / "s.duckdb", get_benchmark("spaq"), {"A": (0.9, None), "B": (0.8, None)})
    at = _app(store.path, monkeypatch, page="benchmark", benchmark="spaq")
    ranking = _frame(at, "rank", "srcc")
    assert not {"rank_interval", "overlaps_next", "srcc ±"} & set(ranking.columns)  # never an empty or made-up one
    assert any("No row shown has a 95 % interval" in c.value for c in at.caption)
    at = _app(store.path, monkeypatch, page="submission", submission="sub-A")
    assert _frame(at, "metric", "value", "low", "high")["low"].isna().all()
    assert any("No intervals: this submission was scored without resampling" in c.value for c in at.caption)


def test_quality_against_cost_draws_the_quality_intervals(demo: DemoSummary, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(demo.db_path, monkeypatch, page="benchmark", benchmark="kitti-2015-flow")
    layers = json.loads(at.get("vega_lite_chart")[0].proto.spec)["layer"]
    bars = [layer["encoding"] for layer in layers if layer["encoding"]["y"]["field"] == "fl_all_low"]
    assert len(bars) == 1 and bars[0]["y2"]["field"] == "fl_all_high"
    assert "bars: 95 % interval" in bars[0]["y"]["title"]


def test_reported_rows_carry_their_flag_and_source(demo: DemoSummary, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(demo.db_path, monkeypatch, page="benchmark", benchmark="kitti-2015-flow")
    reported = _frame(at, "flag", "quote")
    assert (reported["flag"] == FLAG).all()
    assert len(reported) == len(references_for("kitti-2015-flow"))
    assert reported["citation"].str.len().gt(0).all() and reported["url"].str.startswith("http").all()
    assert "rank" not in reported.columns  # never ranked against the submissions
    at.sidebar.toggle(key="show_reported").set_value(False).run()
    assert not any("flag" in d.value.columns for d in at.dataframe)


def test_quality_against_cost_marks_the_pareto_front(demo: DemoSummary, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(demo.db_path, monkeypatch, page="benchmark", benchmark="kitti-2015-flow")
    captions = " ".join(c.value for c in at.caption)
    assert "Pareto front" in captions
    # the literature's Jetson TX2 timings get their own chart, never the host-CPU process axis
    assert any("reported in papers, on NVIDIA Jetson TX2" in m.value for m in at.markdown)
    at.selectbox(key="cost").select("energy (net)").run()
    assert any("No row has both fl_all and a energy (net) figure" in i.value for i in at.info)


def test_downloads_hold_exactly_the_shown_table(
    demo: DemoSummary, monkeypatch: pytest.MonkeyPatch, captured_downloads: dict[str, Any]
) -> None:
    at = _app(demo.db_path, monkeypatch, page="benchmark", benchmark="sintel-clean")
    shown = _frame(at, "rank", "epe").drop(columns=["details"])
    from_csv = pd.read_csv(io.StringIO(captured_downloads["sintel-clean-ranking.csv"]))
    from_parquet = pd.read_parquet(io.BytesIO(captured_downloads["sintel-clean-ranking.parquet"]))
    assert list(from_csv["model"]) == list(shown["model"]) == list(from_parquet["model"])
    pd.testing.assert_series_equal(from_parquet["epe"], shown["epe"].reset_index(drop=True), check_names=False)
    assert list(from_parquet.columns) == list(shown.columns)


@pytest.fixture
def captured_downloads(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """What every download button on the page would hand the visitor, by file name."""
    captured: dict[str, Any] = {}
    original = DeltaGenerator.download_button

    def record(self: DeltaGenerator, label: str, data: Any, file_name: str | None = None, **kwargs: Any) -> Any:
        captured[str(file_name)] = data
        return original(self, label, data, file_name=file_name, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", record)
    yield captured


def test_submission_page_shows_everything_about_one_run(demo: DemoSummary, monkeypatch: pytest.MonkeyPatch) -> None:
    submission = _submission_id(demo.db_path, "sintel-final", "opencv-dis-medium")
    at = _app(demo.db_path, monkeypatch, page="submission", submission=submission)
    assert list(_frame(at, "state")["state"]) == ["submitted", "validating", "scoring", "published"]
    metrics = _frame(at, "metric", "value", "low", "high")
    epe = metrics[metrics["metric"] == "epe"].iloc[0]
    assert float(epe["low"]) <= float(epe["value"]) <= float(epe["high"])
    assert any("1,000 resamples of its" in c.value and " images (" in c.value for c in at.caption)
    scenes = _frame(at, "scene", "epe")
    assert len(scenes) >= 2
    samples = _frame(at, "sample_id", "epe")
    assert samples["epe"].is_monotonic_decreasing  # worst first (EPE: lower is better)
    records = _frame(at, "metric", "statistic", "provenance", "flags")
    assert set(records["provenance"]) == {"measured-by-mobench"}
    assert records["flags"].str.contains("rss_peak_is_whole_process_lifetime").any()
    assert any("SYNTHETIC" in w.value for w in at.warning)


def test_the_submission_page_reads_each_declared_item(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    submission = declare(demo_db, "sintel-final", "opencv-farneback", ["FlyingChairs", "sintel:training"])
    at = _app(demo_db, monkeypatch, page="submission", submission=submission)
    assert any(m.value == "**Training data: declared test overlap**" for m in at.markdown)
    readings = _frame(at, "declared", "reads as", "why")
    assert list(readings["declared"]) == ["FlyingChairs", "sintel:training"]
    assert list(readings["reads as"]) == ["another dataset", "overlap with its test data"]
    assert "default/training is the split this row is scored on" in readings["why"].iloc[1]
    zero_shot = _submission_id(demo_db, "sintel-final", "opencv-dis-medium")
    at = _app(demo_db, monkeypatch, page="submission", submission=zero_shot)
    assert any("zero-shot** (declared `none`" in m.value for m in at.markdown)


def test_devices_page_best_per_benchmark_and_one_model_across_devices(
    demo: DemoSummary, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(demo.db_path, monkeypatch, page="devices", model="opencv-dis-medium")
    best = _frame(at, "benchmark", "primary_metric", "value")
    assert len(best) == len(demo_specs()) and best["benchmark"].is_unique  # one best row per demo benchmark
    sintel = best.set_index("benchmark").loc["sintel-final"]
    assert sintel["model"] == "opencv-dis-medium"  # EPE: the lower of the two flow baselines
    across = _frame(at, "benchmark", "host CPU (x86_64)")  # benchmark x device
    assert set(across["benchmark"]) == {"kitti-2015-flow", "sintel-clean", "sintel-final", "hd1k-flow"}


def test_empty_states(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Store(tmp_path / "empty.duckdb").init()
    at = _app(tmp_path / "empty.duckdb", monkeypatch)
    assert any("mobench demo" in i.value for i in at.info)
    at = _app(tmp_path / "empty.duckdb", monkeypatch, page="benchmark", benchmark="piq23-overall")
    assert any("No scored submission for this benchmark yet" in i.value for i in at.info)
    assert len(_frame(at, "flag", "quote")) == len(references_for("piq23-overall"))  # the literature still shows
    at = _app(tmp_path / "empty.duckdb", monkeypatch, page="devices")
    assert any("no device" in i.value for i in at.info)
    at = _app(tmp_path / "empty.duckdb", monkeypatch, page="submission", submission="nope")
    assert any("No submission 'nope'" in e.value for e in at.error)


def test_a_link_selects_its_view(demo: DemoSummary, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(demo.db_path, monkeypatch, benchmark="sintel-clean")
    assert at.sidebar.radio[0].value == "benchmark"
    assert at.sidebar.selectbox[0].value == "sintel-clean"
    assert any(h.value == "MPI-Sintel optical flow, clean pass" for h in at.header)
