"""Conformance on real logs: every file of the shared corpus's mlperf, tegrastats, powermetrics, android_battery,
rapl and perfetto folders, read in place through `parse_file` with the format detected (never forced).

Each expected figure was read off the log by hand; the line it comes from is quoted beside it. Provenance of the
files: ../shared/realdata/toollogs/SOURCES.md. Where the corpus is absent these tests skip (fail under
MOBENCH_REQUIRE_REALDATA).
"""

from __future__ import annotations

import pytest

from evaluators.efficiency import estimate_energy, window_energy
from hub.core.errors import FormatError
from hub.core.measurements.trace import PowerTrace
from submissions.measurements.base import ParseResult
from submissions.measurements.detect import parse_file
from tests.fixtures.realdata import TOOLLOGS, real_file

FOLDERS = ("mlperf", "tegrastats", "powermetrics", "android_battery", "rapl", "perfetto")
READ_HERE = {
    "mlperf/v3.1_qcom_SD7PG2_app_results.json",
    "mlperf/v3.1_qcom_SD7PG2_mobilenetEdgeTPU_Offline_mlperf_log_summary.txt",
    "mlperf/v3.1_qcom_SD7PG2_mobilenetEdgeTPU_SingleStream_mlperf_log_detail.txt",
    "mlperf/v3.1_qcom_SD7PG2_mobilenetEdgeTPU_SingleStream_mlperf_log_summary.txt",
    "mlperf/v5.0_qcom_SD8Elite_OnePlus_app_result.json",
    "mlperf/v5.0_qcom_SD8Elite_image_classification_v2_SingleStream_mlperf_log_summary.txt",
    "tegrastats/agx_orin_jp7.2_single_line_jetson_stats_test.log",
    "tegrastats/agx_orin_llm_pipeline_tegrastats.log",
    "tegrastats/nano_legacy_csc2231_tegrastats.txt",
    "tegrastats/orin_nano_tegra_burn_jp6_tegrastats.log",
    "powermetrics/powermetrics-go_Mac16-6_sample.log",
    "android_battery/duanqz_android8_dumpsys-batterystats_since-last-charge.txt",
    "rapl/sandmark-issue378_perf_stat_energy-pkg.txt",
    "perfetto/perfetto-difftest_android_power_rails_counters_avg.csv",
    "perfetto/perfetto-difftest_power_rails_session_uuid_counters.csv",
}


def read(relative: str) -> ParseResult:
    return parse_file(real_file(f"toollogs/{relative}"))


def trace(result: ParseResult, rail: str) -> PowerTrace:
    (found,) = [t for t in result.traces if t.rail == rail]
    return found


def test_every_file_of_these_folders_is_read_here() -> None:
    real_file("toollogs/SOURCES.md")
    present = {f"{folder}/{p.name}" for folder in FOLDERS for p in (TOOLLOGS / folder).iterdir()}
    assert present == READ_HERE, "a corpus file was added or removed: read it in this file"


# ---- MLPerf -----------------------------------------------------------------------------------------------------


