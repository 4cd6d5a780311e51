"""Reading and writing optical-flow predictions: where a benchmark's files live (its spec's `prediction_files`)
and how each file format is decoded (`CODECS`, keyed by the codec name the spec gives).

Defined once for the evaluators, the baselines and the submission checks. KITTI predictions are the devkit's
16-bit PNGs under ``flow/`` (sparse: B = valid); Sintel predictions are Middlebury ``.flo`` files mirroring the
GT tree (dense). Every problem names the sample and the file: misnamed, unreadable, wrongly sized or non-finite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
from numpy.typing import NDArray

from hub.core.coverage import Coverage, match_predictions
from hub.core.errors import FormatError, MobenchError
from hub.core.registry import BenchmarkSpec
from loaders.formats.flo import read_flo, write_flo
from loaders.formats.kitti_png import read_kitti_flow, write_kitti_flow

BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class FlowCodec:
    """One file format of flow predictions: how a file is read and written."""

    read: Callable[[Path], tuple[NDArray[np.float32], BoolArray]]
    write: Callable[[Path, NDArray[np.float32]], None]
    # True when `read` decodes integers (KITTI's 16-bit PNG), so its flow is finite by construction and
    # `read_prediction` skips the check (a pass over the whole frame)
    always_finite: bool = False


@dataclass(frozen=True)
class PredictionLayout:
    """Where and how one benchmark's prediction files are stored inside the predictions directory: its spec's
    `prediction_files` (`hub.core.registry.PredictionFiles`) with the codec its name stands for.

    A sample's file is ``folder / <last id components> + suffix``: KITTI ``flow/000042_10.png`` for
    ``kitti-2015/training/000042``, Sintel ``alley_1/frame_0007.flo`` for
    ``sintel/final/training/alley_1/frame_0007``.
    """

    folder: str
    id_parts: int
    suffix: str
    description: str
    codec: FlowCodec

    @classmethod
    def of(cls, spec: BenchmarkSpec) -> PredictionLayout:
        files = spec.files()
        codec = CODECS.get(files.codec)
        if codec is None:
            raise MobenchError(f"{spec.id}: unknown flow codec {files.codec!r}; known codecs: {', '.join(CODECS)}")
        return cls(files.folder, files.id_parts, files.suffix, files.description, codec)

    def relative_path(self, sample_id: str) -> PurePosixPath:
        tail = sample_id.split("/")[-self.id_parts :]
        tail[-1] += self.suffix
        return PurePosixPath(self.folder, *tail)

    def id_tail(self, relative: PurePosixPath) -> str | None:
        """The trailing sample-id components a file under `folder` stands for, or None if it is misnamed."""
        parts = list(relative.parts)
        if len(parts) != self.id_parts or not parts[-1].endswith(self.suffix) or parts[-1] == self.suffix:
            return None
        parts[-1] = parts[-1][: -len(self.suffix)]
        return "/".join(parts)


def _read_flo_dense(path: Path) -> tuple[NDArray[np.float32], BoolArray]:
    flow = read_flo(path)
    return flow, np.ones(flow.shape[:2], dtype=bool)


def _write_kitti_dense(path: Path, flow: NDArray[np.float32]) -> None:
    write_kitti_flow(path, flow)


# the flow file formats, by the codec name a spec's `prediction_files` gives (a table of formats, not of benchmarks)
CODECS: dict[str, FlowCodec] = {
    "kitti-flow-png": FlowCodec(read_kitti_flow, _write_kitti_dense, always_finite=True),
    "middlebury-flo": FlowCodec(_read_flo_dense, write_flo),
}


def prediction_layout(spec: BenchmarkSpec) -> PredictionLayout:
    """The prediction layout of a flow benchmark, as its registry entry's `prediction_files` declares it."""
    return PredictionLayout.of(spec)


def prediction_path(spec: BenchmarkSpec, sample_id: str) -> PurePosixPath:
    """Path of `sample_id`'s prediction file, relative to the predictions directory."""
    return prediction_layout(spec).relative_path(sample_id)


def write_prediction(spec: BenchmarkSpec, predictions_dir: Path, sample_id: str, flow: NDArray[np.float32]) -> Path:
    """Write a dense (H, W, 2) flow as `sample_id`'s prediction in the benchmark's own format."""
    layout = prediction_layout(spec)
    path = predictions_dir / layout.relative_path(sample_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    layout.codec.write(path, flow)
    return path


def match_prediction_files(
    layout: PredictionLayout, predictions: Path, expected: list[str], allow_partial: bool
) -> tuple[Coverage, list[str]]:
    """Map every file under the layout's folder to a sample id; misnamed files become problems.

    Only the layout's folder is searched (KITTI: ``flow/``, as the devkit reads only ``flow/``, so a scene-flow
    zip's ``disp_0/`` is ignored). Hidden files (``.DS_Store`` and the like) are skipped.
    """
    by_tail = {"/".join(i.split("/")[-layout.id_parts :]): i for i in expected}
    prefix = "/".join(expected[0].split("/")[: -layout.id_parts]) if expected else ""
    scope = predictions / layout.folder
    provided: list[tuple[str, str]] = []
    problems: list[str] = []
    files = sorted(p for p in scope.rglob("*") if p.is_file()) if scope.is_dir() else []
    for path in files:
        relative = PurePosixPath(path.relative_to(predictions).as_posix())
        if any(part.startswith(".") for part in relative.parts):
            continue
        tail = layout.id_tail(PurePosixPath(path.relative_to(scope).as_posix()))
        if tail is None:
            problems.append(f"{relative}: not a prediction file; expected {layout.description}")
        else:
            provided.append((by_tail.get(tail, f"{prefix}/{tail}" if prefix else tail), str(relative)))
    coverage = match_predictions(
        expected,
        provided,
        allow_partial=allow_partial,
        expected_source=lambda sample_id: str(layout.relative_path(sample_id)),
    )
    return coverage, problems


def read_prediction(
    layout: PredictionLayout, path: Path, sample_id: str, shape: tuple[int, ...]
) -> tuple[NDArray[np.float32], BoolArray] | str:
    """Read one prediction; return it, or a problem line naming the sample and the file."""
    try:
        flow, valid = layout.codec.read(path)
    except FormatError as error:
        return f"sample {sample_id}: unreadable prediction {error}"
    if flow.shape[:2] != tuple(shape):
        return (
            f"sample {sample_id}: {path}: prediction is {flow.shape[1]}x{flow.shape[0]} (WxH) but the ground "
            f"truth is {shape[1]}x{shape[0]}; predictions must be exactly the ground-truth size (unpad them)"
        )
    # the common case, tested without copying the valid pixels out (6 ms a frame)
    if layout.codec.always_finite or np.isfinite(flow).all():
        return flow, valid
    bad = ~np.isfinite(flow[valid])  # only the valid pixels must be finite
    if bad.any():
        return f"sample {sample_id}: {path}: {int(bad.any(axis=-1).sum())} pixel(s) with NaN or infinite flow"
    return flow, valid
