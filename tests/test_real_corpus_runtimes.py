"""Conformance: every real log of the LLM/runtime tools in the shared corpus, parsed in place with its format detected.

The corpus (`../shared/realdata/toollogs/{llamacpp,tflite,onnxruntime,executorch}/`, provenance in its SOURCES.md) is
verbatim output of the tools, none of it written by mobench. Each figure asserted here was read off the file by
hand; the comment beside it quotes the line it comes from.
"""

from __future__ import annotations

import pytest

from hub.core.measurements.record import MeasurementRecord
from hub.core.measurements.report import MeasurementReport
from submissions.measurements.base import ParseResult
from submissions.measurements.detect import parse_file
from tests.fixtures.realdata import TOOLLOGS, real_file

TOOLS = ("llamacpp", "tflite", "onnxruntime", "executorch")
MIB = 2**20


def parsed(relative: str) -> ParseResult:
    return parse_file(real_file(f"toollogs/{relative}"))


def one(report: MeasurementReport, metric: str, statistic: str) -> MeasurementRecord:
    found = [r for r in report.records() if r.metric == metric and r.statistic == statistic]
    assert len(found) == 1, f"{metric}/{statistic}: {len(found)} records"
    return found[0]


def value(report: MeasurementReport, metric: str, statistic: str) -> float:
    return one(report, metric, statistic).value


# every file of the four folders, with the format it must be detected as: a new file fails until it is read here
EXPECTED = {
    "llamacpp/b1275_readme_llama-bench.csv": "llama-bench-csv",
    "llamacpp/b1275_readme_llama-bench.json": "llama-bench-json",
    "llamacpp/b1275_readme_llama-bench.jsonl": "llama-bench-jsonl",
    "llamacpp/b1275_readme_llama-bench.sql": "llama-bench-sql",
    "llamacpp/brayniac_llm-performance_rtx4090_llama-bench.json": "llama-bench-json",
    "llamacpp/ggml-ci_arm64_b938_q4_0_main_print_timings.txt": "llama-cpp-perf-lines",
    "llamacpp/orangepi3b_rk3566_llama-cli_perf.txt": "llama-cpp-perf-lines",
    "llamacpp/snapdragon_htp_v79_llama-bench.md": "llama-bench-md",
    "llamacpp/snapdragon_htp_v79_llama-completion_perf.txt": "llama-cpp-perf-lines",
    "tflite/termux_muaalem_three_runs_benchmark_model.txt": "tflite-benchmark-model",
    "tflite/tf-issue42507_android_espcn_benchmark_model.txt": "tflite-benchmark-model",
    "tflite/yuenshome-issue77_android_mobilenet_quant_legacy.txt": "tflite-benchmark-model",
    "onnxruntime/ort-issue17313_legacy_latency_is_sec_perf_test.txt": "ort-perf-test",
    "onnxruntime/ort-issue4331_armv8_squeezenet_600s_perf_test.txt": "ort-perf-test",
    "onnxruntime/ort-issue4647_acl_android_squeezenet_perf_test.txt": "ort-perf-test",
    "onnxruntime/ort-pr2798_windows_resnet50_perf_test.txt": "ort-perf-test",
    "executorch/et-pr5362_minibench_SM-S926U1_mv2_xnnpack.json": "executorch-minibench",
    "executorch/et-pr7175_qnn_llama3.2_observer_and_stats.txt": "executorch-llm-stats",
}


def test_every_corpus_file_is_read_here() -> None:
    real_file("toollogs/SOURCES.md")  # skips where the corpus is absent
    present = {f"{tool}/{p.name}" for tool in TOOLS for p in (TOOLLOGS / tool).iterdir() if p.is_file()}
    assert present == set(EXPECTED)


@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_every_corpus_file_is_detected_and_gives_figures(relative: str) -> None:
    result = parsed(relative)
    assert result.format == EXPECTED[relative]
    assert result.records()


# ---- llama.cpp: llama-bench ---------------------------------------------------------------------------------------


