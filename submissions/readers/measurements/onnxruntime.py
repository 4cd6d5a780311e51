"""ONNX Runtime `onnxruntime_perf_test`: its stdout and its result file.

Source: `onnxruntime/test/perftest/performance_runner.cc` / `performance_runner.h`, research notes §3.1.
Stdout mixes seconds and milliseconds; labels changed over versions (`Total time cost:` → `Total inference time
cost:`, `P50 Latency is 0.05 sec` → `P50 Latency: 0.05 s`). Its percentiles index `sorted[floor(N*p)]`, so with
N < 100 P99 is the max: the tool's percentiles are kept as reported and flagged.

The result file (second positional argument) holds one row per timed request, appended across runs and without a
header: `model_name,time_cost_s,peak_workingset_bytes,avg_cpu_pct,run_index` (`PerformanceResult::DumpToFile`).
Those are the raw latencies, so the statistics are recomputed from them. A newer 6-column variant (ORT PR #26313,
two times per row) is refused: its column order is not verified here.
"""

from __future__ import annotations

import re

from hub.core.measurements.report import (
    LatencyStats,
    MeasurementReport,
    MemoryFigure,
    ModelInfo,
    Protocol,
    RuntimeInfo,
    Throughput,
)
from submissions.readers.measurements.base import (
    FLOAT,
    FormatSpec,
    ParseResult,
    Source,
    count_flag,
    latency_from_samples,
    provenance,
    to_float,
)

TEXT = "ort-perf-test"
RESULT = "ort-perf-test-result"

# label regex -> (key, unit factor to SI)
_LINES: list[tuple[re.Pattern[str], str, float]] = [
    (re.compile(rf"^Session creation time cost:\s*({FLOAT}) s\b"), "session_s", 1.0),
    (re.compile(rf"^First inference time cost:\s*({FLOAT}) ms\b"), "first_s", 1e-3),
    (re.compile(rf"^Total (?:inference )?time cost:\s*({FLOAT})(?: s)?\s*$"), "total_s", 1.0),
    (re.compile(r"^Total inference requests:\s*(\d+)\s*$"), "requests", 1.0),
    (re.compile(rf"^Average (?:inference )?time cost:\s*({FLOAT}) ms\b"), "avg_s", 1e-3),
    (re.compile(rf"^Total inference run time:\s*({FLOAT}) s\b"), "run_s", 1.0),
    (re.compile(rf"^Number of inferences per second:\s*({FLOAT})\s*$"), "ips", 1.0),
    (re.compile(rf"^Avg CPU usage:\s*({FLOAT}) %"), "cpu_pct", 1.0),
    (re.compile(r"^Peak working set size:\s*(\d+) bytes\s*$"), "peak_ws", 1.0),
]
_PERCENTILE = re.compile(rf"^(Min|Max|P50|P90|P95|P99|P999) Latency(?::| is)\s*({FLOAT}) (s|sec)\s*$")
_LABELS = re.compile(
    r"^(Session creation|First inference|Total (inference )?(time cost|requests|run time)|Average (inference )?time"
    r"|Number of inferences|Avg CPU usage|Peak working set|(Min|Max|P\d+) Latency)"
)


def detect_text(src: Source) -> bool:
    text = src.text
    return ("Total inference requests:" in text or "Average time cost:" in text) and "time cost" in text


