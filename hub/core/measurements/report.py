"""The nested device measurement record (research notes §9 of device-measurement.md).

One run of one tool on one device, with the raw samples, the protocol and the provenance that make the figures
re-checkable. `MeasurementReport.records()` flattens it into the flat `MeasurementRecord`s the store writes, so
every parser fills the rich document and the store still gets rows (`hub.core.measurements.record`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.core.measurements.record import (
    METRIC_UNITS,
    EnergyIntegration,
    EnergyMethod,
    EnergyScope,
    MeasurementRecord,
    PeakKind,
    Provenance,
    RateDefinition,
    StatsSource,
    ThroughputDefinition,
)

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
