"""The Mobile-MMLU loaders on fixtures in the release's own layouts, and the embedded mini benchmark."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.core.errors import DatasetLayoutError, FormatError
from loaders.mobile_mmlu import MobileMMLU, MobileMMLUPro
from loaders.synthetic import hidden_labels_path, is_synthetic
from loaders.synthetic.mobile_mmlu import build_mobile_mmlu, build_mobile_mmlu_pro
from tests.fixtures.mobile_mmlu import ROWS, write_pro_release, write_release


def test_full_release_is_read_with_official_ids_columns_and_field_from_file_name(tmp_path: Path) -> None:
    loader = MobileMMLU(write_release(tmp_path / "mm"))
    # files are read in name order: cooking_and_recipes.csv, then first_aid.csv
    assert loader.sample_ids() == ["2c3d4e5f", "3d4e5f6a", "0a1b2c3d", "1b2c3d4e"]
    first = next(iter(loader))
    assert first == {
        "id": "2c3d4e5f",
        "question_id": "2c3d4e5f",
        "Question": "What makes dough rise?",
        "A": "Yeast",
        "B": "Ice",
        "C": "Ink",
        "D": "Paper",
        "field": "cooking_and_recipes",
    }
    assert "answer" not in loader.features()
    dataset = loader.to_dataset(cache_dir=tmp_path / "cache")
    assert dataset.column_names == ["id", "question_id", "Question", "A", "B", "C", "D", "field"]
    assert dataset[3]["B"] == "411"


def test_config_selects_one_field_like_the_hub_card(tmp_path: Path) -> None:
    root = write_release(tmp_path / "mm")
    assert MobileMMLU(root, config="first_aid").sample_ids() == ["0a1b2c3d", "1b2c3d4e"]
    with pytest.raises(DatasetLayoutError, match=r"unknown config 'law'.*first_aid"):
        MobileMMLU(root, config="law")


def test_pro_release_takes_the_field_from_its_column(tmp_path: Path) -> None:
    loader = MobileMMLUPro(write_pro_release(tmp_path / "pro"))
    assert loader.sample_ids() == [row[0] for row in ROWS]
    assert [s["field"] for s in loader] == [row[1] for row in ROWS]


def test_pro_root_must_hold_exactly_one_csv(tmp_path: Path) -> None:
    root = write_pro_release(tmp_path / "pro")
    write_pro_release(root, name="copy.csv")
    with pytest.raises(DatasetLayoutError, match=r"exactly one .*copy\.csv, pro\.csv"):
        MobileMMLUPro(root)


def test_wrong_header_names_the_file(tmp_path: Path) -> None:
    root = write_release(tmp_path / "mm")
    (root / "test" / "law.csv").write_text("question_id,Question,A,B,C,D,answer\nx,q,a,b,c,d,A\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"law\.csv: header"):
        MobileMMLU(root)


def test_duplicate_question_id_is_rejected(tmp_path: Path) -> None:
    root = write_release(tmp_path / "mm", [*ROWS, ("0a1b2c3d", "law", "Q?", "a", "b", "c", "d")])
    with pytest.raises(DatasetLayoutError, match="0a1b2c3d appears twice"):
        MobileMMLU(root)


def test_missing_test_folder_shows_the_expected_layout(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetLayoutError, match=r"(?s)missing test/ folder.*accounting\.csv"):
        MobileMMLU(tmp_path / "empty")


def test_mini_benchmark_keeps_its_key_outside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "mini"
    build_mobile_mmlu(root, seed=3)
    key_path = hidden_labels_path(root)
    assert is_synthetic(root) and key_path.parent == tmp_path and not key_path.is_relative_to(root)
    loader = MobileMMLU(root)
    key_ids = [line.split(",")[0] for line in key_path.read_text(encoding="utf-8").splitlines()[1:]]
    assert sorted(key_ids) == sorted(loader.sample_ids()) and len(key_ids) == 16
    assert not any("answer" in p.read_text(encoding="utf-8").splitlines()[0] for p in root.rglob("*.csv"))

    pro = tmp_path / "mini-pro"
    build_mobile_mmlu_pro(pro, seed=3)
    assert set(MobileMMLUPro(pro).sample_ids()) < set(loader.sample_ids())
