"""The MLPerf Mobile app's exported result JSON (`results.json` of app 3.x, `result.json` of app 4.x+).

Sources: mlcommons/mobile_app_open at tags v3.0/v3.1 (`flutter_common/lib/data/results/benchmark_result.dart`,
`flutter/lib/resources/export_result_helper.dart`, `flutter/lib/state/task_runner.dart`, `docs/result-spec.md`) and
v4.0-v6.0 (`flutter/lib/data/results/benchmark_result.dart`); research notes §4.3.

- The app's times are **seconds** (LoadGen's are ns).
- `throughput.value` is not measured QPS: `task_runner.dart` sets it to 1/p90 (SingleStream) or the app's own sample
  count / p90 (Offline). The definition is stored; the count over wall time is computed from
  `measured_samples / measured_duration`.
- App >= 4.0 writes `performance_run.loadgen` {query_count, latency_mean, latency90, is_*_met, is_result_valid}.
- App 3.x writes only `performance_run.loadgen_info` {validity, duration}, where `duration` is
  LoadGen's mean latency × query count (`export_result_helper.dart`). Its latencies are recovered from the app's own
  formulas and flagged: p90 = 1/throughput (SingleStream) or measured_samples/throughput (Offline); the mean is
  duration / measured_samples (SingleStream, where every sample is one query) or duration (Offline: one query).
- `proc_cpuinfo_soc_name` "Unknown" is the app saying it found no name: no SoC is stored.
- Every scalar the report has no field for is kept in `ParseResult.extras` under its JSON path.
"""

from __future__ import annotations

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
from submissions.measurements.base import (
    FormatSpec,
    ParseResult,
    Source,
    Verified,
    json_float,
    json_object,
    json_opt_float,
    provenance,
)

MOBILE = "mlperf-mobile-result"
_UNKNOWN = {"", "unknown"}
# LoadGen's own verdicts the app copies; a False one is flagged (the figure is still the tool's)
_UNMET = {
    "is_min_duration_met": "min_duration_not_met",
    "is_min_query_met": "min_query_count_not_met",
    "is_early_stopping_met": "early_stopping_not_met",
}
Scalar = str | int | float | bool | None


def detect_mobile(src: Source) -> bool:
    text = src.text
    return '"performance_run"' in text and '"backend_settings"' in text


