"""A synthetic mini SPAQ, written in the release's on-disk layout, for the demo and the tests.

Why synthetic: SPAQ is licensed for educational and research use only and mobench re-publishes none of it, yet the
demo, the baseline and the tests need real files in the release's formats. `build_spaq` writes 60 small photos
(96x128 px, landscape or portrait) taken by 6 made-up phones:

- every photo is a procedural outdoor or still-life scene (a sky and ground gradient, textured ground, a few
  objects) degraded as a phone of a given quality would take it: Gaussian blur, sensor-like noise and an exposure
  gain (`loaders.synthetic.piq23.degrade`), each phone with its own typical faults plus a per-photo draw;
- MOS (0-100) falls with the blur, the noise and the exposure error, plus a little rater noise; the five attribute
  scores are measured on the photo (brightness, colourfulness, contrast) or follow its noise and blur;
- the three workbooks are written with openpyxl as the release's (`Annotations/`, first sheet, a header row then
  one row per image; the EXIF `Time` header spans two columns, scene weights are 1/k rounded to 6 decimals);
- each JPEG (OpenCV) carries an EXIF block (Pillow) with the phone's Make and Model, except one photo that has none,
  so the device config leaves it out; the phones are chosen so that the hash split holds some out.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import openpyxl
from numpy.typing import NDArray
from PIL import Image

from loaders.spaq import (
    ANNOTATIONS,
    EXIF_FIELDS,
    EXIF_FILE,
    EXIF_MAKE,
    EXIF_MODEL,
    IMAGE_COLUMN,
    IMAGE_FOLDER,
    MOS_FIELDS,
    MOS_FILE,
    SCENE_FIELDS,
    SCENE_FILE,
    split_of,
)
from loaders.synthetic import mark_synthetic
from loaders.synthetic.piq23 import degrade

N_IMAGES = 60
N_TEST_PHONES, N_TRAIN_PHONES = 2, 4
NO_EXIF_IMAGE = 7  # the photo (1-based) whose JPEG carries no EXIF block
MAKE = "mobench"
# per phone: (blur sigma px, noise sigma in [0, 1] units, exposure gain), its typical faults
PHONE_FAULTS: tuple[tuple[float, float, float], ...] = (
    (0.0, 0.005, 1.0),
    (0.6, 0.01, 0.9),
    (1.4, 0.02, 1.1),
    (0.3, 0.05, 0.8),
    (2.2, 0.03, 1.3),
    (0.9, 0.07, 0.6),
)

RGB = NDArray[np.float32]


def phone_models() -> list[str]:
    """The made-up phones' models, the first N_TEST_PHONES of them in the device config's test split."""
    test: list[str] = []
    train: list[str] = []
    number = 0
    while len(test) < N_TEST_PHONES or len(train) < N_TRAIN_PHONES:
        number += 1
        model = f"SyntheticPhone {number}"
        wanted = test if split_of(f"{MAKE} {model}") == "test" else train
        if len(wanted) < (N_TEST_PHONES if wanted is test else N_TRAIN_PHONES):
            wanted.append(model)
    return test + train


def _scene(rng: np.random.Generator, height: int, width: int) -> RGB:
    """A clean procedural photo in [0, 1] RGB: sky and ground gradients, textured ground, a few objects."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    horizon = rng.uniform(0.35, 0.65) * height
    sky_top, sky_low, ground = rng.uniform(0.3, 0.9, 3), rng.uniform(0.5, 1.0, 3), rng.uniform(0.1, 0.6, 3)
    t = np.clip(ys / horizon, 0, 1)[..., None]
    image = (sky_top * (1 - t) + sky_low * t).astype(np.float32)
    below = ys >= horizon
    stripes = 0.08 * np.sin(xs * rng.uniform(0.8, 1.6) + ys * 0.3)
    image[below] = (ground[None, :] * (1 + stripes[below][:, None])).astype(np.float32)
    for _ in range(int(rng.integers(3, 7))):
        colour = tuple(float(c) for c in rng.uniform(0, 1, 3))
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        if rng.random() < 0.5:
            cv2.circle(image, centre, int(rng.integers(4, 16)), colour, -1)
        else:
            corner = (centre[0] + int(rng.integers(5, 25)), centre[1] + int(rng.integers(5, 25)))
            cv2.rectangle(image, centre, corner, colour, -1)
    image += 0.03 * rng.normal(0.0, 1.0, image.shape).astype(np.float32)  # fine texture
    scene: RGB = np.clip(image, 0.0, 1.0).astype(np.float32)
    return scene


