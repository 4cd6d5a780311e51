"""MIDV loaders on fixture trees in the official layout: ids, clip parsing, corner subsets, documents, export."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import numpy as np
import pytest

from hub.core.errors import DatasetLayoutError, FormatError
from hub.core.registry import get_benchmark
from hub.export import export_benchmark
from hub.scoring.wiring import make_loader
from loaders.midv import MIDV500, MIDV2019
from loaders.midv_annotations import corners_in_frame, parse_document_name
from tests.fixtures.midv import (
    FIELDS,
    FRAME_H,
    FRAME_W,
    INSIDE,
    MIDV500_FRAMES,
    MIDV2019_FRAMES,
    build_tree,
    frame_id,
)


def test_one_sample_per_frame_with_parsed_clip_and_document(tmp_path: Path) -> None:
    loader = MIDV500(build_tree(tmp_path, MIDV500_FRAMES))
    assert loader.sample_ids() == sorted(
        [
            frame_id("midv500", "01_alb_id", "CA", 1),
            frame_id("midv500", "01_alb_id", "CA", 2),
            frame_id("midv500", "01_alb_id", "TS", 1),
            frame_id("midv500", "02_aut_drvlic_new", "HA", 1),
        ]
    )
    rows = {row["id"]: row for row in loader}
    ca = rows["midv500/01_alb_id/CA/CA01_02"]
    assert (ca["condition"], ca["phone"], ca["frame_index"]) == ("clutter", "iPhone 5", 2)
    assert (ca["document_type"], ca["country"]) == ("id", "alb")
    assert (ca["template_width"], ca["template_height"]) == (100, 50)
    assert (ca["image_width"], ca["image_height"]) == (FRAME_W, FRAME_H)
    assert ca["image"].shape == (FRAME_H, FRAME_W, 3)
    np.testing.assert_array_equal(ca["quad"], [[10, 5], [130, 5], [110, 55], [10, 55]])  # exactly as released
    ts = rows["midv500/01_alb_id/TS/TS01_01"]
    assert (ts["condition"], ts["phone"]) == ("table", "Samsung Galaxy S3")
    ha = rows["midv500/02_aut_drvlic_new/HA/HA02_01"]
    assert (ha["condition"], ha["document_type"], ha["country"]) == ("hand", "drvlic", "aut")
    assert "fields" not in ha  # field annotations live with the document


@pytest.mark.parametrize(
    ("loader", "clip", "expected"),
    [
        (MIDV500, "TA", ("table", "iPhone 5")),
        (MIDV500, "KS", ("keyboard", "Samsung Galaxy S3")),
        (MIDV500, "PA", ("partial", "iPhone 5")),
        (MIDV2019, "DX", ("distorted", "iPhone XS Max")),
        (MIDV2019, "LG", ("low light", "Samsung Galaxy S10")),
    ],
)
def test_clip_codes_of_both_datasets(loader: type[MIDV500], clip: str, expected: tuple[str, str]) -> None:
    assert loader.parse_clip(clip) == expected


def test_clip_codes_of_the_other_dataset_are_rejected() -> None:
    with pytest.raises(DatasetLayoutError, match="clip code"):
        MIDV500.parse_clip("DX")
    with pytest.raises(DatasetLayoutError, match="clip code"):
        MIDV2019.parse_clip("CA")


def test_document_names() -> None:
    assert parse_document_name("02_aut_drvlic_new") == ("02", "aut", "drvlic")
    assert parse_document_name("39_rus_internalpassport") == ("39", "rus", "internalpassport")
    assert parse_document_name("49_usa_ssn82") == ("49", "usa", "ssn82")


def test_corner_counts_and_subset_config(tmp_path: Path) -> None:
    # INSIDE: 4 corners in the closed frame; THREE_IN: x = 130 > 120 for one corner; TWO_IN: x = -20 twice.
    quad = np.asarray(INSIDE, dtype=np.float64)
    assert corners_in_frame(quad, FRAME_W, FRAME_H) == 4
    assert corners_in_frame(np.asarray([[0, 0], [120, 0], [120, 60], [0, 60]], float), FRAME_W, FRAME_H) == 4
    root = build_tree(tmp_path, MIDV500_FRAMES)
    full = MIDV500(root, config="full")
    counts = {i: full.frame(i).corners_in_frame for i in full.sample_ids()}
    assert sorted(counts.values()) == [2, 3, 4, 4]
    subset = MIDV500(root, config="four-corners-in-frame")
    assert subset.sample_ids() == [i for i, c in counts.items() if c == 4]
    # THREE_IN is a trapezoid of area (120 + 100) / 2 * 50 = 5500; the part right of x = 120 is the triangle
    # (120, 5), (130, 5), (120, 30) of area 10 * 25 / 2 = 125, so 5375 / 5500 = 97.7 % is in frame.
    three_in = full.frame(frame_id("midv500", "01_alb_id", "CA", 2))
    assert three_in.area_in_frame == pytest.approx(5375 / 5500)
    assert three_in.subsets == ["three-corners-in-frame", "area-in-frame-90"]
    # TWO_IN covers x in [-20, 90] of [0, 120]: 90/110 of its area is in frame, under 90 %.
    assert full.frame(frame_id("midv500", "01_alb_id", "TS", 1)).area_in_frame == pytest.approx(90 / 110)


def test_documents_hold_the_field_annotations(tmp_path: Path) -> None:
    loader = MIDV500(build_tree(tmp_path, MIDV500_FRAMES), config="documents")
    documents = loader.documents()
    assert list(documents) == ["01_alb_id", "02_aut_drvlic_new"]
    alb = documents["01_alb_id"]
    assert (alb.width, alb.height, alb.country, alb.document_type) == (100, 50, "alb", "id")
    assert {name: f.value for name, f in alb.fields.items()} == {"field01": "Bob O'Neil", "field02": "A0B12"}
    rows = list(loader)
    assert [r["id"] for r in rows] == ["midv500/01_alb_id", "midv500/02_aut_drvlic_new"]
    assert rows[0]["fields"][1]["name"] == "field02"
    np.testing.assert_array_equal(rows[0]["fields"][1]["quad"], FIELDS["01_alb_id"]["field02"]["quad"])


def test_midv2019_archives_without_a_top_folder(tmp_path: Path) -> None:
    merged = MIDV2019(build_tree(tmp_path / "merged", MIDV2019_FRAMES, per_document_folder=False))
    split = MIDV2019(build_tree(tmp_path / "split", MIDV2019_FRAMES))
    expected = [frame_id("midv2019", "01_alb_id", "DG", 1), frame_id("midv2019", "01_alb_id", "LX", 1)]
    assert merged.sample_ids() == split.sample_ids() == expected
    assert merged.frame(expected[1]).condition == "low light"


def test_layout_errors_name_the_missing_file(tmp_path: Path) -> None:
    root = build_tree(tmp_path, MIDV500_FRAMES)
    (root / "01_alb_id" / "ground_truth" / "CA" / "CA01_02.json").unlink()
    with pytest.raises(DatasetLayoutError, match=r"CA01_02\.json"):
        MIDV500(root).sample_ids()
    with pytest.raises(DatasetLayoutError, match="no images/"):
        MIDV500(tmp_path / "01_alb_id" / "ground_truth")


def test_bad_gt_quad_is_a_format_error(tmp_path: Path) -> None:
    root = build_tree(tmp_path, MIDV500_FRAMES)
    gt = root / "02_aut_drvlic_new" / "ground_truth" / "HA" / "HA02_01.json"
    gt.write_text(json.dumps({"quad": [[0, 0], [10, 0], [20, 0], [0, 10]]}), encoding="utf-8")
    with pytest.raises(FormatError, match="three corners on one line"):
        MIDV500(root).sample_ids()


@pytest.mark.parametrize("config", ["full", "documents"])
def test_export_loads_back_exactly(tmp_path: Path, config: str) -> None:
    root = build_tree(tmp_path / "raw", MIDV500_FRAMES)
    spec = get_benchmark("midv500-fields")
    export_benchmark(spec, root, tmp_path / "out", configs=[config])
    loaded = datasets.load_dataset(str(tmp_path / "out"), config, split="test", cache_dir=str(tmp_path / "hf"))
    loader = make_loader(spec, root, "test", config)
    rows = list(loader)
    assert loaded["id"] == [r["id"] for r in rows]
    image_key = "template" if config == "documents" else "image"
    for index, expected in enumerate(rows):
        got = loaded[index]
        for key, value in expected.items():
            if key == image_key:
                np.testing.assert_array_equal(np.asarray(got[key]), value)
            elif key == "quad":
                # python floats (float64) in the default format; with_format("numpy") would give float32
                np.testing.assert_array_equal(np.asarray(got[key], dtype=np.float64), value)
            elif key == "fields":
                assert [f["name"] for f in got[key]] == [f["name"] for f in value]
                assert [f["value"] for f in got[key]] == [f["value"] for f in value]
                for got_field, field in zip(got[key], value, strict=True):
                    np.testing.assert_array_equal(np.asarray(got_field["quad"]), field["quad"])
            else:
                assert got[key] == value, key
