"""Qualcomm AI Hub profile JSON: `profile_job.download_profile()` saved with `json.dump`.

Source: the `qai_hub` client (`client.py`, `_profile_pb_to_python_dict`), research notes §5. Times are µs, memory
bytes; missing metrics of older profile versions are `null` (`MISSING_METRIC_VALUE = None`). Memory comes as
(lower, upper) ranges. The headline `estimated_inference_time` is one aggregate of unstated kind, so it is kept as
`tool_estimate`, and when `all_inference_times` exists the statistics are recomputed from those raw times.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hub.core.measurements.report import LatencyStats, MeasurementReport, MemoryFigure, Protocol, RuntimeInfo
from submissions.measurements.base import (
    FormatSpec,
    ParseResult,
    Source,
    json_object,
    json_opt_float,
    latency_from_samples,
    provenance,
)

FORMAT = "qai-hub-profile"
US = 1e-6
_PHASES = ("compile", "first_load", "warm_load", "inference")


def detect(src: Source) -> bool:
    return '"execution_summary"' in src.text


def _range(src: Source, summary: dict[str, Any], key: str) -> tuple[float, float] | None:
    value = summary.get(key)
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise src.error(None, f"$.execution_summary.{key}: expected [lower, upper] bytes, got {value!r}")
    return float(value[0]), float(value[1])


def _times(src: Source, summary: dict[str, Any], key: str) -> list[float] | None:
    value = summary.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, int | float) and v > 0 for v in value):
        raise src.error(None, f"$.execution_summary.{key}: expected a non-empty list of positive µs")
    return [float(v) * US for v in value]


def parse(src: Source) -> ParseResult:
    doc = json_object(src, src.json(), "$")
    where = "$.execution_summary"
    summary = json_object(src, doc.get("execution_summary"), where)
    flags: list[str] = []

    def us(key: str) -> float | None:
        v = json_opt_float(src, summary, key, where)
        return v * US if v is not None else None

    estimate = us("estimated_inference_time")
    samples = _times(src, summary, "all_inference_times")
    if samples is not None:
        latency = latency_from_samples(samples, tool_estimate_s=estimate)
    elif estimate is not None:
        flags.append("no_raw_inference_times_only_tool_estimate")
        latency = LatencyStats(tool_estimate_s=estimate, stats_source="reported_by_tool")
    else:
        raise src.error(None, f"{where}: neither all_inference_times nor estimated_inference_time")
    first_load = _times(src, summary, "all_first_load_times")
    warm_load = _times(src, summary, "all_warm_load_times")
    compile_times = _times(src, summary, "all_compile_times")
    latency = latency.model_copy(
        update={
            "init_s": first_load[0] if first_load else us("first_load_time"),
            "warm_load_s": warm_load[0] if warm_load else us("warm_load_time"),
            "compile_s": compile_times[0] if compile_times else us("compile_time"),
            "method": "AI Hub on-device profiler",
        }
    )
    memory: list[MemoryFigure] = []
    for phase in _PHASES:
        peak_range = _range(src, summary, f"{phase}_memory_peak_range")
        if peak_range is None:
            key = "estimated_inference_peak_memory" if phase == "inference" else f"{phase}_peak_memory"
            peak = json_opt_float(src, summary, key, where)
            if peak is not None:
                memory.append(MemoryFigure(peak_kind="accelerator_estimate_range", peak_bytes=peak, phase=phase))
            continue
        memory.append(
            MemoryFigure(
                peak_kind="accelerator_estimate_range",
                peak_range_bytes=peak_range,
                peak_bytes=peak_range[1],
                phase=phase,
            )
        )
    if memory:
        flags.append("memory_is_estimated_range_upper_bound_as_peak")
    units: Counter[str] = Counter()
    for i, layer in enumerate(doc.get("execution_detail") or []):
        unit = json_object(src, layer, f"$.execution_detail[{i}]").get("compute_unit")
        if not isinstance(unit, str):
            raise src.error(None, f"$.execution_detail[{i}].compute_unit: missing")
        units[unit] += 1
    breakdown = {f"{u.lower()}_layers": c for u, c in units.items()} | {"total_layers": sum(units.values())}
    fallback = bool(units.get("CPU")) and len(units) > 1
    if fallback:
        flags.append("layers_fell_back_to_cpu")
    report = MeasurementReport(
        runtime=RuntimeInfo(
            framework="qai_hub",
            compute_unit_breakdown=breakdown if units else None,
            fallback_detected=fallback if units else None,
            backend=(units.most_common(1)[0][0].lower() if units else None),
        ),
        protocol=Protocol(tool="qai_hub_profile", measured_runs=latency.n),
        latency=latency,
        memory=memory,
        provenance=provenance(src, FORMAT, flags, latency="us", memory="bytes"),
        source_file=src.display,
    )
    return ParseResult(FORMAT, src.display, src.sha256, reports=[report], flags=flags)


SPECS = (FormatSpec(FORMAT, "Qualcomm AI Hub profile_job.download_profile() JSON", detect, parse),)
