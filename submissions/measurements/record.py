"""The canonical measurement record: one latency / memory / energy figure with everything needed to judge it.

Figures are only comparable when they were taken the same way, so each record carries its *scope* (what was
measured: a process, the SoC, a rail, the whole device) and *method* (how: wall-clock timer, external power
monitor, fuel gauge, on-chip counter, vendor profiler) next to the value; the store and the leaderboard never
rank records of different scope or method against each other. Values are in SI units (s, B, J, W); the original
text the value was read from is kept for audit.

Two shapes live here:

- `MeasurementRecord` is flat, one figure per row, because that is what the store writes and the leaderboard
  ranks.
- `MeasurementReport` is the nested "device measurement record" of the research notes (§9 of
  device-measurement.md): one run of one tool on one device, with the raw samples, the protocol and the
  provenance that make the figures re-checkable. `MeasurementReport.records()` flattens it into
  `MeasurementRecord`s, so every parser fills the rich document and the store still gets rows.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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


# ---------------------------------------------------------------------------------------------------------------
# The nested report (research notes §9). Units are in the field names; every field a tool may not give is
# optional, every field whose absence would make a figure misleading is required.
# ---------------------------------------------------------------------------------------------------------------


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelInfo(_Block):
    model_id: str = ""
    artifact_sha256: str | None = Field(default=None, description="sha256 of the timed model file")
    format: str | None = Field(default=None, description="tflite, onnx, gguf, pte, mlpackage, qnn_context, ...")
    precision: str | None = None
    quantization_scheme: str | None = None
    params_count: int | None = Field(default=None, ge=0)
    size_bytes: int | None = Field(default=None, ge=0)


class DeviceInfo(_Block):
    device_name: str = ""
    manufacturer: str | None = None
    model_code: str | None = None
    soc: str | None = None
    soc_model_code: str | None = None
    cpu: str | None = None
    accelerators: list[str] = Field(default_factory=list)
    ram_bytes: int | None = Field(default=None, ge=0)
    form_factor: str | None = None
    os: str | None = None
    os_version: str | None = None
    os_build: str | None = None
    is_proxy_device: bool | None = Field(default=None, description="AI Hub '(Proxy)': same SoC family only")


class RuntimeInfo(_Block):
    framework: str = ""
    framework_version: str | None = None
    build_id: str | None = None
    backend: str | None = Field(default=None, description="cpu, gpu, npu, dsp, ane, mixed")
    delegate_or_ep: str | None = None
    compute_unit_breakdown: dict[str, int] | None = None
    fallback_detected: bool | None = None
    num_threads: int | None = None
    cpu_affinity_mask: str | None = None
    batch_size: int | None = None
    power_mode: str | None = None
    extra: dict[str, str | int | float | bool | None] = Field(default_factory=dict)


class Workload(_Block):
    task: str | None = None
    input_shape: str | None = None
    prompt_tokens: int | None = Field(default=None, ge=0)
    gen_tokens: int | None = Field(default=None, ge=0)
    context_depth_tokens: int | None = Field(default=None, ge=0)


class Protocol(_Block):
    tool: str
    tool_version: str = ""
    warmup_runs: int | None = Field(default=None, ge=0)
    measured_runs: int | None = Field(default=None, ge=0)
    repetitions: int | None = Field(default=None, ge=0)
    duration_s: float | None = Field(default=None, ge=0)
    min_duration_s: float | None = Field(default=None, ge=0)
    cooldown_s: float | None = Field(default=None, ge=0)
    scenario: str | None = None
    screen_state: str | None = None
    airplane_mode: bool | None = None
    charging: bool | None = None
    ambient_temp_c: float | None = None


class LatencyStats(_Block):
    """Per-inference latency in seconds; init, first inference and warm load are kept apart from steady state."""

    samples_s: list[float] | None = Field(default=None, description="raw per-run latencies, warm-up excluded")
    n: int | None = Field(default=None, ge=0)
    mean_s: float | None = None
    std_s: float | None = Field(default=None, ge=0)
    min_s: float | None = None
    max_s: float | None = None
    p5_s: float | None = None
    trimmed_mean_s: float | None = Field(default=None, description="ExecuTorch trimmean: 10 % cut at each end")
    tool_estimate_s: float | None = Field(default=None, description="a tool headline of unstated statistic")
    p50_s: float | None = None
    p90_s: float | None = None
    p95_s: float | None = None
    p99_s: float | None = None
    first_inference_s: float | None = None
    init_s: float | None = None
    warm_load_s: float | None = None
    model_load_s: float | None = None
    compile_s: float | None = None
    stats_source: StatsSource
    scope: str = Field(default="process", description="what the timer wrapped: process, inference call, ...")
    method: str = "wall-clock timer"

    @model_validator(mode="after")
    def _samples_agree_with_n(self) -> LatencyStats:
        if self.samples_s is not None and self.n is not None and len(self.samples_s) != self.n:
            raise ValueError(f"latency: {len(self.samples_s)} samples but n={self.n}")
        return self


class Throughput(_Block):
    inferences_per_s: float = Field(gt=0)
    definition: ThroughputDefinition
    stats_source: StatsSource = "reported_by_tool"


class LLMRates(_Block):
    prefill_tokens_per_s: float | None = Field(default=None, gt=0)
    decode_tokens_per_s: float | None = Field(default=None, gt=0)
    combined_tokens_per_s: float | None = Field(default=None, gt=0)
    combined_tokens_per_s_std: float | None = Field(default=None, ge=0)
    prefill_tokens_per_s_std: float | None = Field(default=None, ge=0)
    decode_tokens_per_s_std: float | None = Field(default=None, ge=0)
    prefill_samples_tokens_per_s: list[float] | None = None
    decode_samples_tokens_per_s: list[float] | None = None
    ttft_s: float | None = None
    tpot_s: float | None = None
    e2e_s: float | None = None
    rate_definition: RateDefinition
    stats_source: StatsSource = "reported_by_tool"


class MemoryFigure(_Block):
    peak_kind: PeakKind
    peak_bytes: float | None = Field(default=None, ge=0)
    peak_range_bytes: tuple[float, float] | None = None
    model_load_delta_bytes: float | None = None
    phase: str = Field(default="inference", description="inference, first_load, warm_load, compile")


class EnergyFigure(_Block):
    """Energy over a window of back-to-back inferences; net figures only exist with a measured baseline."""

    scope: EnergyScope
    method: EnergyMethod
    rail: str = ""
    meter_model: str | None = None
    sampling_rate_hz: float = Field(gt=0)
    supply_voltage_v: float | None = None
    window_s: float = Field(gt=0)
    inferences_in_window: int | None = Field(default=None, gt=0)
    prefill_tokens_in_window: int | None = Field(default=None, gt=0)
    decode_tokens_in_window: int | None = Field(default=None, gt=0)
    energy_gross_j: float = Field(ge=0)
    avg_power_gross_w: float = Field(ge=0)
    baseline_power_w: float | None = Field(default=None, ge=0)
    baseline_method: str | None = None
    energy_net_j: float | None = Field(description="required: None states explicitly that no baseline exists")
    avg_power_net_w: float | None = None
    energy_per_inference_gross_j: float | None = Field(default=None, ge=0)
    energy_per_inference_net_j: float | None = None
    energy_per_prefill_token_j: float | None = None
    energy_per_decode_token_j: float | None = None
    uncertainty_pct: float | None = Field(default=None, ge=0)
    integration: EnergyIntegration

    @model_validator(mode="after")
    def _net_needs_baseline(self) -> EnergyFigure:
        net = (self.energy_net_j, self.avg_power_net_w, self.energy_per_inference_net_j)
        if self.baseline_power_w is None and any(v is not None for v in net):
            raise ValueError("energy: net figures given without a baseline_power_w")
        if self.baseline_power_w is not None and self.energy_net_j is None:
            raise ValueError("energy: a baseline was measured but energy_net_j is missing")
        return self


class ThermalFigure(_Block):
    sensor: str
    start_c: float | None = None
    end_c: float | None = None
    max_c: float | None = None
    throttling_detected: bool | None = None


class RawArtifact(_Block):
    kind: str = Field(description="the parser's format name, e.g. tflite-benchmark-model, monsoon-csv")
    sha256: str
    uri: str = ""


class ProvenanceInfo(_Block):
    provenance: Provenance = "self-reported"
    raw_artifacts: list[RawArtifact] = Field(default_factory=list)
    parser: str
    parser_version: str
    original_units: dict[str, str] = Field(default_factory=dict)
    validation_flags: list[str] = Field(default_factory=list)
    original_text: str = Field(default="", description="the source lines the figures were read from")


class MeasurementReport(_Block):
    """One run of one tool on one device (research notes §9), flattened by `records()` for the store."""

    schema_version: Literal["1.0"] = "1.0"
    label: str = Field(default="", description="which test inside the file: llama-bench test name, benchmark id")
    model: ModelInfo = Field(default_factory=ModelInfo)
    device: DeviceInfo = Field(default_factory=DeviceInfo)
    runtime: RuntimeInfo = Field(default_factory=RuntimeInfo)
    workload: Workload = Field(default_factory=Workload)
    protocol: Protocol
    latency: LatencyStats | None = None
    throughput: list[Throughput] = Field(default_factory=list)
    llm: LLMRates | None = None
    memory: list[MemoryFigure] = Field(default_factory=list)
    energy: list[EnergyFigure] = Field(default_factory=list)
    thermal: list[ThermalFigure] = Field(default_factory=list)
    provenance: ProvenanceInfo
    source_file: str = ""

    def records(self) -> list[MeasurementRecord]:
        """One flat `MeasurementRecord` per figure, each carrying the report's provenance and flags."""
        out: list[MeasurementRecord] = []
        prov = self.provenance
        sha = prov.raw_artifacts[0].sha256 if prov.raw_artifacts else ""
        common = {
            "tool": self.protocol.tool,
            "tool_version": self.protocol.tool_version,
            "parser": prov.parser,
            "parser_version": prov.parser_version,
            "provenance": prov.provenance,
            "source_file": self.source_file,
            "raw_sha256": sha,
            "model_sha256": self.model.artifact_sha256 or "",
            "validation_flags": list(prov.validation_flags),
            "original_text": prov.original_text,
        }

        def add(metric: str, statistic: str, value: float | None, **kw: object) -> None:
            if value is None:
                return
            fields: dict[str, object] = {**common, **kw}
            fields.setdefault("scope", "process")
            fields.setdefault("method", "tool report")
            out.append(
                MeasurementRecord(metric=metric, statistic=statistic, value=value, unit=METRIC_UNITS[metric], **fields)  # type: ignore[arg-type]
            )

        lat = self.latency
        if lat is not None:
            timed = {
                "n": lat.n,
                "warmup": self.protocol.warmup_runs,
                "scope": lat.scope,
                "method": lat.method,
                "stats_source": lat.stats_source,
            }
            for stat, value in (
                ("mean", lat.mean_s), ("std", lat.std_s), ("min", lat.min_s), ("max", lat.max_s),
                ("p5", lat.p5_s), ("median", lat.p50_s), ("p90", lat.p90_s), ("p95", lat.p95_s),
                ("p99", lat.p99_s), ("trimmed_mean_10pct", lat.trimmed_mean_s),
                ("tool_estimate", lat.tool_estimate_s),
            ):  # fmt: skip
                add("latency", stat, value, **timed)
            once = {"scope": lat.scope, "method": lat.method, "stats_source": lat.stats_source}
            add("init_latency", "single", lat.init_s, **once)
            add("first_inference_latency", "single", lat.first_inference_s, **once)
            add("warm_load_latency", "single", lat.warm_load_s, **once)
            add("model_load_latency", "single", lat.model_load_s, **once)
            add("compile_latency", "single", lat.compile_s, **once)
        for tp in self.throughput:
            add("throughput", "rate", tp.inferences_per_s, definition=tp.definition, stats_source=tp.stats_source)
        if self.llm is not None:
            llm = self.llm
            rates = {
                "definition": llm.rate_definition,
                "stats_source": llm.stats_source,
                "n": self.protocol.repetitions,
            }
            add("prefill_rate", "mean", llm.prefill_tokens_per_s, **rates)
            add("prefill_rate", "std", llm.prefill_tokens_per_s_std, **rates)
            add("decode_rate", "mean", llm.decode_tokens_per_s, **rates)
            add("decode_rate", "std", llm.decode_tokens_per_s_std, **rates)
            add("combined_token_rate", "mean", llm.combined_tokens_per_s, **rates)
            add("combined_token_rate", "std", llm.combined_tokens_per_s_std, **rates)
            add("ttft", "single", llm.ttft_s, stats_source=llm.stats_source)
            add("tpot", "mean", llm.tpot_s, stats_source=llm.stats_source)
            add("e2e_latency", "single", llm.e2e_s, stats_source=llm.stats_source)
        for mem in self.memory:
            kind = {"definition": mem.peak_kind, "scope": "process", "method": mem.peak_kind}
            add("peak_memory", f"{mem.phase}_peak", mem.peak_bytes, **kind)
            if mem.peak_range_bytes is not None:
                add("peak_memory", f"{mem.phase}_range_min", mem.peak_range_bytes[0], **kind)
                add("peak_memory", f"{mem.phase}_range_max", mem.peak_range_bytes[1], **kind)
            add("load_memory_delta", mem.phase, mem.model_load_delta_bytes, scope="process", method=mem.peak_kind)
        for en in self.energy:
            where = {
                "scope": en.scope,
                "method": en.method,
                "rail": en.rail,
                "sampling_rate_hz": en.sampling_rate_hz,
                "window_s": en.window_s,
                "definition": en.integration,
                "n": en.inferences_in_window,
            }
            add("energy", "gross", en.energy_gross_j, **where)
            add("energy", "net", en.energy_net_j, **where)
            add("average_power", "gross", en.avg_power_gross_w, **where)
            add("average_power", "net", en.avg_power_net_w, **where)
            add("average_power", "baseline", en.baseline_power_w, **where)
            add("energy_per_inference", "gross", en.energy_per_inference_gross_j, **where)
            add("energy_per_inference", "net", en.energy_per_inference_net_j, **where)
            add("energy_per_token", "prefill_net", en.energy_per_prefill_token_j, **where)
            add("energy_per_token", "decode_net", en.energy_per_decode_token_j, **where)
        for th in self.thermal:
            sensor = {"scope": th.sensor, "method": "thermal sensor"}
            add("temperature", "start", th.start_c, **sensor)
            add("temperature", "end", th.end_c, **sensor)
            add("temperature", "max", th.max_c, **sensor)
        return out
