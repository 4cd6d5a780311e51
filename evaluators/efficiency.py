"""Honest figures from raw on-device measurements.

Latency statistics are recomputed from the raw per-iteration samples, never copied from a tool's summary: the
warm-up iterations are dropped first (first runs pay for lazy allocation, JIT and cold caches), and percentiles use
the nearest-rank definition so that p90 is a latency that was actually observed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hub.core.errors import FormatError
from hub.core.measurements.report import EnergyFigure
from hub.core.measurements.trace import FloatArray, PowerTrace

# --- energy from a power trace ---------------------------------------------------------------------------------
# Method: research notes device-measurement.md §10 (trapezoid integration with linear clipping at the window
# edges; counter deltas with wraparound; idle baseline -> net; per-inference and per-token figures; validity rules).

MIN_SAMPLES_IN_WINDOW = 10  # §10.9: samples in window >= 10 and f_s * window >= 10
MIN_WINDOW_S = 1.0  # §9: a window >= 1 s unless the figure comes from a counter
MIN_WINDOW_1HZ_METER_S = 60.0  # §10.9: 1 Hz meters (tegrastats, PTD)
LOW_RATE_HZ = 2.0  # below this a meter is treated as a 1 Hz meter
MIN_ODPM_COUNTER_UPDATES = 20  # §10.9: ODPM windows need >= 20 counter updates
RECOMMENDED_MIN_WINDOW_S = 10.0  # §10 step 4: >= 60 s, 10 s at the very least
MAX_BASELINE_DRIFT = 0.05  # §10 step 2: flag a pre/post baseline drift above 5 %

# Flags that make a figure wrong rather than merely less precise; an estimate carrying one is not reported.
BLOCKING_FLAGS = frozenset(
    {
        "fewer_than_10_samples_in_window",
        "rate_times_window_below_10",
        "window_shorter_than_1s",
        "window_shorter_than_60s_for_1hz_meter",
        "fewer_than_20_counter_updates",
        "charging_during_battery_side_measurement",
    }
)
# Fuel gauges sit on the battery side: while charging they measure the charger, not the workload (§7.2, §10).
BATTERY_SIDE_SCOPES = frozenset({"battery_rail"})
BATTERY_SIDE_METHODS = frozenset({"android_fuel_gauge"})
CHARGING_TRACE_FLAGS = frozenset({"charging", "not_discharging"})


def _check_times(t_s: FloatArray, source: str) -> None:
    """Integration needs at least two samples and strictly increasing time (re-time repeated stamps first)."""
    if t_s.size < 2:
        raise FormatError(source, f"a power trace needs at least 2 samples, got {t_s.size}")
    repeated = np.flatnonzero(np.diff(t_s) <= 0)
    if repeated.size:
        k = int(repeated[0]) + 1
        raise FormatError(
            source,
            f"timestamps must increase strictly: sample {k} at t={t_s[k]} s follows t={t_s[k - 1]} s "
            "(re-time repeated packet stamps before integrating)",
        )


def _check_window(t_s: FloatArray, start_s: float, end_s: float, source: str) -> None:
    """The trace must cover the window: extrapolating beyond the first or last sample would invent energy."""
    if not end_s > start_s:
        raise FormatError(source, f"empty energy window [{start_s}, {end_s}] s")
    if start_s < t_s[0] or end_s > t_s[-1]:
        raise FormatError(
            source, f"energy window [{start_s}, {end_s}] s is not covered by the trace [{t_s[0]}, {t_s[-1]}] s"
        )


def trapezoid_energy(
    t_s: Sequence[float] | FloatArray,
    power_w: Sequence[float] | FloatArray,
    start_s: float,
    end_s: float,
    *,
    source: str = "power trace",
) -> float:
    """Energy (J) of a power trace over [start_s, end_s]: E = Σ ½ (P_k + P_k+1)(t_k+1 − t_k).

    Window edges rarely fall on samples, so the power at each edge is linearly interpolated and the partial
    intervals at both ends are integrated too (§10 step 5: "clip the window edges by linear interpolation").
    """
    t = np.asarray(t_s, dtype=np.float64)
    p = np.asarray(power_w, dtype=np.float64)
    if t.shape != p.shape:
        raise FormatError(source, f"{t.size} timestamps but {p.size} power values")
    _check_times(t, source)
    _check_window(t, start_s, end_s, source)
    inside = (t > start_s) & (t < end_s)
    edges = np.interp([start_s, end_s], t, p)
    tw = np.concatenate(([start_s], t[inside], [end_s]))
    pw = np.concatenate(([edges[0]], p[inside], [edges[1]]))
    return float(np.sum(0.5 * (pw[1:] + pw[:-1]) * np.diff(tw)))


def unwrap_counter(
    energy_j: Sequence[float] | FloatArray, *, counter_max_j: float | None, source: str = "energy counter"
) -> FloatArray:
    """A cumulative counter made monotonic: each drop is one wrap to 0 after `counter_max_j` (RAPL
    `max_energy_range_uj`, §7.4), so the range is added back from there on.

    A counter that drops without a known range cannot be told apart from a reset, so that is an error rather than
    a guess. Two wraps between consecutive samples cannot be seen; the sampler reads far more often than that.
    """
    e = np.asarray(energy_j, dtype=np.float64)
    drops = np.diff(e) < 0
    if drops.any() and counter_max_j is None:
        k = int(np.flatnonzero(drops)[0]) + 1
        raise FormatError(
            source,
            f"cumulative counter went down at sample {k} ({e[k - 1]} -> {e[k]} J) and the counter's range is "
            "unknown, so the wraparound cannot be undone",
        )
    wraps = np.concatenate(([0.0], np.cumsum(drops)))
    return e + wraps * (counter_max_j or 0.0)


def counter_energy(
    t_s: Sequence[float] | FloatArray,
    energy_j: Sequence[float] | FloatArray,
    start_s: float,
    end_s: float,
    *,
    counter_max_j: float | None,
    source: str = "energy counter",
) -> float:
    """Energy (J) over [start_s, end_s] from a cumulative counter: C(t_end) − C(t_start).

    The counter is unwrapped first, then read at the window edges by linear interpolation between updates
    (§10 step 5, cumulative counters); no integration is needed.
    """
    t = np.asarray(t_s, dtype=np.float64)
    if t.shape != np.shape(energy_j):
        raise FormatError(source, f"{t.size} timestamps but {np.size(energy_j)} counter values")
    _check_times(t, source)
    _check_window(t, start_s, end_s, source)
    c = np.interp([start_s, end_s], t, unwrap_counter(energy_j, counter_max_j=counter_max_j, source=source))
    return float(c[1] - c[0])


def window_energy(trace: PowerTrace, start_s: float, end_s: float) -> float:
    """Gross energy (J) of one trace over a window, by the rule its kind needs (trapezoid or counter delta)."""
    if trace.energy_j is not None:
        return counter_energy(
            trace.t_s, trace.energy_j, start_s, end_s, counter_max_j=trace.counter_max_j, source=trace.source
        )
    assert trace.power_w is not None  # PowerTrace guarantees exactly one of the two
    return trapezoid_energy(trace.t_s, trace.power_w, start_s, end_s, source=trace.source)


@dataclass(frozen=True)
class Baseline:
    """Idle power measured in the same state as the run (app loaded, nothing running), §10 step 2."""

    power_w: float
    window_s: float
    method: str


def measure_baseline(trace: PowerTrace, start_s: float, end_s: float, *, when: str = "pre_run") -> Baseline:
    """P_base = (integral of power over the idle window) / its length."""
    window = end_s - start_s
    return Baseline(window_energy(trace, start_s, end_s) / window, window, f"idle_same_state_{when}_{window:g}s")


@dataclass(frozen=True)
class EnergyEstimate:
    """An energy figure and every validity rule it broke; `usable` is False when a broken rule makes it wrong."""

    figure: EnergyFigure
    flags: tuple[str, ...]

    @property
    def usable(self) -> bool:
        return not BLOCKING_FLAGS.intersection(self.flags)


def _validity_flags(
    trace: PowerTrace, start_s: float, end_s: float, rate_hz: float, charging: bool | None
) -> list[str]:
    """The §10.9 rules for one window of one trace, as flags (never silently dropped)."""
    window = end_s - start_s
    in_window = (trace.t_s >= start_s) & (trace.t_s <= end_s)
    flags = []
    if trace.energy_j is None:
        if int(in_window.sum()) < MIN_SAMPLES_IN_WINDOW:
            flags.append("fewer_than_10_samples_in_window")
        if rate_hz * window < MIN_SAMPLES_IN_WINDOW:
            flags.append("rate_times_window_below_10")
        if window < MIN_WINDOW_S:
            flags.append("window_shorter_than_1s")
        if rate_hz < LOW_RATE_HZ and window < MIN_WINDOW_1HZ_METER_S:
            flags.append("window_shorter_than_60s_for_1hz_meter")
    elif trace.method == "odpm_power_rails":
        updates = int(np.count_nonzero(np.diff(trace.energy_j[in_window])))
        if updates < MIN_ODPM_COUNTER_UPDATES:
            flags.append("fewer_than_20_counter_updates")
    if window < RECOMMENDED_MIN_WINDOW_S:
        flags.append("window_shorter_than_10s")
    if trace.scope in BATTERY_SIDE_SCOPES or trace.method in BATTERY_SIDE_METHODS:
        if charging or CHARGING_TRACE_FLAGS.intersection(trace.flags):
            flags.append("charging_during_battery_side_measurement")
        elif charging is None:
            flags.append("charging_state_unknown")
    return flags


def estimate_energy(
    trace: PowerTrace,
    start_s: float,
    end_s: float,
    *,
    inferences: int | None = None,
    prefill_tokens: int | None = None,
    decode_tokens: int | None = None,
    baseline: Baseline | None = None,
    baseline_after: Baseline | None = None,
    charging: bool | None = None,
) -> EnergyEstimate:
    """Gross and net energy of a window of back-to-back work, per inference or per token (§10 steps 5-7, 9).

    E_inf,gross = E_gross / N; E_inf,net = (E_gross − P_base·T) / N; P̄_gross = E_gross / T; P̄_net = P̄_gross − P_base.
    For LLMs prefill and decode are measured in separate windows, so one call takes exactly one count; per-token
    figures are net (§10 step 7), hence need a baseline. Net figures are only reported with a baseline; a second
    baseline taken after the run flags a drift above 5 %. `charging` is the charger state during the window when
    the caller knows it (battery-side methods are invalid while charging).
    """
    counts = {"inferences": inferences, "prefill_tokens": prefill_tokens, "decode_tokens": decode_tokens}
    given = [name for name, count in counts.items() if count is not None]
    if len(given) != 1:
        raise ValueError(f"give exactly one of {list(counts)} per window, got {given}")
    count = counts[given[0]]
    assert count is not None
    if count <= 0:
        raise FormatError(trace.source, f"{given[0]} in the energy window must be positive, got {count}")
    window = end_s - start_s
    gross = window_energy(trace, start_s, end_s)
    rate = trace.sampling_rate_hz or trace.effective_rate_hz or 0.0
    flags = list(trace.flags) + _validity_flags(trace, start_s, end_s, rate, charging)
    net: float | None = None
    if baseline is None:
        flags.append("no_baseline_net_not_reported")
    else:
        net = gross - baseline.power_w * window
        if net <= 0:
            flags.append("net_energy_not_positive")
        if baseline_after is not None and baseline.power_w > 0:
            drift = abs(baseline_after.power_w - baseline.power_w) / baseline.power_w
            if drift > MAX_BASELINE_DRIFT:
                flags.append("baseline_drift_over_5pct")
    figure = EnergyFigure(
        scope=trace.scope,
        method=trace.method,
        rail=trace.rail,
        sampling_rate_hz=rate,
        window_s=window,
        inferences_in_window=inferences,
        prefill_tokens_in_window=prefill_tokens,
        decode_tokens_in_window=decode_tokens,
        energy_gross_j=gross,
        avg_power_gross_w=gross / window,
        baseline_power_w=None if baseline is None else baseline.power_w,
        baseline_method=None if baseline is None else baseline.method,
        energy_net_j=net,
        avg_power_net_w=None if net is None else net / window,
        energy_per_inference_gross_j=None if inferences is None else gross / inferences,
        energy_per_inference_net_j=None if inferences is None or net is None else net / inferences,
        energy_per_prefill_token_j=None if prefill_tokens is None or net is None else net / prefill_tokens,
        energy_per_decode_token_j=None if decode_tokens is None or net is None else net / decode_tokens,
        integration="counter_delta" if trace.energy_j is not None else "trapezoid",
    )
    return EnergyEstimate(figure, tuple(flags))
