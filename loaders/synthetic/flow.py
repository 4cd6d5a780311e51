"""Synthetic KITTI 2015 and MPI-Sintel mini benchmarks, written in the official on-disk layouts.

Why synthetic: neither release may be redistributed, yet the demo, the baselines and the end-to-end tests need
real files to read. The builders render small procedural scenes whose exact flow is known, so the loaders,
evaluators and baselines run on the same formats, folder trees and quirks as the real data:

- Scenes are layers (a textured background plus textured foreground objects), each moved by its own affine
  pose per frame. Frame t samples every layer at `pose_t^-1(x)` and keeps the topmost one, so the ground truth is
  exact by construction: a pixel x of layer L moves to `pose_{t+1}(pose_t^-1(x))`, i.e.
  frame_t(x) ≈ frame_{t+1}(x + flow(x)) up to bilinear resampling.
- A pixel is occluded when its target lies outside the frame or another layer covers the target at t+1.
- Textures mix smooth multi-scale noise with blurred shapes, enough structure for OpenCV's DIS and Farneback.
- KITTI: the background zooms about a focus of expansion (driving forward) and cars move sideways; the GT is
  sparse like the LiDAR-based original (nothing above the horizon, scattered background points, dense cars);
  `flow_noc` drops occluded and out-of-frame pixels; `obj_map` labels each car 1, 2, ...; frame sizes differ
  slightly between sequences, as in KITTI.
- Sintel: scenes of several frames with a drifting, rotating background; the final pass adds defocus blur and
  depth-like fog to the clean pass; occlusion and (rare) invalid masks are {0, 255} PNGs.
- HD1K: sequences of several frames of KITTI's driving scene, numbered from 0000, with semi-dense KITTI-format GT
  (a random 85 % of the pixels), and challenge pairs named `_0010`/`_0011` without GT (RGB frames; the real ones
  may be gray, see `loaders.hd1k`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from loaders.formats.flo import write_flo
from loaders.formats.kitti_png import write_kitti_flow
from loaders.formats.masks import write_label_map, write_mask, write_rgb8
from loaders.synthetic import mark_synthetic

Matrix = NDArray[np.float64]  # 3x3 affine in homogeneous pixel coordinates (x right, y down)
Image = NDArray[np.float32]

KITTI_TRAINING_SIZES = ((96, 320), (96, 320), (94, 316), (96, 320))  # (H, W); KITTI sizes vary per sequence
KITTI_TESTING_SIZES = ((96, 320), (94, 316))
SINTEL_SIZE = (108, 256)
SINTEL_TRAINING_SCENES = (("meadow_1", 4), ("harbour_2", 3), ("forest_3", 4))  # (name, frames)
SINTEL_TEST_SCENES = (("canyon_1", 3), ("village_2", 3))
HD1K_SIZE = (96, 228)  # (H, W), the release's 1080x2560 aspect
HD1K_SEQUENCES = (4, 3, 4)  # frames per training sequence
HD1K_CHALLENGE_PAIRS = 2
MARGIN = 64  # background texture margin (px) so motion never samples past its edge


def _affine(scale: float = 1.0, angle_deg: float = 0.0, shift: Sequence[float] = (0.0, 0.0)) -> Matrix:
    """Scale and rotate about the origin, then shift."""
    a = np.deg2rad(angle_deg)
    c, s = scale * np.cos(a), scale * np.sin(a)
    return np.array([[c, -s, shift[0]], [s, c, shift[1]], [0.0, 0.0, 1.0]])


def _about(centre: Sequence[float], transform: Matrix) -> Matrix:
    """`transform` applied about `centre` instead of the origin."""
    return _affine(shift=centre) @ transform @ _affine(shift=(-centre[0], -centre[1]))


def _texture(rng: np.random.Generator, height: int, width: int) -> Image:
    """Smooth multi-scale colour noise plus blurred discs and boxes, normalised to about 20..235."""
    image = np.zeros((height, width, 3), dtype=np.float32)
    for cell, weight in ((4, 0.4), (8, 0.7), (16, 1.0), (32, 1.0)):
        coarse = rng.standard_normal((height // cell + 2, width // cell + 2, 3)).astype(np.float32)
        image += weight * cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    shapes = np.zeros_like(image)  # added on top, so the noise texture continues inside every shape
    for _ in range(max(4, height * width // 1500)):
        colour = rng.uniform(-2.0, 2.0, 3).tolist()
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        size = int(rng.integers(3, max(4, min(height, width) // 8)))
        if rng.random() < 0.5:
            cv2.circle(shapes, (x, y), size, colour, thickness=-1)
        else:
            cv2.rectangle(shapes, (x, y), (x + size, y + int(rng.integers(3, 2 * size + 1))), colour, thickness=-1)
    blurred = np.asarray(cv2.GaussianBlur(image + shapes, (0, 0), 0.8), dtype=np.float32)
    mean, std = blurred.mean(axis=(0, 1)), blurred.std(axis=(0, 1)) + 1e-6
    texture: Image = np.clip((blurred - mean) / std * 40.0 + 128.0, 20.0, 235.0).astype(np.float32)
    return texture


@dataclass
class _Layer:
    """A textured plane; `poses[t]` maps layer coordinates to frame-t pixel coordinates."""

    texture: Image
    shape_mask: NDArray[np.bool_] | None  # None: covers the whole plane (the background)
    poses: list[Matrix]
    label: int = 0  # KITTI obj_map value (0 = background)

    def to_layer(self, t: int, xs: NDArray[np.float64], ys: NDArray[np.float64]) -> tuple[Image, Image]:
        inv = np.linalg.inv(self.poses[t])
        lx = inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2]
        ly = inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]
        return lx.astype(np.float32), ly.astype(np.float32)

    def covers(self, t: int, xs: NDArray[np.float64], ys: NDArray[np.float64]) -> NDArray[np.bool_]:
        if self.shape_mask is None:
            return np.ones(xs.shape, dtype=bool)
        lx, ly = self.to_layer(t, xs, ys)
        col, row = np.rint(lx).astype(np.int64), np.rint(ly).astype(np.int64)
        h, w = self.shape_mask.shape
        inside = (col >= 0) & (col < w) & (row >= 0) & (row < h)
        hit = np.zeros(xs.shape, dtype=bool)
        hit[inside] = self.shape_mask[row[inside], col[inside]]
        return hit

    def sample(self, t: int, xs: NDArray[np.float64], ys: NDArray[np.float64]) -> Image:
        lx, ly = self.to_layer(t, xs, ys)
        return np.asarray(
            cv2.remap(self.texture, lx, ly, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101), dtype=np.float32
        )


@dataclass
class _Frame:
    """Frame t of a scene with the ground truth of the pair t -> t+1 (None for the last frame)."""

    image: Image
    labels: NDArray[np.uint8]
    flow: NDArray[np.float32] | None
    occluded: NDArray[np.bool_] | None


def _top_layer(layers: Sequence[_Layer], t: int, xs: NDArray[np.float64], ys: NDArray[np.float64]) -> NDArray[np.int64]:
    top = np.zeros(xs.shape, dtype=np.int64)
    for index, layer in enumerate(layers[1:], start=1):
        top[layer.covers(t, xs, ys)] = index
    return top


def _render(layers: Sequence[_Layer], height: int, width: int) -> list[_Frame]:
    """Render every frame of the scene with its exact forward flow and occlusion mask."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    frames = []
    n_frames = len(layers[0].poses)
    for t in range(n_frames):
        top = _top_layer(layers, t, xs, ys)
        image = np.zeros((height, width, 3), dtype=np.float32)
        labels = np.zeros((height, width), dtype=np.uint8)
        for index, layer in enumerate(layers):
            here = top == index
            image[here] = layer.sample(t, xs, ys)[here]
            labels[here] = layer.label
        flow: NDArray[np.float32] | None = None
        occluded: NDArray[np.bool_] | None = None
        if t + 1 < n_frames:
            tx, ty = np.empty_like(xs), np.empty_like(ys)
            for index, layer in enumerate(layers):
                here = top == index
                motion = layer.poses[t + 1] @ np.linalg.inv(layer.poses[t])
                tx[here] = motion[0, 0] * xs[here] + motion[0, 1] * ys[here] + motion[0, 2]
                ty[here] = motion[1, 0] * xs[here] + motion[1, 1] * ys[here] + motion[1, 2]
            flow = np.stack([tx - xs, ty - ys], axis=-1).astype(np.float32)
            outside = (tx < 0) | (tx > width - 1) | (ty < 0) | (ty > height - 1)
            occluded = outside | (_top_layer(layers, t + 1, tx, ty) != top)
        frames.append(_Frame(image, labels, flow, occluded))
    return frames


