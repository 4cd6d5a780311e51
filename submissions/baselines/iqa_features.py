"""A real no-reference image-quality baseline: hand-made OpenCV/numpy features, combined by least squares.

Features of the grey-level image (scaled to [0, 1], long side reduced to at most `MAX_SIDE` px with area
averaging so that a 4K crop and a thumbnail are measured alike):

- sharpness: log of the variance of the Laplacian (Pech-Pacheco et al., ICPR 2000, "variance of Laplacian");
- noise: log of Immerkaer's fast noise estimate (CVIU 1996): sigma = sqrt(pi / 2) / (6 (W - 2)(H - 2)) *
  sum |I * N| with N = [[1, -2, 1], [-2, 4, -2], [1, -2, 1]], a Laplacian difference that cancels smooth
  structure;
- exposure: mean, mean squared (so the fit can prefer mid-grey), standard deviation (contrast), and the shares
  of clipped highlights (>= 250/255) and crushed shadows (<= 5/255) of the histogram.

The fit is within the groups the benchmark's protocol compares (its spec's `evaluator_options`), against the label
field it scores (`target`): features and target are centred per group on the config's `train` split,
standardised, and combined by ridge-regularised least squares (lambda = `RIDGE`, which only matters for tiny
training sets).

- Per-scene pooling (PIQ23: JOD is zero-mean within each scene): the groups are scenes. On the scored split each
  image's feature vector is centred with its scene's mean over that split's images (the scene name comes with the
  release; no label is used), so predictions are zero-mean per scene on the JOD scale, and MAE is meaningful. (The
  model is linear, so this is done by centring each scene's scores.)
- All-images pooling (SPAQ: one MOS scale): one group, every training image. A scored image's prediction is the
  fitted line at its features, on the target's scale (the training means of features and target restored).

Timing: per image, `time.perf_counter` around feature extraction plus the linear prediction, on the host CPU;
reading the file and the per-scene centring of the scores (a batch step) are not timed; one warm-up inference is
excluded.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np
from numpy.typing import NDArray

from hub.core.errors import FormatError, MobenchError
from hub.core.registry import BenchmarkSpec, ImageQualityOptions
from hub.core.training_data import Declaration, declared_split
from hub.scoring.wiring import make_loader
from loaders.base import DatasetLoader
from submissions.baselines import Baseline, BaselineTiming

MAX_SIDE = 512
RIDGE = 1e-2
WARMUP = 1
FEATURE_NAMES = ("log_laplacian_var", "log_noise_sigma", "mean", "mean_sq", "std", "clipped_high", "clipped_low")
_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)

Vector = NDArray[np.float64]


def read_grey(path: Path) -> NDArray[np.float32]:
    """The image as grey levels in [0, 1], long side at most MAX_SIDE px (area-averaged)."""
    grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if grey is None:
        raise FormatError(path, "OpenCV cannot decode this image")
    scale = MAX_SIDE / max(grey.shape)
    if scale < 1:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    image: NDArray[np.float32] = grey.astype(np.float32) / 255.0
    return image


def quality_features(grey: NDArray[np.float32]) -> Vector:
    """The feature vector of FEATURE_NAMES for one grey image (see the module docstring)."""
    laplacian = cv2.Laplacian(grey, cv2.CV_32F)
    height, width = grey.shape
    residual = np.abs(cv2.filter2D(grey, cv2.CV_32F, _IMMERKAER)[1:-1, 1:-1])
    sigma = math.sqrt(math.pi / 2) * float(residual.sum()) / (6.0 * (width - 2) * (height - 2))
    mean = float(grey.mean())
    return np.array(
        [
            math.log(float(laplacian.var()) + 1e-8),
            math.log(sigma + 1e-4),
            mean,
            mean * mean,
            float(grey.std()),
            float((grey >= 250 / 255).mean()),
            float((grey <= 5 / 255).mean()),
        ]
    )


@runtime_checkable
class QualityRelease(Protocol):
    """What the baseline reads of a split: label rows (with `image` and the target field) and image files."""

    def labels(self) -> Sequence[Any]: ...

    def image_path(self, sample_id: str) -> Path: ...


def centre_per_scene(values: NDArray[np.float64], scenes: list[str]) -> NDArray[np.float64]:
    """Subtract each scene's mean (over the given rows) from its rows."""
    out = values.astype(np.float64).copy()
    for scene in set(scenes):
        rows = np.array([s == scene for s in scenes])
        out[rows] -= out[rows].mean(axis=0)
    return out