def test_mlperf_app_3_1_results_json() -> None:
    result = read("mlperf/v3.1_qcom_SD7PG2_app_results.json")
    assert result.format == "mlperf-mobile-result"
    assert len(result.reports) == 6
    image = result.reports[0]
    assert image.label == "image_classification" and image.protocol.tool_version == "3.1.0"
    assert image.latency is not None
    # "value": 2449.9175602740966 -- the app's 1/p90, so p90 = 408.177 µs, as the run's own summary prints:
    # "90.00 percentile latency (ns)   : 408177"
    assert image.latency.p90_s == pytest.approx(408177e-9, rel=1e-9)
    # "duration": 59.700749616 (mean x query count) over "measured_samples": 148182 -> the summary's
    # "Mean latency (ns)                : 402888"
    assert image.latency.mean_s == pytest.approx(402888e-9, rel=1e-6)
    assert "p90_is_1_over_app_throughput" in image.provenance.validation_flags
    # "proc_cpuinfo_soc_name": "Unknown" is no SoC; "name": "ro.soc.model", "value": "SM7475"
    assert image.device.soc is None and image.device.soc_model_code == "SM7475"
    assert image.device.device_name == "Redmi Note 12 Turbo"
    # "measured_duration": 61.09332275390625 -> the count over the app's wall time
    measured = [tp for tp in image.throughput if tp.definition == "measured_count_over_wall"]
    assert measured[0].inferences_per_s == pytest.approx(148182 / 61.09332275390625)
    offline = result.reports[5]
    assert offline.protocol.scenario == "Offline" and offline.latency is not None
    # "value": 3954.764479559589 = 24576 samples / p90, so p90 = 6.214276508 s, the Offline summary's
    # "90.00 percentile latency (ns)   : 6214276508"; "duration": 6.214276508 is its one query
    assert offline.latency.p90_s == pytest.approx(6.214276508, rel=1e-9)
    assert offline.latency.mean_s == pytest.approx(6.214276508)
    assert result.extras["environment_info.value.android.board_code"] == "marble"


def test_mlperf_app_4_1_result_json() -> None:
    result = read("mlperf/v5.0_qcom_SD8Elite_OnePlus_app_result.json")
    assert result.format == "mlperf-mobile-result"
    assert [r.label for r in result.reports][-2:] == ["stable_diffusion", "image_classification_offline_v2"]
    first = result.reports[0]
    assert first.latency is not None
    # "query_count": 79283, "latency_mean": 0.000756143, "latency90": 0.000783021
    assert (first.latency.n, first.latency.mean_s, first.latency.p90_s) == (79283, 0.000756143, 0.000783021)
    assert first.device.soc is None and first.device.soc_model_code == "SM8750"  # "Unknown" / "SM8750"
    sd = result.reports[5]
    # "query_count": 85, ... "is_min_query_met": false
    assert sd.latency is not None and sd.latency.n == 85 and sd.latency.p90_s == 3.780948072
    assert "min_query_count_not_met" in sd.provenance.validation_flags
    assert "min_query_count_not_met" not in first.provenance.validation_flags


def test_mlperf_loadgen_summaries() -> None:
    single = read("mlperf/v3.1_qcom_SD7PG2_mobilenetEdgeTPU_SingleStream_mlperf_log_summary.txt")
    assert single.format == "mlperf-loadgen-summary"
    latency = single.reports[0].latency
    assert latency is not None
    assert latency.p90_s == pytest.approx(408177e-9)  # "90.00 percentile latency (ns)   : 408177"
    assert latency.p99_s == pytest.approx(420104e-9)  # "99.00 percentile latency (ns)   : 420104"
    assert latency.max_s == pytest.approx(2560781e-9)  # "Max latency (ns)                : 2560781"
    assert single.reports[0].throughput[0].inferences_per_s == 2482.08  # "QPS w/o loadgen overhead        : 2482.08"
    assert single.extras["99.90 percentile latency (ns)"] == "528125"  # "99.90 percentile latency (ns)   : 528125"
    assert single.extras["performance_sample_count"] == "3321"  # "performance_sample_count : 3321"
    assert "Processed at least 64 queries (148182)." in str(single.extras["Early Stopping Result"])

    offline = read("mlperf/v3.1_qcom_SD7PG2_mobilenetEdgeTPU_Offline_mlperf_log_summary.txt")
    assert offline.reports[0].protocol.scenario == "Offline"  # "Scenario : Offline"
    assert offline.reports[0].throughput[0].inferences_per_s == 3954.76  # "Samples per second: 3954.76"
    assert "offline_single_query_percentiles_are_query_duration" in offline.flags

    v5 = read("mlperf/v5.0_qcom_SD8Elite_image_classification_v2_SingleStream_mlperf_log_summary.txt")
    latency = v5.reports[0].latency
    assert latency is not None
    assert latency.mean_s == pytest.approx(756143e-9)  # "Mean latency (ns)               : 756143"
    assert latency.p90_s == pytest.approx(783021e-9)  # "90.00 percentile latency (ns)   : 783021"
    assert v5.reports[0].protocol.min_duration_s == 60.0  # "min_duration (ms): 60000"