def _object(
    rng: np.random.Generator, size: tuple[int, int], start: Sequence[float], motions: Sequence[Matrix], label: int
) -> _Layer:
    """A textured ellipse or rounded box placed at `start` (top-left, frame coordinates), moved by `motions`."""
    h, w = size
    mask = np.zeros(size, dtype=np.uint8)
    if rng.random() < 0.5:
        cv2.ellipse(mask, (w // 2, h // 2), (w // 2 - 1, h // 2 - 1), 0, 0, 360, 1, thickness=-1)
    else:
        r = max(2, min(h, w) // 5)
        cv2.rectangle(mask, (r, 0), (w - 1 - r, h - 1), 1, thickness=-1)
        cv2.rectangle(mask, (0, r), (w - 1, h - 1 - r), 1, thickness=-1)
        for cx, cy in ((r, r), (w - 1 - r, r), (r, h - 1 - r), (w - 1 - r, h - 1 - r)):
            cv2.circle(mask, (cx, cy), r, 1, thickness=-1)
    poses = [_affine(shift=start)]
    for motion in motions:
        centre = poses[-1] @ np.array([w / 2, h / 2, 1.0])
        poses.append(_about(centre[:2], motion) @ poses[-1])
    return _Layer(_texture(rng, h, w), mask.astype(bool), poses, label)


def _background(rng: np.random.Generator, height: int, width: int, motions: Sequence[Matrix]) -> _Layer:
    poses = [_affine(shift=(-MARGIN, -MARGIN))]
    for motion in motions:
        poses.append(motion @ poses[-1])
    return _Layer(_texture(rng, height + 2 * MARGIN, width + 2 * MARGIN), None, poses)


def _uint8(image: Image) -> NDArray[np.uint8]:
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _driving(rng: np.random.Generator, height: int, width: int, n_frames: int = 2) -> list[_Frame]:
    """A street seen from a car driving forward: the background zooms about a focus of expansion and two cars move
    sideways, each by the same motion from frame to frame (the random draws do not depend on `n_frames`)."""
    focus = (width / 2 + rng.uniform(-25, 25), height * rng.uniform(0.35, 0.45))
    zoom = _about(focus, _affine(scale=rng.uniform(1.05, 1.1), shift=(rng.uniform(-2, 2), rng.uniform(-1, 1))))
    layers = [_background(rng, height, width, [zoom] * (n_frames - 1))]
    for label in (1, 2):
        size = (int(height * rng.uniform(0.28, 0.4)), int(width * rng.uniform(0.14, 0.22)))
        start = (rng.uniform(0.05, 0.75) * width, rng.uniform(0.48, 0.92) * height - size[0])
        direction = 1.0 if rng.random() < 0.5 else -1.0
        drive = _affine(scale=rng.uniform(0.99, 1.05), shift=(direction * rng.uniform(8, 18), rng.uniform(-1, 2)))
        layers.append(_object(rng, size, start, [drive] * (n_frames - 1), label))
    return _render(layers, height, width)


def _write_kitti_split(root: Path, split: str, sizes: Sequence[tuple[int, int]], rng: np.random.Generator) -> None:
    split_dir = root / split
    folders = ["image_2"] + (["flow_occ", "flow_noc", "obj_map"] if split == "training" else [])
    for folder in folders:
        (split_dir / folder).mkdir(parents=True, exist_ok=True)
    for index, (height, width) in enumerate(sizes):
        first, second = _driving(rng, height, width)
        name = f"{index:06d}"
        write_rgb8(split_dir / "image_2" / f"{name}_10.png", _uint8(first.image))
        write_rgb8(split_dir / "image_2" / f"{name}_11.png", _uint8(second.image))
        if split != "training":
            continue
        assert first.flow is not None and first.occluded is not None  # a pair's first frame always has GT
        rows = np.arange(height)[:, None]
        foreground = first.labels > 0
        scattered = rng.random((height, width)) < 0.7  # LiDAR-like: background GT is not dense
        valid_occ = (rows >= int(0.3 * height)) & (foreground | scattered)
        valid_noc = valid_occ & ~first.occluded
        write_kitti_flow(split_dir / "flow_occ" / f"{name}_10.png", first.flow, valid_occ)
        write_kitti_flow(split_dir / "flow_noc" / f"{name}_10.png", first.flow, valid_noc)
        write_label_map(split_dir / "obj_map" / f"{name}_10.png", first.labels)


def build_kitti_2015(
    root: Path,
    seed: int = 0,
    *,
    training_sizes: Sequence[tuple[int, int]] = KITTI_TRAINING_SIZES,
    testing_sizes: Sequence[tuple[int, int]] = KITTI_TESTING_SIZES,
) -> None:
    """Write a mini KITTI 2015 flow benchmark (4 training + 2 testing pairs, ~320x96) under `root`.

    `training_sizes` / `testing_sizes` give one (H, W) per pair; `mobench bench` passes the real release's shape
    (200 pairs of 375x1242) to time the flow paths at full scale.
    """
    rng = np.random.default_rng(seed)
    _write_kitti_split(root, "training", training_sizes, rng)
    _write_kitti_split(root, "testing", testing_sizes, rng)
    mark_synthetic(root, generator="loaders.synthetic.flow:build_kitti_2015", seed=seed)


def _sintel_scene(rng: np.random.Generator, n_frames: int, height: int, width: int) -> list[_Frame]:
    centre = (width / 2, height / 2)
    drift = _about(
        centre,
        _affine(
            scale=rng.uniform(0.98, 1.03),
            angle_deg=rng.uniform(-1.5, 1.5),
            shift=(rng.choice([-1.0, 1.0]) * rng.uniform(3, 7), rng.uniform(-3, 3)),
        ),
    )
    layers = [_background(rng, height, width, [drift] * (n_frames - 1))]
    for label in (1, 2):
        size = (int(height * rng.uniform(0.3, 0.45)), int(width * rng.uniform(0.15, 0.25)))
        start = (rng.uniform(0.05, 0.75) * width, rng.uniform(0.05, 0.55) * height)
        step = _affine(
            angle_deg=rng.uniform(-3, 3), shift=(rng.choice([-1.0, 1.0]) * rng.uniform(6, 14), rng.uniform(-4, 4))
        )
        layers.append(_object(rng, size, start, [step] * (n_frames - 1), label))
    return _render(layers, height, width)


def _final_pass(clean: Image, fog_colour: NDArray[np.float64]) -> Image:
    """The 'final' look: defocus blur plus fog that thickens towards the top (the far distance)."""
    blurred = np.asarray(cv2.GaussianBlur(clean, (0, 0), 1.2), dtype=np.float32)
    height = clean.shape[0]
    density = (0.05 + 0.35 * (1.0 - np.arange(height) / max(height - 1, 1)))[:, None, None]
    final: Image = (blurred * (1.0 - density) + fog_colour * density).astype(np.float32)
    return final


def _write_sintel_split(
    root: Path, split: str, scenes: Sequence[tuple[str, int]], size: tuple[int, int], rng: np.random.Generator
) -> None:
    height, width = size
    split_dir = root / split
    for scene, n_frames in scenes:
        frames = _sintel_scene(rng, n_frames, height, width)
        fog = rng.uniform(170, 220, 3)
        folders = ["clean", "final"] + (["flow", "occlusions", "invalid"] if split == "training" else [])
        for folder in folders:
            (split_dir / folder / scene).mkdir(parents=True, exist_ok=True)
        for number, frame in enumerate(frames, start=1):
            name = f"frame_{number:04d}"
            write_rgb8(split_dir / "clean" / scene / f"{name}.png", _uint8(frame.image))
            write_rgb8(split_dir / "final" / scene / f"{name}.png", _uint8(_final_pass(frame.image, fog)))
            if split != "training":
                continue
            invalid = np.zeros((height, width), dtype=bool)
            if number == 2:  # invalid pixels are rare in Sintel: one small patch per scene
                y, x = int(rng.integers(0, height - 3)), int(rng.integers(0, width - 4))
                invalid[y : y + 3, x : x + 4] = True
            write_mask(split_dir / "invalid" / scene / f"{name}.png", invalid)
            if frame.flow is not None and frame.occluded is not None:
                write_flo(split_dir / "flow" / scene / f"{name}.flo", frame.flow)
                write_mask(split_dir / "occlusions" / scene / f"{name}.png", frame.occluded)


def build_sintel(
    root: Path,
    seed: int = 0,
    *,
    size: tuple[int, int] = SINTEL_SIZE,
    training_scenes: Sequence[tuple[str, int]] = SINTEL_TRAINING_SCENES,
    test_scenes: Sequence[tuple[str, int]] = SINTEL_TEST_SCENES,
) -> None:
    """Write a mini MPI-Sintel benchmark (3 training scenes, 2 test scenes, 256x108, clean and final) under `root`.

    `size` is (H, W) and the scenes are (name, frames); `mobench bench` passes the real release's shape (23
    training scenes, 1,041 pairs of 436x1024) to time the flow paths at full scale.
    """
    rng = np.random.default_rng(seed)
    _write_sintel_split(root, "training", training_scenes, size, rng)
    _write_sintel_split(root, "test", test_scenes, size, rng)
    mark_synthetic(root, generator="loaders.synthetic.flow:build_sintel", seed=seed)


def build_hd1k(
    root: Path,
    seed: int = 0,
    *,
    size: tuple[int, int] = HD1K_SIZE,
    sequences: Sequence[int] = HD1K_SEQUENCES,
    challenge_pairs: int = HD1K_CHALLENGE_PAIRS,
) -> None:
    """Write a mini HD1K benchmark (3 training sequences of 3-4 frames, 2 challenge pairs, 228x96) under `root`.

    `size` is (H, W) and `sequences` the frame count of each training sequence.
    """
    rng = np.random.default_rng(seed)
    height, width = size
    frames, flows, challenge = (
        root / "hd1k_input" / "image_2",
        root / "hd1k_flow_gt" / "flow_occ",
        root / "hd1k_challenge" / "image_2",
    )
    for folder in (frames, flows, challenge):
        folder.mkdir(parents=True, exist_ok=True)
    for sequence, n_frames in enumerate(sequences):
        for number, frame in enumerate(_driving(rng, height, width, n_frames)):
            name = f"{sequence:06d}_{number:04d}.png"
            write_rgb8(frames / name, _uint8(frame.image))
            if frame.flow is not None:
                write_kitti_flow(flows / name, frame.flow, rng.random((height, width)) < 0.85)
    for sequence in range(challenge_pairs):
        for number, frame in zip((10, 11), _driving(rng, height, width), strict=True):
            write_rgb8(challenge / f"{sequence:06d}_{number:04d}.png", _uint8(frame.image))
    mark_synthetic(root, generator="loaders.synthetic.flow:build_hd1k", seed=seed)
