"""Host figures around work that times its own inferences: the demo's baselines.

A baseline predicts a whole split and times every inference itself (warm-up excluded). `HostMonitor` wraps that
pass with the measurement runner's own instruments — the power sampler over the sysfs root, thermal zones, the
process's peak RSS — and turns everything into the same canonical report `mobench measure` writes: latency
statistics from the raw per-sample timings, memory, thermal, and energy per inference when a power source exists
(else the reason there is none). The energy window is the whole pass, so it also covers reading inputs and writing
predictions; the figure carries the flag `window_spans_whole_pass` and is gross energy per inference.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from hub.core.measurements.report import MeasurementReport, MemoryFigure, ModelInfo, Protocol, RuntimeInfo
from hub.core.version import mobench_version
from submissions.measurements.base import latency_from_samples
from submissions.runner.figures import RUNNER, RUNNER_VERSION, energy_figures, runner_provenance, thermal_figures
from submissions.runner.host_info import host_device_info, peak_rss_bytes, read_thermal
from submissions.runner.measure import Clock, MeasureResult
from submissions.runner.power import Discovery, PowerSampler, SampledChannel, discover

WHOLE_PASS_FLAG = "window_spans_whole_pass"


class HostMonitor:
    """`with HostMonitor() as monitor: timing = work()`, then `monitor.result(...)`."""

    def __init__(
        self, sysfs_root: Path = Path("/sys"), *, sample_interval_s: float = 0.02, clock: Clock = time.perf_counter
    ):
        self.sysfs_root = sysfs_root
        self.clock = clock
        self._discovery: Discovery = discover(sysfs_root)
        self._sampler = (
            PowerSampler(self._discovery.channels, interval_s=sample_interval_s, clock=clock)
            if self._discovery.channels
            else None
        )
        self._sampled: tuple[SampledChannel, ...] = ()
        self.start_s = 0.0
        self.end_s = 0.0
        self._thermal_start: dict[str, float] = {}
        self._thermal_end: dict[str, float] = {}

    def __enter__(self) -> HostMonitor:
        self._thermal_start = read_thermal(self.sysfs_root)
        if self._sampler is not None:
            self._sampler.start()
        self.start_s = self.clock()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.end_s = self.clock()
        if self._sampler is not None:
            self._sampler.stop()
            self._sampled = tuple(self._sampler.results())
        self._thermal_end = read_thermal(self.sysfs_root)

    def result(
        self,
        latencies_s: Sequence[float],
        *,
        warmup: int,
        model: ModelInfo,
        runtime: RuntimeInfo,
        tool: str,
        source_file: str,
    ) -> MeasureResult:
        """The canonical report of the monitored pass; `latencies_s` are the measured (post-warm-up) inferences."""
        flags = ["rss_peak_is_whole_process_lifetime"]
        figures, absent = energy_figures(self._sampled, self.start_s, self.end_s, inferences=len(latencies_s) + warmup)
        if self._sampler is None:
            absent.insert(0, self._discovery.no_source_reason(self.sysfs_root))
            flags.append("no_power_source")
        common: dict[str, Any] = {
            "model": model,
            "device": host_device_info(self.sysfs_root),
            "runtime": runtime,
            "source_file": source_file,
            "protocol": Protocol(
                tool=tool,
                tool_version=mobench_version(),
                warmup_runs=warmup,
                measured_runs=len(latencies_s),
                repetitions=1,
                duration_s=self.end_s - self.start_s,
            ),
        }

        reports = [
            MeasurementReport(
                label="pass",
                latency=latency_from_samples(latencies_s),
                memory=[
                    MemoryFigure(peak_kind="process_rss_peak", peak_bytes=float(peak_rss_bytes()), phase="inference")
                ],
                thermal=thermal_figures(self._thermal_start, self._thermal_end),
                provenance=runner_provenance(flags),
                **common,
            )
        ]
        for figure, energy_flags in figures:
            reports.append(
                MeasurementReport(
                    label=f"pass energy {figure.method} {figure.rail or figure.scope}",
                    energy=[figure],
                    provenance=runner_provenance([*flags, *energy_flags, WHOLE_PASS_FLAG]),
                    **common,
                )
            )
        return MeasureResult(
            format=RUNNER,
            source_file=source_file,
            sha256=model.artifact_sha256 or "",
            reports=reports,
            traces=[r.trace for r in self._sampled if r.trace is not None],
            flags=[*flags, *absent],
            parser_version=RUNNER_VERSION,
            energy_absent=absent,
        )
