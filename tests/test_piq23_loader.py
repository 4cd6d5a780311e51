"""PIQ23 loader on a tree written in the release's exact format (tests/fixtures/piq23.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.core.errors import DatasetLayoutError, FormatError
from hub.core.registry import get_benchmark
from hub.export import export_benchmark
from loaders.piq23 import PIQ23
from tests.fixtures.image_exports import assert_export_equals_loader
from tests.fixtures.piq23 import HEADER, fixture_images, score_line, write_piq23_tree


def test_reads_the_release_format_with_typed_samples(tmp_path: Path) -> None:
    write_piq23_tree(tmp_path)
    raw = (tmp_path / "Scores_Overall.csv").read_bytes()
    assert b"\r\n" in raw and b"Overall\\0_Indoor_Scene_1.jpg" in raw  # the fixture really is in release format

    loader = PIQ23(tmp_path, "test", "device", attribute="Overall")
    expected = [i for i in fixture_images() if i.device_split == "Test"]
    assert loader.sample_ids() == [i.name for i in expected]  # score-file order, names exactly as spelled
    assert {name.rsplit(".", 1)[1] for name in loader.sample_ids()} == {"JPG", "jpeg", "tiff", "tif"}
    samples = list(loader)
    first = samples[0]
    assert first["id"] == "1_Indoor_Scene_1.JPG" and first["image_path"] == "Overall\\1_Indoor_Scene_1.JPG"
    assert first["jod"] == -1.5 and first["ci_low"] == -2.5 and first["ci_high"] == -0.5
    assert (first["quality_level"], first["cluster"], first["total_comparisons"]) == (3, -1, 143)
    assert (first["scene"], first["scene_idx"], first["condition"]) == ("Indoor_Scene_1", 1, "Indoor")
    assert (first["attribute"], first["device"]) == ("Overall", "Phone1")
    for sample in samples:  # the image is the file's own bytes (JPEG/TIFF untouched)
        assert sample["image"]["bytes"] == (tmp_path / "Overall" / sample["id"]).read_bytes()
    assert PIQ23(tmp_path, "test", "device", attribute="Details").labels()[0].image_path.startswith("Details\\")


def test_device_split_membership_by_exact_image(tmp_path: Path) -> None:
    write_piq23_tree(tmp_path)
    train = set(PIQ23(tmp_path, "train", "device").sample_ids())
    test = set(PIQ23(tmp_path, "test", "device").sample_ids())
    assert train == {i.name for i in fixture_images() if i.device_split == "Train"} and len(train) == 8
    assert test == {i.name for i in fixture_images() if i.device_split == "Test"} and len(test) == 16
    assert not train & test


def test_scene_split_keys_on_the_exact_scene_never_a_prefix(tmp_path: Path) -> None:
    write_piq23_tree(tmp_path)
    test = PIQ23(tmp_path, "test", "scene").labels()
    # Indoor_Scene_1 is a prefix of Indoor_Scene_10; substring matching would pull the latter into test
    assert {label.scene for label in test} == {"Indoor_Scene_1"} and len(test) == 6
    train = PIQ23(tmp_path, "train", "scene").labels()
    assert {label.scene for label in train} == {"Indoor_Scene_10", "Night_Scene_28", "Outdoor_Scene_33"}
    assert len(train) == 18


def test_a_per_attribute_split_file_that_disagrees_is_rejected(tmp_path: Path) -> None:
    items = write_piq23_tree(tmp_path)
    # the substring bug's version of the scene test set: Indoor_Scene_1 plus Indoor_Scene_10
    wrong = [f"{score_line(i, 'Overall')},Test" for i in items if i.scene.startswith("Indoor_Scene_1")]
    path = tmp_path / "Test split" / "Scene Split" / "SceneSplit_Test_Scores_Overall.csv"
    path.write_bytes(("\r\n".join([f"{HEADER},SPLIT", *wrong]) + "\r\n").encode())
    with pytest.raises(DatasetLayoutError, match=r"6_Indoor_Scene_10\.jpg .*not in the test split"):
        PIQ23(tmp_path, "test", "scene").labels()


def test_optional_files_and_the_repository_layout(tmp_path: Path) -> None:
    write_piq23_tree(tmp_path, per_attribute_splits=False, metadata=False, scores_folder="Scores")
    labels = PIQ23(tmp_path, "test", "device").labels()
    assert len(labels) == 16 and all(label.device is None for label in labels)


@pytest.mark.parametrize(
    ("relative", "old", "new", "message"),
    [
        ("Scores_Overall.csv", "JOD STD,CI LOW", "CI LOW,JOD STD", "header is"),
        (
            "Scores_Overall.csv",
            "Overall\\2_Indoor_Scene_1.jpeg",
            "Details\\2_Indoor_Scene_1.jpeg",
            "line 4: IMAGE PATH",
        ),
        ("Scores_Overall.csv", ",143.0,3_Indoor_Scene_1", ",143.5,3_Indoor_Scene_1", "line 5: .*not an integer"),
        ("Scores_Overall.csv", ",Night\r\n", ",Dusk\r\n", "CONDITION 'Dusk'"),
        ("Test split/Scene Split.csv", "Indoor_Scene_10,Train,6", "Indoor_Scene_10,Train,5", "NB IMAGES 5"),
        ("Test split/Device Split.csv", "7_Indoor_Scene_10.JPG,Test", "7_Indoor_Scene_10.JPG,Val", "neither Train"),
    ],
)
def test_malformed_release_files_fail_naming_file_and_line(
    tmp_path: Path, relative: str, old: str, new: str, message: str
) -> None:
    write_piq23_tree(tmp_path)
    path = tmp_path / relative
    text = path.read_bytes().decode()
    assert old in text
    path.write_bytes(text.replace(old, new, 1).encode())
    config = "scene" if "Scene Split" in relative else "device"
    with pytest.raises(FormatError, match=message):
        PIQ23(tmp_path, "test", config).labels()


def test_unknown_config_and_attribute(tmp_path: Path) -> None:
    write_piq23_tree(tmp_path)
    with pytest.raises(DatasetLayoutError, match="configs: device, scene"):
        PIQ23(tmp_path, "test", "random")
    with pytest.raises(DatasetLayoutError, match="attributes: Details, Exposure, Overall"):
        PIQ23(tmp_path, "test", attribute="Colour")


def test_load_dataset_on_the_export_equals_the_loader(tmp_path: Path) -> None:
    root = tmp_path / "piq23"
    write_piq23_tree(root)
    spec = get_benchmark("piq23-exposure")
    out = tmp_path / "export"
    exported = export_benchmark(spec, root, out, max_rows_per_shard=5)
    assert sorted((e.config, e.split) for e in exported) == [
        ("device", "test"),
        ("device", "train"),
        ("scene", "test"),
        ("scene", "train"),
    ]
    assert "Local use only" in (out / "README.md").read_text(encoding="utf-8") and not spec.publishable
    assert_export_equals_loader(spec, root, out, root / "Exposure", [("device", "test"), ("scene", "train")], tmp_path)
