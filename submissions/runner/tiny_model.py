"""Tiny models built in code, for tests and the demo's host measurements.

They are generated rather than downloaded so that tests run offline and the bytes (hence the sha256 the runner
records) are reproducible: the same arguments always give the same file. Both models compute
y = relu(x · W + b) on a float32 vector with fixed pseudo-random weights, which is enough to exercise a real
inference runtime without making the timings noise-dominated by Python overhead alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hub.core.errors import MissingExtraError

INPUT_NAME = "x"
OUTPUT_NAME = "y"


def _weights(features: int, seed: int) -> tuple[np.ndarray[Any, np.dtype[np.float32]], ...]:
    """The layer's weights; W is stored [in, out] (ONNX MatMul) and transposed for TFLite (out, in)."""
    rng = np.random.default_rng(seed)
    weight = rng.standard_normal((features, features)).astype(np.float32) / np.float32(np.sqrt(features))
    bias = rng.standard_normal(features).astype(np.float32)
    return weight, bias


def build_tiny_onnx(path: Path, *, features: int = 64, seed: int = 0) -> Path:
    """Write a one-layer ONNX model (MatMul, Add, Relu; input `x` [1, features]) and return its path.

    Opset 17 / IR 8 so that older ONNX Runtime builds found on boards and phones can still load it.
    """
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as exc:
        raise MissingExtraError("measure", "onnx") from exc
    weight, bias = _weights(features, seed)
    graph = helper.make_graph(
        nodes=[
            helper.make_node("MatMul", [INPUT_NAME, "W"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["xwb"]),
            helper.make_node("Relu", ["xwb"], [OUTPUT_NAME]),
        ],
        name="mobench_tiny",
        inputs=[helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [1, features])],
        outputs=[helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, [1, features])],
        initializer=[numpy_helper.from_array(weight, "W"), numpy_helper.from_array(bias, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="mobench", ir_version=8)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(path))
    return path


def build_tiny_tflite(path: Path, *, features: int = 64, seed: int = 0) -> Path:
    """Write the same layer as a TFLite flatbuffer (one FULLY_CONNECTED op with fused ReLU) and return its path.

    Built with the schema classes shipped inside `ai-edge-litert`, so no TensorFlow converter is needed.
    """
    try:
        import flatbuffers
        from ai_edge_litert import schema_py_generated as tfl
    except ImportError as exc:
        raise MissingExtraError("measure", "ai-edge-litert") from exc
    weight, bias = _weights(features, seed)

    def tensor(name: str, shape: list[int], buffer: int) -> Any:
        t = tfl.TensorT()
        t.name, t.shape, t.type, t.buffer = name, shape, tfl.TensorType.FLOAT32, buffer
        return t

    def buffer(data: bytes | None) -> Any:
        b = tfl.BufferT()
        b.data = None if data is None else list(data)
        return b

    options = tfl.FullyConnectedOptionsT()
    options.fusedActivationFunction = tfl.ActivationFunctionType.RELU
    op = tfl.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [0, 1, 2], [3]
    op.builtinOptionsType, op.builtinOptions = tfl.BuiltinOptions.FullyConnectedOptions, options
    code = tfl.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = tfl.BuiltinOperator.FULLY_CONNECTED
    subgraph = tfl.SubGraphT()
    subgraph.tensors = [
        tensor(INPUT_NAME, [1, features], 1),
        tensor("W", [features, features], 2),
        tensor("b", [features], 3),
        tensor(OUTPUT_NAME, [1, features], 4),
    ]
    subgraph.inputs, subgraph.outputs, subgraph.operators = [0], [3], [op]
    model = tfl.ModelT()
    model.version, model.description = 3, "mobench_tiny"
    model.operatorCodes, model.subgraphs = [code], [subgraph]
    # Buffer 0 is the conventional empty sentinel; FULLY_CONNECTED weights are laid out [out, in].
    model.buffers = [buffer(None), buffer(None), buffer(weight.T.tobytes()), buffer(bias.tobytes()), buffer(None)]
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(builder.Output()))
    return path
