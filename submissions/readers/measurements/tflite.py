"""TensorFlow Lite / LiteRT `benchmark_model` logs (stdout, or logcat lines tagged `tflite`).

Source of the grammar: `tflite/tools/benchmark/benchmark_model.cc` and `benchmark_tflite_model.cc` in
google-ai-edge/LiteRT (formerly `tensorflow/lite/tools/benchmark/`), summarised in research notes §1.
Times are µs (the `avg` field and the "Inference timings" floats may be in scientific notation), memory and model
size in MB computed as KB/1024 (so MiB). There are two `count=` lines: the first after the first
"Running benchmark for at least" line is the warm-up, the second the timed phase. The tool prints no raw samples,
so the statistics are the tool's (`reported_by_tool`); p90 does not exist in this log.
"""

from __future__ import annotations

import re

from hub.core.measurements.report import LatencyStats, MeasurementReport, MemoryFigure, ModelInfo, Protocol, RuntimeInfo
from submissions.readers.measurements.base import (
    FLOAT,
    FormatSpec,
    ParseResult,
    Source,
    count_flag,
    provenance,
    to_float,
)

FORMAT = "tflite-benchmark-model"
MIB = 1024 * 1024
US = 1e-6

_RUNNING = re.compile(r"Running benchmark for at least (\d+) iterations")
_COUNT = re.compile(r"\bcount=(\S+)(.*)$")
_KV = re.compile(r"(\w+)=(\S+)")
_TIMINGS = re.compile(r"Inference timings in us: (.*)$")
_OLD_TIMINGS = re.compile(r"Average inference timings in us: (.*)$")
_INIT_SESSION = re.compile(rf"Initialized session in ({FLOAT})ms")
_MEM_DELTA = re.compile(r"(Memory footprint delta from the start of the tool|Peak memory footprint) \(MB\): (.*)$")
_MEM_PEAK = re.compile(rf"Overall peak memory footprint \(MB\) via periodic monitoring: ({FLOAT})\s*$")
_MODEL_SIZE = re.compile(rf"The input model file size \(MB\): ({FLOAT})\s*$")
_PARAM = re.compile(r"(?:^|:\s)([A-Z][A-Za-z0-9 ()/_-]*?): \[(.*)\]\s*$")
_DELEGATE = re.compile(r"Replacing (\d+) out of (\d+) node\(s\) with delegate \(([^)]*)\)")
_FALLBACK = re.compile(r"will not be executed by the delegate")
_NAMED_US = re.compile(rf"([A-Za-z ()]+?): ({FLOAT})")


def detect(src: Source) -> bool:
    text = src.text
    return "Running benchmark for at least" in text or "Inference timings in us:" in text


