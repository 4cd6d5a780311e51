"""Synthetic mini MIDV-500 / MIDV-2019, written in the official archive layout for the demo and the tests.

Two made-up identity cards (text fields drawn in a plain font and a face-like patch) are warped by known
homographies onto cluttered backgrounds, with blur, uneven lighting (low light for MIDV-2019's L clips) and one
frame per clip partly out of the picture. Every GT quad has integer corners, as the release's do, and the warp is
the homography from the template rectangle onto exactly that quad, so the ground truth is exact by construction.

Kept tiny on purpose (2 documents x 2 clips x 3 frames of 240x320 px): the demo builds it once per benchmark.
MIDV-500 is written one folder per document archive; MIDV-2019 the way its archives unpack, without a top folder,
all into `root` (which the loader must accept).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from loaders.synthetic import mark_synthetic

TEMPLATE_SIZE = (240, 150)  # (W, H), ID-1 card proportions
FRAME_SIZE = (240, 320)  # (W, H), portrait like the phones' frames
FRAMES_PER_CLIP = 3
FONT = cv2.FONT_HERSHEY_SIMPLEX

# name -> field texts (the synthetic documents' "personal data", all invented)
DOCUMENTS: dict[str, dict[str, str]] = {
    "01_syn_id": {"field01": "ANNA NOVAK", "field02": "ID482913", "field03": "12.03.1985"},
    "02_syn_drvlic_new": {"field01": "LEO MARTIN", "field02": "DL70215", "field03": "01.11.2030"},
}


def write_tiff(path: Path, rgb: NDArray[np.uint8]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path, format="TIFF", compression="tiff_deflate")


def write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")


def write_document(
    archive: Path, name: str, template: NDArray[np.uint8], fields: Mapping[str, Mapping[str, object]]
) -> None:
    """A document's template image and field GT: `images/<name>.tif`, `ground_truth/<name>.json`."""
    write_tiff(archive / "images" / f"{name}.tif", template)
    write_json(archive / "ground_truth" / f"{name}.json", fields)


def write_frame(
    archive: Path, clip: str, number: str, index: int, frame: NDArray[np.uint8], quad: list[list[int]]
) -> None:
    """One frame and its GT: `images/<CC>/<CC><NN>_<FF>.tif`, `ground_truth/<CC>/<CC><NN>_<FF>.json`."""
    stem = f"{clip}{number}_{index:02d}"
    write_tiff(archive / "images" / clip / f"{stem}.tif", frame)
    write_json(archive / "ground_truth" / clip / f"{stem}.json", {"quad": quad})


def render_template(
    texts: dict[str, str], rng: np.random.Generator
) -> tuple[NDArray[np.uint8], dict[str, dict[str, object]]]:
    """A card with a tinted background, a header band, a face-like patch and one text line per field."""
    width, height = TEMPLATE_SIZE
    tint = rng.integers(200, 250, size=3)
    card = np.empty((height, width, 3), dtype=np.uint8)
    card[:] = tint
    card[:22] = (tint * np.array([0.75, 0.85, 1.0])).astype(np.uint8)
    cv2.putText(card, "SYNTHETIC CARD", (8, 16), FONT, 0.45, (30, 40, 120), 1, cv2.LINE_AA)
    # face-like patch: head, hair, eyes, mouth
    cv2.rectangle(card, (8, 32), (68, 112), (180, 190, 200), -1)
    cv2.ellipse(card, (38, 74), (20, 27), 0, 0, 360, (150, 180, 225), -1)
    cv2.ellipse(card, (38, 52), (21, 10), 0, 180, 360, (40, 50, 70), -1)
    for eye_x in (31, 45):
        cv2.circle(card, (eye_x, 70), 2, (30, 30, 30), -1)
    cv2.ellipse(card, (38, 86), (7, 3), 0, 0, 180, (60, 40, 140), 1)
    fields: dict[str, dict[str, object]] = {}
    for row, (name, text) in enumerate(sorted(texts.items())):
        (text_w, text_h), baseline = cv2.getTextSize(text, FONT, 0.55, 1)
        x, y = 80, 50 + 30 * row
        cv2.putText(card, text, (x, y), FONT, 0.55, (20, 20, 20), 1, cv2.LINE_AA)
        x0, y0, x1, y1 = x - 3, y - text_h - 4, min(width, x + text_w + 3), y + baseline + 3
        fields[name] = {"quad": [[x0, y0], [x1, y0], [x1, y1], [x0, y1]], "value": text}
    return card, fields


