"""The canonical measurement record: one latency / memory / energy figure with everything needed to judge it.

Figures are only comparable when they were taken the same way, so each record carries its *scope* (what was
measured: a process, the SoC, a rail, the whole device) and *method* (how: wall-clock timer, external power
monitor, fuel gauge, on-chip counter, vendor profiler) next to the value; the store and the leaderboard never
rank records of different scope or method against each other. Values are in SI units (s, B, J, W); the original
text the value was read from is kept for audit.

Two shapes:

- `MeasurementRecord` (here) is flat, one figure per row, because that is what the store writes and the
  leaderboard ranks.
- `MeasurementReport` (`hub.core.measurements.report`) is the nested "device measurement record" of the research
  notes (§9 of device-measurement.md): one run of one tool on one device, with the raw samples, the protocol and the
  provenance that make the figures re-checkable. `MeasurementReport.records()` flattens it into
  `MeasurementRecord`s, so every parser fills the rich document and the store still gets rows.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# "A*s" is electric charge (ampere-seconds, i.e. coulombs) spelled so it cannot be confused with "C" (°C).
Unit = Literal["s", "B", "J", "W", "1/s", "%", "C", "A*s"]
Provenance = Literal["self-reported", "measured-by-mobench"]
StatsSource = Literal["computed_from_samples", "reported_by_tool"]

# What a "peak memory" number is depends entirely on the tool (research notes §9): an RSS delta from the start
# of the tool is not a peak, a PSS delta is not an RSS, and AI Hub only gives an estimated range.
PeakKind = Literal["process_rss_peak", "rss_delta", "pss_delta", "accelerator_estimate_range", "working_set"]

# "Throughput" means different things per tool: ORT and LoadGen count queries over wall time, the MLPerf Mobile
# app reports 1/p90 (SingleStream) or its own sample count / p90 (Offline), AI Hub's perf.yaml 1e6/inference_time.
ThroughputDefinition = Literal[
    "measured_count_over_wall", "1_over_p90", "samples_over_p90", "1_over_mean", "1_over_tool_estimate"
]

# llama-bench averages per-repetition rates; llama.cpp perf lines and ExecuTorch divide tokens by time.
# The MLPerf Mobile app's token_throughput is 1 / mean(time per output token).
RateDefinition = Literal["mean_of_per_rep_rates", "tokens_over_total_time", "1_over_mean_tpot"]

# Energy figures of different scope or method are never ranked together (research notes §9, §10).
EnergyScope = Literal[
    "whole_device",  # battery bypass (Monsoon), fuel gauge: everything the battery feeds
    "battery_rail",
    "soc_rails",  # one or more on-chip rails (ODPM rails, Jetson CPU/GPU/SOC rails, powermetrics clusters)
    "module_input",  # Jetson VDD_IN: module input, not the carrier board
    "cpu_package",  # RAPL package domain
    "cpu_cores",  # RAPL core (pp0) domain
    "uncore",  # RAPL uncore / integrated GPU (pp1)
    "dram",  # RAPL dram domain
    "platform",  # RAPL psys
    "soc_cpu_gpu_ane",  # macOS powermetrics combined power
    "wall_ac",
]
EnergyMethod = Literal[
    "monsoon",
    "external_usb_meter",
    "odpm_power_rails",
    "android_fuel_gauge",
    "batterystats_estimate",
    "tegrastats",
    "ina3221_sysfs",
    "hwmon",
    "rapl",
    "powermetrics",
    "ptdaemon",
]
EnergyIntegration = Literal["trapezoid", "counter_delta", "mean_power_x_duration"]

# metric name -> its SI unit; a record whose unit disagrees is rejected.
METRIC_UNITS: dict[str, Unit] = {
    "latency": "s",
    "init_latency": "s",
    "first_inference_latency": "s",
    "model_load_latency": "s",
    "warm_load_latency": "s",
    "compile_latency": "s",
    "ttft": "s",  # time to first token
    "tpot": "s",  # time per output token
    "e2e_latency": "s",
    "peak_memory": "B",
    "load_memory_delta": "B",
    "model_size": "B",
    "energy": "J",  # over the measurement window
    "energy_per_inference": "J",
    "energy_per_token": "J",
    "average_power": "W",
    "throughput": "1/s",
    "prefill_rate": "1/s",  # tokens per second
    "decode_rate": "1/s",
    "combined_token_rate": "1/s",  # llama-bench pp+tg test: prompt and generated tokens over the whole time
    "cpu_utilisation": "%",
    "temperature": "C",
    "estimated_charge_drain": "A*s",
}

# metrics whose number means nothing without saying which definition produced it
_DEFINITION_REQUIRED: dict[str, tuple[str, ...]] = {
    "peak_memory": PeakKind.__args__,  # type: ignore[attr-defined]
    "throughput": ThroughputDefinition.__args__,  # type: ignore[attr-defined]
    "prefill_rate": RateDefinition.__args__,  # type: ignore[attr-defined]
    "decode_rate": RateDefinition.__args__,  # type: ignore[attr-defined]
    "combined_token_rate": RateDefinition.__args__,  # type: ignore[attr-defined]
}


class MeasurementRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str
    statistic: str = Field(description="mean, median, p90, max, total, ...")
    value: float
    unit: Unit
    n: int | None = Field(default=None, ge=0, description="measured iterations the statistic is taken over")
    warmup: int | None = Field(default=None, ge=0, description="iterations run before measuring, excluded")
    scope: str = Field(description="host CPU process, whole device, SoC, rail, process, ...")
    method: str = Field(description="wall-clock timer, external power monitor, fuel gauge, ...")
    tool: str
    tool_version: str = ""
    parser: str
    provenance: Provenance
    source_file: str = ""
    original_text: str = ""
    # --- optional additions (issue #4); every existing caller keeps working without them ---
    definition: str = Field(
        default="",
        description="peak_kind for peak_memory, throughput definition, LLM rate_definition, energy integration",
    )
    stats_source: StatsSource | None = None
    rail: str = Field(default="", description="power rail / counter name for energy and power figures")
    sampling_rate_hz: float | None = Field(default=None, gt=0)
    window_s: float | None = Field(default=None, gt=0, description="measurement window of an energy figure")
    parser_version: str = ""
    raw_sha256: str = Field(default="", description="sha256 of the raw log the figure was read from")
    model_sha256: str = Field(default="", description="sha256 of the model file that was timed")
    validation_flags: list[str] = Field(default_factory=list, description="every heuristic the parser applied")

    def model_post_init(self, __context: object) -> None:
        expected = METRIC_UNITS.get(self.metric)
        if expected is not None and expected != self.unit:
            raise ValueError(f"metric {self.metric!r} must be in {expected}, got {self.unit}")
        allowed = _DEFINITION_REQUIRED.get(self.metric)
        if allowed is not None and self.definition not in allowed:
            raise ValueError(f"metric {self.metric!r} needs definition in {list(allowed)}, got {self.definition!r}")


class MeasurementFile(BaseModel):
    """The JSON mobench itself writes into a submission's measurements/ folder (`mobench-records` format)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["mobench-records"] = "mobench-records"
    format_version: int = 1
    records: list[MeasurementRecord]
