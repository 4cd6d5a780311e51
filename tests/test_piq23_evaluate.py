"""`mobench evaluate piq23-*` end to end on the fixture tree: the official numbers, both configs, bad inputs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evaluators.iqa import evaluate
from hub.cli.app import app
from hub.core.errors import PredictionError
from hub.core.evaluation import EvaluationRequest
from hub.core.registry import get_benchmark
from hub.scoring.wiring import make_loader, make_request
from loaders.synthetic.piq23 import build_piq23
from submissions.baselines.iqa_features import IQA_BASELINES
from tests.fixtures.piq23 import SCENES, fixture_images, write_piq23_tree, write_predictions

# Device-split test images per scene have JOD -1.5, -0.5, 0.5, 1.5 (in that order). Predictions per scene:
# Indoor_Scene_1: -1.5, -0.5, 1.5, 0.5 (last two swapped) -> SRCC 0.8, PLCC 0.8, KRCC 2/3, MAE (1 + 1) / 4 = 0.5
#   (same arithmetic as tests/test_piq23_metrics.py: centring does not change the correlations);
# Indoor_Scene_10: reversed -> -1, -1, -1, MAE (3 + 1 + 1 + 3) / 4 = 2;
# Night_Scene_28: constant 0 -> 0, 0, 0 by rule, MAE (1.5 + 0.5 + 0.5 + 1.5) / 4 = 1;
# Outdoor_Scene_33: twice the JOD -> 1, 1, 1, MAE (1.5 + 0.5 + 0.5 + 1.5) / 4 = 1.
# Medians: SRCC = PLCC = (0 + 0.8) / 2 = 0.4, KRCC = (0 + 2/3) / 2 = 1/3, MAE = (1 + 1) / 2 = 1.
PATTERNS: dict[str, Callable[[list[float]], list[float]]] = {
    "Indoor_Scene_1": lambda jods: [jods[0], jods[1], jods[3], jods[2]],
    "Indoor_Scene_10": lambda jods: jods[::-1],
    "Night_Scene_28": lambda jods: [0.0] * len(jods),
    "Outdoor_Scene_33": lambda jods: [2 * j for j in jods],
}


def _predictions(path: Path, split_of: str = "device_split") -> Path:
    rows: list[tuple[str, str]] = []
    for scene, *_ in SCENES:
        images = [i for i in fixture_images() if i.scene == scene and getattr(i, split_of) == "Test"]
        scores = PATTERNS[scene]([i.jod for i in images])
        rows += [(i.name, repr(s)) for i, s in zip(images, scores, strict=True)]
    return write_predictions(path, rows)


def _request(root: Path, predictions: Path, *, config: str = "device", partial: bool = False) -> EvaluationRequest:
    spec = get_benchmark("piq23-overall")
    return make_request(spec, root, predictions, "test", config, allow_partial=partial)


def test_cli_scores_the_device_split_with_the_median_protocol(tmp_path: Path) -> None:
    root = tmp_path / "piq23"
    write_piq23_tree(root)
    scores = _predictions(tmp_path / "scores.csv")
    args = ["evaluate", "piq23-overall", "--root", str(root), "--predictions", str(scores)]
    result = CliRunner().invoke(app, [*args, "--config", "device", "--split", "test", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    metrics = report["metrics"]
    assert (report["config"], report["split"], report["n_samples"]) == ("device", "test", 16)
    assert metrics["srcc"] == pytest.approx(0.4) and metrics["plcc"] == pytest.approx(0.4)
    assert metrics["krcc"] == pytest.approx(1 / 3) and metrics["mae"] == pytest.approx(1.0)
    assert metrics["srcc_mean"] == pytest.approx((0.8 - 1 + 0 + 1) / 4)
    assert set(metrics) >= {"srcc_global", "plcc_global", "krcc_global"}
    night = report["breakdowns"]["scene"]["Night_Scene_28"]
    assert night["constant_prediction"] == 1 and night["srcc"] == 0 and night["n"] == 4
    assert report["details"]["constant_prediction_scenes"] == ["Night_Scene_28"]
    assert set(report["breakdowns"]["condition"]) == {"Indoor", "Night", "Outdoor"}
    # Indoor = Indoor_Scene_1 and Indoor_Scene_10: median SRCC (0.8 - 1) / 2
    assert report["breakdowns"]["condition"]["Indoor"]["srcc"] == pytest.approx(-0.1)


def test_scene_config_scores_only_the_test_scenes(tmp_path: Path) -> None:
    root = tmp_path / "piq23"
    write_piq23_tree(root)
    # scene split test = Indoor_Scene_1's six images (JOD -2.5 ... 2.5); predict them in order but swap the last
    # two: ranks differ by d = (0, 0, 0, 0, 1, -1): SRCC = 1 - 6 * 2 / (6 * 35) = 33/35
    images = [i for i in fixture_images() if i.scene_split == "Test"]
    scores = [i.jod for i in images]
    scores[4], scores[5] = scores[5], scores[4]
    path = write_predictions(tmp_path / "scene.csv", [(i.name, repr(s)) for i, s in zip(images, scores, strict=True)])
    result = evaluate(_request(root, path, config="scene"))
    assert result.n_expected == 6 and list(result.breakdowns["scene"]) == ["Indoor_Scene_1"]
    assert result.metrics["srcc"] == pytest.approx(33 / 35)
    # a device-split prediction file does not fit the scene split: its other scenes' images are extra
    with pytest.raises(
        PredictionError, match=r"sample 7_Indoor_Scene_10\.JPG: not in this split \(device\.csv line 6\)"
    ):
        evaluate(_request(root, _predictions(tmp_path / "device.csv"), config="scene"))


def _corrupt(tmp_path: Path, old: str, new: str) -> Path:
    good = _predictions(tmp_path / "good.csv").read_text(encoding="utf-8")
    assert old in good
    bad = tmp_path / "bad.csv"
    bad.write_text(good.replace(old, new, 1), encoding="utf-8")
    return bad


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("IMAGE,SCORE", "IMAGE,PRED", r"no SCORE column"),
        ("IMAGE,SCORE", "NAME,SCORE", r"no IMAGE column"),
        (
            "1_Indoor_Scene_1.JPG,-1.5",
            "1_Indoor_Scene_1.JPG,nan",
            r"image 1_Indoor_Scene_1\.JPG: SCORE 'nan' .* line 2",
        ),
        ("1_Indoor_Scene_1.JPG,-1.5", "1_Indoor_Scene_1.JPG,inf", r"image 1_Indoor_Scene_1\.JPG: SCORE 'inf'"),
        ("1_Indoor_Scene_1.JPG,-1.5", "1_Indoor_Scene_1.JPG,good", r"image 1_Indoor_Scene_1\.JPG: SCORE 'good'"),
        ("1_Indoor_Scene_1.JPG,-1.5", "1_Indoor_Scene_1.JPG,", r"image 1_Indoor_Scene_1\.JPG: SCORE ''"),
        ("1_Indoor_Scene_1.JPG", "1_Indoor_Scene_1.jpg", r"sample 1_Indoor_Scene_1\.JPG: missing prediction"),
        (
            "1_Indoor_Scene_1.JPG",
            "1_Indoor_Scene_1.jpg",
            r"sample 1_Indoor_Scene_1\.jpg: not in this split \(bad\.csv line 2\)",
        ),
        (
            "2_Indoor_Scene_1.jpeg",
            "1_Indoor_Scene_1.JPG",
            r"1_Indoor_Scene_1\.JPG: 2 predictions \(bad\.csv line 2, bad\.csv line 3\)",
        ),
    ],
)
def test_bad_prediction_files_are_rejected_naming_the_image(tmp_path: Path, old: str, new: str, message: str) -> None:
    root = tmp_path / "piq23"
    write_piq23_tree(root)
    with pytest.raises(PredictionError, match=message):
        evaluate(_request(root, _corrupt(tmp_path, old, new)))


def test_partial_files_need_allow_partial_and_paths_ending_in_the_name_are_accepted(tmp_path: Path) -> None:
    root = tmp_path / "piq23"
    write_piq23_tree(root)
    lines = _predictions(tmp_path / "full.csv").read_text(encoding="utf-8").splitlines()
    # drop one row, and spell another with the release's IMAGE PATH form
    edited = [lines[0], *lines[2:]]
    edited[1] = "Overall\\" + edited[1]
    partial = tmp_path / "partial.csv"
    partial.write_text("\n".join(edited) + "\n", encoding="utf-8")
    with pytest.raises(PredictionError, match=r"sample 1_Indoor_Scene_1\.JPG: missing prediction"):
        evaluate(_request(root, partial))
    result = evaluate(_request(root, partial, partial=True))
    assert result.missing == ["1_Indoor_Scene_1.JPG"] and result.n_samples == 15
    assert result.breakdowns["scene"]["Indoor_Scene_1"]["n"] == 3


def test_a_submission_folder_with_one_csv_is_read(tmp_path: Path) -> None:
    root = tmp_path / "piq23"
    write_piq23_tree(root)
    folder = tmp_path / "predictions"
    _predictions(folder / "anything.csv")
    assert evaluate(_request(root, folder)).metrics["srcc"] == pytest.approx(0.4)
    _predictions(folder / "second.csv")
    with pytest.raises(PredictionError, match="expected exactly one IMAGE,SCORE csv"):
        evaluate(_request(root, folder))


def test_baseline_on_the_synthetic_release_fits_train_and_scores_test(tmp_path: Path) -> None:
    root = tmp_path / "synthetic"
    build_piq23(root, seed=1)
    spec = get_benchmark("piq23-details")
    for config in ("device", "scene"):
        loader = make_loader(spec, root, "test", config)
        out = tmp_path / f"run-{config}"
        timing = IQA_BASELINES[0].run(spec, loader, out)
        assert len(timing.latencies_s) == len(loader) and timing.warmup == 1
        result = evaluate(make_request(spec, root, out / "scores.csv", "test", config))
        assert result.n_samples == len(loader)
        # the baseline is fitted within scenes on train and sees blur/noise, which drive the Details JOD
        assert result.metrics["srcc"] > 0
