"""ExecuTorch: the Android minibench `benchmark_results.json` and the LLM runners' `PyTorchObserver` stats line.

Sources: `extension/benchmark/android/benchmark` (`BenchmarkMetric.kt`, `ModelRunner.kt`, `LlmBenchmark.kt`) and
`extension/llm/runner/stats.h`; research notes §6.1.

- minibench encodes the unit in the metric name (`avg_inference_latency(ms)`, `ram_pss_usage(mb)`); an unknown
  metric name is an error, not a guess. `deviceInfo.arch` holds `Build.MODEL`, `device` holds `Build.BRAND`.
- The observer JSON has epoch timestamps in units of `SCALING_FACTOR_UNITS_PER_SECOND` (ms); prefill rate is
  prompt tokens over (prompt_eval_end - inference_start), decode rate generated tokens over
  (inference_end - prompt_eval_end), TTFT first_token - inference_start.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hub.core.measurements.report import (
    DeviceInfo,
    LatencyStats,
    LLMRates,
    MeasurementReport,
    MemoryFigure,
    ModelInfo,
    Protocol,
    RuntimeInfo,
)
from loaders.formats.text import loads_json
from submissions.measurements.base import (
    FormatSpec,
    ParseResult,
    Source,
    Verified,
    count_flag,
    json_float,
    json_object,
    provenance,
)

MINIBENCH = "executorch-minibench"
OBSERVER = "executorch-llm-stats"
MIB = 1024 * 1024
_KNOWN_METRICS = {
    "avg_inference_latency(ms)",
    "trimmean_inference_latency(ms)",
    "model_load_time(ms)",
    "llm_model_load_time(ms)",
    "load_status",
    "ram_pss_usage(mb)",
    "generate_time(ms)",
    "token_per_sec",
}


def detect_minibench(src: Source) -> bool:
    return '"benchmarkModel"' in src.text and '"actualValue"' in src.text


def parse_minibench(src: Source) -> ParseResult:
    data = src.json()
    if not isinstance(data, list) or not data:
        raise src.error(1, "benchmark_results.json is a non-empty JSON array of metrics")
    groups: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, float]]] = {}
    for i, raw in enumerate(data):
        where = f"[{i}]"
        entry = json_object(src, raw, where)
        model = json_object(src, entry.get("benchmarkModel"), f"{where}.benchmarkModel")
        metric = entry.get("metric")
        if metric not in _KNOWN_METRICS:
            raise src.error(None, f"{where}.metric: unknown minibench metric {metric!r}")
        key = json.dumps(model, sort_keys=True)
        device = entry.get("deviceInfo") if isinstance(entry.get("deviceInfo"), dict) else {}
        groups.setdefault(key, (model, device or {}, {}))[2][str(metric)] = json_float(src, entry, "actualValue", where)
    reports = []
    extras: dict[str, str | int | float | bool | None] = {}
    for model, device, metrics in groups.values():
        name = str(model.get("name", ""))
        for key, value in device.items():
            if key not in {"device", "arch", "os", "totalMem"} and isinstance(value, str | int | float | bool):
                extras[f"{name}.deviceInfo.{key}"] = value
        flags = ["deviceInfo_arch_is_Build_MODEL"]
        if metrics.get("load_status", 0) != 0:
            flags.append(f"load_status_nonzero:{metrics['load_status']:g}")
        ms = {k: v * 1e-3 for k, v in metrics.items() if k.endswith("(ms)")}
        latency = None
        if ms:
            latency = LatencyStats(
                mean_s=ms.get("avg_inference_latency(ms)"),
                trimmed_mean_s=ms.get("trimmean_inference_latency(ms)"),
                model_load_s=ms.get("model_load_time(ms)", ms.get("llm_model_load_time(ms)")),
                stats_source="reported_by_tool",
                method="minibench wall-clock timer",
            )
        memory = []
        if "ram_pss_usage(mb)" in metrics:
            memory.append(MemoryFigure(peak_kind="pss_delta", peak_bytes=metrics["ram_pss_usage(mb)"] * MIB))
            flags.append("pss_mb_read_as_MiB")
        llm = None
        if "token_per_sec" in metrics and metrics["token_per_sec"] > 0:
            llm = LLMRates(
                rate_definition="tokens_over_total_time",
                decode_tokens_per_s=metrics["token_per_sec"],
                e2e_s=ms.get("generate_time(ms)"),
            )
        total_mem = device.get("totalMem")
        reports.append(
            MeasurementReport(
                label=str(model.get("name", "")),
                model=ModelInfo(model_id=str(model.get("name", "")), format="pte", precision=model.get("quantization")),
                device=DeviceInfo(
                    manufacturer=device.get("device"),
                    model_code=device.get("arch"),
                    os=str(device.get("os", "")).split(" ")[0] or None,
                    os_version=" ".join(str(device.get("os", "")).split(" ")[1:]) or None,
                    ram_bytes=int(total_mem) if isinstance(total_mem, int) and total_mem > 0 else None,
                ),
                runtime=RuntimeInfo(framework="executorch", delegate_or_ep=model.get("backend")),
                protocol=Protocol(tool="executorch_minibench"),
                latency=latency,
                memory=memory,
                llm=llm,
                provenance=provenance(src, MINIBENCH, flags, latency="ms", memory="MiB"),
                source_file=src.display,
            )
        )
    return ParseResult(MINIBENCH, src.display, src.sha256, reports=reports, extras=extras)


_OBSERVER = re.compile(r"PyTorchObserver (\{.*\})\s*$")


def detect_observer(src: Source) -> bool:
    return "PyTorchObserver {" in src.text


_OBSERVER_READ = {
    "SCALING_FACTOR_UNITS_PER_SECOND", "inference_start_ms", "prompt_eval_end_ms", "inference_end_ms", "first_token_ms",
    "prompt_tokens", "generated_tokens", "model_load_start_ms", "model_load_end_ms",
}  # fmt: skip


def parse_observer(src: Source) -> ParseResult:
    """One report per observer line (a runner prints one per generate() call); the keys not read into a figure
    (`aggregate_sampling_time_ms`, any a newer runner adds) are kept in the extras."""
    reports: list[MeasurementReport] = []
    extras: dict[str, str | int | float | bool | None] = {}
    ignored = 0
    for number, line in src.lines():
        m = _OBSERVER.search(line)
        if not m:
            if "PyTorchObserver" in line:
                raise src.error(number, "PyTorchObserver line without a JSON object")
            ignored += 1
            continue
        try:
            stats = json_object(src, loads_json(m.group(1)), f"line {number}")
        except json.JSONDecodeError as exc:
            raise src.error(number, f"invalid PyTorchObserver JSON: {exc.msg}") from exc
        where = f"line {number}"

        def value(key: str, stats: dict[str, Any] = stats, where: str = where) -> float:
            return json_float(src, stats, key, where)

        scale = value("SCALING_FACTOR_UNITS_PER_SECOND")
        if scale <= 0:
            raise src.error(number, "SCALING_FACTOR_UNITS_PER_SECOND must be positive")
        start, prompt_end = value("inference_start_ms"), value("prompt_eval_end_ms")
        end, first = value("inference_end_ms"), value("first_token_ms")
        prompt_tokens, generated = value("prompt_tokens"), value("generated_tokens")
        if not start <= prompt_end <= end or first < start:
            raise src.error(number, "observer timestamps out of order")
        flags: list[str] = []
        load_start, load_end = value("model_load_start_ms"), value("model_load_end_ms")
        if load_start == 0 or load_end == 0:
            flags.append("model_load_timestamps_zero_load_time_unknown")
        rates: dict[str, float] = {
            "ttft_s": (first - start) / scale,
            "e2e_s": (end - start) / scale,
        }
        if prompt_end > start and prompt_tokens > 0:
            rates["prefill_tokens_per_s"] = prompt_tokens / ((prompt_end - start) / scale)
        if end > prompt_end and generated > 0:
            rates["decode_tokens_per_s"] = generated / ((end - prompt_end) / scale)
            rates["tpot_s"] = (end - prompt_end) / scale / generated
        count_flag(flags, "non_observer_lines_ignored", ignored)
        for key, raw in stats.items():
            if key not in _OBSERVER_READ:
                kept = raw if isinstance(raw, str | int | float | bool) or raw is None else json.dumps(raw)
                extras[f"generate #{len(reports) + 1}.{key}"] = kept
        reports.append(
            MeasurementReport(
                label=f"generate #{len(reports) + 1}",
                runtime=RuntimeInfo(framework="executorch"),
                protocol=Protocol(tool="executorch_llama_runner"),
                llm=LLMRates.model_validate(
                    {"rate_definition": "tokens_over_total_time", "stats_source": "computed_from_samples", **rates}
                ),
                latency=LatencyStats(model_load_s=(load_end - load_start) / scale, stats_source="computed_from_samples")
                if load_start and load_end
                else None,
                provenance=provenance(src, OBSERVER, flags, original_text=line.strip(), time="ms"),
                source_file=src.display,
            )
        )
    if not reports:
        raise src.error(None, "no PyTorchObserver line")
    return ParseResult(OBSERVER, src.display, src.sha256, reports=reports, extras=extras)


_ET = "tool source: pytorch/executorch "

SPECS = (
    FormatSpec(
        MINIBENCH,
        "ExecuTorch Android minibench benchmark_results.json",
        detect_minibench,
        parse_minibench,
        verified=(
            Verified(
                "minibench, Sept 2024 (PR #5362)",
                "avg_inference_latency(ms), model_load_time(ms), load_status; deviceInfo arch/device/os",
                "real log: toollogs/executorch/et-pr5362_minibench_SM-S926U1_mv2_xnnpack.json",
            ),
            Verified(
                "minibench Kotlin app (ModelRunner.kt @7b3d607, LlmBenchmark.kt @ab8fbae)",
                "the metric names ModelRunner.kt and LlmBenchmark.kt write",
                _ET + "extension/benchmark/android/benchmark/app/src/main/java/org/pytorch/minibench/",
            ),
        ),
    ),
    FormatSpec(
        OBSERVER,
        "ExecuTorch LLM runner PyTorchObserver stats lines",
        detect_observer,
        parse_observer,
        verified=(
            Verified(
                "llama runner, QNN backend, Jan 2025 (PR #7175)",
                "PyTorchObserver JSON line followed by the runner's stats lines",
                "real log: toollogs/executorch/et-pr7175_qnn_llama3.2_observer_and_stats.txt",
            ),
            Verified(
                "stats.h @fc7917d and @0e701ee",
                "stats_to_json_string keys, SCALING_FACTOR_UNITS_PER_SECOND = 1000",
                _ET + "extension/llm/runner/stats.h print_report",
            ),
        ),
    ),
)