def parse_text(src: Source) -> ParseResult:
    flags: list[str] = []
    values: dict[str, float] = {}
    pct: dict[str, float] = {}
    used: list[str] = []
    ignored = 0
    for number, raw in src.lines():
        line = raw.strip()
        for pattern, key, factor in _LINES:
            if m := pattern.search(line):
                values[key] = to_float(src, number, m.group(1), key) * factor
                used.append(line)
                break
        else:
            if m := _PERCENTILE.search(line):
                pct[m.group(1)] = to_float(src, number, m.group(2), f"{m.group(1)} Latency")
                if m.group(3) == "sec":
                    flags.append("legacy_percentile_label_is_sec")
                used.append(line)
            elif _LABELS.search(line):
                raise src.error(number, f"onnxruntime_perf_test line not understood: {line!r}")
            else:
                ignored += 1
    if "avg_s" not in values:
        raise src.error(None, "no 'Average inference time cost' line; not an onnxruntime_perf_test output")
    n = int(values["requests"]) if "requests" in values else None
    if n is None:
        flags.append("request_count_missing_legacy_output")
    if pct:
        flags.append("tool_percentiles_floor_index")
        if n is not None and n < 100:
            flags.append("p99_is_max_small_n")
    if "total_s" in values and "run_s" in values and n:
        flags.append("average_is_sum_of_request_times_over_n")
    count_flag(flags, "unrecognised_lines_ignored", ignored)
    throughput = []
    if "ips" in values and values["ips"] > 0:
        throughput.append(Throughput(inferences_per_s=values["ips"], definition="measured_count_over_wall"))
    report = MeasurementReport(
        model=ModelInfo(format="onnx"),
        runtime=RuntimeInfo(framework="onnxruntime"),
        protocol=Protocol(tool="onnxruntime_perf_test", warmup_runs=1, measured_runs=n, duration_s=values.get("run_s")),
        latency=LatencyStats(
            n=n,
            mean_s=values["avg_s"],
            min_s=pct.get("Min"),
            max_s=pct.get("Max"),
            p50_s=pct.get("P50"),
            p90_s=pct.get("P90"),
            p95_s=pct.get("P95"),
            p99_s=pct.get("P99"),
            init_s=values.get("session_s"),
            first_inference_s=values.get("first_s"),
            stats_source="reported_by_tool",
            scope="process",
            method="host wall-clock around Session::Run",
        ),
        throughput=throughput,
        memory=[MemoryFigure(peak_kind="working_set", peak_bytes=values["peak_ws"])] if "peak_ws" in values else [],
        provenance=provenance(src, TEXT, flags, original_text="\n".join(used), latency="s|ms", memory="bytes"),
        source_file=src.display,
    )
    return ParseResult(TEXT, src.display, src.sha256, reports=[report], flags=flags)


_RESULT_ROW = re.compile(rf"^([^,]+),({FLOAT}),(\d+),(-?\d+),(\d+)\s*$")


def detect_result(src: Source) -> bool:
    lines = [line for line in src.text.splitlines() if line.strip()]
    return bool(lines) and all(_RESULT_ROW.match(line) for line in lines[:5])


def parse_result(src: Source) -> ParseResult:
    """One report per run: the file is appended to, and run_index restarts at 0 for each run."""
    runs: list[list[tuple[str, float, float, float]]] = []
    for number, line in src.lines():
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) == 6:
            raise src.error(number, "6-column result row (ORT >= 2025, two times per row): column order not verified")
        m = _RESULT_ROW.match(line)
        if not m:
            raise src.error(
                number, f"expected model_name,time_cost_s,peak_workingset_bytes,avg_cpu_pct,run_index; got {line!r}"
            )
        model, t, ws, cpu, index = m.group(1), float(m.group(2)), float(m.group(3)), float(m.group(4)), int(m.group(5))
        if index == 0:
            runs.append([])
        elif not runs or index != len(runs[-1]):
            raise src.error(number, f"run_index {index} out of sequence")
        runs[-1].append((model, t, ws, cpu))
    if not runs:
        raise src.error(None, "no result rows")
    flags = [f"appended_runs:{len(runs)}"] if len(runs) > 1 else []
    reports = []
    for rows in runs:
        report_flags = list(flags)
        latency = latency_from_samples([t for _, t, _, _ in rows])
        reports.append(
            MeasurementReport(
                label=rows[0][0],
                model=ModelInfo(model_id=rows[0][0], format="onnx"),
                runtime=RuntimeInfo(framework="onnxruntime"),
                protocol=Protocol(tool="onnxruntime_perf_test", warmup_runs=1, measured_runs=len(rows)),
                latency=latency.model_copy(update={"method": "host wall-clock around Session::Run"}),
                memory=[MemoryFigure(peak_kind="working_set", peak_bytes=rows[0][2])],
                provenance=provenance(src, RESULT, report_flags, latency="s", memory="bytes"),
                source_file=src.display,
            )
        )
    return ParseResult(RESULT, src.display, src.sha256, reports=reports, flags=flags)


SPECS = (
    FormatSpec(TEXT, "onnxruntime_perf_test stdout", detect_text, parse_text),
    FormatSpec(RESULT, "onnxruntime_perf_test result file (one row per request)", detect_result, parse_result),
)
