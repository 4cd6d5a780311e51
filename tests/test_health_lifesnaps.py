"""LifeSnaps: CSVs read by column name (a quoted comma must not shift columns), the two tasks built by hand."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from evaluators.health import evaluate
from hub.core.errors import FormatError
from hub.core.registry import get_benchmark
from hub.scoring.wiring import make_request
from loaders.health.lifesnaps import TASKS
from loaders.health.lifesnaps_release import DAILY, PANAS, CsvLayout
from tests.fixtures.health import daily_row, lifesnaps_task, write_lifesnaps


def _daily() -> list[dict[str, object]]:
    return [
        daily_row("u1", "2021-06-01", stress_score=70),
        daily_row("u1", "2021-06-03", stress_score=80, sleep_efficiency=80, minutesAwake=45),  # disorder by rule
        daily_row("u1", "2021-06-08", stress_score=90),  # the survey's own day: not before it
        daily_row("u1", "2021-06-05", spo2=""),  # spo2 missing: no sleep-disorder window; SRI fields complete
        daily_row("u2", "2021-06-02"),
    ]


def _panas() -> list[dict[str, object]]:
    return [
        {
            "user_id": "u1",
            "type": "panas",
            "submitdate": "2021-06-08",
            "positive_affect_score": 30,
            "negative_affect_score": 12,
        },
        {
            "user_id": "u2",
            "type": "panas",
            "submitdate": "2021-07-30",
            "positive_affect_score": 20,
            "negative_affect_score": 20,
        },
    ]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_lifesnaps(tmp_path / "lifesnaps", _daily(), _panas())


def test_stress_resilience_window_by_hand(root: Path) -> None:
    rows = {r["id"]: r for r in lifesnaps_task(root, "test", "all", task="stress_resilience")}
    u1 = rows["lifesnaps/u1/2021-06-08"]
    # days in (06-01, 06-08): 06-03 and 06-05 (06-01 is exactly 7 days before: out; 06-08 is the survey day: out)
    assert u1["stress_score"] == [80.0, 78.0] and u1["label"] == 2.5 and u1["answer"] == "2.50"
    assert u1["question"].startswith(
        "Given the following 7-days averaged data, predict the Stress Resilience Index (SRI) between 0.2 and 5. "
        "[Stress Score]: [80.0, 78.0] out of 100, [Positive Affect Score]: 30 out of 50, [Negative Affect Score]: "
        "12 out of 50, [Lightly Active Minutes]: [200.0, 200.0],"
    )
    # u2 has no daily row in its 7 days: kept with Health-LLM's [-1] filler, and counted
    assert "[Stress Score]: [-1] out of 100" in rows["lifesnaps/u2/2021-07-30"]["question"]
    loader = lifesnaps_task(root, "test", "all", task="stress_resilience")
    assert sum(loader.report.dropped_windows.values()) == 1


def test_sleep_disorder_and_its_leak_free_variant(root: Path) -> None:
    plain = {r["id"]: r for r in lifesnaps_task(root, "test", "all", task="sleep_disorder")}
    assert sorted(plain) == [
        "lifesnaps/u1/2021-06-01",
        "lifesnaps/u1/2021-06-03",
        "lifesnaps/u1/2021-06-08",
        "lifesnaps/u2/2021-06-02",
    ]
    assert plain["lifesnaps/u1/2021-06-03"]["label"] == 1.0 and plain["lifesnaps/u1/2021-06-01"]["label"] == 0.0
    assert plain["lifesnaps/u1/2021-06-03"]["question"] == (
        "Given the following data, predict whether there exists sleep disorder (1) or not (0). [Sleep Duration]: "
        "7.00 hours, [Minutes Awake]: 45.0 minutes, [Sleep Efficiency]: 80.0, [Sleep Deep Ratio]: 0.15, [Sleep Wake "
        "Ratio]: 0.10, [Sleep Light Ratio]: 0.55, [Sleep REM Ratio]: 0.20, [RMSSD]: 40.50, [SPO2]: 96.1 %, [Full "
        "Sleep Breathing Rate]: 14.2, [BPM]: 70.25, [Resting Hour]: 60.50 hours"
    )
    leakfree = {r["id"]: r for r in lifesnaps_task(root, "test", "all", task="sleep_disorder_leakfree")}
    assert list(leakfree) == list(plain)
    row = leakfree["lifesnaps/u1/2021-06-03"]
    assert "minutesAwake" not in row and "sleep_efficiency" not in row
    assert "Minutes Awake" not in row["question"] and "Sleep Efficiency" not in row["question"]


def test_participant_split_and_scoring(root: Path, tmp_path: Path) -> None:
    test = lifesnaps_task(root, "test", "participant", task="sleep_disorder").sample_ids()
    train = lifesnaps_task(root, "train", "participant", task="sleep_disorder").sample_ids()
    assert {w.split("/")[1] for w in test}.isdisjoint({w.split("/")[1] for w in train})
    rows = list(lifesnaps_task(root, "test", "all", task="sleep_disorder"))
    preds = tmp_path / "p.csv"
    preds.write_text("window_id,prediction\n" + "".join(f"{r['id']},0\n" for r in rows), encoding="utf-8")
    spec = get_benchmark("lifesnaps-sleep-disorder")
    result = evaluate(make_request(spec, root, preds, "test", "all"))
    # labels 0, 1, 0, 0; all predicted 0: accuracy 3/4; F1 class 0 = 6/7, class 1 = 0 -> macro 3/7
    assert result.metrics["accuracy"] == 75.0 and result.metrics["macro_f1"] == pytest.approx(100 * 3 / 7)


def _header(path: Path) -> str:
    return path.read_text(encoding="utf-8").splitlines()[0]


def test_the_official_layout_and_a_reexport_give_the_same_windows(tmp_path: Path) -> None:
    official = write_lifesnaps(tmp_path / "official", _daily(), _panas())
    reexport = write_lifesnaps(tmp_path / "reexport", _daily(), _panas(), reexport=True)
    # as written: the official daily table starts with pandas' unnamed index column, its surveys say user_id; the
    # re-export has no index column and says id in both files
    assert _header(official / DAILY).startswith(",id,date,") and _header(reexport / DAILY).startswith("id,date,")
    assert _header(official / PANAS).startswith(",user_id,type,") and _header(reexport / PANAS).startswith("id,type,")
    for task in TASKS:
        first = lifesnaps_task(official, "test", "all", task=task)
        second = lifesnaps_task(reexport, "test", "all", task=task)
        assert list(first) == list(second) and len(first) >= 2
    assert first.release.layouts == {DAILY: CsvLayout("id", True), PANAS: CsvLayout("user_id", True)}
    assert second.release.layouts == {DAILY: CsvLayout("id", False), PANAS: CsvLayout("id", False)}


def test_a_pandas_round_trip_index_name_is_read_as_the_index(tmp_path: Path) -> None:
    root = write_lifesnaps(tmp_path / "lifesnaps", _daily(), _panas())
    daily = root / DAILY
    daily.write_text("Unnamed: 0" + daily.read_text(encoding="utf-8"), encoding="utf-8")
    loader = lifesnaps_task(root, "test", "all", task="sleep_disorder")
    assert len(loader) == 4 and loader.release.layouts[DAILY] == CsvLayout("id", True)


@pytest.mark.parametrize(
    ("relative", "edit", "problem"),
    [
        (PANAS, lambda h: h.replace("user_id", "user"), "no participant column: the header has neither `user_id`"),
        (PANAS, lambda h: h.replace(",type,", ",id,"), "both `user_id` and `id` columns"),
        (DAILY, lambda h: h.replace(",rmssd,", ",,"), "column 6 has no name ('')"),
        (DAILY, lambda h: h.replace(",rmssd,", ",date,"), "column 'date' appears twice (columns 3 and 6)"),
        (DAILY, lambda h: h.replace(",spo2,", ",sp02,"), "header lacks column(s) spo2"),
        # the index column's empty name lost from the header while the rows keep their index values: every value
        # would sit under the next column's name
        (DAILY, lambda h: h[1:], "line 2: 22 fields, but the header names 21 columns"),
    ],
)
def test_an_unknown_layout_is_refused_naming_file_and_column(
    tmp_path: Path, relative: str, edit: Callable[[str], str], problem: str
) -> None:
    root = write_lifesnaps(tmp_path / "lifesnaps", _daily(), _panas())
    header, rest = (root / relative).read_text(encoding="utf-8").split("\n", 1)
    (root / relative).write_text(edit(header) + "\n" + rest, encoding="utf-8")
    with pytest.raises(FormatError) as caught:
        lifesnaps_task(root, "test", "all", task="stress_resilience").sample_ids()
    assert caught.value.path == root / relative and caught.value.problem.startswith(problem)
