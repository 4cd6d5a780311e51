"""Conformance on the official releases' own files (`../shared/realdata`, see its SOURCES*.md): read in place or
linked into official-layout trees in tmp_path (`tests.fixtures.release_trees`), through the project's loaders and
its `mobench export` / `mobench evaluate`. Every figure was read off the files by hand (csv, json, PIL, numpy,
scipy, shapely, pandas); each comment says how.
"""

from __future__ import annotations

import csv
import json
import os
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pytest
import scipy.stats
import shapely
from PIL import Image
from typer.testing import CliRunner

from hub.cli.app import app
from hub.core.registry import get_benchmark
from hub.scoring.wiring import make_loader
from loaders.formats.flo import read_flo, write_flo
from loaders.formats.masks import read_mask
from loaders.health.lifesnaps_release import DAILY, PANAS, CsvLayout
from loaders.midv import MIDV500
from loaders.piq23 import PIQ23
from loaders.sintel import Sintel
from tests.fixtures.health import lifesnaps_task, pmdata_task
from tests.fixtures.realdata import real_file
from tests.fixtures.release_trees import (
    kitti_devkit_tree,
    lifesnaps_variant_tree,
    midv500_tree,
    piq23_rows,
    piq23_tree,
    pmdata_tree,
    sintel_cave2_tree,
)

PIQ23_SPLIT_FILE = "Test split/{kind} Split/{kind}Split_{split}_Scores_{attribute}.csv"


def mobench(*args: str, temp: Path) -> subprocess.CompletedProcess[str]:
    """`mobench ARGS` in a fresh process (its MobenchError handling, exit status) with its own temp dir."""
    temp.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(temp)}
    command = [sys.executable, "-m", "hub.cli.app", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


def evaluate_json(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["evaluate", *args, "--json"])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.output)
    return report


def one_line_exit_2(result: subprocess.CompletedProcess[str], temp: Path) -> str:
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert not [p for p in temp.iterdir() if p.name.startswith("mobench-ds-")]  # no Arrow cache left behind
    return lines[0]


# ------------------------------------------------------------------------------------------------------- PIQ23


# line 2 of each Scores_<Attribute>.csv, read by eye: its IMAGE and JOD
PIQ23_FIRST_ROWS = {
    "Overall": ("66_Indoor_Scene_0.jpg", -3.720674450398623),
    "Details": ("33_Indoor_Scene_0.jpg", -3.702848776333557),
    "Exposure": ("29_Indoor_Scene_0.jpg", -2.983846415969875),
}
# rows (wc -l minus the header) and distinct SCENE values of Test split/<Kind> Split/<Kind>Split_<Split>_Scores_*.csv
PIQ23_SPLITS = {("device", "test"): (1512, 50), ("device", "train"): (3604, 50)}
PIQ23_SPLITS |= {("scene", "test"): (1486, 15), ("scene", "train"): (3630, 35)}


@pytest.mark.parametrize("attribute", ["Overall", "Details", "Exposure"])
def test_piq23_every_csv_gives_its_rows_scenes_and_jods(attribute: str) -> None:
    root = real_file("releases/piq23/Scores").parent  # read in place: Scores/, Test split/, Metadata/
    scores = {row["IMAGE"]: row for row in piq23_rows(f"Scores/Scores_{attribute}.csv")}
    devices = {row["Image"]: row["Device"] for row in piq23_rows("Metadata/Image Metadata.csv")}
    assert len(scores) == 5116 and len(devices) == 5116  # wc -l: 5117 lines, one header
    assert len(set(devices.values())) == 194  # Image Metadata.csv: 194 distinct Device values
    scene_split = {row["SCENE"]: row for row in piq23_rows("Test split/Scene Split.csv")}
    assert len(scene_split) == 50 and sum(int(r["NB IMAGES"]) for r in scene_split.values()) == 5116
    assert Counter(r["SPLIT"] for r in scene_split.values()) == {"Train": 35, "Test": 15}
    assert Counter(r["SPLIT"] for r in piq23_rows("Test split/Device Split.csv")) == {"Train": 3604, "Test": 1512}
    every = []
    for (config, split), (n_rows, n_scenes) in PIQ23_SPLITS.items():
        kind = config.capitalize()
        members = {
            r["IMAGE"] for r in piq23_rows(PIQ23_SPLIT_FILE.format(kind=kind, split=split.title(), attribute=attribute))
        }
        labels = PIQ23(root, split, config, attribute=attribute).labels()  # the loader cross-checks that file too
        assert [label.image for label in labels] == [image for image in scores if image in members]  # file order
        assert (len(labels), len({label.scene for label in labels})) == (n_rows, n_scenes)
        every += labels if config == "device" else []
    assert len(every) == 5116 and {label.scene for label in every} == set(scene_split)
    for label in every:  # every JOD exactly as written in Scores_<Attribute>.csv, every device from the metadata
        row = scores[label.image]
        assert (label.jod, label.scene, label.image_path) == (float(row["JOD"]), row["SCENE"], row["IMAGE PATH"])
        assert label.device == devices[label.image] and label.attribute == attribute
    image, jod = PIQ23_FIRST_ROWS[attribute]
    assert [label.jod for label in every if label.image == image] == [jod]


