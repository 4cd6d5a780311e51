"""`mobench export`: parquet + dataset card that `datasets.load_dataset` reads back exactly."""

from __future__ import annotations

from pathlib import Path

import datasets
import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from hub.cli.app import app
from hub.core.errors import MobenchError
from hub.core.registry import get_benchmark
from hub.export import export_benchmark
from hub.wiring import make_loader
from loaders.kitti_flow import KittiFlow2015
from loaders.synthetic.flow import build_kitti_2015, build_sintel


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
