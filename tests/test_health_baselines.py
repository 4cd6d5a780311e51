"""The PMData baselines on the synthetic mini PMData and on a hand-made history."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hub.core.errors import MobenchError
from hub.core.registry import get_benchmark
from hub.scoring.wiring import make_loader
from loaders.synthetic.health import build_pmdata
from submissions.baselines.health import PMDATA_BASELINES, LastValueBaseline, ParticipantMeanBaseline
from tests.fixtures.health import pmdata_task


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pm") / "mini"
    build_pmdata(root)
    return root


def _predictions(path: Path) -> dict[str, float]:
    with (path / "predictions.csv").open(encoding="utf-8", newline="") as handle:
        return {row["window_id"]: float(row["prediction"]) for row in csv.DictReader(handle)}


@pytest.mark.parametrize("baseline", PMDATA_BASELINES, ids=lambda b: b.name)
def test_every_baseline_predicts_every_window_on_the_scale(baseline: object, mini: Path, tmp_path: Path) -> None:
    spec = get_benchmark("pmdata-readiness")
    loader = make_loader(spec, mini, "test")
    timing = baseline.run(spec, loader, tmp_path)  # type: ignore[attr-defined]
    predictions = _predictions(tmp_path)
    assert list(predictions) == loader.sample_ids()
    assert all(0 <= v <= 10 for v in predictions.values())
    assert len(timing.latencies_s) == len(predictions) and timing.warmup == 1


def test_last_value_and_participant_mean_by_hand(mini: Path, tmp_path: Path) -> None:
    spec = get_benchmark("pmdata-stress")
    loader = pmdata_task(mini, "test", "within", item="stress")
    LastValueBaseline().run(spec, loader, tmp_path / "last")
    ParticipantMeanBaseline().run(spec, loader, tmp_path / "mean")
    last, mean = _predictions(tmp_path / "last"), _predictions(tmp_path / "mean")
    train = loader.windows_of("within", "train")
    for window in loader.windows_of("within", "test"):
        # the label of the person's previous report with a label on the scale (1-5; the blank one has 0) ...
        earlier = [
            float(row.values["stress"])
            for row in loader.release.wellness(window.participant)
            if row.time_utc < window.time_utc and row.values["stress"] != "0"
        ]
        assert last[window.id] == earlier[-1]
        # ... and the mean of their training windows
        own = [w.label for w in train if w.participant == window.participant]
        assert mean[window.id] == pytest.approx(sum(own) / len(own))


def test_the_all_config_has_nothing_to_train_on(mini: Path, tmp_path: Path) -> None:
    loader = pmdata_task(mini, "test", "all", item="stress")
    with pytest.raises(MobenchError, match="no train split"):
        ParticipantMeanBaseline().run(get_benchmark("pmdata-stress"), loader, tmp_path)