def test_mlperf_loadgen_detail() -> None:
    result = read("mlperf/v3.1_qcom_SD7PG2_mobilenetEdgeTPU_SingleStream_mlperf_log_detail.txt")
    assert result.format == "mlperf-loadgen-detail"
    report = result.reports[0]
    assert report.protocol.tool_version == "3.1 @ NA"  # {"key": "loadgen_version", "value": "3.1 @ NA", ...
    assert report.latency is not None
    assert report.latency.n == 148182  # {"key": "result_query_count", "value": 148182, ...
    assert report.latency.mean_s == pytest.approx(402888e-9)  # {"key": "result_mean_latency_ns", "value": 402888
    assert report.throughput[0].inferences_per_s == 2482.08  # "result_qps_without_loadgen_overhead", "value": 2482.08
    # line 1: "time_ms": 18446743830417.974313 is an underflowed timestamp
    assert "time_ms_underflow_ignored:line 1" in result.flags
    assert result.extras["result_99.90_percentile_latency_ns"] == 528125  # "result_99.90_percentile_latency_ns"
    assert result.extras["result_min_queries_met"] is True  # {"key": "result_min_queries_met", "value": true


# ---- tegrastats -------------------------------------------------------------------------------------------------


def test_tegrastats_agx_orin_jetpack_7_single_line() -> None:
    result = read("tegrastats/agx_orin_jp7.2_single_line_jetson_stats_test.log")
    assert result.format == "tegrastats"
    # "VDD_GPU_SOC 5139mW/5139mW/5139mW VDD_CPU_CV 3268mW/3268mW/3268mW VIN_SYS_5V0 5500mW/5500mW/5500mW"
    watts = {t.rail: t.power_w.tolist() for t in result.traces if t.power_w is not None}
    assert watts == {"VDD_GPU_SOC": [5.139], "VDD_CPU_CV": [3.268], "VIN_SYS_5V0": [5.5]}
    assert {t.scope for t in result.traces} == {"soc_rails"}  # AGX Orin has no module-input rail
    assert result.extras["VDD_GPU_SOC.maximum_w_at_end"] == 5.139
    assert "single_line_no_time_base_no_energy" in result.flags
    # "cpu@52.968C/52.968C"
    cpu = next(t for t in result.reports[0].thermal if t.sensor == "cpu")
    assert (cpu.start_c, cpu.max_c) == (52.968, 52.968)
    assert result.extras["cpu.maximum_c_at_end"] == 52.968


def test_tegrastats_agx_orin_jetpack_5_6() -> None:
    result = read("tegrastats/agx_orin_llm_pipeline_tegrastats.log")
    gpu = trace(result, "VDD_GPU_SOC")
    assert gpu.power_w is not None and gpu.t_s.size == 15  # 15 lines
    # line 1: "07-21-2025 16:33:42 ... VDD_GPU_SOC 2798mW/2798mW"; last: "07-21-2025 16:33:57 ... 2399mW/2692mW"
    assert (gpu.power_w[0], gpu.power_w[-1]) == (2.798, 2.399)
    assert (gpu.t_s[0], gpu.t_s[-1]) == (0.0, 15.0)
    assert result.extras["VDD_GPU_SOC.running_average_w_at_end"] == 2.692
    assert trace(result, "VIN_SYS_5V0").scope == "soc_rails"