def test_llama_bench_b1275_csv_keeps_the_opencl_cell_under_its_name() -> None:
    result = parsed("llamacpp/b1275_readme_llama-bench.csv")
    assert "opencl_cell_without_header_column_restored" in result.flags
    (report,) = result.reports
    # "3469684","1275","1","0","0","1","1",...: cuda=1, opencl=0, metal=0, gpu_blas=1, blas=1 (the JSON of the same
    # build says "cuda": true, "metal": false, "gpu_blas": true, "blas": true)
    extra = report.runtime.extra
    assert (extra["cuda"], extra["opencl"], extra["metal"], extra["gpu_blas"], extra["blas"]) == (
        "1",
        "0",
        "0",
        "1",
        "1",
    )
    assert report.runtime.num_threads == 16  # ...,"512","16",... (n_batch, n_threads)
    assert report.label == "pp512 + tg128"
    # ...,"512","0","2023-09-23T12:09:01Z","212155977","732372","2413.341687","8.305961"
    assert value(report, "prefill_rate", "mean") == pytest.approx(2413.341687)
    assert value(report, "prefill_rate", "std") == pytest.approx(8.305961)
    # ...,"0","128","2023-09-23T12:09:02Z","969320879","2728399","132.052051","0.371342"
    assert value(report, "decode_rate", "mean") == pytest.approx(132.052051)
    assert value(report, "decode_rate", "std") == pytest.approx(0.371342)
    assert report.model.size_bytes == 3825065984  # "3825065984"
    assert report.runtime.framework_version == "3469684 (1275)"


def test_llama_bench_b1275_sql() -> None:
    result = parsed("llamacpp/b1275_readme_llama-bench.sql")
    assert "opencl_cell_without_header_column_restored" in result.flags
    (report,) = result.reports
    # ... '512', '0', '2023-09-23T12:10:30Z', '212693772', '743623', '2407.240204', '8.409634');
    assert value(report, "prefill_rate", "mean") == pytest.approx(2407.240204)
    assert value(report, "prefill_rate", "std") == pytest.approx(8.409634)
    # ... '0', '128', '2023-09-23T12:10:31Z', '977925003', '4037361', '130.891159', '0.537692');
    assert value(report, "decode_rate", "mean") == pytest.approx(130.891159)
    assert value(report, "decode_rate", "std") == pytest.approx(0.537692)
    assert report.runtime.extra["opencl"] == "0"
    assert one(report, "decode_rate", "mean").stats_source == "reported_by_tool"  # no samples in SQL


@pytest.mark.parametrize("name", ["b1275_readme_llama-bench.json", "b1275_readme_llama-bench.jsonl"])
def test_llama_bench_b1275_json_rates_recomputed_from_samples(name: str) -> None:
    (report,) = parsed(f"llamacpp/{name}").reports
    # "samples_ns": [ 213837238, 211635853, 212328053, 211329715, 212698907 ] for 512 prompt tokens: the mean of
    # 512e9/s is the tool's "avg_ts": 2410.974041, their sample std its "stddev_ts": 11.163766
    assert value(report, "prefill_rate", "mean") == pytest.approx(2410.974041, rel=1e-8)
    assert value(report, "prefill_rate", "std") == pytest.approx(11.163766, rel=1e-6)
    # "samples_ns": [ 984472709, 974901233, 989474741, 970729355, 967548060 ], 128 tokens: "avg_ts": 130.965708
    assert value(report, "decode_rate", "mean") == pytest.approx(130.965708, rel=1e-8)
    assert value(report, "decode_rate", "std") == pytest.approx(1.238924, rel=1e-6)
    assert one(report, "decode_rate", "mean").stats_source == "computed_from_samples"
    assert report.protocol.repetitions == 5
    assert report.device.accelerators == ["NVIDIA GeForce RTX 3090 Ti"]  # "gpu_info": "NVIDIA GeForce RTX 3090 Ti"


def test_llama_bench_b5606_json() -> None:
    (report,) = parsed("llamacpp/brayniac_llm-performance_rtx4090_llama-bench.json").reports
    assert report.label == "pp8192 + tg1280"  # "n_prompt": 8192, "n_gen": 0 / "n_prompt": 0, "n_gen": 1280
    assert value(report, "prefill_rate", "mean") == pytest.approx(3024.404345, rel=1e-8)  # "avg_ts": 3024.404345
    assert value(report, "decode_rate", "mean") == pytest.approx(85.498819, rel=1e-8)  # "avg_ts": 85.498819
    assert report.runtime.delegate_or_ep == "CUDA,RPC"  # "backends": "CUDA,RPC"
    assert report.runtime.num_threads == 56  # "n_threads": 56
    assert report.workload.context_depth_tokens == 0  # "n_depth": 0


