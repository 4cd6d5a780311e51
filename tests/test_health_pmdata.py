"""PMData: the long table, time zones, missing markers, and Health-LLM's windows checked by hand at their edges."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import datasets
import pytest

from hub.core.errors import DatasetLayoutError, FormatError
from hub.core.registry import HealthTask, get_benchmark
from hub.export import export_benchmark
from hub.scoring.wiring import make_loader
from loaders.health import pmdata
from loaders.health.clock import DST_AMBIGUOUS, DST_GAP, local_to_utc, parse_fitbit_time, zone
from loaders.health.pmdata import build_windows
from loaders.health.pmdata_release import PMDataRelease
from loaders.health.schema import QUALITY_DUPLICATE, QUALITY_MISSING, to_arrow
from loaders.synthetic.health import build_pmdata, rhr_record, sleep_record, write_fitbit
from tests.fixtures.health import EDGE_WINDOW, REPORT, edge_pmdata, pmdata_spec, pmdata_task


def _window(root: Path, item: str = "stress", zone_name: str = "Europe/Oslo") -> dict[str, object]:
    rows = {row["id"]: row for row in pmdata_task(root, "test", "all", item=item, zone=zone_name)}
    return rows[EDGE_WINDOW]


def test_window_edges_by_hand(tmp_path: Path) -> None:
    root = edge_pmdata(tmp_path / "pmdata")
    row = _window(root)
    # in: bouts at 11:59:59 and 11:30 UTC (not 12:00:00, the report's own instant; not the bout without steps)
    assert row["steps"] == [1000.0, 3000.0] and row["calories"] == [100.0, 300.0]
    # in: 450.5 min starting 1 s less than 14 days before; out: the log exactly 14 days before
    assert row["sleep_minutes"] == [450.5]
    # in: the days starting 2020-01-01 23:00 and 2020-01-14 23:00 UTC; out: 14 d 13 h before, and the missing marker
    assert row["resting_hr"] == [51.5, 53.25]
    assert row["label"] == 4.0 and row["label_text"] == "4" and row["mood"] == 2.0
    assert row["report_time_utc"] == "2020-01-15T12:00:00+00:00" and row["effective_time_frame"] == REPORT
    assert row["instruction"] == (
        "You are a personalized healthcare agent trained to predict stress which ranges from 1 to 5 based on "
        "physiological data and user information."
    )
    assert row["question"] == (
        "The recent 14-days sensor readings show: [Steps]: [1000.0, 3000.0] steps, [Burned Calorories]: "
        "[100.0, 300.0] calories, [Resting Heart Rate]: [51.5, 53.25] beats/min, [SleepMinutes]: [450.5] minutes, "
        "[Mood]: 2 out of 5; What would be the predicted stress?"
    )
    assert row["answer"] == "The predicted stress level is 4."


def test_the_declared_zone_decides_which_events_are_before_the_report(tmp_path: Path) -> None:
    root = edge_pmdata(tmp_path / "pmdata")
    # Read as UTC, every bout is at or after 12:00 UTC: the window has no exercise and is dropped.
    loader = pmdata_task(root, "test", "all", item="stress", zone="UTC")
    assert EDGE_WINDOW not in loader.sample_ids()
    assert loader.report.dropped_windows["stress: no exercise bout in the 14 days"] == 1
    # Health-LLM compares the times as written (same as reading them as UTC): p01 is not in its list either.
    windows, candidates = build_windows(PMDataRelease(root), pmdata_spec("stress").task_as(HealthTask))
    assert [w.id for w in windows] == [EDGE_WINDOW] and candidates == []
    with pytest.raises(DatasetLayoutError, match="unknown time zone"):
        pmdata_task(root, "test", "all", item="stress", zone="Europe/Olso")


def test_dst_gap_and_fall_back_are_resolved_and_flagged() -> None:
    oslo = zone("Europe/Oslo")
    summer = local_to_utc(datetime(2020, 4, 1, 0, 0), oslo)
    assert summer.utc == datetime(2020, 3, 31, 22, 0, tzinfo=UTC) and summer.dst == ""
    gap = local_to_utc(datetime(2020, 3, 29, 2, 30), oslo)  # clocks jump 02:00 -> 03:00: read with +01:00
    assert gap.utc == datetime(2020, 3, 29, 1, 30, tzinfo=UTC) and gap.dst == DST_GAP
    first = local_to_utc(datetime(2019, 10, 27, 2, 30), oslo)  # 02:00-03:00 happens twice
    second = local_to_utc(datetime(2019, 10, 27, 2, 30), oslo, second_occurrence=True)
    assert first.utc == datetime(2019, 10, 27, 0, 30, tzinfo=UTC) and first.dst == DST_AMBIGUOUS
    assert second.utc == datetime(2019, 10, 27, 1, 30, tzinfo=UTC)


def test_the_three_fitbit_time_formats_and_nothing_else() -> None:
    expected = datetime(2020, 1, 15, 12, 59, 59)
    assert parse_fitbit_time("2020-01-15 12:59:59") == expected
    assert parse_fitbit_time("2020-01-15T12:59:59") == expected
    assert parse_fitbit_time("2020-01-15T12:59:59.000") == expected
    assert parse_fitbit_time("01/15/20 12:59:59") == expected
    for bad in ("15/01/2020 12:59:59", "2020-01-15", "2020-01-15T12:59:59Z", 1579089599, None):
        assert parse_fitbit_time(bad) is None


def test_a_bad_time_names_file_and_record(tmp_path: Path) -> None:
    root = edge_pmdata(tmp_path / "pmdata")
    write_fitbit(
        root,
        "p01",
        "resting_heart_rate.json",
        [rhr_record("2020-01-02", 50.0), {**rhr_record("2020-01-03", 50.0), "dateTime": "2 Jan"}],
    )
    with pytest.raises(FormatError, match=r"resting_heart_rate.json: record 1: dateTime '2 Jan' is not"):
        pmdata_task(root, "test", "all", item="stress").sample_ids()


def test_missing_markers_and_a_missing_file_are_counted_not_fatal(tmp_path: Path) -> None:
    root = edge_pmdata(tmp_path / "pmdata")
    loader = pmdata_task(root, "test", "all", item="stress")
    assert loader.sample_ids() == [EDGE_WINDOW]  # p02 has no resting heart rate: its window is dropped
    report = loader.report.as_dict()
    assert report["missing_files"] == ["p02/fitbit/resting_heart_rate.json"]
    assert report["missing_values"] == {"p01/fitbit/resting_heart_rate.json": 1}
    assert report["dropped_windows"] == {"stress: no resting heart rate in the 14 days": 1}
    assert report["skipped_records"] == {"p01/fitbit/exercise.json: bout without steps or calories": 1}
    marker = [o for o in PMDataRelease(root).observations("p01", "fitbit/resting_heart_rate.json") if not o.usable]
    assert [(o.local_time, o.quality) for o in marker] == [("2020-01-10 00:00:00", QUALITY_MISSING)]


def test_blank_labels_are_dropped_but_readiness_zero_is_a_level(tmp_path: Path) -> None:
    root = edge_pmdata(tmp_path / "pmdata")
    # p01's report has readiness 0 with the other items filled: a real level on the 0-10 scale, kept
    assert _window(root, "readiness")["label"] == 0.0
    build_pmdata(tmp_path / "synthetic")  # p03 sent one all-zero (blank) report
    for item in ("stress", "readiness"):
        loader = pmdata_task(tmp_path / "synthetic", "test", "all", item=item)
        dropped = loader.report.dropped_windows
        assert sum(n for reason, n in dropped.items() if "blank" in reason) == 1, dropped


def test_long_table_counts_duplicates_and_gaps(tmp_path: Path) -> None:
    root = edge_pmdata(tmp_path / "pmdata")
    minutes = ["2020-01-14 10:00:00", "2020-01-14 10:01:00", "2020-01-14 10:01:00", "2020-01-14 10:04:00"]
    write_fitbit(root, "p01", "steps.json", [{"dateTime": t, "value": "12"} for t in minutes])
    release = PMDataRelease(root)
    table = release.long_table(sources=("fitbit/steps.json", "fitbit/resting_heart_rate.json"))
    steps = [o for o in table if o.source == "fitbit/steps.json"]
    assert [o.quality for o in steps].count(QUALITY_DUPLICATE) == 1 and steps[0].value == 12.0
    assert release.report.duplicates["p01/fitbit/steps.json"] == 1
    assert release.report.gaps["p01/fitbit/steps.json"] == 2  # 10:02 and 10:03 absent
    # days written: 01-01, 01-02, 01-10 (a missing marker, counted apart), 01-15: 7 + 4 days absent
    assert release.report.gaps["p01/fitbit/resting_heart_rate.json"] == 11
    arrow = to_arrow(table)
    assert arrow.num_rows == len(table) and str(arrow.schema.field("time_utc").type) == "timestamp[us, tz=UTC]"
    wellness = [o for o in table if o.source == "pmsys/wellness.csv" and o.participant == "p01"]
    assert {o.modality: o.value for o in wellness}["stress"] == 4.0 and wellness[0].zone == "UTC"


def test_a_record_written_twice_is_listed_once_a_declared_deviation(tmp_path: Path) -> None:
    root = edge_pmdata(tmp_path / "pmdata")
    log = sleep_record("2020-01-01T13:00:01.000", 450.5)
    # as in p01's sleep.json: the same log (same logId and start) twice, the copies differing in a 30-day average
    copy = {**log, "levels": {"summary": {"deep": {"minutes": 44, "thirtyDayAvgMinutes": 40}}}}
    write_fitbit(root, "p01", "sleep.json", [sleep_record("2020-01-01T13:00:00.000", 420), log, copy])
    loader = pmdata_task(root, "test", "all", item="stress")
    row = next(r for r in loader if r["id"] == EDGE_WINDOW)
    # Health-LLM, which lists every record of the file, would print [450.5, 450.5]
    assert row["sleep_minutes"] == [450.5] and "[SleepMinutes]: [450.5] minutes" in row["question"]
    assert loader.report.duplicates == {"p01/fitbit/sleep.json": 1}
    # declared with the other two deviations: the benchmarks' description, the loader's docstring, the README
    assert "three declared deviations" in get_benchmark("pmdata-stress").description
    assert "record written twice in its file" in get_benchmark("pmdata-stress").description
    assert "(3) a record written twice in a Fitbit file is listed once" in " ".join(str(pmdata.__doc__).split())
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "a Fitbit record written twice in its file is used once" in " ".join(readme.split())


def test_no_participants_is_a_layout_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetLayoutError, match="no participant folders"):
        pmdata_task(tmp_path / "empty", "test", item="stress").sample_ids()


def test_export_loads_back_exactly(tmp_path: Path) -> None:
    root = tmp_path / "synthetic"
    build_pmdata(root)
    spec = get_benchmark("pmdata-fatigue")
    export_benchmark(spec, root, tmp_path / "export", configs=["participant"])
    card = (tmp_path / "export" / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in card and "CC-BY-4.0" in card
    for split in ("test", "train"):
        loaded = datasets.load_dataset(
            str(tmp_path / "export"), "participant", split=split, cache_dir=str(tmp_path / f"cache-{split}")
        )
        rows = list(make_loader(spec, root, split, "participant"))
        assert loaded.to_list() == rows
    assert json.loads((root / "MOBENCH_SYNTHETIC.json").read_text(encoding="utf-8"))["synthetic"] is True