@pytest.mark.parametrize(("config", "column"), [("scene", "CI LOW"), ("device", "TOTAL COMPARISONS")])
def test_piq23_per_scene_medians_equal_scipys(tmp_path: Path, config: str, column: str) -> None:
    root = real_file("releases/piq23/Scores").parent
    kind = config.capitalize()
    rows = piq23_rows(PIQ23_SPLIT_FILE.format(kind=kind, split="Test", attribute="Overall"))
    predictions = tmp_path / "scores.csv"  # a column of the release as the prediction (TOTAL COMPARISONS: ties)
    with predictions.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([("IMAGE", "SCORE"), *((row["IMAGE"], row[column]) for row in rows)])
    report = evaluate_json("piq23-overall", "--root", str(root), "--predictions", str(predictions), "--config", config)
    per_scene: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        per_scene.setdefault(row["SCENE"], []).append((float(row[column]), float(row["JOD"])))
    srcc, plcc, krcc, mae = [], [], [], []
    for pairs in per_scene.values():
        x, y = np.array(pairs).T
        srcc.append(scipy.stats.spearmanr(x, y).statistic)
        plcc.append(scipy.stats.pearsonr(x, y).statistic)
        krcc.append(scipy.stats.kendalltau(x, y).statistic)  # tau-b
        mae.append(float(np.abs(x - y).mean()))
    metrics = report["metrics"]
    assert report["n_samples"] == len(rows) and len(report["breakdowns"]["scene"]) == len(per_scene)
    for name, values in (("srcc", srcc), ("plcc", plcc), ("krcc", krcc), ("mae", mae)):
        assert metrics[name] == pytest.approx(statistics.median(values), rel=1e-12, abs=1e-15)
    for name, values in (("srcc", srcc), ("plcc", plcc), ("krcc", krcc)):
        assert metrics[f"{name}_mean"] == pytest.approx(statistics.fmean(values), rel=1e-12)


