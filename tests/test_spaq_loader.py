"""The SPAQ loader on the synthetic release: typed samples, mobench's fixed splits, refusals, the export."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from hub.core.errors import DatasetLayoutError, FormatError, MobenchError
from hub.core.registry import ImageQualityOptions, get_benchmark
from hub.export import export_benchmark
from loaders.spaq import ANNOTATIONS, EXIF_FILE, IMAGE_FOLDER, MOS_FILE, SCENE_FILE, SPAQ, split_of
from loaders.synthetic.spaq import N_IMAGES, NO_EXIF_IMAGE, build_spaq, phone_models
from tests.fixtures.image_exports import assert_export_equals_loader

# split_of("<name>") for 00001.jpg ... 00040.jpg, frozen: the split must never move between mobench versions
TEST_AMONG_FIRST_40 = ["00003", "00004", "00010", "00015", "00020", "00027", "00031", "00032", "00034"]


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("spaq") / "SPAQ"
    build_spaq(root, seed=0)
    return root


def _copy(release: Path, tmp_path: Path) -> Path:
    root = tmp_path / "SPAQ"
    shutil.copytree(release, root)
    return root


def test_reads_the_workbooks_as_typed_samples(release: Path) -> None:
    loader = SPAQ(release, "test")
    assert loader.config == "image" and loader.sample_ids() == [label.image for label in loader.labels()]
    first = next(iter(loader))
    assert first["id"] == loader.sample_ids()[0] and first["image"]["path"] == first["id"]
    assert first["image"]["bytes"] == (release / IMAGE_FOLDER / first["id"]).read_bytes()
    assert 0 <= first["mos"] <= 100 and {"sharpness", "noisiness", "exposure_time", "time_2"} <= set(first)
    assert isinstance(first["flash"], int) and first["device"].startswith("mobench SyntheticPhone")
    weights = [first[f] for f in loader.features() if f.startswith("scene_") and f != "scene_categories"]
    assert len(weights) == 9 and sum(weights) == pytest.approx(1.0, abs=1e-5)
    assert len(first["scene_categories"]) == sum(w > 0 for w in weights)
    dataset = loader.to_dataset()
    assert dataset.features == loader.features() and dataset["id"] == loader.sample_ids()


def test_image_split_is_a_fixed_hash_of_the_name_about_80_20(release: Path) -> None:
    first_40 = [f"{n:05d}.jpg" for n in range(1, 41)]
    assert [name[:5] for name in first_40 if split_of(name) == "test"] == TEST_AMONG_FIRST_40
    share = sum(split_of(f"{n:05d}.jpg") == "test" for n in range(1, 11126)) / 11125  # the release's names
    assert 0.19 < share < 0.21
    train, test = SPAQ(release, "train").sample_ids(), SPAQ(release, "test").sample_ids()
    assert not set(train) & set(test) and sorted(train + test) == [f"{n:05d}.jpg" for n in range(1, N_IMAGES + 1)]
    assert test == [name for name in sorted(test) if split_of(name) == "test"]


def test_membership_does_not_depend_on_row_order_or_other_rows(release: Path, tmp_path: Path) -> None:
    root = _copy(release, tmp_path)
    path = root / ANNOTATIONS / MOS_FILE
    book = openpyxl.load_workbook(path)
    sheet = book.active
    rows = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
    sheet.delete_rows(2, sheet.max_row)
    for row in reversed(rows[5:]):  # five rows fewer, the rest reversed
        sheet.append(row)
    book.save(path)
    for name in (EXIF_FILE, SCENE_FILE):
        (root / ANNOTATIONS / name).unlink()
    kept = SPAQ(root, "test").sample_ids()
    assert set(kept) == set(SPAQ(release, "test").sample_ids()) - {r[0] for r in rows[:5]}


def test_device_config_holds_out_whole_phones(release: Path) -> None:
    train, test = SPAQ(release, "train", "device"), SPAQ(release, "test", "device")
    phones = {
        split: {loader.device_of(i) for i in loader.sample_ids()}
        for split, loader in [("train", train), ("test", test)]
    }
    assert phones["test"] == {f"mobench {m}" for m in phone_models()[:2]} and not phones["train"] & phones["test"]
    no_exif = f"{NO_EXIF_IMAGE:05d}.jpg"
    assert train.device_of(no_exif) is None and no_exif not in train.sample_ids() + test.sample_ids()
    assert len(train) + len(test) == N_IMAGES - 1
    assert {row["device"] for row in test} == phones["test"]


def test_optional_workbooks_leave_their_columns_empty(release: Path, tmp_path: Path) -> None:
    root = _copy(release, tmp_path)
    (root / ANNOTATIONS / EXIF_FILE).unlink()
    (root / ANNOTATIONS / SCENE_FILE).unlink()
    first = next(iter(SPAQ(root, "test")))
    assert first["mos"] > 0 and first["iso"] is None and first["scene_plant"] is None
    assert first["scene_categories"] == []
    (root / ANNOTATIONS / MOS_FILE).unlink()
    with pytest.raises(DatasetLayoutError, match=r"missing annotation workbook Annotations/MOS and Image"):
        SPAQ(root, "test").labels()
    with pytest.raises(DatasetLayoutError, match="configs: image, device"):
        SPAQ(root, "test", "scene")


def _set(name: str, cell: str, value: Any) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        path = root / ANNOTATIONS / name
        book = openpyxl.load_workbook(path)
        book.active[cell] = value
        book.save(path)

    return change


def _not_a_workbook(root: Path) -> None:
    (root / ANNOTATIONS / MOS_FILE).write_text("Image name,MOS\n00001.jpg,50\n", encoding="utf-8")


def _drop_exif_row(root: Path) -> None:
    path = root / ANNOTATIONS / EXIF_FILE
    book = openpyxl.load_workbook(path)
    book.active.delete_rows(4)
    book.save(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _set(MOS_FILE, "B3", 101),
            r"scores.xlsx: row 3: image 00002.jpg: column MOS: 101 is not a number in \[0, 100\]",
        ),
        (_set(MOS_FILE, "G5", "sharp"), r"row 5: image 00004.jpg: column Sharpness: 'sharp' is not a number"),
        (_set(MOS_FILE, "C2", None), r"row 2: image 00001.jpg: column Brightness: None is not a number"),
        (_set(MOS_FILE, "B1", "Score"), r"scores.xlsx: header row is 'Image name, Score, Brightness"),
        (_set(MOS_FILE, "A4", "00002.jpg"), r"scores.xlsx: row 4: image 00002.jpg already listed on row 3"),
        (_set(MOS_FILE, "A6", 5), r"scores.xlsx: row 6: Image name 5 is not an image file name"),
        (_set(MOS_FILE, "H2", 1.0), r"scores.xlsx: row 2: 8 cells, the release has 7"),
        (
            _set(SCENE_FILE, "D3", 2.5),
            r"labels.xlsx: row 3: image 00002.jpg: column Human: 2.5 is not a number in \[0, 1\]",
        ),
        (_set(EXIF_FILE, "G2", 0.5), r"EXIF_tags.xlsx: image 00001.jpg: Flash 0.5"),
        (_set(EXIF_FILE, "A9", "99999.jpg"), r"EXIF_tags.xlsx: lists 99999.jpg, which MOS and Image attribute"),
        (_drop_exif_row, r"EXIF_tags.xlsx: lacks 1 image\(s\) of MOS and Image attribute scores.xlsx, e.g. 00003.jpg"),
        (_not_a_workbook, r"scores.xlsx: not a readable .xlsx workbook"),
    ],
)
def test_a_malformed_workbook_is_refused_naming_file_row_and_column(
    release: Path, tmp_path: Path, change: Callable[[Path], None], message: str
) -> None:
    root = _copy(release, tmp_path)
    change(root)
    with pytest.raises(FormatError, match=message):
        SPAQ(root, "test").labels()


def test_the_spec_declares_the_all_images_protocol_and_no_redistribution() -> None:
    spec = get_benchmark("spaq")
    assert spec.options_as(ImageQualityOptions) == ImageQualityOptions(
        type="image-quality", pooling="all-images", target="mos"
    )
    assert get_benchmark("piq23-overall").options_as(ImageQualityOptions).pooling == "per-scene-median"
    assert [m.name for m in spec.metrics] == ["srcc", "plcc", "krcc"] and spec.primary_metric == "srcc"
    assert not spec.publishable and [c.name for c in spec.configs] == ["image", "device"]
    with pytest.raises(MobenchError, match="sintel-clean declares none as evaluator_options"):
        get_benchmark("sintel-clean").options_as(ImageQualityOptions)


def test_load_dataset_on_the_export_equals_the_loader(release: Path, tmp_path: Path) -> None:
    spec = get_benchmark("spaq")
    out = tmp_path / "export"
    exported = export_benchmark(spec, release, out, max_rows_per_shard=20)
    assert {(e.config, e.split) for e in exported} == {(c, s) for c in ("image", "device") for s in ("train", "test")}
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "Local use only" in card and "fang2020cvpr" in card and "Synthetic data" in card
    selection = [("image", "test"), ("device", "train")]
    assert_export_equals_loader(spec, release, out, release / IMAGE_FOLDER, selection, tmp_path)
