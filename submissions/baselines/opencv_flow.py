"""Classical OpenCV optical-flow baselines: DIS (preset MEDIUM) and Farnebäck.

They give every flow leaderboard two honest, reproducible reference rows that run on any CPU with no model
download. Predictions are written through `evaluators.readers.flow.write_prediction`, so they land exactly where and in
the format the evaluator reads (KITTI 16-bit PNGs under ``flow/``, Sintel ``.flo`` per scene).

Timing: each inference is the grayscale conversion of both frames plus the flow computation, timed with
`time.perf_counter`; reading images and writing predictions are not timed. Two warm-up inferences on the first
pair run first and are excluded (they absorb one-off allocations and OpenCV's lazy initialisation).
"""

from __future__ import annotations

import time
from abc import abstractmethod
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from evaluators.flow import FlowLoader
from evaluators.readers.flow import write_prediction
from hub.core.errors import MobenchError
from hub.core.registry import BenchmarkSpec
from hub.core.training_data import NONE, Declaration
from loaders.base import DatasetLoader
from submissions.baselines import Baseline, BaselineTiming

WARMUP = 2

Gray = NDArray[np.uint8]


class _OpenCVFlowBaseline(Baseline):
    """Shared run loop: grayscale both frames, compute dense flow, write it in the benchmark's format."""

    runtime = "opencv"
    precision = "fp32"
    version = cv2.__version__

    @abstractmethod
    def flow(self, first: Gray, second: Gray) -> NDArray[np.float32]:
        """Dense (H, W, 2) float32 flow from `first` to `second`."""

    def training_data(self, spec: BenchmarkSpec, config: str) -> Declaration:
        """None: classical energy minimisation with OpenCV's fixed parameters, nothing fitted to any data."""
        return NONE

    def infer(self, first_rgb: NDArray[np.uint8], second_rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
        first = np.asarray(cv2.cvtColor(first_rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
        second = np.asarray(cv2.cvtColor(second_rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
        return self.flow(first, second)

    def run(self, spec: BenchmarkSpec, loader: DatasetLoader, predictions_dir: Path) -> BaselineTiming:
        if not isinstance(loader, FlowLoader):
            raise MobenchError(f"{self.name}: {type(loader).__name__} is not an optical-flow loader")
        sample_ids = loader.sample_ids()
        if not sample_ids:
            return BaselineTiming(latencies_s=[], warmup=0)
        first, second = loader.image_pair(sample_ids[0])
        for _ in range(WARMUP):
            self.infer(first, second)
        latencies: list[float] = []
        for sample_id in sample_ids:
            first, second = loader.image_pair(sample_id)
            start = time.perf_counter()
            flow = self.infer(first, second)
            latencies.append(time.perf_counter() - start)
            write_prediction(spec, predictions_dir, sample_id, flow)
        return BaselineTiming(latencies_s=latencies, warmup=WARMUP)


class DISMediumBaseline(_OpenCVFlowBaseline):
    """Dense Inverse Search (Kroeger et al., ECCV 2016), OpenCV's `DISOpticalFlow` with PRESET_MEDIUM."""

    name = "opencv-dis-medium"
    description = "OpenCV DISOpticalFlow, preset MEDIUM, on grayscale frames (Kroeger et al., ECCV 2016)"
    url = "https://docs.opencv.org/4.x/da/d06/classcv_1_1optflow_1_1DISOpticalFlow.html"

    def __init__(self) -> None:
        self._dis = cv2.DISOpticalFlow.create(cv2.DISOpticalFlow_PRESET_MEDIUM)

    def flow(self, first: Gray, second: Gray) -> NDArray[np.float32]:
        # None = "allocate the output"; OpenCV's stubs omit it, hence the ignore.
        return np.asarray(self._dis.calc(first, second, None), dtype=np.float32)  # type: ignore[call-overload]


# The parameters of OpenCV's optical-flow tutorial (`cv.calcOpticalFlowFarneback(prvs, next, None, 0.5, 3, 15,
# 3, 5, 1.2, 0)`), the settings most published Farnebäck numbers use.
FARNEBACK_PARAMS = {
    "pyr_scale": 0.5,  # each pyramid level is half the size of the previous one
    "levels": 3,  # pyramid levels, including the full-resolution image
    "winsize": 15,  # averaging window size
    "iterations": 3,  # iterations per pyramid level
    "poly_n": 5,  # neighbourhood for the polynomial expansion
    "poly_sigma": 1.2,  # Gaussian sigma for poly_n = 5, as the OpenCV docs recommend
    "flags": 0,
}


class FarnebackBaseline(_OpenCVFlowBaseline):
    """Farnebäck polynomial-expansion flow (SCIA 2003), `cv2.calcOpticalFlowFarneback` with `FARNEBACK_PARAMS`."""

    name = "opencv-farneback"
    description = (
        "OpenCV calcOpticalFlowFarneback on grayscale frames, tutorial parameters "
        "(pyr_scale 0.5, levels 3, winsize 15, iterations 3, poly_n 5, poly_sigma 1.2) (Farnebäck, SCIA 2003)"
    )
    url = "https://docs.opencv.org/4.x/dc/d6b/group__video__track.html"

    def flow(self, first: Gray, second: Gray) -> NDArray[np.float32]:
        # None = "allocate the output"; OpenCV's stubs omit it, hence the ignore.
        flow = cv2.calcOpticalFlowFarneback(first, second, None, **FARNEBACK_PARAMS)  # type: ignore[call-overload]
        return np.asarray(flow, dtype=np.float32)


FLOW_BASELINES: list[Baseline] = [DISMediumBaseline(), FarnebackBaseline()]
