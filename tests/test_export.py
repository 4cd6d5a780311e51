"""`mobench export`: parquet + dataset card that `datasets.load_dataset` reads back exactly."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import datasets
import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from hub.cli.app import app
from hub.core.errors import FormatError, MobenchError
from hub.core.registry import get_benchmark
from hub.export import export_benchmark
from hub.scoring.wiring import make_loader
from loaders.kitti_flow import KittiFlow2015
from loaders.synthetic.flow import build_hd1k, build_kitti_2015, build_sintel
from tests.fixtures.health import edge_pmdata


def _front_matter(card: str) -> dict[str, object]:
    _, front, _ = card.split("---\n", 2)
    loaded: dict[str, object] = yaml.safe_load(front)
    return loaded


def test_kitti_export_loads_back_bit_for_bit(tmp_path: Path) -> None:
    root = tmp_path / "kitti"
    build_kitti_2015(root, seed=3)
    out = tmp_path / "export"
    result = CliRunner().invoke(
        app, ["export", "kitti-2015-flow", "--root", str(root), "--out", str(out), "--max-rows-per-shard", "3"]
    )
    assert result.exit_code == 0, result.output
    card = (out / "README.md").read_text(encoding="utf-8")
    front = _front_matter(card)
    assert front["license_name"] == "CC-BY-NC-SA-3.0" and "synthetic" in front["tags"]  # type: ignore[operator]
    assert "Synthetic data" in card and "Share-alike" in card and "Menze2015CVPR" in card
    assert "Every per-pixel column is stored flat" in card
    assert "flows (`flow_occ`, `flow_noc`)" in card and "masks (`valid_occ`, `valid_noc`)" in card
    assert "label maps (`obj_map`) as the H*W uint8 values" in card
    # the reshapes used below
    assert 'flow_occ = row["flow_occ"].reshape(row["height"], row["width"], 2)' in card
    assert 'valid_occ = row["valid_occ"].reshape(row["height"], row["width"])' in card
    assert 'obj_map = row["obj_map"].reshape(row["height"], row["width"])' in card
    assert len(list((out / "default").glob("training-*.parquet"))) == 2  # 4 rows, 3 per shard

    loaded = datasets.load_dataset(str(out), "default", split="training", cache_dir=str(tmp_path / "hf-cache"))
    loader = make_loader(get_benchmark("kitti-2015-flow"), root, "training")
    assert isinstance(loader, KittiFlow2015)
    assert loaded["id"] == loader.sample_ids()
    assert loaded.features == loader.features()  # obj_map stored as uint8, masks as bool
    numpy_rows = loaded.with_format("numpy")
    for index, sample_id in enumerate(loader.sample_ids()):
        gt = loader.ground_truth(sample_id)
        row = numpy_rows[index]
        assert row["flow_occ"].dtype == np.float32
        flow_occ = row["flow_occ"].reshape(row["height"], row["width"], 2)
        np.testing.assert_array_equal(flow_occ, gt["flow_occ"])  # no 8-bit truncation of 16-bit GT
        assert row["valid_occ"].dtype == bool
        valid_occ = row["valid_occ"].reshape(row["height"], row["width"])
        np.testing.assert_array_equal(valid_occ, gt["valid_occ"])
        assert row["obj_map"].dtype == np.int64  # numpy format widens every integer column; the values are exact
        obj_map = row["obj_map"].reshape(row["height"], row["width"])
        np.testing.assert_array_equal(obj_map, gt["obj_map"])
        image1, _ = loader.image_pair(sample_id)
        np.testing.assert_array_equal(np.asarray(loaded[index]["image1"]), image1)

    testing = datasets.load_dataset(str(out), "default", split="testing", cache_dir=str(tmp_path / "hf-cache"))
    assert len(testing) == len(make_loader(get_benchmark("kitti-2015-flow"), root, "testing"))


def test_hd1k_export_loads_back_and_is_local_use_only(tmp_path: Path) -> None:
    root = tmp_path / "hd1k"
    build_hd1k(root, seed=1)
    spec = get_benchmark("hd1k-flow")
    out = tmp_path / "export"
    assert [(e.split, e.n_rows) for e in export_benchmark(spec, root, out)] == [("training", 8), ("testing", 2)]
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "Local use only" in card and "HD1K-terms-unverified" in card and "Kondermann2016CVPRW" in card
    assert "flows (`flow_occ`)" in card and "masks (`valid_occ`)" in card and "label maps" not in card
    loaded = datasets.load_dataset(str(out), "default", split="training", cache_dir=str(tmp_path / "hf-cache"))
    loader = make_loader(spec, root, "training")
    assert loaded["id"] == loader.sample_ids() and loaded.features == loader.features()
    rows = loaded.with_format("numpy")
    for index, sample_id in enumerate(loader.sample_ids()):
        gt, row = loader.ground_truth(sample_id), rows[index]
        np.testing.assert_array_equal(row["flow_occ"].reshape(row["height"], row["width"], 2), gt["flow_occ"])
        np.testing.assert_array_equal(row["valid_occ"].reshape(row["height"], row["width"]), gt["valid_occ"])
        np.testing.assert_array_equal(np.asarray(loaded[index]["image2"]), loader.image_pair(sample_id)[1])
    testing = datasets.load_dataset(str(out), "default", split="testing", cache_dir=str(tmp_path / "hf-cache"))
    assert testing["id"] == ["hd1k/testing/000000_0010", "hd1k/testing/000001_0010"]
    result = CliRunner().invoke(app, ["publish", "hd1k-flow", "--folder", str(out), "--repo-id", "me/h", "--dry-run"])
    assert isinstance(result.exception, MobenchError) and "forbids redistribution" in str(result.exception)


def test_research_only_licence_is_marked_local_use(tmp_path: Path) -> None:
    root = tmp_path / "sintel"
    build_sintel(root, seed=0)
    exported = export_benchmark(get_benchmark("sintel-final"), root, tmp_path / "out", splits=["training"])
    assert [(e.config, e.split) for e in exported] == [("default", "training")]
    card = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    assert "Local use only" in card
    assert "flows (`flow`)" in card and "masks (`occlusion`, `invalid`)" in card and "label maps" not in card
    with pytest.raises(MobenchError, match="--overwrite"):
        export_benchmark(get_benchmark("sintel-final"), root, tmp_path / "out")
    replaced = export_benchmark(get_benchmark("sintel-final"), root, tmp_path / "out", overwrite=True)
    assert [(e.config, e.split) for e in replaced] == [("default", "training"), ("default", "test")]


def test_overwrite_replaces_only_an_earlier_export(tmp_path: Path) -> None:
    root = tmp_path / "sintel"
    build_sintel(root, seed=0)
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(MobenchError, match="not a mobench export"):
        export_benchmark(get_benchmark("sintel-final"), root, precious, overwrite=True)
    assert (precious / "notes.txt").read_text(encoding="utf-8") == "keep me"
    with pytest.raises(MobenchError, match="is a file"):
        export_benchmark(get_benchmark("sintel-final"), root, precious / "notes.txt")


def test_publish_refuses_a_licence_that_forbids_redistribution_before_anything_leaves(tmp_path: Path) -> None:
    root = tmp_path / "sintel"
    build_sintel(root, seed=0)
    export_benchmark(get_benchmark("sintel-clean"), root, tmp_path / "out", splits=["training"])
    result = CliRunner().invoke(
        app, ["publish", "sintel-clean", "--folder", str(tmp_path / "out"), "--repo-id", "me/sintel", "--dry-run"]
    )
    assert isinstance(result.exception, MobenchError)
    assert "forbids redistribution" in str(result.exception) and "MPI-Sintel-research" in str(result.exception)


def test_publish_dry_run_lists_a_share_alike_export(tmp_path: Path) -> None:
    root = tmp_path / "kitti"
    build_kitti_2015(root, seed=0)
    export_benchmark(get_benchmark("kitti-2015-flow"), root, tmp_path / "out")
    result = CliRunner().invoke(
        app, ["publish", "kitti-2015-flow", "--folder", str(tmp_path / "out"), "--repo-id", "me/k", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "would upload 3 file(s)" in result.output and "share-alike" in result.output


def test_an_empty_split_is_refused_with_its_reason_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(_fresh(tmp_path / "tmp")))
    root = edge_pmdata(tmp_path / "pmdata")  # p01 (test side of `participant`) has a window; p02 has none
    spec = get_benchmark("pmdata-stress")
    out = tmp_path / "out"
    export_benchmark(spec, root, out, configs=["all"])
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    with pytest.raises(MobenchError) as caught:
        export_benchmark(spec, root, out, overwrite=True)
    message = str(caught.value)
    assert "\n" not in message and "participant/train: no window of participant(s) p02 falls in it" in message
    assert "files absent: p02/fitbit/resting_heart_rate.json" in message
    assert "participant/test (1 rows)" in message and "Nothing was written" in message
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before  # the earlier export is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "pmdata", "tmp"]  # no staging folder left
    assert list((tmp_path / "tmp").iterdir()) == []  # no mobench-ds-* cache left
    # `to_dataset` of an empty split is an empty dataset with the split's features, not a `datasets` ValueError
    empty = make_loader(spec, root, "train", "participant")
    assert len(empty.to_dataset(tmp_path / "cache")) == 0 and empty.to_dataset().features == empty.features()


def test_a_file_refused_while_exporting_is_the_loaders_own_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(_fresh(tmp_path / "tmp")))
    root = tmp_path / "sintel"
    build_sintel(root, seed=0)
    flo = sorted((root / "training" / "flow").rglob("*.flo"))[-1]
    flo.write_bytes(flo.read_bytes()[:100])  # truncated: read only when its sample is exported
    with pytest.raises(FormatError) as caught:  # not the DatasetGenerationError `datasets` wraps it in
        export_benchmark(get_benchmark("sintel-clean"), root, tmp_path / "out", splits=["training"])
    assert caught.value.path == flo
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sintel", "tmp"]  # no out, no staging folder
    assert list((tmp_path / "tmp").iterdir()) == []  # the Arrow cache is removed on failure too


def test_cli_export_errors_are_one_line_exit_2_and_leave_no_cache(tmp_path: Path) -> None:
    root = edge_pmdata(tmp_path / "pmdata")
    (root / "p02" / "pmsys" / "wellness.csv").write_text("when,stress\n2020-01-01T00:00:00.000Z,3\n", encoding="utf-8")
    temp = _fresh(tmp_path / "tmp")
    for args in (
        ["export", "pmdata-stress", "--root", str(root), "--out", str(tmp_path / "out")],
        ["evaluate", "pmdata-stress", "--root", str(root), "--predictions", str(tmp_path)],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "hub.cli.app", *args],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "TMPDIR": str(temp)},
        )
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        wellness = root / "p02" / "pmsys" / "wellness.csv"
        assert result.stderr.strip().splitlines() == [
            f"error: {wellness}: header lacks column(s) effective_time_frame, fatigue, mood, readiness, "
            "sleep_duration_h, sleep_quality, soreness, soreness_area"
        ]
    assert not (tmp_path / "out").exists() and not [p for p in temp.iterdir() if p.name.startswith("mobench-ds-")]


def _fresh(folder: Path) -> Path:
    folder.mkdir()
    return folder
