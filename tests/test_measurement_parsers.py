"""Parsers of on-device measurement logs: detection, SI units, recomputed statistics, quirks, precise errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hub.core.errors import FormatError
from hub.core.measurements.record import MeasurementFile, MeasurementRecord
from submissions.measurements.detect import FORMATS, parse_file
from tests.fixtures import measurement_logs as logs
from tests.fixtures import power_log_forms as power_forms
from tests.fixtures import runtime_log_forms as forms


def one(records: list[MeasurementRecord], metric: str, statistic: str) -> MeasurementRecord:
    found = [r for r in records if r.metric == metric and r.statistic == statistic]
    assert len(found) == 1, f"{metric}/{statistic}: {len(found)} records"
    return found[0]


# ---- detection: every documented output is claimed by exactly its parser -----------------------------------------

CASES: list[tuple[str, str, str]] = [
    ("bm.txt", logs.tflite_log(), "tflite-benchmark-model"),
    ("bm_logcat.txt", logs.tflite_log(logcat=True), "tflite-benchmark-model"),
    ("lb.json", logs.llama_bench_json([logs.llama_row(512, 0, [1_000_000_000])]), "llama-bench-json"),
    ("lb.jsonl", logs.llama_bench_jsonl([logs.llama_row(512, 0, [1_000_000_000])]), "llama-bench-jsonl"),
    ("lb.csv", logs.llama_bench_csv([logs.llama_row(512, 0, [1_000_000_000])]), "llama-bench-csv"),
    ("lb.sql", forms.llama_bench_sql([(512, 0, 100.0, 1.0)]), "llama-bench-sql"),
    ("lb.md", forms.llama_bench_markdown(), "llama-bench-md"),
    ("cli.log", logs.llama_perf_lines(), "llama-cpp-perf-lines"),
    ("server.json", logs.llama_server_response(), "llama-server-timings"),
    ("ort.txt", logs.ort_perf_text(), "ort-perf-test"),
    ("ort_result.txt", logs.ort_result_file([0.1, 0.2]), "ort-perf-test-result"),
    ("mlperf_log_summary.txt", logs.mlperf_summary(), "mlperf-loadgen-summary"),
    ("mlperf_log_detail.txt", logs.mlperf_detail(), "mlperf-loadgen-detail"),
    ("result.json", logs.mlperf_mobile_result(), "mlperf-mobile-result"),
    ("profile.json", logs.qai_hub_profile([600, 620]), "qai-hub-profile"),
    ("benchmark_results.json", logs.executorch_minibench(), "executorch-minibench"),
    ("llama_main.log", logs.executorch_llama_stats(), "executorch-llm-stats"),
    ("monsoon.csv", logs.monsoon_csv([(0.0, 100.0, 4.0), (0.001, 100.0, 4.0)]), "monsoon-csv"),
    ("uevent.log", logs.sysfs_uevent_samples([(0, -300000, 4000000, "Discharging")] * 2), "android-sysfs-battery"),
    ("batterystats.txt", logs.batterystats(), "android-batterystats"),
    ("rails.csv", logs.perfetto_rails_csv([(0, "gpu", 0.0), (10**9, "gpu", 5.0)]), "perfetto-power-csv"),
    ("rails.json", logs.perfetto_counters_json([(0, "power.rails.gpu", 0.0)]), "perfetto-power-json"),
    ("tegrastats.log", logs.tegrastats_log([5000, 5100]), "tegrastats"),
    ("rapl.csv", logs.rapl_csv([(0.0, 10), (1.0, 20)]), "rapl-csv"),
    ("powermetrics.txt", logs.powermetrics_text([(1000, 1000, 10, 0)] * 2), "powermetrics"),
    ("rapl.log", power_forms.powercap_log([("d0", "package-0", 999, [(0.0, 1), (1.0, 9)])]), "rapl-powercap-log"),
    ("perf.txt", power_forms.perf_stat_repeat(), "rapl-perf-stat"),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[2] + ":" + c[0] for c in CASES])
def test_detection_picks_the_right_parser(tmp_path: Path, name: str, text: str, expected: str) -> None:
    result = parse_file(logs.write(tmp_path, name, text))
    assert result.format == expected
    assert result.records() or result.traces
    json.loads(result.to_json())  # the CLI's --json output is valid JSON


def test_every_format_has_a_detection_case() -> None:
    assert {c[2] for c in CASES} | {"mobench-records"} == set(FORMATS)


@pytest.mark.parametrize(
    ("text", "forced"),
    [
        (logs.tflite_log(), "llama-bench-json"),
        (logs.ort_perf_text(), "tflite-benchmark-model"),
        (logs.mlperf_summary(), "monsoon-csv"),
        (logs.tegrastats_log([5000, 5100]), "rapl-csv"),
        (logs.monsoon_csv([(0.0, 1.0, 4.0), (0.1, 1.0, 4.0)]), "powermetrics"),
    ],
)
def test_forcing_a_wrong_format_fails_clearly(tmp_path: Path, text: str, forced: str) -> None:
    path = logs.write(tmp_path, "log.txt", text)
    with pytest.raises(FormatError, match=r"log\.txt"):
        parse_file(path, format=forced)


def test_unknown_and_unrecognised_files(tmp_path: Path) -> None:
    path = logs.write(tmp_path, "notes.txt", "hello\n")
    with pytest.raises(FormatError, match="pass --format"):
        parse_file(path)
    with pytest.raises(FormatError, match="unknown format 'nope'"):
        parse_file(path, format="nope")


def test_mobench_records_round_trip(tmp_path: Path) -> None:
    record = MeasurementRecord(
        metric="latency", statistic="median", value=0.01, unit="s", scope="process", method="wall-clock timer",
        tool="mobench measure", parser="mobench", provenance="measured-by-mobench",
    )  # fmt: skip
    path = logs.write(tmp_path, "m.json", MeasurementFile(records=[record]).model_dump_json())
    result = parse_file(path, display_name="measurements/m.json")
    assert result.format == "mobench-records"
    assert result.records()[0].value == 0.01
    assert result.records()[0].source_file == "measurements/m.json"


# ---- TFLite -----------------------------------------------------------------------------------------------------


def test_tflite_timed_phase_units_and_flags(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "bm.txt", logs.tflite_log(logcat=True, fallback=True)))
    records = result.records()
    # second count= line (after the 2nd "Running benchmark" line) is the timed one: avg=2.95034e+06 µs = 2.95034 s
    assert one(records, "latency", "mean").value == pytest.approx(2.95034)
    assert one(records, "latency", "mean").n == 50
    assert one(records, "latency", "mean").warmup == 1  # the warm-up count=1 line
    assert one(records, "latency", "min").value == pytest.approx(2.727568)
    assert one(records, "latency", "median").value == pytest.approx(2.94)
    assert one(records, "init_latency", "single").value == pytest.approx(0.017187)
    assert one(records, "first_inference_latency", "single").value == pytest.approx(3.512391)
    # 46.0859 MB (KB/1024, so MiB) delta of RSS, not a peak
    memory = {r.definition: r.value for r in records if r.metric == "peak_memory"}
    assert memory == pytest.approx({"rss_delta": 46.0859 * 2**20, "process_rss_peak": 50.5 * 2**20})
    assert one(records, "load_memory_delta", "inference").value == pytest.approx(4.21094 * 2**20)
    flags = result.reports[0].provenance.validation_flags
    assert "scientific_notation_parsed" in flags
    assert "delegate_fallback_to_cpu" in flags
    assert "p90_not_in_tflite_log" in flags
    assert not [r for r in records if r.statistic == "p90"]
    assert result.reports[0].runtime.compute_unit_breakdown == {"delegated_nodes": 283, "total_nodes": 290}


def test_tflite_legacy_memory_label_is_flagged(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "bm.txt", logs.tflite_log(legacy_memory=True)))
    assert "legacy_peak_memory_label_is_rss_delta" in result.reports[0].provenance.validation_flags


def test_tflite_malformed_stat_line_names_line(tmp_path: Path) -> None:
    text = logs.tflite_log().replace("avg=2.95034e+06", "avg=2.9x")
    with pytest.raises(FormatError, match=r"bm\.txt: line 12: .*avg"):
        parse_file(logs.write(tmp_path, "bm.txt", text))


def test_tflite_truncated_log_is_refused(tmp_path: Path) -> None:
    text = logs.tflite_log().split("Running benchmark for at least 50")[0]
    with pytest.raises(FormatError, match="no timed 'count='"):
        parse_file(logs.write(tmp_path, "bm.txt", text))


# ---- llama.cpp ------------------------------------------------------------------------------------------------


def test_llama_bench_json_recomputes_rates_and_joins_pp_tg(tmp_path: Path) -> None:
    pp = logs.llama_row(512, 0, [1_000_000_000, 2_000_000_000])
    tg = logs.llama_row(0, 128, [10_000_000_000, 8_000_000_000, 16_000_000_000])
    result = parse_file(logs.write(tmp_path, "lb.json", logs.llama_bench_json([pp, tg])))
    assert len(result.reports) == 1  # same configuration: one (prefill, decode) report
    records = result.records()
    # prefill: 512 tokens in 1 s and 2 s -> rates 512 and 256, mean 384 (mean of rates, not 512/1.5 = 341.3)
    # sample std: sqrt(((512-384)^2 + (256-384)^2) / 1) = 181.019...
    assert one(records, "prefill_rate", "mean").value == pytest.approx(384.0)
    assert one(records, "prefill_rate", "std").value == pytest.approx(181.01933598)
    assert one(records, "prefill_rate", "mean").definition == "mean_of_per_rep_rates"
    # decode: 128 tokens in 10, 8, 16 s -> 12.8, 16, 8 tokens/s, mean 12.2667
    assert one(records, "decode_rate", "mean").value == pytest.approx((12.8 + 16 + 8) / 3)
    assert one(records, "decode_rate", "mean").stats_source == "computed_from_samples"
    report = result.reports[0]
    assert report.workload.prompt_tokens == 512 and report.workload.gen_tokens == 128
    assert report.model.size_bytes == 4058775552
    assert report.device.cpu == "Qualcomm Snapdragon 8 Elite"  # trailing space stripped
    assert "flash_attn_legacy_bool" in report.provenance.validation_flags


def test_llama_bench_flags_avg_ts_disagreeing_with_samples(tmp_path: Path) -> None:
    row = logs.llama_row(512, 0, [1_000_000_000], avg_ts=500.0)
    result = parse_file(logs.write(tmp_path, "lb.json", logs.llama_bench_json([row])))
    assert one(result.records(), "prefill_rate", "mean").value == pytest.approx(512.0)
    assert any(f.startswith("avg_ts_differs_from_samples") for f in result.reports[0].provenance.validation_flags)


def test_llama_bench_pg_rate_is_not_a_decode_rate(tmp_path: Path) -> None:
    row = logs.llama_row(512, 128, [2_000_000_000])
    result = parse_file(logs.write(tmp_path, "lb.jsonl", logs.llama_bench_jsonl([row])))
    records = result.records()
    assert one(records, "combined_token_rate", "mean").value == pytest.approx(640 / 2)
    assert not [r for r in records if r.metric == "decode_rate"]


def test_llama_bench_csv_quoted_strings(tmp_path: Path) -> None:
    rows = [logs.llama_row(512, 0, [1_000_000_000, 2_000_000_000]), logs.llama_row(0, 128, [8_000_000_000])]
    result = parse_file(logs.write(tmp_path, "lb.csv", logs.llama_bench_csv(rows)))
    records = result.records()
    # no samples in CSV: the tool's avg_ts is used and flagged
    assert one(records, "prefill_rate", "mean").value == pytest.approx(384.0)
    assert one(records, "prefill_rate", "mean").stats_source == "reported_by_tool"
    assert "no_raw_samples_tool_rates_used" in result.reports[0].provenance.validation_flags
    assert result.reports[0].runtime.extra["use_mmap"] == "1"


def test_llama_bench_jsonl_bad_line(tmp_path: Path) -> None:
    text = logs.llama_bench_jsonl([logs.llama_row(512, 0, [10**9])]) + '{"n_prompt": 1, "avg_ts":\n'
    with pytest.raises(FormatError, match=r"lb\.jsonl: line 2: invalid JSON"):
        parse_file(logs.write(tmp_path, "lb.jsonl", text))


@pytest.mark.parametrize(("legacy", "prefix"), [(False, False), (True, False), (False, True)])
def test_llama_perf_lines(tmp_path: Path, legacy: bool, prefix: bool) -> None:
    text = logs.llama_perf_lines(legacy=legacy, log_prefix=prefix, two_blocks=True)
    result = parse_file(logs.write(tmp_path, "cli.log", text))
    records = result.records()
    # last block: 15 prompt tokens in 9045.39 ms -> 1.6583 tok/s; 428 runs in 39172.04 ms -> 10.926 tok/s
    assert one(records, "prefill_rate", "mean").value == pytest.approx(15 / 9.04539)
    assert one(records, "decode_rate", "mean").value == pytest.approx(428 / 39.17204)
    assert one(records, "tpot", "mean").value == pytest.approx(39.17204 / 428)
    assert one(records, "model_load_latency", "single").value == pytest.approx(4.26857)
    assert "multiple_timing_blocks_last_taken:2" in result.flags


def test_llama_perf_malformed_line(tmp_path: Path) -> None:
    text = logs.llama_perf_lines().replace("9045.39 ms", "lots ms")
    with pytest.raises(FormatError, match=r"cli\.log: line 4: llama.cpp timing line not understood"):
        parse_file(logs.write(tmp_path, "cli.log", text))


def test_llama_server_timings(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "server.json", logs.llama_server_response()))
    records = result.records()
    assert one(records, "prefill_rate", "mean").value == pytest.approx(20 / 0.25)
    assert one(records, "decode_rate", "mean").value == pytest.approx(50 / 2.0)
    assert "prompt_n_excludes_cached_tokens" in result.flags


# ---- ONNX Runtime ---------------------------------------------------------------------------------------------


def test_ort_text_mixed_units(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "ort.txt", logs.ort_perf_text()))
    records = result.records()
    assert one(records, "latency", "mean").value == pytest.approx(0.144871)  # 144.871 ms
    assert one(records, "init_latency", "single").value == pytest.approx(0.127918)  # s
    assert one(records, "first_inference_latency", "single").value == pytest.approx(0.201)  # ms
    assert one(records, "latency", "p90").value == pytest.approx(0.1502)
    assert one(records, "peak_memory", "inference_peak").definition == "working_set"
    assert one(records, "throughput", "rate").definition == "measured_count_over_wall"
    assert {"tool_percentiles_floor_index", "p99_is_max_small_n"} <= set(result.flags)


def test_ort_legacy_labels(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "ort.txt", logs.ort_perf_text(legacy=True)))
    assert one(result.records(), "latency", "median").value == pytest.approx(0.0587108)
    assert "legacy_percentile_label_is_sec" in result.flags


def test_ort_result_file_recomputes_statistics(tmp_path: Path) -> None:
    times = [0.30, 0.10, 0.20, 0.50, 0.40, 0.60, 0.70, 0.80, 0.90, 1.00]
    result = parse_file(logs.write(tmp_path, "res.txt", logs.ort_result_file(times, runs=2)))
    assert len(result.reports) == 2 and "appended_runs:2" in result.flags
    records = result.reports[0].records()
    # sorted 0.1..1.0; nearest rank p50 = ceil(0.5*10)=5th = 0.5, p90 = 9th = 0.9; mean 0.55
    # sample std of 0.1..1.0 = sqrt(sum((x-0.55)^2)/9) = sqrt(0.825/9) = 0.302765
    assert one(records, "latency", "median").value == pytest.approx(0.5)
    assert one(records, "latency", "p90").value == pytest.approx(0.9)
    assert one(records, "latency", "mean").value == pytest.approx(0.55)
    assert one(records, "latency", "std").value == pytest.approx(0.3027650)
    assert one(records, "latency", "mean").stats_source == "computed_from_samples"
    assert not [r for r in records if r.statistic in {"p95", "p99"}]  # n < 100


def test_ort_result_file_bad_row(tmp_path: Path) -> None:
    text = logs.ort_result_file([0.1, 0.2]) + "mobilenet_v2,fast,1,2,2\n"
    with pytest.raises(FormatError, match=r"res\.txt: line 3: expected model_name"):
        parse_file(logs.write(tmp_path, "res.txt", text), format="ort-perf-test-result")


def test_ort_result_file_six_columns_refused(tmp_path: Path) -> None:
    text = "m,0.1,0.2,158171136,98,0\n"
    with pytest.raises(FormatError, match="line 1: 6-column"):
        parse_file(logs.write(tmp_path, "res.txt", text), format="ort-perf-test-result")


# ---- MLPerf ---------------------------------------------------------------------------------------------------


def test_mlperf_summary_ns_to_s(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "mlperf_log_summary.txt", logs.mlperf_summary()))
    records = result.records()
    assert one(records, "latency", "p90").value == pytest.approx(184322e-9)
    assert one(records, "latency", "p99").value == pytest.approx(196770e-9)
    assert one(records, "throughput", "rate").value == pytest.approx(5458.90)
    assert result.reports[0].protocol.min_duration_s == 60.0


def test_mlperf_summary_pre_v2_and_bad_line(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "s.txt", logs.mlperf_summary(pre_v2=True)))
    assert "no_early_stopping_block_pre_v2" in result.flags
    text = logs.mlperf_summary().replace("target_qps : 4000", "target_qps 4000")
    with pytest.raises(FormatError, match=r"s\.txt: line \d+: not a 'key : value'"):
        parse_file(logs.write(tmp_path, "s.txt", text))


def test_mlperf_detail_underflow_and_local_time(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "mlperf_log_detail.txt", logs.mlperf_detail()))
    assert one(result.records(), "latency", "mean").value == pytest.approx(183187e-9)
    assert one(result.records(), "latency", "mean").n == 325876
    assert "time_ms_underflow_ignored:line 4" in result.flags
    assert "power_begin_end_are_client_local_time" in result.flags
    bad = logs.mlperf_detail() + "garbage\n"
    with pytest.raises(FormatError, match=r"line 16: every line"):
        parse_file(logs.write(tmp_path, "d.txt", bad), format="mlperf-loadgen-detail")


def test_mlperf_mobile_throughput_is_one_over_p90(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "result.json", logs.mlperf_mobile_result()))
    records = result.records()
    app = next(r for r in records if r.metric == "throughput" and r.definition == "1_over_p90")
    # the app's 1153.707 is 1 / 0.000866771 s, not measured QPS
    assert app.value == pytest.approx(1 / 0.000866771, rel=1e-6)
    measured = next(r for r in records if r.metric == "throughput" and r.definition == "measured_count_over_wall")
    assert measured.value == pytest.approx(73505 / 61.239)
    assert one(records, "latency", "p90").value == pytest.approx(0.000866771)  # seconds, not ns
    assert result.reports[0].device.soc_model_code == "SM8650"


# ---- AI Hub ---------------------------------------------------------------------------------------------------


def test_qai_hub_recomputes_from_all_inference_times(tmp_path: Path) -> None:
    times = [600, 640, 610, 700, 620]  # µs
    result = parse_file(logs.write(tmp_path, "profile.json", logs.qai_hub_profile(times, cpu_layers=2)))
    records = result.records()
    # sorted 600 610 620 640 700: median (3rd) 620 µs, p90 (ceil 4.5 = 5th) 700 µs, mean 634 µs
    assert one(records, "latency", "median").value == pytest.approx(620e-6)
    assert one(records, "latency", "p90").value == pytest.approx(700e-6)
    assert one(records, "latency", "mean").value == pytest.approx(634e-6)
    assert one(records, "latency", "tool_estimate").value == pytest.approx(620e-6)
    assert one(records, "peak_memory", "inference_range_max").value == 11_953_766
    assert one(records, "peak_memory", "inference_range_max").definition == "accelerator_estimate_range"
    runtime = result.reports[0].runtime
    assert runtime.compute_unit_breakdown == {"npu_layers": 126, "cpu_layers": 2, "total_layers": 128}
    assert "layers_fell_back_to_cpu" in result.flags


def test_qai_hub_without_raw_times(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "profile.json", logs.qai_hub_profile(None)))
    assert "no_raw_inference_times_only_tool_estimate" in result.flags
    assert not [r for r in result.records() if r.metric == "latency" and r.statistic == "mean"]


# ---- ExecuTorch -----------------------------------------------------------------------------------------------


def test_executorch_minibench_units_from_metric_names(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "b.json", logs.executorch_minibench()))
    records = result.records()
    assert one(records, "latency", "mean").value == pytest.approx(0.0125)
    assert one(records, "latency", "trimmed_mean_10pct").value == pytest.approx(0.012)
    assert one(records, "model_load_latency", "single").value == pytest.approx(0.085)
    assert one(records, "peak_memory", "inference_peak").value == 42 * 1024 * 1024
    assert one(records, "peak_memory", "inference_peak").definition == "pss_delta"
    assert result.reports[0].device.model_code == "SM-S921B"


def test_executorch_unknown_metric(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"\[5\]\.metric: unknown minibench metric 'p99_latency\(us\)'"):
        parse_file(logs.write(tmp_path, "b.json", logs.executorch_minibench("p99_latency(us)")))


def test_executorch_observer_rates(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "run.log", logs.executorch_llama_stats()))
    records = result.records()
    # prefill: 54 tokens / (034544 - 034359 = 185 ms) = 291.89 tok/s; decode: 53 / (035916 - 034544 = 1372 ms)
    assert one(records, "prefill_rate", "mean").value == pytest.approx(54 / 0.185)
    assert one(records, "decode_rate", "mean").value == pytest.approx(53 / 1.372)
    assert one(records, "ttft", "single").value == pytest.approx(0.185)
    assert one(records, "model_load_latency", "single").value == pytest.approx(3.577)


# ---- Monsoon --------------------------------------------------------------------------------------------------


def test_monsoon_seconds_column_retimed_packets(tmp_path: Path) -> None:
    # two packets stamped 0.0 and 0.0004 s, two samples each, 5 kHz; current 250 mA at 4.0 V = 1.0 W
    rows = [(0.0, 250.0, 4.0), (0.0, 250.0, 4.0), (0.0004, 250.0, 4.0), (0.0004, 500.0, 4.0)]
    result = parse_file(logs.write(tmp_path, "m.csv", logs.monsoon_csv(rows, short_tail=1)))
    (trace,) = result.traces
    # first packet spread over [0, 0.0004): 0, 0.0002; last packet gets the same spacing: 0.0004, 0.0006
    assert trace.t_s.tolist() == pytest.approx([0.0, 0.0002, 0.0004, 0.0006])
    assert trace.power_w is not None
    assert trace.power_w.tolist() == pytest.approx([1.0, 1.0, 1.0, 2.0])
    assert (trace.scope, trace.method) == ("whole_device", "monsoon")
    assert {"trailing_delimiter", "time_ms_column_is_seconds", "retimed_evenly_between_packet_stamps"} <= set(
        result.flags
    )
    assert "incomplete_trailing_rows_dropped:1" in result.flags


def test_monsoon_bad_value_and_short_row_in_the_middle(tmp_path: Path) -> None:
    text = logs.monsoon_csv([(0.0, 1.0, 4.0), (0.1, 1.0, 4.0)]).replace("0.1,1.0", "0.1,abc")
    with pytest.raises(FormatError, match=r"m\.csv: line 3: Main\(mA\)"):
        parse_file(logs.write(tmp_path, "m.csv", text))
    rows = logs.monsoon_csv([(0.0, 1.0, 4.0), (0.1, 1.0, 4.0)]).splitlines()
    rows.insert(2, "0.05,1.0,,")
    with pytest.raises(FormatError, match="line 3: row has fewer values"):
        parse_file(logs.write(tmp_path, "m.csv", "\n".join(rows) + "\n"))


# ---- Android battery ------------------------------------------------------------------------------------------


def test_sysfs_uevent_negative_microamps(tmp_path: Path) -> None:
    # -500 000 µA at 4 000 000 µV = 0.5 A * 4 V = 2 W; the discharging sign is dropped and recorded
    samples = [(100.0, -500000, 4000000, "Discharging"), (100.25, -250000, 4000000, "Discharging")]
    result = parse_file(logs.write(tmp_path, "u.log", logs.sysfs_uevent_samples(samples)))
    (trace,) = result.traces
    assert trace.t_s.tolist() == [0.0, 0.25]
    assert trace.power_w is not None and trace.power_w.tolist() == pytest.approx([2.0, 1.0])
    assert (trace.scope, trace.method) == ("battery_rail", "android_fuel_gauge")
    assert "current_negative_abs_taken" in result.flags


def test_sysfs_milliamp_device_is_flagged(tmp_path: Path) -> None:
    # termux-api #293: a device printing mA; 350 (mA) at 3 900 000 µV = 1.365 W
    samples = [(0.0, 350, 3900000, "Discharging"), (1.0, 350, 3900000, None)]
    result = parse_file(logs.write(tmp_path, "u.log", logs.sysfs_uevent_samples(samples)))
    assert result.traces[0].power_w is not None
    assert result.traces[0].power_w.tolist() == pytest.approx([1.365, 1.365])
    assert {"current_mA_heuristic", "current_positive_vendor_sign_abs_taken"} <= set(result.flags)
    assert "status_missing_charging_state_unknown:1" in result.flags


def test_sysfs_refuses_charging_samples(tmp_path: Path) -> None:
    # Xiaomi Mi8: CURRENT_NOW=-326171 while STATUS=Charging (line 9: second sample's STATUS)
    samples = [(0.0, -300000, 4000000, "Discharging"), (1.0, -326171, 4350000, "Charging")]
    with pytest.raises(FormatError, match=r"u\.log: line 10: STATUS=Charging"):
        parse_file(logs.write(tmp_path, "u.log", logs.sysfs_uevent_samples(samples)))


def test_sysfs_mixed_sign_and_garbage(tmp_path: Path) -> None:
    samples = [(0.0, -300000, 4000000, "Discharging")] * 2 + [(2.0, 300000, 4000000, "Discharging")]
    with pytest.raises(FormatError, match="line 19: current sign flips"):
        parse_file(logs.write(tmp_path, "u.log", logs.sysfs_uevent_samples(samples)))
    text = logs.sysfs_uevent_samples([(0.0, -1, 4000000, None)] * 2) + "oops\n"
    with pytest.raises(FormatError, match="line 13: neither a timestamp"):
        parse_file(logs.write(tmp_path, "u.log", text))


def test_batterystats_is_an_estimate(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "bs.txt", logs.batterystats()))
    records = result.records()
    device = [r for r in records if r.scope == "whole_device"]
    assert one(device, "estimated_charge_drain", "computed").value == pytest.approx(766 * 3.6)  # mAh -> A·s
    assert one(device, "estimated_charge_drain", "actual_max").value == pytest.approx(918 * 3.6)
    uid = next(r for r in records if r.scope == "Uid u0a134")
    assert uid.value == pytest.approx(119 * 3.6)
    assert all(r.method == "batterystats_estimate" for r in records)
    assert not [r for r in records if r.metric.startswith("energy")]


# ---- Perfetto -------------------------------------------------------------------------------------------------


def test_perfetto_rails_are_cumulative_microjoules(tmp_path: Path) -> None:
    rows = [(1_000_000_000, "gpu", 5_000_000.0), (2_000_000_000, "gpu", 7_500_000.0), (1_000_000_000, "cpu.mid", 1.0)]
    rows.append((3_000_000_000, "cpu.mid", 1_000_001.0))
    result = parse_file(logs.write(tmp_path, "rails.csv", logs.perfetto_rails_csv(rows)))
    gpu = next(t for t in result.traces if t.rail == "gpu")
    assert gpu.kind == "energy_counter"
    # 5 000 000 µW·s = 5 J; ts ns -> s
    assert gpu.t_s.tolist() == [1.0, 2.0]
    assert gpu.energy_j is not None and gpu.energy_j.tolist() == pytest.approx([5.0, 7.5])
    assert (gpu.scope, gpu.method) == ("soc_rails", "odpm_power_rails")


def test_perfetto_counter_rows_with_battery(tmp_path: Path) -> None:
    rows = [
        (0, "power.rails.tpu", 0.0),
        (10**9, "power.rails.tpu", 2e6),
        (0, "power.PPVAR_VPH_PWR_OLED_uws", 0.0),
        (10**9, "power.PPVAR_VPH_PWR_OLED_uws", 1e6),
        (0, "batt.current_ua", -1469687.0),
        (0, "batt.voltage_uv", 4000000.0),
        (10**9, "batt.current_ua", -1000000.0),
        (10**9, "batt.voltage_uv", 4000000.0),
        (0, "batt.capacity_pct", 81.0),
    ]
    result = parse_file(logs.write(tmp_path, "c.json", logs.perfetto_counters_json(rows)))
    rails = {t.rail: t for t in result.traces}
    assert set(rails) == {"tpu", "PPVAR_VPH_PWR_OLED", "battery"}
    battery = rails["battery"].power_w
    assert battery is not None and battery.tolist() == pytest.approx([1.469687 * 4.0, 4.0])
    assert "battery_tracks_ignored:batt.capacity_pct" in result.flags


def test_perfetto_unknown_track(tmp_path: Path) -> None:
    rows = [(0, "power.rails.gpu", 0.0), (1, "mem.rss", 3.0)]
    with pytest.raises(FormatError, match=r"\[1\]: track 'mem.rss'"):
        parse_file(logs.write(tmp_path, "c.json", logs.perfetto_counters_json(rows)))


# ---- tegrastats -----------------------------------------------------------------------------------------------


def test_tegrastats_orin_first_value_and_no_sensor(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "t.log", logs.tegrastats_log([5832, 6000, 6100])))
    rails = {t.rail: t for t in result.traces}
    assert set(rails) == {"VDD_IN", "VDD_CPU_GPU_CV", "VDD_SOC"}
    vdd_in = rails["VDD_IN"]
    # instantaneous value only (5832 mW), not the running average 5852 mW
    assert vdd_in.power_w is not None and vdd_in.power_w.tolist() == pytest.approx([5.832, 6.0, 6.1])
    assert vdd_in.t_s.tolist() == [0.0, 1.0, 2.0]
    assert (vdd_in.scope, vdd_in.method) == ("module_input", "tegrastats")
    assert "sensor_unavailable_-256C_dropped:CV0,GPU" in result.flags
    thermal = {t.sensor: t for t in result.reports[0].thermal}
    assert "CV0" not in thermal
    assert (thermal["cpu"].start_c, thermal["cpu"].end_c, thermal["cpu"].max_c) == (47.5, 49.5, 49.5)


def test_tegrastats_legacy_unitless(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "t.log", logs.tegrastats_log([3140, 3208], legacy=True, timestamps=False)))
    vdd_in = next(t for t in result.traces if t.rail == "VDD_IN")
    assert vdd_in.power_w is not None and vdd_in.power_w.tolist() == pytest.approx([3.14, 3.208])
    assert {"legacy_unitless_rails_read_as_mW", "no_timestamps_nominal_1000ms_interval_assumed"} <= set(result.flags)


def test_tegrastats_bad_line(tmp_path: Path) -> None:
    text = logs.tegrastats_log([5000, 5100]) + "Segmentation fault\n"
    with pytest.raises(FormatError, match=r"t\.log: line 3: not a tegrastats line"):
        parse_file(logs.write(tmp_path, "t.log", text))


# ---- RAPL -----------------------------------------------------------------------------------------------------


def test_rapl_counter_with_wraparound(tmp_path: Path) -> None:
    max_range = 262143999938
    rows = [(0.0, max_range - 1_000_000), (1.0, 500_000), (2.0, 2_500_000)]
    result = parse_file(logs.write(tmp_path, "r.csv", logs.rapl_csv(rows, max_range=max_range)))
    (trace,) = result.traces
    assert trace.kind == "energy_counter"
    assert trace.counter_max_j == pytest.approx(max_range * 1e-6)
    assert trace.energy_j is not None and trace.energy_j[1] == pytest.approx(0.5)
    assert (trace.scope, trace.method) == ("cpu_package", "rapl")
    assert "counter_wrapped:1" in trace.flags


def test_rapl_bad_domain_and_value(tmp_path: Path) -> None:
    text = logs.rapl_csv([(0.0, 1), (1.0, 2)]).replace("package-0,2", "gpu-9,2")
    with pytest.raises(FormatError, match="line 3: unknown RAPL domain name 'gpu-9'"):
        parse_file(logs.write(tmp_path, "r.csv", text))
    text = logs.rapl_csv([(0.0, 1), (1.0, 2)]).replace("1.0,intel", "x,intel")
    with pytest.raises(FormatError, match="line 3: time_s"):
        parse_file(logs.write(tmp_path, "r.csv", text))


# ---- powermetrics ---------------------------------------------------------------------------------------------


def test_powermetrics_interval_averages_become_exact_energy(tmp_path: Path) -> None:
    # 500 ms at 1000 mW CPU then 1000 ms at 2000 mW: energy 0.5 J then 0.5 + 2.0 = 2.5 J at t = 0.5, 1.5 s
    text = logs.powermetrics_text([(500.0, 1000, 100, None), (1000.0, 2000, 100, None)])
    result = parse_file(logs.write(tmp_path, "pm.txt", text))
    cpu = next(t for t in result.traces if t.rail == "cpu")
    assert cpu.t_s.tolist() == pytest.approx([0.0, 0.5, 1.5])
    assert cpu.energy_j is not None and cpu.energy_j.tolist() == pytest.approx([0.0, 0.5, 2.5])
    assert {t.rail for t in result.traces} == {"cpu", "gpu", "e-cluster"}
    assert "ane_power_absent" in result.flags


def test_powermetrics_combined_scope_and_bad_line(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "pm.txt", logs.powermetrics_text([(1000.0, 900, 50, 50)] * 2)))
    combined = next(t for t in result.traces if t.rail == "combined")
    assert combined.scope == "soc_cpu_gpu_ane"
    assert combined.energy_j is not None and combined.energy_j[-1] == pytest.approx(2.0)
    text = logs.powermetrics_text([(1000.0, 900, 50, 50)] * 2).replace("GPU Power: 50 mW", "GPU Power: n/a mW", 1)
    with pytest.raises(FormatError, match=r"pm\.txt: line 11: power line not understood"):
        parse_file(logs.write(tmp_path, "pm.txt", text))


def test_trace_json_has_si_samples(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "r.csv", logs.rapl_csv([(0.0, 1_000_000), (1.0, 3_000_000)])))
    doc = json.loads(result.to_json())
    assert doc["traces"][0]["energy_j"] == [1.0, 3.0]
    assert np.isclose(doc["traces"][0]["effective_rate_hz"], 1.0)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"nope\.log: cannot read the file"):
        parse_file(tmp_path / "nope.log")
