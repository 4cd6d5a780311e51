"""The synthetic mini benchmarks: official layouts the loaders read, and ground truth consistent with the frames."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from loaders.kitti_flow import KittiFlow2015
from loaders.sintel import Sintel
from loaders.synthetic import is_synthetic
from loaders.synthetic.flow import build_kitti_2015, build_sintel


def _warp_back(second: NDArray[np.uint8], flow: NDArray[np.float32]) -> NDArray[np.float64]:
    """frame2 sampled at x + flow(x): equals frame1 wherever the flow is right and x stays visible."""
    h, w = flow.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    warped = cv2.remap(second, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR)
    return np.asarray(warped, dtype=np.float64)


def _photometric_errors(
    first: NDArray[np.uint8], second: NDArray[np.uint8], flow: NDArray[np.float32], mask: NDArray[np.bool_]
) -> tuple[float, float]:
    """Mean |frame1 - warped frame2| on `mask`, with the GT flow and with zero flow (the no-motion control)."""
    with_gt = np.abs(_warp_back(second, flow) - first).mean(axis=2)[mask].mean()
    without = np.abs(second.astype(np.float64) - first).mean(axis=2)[mask].mean()
    return float(with_gt), float(without)


@pytest.fixture(scope="module")
def kitti_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic") / "kitti"
    build_kitti_2015(root, seed=0)
    return root


@pytest.fixture(scope="module")
def sintel_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic") / "sintel"
    build_sintel(root, seed=0)
    return root


def test_kitti_tree_is_read_by_the_loader(kitti_root: Path) -> None:
    assert is_synthetic(kitti_root)
    training = KittiFlow2015(kitti_root)
    assert len(training) == 4 and len(KittiFlow2015(kitti_root, split="testing")) == 2
    sizes = {training.image_pair(i)[0].shape for i in training.sample_ids()}
    assert len(sizes) > 1  # sizes vary between sequences, as in KITTI


def test_kitti_gt_is_sparse_nested_and_labelled(kitti_root: Path) -> None:
    loader = KittiFlow2015(kitti_root)
    for sample_id in loader.sample_ids():
        gt = loader.ground_truth(sample_id)
        valid_occ, valid_noc = gt["valid_occ"], gt["valid_noc"]
        height, width = valid_occ.shape
        assert not valid_occ[: int(0.3 * height)].any()  # nothing above the horizon
        assert 0.2 < valid_occ.mean() < 0.8
        assert not (valid_noc & ~valid_occ).any()  # noc is a subset of occ
        assert (valid_occ & ~valid_noc).any()  # and a strict one: occlusions exist
        assert set(np.unique(gt["obj_map"])) == {0, 1, 2}
        # noc never contains a pixel whose GT target leaves the frame (1/64 px quantisation allowed).
        ys, xs = np.nonzero(valid_noc)
        tx = xs + gt["flow_noc"][ys, xs, 0]
        ty = ys + gt["flow_noc"][ys, xs, 1]
        assert (tx >= -0.02).all() and (tx <= width - 1 + 0.02).all()
        assert (ty >= -0.02).all() and (ty <= height - 1 + 0.02).all()


def test_kitti_gt_is_consistent_with_the_frames(kitti_root: Path) -> None:
    loader = KittiFlow2015(kitti_root)
    for sample_id in loader.sample_ids():
        first, second = loader.image_pair(sample_id)
        gt = loader.ground_truth(sample_id)
        with_gt, without = _photometric_errors(first, second, gt["flow_noc"], gt["valid_noc"])
        # Only bilinear resampling separates the frames along the GT flow (0..255 scale), while ignoring the
        # motion leaves errors of ~20 grey levels.
        assert with_gt < 1.5, sample_id
        assert without > 8 * with_gt, sample_id


def test_sintel_tree_is_read_by_the_loader(sintel_root: Path) -> None:
    assert is_synthetic(sintel_root)
    clean = Sintel(sintel_root, pass_name="clean")
    final = Sintel(sintel_root, pass_name="final")
    scenes = {clean.scene_of(i) for i in clean.sample_ids()}
    assert len(scenes) == 3 and 2 <= len(clean) // len(scenes) <= 3
    assert len(final) == len(clean)
    assert len(Sintel(sintel_root, split="test")) > 0
    sample_id = clean.sample_ids()[0]
    clean_frame = clean.image_pair(sample_id)[0].astype(np.float64)
    final_frame = final.image_pair(sample_id.replace("/clean/", "/final/"))[0].astype(np.float64)
    assert clean_frame.shape == (108, 256, 3)
    assert np.abs(clean_frame - final_frame).mean() > 5  # fog and blur make the final pass differ
    invalid = [Sintel(sintel_root).ground_truth(i)["invalid"] for i in clean.sample_ids()]
    assert 0 < sum(int(m.sum()) for m in invalid) < 0.01 * invalid[0].size * len(invalid)  # rare, as in Sintel


def test_sintel_gt_is_consistent_with_the_frames(sintel_root: Path) -> None:
    loader = Sintel(sintel_root)
    for sample_id in loader.sample_ids():
        first, second = loader.image_pair(sample_id)
        gt = loader.ground_truth(sample_id)
        flow, occlusion = gt["flow"], gt["occlusion"]
        assert 0.005 < occlusion.mean() < 0.3
        with_gt, without = _photometric_errors(first, second, flow, ~occlusion)
        assert with_gt < 1.5, sample_id
        assert without > 8 * with_gt, sample_id
        # Pixels moving out of the frame are marked occluded.
        height, width = occlusion.shape
        ys, xs = np.mgrid[0:height, 0:width]
        outside = (xs + flow[..., 0] < 0) | (xs + flow[..., 0] > width - 1)
        outside |= (ys + flow[..., 1] < 0) | (ys + flow[..., 1] > height - 1)
        assert not (outside & ~occlusion).any()


def test_opencv_dis_recovers_the_synthetic_flow(sintel_root: Path, kitti_root: Path) -> None:
    # The baselines use OpenCV flow: the textures must carry enough structure for it to work. Pooled EPE of DIS
    # must be well below the EPE of predicting zero flow (the GT magnitude).
    dis = cv2.DISOpticalFlow.create(cv2.DISOpticalFlow_PRESET_MEDIUM)
    cases: list[tuple[KittiFlow2015 | Sintel, str, str | None]] = [
        (Sintel(sintel_root), "flow", None),
        (KittiFlow2015(kitti_root), "flow_occ", "valid_occ"),
    ]
    for loader, key, mask_key in cases:
        errors, magnitudes = [], []
        for sample_id in loader.sample_ids():
            first, second = loader.image_pair(sample_id)
            gt = loader.ground_truth(sample_id)
            mask = gt[mask_key] if mask_key else np.ones(gt[key].shape[:2], dtype=bool)
            gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in (first, second)]
            estimate = dis.calc(gray[0], gray[1], np.zeros_like(gt[key]))  # output buffer, not an initial guess
            errors.append(np.linalg.norm(estimate - gt[key], axis=2)[mask])
            magnitudes.append(np.linalg.norm(gt[key], axis=2)[mask])
        assert np.concatenate(errors).mean() < 0.4 * np.concatenate(magnitudes).mean()


@pytest.mark.parametrize("build", [build_kitti_2015, build_sintel])
def test_builders_are_deterministic_and_fast(tmp_path: Path, build: Callable[[Path, int], None]) -> None:
    start = time.perf_counter()
    build(tmp_path / "a", 3)
    assert time.perf_counter() - start < 2.0
    build(tmp_path / "b", 3)
    build(tmp_path / "c", 4)

    def contents(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    a, b, c = contents(tmp_path / "a"), contents(tmp_path / "b"), contents(tmp_path / "c")
    assert a == b
    assert a.keys() == c.keys()
    assert [k for k in a if k.endswith(".png") and a[k] != c[k]]  # another seed, other pixels