def test_llama_bench_markdown_on_a_snapdragon_htp() -> None:
    result = parsed("llamacpp/snapdragon_htp_v79_llama-bench.md")
    (report,) = result.reports
    assert report.label == "pp128 + tg64"
    # | llama 1B Q4_0  | 729.75 MiB | 1.24 B | HTP        |  99 |       4 |     128 |    0 | pp128 | 169.42 ± 1.75 |
    assert value(report, "prefill_rate", "mean") == pytest.approx(169.42)
    assert value(report, "prefill_rate", "std") == pytest.approx(1.75)
    # | llama 1B Q4_0  | 729.75 MiB | 1.24 B | HTP        |  99 |       4 |     128 |    0 |  tg64 |  51.54 ± 1.13 |
    assert value(report, "decode_rate", "mean") == pytest.approx(51.54)
    assert value(report, "decode_rate", "std") == pytest.approx(1.13)
    assert report.workload.prompt_tokens == 128 and report.workload.gen_tokens == 64
    assert report.runtime.delegate_or_ep == "HTP" and report.runtime.num_threads == 4
    extra = report.runtime.extra
    assert (extra["n_gpu_layers"], extra["n_batch"], extra["use_mmap"], extra["size"]) == (99, 128, "0", "729.75 MiB")
    assert report.runtime.framework_version == "6a8cf8914 (6733)"  # build: 6a8cf8914 (6733)
    assert report.model.precision == "llama 1B Q4_0"
    assert "md_rates_rounded_to_2_decimals" in result.flags
    assert "non_table_lines_ignored:6" in result.flags  # the command, '...' and four ggml-hex lines


# ---- llama.cpp: timing lines ------------------------------------------------------------------------------------


def test_llama_completion_b6733_graphs_reused_is_kept() -> None:
    result = parsed("llamacpp/snapdragon_htp_v79_llama-completion_perf.txt")
    (report,) = result.reports
    # llama_perf_context_print: prompt eval time =      80.76 ms /    11 tokens
    assert value(report, "prefill_rate", "mean") == pytest.approx(11 / 0.08076)
    # llama_perf_context_print:        eval time =    9210.59 ms /   475 runs
    assert value(report, "decode_rate", "mean") == pytest.approx(475 / 9.21059)
    assert value(report, "tpot", "mean") == pytest.approx(9.21059 / 475)
    # llama_perf_context_print:        load time =     617.94 ms
    assert value(report, "model_load_latency", "single") == pytest.approx(0.61794)
    # llama_perf_context_print:    graphs reused =        473
    assert result.extras["llama_perf_context_print.graphs reused"] == 473
    # llama_memory_breakdown_print: |   - Host               |                  439 =   225 +     136 +      77 |
    assert result.extras["llama_memory_breakdown_print.- Host"] == "439 = 225 + 136 + 77"
    assert not [f for f in result.flags if f.startswith("unknown_timing_keys")]


def test_llama_cli_dec2024_on_an_orange_pi() -> None:
    result = parsed("llamacpp/orangepi3b_rk3566_llama-cli_perf.txt")
    (report,) = result.reports
    # llama_perf_context_print: prompt eval time =    4245.68 ms /     8 tokens
    assert value(report, "prefill_rate", "mean") == pytest.approx(8 / 4.24568)
    # llama_perf_context_print:        eval time =  124973.60 ms /   127 runs
    assert value(report, "decode_rate", "mean") == pytest.approx(127 / 124.9736)
    # llama_perf_context_print:        load time =    4450.58 ms
    assert value(report, "model_load_latency", "single") == pytest.approx(4.45058)
    # llama_perf_sampler_print:    sampling time =     170.97 ms /   136 runs   (...)
    assert result.extras["llama_perf_sampler_print.sampling time"].startswith("170.97 ms / 136 runs")  # type: ignore[union-attr]


