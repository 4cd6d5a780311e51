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
from loaders.base import DatasetLoader


@dataclass(frozen=True)
class BaselineTiming:
    latencies_s: list[float]
    warmup: int


class Baseline(ABC):
    name: str
    version: str
    runtime: str
    precision: str
    description: str
    url: str

    @abstractmethod
    def run(self, spec: BenchmarkSpec, loader: DatasetLoader, predictions_dir: Path) -> BaselineTiming:
        """Predict every sample of `loader` into `predictions_dir` and time each inference."""