def test_tegrastats_nano_pom_5v_in_is_the_module_input() -> None:
    result = read("tegrastats/nano_legacy_csc2231_tegrastats.txt")
    pom_in = trace(result, "POM_5V_IN")
    # line 1: "POM_5V_IN 920/920 POM_5V_GPU 0/0 POM_5V_CPU 119/119"; line 3: "POM_5V_IN 2793/1750"
    assert pom_in.scope == "module_input"
    assert pom_in.power_w is not None and pom_in.power_w[[0, 2]].tolist() == [0.92, 2.793]
    assert trace(result, "POM_5V_CPU").scope == trace(result, "POM_5V_GPU").scope == "soc_rails"
    assert pom_in.t_s.size == 114 and pom_in.t_s[-1] == 113.0  # 114 lines, no timestamps, 1 s assumed
    assert {"legacy_unitless_rails_read_as_mW", "no_timestamps_nominal_1000ms_interval_assumed"} <= set(result.flags)
    # 0-2 s: (0.920 + 1.537) / 2 + (1.537 + 2.793) / 2 = 3.3935 J (line 2: "POM_5V_IN 1537/1228")
    assert window_energy(pom_in, 0.0, 2.0) == pytest.approx(3.3935)


def test_tegrastats_orin_nano_jetpack_6() -> None:
    result = read("tegrastats/orin_nano_tegra_burn_jp6_tegrastats.log")
    vdd_in = trace(result, "VDD_IN")
    assert vdd_in.scope == "module_input"
    # "10-01-2025 20:05:55 ... VDD_IN 5542mW/5542mW" (lines 1-3), last "10-01-2025 20:07:40 ... VDD_IN 13751mW/12791mW"
    assert vdd_in.power_w is not None and vdd_in.power_w[[0, 1, 2, -1]].tolist() == [5.542, 5.542, 5.542, 13.751]
    assert vdd_in.t_s.size == 103 and vdd_in.t_s[-1] == 105.0
    assert window_energy(vdd_in, 0.0, 2.0) == pytest.approx(2 * 5.542)
    assert trace(result, "VDD_CPU_GPU_CV").scope == "soc_rails"
    # a 1 Hz meter needs a window of 60 s: over the whole 105 s log the estimate is usable
    estimate = estimate_energy(vdd_in, 0.0, 105.0, inferences=1)
    assert estimate.usable and estimate.figure.scope == "module_input"


# ---- powermetrics -----------------------------------------------------------------------------------------------


def test_powermetrics_one_sample_mac16_6() -> None:
    result = read("powermetrics/powermetrics-go_Mac16-6_sample.log")
    assert result.format == "powermetrics"
    combined = trace(result, "combined")
    # "*** Sampled system activity (Sat Nov  8 15:54:21 2025 +0900) (5021.96ms elapsed) ***"
    assert combined.t_s.tolist() == [0.0, 5.02196]
    # "Combined Power (CPU + GPU + ANE): 983 mW" over 5.02196 s
    assert window_energy(combined, 0.0, 5.02196) == pytest.approx(0.983 * 5.02196)
    assert combined.scope == "soc_cpu_gpu_ane"
    cpu = trace(result, "cpu")
    assert cpu.energy_j is not None and cpu.energy_j[-1] == pytest.approx(0.954 * 5.02196)  # "CPU Power: 954 mW"
    gpu = trace(result, "gpu")
    # "GPU Power: 28 mW" twice (lines 186 and 197), one figure
    assert gpu.energy_j is not None and gpu.energy_j[-1] == pytest.approx(0.028 * 5.02196)
    assert "power_line_repeated_with_equal_value:1" in result.flags
    assert result.extras["Machine model"] == "Mac16,6"  # "Machine model: Mac16,6"


# ---- dumpsys batterystats ---------------------------------------------------------------------------------------


