"""The figures a runner pass reports besides latency: provenance, thermal state and energy per inference.

Shared by `mobench measure` and the demo's `HostMonitor`, so a figure means the same whichever of them took it.
"""

from __future__ import annotations

from collections.abc import Sequence

from evaluators.efficiency import BLOCKING_FLAGS, estimate_energy, measure_baseline
from hub.core.measurements.report import EnergyFigure, ProvenanceInfo, ThermalFigure
from submissions.runner.power import SampledChannel

RUNNER = "mobench-measure"
RUNNER_VERSION = "1.0"


def runner_provenance(flags: list[str]) -> ProvenanceInfo:
    """Provenance of every figure mobench's own runner takes."""
    return ProvenanceInfo(
        provenance="measured-by-mobench", parser=RUNNER, parser_version=RUNNER_VERSION, validation_flags=flags
    )


def thermal_figures(
    start: dict[str, float], end: dict[str, float], throttled: bool | None = None
) -> list[ThermalFigure]:
    """One figure per thermal zone read at the start and/or the end of a window."""
    return [
        ThermalFigure(
            sensor=zone,
            start_c=start.get(zone),
            end_c=end.get(zone),
            max_c=max(v for v in (start.get(zone), end.get(zone)) if v is not None),
            throttling_detected=throttled,
        )
        for zone in sorted(set(start) | set(end))
    ]


def energy_figures(
    sampled: Sequence[SampledChannel],
    start_s: float,
    end_s: float,
    *,
    inferences: int,
    baseline: tuple[float, float] | None = None,
    baseline_after: tuple[float, float] | None = None,
) -> tuple[list[tuple[EnergyFigure, list[str]]], list[str]]:
    """Energy per inference over [start_s, end_s] for every sampled channel (§10): the usable figures with their
    flags, and for every channel that gave none, why."""
    figures: list[tuple[EnergyFigure, list[str]]] = []
    absent: list[str] = []
    for result in sampled:
        trace = result.trace
        if trace is None:
            absent.append(f"{result.problem}: no trace")
            continue
        est = estimate_energy(
            trace,
            start_s,
            end_s,
            inferences=inferences,
            baseline=measure_baseline(trace, *baseline) if baseline else None,
            baseline_after=measure_baseline(trace, *baseline_after, when="post_run") if baseline_after else None,
            charging=result.charging,
        )
        if est.usable:
            figures.append((est.figure, list(est.flags)))
        else:
            blocking = ", ".join(sorted(BLOCKING_FLAGS.intersection(est.flags)))
            absent.append(f"{trace.method} {trace.scope} {trace.rail} ({trace.source}): not reported ({blocking})")
    return figures, absent