class FeatureRegressor:
    """Within-group ridge least squares from standardised, group-centred features to the group-centred target;
    `offset` restores the training means where there is one group (prediction = predict(features) + offset)."""

    def __init__(self, features: NDArray[np.float64], scenes: list[str], jod: Vector) -> None:
        centred = centre_per_scene(features, scenes)
        self.scale = centred.std(axis=0)
        self.scale[self.scale == 0] = 1.0
        x = centred / self.scale
        y = centre_per_scene(jod, scenes)
        self.weights: Vector = np.linalg.solve(x.T @ x + RIDGE * len(y) * np.eye(x.shape[1]), x.T @ y)
        self.offset = float(jod.mean() - self.predict(features.mean(axis=0)))

    def predict(self, centred_features: NDArray[np.float64]) -> NDArray[np.float64]:
        prediction: NDArray[np.float64] = (centred_features / self.scale) @ self.weights
        return prediction


class SharpnessNoiseExposureBaseline(Baseline):
    name = "sharpness-noise-exposure-ls"
    version = "1.0"
    runtime = "opencv + numpy (python)"
    precision = "fp32 features, fp64 fit"
    description = (
        "variance of Laplacian, Immerkaer noise estimate and exposure histogram statistics, combined by least squares "
        "fitted on the config's train split (within scenes where the protocol compares within scenes)"
    )
    url = "https://docs.opencv.org/4.x/d5/db5/tutorial_laplace_operator.html"

    def training_data(self, spec: BenchmarkSpec, config: str) -> Declaration:
        """The config's train split, on which `run` fits the regression."""
        return [declared_split(spec, config, "train")]

    def run(self, spec: BenchmarkSpec, loader: DatasetLoader, predictions_dir: Path) -> BaselineTiming:
        options = spec.options_as(ImageQualityOptions)
        train = make_loader(spec, loader.root, "train", loader.config)
        if not isinstance(loader, QualityRelease) or not isinstance(train, QualityRelease):
            raise MobenchError(f"the {self.name} baseline reads label rows and images, not {type(loader).__name__}")
        per_scene = options.pooling == "per-scene-median"

        def groups(labels: Sequence[Any]) -> list[str]:
            return [x.scene for x in labels] if per_scene else [""] * len(labels)

        train_labels = train.labels()
        train_features = np.array([quality_features(read_grey(train.image_path(x.image))) for x in train_labels])
        target = np.array([float(getattr(x, options.target)) for x in train_labels])
        model = FeatureRegressor(train_features, groups(train_labels), target)

        labels = loader.labels()
        greys = [read_grey(loader.image_path(x.image)) for x in labels]
        for _ in range(WARMUP):
            quality_features(greys[0])
        latencies: list[float] = []
        raw: list[float] = []
        for grey in greys:
            start = time.perf_counter()
            raw.append(float(model.predict(quality_features(grey))))
            latencies.append(time.perf_counter() - start)
        # the model is linear, so centring the scores per scene equals centring the features per scene
        scores = centre_per_scene(np.array(raw), groups(labels)) if per_scene else np.array(raw) + model.offset

        predictions_dir.mkdir(parents=True, exist_ok=True)
        with (predictions_dir / "scores.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["IMAGE", "SCORE"])
            writer.writerows([x.image, repr(float(s))] for x, s in zip(labels, scores, strict=True))
        return BaselineTiming(latencies_s=latencies, warmup=WARMUP)


IQA_BASELINES: list[Baseline] = [SharpnessNoiseExposureBaseline()]
