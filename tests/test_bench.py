from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hub.cli.app import app
from hub.cli.bench import build_once, cases, get_case, run_case
from hub.core.errors import MobenchError

# workloads of a few seconds; the flow cases keep the release's frame sizes, so they get a pair or two
TINY = {"flow": 2, "flow-kitti": 2, "kitti-png": 2, "load-dataset": 1, "mobile-mmlu": 40, "ingest": 400}


@pytest.mark.parametrize("name", sorted(cases()))
def test_every_case_runs_on_a_small_workload_and_both_sides_agree(tmp_path: Path, name: str) -> None:
    case = cases()[name]
    report = run_case(case, tmp_path, size=TINY.get(name, max(1, case.default_size // 100)), repeats=1)
    assert report.project_median_s > 0 and report.reference_median_s > 0  # run_case ran the case's check too
    doc = report.to_json()
    assert doc["case"] == name and doc["workload"] == report.workload
    assert doc["project"]["name"] == case.project_name and doc["reference"]["name"] == case.reference_name
    assert len(doc["project"]["runs_s"]) == 1 and len(doc["reference"]["runs_s"]) == 1


def test_the_new_hot_path_cases_are_listed() -> None:
    assert set(TINY) <= set(cases())
    result = CliRunner().invoke(app, ["bench"])
    assert result.exit_code == 0, result.output
    assert all(name in result.output for name in TINY)


def test_workloads_name_their_size(tmp_path: Path) -> None:
    assert get_case("flow").prepare(tmp_path / "flow", 3).workload.startswith("3 pairs of 1024x436 in 1 scenes")
    assert get_case("mobile-mmlu").prepare(tmp_path / "mm", 10).workload.startswith("10 questions x 4 rotations")
    assert get_case("ingest").prepare(tmp_path / "ingest", 8).workload.startswith("8 per-sample scores")


def test_flow_checks_compare_frames_and_pixels(tmp_path: Path) -> None:
    prepared = get_case("flow").prepare(tmp_path, 1)
    result = prepared.project()
    read = prepared.reference()
    prepared.check(result, read)
    with pytest.raises(AssertionError, match="frames, pixels"):
        prepared.check(result, (read[0], read[1] - 1))
    kitti = get_case("kitti-png").prepare(tmp_path, 1)
    with pytest.raises(AssertionError, match="valid pixels"):
        kitti.check(kitti.project(), kitti.reference() + 1)


def test_load_dataset_check_compares_every_pixel_its_dtype_and_the_frame_size(tmp_path: Path) -> None:
    prepared = get_case("load-dataset").prepare(tmp_path, 1)
    exported, raw = prepared.project(), prepared.reference()
    prepared.check(exported, raw)
    assert exported[0]["valid_occ"].dtype == bool and exported[0]["obj_map"].dtype == np.int64  # numpy format's
    flow = exported[0]["flow_noc"].copy()
    flow[-1] += 1  # the v of the last pixel
    with pytest.raises(AssertionError, match="flow_noc differ"):
        prepared.check([{**exported[0], "flow_noc": flow}], raw)
    valid = exported[0]["valid_occ"].copy()
    valid[-1] = not valid[-1]  # the last pixel
    with pytest.raises(AssertionError, match="valid_occ differ"):
        prepared.check([{**exported[0], "valid_occ": valid}], raw)
    with pytest.raises(AssertionError, match="valid_noc differ"):  # the same values, no longer bool
        prepared.check([{**exported[0], "valid_noc": exported[0]["valid_noc"].astype(np.uint8)}], raw)
    with pytest.raises(AssertionError, match="height differ"):  # the reshape back to (H, W, 2) would differ
        prepared.check([{**exported[0], "height": exported[0]["height"] + 1}], raw)
    with pytest.raises(AssertionError, match="columns"):
        prepared.check([{key: value for key, value in exported[0].items() if key != "width"}], raw)


def test_generated_inputs_are_reused_for_the_same_key(tmp_path: Path) -> None:
    built: list[Path] = []

    def build(folder: Path) -> None:
        built.append(folder)
        folder.mkdir()
        (folder / "data").write_text("x", encoding="utf-8")

    assert build_once(tmp_path / "tree", "size 1", build) == tmp_path / "tree"
    build_once(tmp_path / "tree", "size 1", build)
    assert len(built) == 1
    build_once(tmp_path / "tree", "size 2", build)
    assert len(built) == 2 and sorted(p.name for p in tmp_path.iterdir()) == ["tree", "tree.built"]


def test_check_catches_sides_that_compute_different_things(tmp_path: Path) -> None:
    case = get_case("store")
    prepared = case.prepare(tmp_path, 3)
    with pytest.raises(AssertionError, match="row counts differ"):
        prepared.check(12, 11)


def test_cli_bench_json_and_unknown_case(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "store", "--size", "20", "--repeats", "1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["reference"]["name"].startswith("row-by-row") and report["speedup"] > 0
    with pytest.raises(MobenchError, match="known cases"):
        get_case("nope")


def test_cases_of_other_sizes_in_one_workdir_keep_their_own_inputs(tmp_path: Path) -> None:
    for name, size in (("flow-kitti", 2), ("kitti-png", 1), ("flow-kitti", 2)):
        run_case(get_case(name), tmp_path, size=size, repeats=1)  # the check fails on a submission of another size
    assert {"kitti-1", "kitti-2", "kitti-2-predictions"} <= {p.name for p in tmp_path.iterdir()}