def test_llama_main_b938_legacy_print_timings() -> None:
    result = parsed("llamacpp/ggml-ci_arm64_b938_q4_0_main_print_timings.txt")
    (report,) = result.reports
    # llama_print_timings: prompt eval time =   968.56 ms /     8 tokens
    assert value(report, "prefill_rate", "mean") == pytest.approx(8 / 0.96856)
    # llama_print_timings:        eval time =  7987.59 ms /    63 runs
    assert value(report, "decode_rate", "mean") == pytest.approx(63 / 7.98759)
    # llama_print_timings:        load time =   925.58 ms
    assert value(report, "model_load_latency", "single") == pytest.approx(0.92558)
    assert "legacy_llama_print_timings_prefix" in result.flags
    assert result.extras["llama_print_timings.total time"] == "9026.92 ms"  # total time =  9026.92 ms


# ---- TFLite benchmark_model -------------------------------------------------------------------------------------


def test_tflite_termux_capture_is_split_into_its_four_runs() -> None:
    result = parsed("tflite/termux_muaalem_three_runs_benchmark_model.txt")
    assert "runs_split:4" in result.flags
    assert "run_2_failed:line 58" in result.flags  # line 58: ERROR: Benchmarking failed.
    first, failed, third, fourth = result.reports
    assert first.label == "run 1 of 4: ./models/tiny_muaalem_float32.tflite"
    # INFO: count=1000 first=52162 curr=49785 min=49088 max=686105 avg=63743.2 std=60716 p5=49620 median=51891 p95=68628
    assert value(first, "latency", "mean") == pytest.approx(63743.2e-6)
    assert one(first, "latency", "mean").n == 1000
    assert value(first, "latency", "min") == pytest.approx(49088e-6)
    assert value(first, "latency", "max") == pytest.approx(686105e-6)
    assert value(first, "latency", "median") == pytest.approx(51891e-6)
    assert value(first, "latency", "p95") == pytest.approx(68628e-6)
    # INFO: Inference timings in us: Init: 119515, First inference: 87112, Warmup (avg): 58147.4, ...
    assert value(first, "init_latency", "single") == pytest.approx(0.119515)
    assert value(first, "first_inference_latency", "single") == pytest.approx(0.087112)
    assert first.protocol.warmup_runs == 9  # INFO: count=9 first=87112 ... (the warm-up phase)
    # INFO: Memory footprint delta from the start of the tool (MB): init=55.4961 overall=55.4961
    assert value(first, "peak_memory", "inference_peak") == pytest.approx(55.4961 * MIB)
    # INFO: Replacing 2168 out of 2168 node(s) with delegate (TfLiteXNNPackDelegate) node, ...
    assert first.runtime.compute_unit_breakdown == {"delegated_nodes": 2168, "total_nodes": 2168}
    assert result.extras["run 1.Inference timings in us.Warmup (avg)"] == pytest.approx(58147.4)
    # the int8 run: ERROR: Node number 57 (BATCH_MATMUL) failed to prepare. / ERROR: Benchmarking failed.
    assert failed.label == "run 2 of 4: ./models/tiny_muaalem_int8.tflite (failed)"
    assert failed.latency is None and not failed.records()
    assert "benchmarking_failed:line 58" in failed.provenance.validation_flags
    assert "Node number 57 (BATCH_MATMUL) failed to prepare." in failed.provenance.original_text
    # INFO: count=24 first=42468 curr=41938 min=41938 max=42840 avg=42394.8 std=188 p5=42133 median=42419 p95=42671
    assert value(third, "latency", "mean") == pytest.approx(42394.8e-6)
    assert value(third, "latency", "std") == pytest.approx(188e-6)
    assert third.protocol.warmup_runs == 11  # INFO: count=11 first=90710 ...
    assert value(third, "init_latency", "single") == pytest.approx(0.207799)  # Init: 207799
    # INFO: count=24 first=42142 curr=42232 min=42142 max=42763 avg=42435.4 std=147 p5=42232 median=42405 p95=42729
    assert value(fourth, "latency", "mean") == pytest.approx(42435.4e-6)
    assert fourth.protocol.warmup_runs == 50  # INFO: count=50 first=72635 ... (--warmup_runs=50)
    # INFO: Memory footprint delta from the start of the tool (MB): init=23.5625 overall=27.5859
    assert value(fourth, "peak_memory", "inference_peak") == pytest.approx(27.5859 * MIB)
    assert value(fourth, "load_memory_delta", "inference") == pytest.approx(23.5625 * MIB)
    assert fourth.model.size_bytes == int(8.45746 * MIB)  # INFO: The input model file size (MB): 8.45746


