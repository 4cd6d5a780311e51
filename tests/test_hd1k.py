"""HD1K: one small `OpticalFlowLoader` subclass, read on the synthetic release (`loaders.synthetic.flow.build_hd1k`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hub.core.errors import DatasetLayoutError
from loaders.hd1k import HD1K
from loaders.synthetic import is_synthetic
from loaders.synthetic.flow import build_hd1k


@pytest.fixture
def root(tmp_path: Path) -> Path:
    build_hd1k(tmp_path / "hd1k", seed=0, sequences=(3, 2), challenge_pairs=2)
    return tmp_path / "hd1k"


def test_pairs_stay_within_sequences_and_carry_their_ground_truth(root: Path) -> None:
    assert is_synthetic(root)
    loader = HD1K(root)
    assert loader.sample_ids() == [
        "hd1k/training/000000_0000",
        "hd1k/training/000000_0001",
        "hd1k/training/000001_0000",
    ]
    sample_id = "hd1k/training/000000_0001"
    assert loader.pair(sample_id).second.name == "000000_0002.png"  # frame 2 of sequence 0, never sequence 1's
    gt = loader.ground_truth(sample_id)
    assert set(gt) == {"flow_occ", "valid_occ"} and gt["flow_occ"].shape == (96, 228, 2)
    assert 0.8 < gt["valid_occ"].mean() < 0.9  # semi-dense
    assert loader.ground_truth_files(sample_id) == [root / "hd1k_flow_gt" / "flow_occ" / "000000_0001.png"]
    first, second = loader.image_pair(sample_id)
    assert first.shape == second.shape == (96, 228, 3) and not np.array_equal(first, second)


def test_rows_and_the_testing_split(root: Path, tmp_path: Path) -> None:
    loader = HD1K(root)
    rows = loader.to_dataset(cache_dir=tmp_path / "cache").with_format("numpy")
    assert rows.features == loader.features() and len(rows) == 3
    row = rows[1]
    assert (row["sequence"], row["frame"], row["height"], row["width"]) == ("000000", 1, 96, 228)
    gt = loader.ground_truth(row["id"])
    np.testing.assert_array_equal(row["flow_occ"].reshape(96, 228, 2), gt["flow_occ"])
    np.testing.assert_array_equal(row["valid_occ"].reshape(96, 228), gt["valid_occ"])
    testing = HD1K(root, split="testing")
    assert testing.sample_ids() == ["hd1k/testing/000000_10", "hd1k/testing/000001_10"]
    sample = next(iter(testing))
    assert sample["flow_occ"] is None and sample["valid_occ"] is None and set(sample) == set(loader.features())
    with pytest.raises(DatasetLayoutError, match="the HD1K testing split ships no ground truth"):
        testing.ground_truth("hd1k/testing/000000_10")


def test_a_partial_copy_is_refused_with_the_tree(root: Path) -> None:
    (root / "hd1k_flow_gt" / "flow_occ" / "000001_0000.png").unlink()
    with pytest.raises(DatasetLayoutError, match=r"1 ground-truth file\(s\) missing") as missing:
        HD1K(root)
    assert "flow_occ/000001_0000.png" in str(missing.value) and "hd1k_challenge/image_2/" in str(missing.value)
    (root / "hd1k_input" / "image_2" / "000000_0001.png").unlink()
    with pytest.raises(DatasetLayoutError, match=r"sequence 000000 .* without gaps; 000000_0001\.png is missing"):
        HD1K(root)
    bare = root.parent / "bare"
    bare.mkdir()
    with pytest.raises(DatasetLayoutError, match="missing hd1k_challenge/ folder"):
        HD1K(bare, split="testing")
    with pytest.raises(DatasetLayoutError, match="unknown split 'test'; valid splits: training, testing"):
        HD1K(root, split="test")
