"""MLPerf: LoadGen `mlperf_log_summary.txt` / `mlperf_log_detail.txt`, and the MLPerf Mobile app's result JSON.

Sources: mlcommons/inference `loadgen/` (summary and `:::MLLOG` detail writers) and mlcommons/mobile_app_open
`flutter/lib/data/extended_result.dart`, `results/benchmark_result.dart`, `task_runner.dart`; research notes §4.

- LoadGen times are **ns**; the app's are **seconds**.
- The app's `throughput.value` is not measured QPS: SingleStream reports 1/p90, Offline its own sample count / p90.
  The definition is stored, and the measured count over wall time is computed separately from
  `measured_samples / measured_duration`.
- LoadGen has no raw latencies in these files, so its statistics are the tool's.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hub.core.measurements.record import ThroughputDefinition
from hub.core.measurements.report import (
    DeviceInfo,
    LatencyStats,
    LLMRates,
    MeasurementReport,
    Protocol,
    RuntimeInfo,
    Throughput,
)
from loaders.formats.text import loads_json
from submissions.readers.measurements.base import (
    FormatSpec,
    ParseResult,
    Source,
    json_float,
    json_object,
    json_opt_float,
    provenance,
    to_float,
)

SUMMARY = "mlperf-loadgen-summary"
DETAIL = "mlperf-loadgen-detail"
MOBILE = "mlperf-mobile-result"
NS = 1e-9

_KV = re.compile(r"^\s*([^:]+?)\s*:\s*(.*?)\s*$")
_SUMMARY_LATENCY = {
    "Min latency (ns)": "min_s",
    "Max latency (ns)": "max_s",
    "Mean latency (ns)": "mean_s",
    "50.00 percentile latency (ns)": "p50_s",
    "90.00 percentile latency (ns)": "p90_s",
    "95.00 percentile latency (ns)": "p95_s",
    "99.00 percentile latency (ns)": "p99_s",
}
_SUMMARY_OTHER_PERCENTILE = re.compile(r"^\d+\.\d+ percentile latency \(ns\)$")


def detect_summary(src: Source) -> bool:
    return "MLPerf Results Summary" in src.text


def parse_summary(src: Source) -> ParseResult:
    flags: list[str] = []
    kv: dict[str, tuple[int, str]] = {}
    for number, line in src.lines():
        stripped = line.strip()
        if not stripped or set(stripped) == {"="} or stripped.startswith("*"):
            continue
        if stripped in {"MLPerf Results Summary", "Additional Stats", "Test Parameters Used", "Early Stopping Result:"}:
            continue
        if re.match(r"^(\d+ warnings? encountered|No (errors|warnings) encountered|\d+ errors? encountered)", stripped):
            continue
        m = _KV.match(line)
        if not m:
            raise src.error(number, f"not a 'key : value' line of an MLPerf summary: {stripped!r}")
        kv[m.group(1)] = (number, m.group(2))

    def num(key: str) -> float | None:
        if key not in kv:
            return None
        number, value = kv[key]
        return to_float(src, number, value, key)

    scenario = kv.get("Scenario", (0, ""))[1]
    if not scenario:
        raise src.error(None, "no 'Scenario :' line; not a LoadGen summary")
    validity = kv.get("Result is", (0, ""))[1]
    if validity != "VALID":
        flags.append(f"result_validity:{validity or 'missing'}")
    if "Early stopping satisfied" not in kv:
        flags.append("no_early_stopping_block_pre_v2")
    latency = {field: v * NS for key, field in _SUMMARY_LATENCY.items() if (v := num(key)) is not None}
    extra_pct = [k for k in kv if _SUMMARY_OTHER_PERCENTILE.match(k) and k not in _SUMMARY_LATENCY]
    if extra_pct:
        flags.append("percentiles_not_in_schema_kept_in_original_text:" + ",".join(extra_pct))
    if scenario == "Offline":
        flags.append("offline_single_query_percentiles_are_query_duration")
    throughput = []
    qps = num("QPS w/o loadgen overhead") or num("Samples per second")
    if qps:
        throughput.append(Throughput(inferences_per_s=qps, definition="measured_count_over_wall"))
    min_ms = num("min_duration (ms)")
    report = MeasurementReport(
        label=f"{kv.get('SUT name', (0, ''))[1]} {scenario}".strip(),
        runtime=RuntimeInfo(framework=kv.get("SUT name", (0, ""))[1]),
        protocol=Protocol(
            tool="mlperf_loadgen",
            scenario=scenario,
            min_duration_s=min_ms / 1e3 if min_ms is not None else None,
        ),
        latency=LatencyStats.model_validate(
            {"stats_source": "reported_by_tool", "method": "LoadGen query timer", **latency}
        )
        if latency
        else None,
        throughput=throughput,
        provenance=provenance(src, SUMMARY, flags, original_text=src.text, latency="ns"),
        source_file=src.display,
    )
    return ParseResult(SUMMARY, src.display, src.sha256, reports=[report], flags=flags)


_MLLOG = ":::MLLOG "
_UINT64_UNDERFLOW_MS = 1e13  # a time_ms near 2**64 ns / 1e6 is an underflowed timestamp, not a time


def detect_detail(src: Source) -> bool:
    return src.text.lstrip().startswith(_MLLOG)


def parse_detail(src: Source) -> ParseResult:
    flags: list[str] = []
    events: dict[str, tuple[int, Any]] = {}
    for number, line in src.lines():
        if not line.strip():
            continue
        if not line.startswith(_MLLOG):
            raise src.error(number, "every line of mlperf_log_detail.txt starts with ':::MLLOG '")
        try:
            event = loads_json(line[len(_MLLOG) :])
        except json.JSONDecodeError as exc:
            raise src.error(number, f"invalid MLLOG JSON: {exc.msg}") from exc
        if not isinstance(event, dict) or "key" not in event or "value" not in event:
            raise src.error(number, "MLLOG event without key/value")
        time_ms = event.get("time_ms")
        if isinstance(time_ms, int | float) and time_ms > _UINT64_UNDERFLOW_MS:
            flags.append(f"time_ms_underflow_ignored:line {number}")
        events[str(event["key"])] = (number, event["value"])

    def num(key: str) -> float | None:
        if key not in events:
            return None
        number, value = events[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise src.error(number, f"{key}: expected a number, got {value!r}")
        return float(value)

    scenario = str(events.get("effective_scenario", (0, ""))[1])
    if not scenario:
        raise src.error(None, "no effective_scenario event")
    if events.get("result_validity", (0, ""))[1] != "VALID":
        flags.append(f"result_validity:{events.get('result_validity', (0, 'missing'))[1]}")
    if "power_begin" in events:
        flags.append("power_begin_end_are_client_local_time")
    latency: dict[str, float] = {}
    for key, field in (
        ("result_mean_latency_ns", "mean_s"), ("result_min_latency_ns", "min_s"), ("result_max_latency_ns", "max_s"),
        ("result_50.00_percentile_latency_ns", "p50_s"), ("result_90.00_percentile_latency_ns", "p90_s"),
        ("result_95.00_percentile_latency_ns", "p95_s"), ("result_99.00_percentile_latency_ns", "p99_s"),
    ):  # fmt: skip
        if (v := num(key)) is not None:
            latency[field] = v * NS
    count = num("result_query_count")
    qps = num("result_qps_without_loadgen_overhead")
    ttft = num("result_first_token_mean_latency_ns")
    tpot = num("result_time_to_output_token_mean")
    min_ms = num("effective_min_duration_ms")
    report = MeasurementReport(
        label=f"{events.get('sut_name', (0, ''))[1]} {scenario}".strip(),
        runtime=RuntimeInfo(framework=str(events.get("sut_name", (0, ""))[1])),
        protocol=Protocol(
            tool="mlperf_loadgen",
            tool_version=str(events.get("loadgen_version", (0, ""))[1]),
            scenario=scenario,
            measured_runs=int(count) if count is not None else None,
            min_duration_s=min_ms / 1e3 if min_ms is not None else None,
        ),
        latency=LatencyStats.model_validate(
            {
                "n": int(count) if count is not None else None,
                "stats_source": "reported_by_tool",
                "method": "LoadGen query timer",
                **latency,
            }
        )
        if latency
        else None,
        throughput=[Throughput(inferences_per_s=qps, definition="measured_count_over_wall")] if qps else [],
        llm=LLMRates(rate_definition="1_over_mean_tpot", ttft_s=ttft * NS, tpot_s=tpot * NS if tpot else None)
        if ttft is not None
        else None,
        provenance=provenance(src, DETAIL, flags, latency="ns"),
        source_file=src.display,
    )
    return ParseResult(DETAIL, src.display, src.sha256, reports=[report], flags=flags)


# ---- MLPerf Mobile app result.json -------------------------------------------------------------------------------


def detect_mobile(src: Source) -> bool:
    text = src.text
    return '"performance_run"' in text and '"backend_settings"' in text


def _device(src: Source, doc: dict[str, Any]) -> DeviceInfo:
    env = doc.get("environment_info")
    if not isinstance(env, dict):
        return DeviceInfo()
    value = env.get("value") or {}
    android = value.get("android") if isinstance(value, dict) else None
    if not isinstance(android, dict):
        return DeviceInfo(os=str(env.get("platform") or "") or None)
    props = {p.get("name"): p.get("value") for p in android.get("props") or [] if isinstance(p, dict)}
    return DeviceInfo(
        device_name=str(android.get("model_name") or ""),
        manufacturer=android.get("manufacturer"),
        model_code=android.get("model_code"),
        soc=android.get("proc_cpuinfo_soc_name"),
        soc_model_code=props.get("ro.soc.model"),
        os="Android",
        os_version=android.get("os_version"),
        form_factor="phone",
    )


def parse_mobile(src: Source) -> ParseResult:
    doc = json_object(src, src.json(), "$")
    results = doc.get("results")
    if not isinstance(results, list) or not results:
        raise src.error(None, "$.results: expected a non-empty list")
    device = _device(src, doc)
    build = doc.get("build_info") if isinstance(doc.get("build_info"), dict) else {}
    version = str(build.get("version", "")) if build else ""
    reports = []
    for i, raw in enumerate(results):
        where = f"$.results[{i}]"
        res = json_object(src, raw, where)
        perf = res.get("performance_run")
        if perf is None:
            continue  # an accuracy-only result carries no cost figure
        perf = json_object(src, perf, f"{where}.performance_run")
        loadgen = json_object(src, perf.get("loadgen"), f"{where}.performance_run.loadgen")
        scenario = str(res.get("loadgen_scenario", ""))
        flags: list[str] = []
        lg = f"{where}.performance_run.loadgen"
        p90 = json_float(src, loadgen, "latency90", lg)
        mean = json_float(src, loadgen, "latency_mean", lg)
        if not loadgen.get("is_result_valid", False):
            flags.append("result_invalid")
        throughput: list[Throughput] = []
        tp_value = json_opt_float(src, json_object(src, perf.get("throughput") or {}, where), "value", where)
        if tp_value:
            definition: ThroughputDefinition = "1_over_p90" if scenario == "SingleStream" else "samples_over_p90"
            throughput.append(Throughput(inferences_per_s=tp_value, definition=definition))
            flags.append("app_throughput_is_not_measured_qps")
        samples = json_opt_float(src, perf, "measured_samples", f"{where}.performance_run")
        duration = json_opt_float(src, perf, "measured_duration", f"{where}.performance_run")
        if samples and duration:
            throughput.append(
                Throughput(
                    inferences_per_s=samples / duration,
                    definition="measured_count_over_wall",
                    stats_source="computed_from_samples",
                )
            )
        llm = None
        if loadgen.get("is_token_based"):
            ttft = json_opt_float(src, loadgen, "latency_first_token_mean", lg)
            token_tp = json_opt_float(src, loadgen, "token_throughput", lg)
            llm = LLMRates(
                rate_definition="1_over_mean_tpot",
                ttft_s=ttft,
                decode_tokens_per_s=token_tp or None,
                tpot_s=1 / token_tp if token_tp else None,
            )
        settings = json_object(src, res.get("backend_settings") or {}, f"{where}.backend_settings")
        count = json_opt_float(src, loadgen, "query_count", lg)
        reports.append(
            MeasurementReport(
                label=str(res.get("benchmark_id", "")),
                device=device,
                runtime=RuntimeInfo(
                    framework=str(settings.get("framework", "")),
                    delegate_or_ep=str(settings.get("delegate", "")) or None,
                    backend=str(settings.get("accelerator_desc", "")) or None,
                    batch_size=settings.get("batch_size"),
                ),
                protocol=Protocol(
                    tool="mlperf_mobile_app",
                    tool_version=version,
                    scenario=scenario,
                    measured_runs=int(count) if count is not None else None,
                    duration_s=duration,
                    min_duration_s=json_opt_float(src, res, "min_duration", where),
                ),
                latency=LatencyStats(
                    n=int(count) if count is not None else None,
                    mean_s=mean,
                    p90_s=p90,
                    stats_source="reported_by_tool",
                    method="LoadGen query timer",
                ),
                throughput=throughput,
                llm=llm,
                provenance=provenance(src, MOBILE, flags, latency="s"),
                source_file=src.display,
            )
        )
    if not reports:
        raise src.error(None, "$.results: no result has a performance_run")
    return ParseResult(MOBILE, src.display, src.sha256, reports=reports)


SPECS = (
    FormatSpec(SUMMARY, "MLPerf LoadGen mlperf_log_summary.txt", detect_summary, parse_summary),
    FormatSpec(DETAIL, "MLPerf LoadGen mlperf_log_detail.txt (:::MLLOG lines)", detect_detail, parse_detail),
    FormatSpec(MOBILE, "MLPerf Mobile app result.json", detect_mobile, parse_mobile),
)