def test_tflite_tf23_android_espcn() -> None:
    result = parsed("tflite/tf-issue42507_android_espcn_benchmark_model.txt")
    (report,) = result.reports
    # count=50 first=32891 curr=33978 min=32641 max=34005 avg=33209.4 std=450
    assert value(report, "latency", "mean") == pytest.approx(33209.4e-6)
    assert value(report, "latency", "std") == pytest.approx(450e-6)
    assert one(report, "latency", "mean").n == 50
    assert not [r for r in report.records() if r.statistic in {"median", "p95"}]  # no p5/median/p95 in this build
    # Inference timings in us: Init: 855, First inference: 49060, Warmup (avg): 34825.1, Inference (avg): 33209.4
    assert value(report, "init_latency", "single") == pytest.approx(855e-6)
    assert value(report, "first_inference_latency", "single") == pytest.approx(0.04906)
    assert report.protocol.warmup_runs == 15  # count=15 first=49060 ...
    # Peak memory footprint (MB): init=0 overall=12.8672
    assert value(report, "peak_memory", "inference_peak") == pytest.approx(12.8672 * MIB)
    assert "legacy_peak_memory_label_is_rss_delta" in result.flags
    assert report.runtime.num_threads == 4  # Num threads: [4]


def test_tflite_2019_legacy_average_line() -> None:
    result = parsed("tflite/yuenshome-issue77_android_mobilenet_quant_legacy.txt")
    (report,) = result.reports
    # count=15 first=66753 curr=66800 min=66699 max=66838 avg=66767.6 std=39
    assert value(report, "latency", "mean") == pytest.approx(66767.6e-6)
    assert value(report, "latency", "min") == pytest.approx(66699e-6)
    assert value(report, "latency", "max") == pytest.approx(66838e-6)
    # Average inference timings in us: Warmup: 76605.9, Init: 9933, no stats: 66767.6
    assert value(report, "init_latency", "single") == pytest.approx(9933e-6)
    assert result.extras["Inference timings in us.no stats"] == pytest.approx(66767.6)
    assert report.protocol.warmup_runs == 7  # count=7 first=127425 ...
    assert "legacy_average_timings_line" in result.flags


# ---- onnxruntime_perf_test --------------------------------------------------------------------------------------


def test_ort_old_labels_total_iterations_and_run_time() -> None:
    result = parsed("onnxruntime/ort-issue17313_legacy_latency_is_sec_perf_test.txt")
    (report,) = result.reports
    assert value(report, "latency", "mean") == pytest.approx(0.0588053)  # Average time cost: 58.8053 ms
    assert one(report, "latency", "mean").n == 1000  # Total iterations: 1000
    assert report.protocol.duration_s == pytest.approx(58.8102)  # Total run time: 58.8102 s
    assert value(report, "latency", "min") == pytest.approx(0.0559777)  # Min Latency is 0.0559777 sec
    assert value(report, "latency", "max") == pytest.approx(0.0623472)  # Max Latency is 0.0623472 sec
    assert value(report, "latency", "median") == pytest.approx(0.0587108)  # P50 Latency is 0.0587108 sec
    assert value(report, "latency", "p90") == pytest.approx(0.0599845)  # P90 Latency is 0.0599845 sec
    assert value(report, "latency", "p95") == pytest.approx(0.0605676)  # P95 Latency is 0.0605676 sec
    assert value(report, "latency", "p99") == pytest.approx(0.0619517)  # P99 Latency is 0.0619517 sec
    assert result.extras["sum of request times (s)"] == pytest.approx(58.8053)  # Total time cost: 58.8053
    assert "legacy_percentile_label_is_sec" in result.flags
    assert "p99_is_max_small_n" not in result.flags  # N = 1000


