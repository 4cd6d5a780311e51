"""A synthetic mini PIQ23, written in the release's exact on-disk layout, for the demo and the tests.

Why synthetic: PIQ23 may not be redistributed in any form, yet the demo, the baseline and the end-to-end tests need
real files with the release's quirks. `build_piq23` writes 4 scenes x 8 portrait-like images (96x128 px):

- every scene is one procedural "portrait" (background, shoulders, face, hair, eyes, mouth, fine skin and hair
  texture) whose copies are degraded at graded strengths: Gaussian blur, sensor-like noise, under- and
  over-exposure (a gain with clipping); dark conditions (Lowlight, Night) start from a dimmer, noisier capture;
- JOD is derived from the degradation (each attribute weighs blur, noise and exposure error differently) and
  centred per scene, so, like the real JOD, it is zero-mean within a scene and means nothing across scenes;
- the tables are written as the release writes them (`write_release_tables`): CRLF CSVs with the 14 official
  columns in order, `IMAGE PATH` with a backslash, integer columns spelled as floats where the release does
  (`143.0`, `-1.0`), extensions in mixed case (jpg, JPG, jpeg, tiff, tif), both split index files, the
  per-attribute split files and `Metadata/Image Metadata.csv`;
- the scene split puts `Indoor_Scene_1` in test and `Indoor_Scene_10` in train, so matching scenes by substring
  (the known toolbox bug) visibly breaks the split.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from loaders.piq23 import (
    ATTRIBUTES,
    DEVICE_SPLIT_COLUMNS,
    DEVICE_SPLIT_FILE,
    METADATA_COLUMNS,
    METADATA_FILE,
    SCENE_SPLIT_COLUMNS,
    SCENE_SPLIT_FILE,
    SCORE_COLUMNS,
    SPLIT_FOLDER,
    SPLIT_VALUES,
    per_attribute_split_file,
    scores_file_name,
)
from loaders.synthetic import mark_synthetic

IMAGE_SIZE = (128, 96)  # (H, W): portrait orientation
# (scene, SCENE IDX, CONDITION, split in the scene split)
SCENES: tuple[tuple[str, int, str, str], ...] = (
    ("Indoor_Scene_1", 1, "Indoor", "Test"),
    ("Indoor_Scene_10", 10, "Indoor", "Train"),
    ("Night_Scene_28", 28, "Night", "Train"),
    ("Outdoor_Scene_33", 33, "Outdoor", "Train"),
)
# per image of a scene: (blur sigma px, noise sigma in [0,1] units, exposure gain); graded strengths of each kind
DEGRADATIONS: tuple[tuple[float, float, float], ...] = (
    (0.0, 0.0, 1.0),
    (1.2, 0.0, 1.0),
    (2.6, 0.0, 1.0),
    (0.0, 0.03, 1.0),
    (0.0, 0.08, 1.0),
    (0.0, 0.0, 0.45),
    (0.0, 0.0, 1.9),
    (1.0, 0.04, 0.7),
)
# images (by position in the scene) taken by the "test devices" of the device split
DEVICE_TEST_POSITIONS = frozenset({1, 3, 5, 6})
EXTENSIONS = ("jpg", "JPG", "jpeg", "tiff", "tif", "jpg", "jpg", "JPG")
CONDITION_LIGHT = {"Outdoor": 1.0, "Indoor": 0.85, "Lowlight": 0.6, "Night": 0.45}
# JOD penalty weights per attribute: (blur sigma, noise sigma * 10, |log2 exposure error|)
ATTRIBUTE_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "Details": (1.6, 1.4, 0.5),
    "Exposure": (0.2, 0.3, 2.4),
    "Overall": (1.0, 1.0, 1.5),
}

RGB = NDArray[np.float32]


@dataclass(frozen=True)
class ReleaseRow:
    """What the tables say about one image; `jod` maps each attribute to its (already scene-centred) JOD."""

    image: str
    scene: str
    scene_idx: int
    condition: str
    device: str
    device_split: str
    jod: dict[str, float]


def write_release_csv(path: Path, header: tuple[str, ...], rows: list[list[str]]) -> None:
    """A CSV exactly as the release writes it: CRLF line ends, no quoting unless needed, no BOM."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def _score_rows(rows: list[ReleaseRow], attribute: str, rng: np.random.Generator) -> dict[str, list[str]]:
    """image -> the 14 score columns, with plausible JOD STD / CI / quality level / cluster / comparisons."""
    out: dict[str, list[str]] = {}
    for row in rows:
        jod = row.jod[attribute]
        std = float(rng.uniform(0.25, 0.8))
        low, high = jod - 1.96 * std, jod + 1.96 * std
        quality_level = int(np.clip(np.floor(jod + 3.5), 0, 7))
        cluster = float(rng.integers(-1, 16))
        out[row.image] = [
            f"{attribute}\\{row.image}",
            repr(jod),
            repr(std),
            repr(low),
            repr(high),
            repr(high - low),
            str(quality_level),
            repr(cluster),
            repr(float(rng.integers(100, 180))),
            row.image,
            row.scene,
            attribute,
            str(row.scene_idx),
            row.condition,
        ]
    return out


