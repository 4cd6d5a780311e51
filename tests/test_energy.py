"""Energy from power traces (research notes §10), checked on hand-integrated reference traces."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evaluators.efficiency import (
    Baseline,
    counter_energy,
    estimate_energy,
    measure_baseline,
    trapezoid_energy,
    unwrap_counter,
    window_energy,
)
from hub.core.errors import FormatError
from hub.core.measurements.statistics import nearest_rank_percentile
from hub.core.measurements.trace import PowerTrace


def power_trace(t, p, **kw) -> PowerTrace:
    kw.setdefault("scope", "cpu_package")
    kw.setdefault("method", "rapl")
    return PowerTrace(t_s=np.asarray(t, float), power_w=np.asarray(p, float), source="test", **kw)


# --- trapezoid integration --------------------------------------------------------------------------------------


def test_constant_power_whole_and_clipped_window():
    t = np.arange(11.0)  # 0..10 s, 1 Hz
    p = np.full(11, 2.0)
    # 2 W for 5 s = 10 J; edges on samples.
    assert trapezoid_energy(t, p, 2.0, 7.0) == pytest.approx(10.0)
    # Edges between samples: 2 W x (7.25 - 2.5) s = 9.5 J.
    assert trapezoid_energy(t, p, 2.5, 7.25) == pytest.approx(9.5)


def test_step_power():
    t = np.arange(11.0)
    p = np.where(t <= 5, 1.0, 3.0)  # 1 W up to t=5, 3 W from t=6
    # [0,5]: 5 x 1 = 5 J; [5,6]: (1+3)/2 = 2 J (the trapezoid spans the step); [6,10]: 4 x 3 = 12 J -> 19 J.
    assert trapezoid_energy(t, p, 0.0, 10.0) == pytest.approx(19.0)
    # [4.5,6.5]: P(4.5)=1, P(6.5)=3 -> 0.5x1 + (1+3)/2 + 0.5x3 = 0.5 + 2 + 1.5 = 4 J.
    assert trapezoid_energy(t, p, 4.5, 6.5) == pytest.approx(4.0)


def test_ramp_is_integrated_exactly():
    t = np.arange(5.0)
    p = 2.0 * t  # P(t) = 2t
    # The integral of 2t is t^2: 16 J over [0,4]; over [0.5,3.5] 12.25 - 0.25 = 12 J (interpolated edges exact).
    assert trapezoid_energy(t, p, 0.0, 4.0) == pytest.approx(16.0)
    assert trapezoid_energy(t, p, 0.5, 3.5) == pytest.approx(12.0)


def test_uneven_sampling():
    t = [0.0, 0.1, 0.5, 2.0, 2.2, 3.0]
    p = [1.0, 3.0, 2.0, 4.0, 4.0, 0.0]
    # 0.1x(1+3)/2 + 0.4x(3+2)/2 + 1.5x(2+4)/2 + 0.2x(4+4)/2 + 0.8x(4+0)/2 = 0.2 + 1.0 + 4.5 + 0.8 + 1.6 = 8.1 J
    assert trapezoid_energy(t, p, 0.0, 3.0) == pytest.approx(8.1)
    # [0.3,2.1]: P(0.3) = 3 + (2-3) x 0.2/0.4 = 2.5, P(2.1) = 4;
    # 0.2x(2.5+2)/2 + 1.5x(2+4)/2 + 0.1x(4+4)/2 = 0.45 + 4.5 + 0.4 = 5.35 J
    assert trapezoid_energy(t, p, 0.3, 2.1) == pytest.approx(5.35)


def test_window_inside_one_interval():
    # Both edges between the same two samples: P(1.25)=1.25, P(1.75)=1.75 on P=t -> 0.5 x (1.25+1.75)/2 = 0.75 J.
    assert trapezoid_energy([0.0, 1.0, 2.0], [0.0, 1.0, 2.0], 1.25, 1.75) == pytest.approx(0.75)


def test_window_outside_trace_and_repeated_stamps_are_errors():
    with pytest.raises(FormatError, match="not covered by the trace"):
        trapezoid_energy([0.0, 1.0, 2.0], [1.0, 1.0, 1.0], 0.5, 2.5, source="monsoon.csv")
    with pytest.raises(FormatError, match=r"monsoon.csv: timestamps must increase strictly: sample 2"):
        trapezoid_energy([0.0, 1.0, 1.0, 2.0], [1.0] * 4, 0.0, 2.0, source="monsoon.csv")
    with pytest.raises(FormatError, match="empty energy window"):
        trapezoid_energy([0.0, 1.0], [1.0, 1.0], 1.0, 1.0)


# --- cumulative counters ----------------------------------------------------------------------------------------


def test_counter_delta_with_wraparound():
    # 5 W on a counter that wraps at 100 J: 80, 85, 90, 95, (100 ->) 0, 5, 10 at t = 0..6.
    t = np.arange(7.0)
    e = [80.0, 85.0, 90.0, 95.0, 0.0, 5.0, 10.0]
    assert unwrap_counter(e, counter_max_j=100.0).tolist() == [80, 85, 90, 95, 100, 105, 110]
    # Whole trace: 110 - 80 = 30 J = 5 W x 6 s.
    assert counter_energy(t, e, 0.0, 6.0, counter_max_j=100.0) == pytest.approx(30.0)
    # Edges between updates, across the wrap: C(3.5) = 97.5, C(5.5) = 107.5 -> 10 J.
    assert counter_energy(t, e, 3.5, 5.5, counter_max_j=100.0) == pytest.approx(10.0)


def test_wrap_not_landing_on_zero_and_rapl_range():
    # RAPL max_energy_range_uj 262143999938 µJ: 262143.9 J -> 3 J is a delta of 262143.999938 - 262143.9 + 3.
    max_j = 262143999938e-6
    delta = counter_energy([0.0, 1.0], [262143.9, 3.0], 0.0, 1.0, counter_max_j=max_j)
    assert delta == pytest.approx(max_j - 262143.9 + 3.0)


def test_counter_going_down_without_range_is_an_error():
    with pytest.raises(FormatError, match=r"rails.csv: cumulative counter went down at sample 2"):
        counter_energy([0.0, 1.0, 2.0], [5.0, 6.0, 1.0], 0.0, 2.0, counter_max_j=None, source="rails.csv")


def test_window_energy_dispatches_on_trace_kind():
    counter = PowerTrace(
        t_s=np.arange(7.0),
        energy_j=np.array([80.0, 85.0, 90.0, 95.0, 0.0, 5.0, 10.0]),
        counter_max_j=100.0,
        scope="cpu_package",
        method="rapl",
        source="rapl",
    )
    assert window_energy(counter, 1.0, 5.0) == pytest.approx(20.0)  # 5 W x 4 s
    assert window_energy(power_trace([0, 1, 2], [2, 2, 2]), 0.0, 2.0) == pytest.approx(4.0)  # 2 W x 2 s


# --- per-inference, baseline, validity --------------------------------------------------------------------------


def test_per_inference_gross_and_net():
    t = np.arange(0.0, 12.001, 0.01)  # 100 Hz, 12 s
    p = np.where(t < 2.0, 0.5, 2.0)  # idle 0.5 W for 2 s, then 2 W while running
    trace = power_trace(t, p)
    base = measure_baseline(trace, 0.0, 1.9)
    assert base.power_w == pytest.approx(0.5)
    est = estimate_energy(trace, 2.0, 12.0, inferences=100, baseline=base)
    fig = est.figure
    # Gross: 2 W x 10 s = 20 J -> 0.2 J per inference; net: 20 - 0.5 x 10 = 15 J -> 0.15 J, 1.5 W net.
    assert fig.energy_gross_j == pytest.approx(20.0)
    assert fig.energy_per_inference_gross_j == pytest.approx(0.2)
    assert fig.energy_net_j == pytest.approx(15.0)
    assert fig.energy_per_inference_net_j == pytest.approx(0.15)
    assert fig.avg_power_gross_w == pytest.approx(2.0)
    assert fig.avg_power_net_w == pytest.approx(1.5)
    assert fig.integration == "trapezoid"
    assert fig.sampling_rate_hz == pytest.approx(100.0)
    assert est.usable and est.flags == ()


def test_no_baseline_reports_no_net_and_says_so():
    est = estimate_energy(power_trace(np.arange(0.0, 20.01, 0.1), np.ones(201)), 0.0, 20.0, inferences=10)
    assert est.figure.energy_per_inference_gross_j == pytest.approx(2.0)  # 1 W x 20 s / 10
    assert est.figure.energy_net_j is None and est.figure.energy_per_inference_net_j is None
    assert "no_baseline_net_not_reported" in est.flags
    assert est.usable


def test_baseline_drift_and_negative_net_are_flagged():
    trace = power_trace(np.arange(0.0, 20.01, 0.1), np.ones(201))
    before, after = Baseline(1.0, 30.0, "pre"), Baseline(1.1, 30.0, "post")  # 10 % drift
    est = estimate_energy(trace, 0.0, 20.0, inferences=5, baseline=before, baseline_after=after)
    assert "baseline_drift_over_5pct" in est.flags
    assert "net_energy_not_positive" in est.flags  # 1 W run on a 1 W baseline: net 0 J
    assert est.usable  # advisory only


def test_too_few_samples_and_short_windows_block_the_figure():
    sparse = power_trace([0.0, 0.5, 1.0, 1.5, 2.0], [1.0] * 5)  # 2 Hz: 5 samples in a 2 s window
    est = estimate_energy(sparse, 0.0, 2.0, inferences=10)
    assert {"fewer_than_10_samples_in_window", "rate_times_window_below_10", "window_shorter_than_10s"} <= set(
        est.flags
    )
    assert not est.usable
    fast = power_trace(np.arange(0.0, 1.0, 0.001), np.ones(1000))
    assert "window_shorter_than_1s" in estimate_energy(fast, 0.1, 0.9, inferences=1).flags
    # A 1 Hz meter (tegrastats) needs a 60 s window even with enough samples.
    slow = power_trace(np.arange(31.0), np.ones(31), scope="module_input", method="tegrastats")
    est = estimate_energy(slow, 0.0, 30.0, inferences=3)
    assert "window_shorter_than_60s_for_1hz_meter" in est.flags and not est.usable


def test_battery_side_rules_on_charging():
    t, p = np.arange(0.0, 20.01, 0.1), np.full(201, 3.0)
    kw = {"scope": "battery_rail", "method": "android_fuel_gauge"}
    charging = power_trace(t, p, flags=["charging"], **kw)
    est = estimate_energy(charging, 0.0, 20.0, inferences=1)
    assert "charging_during_battery_side_measurement" in est.flags and not est.usable
    unknown = estimate_energy(power_trace(t, p, **kw), 0.0, 20.0, inferences=1)
    assert "charging_state_unknown" in unknown.flags and unknown.usable
    known = estimate_energy(power_trace(t, p, **kw), 0.0, 20.0, inferences=1, charging=False)
    assert not {"charging_state_unknown", "charging_during_battery_side_measurement"} & set(known.flags)
    # Rails downstream of the battery (ODPM, INA3221) are not affected by charging.
    rail = estimate_energy(power_trace(t, p, flags=["charging"], scope="module_input", method="ina3221_sysfs"),
                           0.0, 20.0, inferences=1)  # fmt: skip
    assert "charging_during_battery_side_measurement" not in rail.flags


def test_odpm_needs_20_counter_updates():
    # Counter updating every 1 s (values change once per second) sampled at 10 Hz over 15 s: 15 updates < 20.
    t = np.arange(0.0, 15.01, 0.1)
    e = np.floor(t) * 2.0  # 2 W, updated once a second
    trace = PowerTrace(t_s=t, energy_j=e, scope="soc_rails", method="odpm_power_rails", source="perfetto")
    est = estimate_energy(trace, 0.0, 15.0, inferences=30)
    assert "fewer_than_20_counter_updates" in est.flags and not est.usable
    assert est.figure.integration == "counter_delta"
    assert est.figure.energy_gross_j == pytest.approx(30.0)  # C(15) - C(0) = 30 - 0


def test_llm_prefill_and_decode_windows_per_token():
    t = np.arange(0.0, 6.001, 0.01)
    p = np.where(t < 2.0, 3.0, 2.0)  # prefill at 3 W for 2 s, decode at 2 W for 4 s
    trace = power_trace(t, p)
    base = Baseline(1.0, 60.0, "idle_same_state_pre_run_60s")
    # Prefill: 3 W x 2 s = 6 J gross, minus 1 W x 2 s = 4 J net over 100 prompt tokens -> 0.04 J/token.
    # (The window stops at 1.99 s so that the 3 W -> 2 W sample step is not part of it.)
    pre = estimate_energy(trace, 0.0, 1.99, prefill_tokens=100, baseline=base)
    assert pre.figure.energy_per_prefill_token_j == pytest.approx((3.0 - 1.0) * 1.99 / 100)
    # Decode: 2 W x 4 s = 8 J gross, minus 4 J baseline = 4 J net over 20 generated tokens -> 0.2 J/token.
    dec = estimate_energy(trace, 2.0, 6.0, decode_tokens=20, baseline=base)
    assert dec.figure.energy_per_decode_token_j == pytest.approx(0.2)
    assert dec.figure.energy_per_inference_gross_j is None
    with pytest.raises(ValueError, match="exactly one"):
        estimate_energy(trace, 2.0, 6.0, inferences=1, decode_tokens=20)


def test_cross_check_net_power_times_latency():
    # §10 step 6: with no gaps, E_inf,net = P_net x mean latency. 50 inferences of 0.2 s at 2.5 W on 0.5 W idle.
    t = np.arange(0.0, 10.001, 0.005)
    est = estimate_energy(power_trace(t, np.full(t.size, 2.5)), 0.0, 10.0, inferences=50,
                          baseline=Baseline(0.5, 30.0, "idle"))  # fmt: skip
    assert est.figure.energy_per_inference_net_j == pytest.approx(2.0 * 0.2)


def test_nearest_rank_percentile():
    # Nearest rank: p50 of 1..10 is the 5th value, p90 the 9th; p90 of 4 values is ceil(3.6) = the 4th.
    assert nearest_rank_percentile(list(range(10, 0, -1)), 50) == 5
    assert nearest_rank_percentile(list(range(1, 11)), 90) == 9
    assert nearest_rank_percentile([1.0, 2.0, 3.0, 4.0], 90) == 4.0
    assert math.isclose(nearest_rank_percentile([0.3], 50), 0.3)