def _background(rng: np.random.Generator, cluttered: bool) -> NDArray[np.uint8]:
    width, height = FRAME_SIZE
    base = rng.integers(40, 130, size=3).astype(np.float32)
    ramp = np.linspace(0.8, 1.1, height, dtype=np.float32)[:, None, None]
    frame = np.clip(base * ramp + rng.normal(0, 6, (height, width, 3)), 0, 255).astype(np.uint8)
    for _ in range(12 if cluttered else 2):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        color = tuple(int(c) for c in rng.integers(0, 255, size=3))
        if rng.random() < 0.5:
            cv2.rectangle(frame, (x, y), (x + int(rng.integers(10, 60)), y + int(rng.integers(10, 60))), color, -1)
        else:
            cv2.line(frame, (x, y), (int(rng.integers(0, width)), int(rng.integers(0, height))), color, 2)
    return frame


def _frame_quad(rng: np.random.Generator, out_of_frame: bool, strong_perspective: bool) -> NDArray[np.float32]:
    """Integer corners of the card in the frame, clockwise from its top-left."""
    width, height = TEMPLATE_SIZE
    scale = rng.uniform(0.8, 0.92)
    angle = np.deg2rad(rng.uniform(-12, 12))
    centre = np.array([FRAME_SIZE[0] / 2, FRAME_SIZE[1] / 2]) + rng.uniform(-8, 8, size=2)
    if out_of_frame:
        centre[0] += FRAME_SIZE[0] * 0.3
    half = np.array([[-width, -height], [width, -height], [width, height], [-width, height]]) * scale / 2
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    jitter = rng.uniform(-14, 14, size=(4, 2)) if strong_perspective else rng.uniform(-5, 5, size=(4, 2))
    corners: NDArray[np.float32] = np.round(half @ rotation.T + centre + jitter).astype(np.float32)
    return corners


def _render_frame(
    template: NDArray[np.uint8], quad: NDArray[np.float32], rng: np.random.Generator, *, cluttered: bool, dark: bool
) -> NDArray[np.uint8]:
    width, height = TEMPLATE_SIZE
    rect = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    homography = cv2.getPerspectiveTransform(rect, quad)
    size = FRAME_SIZE
    warped = cv2.warpPerspective(template, homography, size, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full(template.shape[:2], 255, np.uint8), homography, size, flags=cv2.INTER_LINEAR)
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    frame = alpha * warped + (1 - alpha) * _background(rng, cluttered)
    gain = np.linspace(rng.uniform(0.75, 1.0), rng.uniform(1.0, 1.15), size[0], dtype=np.float32)[None, :, None]
    frame = frame * gain * (0.4 if dark else 1.0) + rng.normal(0, 8 if dark else 3, frame.shape)
    if rng.random() < 0.5:
        frame = cv2.GaussianBlur(frame, (0, 0), rng.uniform(0.5, 0.9))
    return np.clip(frame, 0, 255).astype(np.uint8)


def _build(root: Path, seed: int, *, clips: tuple[str, ...], per_document_folder: bool, generator: str) -> None:
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for name, texts in DOCUMENTS.items():
        number = name[:2]
        archive = root / name if per_document_folder else root
        template, fields = render_template(texts, rng)
        write_document(archive, name, template, fields)
        for clip in clips:
            condition = clip[0]
            for index in range(1, FRAMES_PER_CLIP + 1):
                quad = _frame_quad(rng, out_of_frame=index == FRAMES_PER_CLIP, strong_perspective=condition == "D")
                frame = _render_frame(template, quad, rng, cluttered=condition in "CD", dark=condition == "L")
                write_frame(archive, clip, number, index, frame, quad.astype(int).tolist())
    mark_synthetic(root, generator, seed)


def build_midv500(root: Path, seed: int = 0) -> None:
    """Mini MIDV-500: clips TA (table, iPhone 5) and CS (clutter, Galaxy S3), one folder per document archive."""
    _build(root, seed, clips=("TA", "CS"), per_document_folder=True, generator="loaders.synthetic.midv:build_midv500")


def build_midv2019(root: Path, seed: int = 0) -> None:
    """Mini MIDV-2019: clips DX (distorted, iPhone XS Max) and LG (low light, Galaxy S10), unpacked into root."""
    _build(root, seed, clips=("DX", "LG"), per_document_folder=False, generator="loaders.synthetic.midv:build_midv2019")