def _scalars(value: Any, path: str, out: dict[str, Scalar]) -> None:
    """Every scalar leaf of a JSON value under its path (`a.b[2].c`)."""
    if isinstance(value, dict):
        for key, item in value.items():
            _scalars(item, f"{path}.{key}" if path else str(key), out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _scalars(item, f"{path}[{i}]", out)
    else:
        out[path] = value


def _known(name: Any) -> str | None:
    return None if name is None or str(name).strip().lower() in _UNKNOWN else str(name)


def _device(doc: dict[str, Any], flags: list[str]) -> DeviceInfo:
    env = doc.get("environment_info")
    if not isinstance(env, dict):
        return DeviceInfo()
    value = env.get("value") or {}
    android = value.get("android") if isinstance(value, dict) else None
    if not isinstance(android, dict):
        return DeviceInfo(os=str(env.get("platform") or "") or None)
    props = {p.get("name"): p.get("value") for p in android.get("props") or [] if isinstance(p, dict)}
    soc = _known(android.get("proc_cpuinfo_soc_name"))
    if soc is None and android.get("proc_cpuinfo_soc_name") is not None:
        flags.append("soc_name_unknown_to_the_app_not_stored")
    return DeviceInfo(
        device_name=str(android.get("model_name") or ""),
        manufacturer=_known(android.get("manufacturer")),
        model_code=_known(android.get("model_code")),
        soc=soc,
        soc_model_code=_known(props.get("ro.soc.model")),
        os="Android",
        os_version=_known(android.get("os_version")),
        form_factor="phone",
    )


def _loadgen(src: Source, loadgen: dict[str, Any], where: str, flags: list[str]) -> tuple[dict[str, float], int | None]:
    """App >= 4.0: LoadGen's own figures, in seconds."""
    latency = {
        "mean_s": json_float(src, loadgen, "latency_mean", where),
        "p90_s": json_float(src, loadgen, "latency90", where),
    }
    if loadgen.get("is_result_valid") is not True:
        flags.append("result_invalid")
    flags.extend(flag for key, flag in _UNMET.items() if loadgen.get(key) is False)
    count = json_opt_float(src, loadgen, "query_count", where)
    return latency, int(count) if count is not None else None


def _loadgen_info(
    src: Source, info: dict[str, Any], where: str, scenario: str, run: tuple[float | None, ...], flags: list[str]
) -> dict[str, float]:
    """App 3.x: p90 and mean recovered from the app's formulas (module docstring), each derivation flagged.
    `run` is the app's (throughput.value, measured_samples)."""
    throughput, samples = run
    duration = json_float(src, info, "duration", where)
    if info.get("validity") is not True:
        flags.append("result_invalid")
    if not throughput or not samples:
        raise src.error(None, f"{where}: app 3.x keeps no latency; throughput.value and measured_samples are needed")
    if scenario == "SingleStream":
        flags += ["p90_is_1_over_app_throughput", "mean_is_loadgen_info_duration_over_measured_samples"]
        return {"p90_s": 1.0 / throughput, "mean_s": duration / samples}
    if scenario == "Offline":
        flags += ["p90_is_measured_samples_over_app_throughput", "mean_is_loadgen_info_duration_one_offline_query"]
        return {"p90_s": samples / throughput, "mean_s": duration}
    raise src.error(None, f"{where}: scenario {scenario!r}: app 3.x latencies are recoverable for SingleStream/Offline")


def _report(
    src: Source, res: dict[str, Any], where: str, device: tuple[DeviceInfo, list[str]], version: str
) -> MeasurementReport | None:
    perf = res.get("performance_run")
    if perf is None:
        return None  # an accuracy-only result carries no cost figure
    perf = json_object(src, perf, f"{where}.performance_run")
    scenario = str(res.get("loadgen_scenario", ""))
    flags = list(device[1])
    tp_value = json_opt_float(src, json_object(src, perf.get("throughput") or {}, where), "value", where)
    samples = json_opt_float(src, perf, "measured_samples", f"{where}.performance_run")
    duration = json_opt_float(src, perf, "measured_duration", f"{where}.performance_run")
    count: int | None = None
    loadgen = perf.get("loadgen")
    if loadgen is not None:
        latency, count = _loadgen(src, json_object(src, loadgen, f"{where}.performance_run.loadgen"), where, flags)
    elif perf.get("loadgen_info") is not None:
        at = f"{where}.performance_run.loadgen_info"
        info = json_object(src, perf["loadgen_info"], at)
        latency = _loadgen_info(src, info, at, scenario, (tp_value, samples), flags)
    else:
        return None  # a run the app kept no LoadGen result for: nothing to report (counted in the file's flags)
    throughput: list[Throughput] = []
    if tp_value:
        definition: ThroughputDefinition = "1_over_p90" if scenario == "SingleStream" else "samples_over_p90"
        throughput.append(Throughput(inferences_per_s=tp_value, definition=definition))
        flags.append("app_throughput_is_not_measured_qps")
    if samples and duration:
        throughput.append(
            Throughput(
                inferences_per_s=samples / duration,
                definition="measured_count_over_wall",
                stats_source="computed_from_samples",
            )
        )
    llm = None
    if isinstance(loadgen, dict) and loadgen.get("is_token_based"):
        lg = f"{where}.performance_run.loadgen"
        token_tp = json_opt_float(src, loadgen, "token_throughput", lg)
        llm = LLMRates(
            rate_definition="1_over_mean_tpot",
            ttft_s=json_opt_float(src, loadgen, "latency_first_token_mean", lg),
            decode_tokens_per_s=token_tp or None,
            tpot_s=1 / token_tp if token_tp else None,
        )
    settings = json_object(src, res.get("backend_settings") or {}, f"{where}.backend_settings")
    return MeasurementReport(
        label=str(res.get("benchmark_id", "")),
        device=device[0],
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
            measured_runs=count,
            duration_s=duration,
            min_duration_s=json_opt_float(src, res, "min_duration", where),
        ),
        latency=LatencyStats(
            n=count,
            mean_s=latency["mean_s"],
            p90_s=latency["p90_s"],
            stats_source="reported_by_tool",
            method="LoadGen query timer",
        ),
        throughput=throughput,
        llm=llm,
        provenance=provenance(src, MOBILE, flags, latency="s"),
        source_file=src.display,
    )