def write_release_tables(root: Path, rows: list[ReleaseRow], scene_split: dict[str, str], seed: int = 0) -> None:
    """Every CSV of the release for `rows`: scores per attribute, split index files, per-attribute split files
    and the device metadata."""
    rng = np.random.default_rng(seed)
    split_of = {
        "device": {r.image: r.device_split for r in rows},
        "scene": {r.image: scene_split[r.scene] for r in rows},
    }
    for attribute in ATTRIBUTES:
        scores = _score_rows(rows, attribute, rng)
        write_release_csv(root / scores_file_name(attribute), SCORE_COLUMNS, list(scores.values()))
        for config, membership in split_of.items():
            for split, value in SPLIT_VALUES.items():
                members = [[*scores[r.image], value] for r in rows if membership[r.image] == value]
                write_release_csv(
                    root / per_attribute_split_file(config, split, attribute), (*SCORE_COLUMNS, "SPLIT"), members
                )
    folder = root / SPLIT_FOLDER
    write_release_csv(folder / DEVICE_SPLIT_FILE, DEVICE_SPLIT_COLUMNS, [[r.image, r.device_split] for r in rows])
    counts = {scene: sum(r.scene == scene for r in rows) for scene in scene_split}
    write_release_csv(
        folder / SCENE_SPLIT_FILE, SCENE_SPLIT_COLUMNS, [[s, v, str(counts[s])] for s, v in scene_split.items()]
    )
    write_release_csv(root / METADATA_FILE, METADATA_COLUMNS, [[r.image, r.device] for r in rows])


def _portrait(rng: np.random.Generator, light: float) -> RGB:
    """A clean procedural portrait in [0, 1] RGB: a gradient background, shoulders, a textured face and hair."""
    height, width = IMAGE_SIZE
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    top, bottom = rng.uniform(0.2, 0.8, 3), rng.uniform(0.1, 0.6, 3)
    image = (
        top[None, None, :] * (1 - ys / height)[..., None] + bottom[None, None, :] * (ys / height)[..., None]
    ).astype(np.float32)
    skin = np.array(rng.choice([(0.85, 0.68, 0.55), (0.62, 0.45, 0.33), (0.4, 0.27, 0.18)]), dtype=np.float32)
    cloth = rng.uniform(0.1, 0.9, 3).astype(np.float32)
    hair = rng.uniform(0.05, 0.35) * np.ones(3, dtype=np.float32)
    cx, cy = width / 2 + rng.uniform(-6, 6), height * 0.42
    shoulders = ((xs - width / 2) / (width * 0.55)) ** 2 + ((ys - height * 1.05) / (height * 0.35)) ** 2 < 1
    head_hair = ((xs - cx) / 27) ** 2 + ((ys - cy + 8) / 33) ** 2 < 1
    face = ((xs - cx) / 22) ** 2 + ((ys - cy) / 29) ** 2 < 1
    fine = rng.normal(0.0, 1.0, (height, width)).astype(np.float32)
    image[shoulders] = cloth
    image[head_hair] = hair + 0.12 * np.sin(xs[head_hair] * 1.7)[:, None]  # hair strands: high frequencies
    image[face] = skin * (1 + 0.05 * fine[face])[:, None]  # skin texture
    for dx in (-8, 8):
        cv2.circle(image, (int(cx + dx), int(cy - 5)), 3, (0.05, 0.05, 0.08), -1)
    cv2.ellipse(image, (int(cx), int(cy + 14)), (7, 3), 0, 0, 180, (0.45, 0.15, 0.15), 2)
    portrait: RGB = np.clip(image * light, 0.0, 1.0).astype(np.float32)
    return portrait