def test_piq23_export_with_placeholder_images_loads_back(tmp_path: Path) -> None:
    rows = piq23_rows(PIQ23_SPLIT_FILE.format(kind="Scene", split="Test", attribute="Overall"))
    root = piq23_tree(tmp_path / "piq23", "Overall", [row["IMAGE"] for row in rows])
    out = tmp_path / "export"
    args = ["export", "piq23-overall", "--root", str(root), "--out", str(out), "--config", "scene", "--split", "test"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    loaded = datasets.load_dataset(str(out), "scene", split="test", cache_dir=str(tmp_path / "hf"))
    # JODs as Scores_Overall.csv writes them (the split file's copies differ from them by up to one ulp)
    members = {row["IMAGE"] for row in rows}
    by_image = {r["IMAGE"]: float(r["JOD"]) for r in piq23_rows("Scores/Scores_Overall.csv") if r["IMAGE"] in members}
    assert len(loaded) == 1486 and dict(zip(loaded["id"], loaded["jod"], strict=True)) == by_image


def test_piq23_ntire24_submission_kit_files_are_refused_cleanly(tmp_path: Path) -> None:
    root = real_file("releases/piq23/Scores").parent
    kit = real_file("releases/piq23/NTIRE24/Submission Kit")
    # results/result_23_PIQ.csv (IMAGE,CLASS,CONDITION,SCORE; one row images/0/image1.jpg,0,INDOOR,0.0): an image
    # that is not PIQ23's; images.csv has no SCORE column
    evaluate = ("evaluate", "piq23-overall", "--root", str(root), "--predictions")
    result = mobench(*evaluate, str(kit / "results" / "result_23_PIQ.csv"), "--allow-partial", temp=tmp_path / "tmp")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "sample image1.jpg: not in this split (result_23_PIQ.csv line 2)" in result.stderr
    result = mobench(*evaluate, str(kit / "images.csv"), temp=tmp_path / "tmp")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "images.csv line 1: no SCORE column (header: 'IMAGE,CLASS,CONDITION')" in result.stderr


# --------------------------------------------------------------------------------------------------------- MIDV-500


def test_midv500_real_quads_load_unclipped_and_score_exactly(tmp_path: Path) -> None:
    root, quads = midv500_tree(tmp_path / "midv500")
    loader = MIDV500(root)
    assert len(quads) == 90 and loader.sample_ids() == sorted(quads)  # 3 clips x 30 GT files: HA01, CA43, CS43
    frames = {sample_id: loader.frame(sample_id) for sample_id in quads}
    for sample_id, frame in frames.items():  # every corner exactly as its JSON file writes it, none clipped
        assert frame.quad.tolist() == quads[sample_id] and (frame.image_width, frame.image_height) == (1080, 1920)
    # corners outside the closed frame [0, 1080] x [0, 1920], counted by hand from the JSON files: 20 quads
    # (HA01: 9, CS43: 11, e.g. HA01_30 [-32, 1351], CS43_09 [-12, 693]); a 21st, CS43_13, has its corner exactly on
    # the right edge (x = 1080), which the authors' "four vertices in frame" rectangle counts as in frame
    outside = {i for i, q in quads.items() if any(not (0 <= x <= 1080 and 0 <= y <= 1920) for x, y in q)}
    on_edge_or_out = {i for i, q in quads.items() if any(not (0 <= x < 1080 and 0 <= y < 1920) for x, y in q)}
    assert len(outside) == 20 and on_edge_or_out - outside == {"midv500/43_tur_id/CS/CS43_13"}
    assert {i for i, f in frames.items() if f.corners_in_frame < 4} == outside
    assert Counter(i.split("/")[2] for i in outside) == {"HA": 9, "CS": 11}
    subset = make_loader(get_benchmark("midv500-localization"), root, "test", "four-corners-in-frame")
    assert subset.sample_ids() == sorted(set(quads) - outside)  # 70 frames
    # the GT quads as predictions score exactly 1 (the template frame's homography leaves a rounding of 1e-16)
    exact = tmp_path / "exact.jsonl"
    exact.write_text("".join(json.dumps({"id": i, "quad": q}) + "\n" for i, q in quads.items()), encoding="utf-8")
    metrics = evaluate_json("midv500-localization", "--root", str(root), "--predictions", str(exact))["metrics"]
    assert metrics["iou_image"] == 1.0 and metrics["iou_template_correct"] == metrics["min_d_correct"] == 100.0
    assert metrics["iou_template"] == pytest.approx(1.0, abs=1e-12) and metrics["min_d"] == pytest.approx(0, abs=1e-12)
    # every quad shifted 10 px right: image-plane IoU as shapely gives it for the unclipped polygons, mean of 90
    shifted = {i: [[x + 10, y] for x, y in q] for i, q in quads.items()}
    by_hand = statistics.fmean(
        shapely.Polygon(quads[i]).intersection(shapely.Polygon(p)).area
        / shapely.Polygon(quads[i]).union(shapely.Polygon(p)).area
        for i, p in shifted.items()
    )
    moved = tmp_path / "shifted.jsonl"
    moved.write_text("".join(json.dumps({"id": i, "quad": q}) + "\n" for i, q in shifted.items()), encoding="utf-8")
    metrics = evaluate_json("midv500-localization", "--root", str(root), "--predictions", str(moved))["metrics"]
    assert metrics["iou_image"] == pytest.approx(by_hand, rel=1e-12) and by_hand < 0.98


# ---------------------------------------------------------------------------------------------- Sintel and KITTI


def test_sintel_cave_2_full_frame_scores_exactly(tmp_path: Path) -> None:
    root = sintel_cave2_tree(tmp_path / "sintel")
    real = real_file("releases/sintel/training")
    flow = read_flo(real / "flow" / "cave_2" / "frame_0002.flo")
    assert flow.shape == (436, 1024, 2)  # the header: PIEH, w = 1024, h = 436 (3,571,724 bytes = 12 + 1024*436*8)
    occluded = np.asarray(Image.open(real / "occlusions" / "cave_2" / "frame_0002.png")) == 255
    invalid = np.asarray(Image.open(real / "invalid" / "cave_2" / "frame_0002.png")) == 255
    assert (int(occluded.sum()), int(invalid.sum())) == (34232, 96)  # PIL: 7.67 % occluded, 96 invalid px
    predictions = tmp_path / "zero"
    (predictions / "cave_2").mkdir(parents=True)
    write_flo(predictions / "cave_2" / "frame_0002.flo", np.zeros((436, 1024, 2), dtype=np.float32))
    for pass_name in ("clean", "final"):
        benchmark = f"sintel-{pass_name}"
        loader = make_loader(get_benchmark(benchmark), root, "training")
        assert isinstance(loader, Sintel)
        gt = loader.ground_truth(f"sintel/{pass_name}/training/cave_2/frame_0002")
        np.testing.assert_array_equal(gt["flow"], flow)
        np.testing.assert_array_equal(gt["occlusion"], occluded)
        np.testing.assert_array_equal(gt["invalid"], invalid)
        args = ["--root", str(root), "--predictions", str(predictions), "--split", "training", "--allow-partial"]
        report = evaluate_json(benchmark, *args)
        assert report["n_samples"] == 1 and report["missing"] == [f"sintel/{pass_name}/training/cave_2/frame_0001"]
        metrics = report["metrics"]
        speed = np.hypot(flow[..., 0].astype(np.float64), flow[..., 1])  # the zero prediction's EPE per pixel
        assert metrics["epe"] == float(speed.mean()) == pytest.approx(15.123690, abs=5e-7)  # SOURCES-flow-midv.md
        assert metrics["epe_excl_invalid"] == pytest.approx(float(speed[~invalid].mean()), rel=1e-12)
        # GMFlow's unmatched set: occluded or leaving the frame (7,144 px leave it; SOURCES-flow-midv.md)
        assert metrics["epe_matched"] == pytest.approx(15.143081, abs=5e-7)
        assert metrics["epe_unmatched"] == pytest.approx(14.915428, abs=5e-7)


def test_the_flow_and_mask_samples_at_the_corpus_top_decode_as_described() -> None:
    crop = read_flo(real_file("sintel_cave2_frame_0002_crop_y204_x396_h48_w64.flo"))
    full = read_flo(real_file("releases/sintel/training/flow/cave_2/frame_0002.flo"))
    np.testing.assert_array_equal(crop, full[204:252, 396:460])  # the crop is rows 204:252, cols 396:460
    assert (float(crop[0, 0, 0]), float(crop[0, 0, 1])) == (10.583117485046387, 22.86277198791504)
    assert float(np.hypot(crop[..., 0].astype(np.float64), crop[..., 1]).mean()) == pytest.approx(19.371697, abs=5e-7)
    occluded = read_mask(real_file("sintel_cave2_frame_0002_occlusions.png"))
    invalid = read_mask(real_file("sintel_cave2_frame_0002_invalid.png"))
    assert (int(occluded[204:252, 396:460].sum()), int(invalid[204:252, 396:460].sum())) == (1468, 25)
    # the other scenes' masks (PIL, == 255): alley_1 9,912 occluded / 80 invalid, market_5 55,402 / 398
    for scene, counts in (("alley_1", (9912, 80)), ("market_5", (55402, 398))):
        masks = [
            read_mask(real_file(f"releases/sintel/training/{k}/{scene}/frame_0002.png"))
            for k in ("occlusions", "invalid")
        ]
        assert tuple(int(m.sum()) for m in masks) == counts and masks[0].shape == (436, 1024)


def test_kitti_devkit_pair_gives_the_devkit_figures(tmp_path: Path) -> None:
    root = kitti_devkit_tree(tmp_path / "kitti")
    predictions = tmp_path / "pred"
    (predictions / "flow").mkdir(parents=True)
    (predictions / "flow" / "000000_10.png").symlink_to(real_file("kitti2015_devkit_flow_est.png"))
    metrics = evaluate_json("kitti-2015-flow", "--root", str(root), "--predictions", str(predictions))["metrics"]
    # SOURCES-flow-midv.md (numpy on the decoded PNGs): 23,031 outliers of 111,326 valid px, mean EPE 12.2007
    assert metrics["fl_all"] == pytest.approx(100 * 23031 / 111326, rel=1e-12) and metrics["density"] == 100.0
    assert metrics["fl_bg"] == metrics["fl_all"] and metrics["fl_fg"] is None  # all background: no fg pixel
    assert metrics["epe"] == pytest.approx(12.2007, abs=5e-5)


# ------------------------------------------------------------------------------------------------------------ PMData

# pandas on p01/pmsys/wellness.csv (138 reports, one per effective_time_frame): the label counts of the 137 reports
# after the first; the first, 2019-11-01T08:31:40.751Z, has no window (p01's first bout starts 2019-11-01 14:56:32
# local, its first sleep log 2019-11-02 00:09:30: nothing in the 14 days before it)
P01_LABELS = {
    "stress": {2: 17, 3: 120},
    "readiness": {2: 1, 3: 6, 4: 12, 5: 17, 6: 31, 7: 45, 8: 25},
    "fatigue": {1: 2, 2: 56, 3: 78, 4: 1},
    "sleep_quality": {1: 1, 2: 37, 3: 98, 4: 1},
}


@pytest.mark.parametrize("item", list(P01_LABELS))
def test_pmdata_p01_gives_health_llms_137_windows_with_their_labels(item: str) -> None:
    root = real_file("releases/pmdata/p01").parent  # in place: p01 (complete), p03 (steps only), p12 (no RHR)
    with real_file("releases/pmdata/p01/pmsys/wellness.csv").open(encoding="utf-8", newline="") as handle:
        wellness = {row["effective_time_frame"]: row for row in csv.DictReader(handle)}
    assert len(wellness) == 138
    loader = pmdata_task(root, "test", "all", item=item)
    rows = list(loader)
    assert len(rows) == 137 and {row["participant"] for row in rows} == {"p01"}
    assert (
        rows[0]["id"] == "pmdata/p01/2019-11-02T10:00:01.229Z"
        and rows[-1]["id"] == "pmdata/p01/2020-03-30T07:24:02.816Z"
    )
    for row in rows:  # each label is its report's value as written
        assert row["label_text"] == wellness[row["effective_time_frame"]][item]
    assert Counter(int(row["label"]) for row in rows) == P01_LABELS[item]
    # dropped: p01's first report, and all 83 of p12's (its wellness.csv has 83 rows, its release no RHR file)
    dropped = loader.report.dropped_windows
    assert sum(dropped.values()) == 1 + 83 and dropped[f"{item}: no exercise bout / sleep log in the 14 days"] == 1
    assert "p12/fitbit/resting_heart_rate.json" in loader.report.missing_files
    # Health-LLM's list is the same 137 reports: seed-123 shuffle, int(137 * 0.5) = 68 train, the other 69 eval
    healthllm = [len(pmdata_task(root, split, "healthllm", item=item)) for split in ("train", "test")]
    assert healthllm == [68, 69]


def test_pmdata_p01s_sleep_logs_written_twice_are_listed_once() -> None:
    root = real_file("releases/pmdata/p01").parent
    logs = json.loads(real_file("releases/pmdata/p01/fitbit/sleep.json").read_text(encoding="utf-8"))
    twice = [log_id for log_id, n in Counter(log["logId"] for log in logs).items() if n == 2]
    assert len(logs) == 155 and len(twice) == 5  # 5 logIds appear twice, each copy with the same startTime
    loader = pmdata_task(root, "test", "all", item="stress")
    row = next(r for r in loader if r["id"] == "pmdata/p01/2019-11-07T06:39:25.426Z")
    # by hand: the logs starting in the 14 days before 2019-11-07 06:39 UTC (Oslo = UTC+1), duration / 60000;
    # 24544805751 (2019-11-06 23:45:30, 21,960,000 ms = 366 min) is written twice, and listed once (deviation 3)
    assert row["sleep_minutes"] == [430.0, 422.0, 399.0, 362.0, 364.0, 366.0]
    assert loader.report.duplicates == {"p01/fitbit/sleep.json": 5}


def test_export_on_part_of_a_release_or_a_refused_file_says_one_line_and_exits_2(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    # two participants: the participant config puts p01 in test and p12 (no resting heart rate, so no window) in train
    part = pmdata_tree(tmp_path / "pmdata", ("p01", "p12"))
    out = tmp_path / "out"
    line = one_line_exit_2(mobench("export", "pmdata-stress", "--root", str(part), "--out", str(out), temp=temp), temp)
    assert "participant/train: no window of participant(s) p12 falls in it" in line and "Nothing was written" in line
    assert "files absent: p12/fitbit/resting_heart_rate.json" in line and "participant/test (137 rows)" in line
    assert not out.exists()
    args = ("--root", str(part), "--predictions", str(tmp_path), "--config", "participant", "--split", "train")
    line = one_line_exit_2(mobench("evaluate", "pmdata-stress", *args, temp=temp), temp)
    assert "participant/train" in line and "nothing to score" in line
    # the splits that hold windows export and load back
    result = mobench("export", "pmdata-stress", "--root", str(part), "--out", str(out), "--config", "all", temp=temp)
    assert result.returncode == 0 and not list(temp.iterdir()), result.stderr
    loaded = datasets.load_dataset(str(out), "all", split="test", cache_dir=str(tmp_path / "hf"))
    assert len(loaded) == 137 and Counter(loaded["label"]) == P01_LABELS["stress"]
    # a release file the loader refuses while exporting (Sintel's flow of frame 2, cut short as by a broken copy)
    sintel = sintel_cave2_tree(tmp_path / "sintel")
    flo = sintel / "training" / "flow" / "cave_2" / "frame_0002.flo"
    flo.unlink()
    flo.write_bytes(real_file("releases/sintel/training/flow/cave_2/frame_0002.flo").read_bytes()[:4096])
    export = ("export", "sintel-clean", "--root", str(sintel), "--out", str(tmp_path / "sintel-out"))
    line = one_line_exit_2(mobench(*export, "--split", "training", temp=temp), temp)
    assert line == f"error: {flo}: truncated .flo file: 4096 bytes, expected 12 + 8*1024*436 = 3571724"
    assert not (tmp_path / "sintel-out").exists()


# --------------------------------------------------------------------------------------------------------- LifeSnaps


def test_lifesnaps_reexport_is_read_by_its_header(tmp_path: Path) -> None:
    root = lifesnaps_variant_tree(tmp_path / "lifesnaps")
    # pandas on the two files: daily 7,410 rows of 71 ids, one per (id, date); panas 268 rows of 51 ids, no
    # repeated (id, submitdate), no negative score of 0; 1,042 daily rows have all 12 sleep fields, 58 of them with
    # sleep_efficiency < 85 and minutesAwake > 30; 132 surveys have no usable daily row in the 7 days before them
    sri = lifesnaps_task(root, "test", "all", task="stress_resilience")
    rows = list(sri)
    assert len(rows) == 268 and len(sri.release.daily) == 7410 and len(sri.release.participants) == 71
    assert sri.release.layouts == {DAILY: CsvLayout("id", False), PANAS: CsvLayout("id", False)}
    assert sri.report.dropped_windows == {"stress_resilience: no daily row in 7 days (kept, prompt shows [-1])": 132}
    # line 2 of panas.csv: 1,panas,2021-07-26,37,14 -> 37 / 14
    assert (rows[0]["id"], rows[0]["label"]) == ("lifesnaps/1/2021-07-26", 37 / 14)
    assert "[Positive Affect Score]: 37 out of 50, [Negative Affect Score]: 14 out of 50" in rows[0]["question"]
    for task in ("sleep_disorder", "sleep_disorder_leakfree"):
        labels = [row["label"] for row in lifesnaps_task(root, "test", "all", task=task)]
        assert len(labels) == 1042 and labels.count(1.0) == 58
    # Health-LLM's sleep-disorder split caps 13 train and 25 eval windows per class
    sizes = [len(lifesnaps_task(root, s, "healthllm", task="sleep_disorder")) for s in ("train", "test")]
    assert sizes == [26, 50]
    out = tmp_path / "out"
    args = ["export", "lifesnaps-sleep-disorder", "--root", str(root), "--out", str(out), "--config", "all"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    loaded = datasets.load_dataset(str(out), "all", split="test", cache_dir=str(tmp_path / "hf"))
    assert len(loaded) == 1042 and sum(loaded["label"]) == 58