def test_ort_2020_armv8_duration_mode() -> None:
    (report,) = parsed("onnxruntime/ort-issue4331_armv8_squeezenet_600s_perf_test.txt").reports
    assert value(report, "latency", "mean") == pytest.approx(0.0838059)  # Average inference time cost:83.8059 ms
    assert one(report, "latency", "mean").n == 7160  # Total inference requests:7160
    assert value(report, "init_latency", "single") == pytest.approx(0.133189)  # Session creation time cost:0.133189 s
    assert report.protocol.duration_s == pytest.approx(600.102)  # Total inference run time:600.102 s


def test_ort_1_3_acl_on_android() -> None:
    result = parsed("onnxruntime/ort-issue4647_acl_android_squeezenet_perf_test.txt")
    (report,) = result.reports
    assert value(report, "latency", "mean") == pytest.approx(0.144871)  # Average inference time cost: 144.871 ms
    assert one(report, "latency", "mean").n == 10  # Total inference requests: 10
    assert value(report, "init_latency", "single") == pytest.approx(0.127918)  # Session creation time cost: 0.127918 s
    # Peak working set size: 158171136 bytes
    assert value(report, "peak_memory", "inference_peak") == 158171136
    # # onnxruntime_perf_test -m times -r 10 -e acl /sdcard/testdata/squeezenet1.0-9/model.onnx result.csv
    assert report.runtime.delegate_or_ep == "acl"
    assert result.extras["Avg CPU usage (%)"] == 68  # Avg CPU usage: 68 %


def test_ort_jan2020_windows_single_request() -> None:
    result = parsed("onnxruntime/ort-pr2798_windows_resnet50_perf_test.txt")
    (report,) = result.reports
    assert value(report, "latency", "mean") == pytest.approx(0.734606)  # Average inference time cost:734.606 ms
    assert one(report, "latency", "mean").n == 1  # Total inference requests:1
    assert value(report, "init_latency", "single") == pytest.approx(1.84149)  # Session creation time cost:1.84149 s
    assert result.extras["intra_op_num_threads"] == 0  # Setting intra_op_num_threads to 0


# ---- ExecuTorch -------------------------------------------------------------------------------------------------


def test_executorch_minibench_sept2024() -> None:
    (report,) = parsed("executorch/et-pr5362_minibench_SM-S926U1_mv2_xnnpack.json").reports
    # {"actualValue":9.3611927,...,"metric":"avg_inference_latency(ms)",...}
    assert value(report, "latency", "mean") == pytest.approx(9.3611927e-3)
    # {"actualValue":27.418698,...,"metric":"model_load_time(ms)",...}
    assert value(report, "model_load_latency", "single") == pytest.approx(27.418698e-3)
    # "deviceInfo":{"arch":"SM-S926U1","availMem":0,"device":"samsung","os":"Android 14","totalMem":0}
    assert (report.device.manufacturer, report.device.model_code, report.device.os_version) == (
        "samsung",
        "SM-S926U1",
        "14",
    )


def test_executorch_qnn_llama_observer() -> None:
    result = parsed("executorch/et-pr7175_qnn_llama3.2_observer_and_stats.txt")
    (report,) = result.reports
    # PyTorchObserver {"prompt_tokens":31,"generated_tokens":96,"model_load_start_ms":1736230916307,
    # "model_load_end_ms":1736230917194,"inference_start_ms":1736230917194,"inference_end_ms":1736230919028,
    # "prompt_eval_end_ms":1736230917250,"first_token_ms":1736230917250,"aggregate_sampling_time_ms":71,...}
    # 31 tokens in 56 ms (the runner's own line: "Prompt evaluation: 0.056000 (seconds) Rate: 553.571429")
    assert value(report, "prefill_rate", "mean") == pytest.approx(31 / 0.056)
    # 96 tokens in 1778 ms ("Generated 96 tokens: 1.778000 (seconds) Rate: 53.993251")
    assert value(report, "decode_rate", "mean") == pytest.approx(96 / 1.778)
    assert value(report, "ttft", "single") == pytest.approx(0.056)  # "Time to first generated token: 0.056000"
    assert value(report, "e2e_latency", "single") == pytest.approx(1.834)  # "Total inference time: 1.834000"
    assert value(report, "model_load_latency", "single") == pytest.approx(0.887)  # "Model Load Time: 0.887000"
    assert result.extras["generate #1.aggregate_sampling_time_ms"] == 71