def degrade(image: RGB, blur: float, noise: float, gain: float, rng: np.random.Generator) -> RGB:
    """Blur (Gaussian, sigma px), then exposure gain with clipping, then additive Gaussian noise."""
    out = cv2.GaussianBlur(image, (0, 0), blur) if blur > 0 else image.copy()
    out = np.clip(out * gain, 0.0, 1.0)
    out = out + rng.normal(0.0, noise, out.shape).astype(np.float32) if noise > 0 else out
    degraded: RGB = np.clip(out, 0.0, 1.0).astype(np.float32)
    return degraded


def _penalties(blur: float, noise: float, gain: float, light: float) -> tuple[float, float, float]:
    """(blur, noise, exposure error) of a capture; dark scenes expose below target before any gain."""
    return blur, noise * 10.0, abs(float(np.log2(gain * light / 0.9)))


def build_piq23(root: Path, seed: int = 0) -> None:
    """Write the synthetic mini PIQ23 (4 scenes x 8 images, all three attributes, both splits) under `root`."""
    rng = np.random.default_rng(seed)
    rows: list[ReleaseRow] = []
    number = 0
    for scene, scene_idx, condition, _ in SCENES:
        light = CONDITION_LIGHT[condition]
        clean = _portrait(rng, light)
        raw: dict[str, list[float]] = {attribute: [] for attribute in ATTRIBUTES}
        names: list[str] = []
        for position, (blur, noise, gain) in enumerate(DEGRADATIONS):
            name = f"{number}_{scene}.{EXTENSIONS[position]}"
            number += 1
            capture = degrade(clean, blur, noise + (0.02 if light < 0.7 else 0.0), gain, rng)
            bgr = cv2.cvtColor((capture * 255.0 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR)
            for attribute in ATTRIBUTES:
                path = root / attribute / name
                path.parent.mkdir(parents=True, exist_ok=True)
                ok, encoded = cv2.imencode(f".{name.rsplit('.', 1)[1].lower()}", bgr)
                if not ok:
                    raise RuntimeError(f"OpenCV could not encode {name}")
                path.write_bytes(encoded.tobytes())
            penalty = _penalties(blur, noise, gain, light)
            for attribute, weights in ATTRIBUTE_WEIGHTS.items():
                raw[attribute].append(-sum(w * p for w, p in zip(weights, penalty, strict=True)))
            names.append(name)
        centred = {a: np.asarray(v) - np.mean(v) for a, v in raw.items()}
        for position, name in enumerate(names):
            rows.append(
                ReleaseRow(
                    image=name,
                    scene=scene,
                    scene_idx=scene_idx,
                    condition=condition,
                    device=f"SyntheticPhone{position}",
                    device_split="Test" if position in DEVICE_TEST_POSITIONS else "Train",
                    jod={a: float(centred[a][position]) for a in ATTRIBUTES},
                )
            )
    write_release_tables(root, rows, {scene: split for scene, _, _, split in SCENES}, seed)
    mark_synthetic(root, "loaders.synthetic.piq23:build_piq23", seed)
