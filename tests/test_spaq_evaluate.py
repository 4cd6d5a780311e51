"""SPAQ scored through the image-quality evaluator's all-images pooling (its spec's evaluator_options), end to end:
hand-computed SRCC/PLCC, the CLI, the demo's baseline row and its leaderboard page."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from hub.cli.app import app
from hub.cli.demo import DemoSummary
from hub.core.errors import PredictionError
from hub.core.registry import get_benchmark
from hub.scoring.executors import score
from hub.scoring.wiring import make_request
from hub.store import Store
from leaderboard import queries
from loaders.spaq import SPAQ
from loaders.synthetic.spaq import build_spaq

APP = str(Path(__file__).resolve().parent.parent / "leaderboard" / "app.py")


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("spaq") / "SPAQ"
    build_spaq(root, seed=0)
    return root


def _mos(root: Path, config: str = "image") -> dict[str, float]:
    return {label.image: label.mos for label in SPAQ(root, "test", config).labels()}


def _write(path: Path, scores: dict[str, float], prefix: str = "") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["IMAGE", "SCORE"])
        writer.writerows((prefix + image, repr(value)) for image, value in scores.items())
    return path


def _score(root: Path, predictions: Path, config: str = "image", partial: bool = False) -> dict[str, float]:
    request = make_request(get_benchmark("spaq"), root, predictions, "test", config, allow_partial=partial)
    return score(request).metrics


def test_all_images_pooling_on_hand_computed_figures(release: Path, tmp_path: Path) -> None:
    mos = _mos(release)
    n = len(mos)
    ranked = sorted(mos, key=mos.__getitem__)
    # the two best images swapped: SRCC = 1 - 6 * (1 + 1) / (n (n^2 - 1)), KRCC = 1 - 2 * 2 / (n (n - 1))
    swapped = {image: float(rank) for rank, image in enumerate(ranked)}
    swapped[ranked[-1]], swapped[ranked[-2]] = swapped[ranked[-2]], swapped[ranked[-1]]
    metrics = _score(release, _write(tmp_path / "swapped.csv", swapped))
    assert metrics["srcc"] == pytest.approx(1 - 12 / (n * (n * n - 1)), abs=1e-12)
    assert metrics["krcc"] == pytest.approx(1 - 4 / (n * (n - 1)), abs=1e-12)
    truth = np.array([mos[i] for i in swapped])
    assert metrics["plcc"] == pytest.approx(scipy.stats.pearsonr(list(swapped.values()), truth).statistic, abs=1e-12)
    # an affine map of MOS on another scale: PLCC 1 (no fitted mapping needed), any path ending in the name
    affine = {image: 0.02 * value - 1 for image, value in mos.items()}
    metrics = _score(release, _write(tmp_path / "affine.csv", affine, prefix="TestImage/"))
    assert metrics == pytest.approx({"srcc": 1.0, "plcc": 1.0, "krcc": 1.0}, abs=1e-12)
    # constant predictions: 0 by mobench's rule, never NaN
    flat = _score(release, _write(tmp_path / "flat.csv", dict.fromkeys(mos, 50.0)))
    assert flat == {"srcc": 0.0, "plcc": 0.0, "krcc": 0.0}


def test_figures_equal_scipy_over_all_test_images_and_no_scene_leaks(release: Path, tmp_path: Path) -> None:
    mos = _mos(release, "device")
    rng = np.random.default_rng(5)
    noisy = {image: value + float(rng.normal(0, 15)) for image, value in mos.items()}
    request = make_request(get_benchmark("spaq"), release, _write(tmp_path / "p.csv", noisy), "test", "device")
    result = score(request)
    x, y = list(noisy.values()), [mos[i] for i in noisy]
    assert result.metrics["srcc"] == pytest.approx(scipy.stats.spearmanr(x, y).statistic, abs=1e-12)
    assert result.metrics["plcc"] == pytest.approx(scipy.stats.pearsonr(x, y).statistic, abs=1e-12)
    assert result.metrics["krcc"] == pytest.approx(scipy.stats.kendalltau(x, y).statistic, abs=1e-12)
    assert result.breakdowns == {} and result.n_samples == len(mos)
    assert set(result.details) == {"protocol", "target", "krcc_variant", "constant_prediction", "prediction_file"}
    assert result.sample_scores[next(iter(mos))] == {"score": noisy[next(iter(mos))], "mos": mos[next(iter(mos))]}


def test_missing_and_unknown_images_are_refused_or_partial(release: Path, tmp_path: Path) -> None:
    mos = _mos(release)
    some = dict(list(mos.items())[:-1])
    with pytest.raises(PredictionError, match="missing"):
        _score(release, _write(tmp_path / "short.csv", some))
    assert math.isfinite(_score(release, _write(tmp_path / "partial.csv", some), partial=True)["srcc"])
    with pytest.raises(PredictionError, match=r"99999\.jpg"):
        _score(release, _write(tmp_path / "extra.csv", {**mos, "99999.jpg": 1.0}))


def test_cli_evaluates_a_split(release: Path, tmp_path: Path) -> None:
    predictions = _write(tmp_path / "scores.csv", _mos(release))
    args = ["evaluate", "spaq", "--root", str(release), "--predictions", str(predictions), "--json"]
    result = CliRunner().invoke(app, [*args, "--config", "image", "--split", "test"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["metrics"]["srcc"] == pytest.approx(1.0) and report["config"] == "image"


def test_the_demo_ranks_the_baseline_and_the_page_renders(demo: DemoSummary, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = get_benchmark("spaq")
    table = queries.ranking(Store(demo.db_path), spec)
    assert list(table["model"]) == ["sharpness-noise-exposure-ls"] and table["synthetic"].all()
    assert table["srcc"].map(math.isfinite).all() and set(table.columns) >= {"plcc", "krcc"}
    assert demo.tables[spec.id][0]["srcc"] == pytest.approx(table["srcc"].iloc[0])  # the demo's own summary
    monkeypatch.setenv("MOBENCH_DB", str(demo.db_path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["page"], at.query_params["benchmark"] = "benchmark", "spaq"
    at.run()
    assert not at.exception, at.exception
    frames = [e.value for e in at.dataframe if {"rank", "model", "srcc"} <= set(e.value.columns)]
    assert frames and list(frames[0]["model"]) == ["sharpness-noise-exposure-ls"]
    assert any("SYNTHETIC" in w.value for w in at.warning)
