"""The LLM/runtime tool output forms added for issue #21, on mobench's own fixtures (fixtures/runtime_log_forms.py):
llama-bench markdown and SQL, the b1275 CSV/SQL with an unnamed opencl cell, the newest llama.cpp timing block, TFLite
captures of several runs, negative and non-finite TFLite latencies, the older and verbose onnxruntime_perf_test
outputs, and what ExecuTorch's observer carries beyond mobench's fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.core.errors import FormatError
from hub.core.measurements.record import MeasurementRecord
from hub.core.measurements.report import MeasurementReport
from submissions.measurements.base import ParseResult
from submissions.measurements.detect import parse_file
from tests.fixtures import runtime_log_forms as forms
from tests.fixtures.measurement_logs import write

MIB = 2**20


def read(tmp_path: Path, name: str, text: str) -> ParseResult:
    return parse_file(write(tmp_path, name, text))


def one(report: MeasurementReport, metric: str, statistic: str) -> MeasurementRecord:
    found = [r for r in report.records() if r.metric == metric and r.statistic == statistic]
    assert len(found) == 1, f"{metric}/{statistic}: {len(found)} records"
    return found[0]


# ---- llama-bench markdown ---------------------------------------------------------------------------------------


def test_llama_bench_markdown_rows_joined_by_configuration(tmp_path: Path) -> None:
    result = read(tmp_path, "bench.txt", forms.llama_bench_markdown())
    assert result.format == "llama-bench-md"
    joined, pg, deep = result.reports
    assert joined.label == "pp256 + tg32"
    assert one(joined, "prefill_rate", "mean").value == 312.50  # | pp256 | 312.50 ± 4.25 |
    assert one(joined, "prefill_rate", "std").value == 4.25
    assert one(joined, "decode_rate", "mean").value == 40.00  # | tg32 | 40.00 ± 0.50 |
    assert one(joined, "decode_rate", "mean").stats_source == "reported_by_tool"
    # a pg test counts prompt and generated tokens together: never a decode rate
    assert pg.label == "pp64+tg16" and one(pg, "combined_token_rate", "mean").value == 96.0
    assert (pg.workload.prompt_tokens, pg.workload.gen_tokens) == (64, 16)
    # tg32 @ d1024 is another configuration (n_depth 1024)
    assert deep.workload.context_depth_tokens == 1024 and one(deep, "decode_rate", "mean").value == 25.0
    extra = joined.runtime.extra
    assert (extra["n_gpu_layers"], extra["n_batch"], extra["flash_attn"], extra["params"]) == (99, 256, "1", "494.03 M")
    assert joined.runtime.delegate_or_ep == "OpenCL"
    assert joined.runtime.framework_version == "0d5c8e2a1 (7021)"
    assert "non_table_lines_ignored:2" in result.flags  # the two ggml_opencl lines between header and rows


def test_llama_bench_markdown_2023_labels_without_footer(tmp_path: Path) -> None:
    result = read(tmp_path, "bench.md", forms.llama_bench_markdown(legacy_labels=True, chatter=False, footer=False))
    assert result.reports[0].label == "pp256 + tg32"  # from 'pp 256' and 'tg 32'
    assert "md_tables_without_build_footer:1" in result.flags


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("312.50 ± 4.25", "fast"), r"line 5: t/s 'fast' is not 'mean ± std'"),
        (
            ("|  99 |     256 |  1 |           pp256", "|  99 |     256 |           pp256"),
            r"line 5: markdown row has 8",
        ),
        (("pp64+tg16", "pp64+xx16"), r"line 8: llama-bench test 'pp64\+xx16'"),
    ],
)
def test_llama_bench_markdown_unreadable_rows_are_refused(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    text = forms.llama_bench_markdown().replace(*change)
    with pytest.raises(FormatError, match=r"bench\.txt: " + message):
        read(tmp_path, "bench.txt", text)


# ---- llama-bench SQL and the b1275 example ----------------------------------------------------------------------


def test_llama_bench_sql_current_table(tmp_path: Path) -> None:
    result = read(tmp_path, "bench.sql", forms.llama_bench_sql([(512, 0, 100.0, 1.5), (0, 128, 10.0, 0.25)]))
    assert result.format == "llama-bench-sql"
    (report,) = result.reports
    assert one(report, "prefill_rate", "mean").value == 100.0
    assert one(report, "decode_rate", "std").value == 0.25
    assert report.model.size_bytes == 773025920 and report.runtime.num_threads == 6
    assert "opencl_cell_without_header_column_restored" not in result.flags


def test_llama_bench_sql_bad_values_name_the_line(tmp_path: Path) -> None:
    text = forms.llama_bench_sql([(512, 0, 100.0, 1.5)]).replace("VALUES ('1a2b3c4d'", "VALUES (1a2b3c4d'")
    with pytest.raises(FormatError, match=r"bench\.sql: line 23: llama-bench VALUES are single-quoted"):
        read(tmp_path, "bench.sql", text)


@pytest.mark.parametrize(
    ("name", "text"), [("b.csv", forms.llama_bench_csv_b1275()), ("b.sql", forms.llama_bench_sql_b1275())]
)
def test_b1275_rows_keep_their_opencl_cell(tmp_path: Path, name: str, text: str) -> None:
    result = read(tmp_path, name, text)
    assert "opencl_cell_without_header_column_restored" in result.flags
    (report,) = result.reports
    extra = report.runtime.extra
    # "0","0","1","0","1" after the build number: cuda=0, opencl=0, metal=1, gpu_blas=0, blas=1 (an Apple M1)
    assert (extra["cuda"], extra["opencl"], extra["metal"], extra["gpu_blas"], extra["blas"]) == (
        "0",
        "0",
        "1",
        "0",
        "1",
    )
    assert extra["cpu_info"] == "Apple M1"
    assert one(report, "prefill_rate", "mean").value == 480.0
    assert one(report, "decode_rate", "mean").value == 20.0


def test_b1275_shape_with_a_non_boolean_extra_cell_is_still_refused(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"b\.csv: line 2: row has 27 cells, header has 26"):
        read(tmp_path, "b.csv", forms.llama_bench_csv_b1275(opencl="yes"))


# ---- llama.cpp timing lines -------------------------------------------------------------------------------------


def test_common_perf_print_block(tmp_path: Path) -> None:
    result = read(tmp_path, "run.log", forms.llama_common_perf_print())
    (report,) = result.reports
    assert one(report, "prefill_rate", "mean").value == pytest.approx(40 / 0.2)  # 200.00 ms / 40 tokens
    assert one(report, "decode_rate", "mean").value == pytest.approx(80 / 4.0)  # 4000.00 ms / 80 runs
    assert one(report, "model_load_latency", "single").value == pytest.approx(0.8)
    assert result.extras["common_perf_print.graphs reused"] == 78
    assert result.extras["common_perf_print.samplers time"] == "8.00 ms / 120 tokens"
    assert result.extras["llama_memory_breakdown_print.- Host"] == "700 = 600 + 64 + 36"
    assert not [f for f in result.flags if f.startswith("unknown_timing_keys")]


def test_unknown_key_under_a_known_prefix_is_kept_not_fatal(tmp_path: Path) -> None:
    result = read(tmp_path, "run.log", forms.llama_common_perf_print(extra_line="  kv cache time =   3.25 ms"))
    assert result.extras["common_perf_print.kv cache time"] == "3.25 ms"
    assert "unknown_timing_keys_kept_as_extras:kv cache time" in result.flags
    assert one(result.reports[0], "decode_rate", "mean").value == pytest.approx(20.0)


def test_known_timing_key_that_does_not_parse_is_refused(tmp_path: Path) -> None:
    text = forms.llama_common_perf_print().replace("4000.00 ms /    80 runs", "soon")
    with pytest.raises(FormatError, match=r"run\.log: line 6: llama.cpp timing line not understood: .*eval time = "):
        read(tmp_path, "run.log", text)
    negative = forms.llama_common_perf_print().replace("200.00 ms /    40", "-200.00 ms /    40")
    with pytest.raises(FormatError, match=r"run\.log: line 5: prompt eval time in .*'-200.00' is negative"):
        read(tmp_path, "run.log", negative)


# ---- TFLite: several runs in one capture ------------------------------------------------------------------------


def test_tflite_capture_split_per_run_with_the_failed_run_labelled(tmp_path: Path) -> None:
    result = read(tmp_path, "bm.txt", forms.tflite_runs_with_failure())
    assert result.flags == ["runs_split:3", "run_2_failed:line 20"]  # line 20: ERROR: Benchmarking failed.
    first, failed, third = result.reports
    assert first.label == "run 1 of 3: ./fp32.tflite"
    assert one(first, "latency", "mean").value == pytest.approx(0.020)  # avg=20000 µs
    assert one(first, "latency", "median").value == pytest.approx(0.0199)  # median=19900
    assert one(first, "init_latency", "single").value == pytest.approx(0.0255)  # Init: 25500
    assert first.protocol.warmup_runs == 20
    assert failed.label == "run 2 of 3: ./int8.tflite (failed)"
    assert failed.records() == [] and "benchmarking_failed:line 20" in failed.provenance.validation_flags
    assert failed.provenance.original_text == "Node number 3 (CONV_2D) failed to prepare.\nFailed to allocate tensors!"
    assert third.label == "run 3 of 3: ./fp16.tflite"
    assert one(third, "latency", "mean").value == pytest.approx(0.010) and one(third, "latency", "mean").n == 60
    assert result.extras["run 3.Inference timings in us.Warmup (avg)"] == 21000


def test_tflite_android_app_runs_split_without_starting_lines(tmp_path: Path) -> None:
    result = read(tmp_path, "logcat.txt", forms.tflite_app_runs())
    first, second = result.reports
    assert (first.model.model_id, second.model.model_id) == ("/data/local/tmp/a.tflite", "/data/local/tmp/b.tflite")
    memory = {r.definition: r.value for r in second.records() if r.metric == "peak_memory"}
    assert memory == pytest.approx({"rss_delta": 12.25 * MIB, "process_rss_peak": 30.5 * MIB})
    assert result.extras["run 2.memory at the end (MB).VmRSS"] == 41.0


def test_tflite_log_where_no_run_completed_is_refused_with_the_reason(tmp_path: Path) -> None:
    text = forms.tflite_runs_with_failure().split("~ $ ./benchmark_model --graph=./fp16.tflite")[0]
    only_failed = "\n".join(text.splitlines()[14:]) + "\n"  # the failed run alone
    with pytest.raises(FormatError, match=r"no run completed: line 6: Benchmarking failed\. \(Node number 3"):
        read(tmp_path, "bm.txt", only_failed)


def test_tflite_op_profiling_summary_is_not_the_timed_phase(tmp_path: Path) -> None:
    result = read(tmp_path, "bm.txt", forms.tflite_single(op_profiling=True))
    (report,) = result.reports
    assert one(report, "latency", "mean").value == pytest.approx(0.020)  # the timed count= line, not 'Timings'
    assert result.extras["op profiling.Timings (microseconds)"].startswith("count=50 first=19000")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("timed", "what", "problem"),
    [
        (forms.TIMED_OK.replace("avg=20000", "avg=-20000"), "stat line field avg", "'-20000' is negative, not a time"),
        (forms.TIMED_OK.replace("min=19500", "min=-1"), "stat line field min", "'-1' is negative, not a time"),
        (forms.TIMED_OK.replace("avg=20000", "avg=nan"), "stat line field avg", "'nan' is not finite"),
        (forms.TIMED_OK.replace("p95=21500", "p95=inf"), "stat line field p95", "'inf' is not finite"),
    ],
)
def test_tflite_negative_or_non_finite_latency_refused_with_file_line_and_text(
    tmp_path: Path, timed: str, what: str, problem: str
) -> None:
    with pytest.raises(FormatError) as caught:
        read(tmp_path, "bm.txt", forms.tflite_single(timed))
    # the file, the line, the field, the line's text and what is wrong with the value
    assert str(caught.value).endswith(f"bm.txt: line 10: {what} in {timed!r}: {problem}")


def test_tflite_negative_inference_timing_refused(tmp_path: Path) -> None:
    text = forms.tflite_single().replace("First inference: 40000", "First inference: -40000")
    with pytest.raises(FormatError, match=r"bm\.txt: line 11: First inference in 'Inference timings in us: .*negative"):
        read(tmp_path, "bm.txt", text)


# ---- onnxruntime_perf_test --------------------------------------------------------------------------------------


def test_ort_verbose_iterations_give_the_statistics(tmp_path: Path) -> None:
    result = read(tmp_path, "ort.txt", forms.ort_perf_no_result_file(verbose_times=[0.3, 0.1, 0.2]))
    (report,) = result.reports
    # iteration:1,time_cost:0.3 ... : mean 0.2, sample std 0.1, nearest-rank median 0.2
    assert one(report, "latency", "mean").value == pytest.approx(0.2)
    assert one(report, "latency", "std").value == pytest.approx(0.1)
    assert one(report, "latency", "median").value == pytest.approx(0.2)
    assert one(report, "latency", "mean").stats_source == "computed_from_samples"
    assert one(report, "init_latency", "single").value == pytest.approx(0.05)
    assert one(report, "peak_memory", "inference_peak").value == 52428800  # Peak working set size:52428800
    assert result.extras["Avg CPU usage (%)"] == 97  # Avg CPU usage:97
    assert result.extras["Runs"] == 3


def test_ort_iteration_count_must_match_the_requests(tmp_path: Path) -> None:
    text = forms.ort_perf_no_result_file(verbose_times=[0.3, 0.1]).replace(
        "Total inference requests: 2", "Total inference requests: 5"
    )
    with pytest.raises(FormatError, match="2 'iteration:' lines but 5 requests"):
        read(tmp_path, "ort.txt", text)


def test_ort_2019_labels(tmp_path: Path) -> None:
    result = read(tmp_path, "ort.txt", forms.ort_perf_2019())
    (report,) = result.reports
    assert one(report, "latency", "mean").value == pytest.approx(0.025) and one(report, "latency", "mean").n == 100
    assert one(report, "latency", "median").value == pytest.approx(0.024)  # P50 Latency is 0.024sec
    assert report.protocol.duration_s == pytest.approx(2.51)  # Total run time: 2.51 s
    with pytest.raises(FormatError, match=r"ort\.txt: line 3: avg_s in 'Average time cost:-25 ms': '-25' is negative"):
        read(tmp_path, "ort.txt", forms.ort_perf_2019(average="-25 ms"))


def test_ort_result_file_with_the_statistics_lines(tmp_path: Path) -> None:
    result = read(tmp_path, "res.txt", forms.ort_result_with_stats([0.1, 0.3, 0.2]))
    assert result.format == "ort-perf-test-result"
    (report,) = result.reports
    assert one(report, "latency", "mean").value == pytest.approx(0.2)
    assert "tool_percentile_lines_recomputed_from_rows:3" in result.flags
    negative = forms.ort_result_with_stats([0.1, -0.3])
    with pytest.raises(FormatError, match=r"res\.txt: line 2: time_cost_s in 'resnet,-0.3,.*negative"):
        read(tmp_path, "res.txt", negative)


# ---- ExecuTorch -------------------------------------------------------------------------------------------------


def test_executorch_observer_keys_beyond_mobench_fields_are_kept(tmp_path: Path) -> None:
    result = read(tmp_path, "run.log", forms.executorch_observer_with_new_key())
    assert result.extras == {"generate #1.aggregate_sampling_time_ms": 12, "generate #1.gpu_peak_bytes": 1048576}
    (report,) = result.reports
    assert one(report, "prefill_rate", "mean").value == pytest.approx(10 / 0.1)  # 10 tokens, 2000 -> 2100 ms
    assert one(report, "decode_rate", "mean").value == pytest.approx(20 / 0.9)  # 20 tokens, 2100 -> 3000 ms
