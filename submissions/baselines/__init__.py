"""Baselines: real, simple algorithms run by `mobench demo`, labelled as baselines wherever they show.

A baseline writes its predictions for one split in the benchmark's own submission format and returns the
per-sample inference latencies it measured on the host (warm-up iterations excluded), which the demo turns into
measurement records with scope "host CPU process".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from hub.core.registry import BenchmarkSpec
from hub.core.training_data import Declaration
from loaders.base import DatasetLoader


@dataclass(frozen=True)
class BaselineTiming:
    latencies_s: list[float]
    warmup: int


class Baseline(ABC):
    """Something the demo runs on a benchmark and submits; `is_baseline` marks the simple reference algorithms
    (a real model such as `submissions.models.smollm2.SmolLM2` sets it False)."""

    is_baseline = True
    name: str
    version: str
    runtime: str
    precision: str
    description: str
    url: str

    @abstractmethod
    def run(self, spec: BenchmarkSpec, loader: DatasetLoader, predictions_dir: Path) -> BaselineTiming:
        """Predict every sample of `loader` into `predictions_dir` and time each inference."""

    @abstractmethod
    def training_data(self, spec: BenchmarkSpec, config: str) -> Declaration:
        """What the model was trained on, as the manifest of its run on `config` of `spec` declares it
        (`hub.core.training_data`): `none` for an algorithm fitted on no data."""

    def params(self) -> int | None:
        """The model's parameter count, where it has one (for the manifest)."""
        return None

    def timed_models(self) -> list[Path]:
        """ONNX / LiteRT model files this runs, which `mobench demo --with-models` also times with `mobench
        measure` (the model alone, next to the whole per-sample pipeline the demo times)."""
        return []
