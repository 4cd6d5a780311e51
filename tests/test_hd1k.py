"""HD1K: one small `OpticalFlowLoader` subclass, read on the synthetic release (`loaders.synthetic.flow.build_hd1k`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evaluators.readers.flow import write_prediction
from hub.core.errors import DatasetLayoutError, FormatError
from hub.core.registry import get_benchmark
from hub.scoring.executors import score
from hub.scoring.wiring import make_request
from loaders.formats.masks import read_rgb8, write_png
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
    assert testing.sample_ids() == ["hd1k/testing/000000_0010", "hd1k/testing/000001_0010"]
    assert testing.pair("hd1k/testing/000001_0010").second.name == "000001_0011.png"  # the authors' devkit names
    sample = next(iter(testing))
    assert sample["flow_occ"] is None and sample["valid_occ"] is None and set(sample) == set(loader.features())
    with pytest.raises(DatasetLayoutError, match="the HD1K testing split ships no ground truth"):
        testing.ground_truth("hd1k/testing/000000_0010")


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


def test_gray_frames_are_widened_to_rgb_and_16_bit_ones_refused(root: Path) -> None:
    frame = root / "hd1k_input" / "image_2" / "000000_0001.png"
    gray = read_rgb8(frame)[..., 1]
    write_png(frame, gray)  # an 8-bit single-channel frame, as the real release's may be
    first, second = HD1K(root).image_pair("hd1k/training/000000_0000")
    assert second.shape == first.shape and all(np.array_equal(second[..., c], gray) for c in range(3))
    write_png(frame, gray.astype(np.uint16) * 257)
    with pytest.raises(FormatError, match="frame must be an 8-bit PNG, found uint16"):
        HD1K(root).image_pair("hd1k/training/000000_0000")


def test_a_sequence_may_start_at_any_frame_but_not_skip_one(root: Path) -> None:
    """No source fixes where a sequence's numbering starts (ptlflow's validation list starts at 0010)."""
    for folder in ("hd1k_input/image_2", "hd1k_flow_gt/flow_occ"):
        for number in (2, 1, 0):  # renumber sequence 000001 (frames 0000, 0001) to 0010, 0011
            old = root / folder / f"000001_{number:04d}.png"
            if old.exists():
                old.rename(root / folder / f"000001_{number + 10:04d}.png")
    loader = HD1K(root)
    assert loader.sample_ids()[-1] == "hd1k/training/000001_0010"
    assert loader.pair("hd1k/training/000001_0010").columns == {"sequence": "000001", "frame": 10}
    (root / "hd1k_input" / "image_2" / "000000_0002.png").rename(root / "hd1k_input" / "image_2" / "000000_0007.png")
    with pytest.raises(DatasetLayoutError, match=r"sequence 000000 .* without gaps; 000000_0002\.png is missing"):
        HD1K(root)


def test_scored_by_the_kitti_format_evaluator_on_flow_occ_alone(root: Path, tmp_path: Path) -> None:
    """GT + (0.5, 0) everywhere, except GT + (4, 0) in the top-left 8x8 block of every pair: EPE 0.5 or 4 px (exact
    on KITTI's 1/64 px grid), and the 4 px ones are outliers (|GT| < 80 px here): Fl-all is the block's share of the
    split's GT pixels. Only KITTI 2015's flow_occ figures are reported (HD1K has no flow_noc and no obj_map)."""
    spec = get_benchmark("hd1k-flow")
    loader = HD1K(root)
    predictions, pixels, block, per_image = tmp_path / "predictions", 0, 0, []
    for sample_id in loader.sample_ids():
        gt = loader.ground_truth(sample_id)
        flow, valid = gt["flow_occ"].copy(), gt["valid_occ"]
        flow[..., 0] += 0.5
        flow[:8, :8, 0] += 3.5
        assert np.abs(gt["flow_occ"][valid]).max() < 40
        write_prediction(spec, predictions, sample_id, flow)
        n, b = int(valid.sum()), int(valid[:8, :8].sum())
        pixels, block, per_image = pixels + n, block + b, [*per_image, (0.5 * (n - b) + 4 * b) / n]
    result = score(make_request(spec, root, predictions))
    assert list(result.metrics) == ["fl_all", "epe", "epe_image_mean", "density"]
    assert result.metrics["fl_all"] == pytest.approx(100 * block / pixels, rel=1e-12)
    assert result.metrics["epe"] == pytest.approx((0.5 * (pixels - block) + 4 * block) / pixels, rel=1e-12)
    assert result.metrics["epe_image_mean"] == pytest.approx(np.mean(per_image), rel=1e-12)
    assert result.metrics["density"] == 100.0
    assert set(result.sample_scores["hd1k/training/000000_0000"]) == {"fl_all", "epe", "density"}
