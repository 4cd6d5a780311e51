"""ONNX Runtime `onnxruntime_perf_test`: its stdout and its result file.

Source: `onnxruntime/test/perftest/performance_runner.cc` / `performance_runner.h`, research notes §3.1. Stdout
mixes seconds and milliseconds, and its labels changed over versions:

- oldest (034db1c): `Total time cost:<s>` (no unit), `Total iterations:<n>`, `Average time cost:<ms> ms`, no
  space after the colon; some builds add `Total run time: <s> s`;
- from 2020 (PR #2798): `Session creation time cost: <s> s`, `Total inference time cost: <s> s`, `Total inference
  requests: <n>`, `Average inference time cost: <ms> ms`, `Total inference run time: <s> s`, later `First inference
  time cost: <ms> ms`, `Number of inferences per second`, `Avg CPU usage: <n> %`, `Peak working set size: <n> bytes`;
- without a result file: `Avg CPU usage:<n>` / `Peak working set size:<n>` / `Runs:<n>` (no units);
- percentiles: `P50 Latency is 0.05sec` (result file, 034db1c), `P50 Latency is 0.05 sec`, then `P50 Latency: 0.05 s`;
- `-v` prints every timed request: `iteration:<i>,time_cost:<s>`, the raw latencies.

Its percentiles index `sorted[floor(N*p)]`, so with N < 100 P99 is the max: the tool's percentiles are kept as
reported and flagged. With the `-v` lines the statistics are recomputed from the samples instead.

The result file (second positional argument) holds one row per timed request, appended across runs and without a
header: `model_name,time_cost_s,peak_workingset_bytes,avg_cpu_pct,run_index` (`PerformanceResult::DumpToFile`),
with `-s` followed by the percentile lines. Those rows are the raw latencies, so the statistics are recomputed from
them. A newer 6-column variant (ORT PR #26313, two times per row) is refused: its column order is not verified here.
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
from submissions.measurements.base import (
    FLOAT,
    FormatSpec,
    ParseResult,
    Source,
    Verified,
    count_flag,
    latency_from_samples,
    provenance,
    to_duration,
    to_float,
)

TEXT = "ort-perf-test"
RESULT = "ort-perf-test-result"

# label regex -> (key, unit factor to SI, whether the value is a time)
_LINES: list[tuple[re.Pattern[str], str, float, bool]] = [
    (re.compile(rf"^Session creation time cost:\s*({FLOAT}) s\b"), "session_s", 1.0, True),
    (re.compile(rf"^First inference time cost:\s*({FLOAT}) ms\b"), "first_s", 1e-3, True),
    (re.compile(rf"^Total (?:inference )?time cost:\s*({FLOAT})(?: s)?\s*$"), "total_s", 1.0, True),
    (re.compile(r"^Total (?:inference requests|iterations):\s*(\d+)\s*$"), "requests", 1.0, False),
    (re.compile(rf"^Average (?:inference )?time cost:\s*({FLOAT}) ms\b"), "avg_s", 1e-3, True),
    (re.compile(rf"^Total (?:inference )?run time:\s*({FLOAT}) s\b"), "run_s", 1.0, True),
    (re.compile(rf"^Number of inferences per second:\s*({FLOAT})\s*$"), "ips", 1.0, False),
    (re.compile(rf"^Avg CPU usage:\s*({FLOAT})(?: %)?\s*$"), "cpu_pct", 1.0, False),
    (re.compile(r"^Peak working set size:\s*(\d+)(?: bytes)?\s*$"), "peak_ws", 1.0, False),
    (re.compile(r"^Runs:\s*(\d+)\s*$"), "runs", 1.0, False),
]
_PERCENTILE = re.compile(rf"^(Min|Max|P50|P90|P95|P99|P999) Latency(?::| is)\s*({FLOAT})\s*(s|sec)\s*$")
_LABELS = re.compile(
    r"^(Session creation|First inference|Total (inference )?(time cost|requests|run time)|Total (iterations|run time)"
    r"|Average (inference )?time|Number of inferences|Avg CPU usage|Peak working set|(Min|Max|P\d+) Latency)"
)
_ITERATION = re.compile(rf"^iteration:(\d+),time_cost:({FLOAT})\s*$")
_COMMAND = re.compile(r"onnxruntime_perf_test(?:\.exe)?\s+(?P<args>-.*)$")
_EP = re.compile(r"(?:^|\s)-e\s+(\S+)")
_THREADS = re.compile(r"^Setting intra_op_num_threads to (-?\d+)\s*$")


def detect_text(src: Source) -> bool:
    text = src.text
    return ("Total inference requests:" in text or "Average time cost:" in text) and "time cost" in text


def _read_text(src: Source) -> tuple[dict[str, float], dict[str, float], list[float], list[str], list[str], int]:
    """(values in SI, percentiles in s, -v samples in s, flags, lines used, lines ignored)."""
    values: dict[str, float] = {}
    pct: dict[str, float] = {}
    samples: list[float] = []
    flags: list[str] = []
    used: list[str] = []
    ignored = 0
    for number, raw in src.lines():
        line = raw.strip()
        for pattern, key, factor, is_time in _LINES:
            if m := pattern.search(line):
                text = m.group(1)
                value = to_duration(src, number, text, key, line) if is_time else to_float(src, number, text, key)
                values[key] = value * factor
                used.append(line)
                break
        else:
            if m := _PERCENTILE.search(line):
                pct[m.group(1)] = to_duration(src, number, m.group(2), f"{m.group(1)} Latency", line)
                if m.group(3) == "sec" and "legacy_percentile_label_is_sec" not in flags:
                    flags.append("legacy_percentile_label_is_sec")
                used.append(line)
            elif m := _ITERATION.search(line):
                if int(m.group(1)) != len(samples) + 1:
                    raise src.error(number, f"iteration {m.group(1)} out of sequence (expected {len(samples) + 1})")
                samples.append(to_duration(src, number, m.group(2), "time_cost", line))
            elif _LABELS.search(line):
                raise src.error(number, f"onnxruntime_perf_test line not understood: {line!r}")
            elif line:
                ignored += 1
    return values, pct, samples, flags, used, ignored


def _extras(src: Source, values: dict[str, float]) -> dict[str, str | int | float | bool | None]:
    """The command line, the thread setting and the figures mobench has no field for."""
    extras: dict[str, str | int | float | bool | None] = {}
    for _, raw in src.lines():
        if m := _COMMAND.search(raw):
            extras["command line"] = m.group("args").strip()
        elif m := _THREADS.search(raw.strip()):
            extras["intra_op_num_threads"] = int(m.group(1))
    for key, name in (("cpu_pct", "Avg CPU usage (%)"), ("total_s", "sum of request times (s)"), ("runs", "Runs")):
        if key in values:
            extras[name] = values[key]
    return extras


def parse_text(src: Source) -> ParseResult:
    values, pct, samples, flags, used, ignored = _read_text(src)
    if "avg_s" not in values:
        raise src.error(None, "no 'Average inference time cost' line; not an onnxruntime_perf_test output")
    requests = values.get("requests", values.get("runs"))
    n = int(requests) if requests is not None else None
    if n is None:
        flags.append("request_count_missing_legacy_output")
    if samples and n is not None and len(samples) != n:
        raise src.error(None, f"{len(samples)} 'iteration:' lines but {n} requests")
    if pct:
        flags.append("tool_percentiles_floor_index")
        if n is not None and n < 100:
            flags.append("p99_is_max_small_n")
    if "total_s" in values and "run_s" in values and n:
        flags.append("average_is_sum_of_request_times_over_n")
    count_flag(flags, "unrecognised_lines_ignored", ignored)
    extras = _extras(src, values)
    command = str(extras.get("command line", ""))
    ep = _EP.search(command)
    if samples:
        flags.append("verbose_iteration_samples_used")
        latency = latency_from_samples(samples, init_s=values.get("session_s"), first_inference_s=values.get("first_s"))
    else:
        latency = LatencyStats(
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
        )
    throughput = []
    if "ips" in values and values["ips"] > 0:
        throughput.append(Throughput(inferences_per_s=values["ips"], definition="measured_count_over_wall"))
    report = MeasurementReport(
        model=ModelInfo(format="onnx"),
        runtime=RuntimeInfo(framework="onnxruntime", delegate_or_ep=ep.group(1) if ep else None),
        protocol=Protocol(tool="onnxruntime_perf_test", warmup_runs=1, measured_runs=n, duration_s=values.get("run_s")),
        latency=latency.model_copy(update={"scope": "process", "method": "host wall-clock around Session::Run"}),
        throughput=throughput,
        memory=[MemoryFigure(peak_kind="working_set", peak_bytes=values["peak_ws"])] if "peak_ws" in values else [],
        provenance=provenance(src, TEXT, flags, original_text="\n".join(used), latency="s|ms", memory="bytes"),
        source_file=src.display,
    )
    return ParseResult(TEXT, src.display, src.sha256, reports=[report], flags=flags, extras=extras)


_RESULT_ROW = re.compile(rf"^([^,]+),({FLOAT}),(\d+),(-?\d+),(\d+)\s*$")


def detect_result(src: Source) -> bool:
    lines = [line for line in src.text.splitlines() if line.strip()]
    return (
        bool(lines)
        and bool(_RESULT_ROW.match(lines[0]))
        and all(_RESULT_ROW.match(line) or _PERCENTILE.match(line) for line in lines[:5])
    )


def parse_result(src: Source) -> ParseResult:
    """One report per run: the file is appended to, and run_index restarts at 0 for each run. The percentile lines
    `-s` appends are the tool's own figures of the same rows: the statistics are recomputed from the rows instead."""
    runs: list[list[tuple[str, float, float, float]]] = []
    stats_lines = 0
    for number, line in src.lines():
        if not line.strip():
            continue
        if _PERCENTILE.match(line.strip()):
            stats_lines += 1
            continue
        cells = line.split(",")
        if len(cells) == 6:
            raise src.error(number, "6-column result row (ORT >= 2025, two times per row): column order not verified")
        m = _RESULT_ROW.match(line)
        if not m:
            raise src.error(
                number, f"expected model_name,time_cost_s,peak_workingset_bytes,avg_cpu_pct,run_index; got {line!r}"
            )
        t = to_duration(src, number, m.group(2), "time_cost_s", line)
        model, ws, cpu, index = m.group(1), float(m.group(3)), float(m.group(4)), int(m.group(5))
        if index == 0:
            runs.append([])
        elif not runs or index != len(runs[-1]):
            raise src.error(number, f"run_index {index} out of sequence")
        runs[-1].append((model, t, ws, cpu))
    if not runs:
        raise src.error(None, "no result rows")
    flags = [f"appended_runs:{len(runs)}"] if len(runs) > 1 else []
    count_flag(flags, "tool_percentile_lines_recomputed_from_rows", stats_lines)
    reports = []
    for rows in runs:
        latency = latency_from_samples([t for _, t, _, _ in rows])
        reports.append(
            MeasurementReport(
                label=rows[0][0],
                model=ModelInfo(model_id=rows[0][0], format="onnx"),
                runtime=RuntimeInfo(framework="onnxruntime"),
                protocol=Protocol(tool="onnxruntime_perf_test", warmup_runs=1, measured_runs=len(rows)),
                latency=latency.model_copy(update={"method": "host wall-clock around Session::Run"}),
                memory=[MemoryFigure(peak_kind="working_set", peak_bytes=rows[0][2])],
                provenance=provenance(src, RESULT, flags, latency="s", memory="bytes"),
                source_file=src.display,
            )
        )
    extras: dict[str, str | int | float | bool | None] = {
        f"run {i}.avg_cpu_pct": rows[0][3] for i, rows in enumerate(runs, start=1)
    }
    return ParseResult(RESULT, src.display, src.sha256, reports=reports, flags=flags, extras=extras)


