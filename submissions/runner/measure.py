"""`mobench measure`: time a model on the machine this runs on and write a measurement record.

Protocol (research notes §8.6 and §10): load (init time) → first inference (cold start, kept apart) → idle
baseline (only when a power source exists) → warm-up (≥ N runs and ≥ T s, excluded) → warm measured run (≥ N
iterations and ≥ T seconds, raw per-iteration latencies kept) → sustained back-to-back run (default 10 min) →
second idle baseline (drift check). Energy per inference is integrated over the warm and sustained windows for
every power channel the sysfs root exposes; with no channel the result says why and carries no energy figure.
The throttling ratio is sustained p50 / warm p50; thermal zones are read at the start and end of each phase.

onnxruntime and ai-edge-litert are imported inside the backends (the `measure` extra), so importing this module
never needs them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hub.core.errors import FormatError, MobenchError
from hub.core.hashing import sha256_file
from hub.core.measurements.record import MeasurementFile, MeasurementRecord
from hub.core.measurements.report import (
    EnergyFigure,
    LatencyStats,
    MeasurementReport,
    MemoryFigure,
    ModelInfo,
    Protocol,
    RuntimeInfo,
    ThermalFigure,
    Throughput,
    Workload,
)
from hub.core.measurements.statistics import nearest_rank_percentile
from hub.core.version import mobench_version
from submissions.measurements.base import ParseResult, latency_from_samples
from submissions.runner.figures import RUNNER, RUNNER_VERSION, energy_figures, runner_provenance, thermal_figures
from submissions.runner.host_info import current_rss_bytes, host_device_info, peak_rss_bytes, read_thermal
from submissions.runner.power import PowerSampler, discover
from submissions.runner.sessions import Session, load_litert, load_onnxruntime

Backend = Literal["onnxruntime", "litert"]
Clock = Callable[[], float]

# §10 step 8: latency drift over 10 % within a window means the device throttled.
THROTTLING_RATIO_LIMIT = 1.10


@dataclass(frozen=True)
class Phase:
    """Back-to-back inferences with their raw latencies and the window they span on the measurement clock."""

    samples_s: list[float]
    start_s: float
    end_s: float
    thermal_start: dict[str, float]
    thermal_end: dict[str, float]


def _run_phase(session: Session, *, min_iterations: int, min_seconds: float, clock: Clock, sysfs_root: Path) -> Phase:
    thermal_start = read_thermal(sysfs_root)
    samples: list[float] = []
    start = clock()
    now = start
    while len(samples) < min_iterations or now - start < min_seconds:
        t0 = clock()
        session.run()
        now = clock()
        samples.append(now - t0)
    return Phase(samples, start, now, thermal_start, read_thermal(sysfs_root))


@dataclass
class MeasureResult(ParseResult):
    """Everything one `mobench measure` run produced, in the shape the log parsers give (so `to_json()` is the
    same canonical JSON, raw latencies and power traces included).

    Reports: "warm" (init, cold start, warm latencies, throughput, memory), "sustained" (its latencies, thermal,
    throttling) and one energy report per usable power channel. In the flat records the sustained latencies are
    `sustained_latency`, so that `latency` always means warm steady state. `energy_absent` says why some or all
    energy figures are missing; `throttling_ratio` is sustained p50 / warm p50.
    """

    energy_absent: list[str] = field(default_factory=list)
    throttling_ratio: float | None = None

    def records(self) -> list[MeasurementRecord]:
        out = []
        for report in self.reports:
            for record in report.records():
                if report.label == "sustained" and record.metric == "latency":
                    record = record.model_copy(update={"metric": "sustained_latency"})
                out.append(record)
        return out + list(self.extra_records)

    def to_file(self) -> MeasurementFile:
        """The `mobench-records` JSON a submission's measurements/ folder holds (flat records only)."""
        return MeasurementFile(records=self.records())

    def energy(self) -> list[EnergyFigure]:
        return [e for report in self.reports for e in report.energy]