def _fields(src: Source, number: int, rest: str, what: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in _KV.findall(rest):
        out[key] = to_float(src, number, value, f"{what} field {key}")
    return out


def _named(src: Source, number: int, body: str) -> dict[str, float]:
    """'Init: 17187, First inference: 3512391, ...' -> {'Init': 17187.0, ...} (µs)."""
    out: dict[str, float] = {}
    for part in body.split(","):
        m = _NAMED_US.fullmatch(part.strip())
        if not m:
            raise src.error(number, f"cannot read timing entry {part.strip()!r}")
        out[m.group(1).strip()] = to_float(src, number, m.group(2), m.group(1).strip())
    return out


def parse(src: Source) -> ParseResult:
    flags: list[str] = []
    running_seen = 0
    warmup_stats: dict[str, float] | None = None
    timed: tuple[int, dict[str, float]] | None = None
    timings: dict[str, float] = {}
    init_ms: float | None = None
    memory: list[MemoryFigure] = []
    model_size_mb: float | None = None
    params: dict[str, str | int | float | bool | None] = {}
    breakdown: dict[str, int] | None = None
    fallback = False
    ignored = 0
    used_lines: list[str] = []
    for number, line in src.lines():
        if m := _RUNNING.search(line):
            running_seen += 1
        elif m := _COUNT.search(line):
            count = to_float(src, number, m.group(1), "count")
            stats = {"count": count, **_fields(src, number, m.group(2), "stat line")}
            if running_seen == 1:
                warmup_stats = stats
            elif running_seen == 2:
                if "avg" not in stats and count > 1:
                    raise src.error(number, "timed stat line without avg=")
                timed = (number, stats)
                used_lines.append(line.strip())
            else:
                raise src.error(number, "a count= line outside a 'Running benchmark for at least' phase")
            if "e+" in m.group(2) or "e-" in m.group(2):
                flags.append("scientific_notation_parsed")
        elif m := _TIMINGS.search(line):
            timings = _named(src, number, m.group(1))
            used_lines.append(line.strip())
        elif m := _OLD_TIMINGS.search(line):
            timings = _named(src, number, m.group(1))
            flags.append("legacy_average_timings_line")
            used_lines.append(line.strip())
        elif m := _INIT_SESSION.search(line):
            init_ms = to_float(src, number, m.group(1), "Initialized session")
        elif m := _MEM_DELTA.search(line):
            values = _fields(src, number, m.group(2), m.group(1))
            if "overall" not in values:
                raise src.error(number, "memory line without overall=")
            if m.group(1) == "Peak memory footprint":
                flags.append("legacy_peak_memory_label_is_rss_delta")
            memory.append(
                MemoryFigure(
                    peak_kind="rss_delta",
                    peak_bytes=max(values["overall"], 0.0) * MIB,
                    model_load_delta_bytes=values["init"] * MIB if "init" in values else None,
                )
            )
        elif m := _MEM_PEAK.search(line):
            memory.append(MemoryFigure(peak_kind="process_rss_peak", peak_bytes=float(m.group(1)) * MIB))
        elif m := _MODEL_SIZE.search(line):
            model_size_mb = float(m.group(1))
        elif m := _DELEGATE.search(line):
            breakdown = {"delegated_nodes": int(m.group(1)), "total_nodes": int(m.group(2))}
            params["delegate_name"] = m.group(3)
        elif _FALLBACK.search(line):
            fallback = True
        elif m := _PARAM.search(line):
            params[m.group(1).strip()] = m.group(2)
        else:
            ignored += 1
    if running_seen < 2 or timed is None:
        raise src.error(
            None,
            "no timed 'count=' line after the second 'Running benchmark for at least' line; "
            "not a complete benchmark_model log",
        )
    number, stats = timed
    if memory:
        flags.append("memory_MB_read_as_MiB")
    if fallback:
        flags.append("delegate_fallback_to_cpu")
    flags.append("p90_not_in_tflite_log")
    flags.append("std_is_population_std")
    count_flag(flags, "unrecognised_lines_ignored", ignored)
    init_us = timings.get("Init")
    latency = LatencyStats(
        n=int(stats["count"]),
        mean_s=stats.get("avg", stats.get("curr", 0.0)) * US,
        std_s=stats["std"] * US if "std" in stats else None,
        min_s=stats["min"] * US if "min" in stats else None,
        max_s=stats["max"] * US if "max" in stats else None,
        p5_s=stats["p5"] * US if "p5" in stats else None,
        p50_s=stats["median"] * US if "median" in stats else None,
        p95_s=stats["p95"] * US if "p95" in stats else None,
        first_inference_s=timings["First inference"] * US if "First inference" in timings else None,
        init_s=init_us * US if init_us is not None else (init_ms * 1e-3 if init_ms is not None else None),
        stats_source="reported_by_tool",
        scope="process",
        method="benchmark_model wall-clock timer",
    )
    threads = params.get("Num threads")
    report = MeasurementReport(
        model=ModelInfo(
            format="tflite",
            size_bytes=int(model_size_mb * MIB) if model_size_mb is not None else None,
            model_id=str(params.get("Graph", "")),
        ),
        runtime=RuntimeInfo(
            framework="tflite",
            num_threads=int(threads) if isinstance(threads, str) and threads.lstrip("-").isdigit() else None,
            compute_unit_breakdown=breakdown,
            fallback_detected=fallback,
            extra=params,
        ),
        protocol=Protocol(
            tool="tflite_benchmark_model",
            warmup_runs=int(warmup_stats["count"]) if warmup_stats is not None else None,
            measured_runs=int(stats["count"]),
        ),
        latency=latency,
        memory=memory,
        provenance=provenance(src, FORMAT, flags, original_text="\n".join(used_lines), latency="us", memory="MB"),
        source_file=src.display,
    )
    return ParseResult(format=FORMAT, source_file=src.display, sha256=src.sha256, reports=[report], flags=flags)


SPECS = (FormatSpec(FORMAT, "TFLite/LiteRT benchmark_model log (stdout or logcat)", detect, parse),)
