"""KittiFlow2015 and Sintel loaders on tiny official-layout trees with hand-chosen ground truth."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pytest

from hub.core.errors import DatasetLayoutError, FormatError
from loaders.formats.flo import flow_feature
from loaders.formats.masks import label_map_feature, mask_feature
from loaders.kitti_flow import KittiFlow2015
from loaders.sintel import Sintel
from tests.fixtures.flow_trees import rgb_frame, write_kitti_tree, write_sintel_tree

FlowLoader = KittiFlow2015 | Sintel

# ---------------------------------------------------------------- KITTI 2015


def _kitti_frames() -> dict[str, dict[str, np.ndarray]]:
    """Two frames of different sizes (as in KITTI) with exact, 1/64-grid flows and hand-set masks."""
    flow_a = np.zeros((4, 6, 2), dtype=np.float32)
    flow_a[..., 0] = 2.5  # u
    flow_a[..., 1] = -1.25  # v
    flow_a[3, 5] = [-300.0, 400.015625]
    valid_occ_a = np.ones((4, 6), dtype=bool)
    valid_occ_a[0] = False  # no GT in the top row, like KITTI's sky
    valid_noc_a = valid_occ_a.copy()
    valid_noc_a[:, 5] = False  # right column leaves the frame: not in noc
    obj_a = np.zeros((4, 6), dtype=np.uint8)
    obj_a[2:, 1:3] = 2
    flow_b = np.full((5, 3, 2), 0.5, dtype=np.float32)
    return {
        "000000": {
            "flow_occ": flow_a,
            "valid_occ": valid_occ_a,
            "valid_noc": valid_noc_a,
            "obj_map": obj_a,
            "image1": rgb_frame(4, 6, 10),
            "image2": rgb_frame(4, 6, 11),
        },
        "000001": {"flow_occ": flow_b},
    }


@pytest.fixture
def kitti_root(tmp_path: Path) -> Path:
    root = write_kitti_tree(tmp_path / "kitti", _kitti_frames())
    return write_kitti_tree(root, {"000000": {}, "000001": {}, "000002": {}}, split="testing")


def test_kitti_ids_frames_and_ground_truth(kitti_root: Path) -> None:
    loader = KittiFlow2015(kitti_root)
    assert loader.sample_ids() == ["kitti-2015/training/000000", "kitti-2015/training/000001"]
    frames = _kitti_frames()["000000"]
    gt = loader.ground_truth("kitti-2015/training/000000")
    assert set(gt) == {"flow_occ", "valid_occ", "flow_noc", "valid_noc", "obj_map"}
    assert gt["flow_occ"].dtype == np.float32 and gt["valid_occ"].dtype == bool and gt["obj_map"].dtype == np.uint8
    valid = frames["valid_occ"]
    np.testing.assert_array_equal(gt["valid_occ"], valid)
    np.testing.assert_array_equal(gt["flow_occ"][valid], frames["flow_occ"][valid])
    assert not gt["flow_occ"][~valid].any()  # invalid pixels decode to 0, never to -512
    np.testing.assert_array_equal(gt["valid_noc"], frames["valid_noc"])
    np.testing.assert_array_equal(gt["obj_map"], frames["obj_map"])
    first, second = loader.image_pair("kitti-2015/training/000000")
    np.testing.assert_array_equal(first, frames["image1"])
    np.testing.assert_array_equal(second, frames["image2"])
    assert loader.ground_truth("kitti-2015/training/000001")["flow_occ"].shape == (5, 3, 2)


def test_kitti_samples_match_features_and_testing_has_no_gt(kitti_root: Path) -> None:
    samples = list(KittiFlow2015(kitti_root))
    assert [s["frame"] for s in samples] == ["000000", "000001"]
    assert set(samples[0]) == set(KittiFlow2015(kitti_root).features())
    testing = KittiFlow2015(kitti_root, split="testing")
    assert testing.sample_ids() == [f"kitti-2015/testing/00000{i}" for i in range(3)]
    sample = next(iter(testing))
    assert sample["image1"].shape == (6, 10, 3)
    assert all(sample[k] is None for k in ("flow_occ", "valid_occ", "flow_noc", "valid_noc", "obj_map"))
    with pytest.raises(DatasetLayoutError, match="ships no ground truth"):
        testing.ground_truth("kitti-2015/testing/000000")


def test_kitti_rejects_unknown_split_and_sample(kitti_root: Path) -> None:
    with pytest.raises(DatasetLayoutError, match="unknown split 'test'; valid splits: training, testing"):
        KittiFlow2015(kitti_root, split="test")
    with pytest.raises(DatasetLayoutError, match="unknown sample id 'kitti-2015/training/000009'"):
        KittiFlow2015(kitti_root).ground_truth("kitti-2015/training/000009")


def test_kitti_missing_folder_shows_the_layout(kitti_root: Path) -> None:
    shutil.rmtree(kitti_root / "training" / "flow_noc")
    with pytest.raises(DatasetLayoutError, match="missing training/flow_noc/ folder") as err:
        KittiFlow2015(kitti_root)
    assert "obj_map/000000_10.png" in str(err.value)  # the expected tree is quoted


def test_kitti_missing_files_are_listed(kitti_root: Path) -> None:
    (kitti_root / "training" / "image_2" / "000001_11.png").unlink()
    (kitti_root / "training" / "obj_map" / "000000_10.png").unlink()
    with pytest.raises(DatasetLayoutError, match="2 file\\(s\\) missing") as err:
        KittiFlow2015(kitti_root)
    message = str(err.value)
    assert "image_2/000001_11.png" in message and "obj_map/000000_10.png" in message
    assert "Expected layout" in message


def test_kitti_gt_of_the_wrong_size_is_a_format_error(kitti_root: Path) -> None:
    write_kitti_tree(kitti_root, {"000001": {"flow_occ": np.zeros((5, 3, 2)), "image1": rgb_frame(5, 4)}})
    loader = KittiFlow2015(kitti_root)
    with pytest.raises(FormatError, match=r"GT size \(5, 3\) differs from the frame size \(5, 4\)") as err:
        list(loader)
    assert "flow_occ/000001_10.png" in str(err.value)


# ---------------------------------------------------------------- Sintel


def _sintel_scenes() -> dict[str, list[dict[str, np.ndarray]]]:
    """Scene 'alley_1' of 3 frames and 'bamboo_2' of 2; every frame and flow is distinct so pairs are traceable."""
    shape = (3, 5)
    scenes: dict[str, list[dict[str, np.ndarray]]] = {}
    for scene_index, (scene, n) in enumerate([("alley_1", 3), ("bamboo_2", 2)]):
        frames = []
        for i in range(n):
            seed = 100 * scene_index + i
            frame: dict[str, np.ndarray] = {"image": rgb_frame(*shape, seed), "final": rgb_frame(*shape, seed + 50)}
            if i < n - 1:
                frame["flow"] = np.full((*shape, 2), [seed + 0.5, -seed - 0.25], dtype=np.float32)
                occlusion = np.zeros(shape, dtype=bool)
                occlusion[0, i] = True
                frame["occlusion"] = occlusion
            frames.append(frame)
        scenes[scene] = frames
    scenes["alley_1"][1]["invalid"] = np.eye(3, 5, dtype=bool)
    return scenes


@pytest.fixture
def sintel_root(tmp_path: Path) -> Path:
    root = write_sintel_tree(tmp_path / "sintel", _sintel_scenes())
    return write_sintel_tree(root, {"cave_9": [{}, {}, {}]}, split="test")


def test_sintel_pairs_stay_within_scenes(sintel_root: Path) -> None:
    loader = Sintel(sintel_root, pass_name="final")
    assert loader.sample_ids() == [
        "sintel/final/training/alley_1/frame_0001",
        "sintel/final/training/alley_1/frame_0002",
        "sintel/final/training/bamboo_2/frame_0001",
    ]
    scenes = _sintel_scenes()
    # The last pair of alley_1 is frames 2 -> 3 of alley_1, never frame 3 -> bamboo_2's frame 1.
    first, second = loader.image_pair("sintel/final/training/alley_1/frame_0002")
    np.testing.assert_array_equal(first, scenes["alley_1"][1]["final"])
    np.testing.assert_array_equal(second, scenes["alley_1"][2]["final"])
    assert loader.scene_of("sintel/final/training/bamboo_2/frame_0001") == "bamboo_2"
    clean_first, _ = Sintel(sintel_root, pass_name="clean").image_pair("sintel/clean/training/alley_1/frame_0002")
    np.testing.assert_array_equal(clean_first, scenes["alley_1"][1]["image"])


def test_sintel_ground_truth_flow_and_masks(sintel_root: Path) -> None:
    loader = Sintel(sintel_root)
    gt = loader.ground_truth("sintel/clean/training/alley_1/frame_0002")
    expected = _sintel_scenes()["alley_1"][1]
    assert set(gt) == {"flow", "occlusion", "invalid"}
    assert gt["flow"].dtype == np.float32 and gt["occlusion"].dtype == bool and gt["invalid"].dtype == bool
    np.testing.assert_array_equal(gt["flow"], expected["flow"])  # frame_0002.flo maps frame 2 -> 3
    np.testing.assert_array_equal(gt["occlusion"], expected["occlusion"])
    np.testing.assert_array_equal(gt["invalid"], expected["invalid"])
    sample = next(iter(loader))
    assert sample["scene"] == "alley_1" and sample["frame"] == 1
    assert set(sample) == set(loader.features())


def test_sintel_test_split_has_no_gt(sintel_root: Path) -> None:
    loader = Sintel(sintel_root, split="test")
    assert loader.sample_ids() == ["sintel/clean/test/cave_9/frame_0001", "sintel/clean/test/cave_9/frame_0002"]
    assert all(next(iter(loader))[k] is None for k in ("flow", "occlusion", "invalid"))
    with pytest.raises(DatasetLayoutError, match="ships no ground truth"):
        loader.ground_truth("sintel/clean/test/cave_9/frame_0001")


def test_sintel_rejects_unknown_split_pass_and_id(sintel_root: Path) -> None:
    with pytest.raises(DatasetLayoutError, match="unknown split 'testing'; valid splits: training, test"):
        Sintel(sintel_root, split="testing")
    with pytest.raises(DatasetLayoutError, match="unknown pass 'albedo'"):
        Sintel(sintel_root, pass_name="albedo")
    with pytest.raises(DatasetLayoutError, match="unknown sample id"):
        Sintel(sintel_root).ground_truth("sintel/final/training/alley_1/frame_0001")  # the other pass's id


def test_sintel_missing_invalid_mask_is_an_error(sintel_root: Path) -> None:
    (sintel_root / "training" / "invalid" / "bamboo_2" / "frame_0001.png").unlink()
    with pytest.raises(DatasetLayoutError, match="1 ground-truth file\\(s\\) missing") as err:
        Sintel(sintel_root)
    assert "invalid/bamboo_2/frame_0001.png" in str(err.value)
    assert "occlusions/<scene>/frame_0001.png" in str(err.value)
    shutil.rmtree(sintel_root / "training" / "invalid")
    with pytest.raises(DatasetLayoutError, match="missing training/invalid/ folder"):
        Sintel(sintel_root)


def test_sintel_frame_gap_is_an_error(sintel_root: Path) -> None:
    (sintel_root / "training" / "clean" / "alley_1" / "frame_0002.png").unlink()
    with pytest.raises(DatasetLayoutError, match=r"frame_0002\.png is missing"):
        Sintel(sintel_root)


def test_sintel_flow_of_the_wrong_size_is_a_format_error(sintel_root: Path) -> None:
    scenes = _sintel_scenes()
    scenes["bamboo_2"][0]["flow"] = np.zeros((3, 4, 2), dtype=np.float32)
    scenes["bamboo_2"][0]["occlusion"] = np.zeros((3, 4), dtype=bool)
    scenes["bamboo_2"][0]["invalid"] = np.zeros((3, 4), dtype=bool)
    write_sintel_tree(sintel_root, {"bamboo_2": scenes["bamboo_2"]})
    loader = Sintel(sintel_root)
    with pytest.raises(FormatError, match="differs from the frame size") as err:
        list(loader)
    assert "flow/bamboo_2/frame_0001.flo" in str(err.value)


# ---------------------------------------------------------------- datasets export


def _assert_rows_equal_samples(loader: FlowLoader, rows: datasets.Dataset) -> None:
    """Every column of every row equals what the loader yields, bit for bit (images decoded to uint8 RGB), and the
    documented reshape of each per-pixel column, `(height, width[, 2])`, gives the ground truth back."""
    samples = list(loader)
    assert len(rows) == len(samples)
    assert rows.features == loader.features()  # label maps stored as uint8, whatever numpy format returns
    layouts = [(flow_feature(), (2,)), (mask_feature(), ()), (label_map_feature(), ())]  # dims after (H, W)
    pixels = {key: dims for key, feature in loader.features().items() for layout, dims in layouts if feature == layout}
    for row, sample in zip(rows.with_format("numpy"), samples, strict=True):
        assert set(row) == set(sample)
        if loader.split == "training":
            gt = loader.ground_truth(sample["id"])
            assert set(pixels) == set(gt)  # every ground-truth array is a per-pixel column
            for key, dims in pixels.items():
                np.testing.assert_array_equal(row[key].reshape(row["height"], row["width"], *dims), gt[key])
        for key, value in sample.items():
            got: Any = row[key]
            if value is None:
                assert got is None, key
            elif isinstance(value, np.ndarray):
                got = np.asarray(got)
                assert got.shape == value.shape, key
                np.testing.assert_array_equal(got, value)
                if value.dtype in (np.float32, np.bool_):
                    assert got.dtype == value.dtype, key  # flows stay float32, masks bool
            else:
                assert got == value, key


def _export_and_reload(loaders: dict[str, FlowLoader], tmp_path: Path) -> None:
    """The exporter's path: one parquet shard per split, a README `configs` block, then `load_dataset(folder)`.

    All splits sit in one config, which only loads if their schemas agree: this is why unlabelled splits keep the
    GT columns (as None) instead of dropping them.
    """
    folder = tmp_path / "export"
    (folder / "data").mkdir(parents=True)
    files = []
    for split, loader in loaders.items():
        ds = loader.to_dataset(cache_dir=tmp_path / "cache")
        _assert_rows_equal_samples(loader, ds)
        ds.to_parquet(str(folder / "data" / f"{split}-00000-of-00001.parquet"))
        files.append(f"  - split: {split}\n    path: data/{split}-*.parquet\n")
    (folder / "README.md").write_text(
        "---\nconfigs:\n- config_name: default\n  data_files:\n" + "".join(files) + "---\n"
    )
    for split, loader in loaders.items():
        reloaded = datasets.load_dataset(str(folder), "default", split=split, cache_dir=str(tmp_path / "hf"))
        _assert_rows_equal_samples(loader, reloaded)


def test_kitti_to_dataset_and_load_dataset_round_trip_exactly(kitti_root: Path, tmp_path: Path) -> None:
    loaders: dict[str, FlowLoader] = {split: KittiFlow2015(kitti_root, split) for split in KittiFlow2015.splits}
    _export_and_reload(loaders, tmp_path)


@pytest.mark.parametrize("pass_name", ["clean", "final"])
def test_sintel_to_dataset_and_load_dataset_round_trip_exactly(
    sintel_root: Path, tmp_path: Path, pass_name: str
) -> None:
    loaders: dict[str, FlowLoader] = {split: Sintel(sintel_root, split, pass_name=pass_name) for split in Sintel.splits}
    _export_and_reload(loaders, tmp_path)