def measure(
    model_path: Path,
    backend: Backend = "onnxruntime",
    input: Path | None = None,
    *,
    warmup: int = 10,
    warmup_seconds: float = 5.0,
    min_iterations: int = 50,
    min_seconds: float = 10.0,
    sustained_seconds: float = 600.0,
    baseline_seconds: float = 30.0,
    threads: int | None = None,
    sysfs_root: Path = Path("/sys"),
    sample_interval_s: float = 0.02,
    clock: Clock = time.perf_counter,
) -> MeasureResult:
    """Measure `model_path` on this machine; see the module docstring for the protocol.

    `sustained_seconds=0` skips the sustained run; `baseline_seconds=0` skips the idle baselines (no net energy).
    """
    loaders = {"onnxruntime": load_onnxruntime, "litert": load_litert}
    if backend not in loaders:
        raise MobenchError(f"unknown backend {backend!r}: choose one of {sorted(loaders)}")
    if not model_path.is_file():
        raise FormatError(model_path, "model file not found")
    model_sha = sha256_file(model_path)
    discovery = discover(sysfs_root)
    sampler = (
        PowerSampler(discovery.channels, interval_s=sample_interval_s, clock=clock) if discovery.channels else None
    )
    rss_before = current_rss_bytes()
    if sampler is not None:
        sampler.start()
    try:
        t0 = clock()
        session, input_source = loaders[backend](model_path, input, threads)
        init_s = clock() - t0
        rss_after_load = current_rss_bytes()
        t0 = clock()
        session.run()
        first_s = clock() - t0
        baseline = (clock(), _idle(baseline_seconds, clock)) if sampler is not None and baseline_seconds > 0 else None
        _run_phase(session, min_iterations=warmup, min_seconds=warmup_seconds, clock=clock, sysfs_root=sysfs_root)
        warm = _run_phase(
            session, min_iterations=min_iterations, min_seconds=min_seconds, clock=clock, sysfs_root=sysfs_root
        )
        sustained = (
            _run_phase(session, min_iterations=1, min_seconds=sustained_seconds, clock=clock, sysfs_root=sysfs_root)
            if sustained_seconds > 0
            else None
        )
        baseline_after = (clock(), _idle(baseline_seconds, clock)) if baseline is not None else None
    finally:
        if sampler is not None:
            sampler.stop()
    peak = peak_rss_bytes()

    flags: list[str] = ["rss_peak_is_whole_process_lifetime"]
    sampled = tuple(sampler.results()) if sampler is not None else ()
    # Energy over the longest steady back-to-back window: the sustained run when there is one (§10 step 4).
    energy_label, energy_phase = ("sustained", sustained) if sustained is not None else ("warm", warm)
    energy_reports, absent = energy_figures(
        sampled,
        energy_phase.start_s,
        energy_phase.end_s,
        inferences=len(energy_phase.samples_s),
        baseline=baseline,
        baseline_after=baseline_after,
    )
    if sampler is None:
        absent.insert(0, discovery.no_source_reason(sysfs_root))
        flags.append("no_power_source")
    if sampled and not energy_reports:
        flags.append("no_usable_energy_figure")

    common: dict[str, Any] = {
        "model": ModelInfo(
            model_id=model_path.stem,
            artifact_sha256=model_sha,
            format=model_path.suffix.lstrip(".").lower() or None,
            size_bytes=model_path.stat().st_size,
        ),
        "device": host_device_info(sysfs_root),
        "runtime": RuntimeInfo(
            framework=session.framework,
            framework_version=session.version,
            backend="cpu",
            delegate_or_ep=session.delegate,
            num_threads=threads,
            batch_size=1,
            extra={"input": input_source, "power_sample_interval_s": sample_interval_s},
        ),
        "workload": Workload(input_shape=session.input_shapes),
        "source_file": str(model_path),
    }
    charging = [r.charging for r in sampled if r.charging is not None]

    def protocol(phase: Phase | None, measured: int | None) -> Protocol:
        return Protocol(
            tool="mobench measure",
            tool_version=mobench_version(),
            warmup_runs=warmup,
            measured_runs=measured,
            repetitions=1,
            duration_s=None if phase is None else phase.end_s - phase.start_s,
            min_duration_s=min_seconds,
            charging=any(charging) if charging else None,
        )

    def thermal(phase: Phase, throttled: bool | None = None) -> list[ThermalFigure]:
        return thermal_figures(phase.thermal_start, phase.thermal_end, throttled)

    load_delta = None if rss_before is None or rss_after_load is None else float(rss_after_load - rss_before)
    memory = [MemoryFigure(peak_kind="process_rss_peak", peak_bytes=float(peak), phase="inference")]
    if load_delta is not None:
        memory.append(MemoryFigure(peak_kind="rss_delta", model_load_delta_bytes=load_delta, phase="first_load"))
    reports = [
        MeasurementReport(
            label="warm",
            protocol=protocol(warm, len(warm.samples_s)),
            latency=latency_from_samples(warm.samples_s, init_s=init_s, first_inference_s=first_s),
            throughput=[
                Throughput(
                    inferences_per_s=len(warm.samples_s) / (warm.end_s - warm.start_s),
                    definition="measured_count_over_wall",
                    stats_source="computed_from_samples",
                )
            ],
            memory=memory,
            thermal=thermal(warm),
            provenance=runner_provenance(flags),
            **common,
        )
    ]
    extra_records: list[MeasurementRecord] = []
    ratio = None
    if sustained is not None:
        ratio = nearest_rank_percentile(sustained.samples_s, 50) / nearest_rank_percentile(warm.samples_s, 50)
        throttled = ratio > THROTTLING_RATIO_LIMIT
        sustained_flags = [*flags, *(["throttling_detected"] if throttled else [])]
        sustained_latency: LatencyStats = latency_from_samples(sustained.samples_s)
        reports.append(
            MeasurementReport(
                label="sustained",
                protocol=protocol(sustained, len(sustained.samples_s)),
                latency=sustained_latency,
                thermal=thermal(sustained, throttled),
                provenance=runner_provenance(sustained_flags),
                **common,
            )
        )
        extra_records.append(
            MeasurementRecord(
                metric="throttling_ratio",
                statistic="sustained_p50_over_warm_p50",
                value=100 * ratio,
                unit="%",
                n=len(sustained.samples_s),
                warmup=warmup,
                scope="process",
                method="wall-clock timer",
                tool="mobench measure",
                tool_version=mobench_version(),
                parser=RUNNER,
                parser_version=RUNNER_VERSION,
                provenance="measured-by-mobench",
                source_file=str(model_path),
                model_sha256=model_sha,
                stats_source="computed_from_samples",
                validation_flags=sustained_flags,
            )
        )
    for figure, energy_flags in energy_reports:
        reports.append(
            MeasurementReport(
                label=f"{energy_label} energy {figure.method} {figure.rail or figure.scope}",
                protocol=protocol(energy_phase, len(energy_phase.samples_s)),
                energy=[figure],
                provenance=runner_provenance([*flags, *energy_flags]),
                **common,
            )
        )
    return MeasureResult(
        format=RUNNER,
        source_file=str(model_path),
        sha256=model_sha,
        reports=reports,
        traces=[r.trace for r in sampled if r.trace is not None],
        extra_records=extra_records,
        flags=[*flags, *absent],
        parser_version=RUNNER_VERSION,
        energy_absent=absent,
        throttling_ratio=ratio,
    )


def _idle(seconds: float, clock: Clock) -> float:
    """Stay idle (model loaded, process alive) for `seconds`; return the end of the idle window."""
    end = clock() + seconds
    while (now := clock()) < end:
        time.sleep(min(0.05, end - now))
    return clock()


def run_measure(
    model_path: Path, *, out: Path | None = None, detail_out: Path | None = None, **options: Any
) -> MeasureResult:
    """What the CLI calls: `measure(...)`, then the flat `mobench-records` JSON written to `out` (what goes into a
    submission's measurements/ folder) and the full canonical JSON (raw latencies, traces) to `detail_out`."""
    result = measure(model_path, **options)
    for path, text in (
        (out, json.dumps(result.to_file().model_dump(mode="json"), indent=2)),
        (detail_out, result.to_json()),
    ):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text + "\n")
    return result