def test_batterystats_android_8_with_smearing() -> None:
    result = read("android_battery/duanqz_android8_dumpsys-batterystats_since-last-charge.txt")
    assert result.format == "android-batterystats"
    records = result.records()

    def mah(scope: str, statistic: str) -> float:
        (found,) = [r.value / 3.6 for r in records if r.scope == scope and r.statistic == statistic]
        return found

    # "Capacity: 2770, Computed drain: 28440, actual drain: 2410-2465"
    assert mah("whole_device", "computed") == pytest.approx(28440)
    assert (mah("whole_device", "actual_min"), mah("whole_device", "actual_max")) == pytest.approx((2410, 2465))
    # "Cell standby: 26122 ( radio=26122 ) Excluded from smearing"
    assert mah("Cell standby", "computed") == pytest.approx(26122)
    # "Bluetooth: 444 ( cpu=2.30 wake=0.0108 bt=442 ) Including smearing: 5593 ( proportional=5149 )"
    assert mah("Bluetooth", "computed_including_smearing") == pytest.approx(5593)
    # "Uid u0a70: 0.454 ( cpu=0.454 ) Including smearing: 5.71 ( proportional=5.26 )"
    assert mah("Uid u0a70", "computed") == pytest.approx(0.454)
    # lines 72-108: 37 consumers, from "Cell standby: 26122" to "Over-counted: 25974 ( ) ..."
    assert len([r for r in records if r.statistic == "computed" and r.scope != "whole_device"]) == 37
    assert result.extras["line 73: Idle"] == "Excluded from smearing"  # "Idle: 1808 Excluded from smearing"
    assert all(r.method == "batterystats_estimate" and r.metric == "estimated_charge_drain" for r in records)


# ---- RAPL via perf stat -----------------------------------------------------------------------------------------


def test_perf_stat_energy_pkg() -> None:
    result = read("rapl/sandmark-issue378_perf_stat_energy-pkg.txt")
    assert result.format == "rapl-perf-stat"
    pkg = trace(result, "power/energy-pkg/")
    assert (pkg.scope, pkg.method, pkg.kind) == ("cpu_package", "rapl", "energy_counter")
    # "43.26 Joules power/energy-pkg/" over "1.001041336 seconds time elapsed"
    assert pkg.t_s.tolist() == [0.0, 1.001041336]
    assert window_energy(pkg, 0.0, 1.001041336) == pytest.approx(43.26)
    assert result.extras["cycles"] == "143,313,550,461"  # "143,313,550,461        cycles"
    assert result.extras["command line"] == "sudo perf stat -a -e power/energy-pkg/,cycles sleep 1"


# ---- Perfetto ---------------------------------------------------------------------------------------------------


def test_perfetto_aggregated_query_is_refused_in_one_line() -> None:
    # '"power_rail_name","AVG(value)","COUNT(*)"': averages of counters, no ts
    with pytest.raises(FormatError) as refused:
        read("perfetto/perfetto-difftest_android_power_rails_counters_avg.csv")
    message = str(refused.value)
    assert "\n" not in message
    assert message.endswith(
        "perfetto-difftest_android_power_rails_counters_avg.csv: line 1: aggregated rows (AVG(value), COUNT(*)) "
        "with no time base: a summary of a trace, not a measurement (export the counter rows: ts, name, value)"
    )


def test_perfetto_rail_counters() -> None:
    result = read("perfetto/perfetto-difftest_power_rails_session_uuid_counters.csv")
    assert result.format == "perfetto-power-csv"
    cpu, gpu = trace(result, "CPU_RAIL"), trace(result, "GPU_RAIL")
    # '"power.CPU_RAIL_uws",1000000,500.000000' and '"power.CPU_RAIL_uws",3000000,1000.000000': ns, µW·s
    assert cpu.t_s.tolist() == [0.001, 0.003] and cpu.energy_j is not None
    assert cpu.energy_j.tolist() == pytest.approx([500e-6, 1000e-6])
    # '"power.GPU_RAIL_uws",2000000,750.000000' and '"power.GPU_RAIL_uws",4000000,1250.000000'
    assert gpu.t_s.tolist() == [0.002, 0.004]
    assert window_energy(gpu, 0.002, 0.004) == pytest.approx(500e-6)
    assert (cpu.scope, cpu.method) == ("soc_rails", "odpm_power_rails")
