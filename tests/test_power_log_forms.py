"""The power and benchmark-app log forms added for issue #21, on mobench's own fixtures (tests/fixtures/
power_log_forms.py): each is detected, read with hand-computed figures, and what it carries beyond mobench's fields
is kept; what cannot be read is refused with the file, the line and the text."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluators.efficiency import window_energy
from hub.core.errors import FormatError
from hub.core.measurements.record import MeasurementRecord
from submissions.measurements.detect import parse_file
from tests.fixtures import measurement_logs as logs
from tests.fixtures import power_log_forms as forms


def one(records: list[MeasurementRecord], scope: str, statistic: str) -> float:
    found = [r.value for r in records if r.scope == scope and r.statistic == statistic]
    assert len(found) == 1, f"{scope}/{statistic}: {len(found)} records"
    return found[0]


# ---- MLPerf Mobile app ----------------------------------------------------------------------------------------


def test_app_v3_latencies_are_recovered_from_the_app_formulas(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "results.json", forms.mlperf_app_v3()))
    assert result.format == "mlperf-mobile-result"
    single, offline = result.reports
    assert single.latency is not None and offline.latency is not None
    # SingleStream: throughput 2000.0 = 1/p90 -> p90 0.5 ms; duration 60.0 s / 125000 samples -> mean 0.48 ms
    assert single.latency.p90_s == pytest.approx(0.0005)
    assert single.latency.mean_s == pytest.approx(0.00048)
    assert single.latency.n is None  # LoadGen's query count is not in an app 3.x file
    assert {"p90_is_1_over_app_throughput", "mean_is_loadgen_info_duration_over_measured_samples"} <= set(
        single.provenance.validation_flags
    )
    # Offline: throughput 6000.0 = 24576 samples / p90 -> p90 4.096 s; one query, so the mean is the duration
    assert offline.latency.p90_s == pytest.approx(4.096)
    assert offline.latency.mean_s == pytest.approx(4.096)
    assert "p90_is_measured_samples_over_app_throughput" in offline.provenance.validation_flags
    # "Unknown" is no SoC name
    assert single.device.soc is None and single.device.soc_model_code == "Tensor G3"
    assert "soc_name_unknown_to_the_app_not_stored" in single.provenance.validation_flags
    # what the report has no field for is kept
    assert result.extras["environment_info.value.android.board_code"] == "husky"
    assert result.extras["results[0].performance_run.start_datetime"] == "2023-10-02T08:00:00.000000"


def test_app_v3_invalid_run_is_flagged(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "results.json", forms.mlperf_app_v3(singlestream_valid=False)))
    assert "result_invalid" in result.reports[0].provenance.validation_flags
    assert "result_invalid" not in result.reports[1].provenance.validation_flags


def test_app_v4_unmet_minimum_query_count_is_flagged(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "result.json", forms.mlperf_app_v4(min_query_met=False)))
    (report,) = result.reports
    assert "min_query_count_not_met" in report.provenance.validation_flags
    assert report.latency is not None and report.latency.p90_s == 4.0 and report.latency.n == 100
    met = parse_file(logs.write(tmp_path, "met.json", forms.mlperf_app_v4(min_query_met=True)))
    assert "min_query_count_not_met" not in met.reports[0].provenance.validation_flags


# ---- tegrastats -------------------------------------------------------------------------------------------------


def test_tegrastats_jetpack7_three_values_and_temperature_maxima(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "t.log", forms.tegrastats_jp7([(5000, 3000, 5500), (7000, 3200, 5600)])))
    assert result.format == "tegrastats"
    rails = {t.rail: t for t in result.traces}
    gpu = rails["VDD_GPU_SOC"]
    assert gpu.power_w is not None and gpu.power_w.tolist() == pytest.approx([5.0, 7.0])  # instantaneous only
    assert gpu.t_s.tolist() == [0.0, 1.0]
    assert {t.scope for t in result.traces} == {"soc_rails"}  # AGX Orin has no module-input rail
    # the last line's running average and maximum since start, and the temperature maxima, are extras
    assert result.extras["VDD_GPU_SOC.running_average_w_at_end"] == pytest.approx(6.0)
    assert result.extras["VDD_GPU_SOC.maximum_w_at_end"] == pytest.approx(9.0)
    assert result.extras["cpu.maximum_c_at_end"] == pytest.approx(52.5)
    thermal = {t.sensor: t for t in result.reports[0].thermal}
    assert (thermal["cpu"].start_c, thermal["cpu"].end_c) == (50.0, 51.0)
    assert "sensor_unavailable_-256C_dropped:CV0" in result.flags


def test_tegrastats_single_line_is_read_without_a_time_base(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "t.log", forms.tegrastats_jp7([(5000, 3000, 5500)])))
    assert all(t.t_s.size == 1 and t.sampling_rate_hz is None for t in result.traces)
    assert "single_line_no_time_base_no_energy" in result.flags
    with pytest.raises(FormatError, match="at least 2 samples"):
        window_energy(result.traces[0], 0.0, 1.0)


def test_tegrastats_thor_vin_is_the_whole_device(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "thor.log", forms.tegrastats_thor([23000, 24000, 25000])))
    scopes = {t.rail: t.scope for t in result.traces}
    assert scopes == {
        "VDD_GPU": "soc_rails",
        "VDD_CPU_SOC_MSS": "soc_rails",
        "VIN_SYS_5V0": "soc_rails",
        "VIN": "whole_device",
    }
    assert "vin_is_carrier_board_input_module_and_carrier" in result.flags
    vin = next(t for t in result.traces if t.rail == "VIN")
    # trapezoid over 0-2 s: (23 + 24) / 2 + (24 + 25) / 2 = 48 J
    assert window_energy(vin, 0.0, 2.0) == pytest.approx(48.0)


@pytest.mark.parametrize(
    ("model", "module_input", "rails"),
    [
        ("nano", "POM_5V_IN", {"POM_5V_IN", "POM_5V_GPU", "POM_5V_CPU"}),
        ("tx2", "VDD_IN", {"VDD_IN", "VDD_CPU", "VDD_GPU", "VDD_SOC", "VDD_WIFI", "VDD_DDR"}),
        ("xavier", None, {"GPU", "CPU", "SOC", "CV", "VDDRQ", "SYS5V"}),
    ],
)
def test_tegrastats_module_input_per_generation(
    tmp_path: Path, model: str, module_input: str | None, rails: set[str]
) -> None:
    result = parse_file(logs.write(tmp_path, f"{model}.txt", forms.tegrastats_legacy(model)))
    assert {t.rail for t in result.traces} == rails
    assert [t.rail for t in result.traces if t.scope == "module_input"] == ([module_input] if module_input else [])
    assert "legacy_unitless_rails_read_as_mW" in result.flags


def test_tegrastats_tx1_has_temperatures_only(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "tx1.txt", forms.tegrastats_legacy("tx1")))
    assert result.traces == [] and "no_power_rails_in_log" in result.flags
    cpu = next(t for t in result.reports[0].thermal if t.sensor == "CPU")
    assert (cpu.start_c, cpu.end_c, cpu.max_c) == (30.0, 32.0, 32.0)


# ---- powermetrics -----------------------------------------------------------------------------------------------


def test_powermetrics_one_sample_is_energy_over_its_interval(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "pm.txt", forms.powermetrics_one_sample()))
    combined = next(t for t in result.traces if t.rail == "combined")
    # 1550 mW over 2000.00 ms = 3.1 J
    assert combined.t_s.tolist() == [0.0, 2.0]
    assert window_energy(combined, 0.0, 2.0) == pytest.approx(3.1)
    assert "power_line_repeated_with_equal_value:1" in result.flags
    assert result.extras["Machine model"] == "Mac15,3"


def test_powermetrics_repeated_rail_with_another_value_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"pm\.txt: line 18: 'GPU Power: 55 mW': gpu power already read"):
        parse_file(logs.write(tmp_path, "pm.txt", forms.powermetrics_one_sample(gpu_again_mw=55)))


# ---- dumpsys batterystats ---------------------------------------------------------------------------------------


def test_batterystats_android8_smearing(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "bs.txt", forms.batterystats_android8()))
    records = result.records()
    assert one(records, "Uid u0a99", "computed") == pytest.approx(200 * 3.6)
    assert one(records, "Uid u0a99", "computed_including_smearing") == pytest.approx(320 * 3.6)
    assert one(records, "whole_device", "actual_max") == pytest.approx(480 * 3.6)
    assert one(records, "Over-counted", "computed_including_smearing") == 0.0
    assert result.extras["line 4: Screen"] == "Excluded from smearing"
    assert result.extras["Statistics since last charge.Capacity (mAh)"] == "3000"


def test_batterystats_android12_global_and_uid_lines(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "bs.txt", forms.batterystats_android12()))
    records = result.records()
    assert one(records, "whole_device", "computed") == pytest.approx(312 * 3.6)
    assert one(records, "Global cpu", "computed") == pytest.approx(120 * 3.6)
    assert one(records, "Global cpu", "computed_apps") == pytest.approx(118 * 3.6)
    assert one(records, "Global mobile_radio", "computed_apps") == pytest.approx(12.5 * 3.6)
    assert one(records, "UID u0a217", "computed") == pytest.approx(130 * 3.6)
    assert one(records, "UID 1000", "computed") == pytest.approx(45.6 * 3.6)
    assert result.extras["line 9: UID u0a217"].startswith("fg: 100 bg: 20.0")
    # the next section ("Per-app mobile ms per packet") is not part of the estimate
    assert not [r for r in records if "packets" in r.original_text]


def test_batterystats_android15_vendor_component_lines(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "bs.txt", forms.batterystats_android15_vendor()))
    records = result.records()
    assert one(records, "whole_device", "actual_min") == one(records, "whole_device", "actual_max") == 200 * 3.6
    assert one(records, "UID u0a301", "computed") == pytest.approx(150 * 3.6)
    assert result.extras["line 6: UID u0a301"] == "screen=80.0 (1h0m0s0ms) cpu=70.0 (40m)"
    assert result.extras["line 7: UID u0a301"] == "(on battery, screen on) screen=80.0 cpu=60.0"
    assert result.extras["Statistics.Rated (mAh)"] == "4855"


def test_batterystats_unreadable_line_names_file_line_and_text(tmp_path: Path) -> None:
    text = forms.batterystats_android8().replace("    Screen: 120", "    Screen 120")
    with pytest.raises(FormatError, match=r"bs\.txt: line 4: .* not understood: 'Screen 120 Excluded from smearing'"):
        parse_file(logs.write(tmp_path, "bs.txt", text))


# ---- perf stat --------------------------------------------------------------------------------------------------


def test_perf_stat_repeat_means(tmp_path: Path) -> None:
    result = parse_file(logs.write(tmp_path, "perf.txt", forms.perf_stat_repeat()))
    assert result.format == "rapl-perf-stat"
    pkg, cores = result.traces
    assert (pkg.scope, cores.scope) == ("cpu_package", "cpu_cores")
    assert pkg.t_s.tolist() == [0.0, 2.00205] and pkg.energy_j is not None and pkg.energy_j.tolist() == [0.0, 21.73]
    assert "perf_stat_mean_of_5_runs" in pkg.flags
    assert result.extras["power/energy-pkg/.note"] == "( +-  0.61% )"


def test_perf_stat_intervals_become_a_counter(tmp_path: Path) -> None:
    text = forms.perf_stat_intervals([12.36, 12.01], [3.05, 2.98])
    result = parse_file(logs.write(tmp_path, "perf.txt", text))
    pkg = next(t for t in result.traces if t.rail == "power/energy-pkg/")
    ram = next(t for t in result.traces if t.rail == "power/energy-ram/")
    assert pkg.t_s.tolist() == [0.0, 1.0012, 2.0022]
    assert pkg.energy_j is not None and pkg.energy_j.tolist() == pytest.approx([0.0, 12.36, 24.37])
    assert ram.scope == "dram" and window_energy(ram, 0.0, 2.0022) == pytest.approx(6.03)


def test_perf_stat_csv_total_and_intervals(tmp_path: Path) -> None:
    total = parse_file(logs.write(tmp_path, "perf.csv", forms.perf_stat_csv(interval=False)))
    (pkg,) = total.traces
    # no elapsed line in CSV output: the window is the counter's run time, 2000000000 ns
    assert pkg.t_s.tolist() == [0.0, 2.0] and "window_is_the_counter_run_time" in pkg.flags
    assert total.extras["cycles"] == "6800000000"
    intervals = parse_file(logs.write(tmp_path, "perf_i.csv", forms.perf_stat_csv(interval=True)))
    (pkg,) = intervals.traces
    assert pkg.t_s.tolist() == [0.0, 1.0005, 2.001]
    assert pkg.energy_j is not None and pkg.energy_j.tolist() == pytest.approx([0.0, 12.5, 24.0])


def test_perf_stat_refusals(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"line 4: energy line not read \(per-CPU/socket aggregation\?\): 'S0 "):
        parse_file(logs.write(tmp_path, "perf.txt", forms.perf_stat_per_socket()))
    with pytest.raises(FormatError, match=r"line 5: power/energy-gpu/ is <not supported>"):
        parse_file(logs.write(tmp_path, "perf.txt", forms.perf_stat_not_supported()))


# ---- powercap loop ----------------------------------------------------------------------------------------------


def test_powercap_log_wraps_and_domains(tmp_path: Path) -> None:
    max_range = 262143328850
    package = [(1718000000.0, max_range - 1_000_000), (1718000000.5, 500_000), (1718000001.0, 1_500_000)]
    dram = [(1718000000.0, 10_000_000), (1718000001.0, 12_000_000)]
    text = forms.powercap_log(
        [("intel-rapl:0", "package-0", max_range, package), ("intel-rapl:0:2", "dram", 65712999613, dram)]
    )
    result = parse_file(logs.write(tmp_path, "rapl.log", text))
    assert result.format == "rapl-powercap-log"
    pkg, ram = result.traces
    assert (pkg.rail, pkg.scope, ram.scope) == ("intel-rapl:0/package-0", "cpu_package", "dram")
    assert "counter_wrapped:1" in pkg.flags
    # 1 000 000 µJ to the wrap, then 500 000 µJ, then 1 000 000 µJ: 2.5 J
    assert window_energy(pkg, 1718000000.0, 1718000001.0) == pytest.approx(2.5)
    assert window_energy(ram, 1718000000.0, 1718000001.0) == pytest.approx(2.0)


def test_powercap_log_refusals(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="line 2: energy_uj 9e\\+11 outside"):
        parse_file(logs.write(tmp_path, "r.log", forms.powercap_log([("d", "package-0", 1000, [(0.0, 900000000000)])])))
    text = forms.powercap_log([("d", "package-0", 1000, [(0.0, 1), (1.0, 2)])]) + "garbage here\n"
    with pytest.raises(FormatError, match="line 4: neither '<time s> <energy_uj>' nor"):
        parse_file(logs.write(tmp_path, "r.log", text))


# ---- Perfetto ---------------------------------------------------------------------------------------------------


def test_perfetto_aggregates_are_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(FormatError) as refused:
        parse_file(logs.write(tmp_path, "avg.csv", forms.perfetto_aggregated()))
    message = str(refused.value)
    assert "\n" not in message
    assert "line 1: aggregated rows (AVG(value), COUNT(*)) with no time base" in message
    assert "not a measurement" in message


def test_perfetto_sessions_and_machines_are_separate_counters(tmp_path: Path) -> None:
    rows = [("power.RAIL_A_uws", 1_000_000, 10.0, "7"), ("power.RAIL_A_uws", 2_000_000, 40.0, "8")]
    rows += [("power.RAIL_A_uws", 3_000_000, 30.0, "7"), ("power.RAIL_A_uws", 4_000_000, 60.0, "8")]
    result = parse_file(logs.write(tmp_path, "s.csv", forms.perfetto_split("session_uuid", rows)))
    counters = {t.rail: t.energy_j.tolist() for t in result.traces if t.energy_j is not None}
    assert counters == {
        "RAIL_A [session_uuid=7]": pytest.approx([10e-6, 30e-6]),
        "RAIL_A [session_uuid=8]": pytest.approx([40e-6, 60e-6]),
    }
    rows = [("power.RAIL_B_uws", 1_000_000, 1.0, '"[NULL]"'), ("power.RAIL_B_uws", 2_000_000, 2.0, '"[NULL]"')]
    rows += [("power.RAIL_B_uws", 1_500_000, 5.0, "1"), ("power.RAIL_B_uws", 2_500_000, 6.0, "1")]
    result = parse_file(logs.write(tmp_path, "m.csv", forms.perfetto_split("machine_id", rows)))
    assert {t.rail for t in result.traces} == {"RAIL_B", "RAIL_B [machine_id=1]"}