_SOURCE = "tool source: microsoft/onnxruntime onnxruntime/test/perftest/performance_runner.cc"
_FIXTURE = "fixture tests/fixtures/runtime_log_forms.py"

SPECS = (
    FormatSpec(
        TEXT,
        "onnxruntime_perf_test stdout",
        detect_text,
        parse_text,
        verified=(
            Verified(
                "ORT 1.3.1 + ACL 19.08 (2020)",
                "Android stdout with command line, Avg CPU usage, Peak working set size",
                "real log: toollogs/onnxruntime/ort-issue4647_acl_android_squeezenet_perf_test.txt",
            ),
            Verified(
                "2020 (duration mode, -t 600)",
                "no space after the colons",
                "real log: toollogs/onnxruntime/ort-issue4331_armv8_squeezenet_600s_perf_test.txt",
            ),
            Verified(
                "Jan 2020 (Windows debug build)",
                "Session creation time cost, 1 request",
                "real log: toollogs/onnxruntime/ort-pr2798_windows_resnet50_perf_test.txt",
            ),
            Verified(
                "old labels (issue #17313)",
                "Total time cost / Total iterations / Total run time, 'P50 Latency is ... sec'",
                "real log: toollogs/onnxruntime/ort-issue17313_legacy_latency_is_sec_perf_test.txt",
            ),
            Verified(
                "performance_runner.cc @034db1c (old labels) and @77e6dc9 (current labels)",
                "both label sets, 'Runs:' without a result file, '-v' iteration:i,time_cost:s lines",
                f"{_SOURCE}, performance_runner.h; {_FIXTURE} ort_perf_verbose",
            ),
        ),
    ),
    FormatSpec(
        RESULT,
        "onnxruntime_perf_test result file (one row per request)",
        detect_result,
        parse_result,
        verified=(
            Verified(
                "performance_runner.h @034db1c, performance_runner.cc @77e6dc9",
                "5-column rows appended per run, optional percentile lines after them",
                f"{_SOURCE} PerformanceResult::DumpToFile; {_FIXTURE} ort_result_with_stats",
            ),
        ),
    ),
)