# the JSON paths the reports are built from (per result, after `results[i].`); every other scalar is an extra
_MAPPED = (
    "benchmark_id", "loadgen_scenario", "min_duration", "backend_settings.framework", "backend_settings.delegate",
    "backend_settings.accelerator_desc", "backend_settings.batch_size", "performance_run.throughput.value",
    "performance_run.measured_samples", "performance_run.measured_duration", "performance_run.loadgen.query_count",
    "performance_run.loadgen.latency_mean", "performance_run.loadgen.latency90",
    "performance_run.loadgen.is_result_valid", "performance_run.loadgen.is_token_based",
    "performance_run.loadgen.token_throughput", "performance_run.loadgen.latency_first_token_mean",
    "performance_run.loadgen_info.validity", "performance_run.loadgen_info.duration",
    *(f"performance_run.loadgen.{key}" for key in _UNMET),
)  # fmt: skip
_MAPPED_DEVICE = tuple(
    f"environment_info.value.android.{key}"
    for key in ("model_name", "manufacturer", "model_code", "proc_cpuinfo_soc_name", "os_version")
)


def parse_mobile(src: Source) -> ParseResult:
    doc = json_object(src, src.json(), "$")
    results = doc.get("results")
    if not isinstance(results, list) or not results:
        raise src.error(None, "$.results: expected a non-empty list")
    file_flags: list[str] = []
    device = (_device(doc, file_flags), list(file_flags))
    build = doc.get("build_info") if isinstance(doc.get("build_info"), dict) else {}
    version = str(build.get("version", "")) if build else ""
    reports, skipped = [], 0
    for i, raw in enumerate(results):
        report = _report(src, json_object(src, raw, f"$.results[{i}]"), f"$.results[{i}]", device, version)
        if report is None:
            skipped += 1
        else:
            reports.append(report)
    if not reports:
        raise src.error(None, "$.results: no result has a performance_run with LoadGen figures")
    if skipped:
        file_flags.append(f"results_without_performance_figures:{skipped}")
    extras: dict[str, Scalar] = {}
    _scalars(doc, "", extras)
    mapped = {*_MAPPED_DEVICE, "build_info.version"}
    mapped |= {f"results[{i}].{path}" for i in range(len(results)) for path in _MAPPED}
    extras = {path: value for path, value in extras.items() if path not in mapped}
    return ParseResult(MOBILE, src.display, src.sha256, reports=reports, flags=file_flags, extras=extras)


SPECS = (
    FormatSpec(
        MOBILE,
        "MLPerf Mobile app result JSON (app 3.x loadgen_info, app >= 4.0 loadgen)",
        detect_mobile,
        parse_mobile,
        verified=(
            Verified(
                "app 3.1.0 (v3.1 submission)",
                "results.json, performance_run.loadgen_info {validity, duration}",
                "real corpus log mlperf/v3.1_qcom_SD7PG2_app_results.json; formulas from the app's source at v3.0/v3.1",
            ),
            Verified(
                "app 4.1.0 (v5.0 submission)",
                "result.json, performance_run.loadgen {query_count, latency_mean, latency90, is_*_met}",
                "real corpus log mlperf/v5.0_qcom_SD8Elite_OnePlus_app_result.json",
            ),
            Verified(
                "app 4.0-6.0",
                "result.json, loadgen incl. LLM token fields",
                "the app's source (benchmark_result.dart @JsonKey 'loadgen'); mobench fixture",
            ),
        ),
    ),
)
