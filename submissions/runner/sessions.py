"""Model sessions for the runner: ONNX Runtime and LiteRT behind one small `Session`, and their inputs.

onnxruntime and ai-edge-litert are imported inside the loaders (the `measure` extra), so importing this module never
needs them. Inputs are the model's own shapes filled from a fixed seed, or the arrays of an `.npz` the user gives.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hub.core.errors import FormatError, MissingExtraError

_ORT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int16)": np.int16,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
}


@dataclass(frozen=True)
class InputSpec:
    name: str
    shape: tuple[int | None, ...]  # None for a dynamic dimension
    dtype: np.dtype[Any]


@dataclass(frozen=True)
class Session:
    """A loaded model ready to run one inference on fixed inputs."""

    run: Callable[[], object]
    framework: str
    version: str
    delegate: str
    input_shapes: str


def _synthetic(spec: InputSpec, rng: np.random.Generator) -> np.ndarray[Any, Any]:
    """Standard-normal floats; zeros for integers and booleans (random ids could fall outside a vocabulary)."""
    shape = tuple(1 if d is None else d for d in spec.shape)
    if np.issubdtype(spec.dtype, np.floating):
        return rng.standard_normal(shape).astype(spec.dtype)
    return np.zeros(shape, dtype=spec.dtype)


def prepare_inputs(specs: list[InputSpec], input_path: Path | None) -> tuple[dict[str, Any], str]:
    """The fixed inputs every inference uses: synthetic, or a user's `.npy` (one input) / `.npz` (by name)."""
    if input_path is None:
        rng = np.random.default_rng(0)
        return {s.name: _synthetic(s, rng) for s in specs}, "synthetic (seed 0: normal floats, zero integers)"
    try:
        loaded = np.load(input_path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise FormatError(input_path, f"not a readable .npy/.npz array file ({exc})") from exc
    if isinstance(loaded, np.ndarray):
        if len(specs) != 1:
            names = [s.name for s in specs]
            raise FormatError(input_path, f"one array given but the model has {len(specs)} inputs {names}: use .npz")
        arrays = {specs[0].name: loaded}
    else:
        arrays = {k: loaded[k] for k in loaded.files}
        missing = sorted({s.name for s in specs} - set(arrays))
        extra = sorted(set(arrays) - {s.name for s in specs})
        if missing or extra:
            raise FormatError(
                input_path, f"arrays must be named as the model's inputs: missing {missing}, extra {extra}"
            )
    for spec in specs:
        array = arrays[spec.name]
        if array.dtype != spec.dtype:
            raise FormatError(input_path, f"input {spec.name!r}: dtype {array.dtype}, the model wants {spec.dtype}")
        fits = len(array.shape) == len(spec.shape) and all(
            d is None or d == a for d, a in zip(spec.shape, array.shape, strict=True)
        )
        if not fits:
            raise FormatError(input_path, f"input {spec.name!r}: shape {array.shape}, the model wants {spec.shape}")
    return arrays, f"file {input_path.name}"


def _shapes(inputs: dict[str, Any]) -> str:
    return ", ".join(f"{name}:{'x'.join(str(d) for d in a.shape)}" for name, a in inputs.items())


def load_onnxruntime(model_path: Path, input_path: Path | None, threads: int | None) -> tuple[Session, str]:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise MissingExtraError("measure", "onnxruntime") from exc
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
    try:
        session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ORT raises its own pybind exception types for a bad file
        raise FormatError(model_path, f"ONNX Runtime cannot load this model: {exc}") from exc
    specs = []
    for i in session.get_inputs():
        if i.type not in _ORT_DTYPES:
            raise FormatError(model_path, f"input {i.name!r} has type {i.type}, which the runner cannot synthesise")
        dims = tuple(d if isinstance(d, int) else None for d in i.shape)
        specs.append(InputSpec(i.name, dims, np.dtype(_ORT_DTYPES[i.type])))
    feeds, source = prepare_inputs(specs, input_path)
    ep = session.get_providers()[0]
    return Session(lambda: session.run(None, feeds), "onnxruntime", ort.__version__, ep, _shapes(feeds)), source


def load_litert(model_path: Path, input_path: Path | None, threads: int | None) -> tuple[Session, str]:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:
        raise MissingExtraError("measure", "ai-edge-litert") from exc
    try:
        interpreter = Interpreter(model_path=str(model_path), num_threads=threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise FormatError(model_path, f"LiteRT cannot load this model: {exc}") from exc
    details = interpreter.get_input_details()
    specs = [InputSpec(d["name"], tuple(int(x) for x in d["shape"]), np.dtype(d["dtype"])) for d in details]
    feeds, source = prepare_inputs(specs, input_path)
    for d in details:
        interpreter.set_tensor(d["index"], feeds[d["name"]])
    version = importlib.metadata.version("ai-edge-litert")
    return Session(interpreter.invoke, "litert", version, "default (XNNPACK CPU)", _shapes(feeds)), source
