"""HostMonitor: the runner's instruments around a pass that times its own inferences (the demo's baselines)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hub.core.measurements.report import ModelInfo, RuntimeInfo
from submissions.runner.host import WHOLE_PASS_FLAG, HostMonitor
from tests.fixtures.fake_sysfs import FakeSysfs, constant


def _pass(n: int, seconds: float) -> list[float]:
    """n 'inferences' of equal length filling `seconds` of wall time, timed like a baseline times them."""
    latencies = []
    for _ in range(n):
        start = time.perf_counter()
        time.sleep(seconds / n)
        latencies.append(time.perf_counter() - start)
    return latencies


def _result(monitor: HostMonitor, latencies: list[float], warmup: int = 2):  # type: ignore[no-untyped-def]
    return monitor.result(
        latencies,
        warmup=warmup,
        model=ModelInfo(model_id="baseline-x"),
        runtime=RuntimeInfo(framework="opencv", framework_version="5", backend="cpu"),
        tool="test",
        source_file="baseline-x on bench",
    )


def test_without_a_power_source_there_is_no_energy_and_the_reason_is_given(tmp_path: Path) -> None:
    with HostMonitor(sysfs_root=tmp_path) as monitor:
        latencies = _pass(10, 0.05)
    result = _result(monitor, latencies)
    records = result.records()
    metrics = {(r.metric, r.statistic) for r in records}
    assert {("latency", "median"), ("latency", "p90"), ("peak_memory", "inference_peak")} <= metrics
    assert not [r for r in records if r.metric.startswith("energy")]
    assert result.energy_absent and "no power source" in result.energy_absent[0]
    assert all(r.provenance == "measured-by-mobench" for r in records)
    (median,) = [r for r in records if (r.metric, r.statistic) == ("latency", "median")]
    assert median.n == 10 and median.warmup == 2


def test_energy_per_inference_over_the_whole_pass_on_a_fake_rapl(tmp_path: Path) -> None:
    tree = FakeSysfs(tmp_path / "sys")
    tree.add_rapl("0", "package-0", constant(8.0), max_energy_range_uj=3_000_000)  # wraps every 0.375 s
    with tree.live(), HostMonitor(sysfs_root=tree.root, sample_interval_s=0.01) as monitor:
        latencies = _pass(18, 1.2)
    result = _result(monitor, latencies, warmup=2)
    (figure,) = result.energy()
    window = monitor.end_s - monitor.start_s
    # constant 8 W over the monitored window, shared by 18 measured + 2 warm-up inferences
    assert figure.energy_per_inference_gross_j == pytest.approx(8.0 * window / 20, rel=0.05)
    energy_records = [r for r in result.records() if r.metric == "energy_per_inference"]
    assert energy_records and all(WHOLE_PASS_FLAG in r.validation_flags for r in energy_records)
