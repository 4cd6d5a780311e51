"""The power sampler against a fake sysfs tree, and `measure` on this machine and on the fake tree."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

from evaluators.efficiency import estimate_energy, window_energy
from hub.core.errors import FormatError, MissingExtraError, MobenchError
from hub.core.measurements.record import MeasurementFile
from submissions.runner.measure import measure, run_measure
from submissions.runner.power import PowerSampler, discover, read_sysfs
from submissions.runner.tiny_model import build_tiny_onnx, build_tiny_tflite
from tests.fixtures.fake_sysfs import FakeSysfs, ManualClock, constant

# --- sampler ----------------------------------------------------------------------------------------------------


def sample_every(sampler: PowerSampler, clock: ManualClock, dt: float, n: int) -> None:
    sampler.sample()
    for _ in range(n):
        clock.advance(dt)
        sampler.sample()


def by_rail(results):
    return {r.channel.rail: r for r in results}


def test_rapl_counters_with_wraparound(tmp_path):
    tree = FakeSysfs(tmp_path)
    # Package at 10 W on a 50 J counter starting at 45 J: it wraps after 0.5 s. Core domain at 4 W, no wrap.
    tree.add_rapl("0", "package-0", constant(10.0), max_energy_range_uj=50_000_000, start_uj=45_000_000)
    tree.add_rapl("0:0", "core", constant(4.0), max_energy_range_uj=262_143_999_938)
    clock = ManualClock(tree)
    found = discover(tmp_path)
    assert [(c.scope, c.method, c.rail) for c in found.channels] == [
        ("cpu_package", "rapl", "package-0"),
        ("cpu_cores", "rapl", "core"),
    ]
    sampler = PowerSampler(found.channels, clock=clock)
    sample_every(sampler, clock, 0.25, 24)  # t = 0 .. 6 s
    pkg, core = (r.trace for r in sampler.results())
    assert pkg.counter_max_j == pytest.approx(50.0)
    assert np.any(np.diff(pkg.energy_j) < 0)  # the raw counter did wrap
    # 10 W x (5.6 - 0.3) s = 53 J across the wraps (more than the counter's whole range); core 4 W x 4 s = 16 J.
    assert window_energy(pkg, 0.3, 5.6) == pytest.approx(53.0, rel=1e-6)
    assert window_energy(core, 1.0, 5.0) == pytest.approx(16.0, rel=1e-6)


def test_hwmon_power_energy_and_ina3221(tmp_path):
    tree = FakeSysfs(tmp_path)
    tree.add_hwmon_power(0, "ina226", lambda t: 2.0 if t < 1.0 else 4.0, label="VDD_SYS")
    tree.add_hwmon_energy(1, "amd_energy", constant(3.0))
    tree.add_ina3221(2, [("VDD_IN", 5.0, constant(6.0)), ("VDD_SOC", 1.0, constant(1.5)), ("NC", 1.0, constant(0))])
    tree.add_ina3221x_legacy([("VDD_IN", constant(4.5)), ("NC", constant(0.0))])
    clock = ManualClock(tree)
    found = discover(tmp_path)
    sampler = PowerSampler(found.channels, clock=clock)
    sample_every(sampler, clock, 0.5, 8)  # t = 0 .. 4 s
    results = sampler.results()
    assert [(r.channel.scope, r.channel.method, r.channel.rail) for r in results] == [
        ("soc_rails", "hwmon", "ina226/VDD_SYS"),
        ("soc_rails", "hwmon", "amd_energy/energy1"),
        ("module_input", "ina3221_sysfs", "VDD_IN"),
        ("soc_rails", "ina3221_sysfs", "VDD_SOC"),
        ("module_input", "ina3221_sysfs", "VDD_IN"),  # legacy ina3221x, in mW
    ]
    hw, energy, vdd_in, vdd_soc, legacy = (r.trace for r in results)
    # µW step sampled at 0, 0.5, 1, 1.5, 2 s: 2, 2, 4, 4, 4 W -> 0.5 x (2+2)/2 + 0.5 x (2+4)/2 + 2 x 0.5 x 4 = 6.5 J
    assert window_energy(hw, 0.0, 2.0) == pytest.approx(6.5)
    assert energy.energy_j is not None and window_energy(energy, 0.0, 4.0) == pytest.approx(12.0)  # 3 W x 4 s
    # mainline INA3221: 5000 mV x 1200 mA = 6 W; 1000 mV x 1500 mA = 1.5 W; legacy 4500 mW.
    assert vdd_in.power_w == pytest.approx(np.full(9, 6.0))
    assert vdd_soc.power_w == pytest.approx(np.full(9, 1.5))
    assert legacy.power_w == pytest.approx(np.full(9, 4.5))


def test_power_supply_sign_and_unit_quirks_and_charging(tmp_path):
    tree = FakeSysfs(tmp_path)
    # Kernel ABI: -800000 µA while discharging at 3.9 V -> 0.8 A x 3.9 V = 3.12 W, no flag.
    tree.add_battery("battery", constant(0.8), 3.9)
    # Vendor quirk: positive current while discharging, in mA (500 -> 0.5 A), and plugged in (Charging) from 2 s.
    tree.add_battery(
        "bms",
        constant(0.5),
        4.0,
        discharge_sign=+1,
        unit="mA",
        status=lambda t: "Discharging" if t < 2.0 else "Charging",
    )
    clock = ManualClock(tree)
    found = discover(tmp_path)
    sampler = PowerSampler(found.channels, clock=clock, interval_s=0.1)
    sample_every(sampler, clock, 0.1, 40)  # t = 0 .. 4 s at 10 Hz
    results = by_rail(sampler.results())
    good, quirky = results["battery"], results["bms"]
    assert (good.channel.scope, good.channel.method) == ("battery_rail", "android_fuel_gauge")
    assert good.trace.power_w == pytest.approx(np.full(41, 3.12))
    assert good.trace.flags == [] and good.charging is False
    assert quirky.trace.power_w == pytest.approx(np.full(41, 2.0))  # |+500 mA| x 4 V
    assert {"current_mA_heuristic", "current_sign_positive_while_discharging", "charging"} <= set(quirky.trace.flags)
    assert quirky.charging is True
    assert not estimate_energy(quirky.trace, 0.5, 3.5, inferences=10, charging=quirky.charging).usable
    ok = estimate_energy(good.trace, 0.5, 3.5, inferences=10, charging=good.charging)
    assert ok.usable and ok.figure.energy_gross_j == pytest.approx(3.12 * 3.0)


def test_unreadable_sources_are_reported_and_read_errors_flagged(tmp_path):
    tree = FakeSysfs(tmp_path)
    rapl = tree.add_rapl("0", "package-0", constant(1.0), max_energy_range_uj=10**9)
    hw = tree.add_hwmon_power(0, "ina226", constant(1.0))

    def root_only(path: Path) -> str:
        if path == rapl / "energy_uj":
            raise PermissionError(13, "Permission denied", str(path))
        return read_sysfs(path)

    found = discover(tmp_path, read=root_only)
    assert [c.rail for c in found.channels] == ["ina226/power1"]
    assert "root-only since the CVE-2020-8694 fix" in found.skipped[0]
    assert "unusable" in found.no_source_reason(tmp_path)

    failures = iter([True, False, False, False])

    def flaky(path: Path) -> str:
        if path == hw / "power1_input" and next(failures, False):
            raise OSError(5, "Input/output error")
        return read_sysfs(path)

    clock = ManualClock(tree)
    sampler = PowerSampler(found.channels, clock=clock, read=flaky)
    sample_every(sampler, clock, 0.5, 3)
    (result,) = sampler.results()
    assert result.trace.t_s.tolist() == [0.5, 1.0, 1.5]  # the failed read at t=0 is dropped, not guessed
    assert result.trace.flags == ["read_errors:1"]


def test_empty_tree_has_no_source(tmp_path):
    found = discover(tmp_path)
    assert found.channels == ()
    assert found.no_source_reason(tmp_path).startswith(f"no power source under {tmp_path}")


# --- measure ----------------------------------------------------------------------------------------------------

FAST = {"warmup": 3, "warmup_seconds": 0.0, "min_iterations": 20, "min_seconds": 0.2}


def host_sysfs(tmp_path: Path) -> Path:
    """/sys when it exposes no power source (as on this machine); otherwise an empty tree, so the test is honest."""
    root = Path("/sys")
    return root if not discover(root).channels else tmp_path / "empty-sys"


def test_measure_on_this_machine_without_power_source(tmp_path):
    model = build_tiny_onnx(tmp_path / "tiny.onnx")
    root = host_sysfs(tmp_path)
    out = tmp_path / "out" / "measure.json"
    result = run_measure(model, out=out, sustained_seconds=1.0, sysfs_root=root, **FAST)

    warm, sustained = result.reports
    assert (warm.label, sustained.label) == ("warm", "sustained")
    assert warm.model.artifact_sha256 == hashlib.sha256(model.read_bytes()).hexdigest()
    lat = warm.latency
    assert lat.n == len(lat.samples_s) >= 20 and lat.first_inference_s > 0 and lat.init_s > 0
    assert lat.p50_s == sorted(lat.samples_s)[(len(lat.samples_s) + 1) // 2 - 1]  # nearest rank ceil(n/2)
    assert sum(sustained.latency.samples_s) >= 0.5  # ran back-to-back for the sustained duration
    ratio = sustained.latency.p50_s / lat.p50_s
    assert result.throttling_ratio == pytest.approx(ratio)
    assert warm.memory[0].peak_kind == "process_rss_peak" and warm.memory[0].peak_bytes > 0

    # No energy figure anywhere, and the reason says what was looked for.
    assert result.energy() == []
    assert result.energy_absent[0].startswith(f"no power source under {root}")
    records = MeasurementFile.model_validate_json(out.read_text()).records
    assert not [r for r in records if r.metric.startswith("energy") or r.metric == "average_power"]
    assert all(r.provenance == "measured-by-mobench" and "no_power_source" in r.validation_flags for r in records)
    metrics = {(r.metric, r.statistic) for r in records}
    assert {("latency", "median"), ("latency", "p90"), ("first_inference_latency", "single"),
            ("init_latency", "single"), ("peak_memory", "inference_peak"), ("sustained_latency", "median"),
            ("throttling_ratio", "sustained_p50_over_warm_p50")} <= metrics  # fmt: skip
    (throttle,) = [r for r in records if r.metric == "throttling_ratio"]
    assert throttle.value == pytest.approx(100 * ratio)
    assert {r.model_sha256 for r in records} == {warm.model.artifact_sha256}


def test_measure_with_energy_on_fake_sysfs(tmp_path):
    model = build_tiny_onnx(tmp_path / "tiny.onnx")
    tree = FakeSysfs(tmp_path / "sys")
    # RAPL package at 12 W on a 5 J counter (wraps every ~0.4 s), a discharging battery at 0.5 A x 4 V = 2 W,
    # and a thermal zone at 45 °C plus an absent sensor (-256 °C) that must be left out.
    tree.add_rapl("0", "package-0", constant(12.0), max_energy_range_uj=5_000_000)
    tree.add_battery("battery", constant(0.5), 4.0)
    tree.add_thermal_zone(0, "x86_pkg_temp", constant(45.0))
    tree.add_thermal_zone(1, "CV0", constant(-256.0))
    with tree.live():
        result = measure(model, sustained_seconds=1.0, baseline_seconds=0.3, sysfs_root=tree.root, **FAST)

    assert result.energy_absent == []
    figures = {(f.scope, f.method): f for f in result.energy()}
    assert set(figures) == {("cpu_package", "rapl"), ("battery_rail", "android_fuel_gauge")}
    sustained = result.reports[1].latency
    for (_scope, _method), power in zip(figures, (12.0, 2.0), strict=True):
        fig = figures[(_scope, _method)]
        assert fig.inferences_in_window == sustained.n and fig.window_s >= 1.0
        # Constant power: gross per inference = P x window / N (the fake's files lag the clock by a few ms, hence 5 %).
        assert fig.energy_per_inference_gross_j == pytest.approx(power * fig.window_s / sustained.n, rel=0.05)
        # The idle baseline draws the same power, so the net figure is ~0 (and present, since a baseline exists).
        assert fig.baseline_power_w == pytest.approx(power, rel=0.05)
        assert abs(fig.energy_net_j) < 0.05 * fig.energy_gross_j
    records = result.to_file().records
    energy = [r for r in records if r.metric == "energy_per_inference"]
    assert {(r.scope, r.method, r.statistic) for r in energy} == {
        ("cpu_package", "rapl", "gross"), ("cpu_package", "rapl", "net"),
        ("battery_rail", "android_fuel_gauge", "gross"), ("battery_rail", "android_fuel_gauge", "net"),
    }  # fmt: skip
    assert all("window_shorter_than_10s" in r.validation_flags for r in energy)  # 1 s window: said, not hidden
    temps = {(r.scope, r.statistic): r.value for r in records if r.metric == "temperature"}
    assert temps[("thermal_zone0:x86_pkg_temp", "start")] == 45.0
    assert not [k for k in temps if "CV0" in k[0]]
    assert len(result.traces) == 2 and result.reports[0].protocol.charging is False


def test_litert_backend_on_tiny_tflite(tmp_path):
    pytest.importorskip("ai_edge_litert")
    model = build_tiny_tflite(tmp_path / "tiny.tflite")
    result = measure(model, backend="litert", sustained_seconds=0, sysfs_root=tmp_path, **FAST)
    (warm,) = result.reports
    assert warm.runtime.framework == "litert" and warm.latency.n >= 20
    assert warm.workload.input_shape == "x:1x64"
    assert result.throttling_ratio is None


def test_missing_extra_names_what_to_install(tmp_path, monkeypatch):
    model = build_tiny_onnx(tmp_path / "tiny.onnx")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import now fails as if not installed
    with pytest.raises(MissingExtraError, match=r"pip install 'mobench\[measure\]'"):
        measure(model, sysfs_root=tmp_path, **FAST)


def test_user_input_is_checked_against_the_model(tmp_path):
    model = build_tiny_onnx(tmp_path / "tiny.onnx")
    good = tmp_path / "x.npy"
    np.save(good, np.ones((1, 64), np.float32))
    result = measure(model, input=good, sustained_seconds=0, sysfs_root=tmp_path, **FAST)
    assert result.reports[0].runtime.extra["input"] == "file x.npy"
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, image=np.ones((1, 64), np.float32))
    with pytest.raises(FormatError, match=r"wrong.npz: arrays must be named as the model's inputs: missing \['x'\]"):
        measure(model, input=wrong, sysfs_root=tmp_path, **FAST)
    shape = tmp_path / "shape.npy"
    np.save(shape, np.ones((1, 32), np.float32))
    with pytest.raises(FormatError, match=r"input 'x': shape \(1, 32\)"):
        measure(model, input=shape, sysfs_root=tmp_path, **FAST)
    with pytest.raises(FormatError, match="model file not found"):
        measure(tmp_path / "missing.onnx", sysfs_root=tmp_path)
    with pytest.raises(MobenchError, match=r"unknown backend 'tvm': choose one of \['litert', 'onnxruntime'\]"):
        measure(model, backend="tvm", sysfs_root=tmp_path)  # type: ignore[arg-type]