def _jpeg(image: RGB, model: str | None) -> bytes:
    """The photo as OpenCV's JPEG, with an EXIF APP1 segment naming the phone spliced in after SOI."""
    bgr = cv2.cvtColor((image * 255.0 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 92])
    if not ok:
        raise RuntimeError("OpenCV could not encode a JPEG")
    data = encoded.tobytes()
    if model is None:
        return data
    exif = Image.Exif()
    exif[EXIF_MAKE], exif[EXIF_MODEL] = MAKE, model
    block = exif.tobytes()
    return data[:2] + b"\xff\xe1" + (len(block) + 2).to_bytes(2, "big") + block + data[2:]


def _write_workbook(path: Path, header: list[str | None], rows: list[list[object]]) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    if header[-1] is None:  # the release's `Time` header cell spans the last two columns
        sheet.merge_cells(start_row=1, start_column=len(header) - 1, end_row=1, end_column=len(header))
    for row in rows:
        sheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def _attributes(photo: RGB, blur: float, noise: float) -> list[float]:
    """Brightness, colourfulness, contrast (measured on the photo), noisiness and sharpness (from the capture)."""
    grey = photo.mean(axis=2)
    rg, yb = photo[..., 0] - photo[..., 1], (photo[..., 0] + photo[..., 1]) / 2 - photo[..., 2]
    colourful = math.hypot(float(rg.std()), float(yb.std())) + 0.3 * math.hypot(float(rg.mean()), float(yb.mean()))
    values = (100 * grey.mean(), 250 * colourful, 300 * grey.std(), 95 - 700 * noise, 95 - 28 * blur)
    return [round(float(np.clip(v, 0, 100)), 2) for v in values]


def build_spaq(root: Path, seed: int = 0) -> None:
    """Write the synthetic mini SPAQ (60 photos, 6 phones, all three workbooks) under `root`."""
    rng = np.random.default_rng(seed)
    models = phone_models()
    scores: list[list[object]] = []
    exif: list[list[object]] = []
    scenes: list[list[object]] = []
    for number in range(1, N_IMAGES + 1):
        name = f"{number:05d}.jpg"
        phone = int(rng.integers(0, len(models)))
        base_blur, base_noise, base_gain = PHONE_FAULTS[phone]
        blur = base_blur + float(rng.choice([0.0, 0.0, 0.8, 1.8]))
        noise = base_noise + float(rng.choice([0.0, 0.0, 0.02, 0.05]))
        gain = base_gain * float(rng.choice([1.0, 1.0, 0.55, 1.7]))
        height, width = (96, 128) if number % 3 else (128, 96)
        photo = degrade(_scene(rng, height, width), blur, noise, gain, rng)
        path = root / IMAGE_FOLDER / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_jpeg(photo, None if number == NO_EXIF_IMAGE else models[phone]))
        penalty = 13 * blur + 300 * noise + 22 * abs(math.log2(gain)) + float(rng.normal(0, 2))
        scores.append([name, round(float(np.clip(88 - penalty, 2, 98)), 2), *_attributes(photo, blur, noise)])
        angle = 2 * math.pi * int(rng.integers(7, 23)) / 24  # the hour on a 24-hour circle; (0, 0): no time
        time = (0.0, 0.0) if number % 11 == 0 else (math.cos(angle), math.sin(angle))
        exif.append(
            [
                name,
                round(3.5 + 0.25 * phone, 3),
                round(1.6 + 0.1 * phone, 1),
                round(1 / float(rng.choice([25, 50, 100, 250, 1000])), 6),
                int(rng.choice([25, 50, 100, 200, 400, 800])),
                round(float(rng.uniform(-2, 10)), 6),
                int(rng.random() < 0.1),
                *(round(v, 6) for v in time),
            ]
        )
        chosen = rng.choice(len(SCENE_FIELDS), size=int(rng.integers(1, 4)), replace=False)
        scenes.append([name, *(round(1 / len(chosen), 6) if k in chosen else 0.0 for k in range(len(SCENE_FIELDS)))])
    folder = root / ANNOTATIONS
    _write_workbook(folder / MOS_FILE, [IMAGE_COLUMN, *(h for h, _ in MOS_FIELDS)], scores)
    _write_workbook(folder / EXIF_FILE, [IMAGE_COLUMN, *(h for h, _ in EXIF_FIELDS)], exif)
    _write_workbook(folder / SCENE_FILE, [IMAGE_COLUMN, *(h for h, _ in SCENE_FIELDS)], scenes)
    mark_synthetic(root, "loaders.synthetic.spaq:build_spaq", seed)
