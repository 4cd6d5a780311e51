"""MLPerf LoadGen: `mlperf_log_summary.txt` and `mlperf_log_detail.txt` (the app's result JSON: `mlperf_mobile`).

Sources: mlcommons/inference `loadgen/` (summary and `:::MLLOG` detail writers); research notes §4.

- LoadGen times are **ns**.
- LoadGen has no raw latencies in these files, so its statistics are the tool's.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hub.core.measurements.report import (
    LatencyStats,
    LLMRates,
    MeasurementReport,
    Protocol,
    RuntimeInfo,
    Throughput,
)
from loaders.formats.text import loads_json
from submissions.measurements.base import (
    FormatSpec,
    ParseResult,
    Source,
    Verified,
    provenance,
    to_float,
)

SUMMARY = "mlperf-loadgen-summary"
DETAIL = "mlperf-loadgen-detail"
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
_SUMMARY_USED = {
    "Scenario",
    "Result is",
    "SUT name",
    "QPS w/o loadgen overhead",
    "Samples per second",
    "min_duration (ms)",
}
# LoadGen's own verdicts, "No" is flagged (summary key or detail event -> flag)
_UNMET = {
    "Min duration satisfied": "min_duration_not_met",
    "Min queries satisfied": "min_query_count_not_met",
    "Early stopping satisfied": "early_stopping_not_met",
    "result_min_duration_met": "min_duration_not_met",
    "result_min_queries_met": "min_query_count_not_met",
    "early_stopping_met": "early_stopping_not_met",
}
Extras = dict[str, str | int | float | bool | None]


def detect_summary(src: Source) -> bool:
    return "MLPerf Results Summary" in src.text


def parse_summary(src: Source) -> ParseResult:
    flags: list[str] = []
    kv: dict[str, tuple[int, str]] = {}
    early_stopping: list[str] = []
    for number, line in src.lines():
        stripped = line.strip()
        if stripped.startswith("*"):
            early_stopping.append(stripped.lstrip("* "))
            continue
        if not stripped or set(stripped) == {"="}:
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
    flags.extend(flag for key, flag in _UNMET.items() if kv.get(key, (0, ""))[1] == "No")
    latency = {field: v * NS for key, field in _SUMMARY_LATENCY.items() if (v := num(key)) is not None}
    extra_pct = [k for k in kv if _SUMMARY_OTHER_PERCENTILE.match(k) and k not in _SUMMARY_LATENCY]
    if extra_pct:
        flags.append("percentiles_not_in_schema_kept_in_extras:" + ",".join(extra_pct))
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
    extras: Extras = {k: v for k, (_, v) in kv.items() if k not in _SUMMARY_USED and k not in _SUMMARY_LATENCY}
    if early_stopping:
        extras["Early Stopping Result"] = " | ".join(early_stopping)
    return ParseResult(SUMMARY, src.display, src.sha256, reports=[report], flags=flags, extras=extras)


_MLLOG = ":::MLLOG "
_UINT64_UNDERFLOW_MS = 1e13  # a time_ms near 2**64 ns / 1e6 is an underflowed timestamp, not a time


_DETAIL_LATENCY = (
    ("result_mean_latency_ns", "mean_s"), ("result_min_latency_ns", "min_s"), ("result_max_latency_ns", "max_s"),
    ("result_50.00_percentile_latency_ns", "p50_s"), ("result_90.00_percentile_latency_ns", "p90_s"),
    ("result_95.00_percentile_latency_ns", "p95_s"), ("result_99.00_percentile_latency_ns", "p99_s"),
)  # fmt: skip
_DETAIL_USED = {
    "effective_scenario", "result_validity", "sut_name", "loadgen_version", "result_query_count",
    "result_qps_without_loadgen_overhead", "result_first_token_mean_latency_ns", "result_time_to_output_token_mean",
    "effective_min_duration_ms", *(key for key, _ in _DETAIL_LATENCY),
}  # fmt: skip


def detect_detail(src: Source) -> bool:
    return src.text.lstrip().startswith(_MLLOG)


def parse_detail(src: Source) -> ParseResult:
    flags: list[str] = []
    events: dict[str, tuple[int, Any]] = {}
    order: list[tuple[int, str, Any]] = []
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
        order.append((number, str(event["key"]), event["value"]))

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
    flags.extend(flag for key, flag in _UNMET.items() if events.get(key, (0, None))[1] is False)
    latency: dict[str, float] = {}
    for key, field in _DETAIL_LATENCY:
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
    extras: Extras = {}
    for number, key, value in order:
        if key not in _DETAIL_USED:
            text = value if value is None or isinstance(value, str | int | float | bool) else json.dumps(value)
            extras[key if key not in extras else f"{key} (line {number})"] = text
    return ParseResult(DETAIL, src.display, src.sha256, reports=[report], flags=flags, extras=extras)


SPECS = (
    FormatSpec(
        SUMMARY,
        "MLPerf LoadGen mlperf_log_summary.txt",
        detect_summary,
        parse_summary,
        verified=(
            Verified(
                "LoadGen 3.1 (app 3.1.0), LoadGen of app 4.1.0",
                "SingleStream and Offline summaries, with the early-stopping block",
                "real corpus logs mlperf/v3.1_qcom_SD7PG2_*_mlperf_log_summary.txt, "
                "mlperf/v5.0_qcom_SD8Elite_image_classification_v2_SingleStream_mlperf_log_summary.txt",
            ),
        ),
    ),
    FormatSpec(
        DETAIL,
        "MLPerf LoadGen mlperf_log_detail.txt (:::MLLOG lines)",
        detect_detail,
        parse_detail,
        verified=(
            Verified(
                "LoadGen 3.1 (app 3.1.0)",
                ":::MLLOG JSON lines, SingleStream",
                "real corpus log mlperf/v3.1_qcom_SD7PG2_mobilenetEdgeTPU_SingleStream_mlperf_log_detail.txt",
            ),
        ),
    ),
)
