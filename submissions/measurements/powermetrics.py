"""macOS `powermetrics` text output (Apple Silicon, `--samplers cpu_power,gpu_power,ane_power`).

Source: `man powermetrics` and research notes §7.5. Each sample starts with
`*** Sampled system activity (<date>) (<elapsed>ms elapsed) ***` and its power lines (`CPU Power: 1234 mW`,
`GPU Power`, `ANE Power`, `Combined Power (CPU + GPU + ANE)`, per-cluster `E-Cluster Power`, `P0-Cluster Power`)
are **averages over the elapsed interval**, SoC only. An interval average is not an instantaneous sample, so each
rail becomes a cumulative energy counter: E_k = Σ P_i·Δt_i at the end of each interval, which integrates exactly
(constant power within each interval) instead of trapezoids between interval averages. One sample is a valid
measurement: its energy is its power times its own interval.

The same rail may be printed twice in one sample (macOS 15 prints `GPU Power` under the cpu_power block and again
under "GPU usage"): equal values are one figure, different values are an error. The header lines before the first
sample (`Machine model`, `OS version`, `Boot time`, ...) are kept as extras.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from hub.core.measurements.record import EnergyScope
from hub.core.measurements.trace import PowerTrace
from submissions.measurements.base import FLOAT, FormatSpec, ParseResult, Source, Verified, count_flag, to_float

FORMAT = "powermetrics"

_HEADER = re.compile(rf"^\*\*\* Sampled system activity \((?P<date>[^)]*)\) \((?P<ms>{FLOAT})ms elapsed\) \*\*\*\s*$")
_POWER = re.compile(
    rf"^\s*(?P<name>[A-Za-z0-9 +()-]+?) Power(?: \((?P<combo>[^)]*)\))?:\s*(?P<v>{FLOAT})\s*(?P<u>mW|W)\s*$"
)
_POWERISH = re.compile(r"\bPower\b.*:\s")
_PREAMBLE = re.compile(r"^(Machine model|OS version|Boot arguments|Boot time|EFI version|SMC version):\s*(.*?)\s*$")


def detect(src: Source) -> bool:
    return "*** Sampled system activity" in src.text and " Power" in src.text


def _rail(name: str) -> str:
    """'Combined' -> 'combined', 'P0-Cluster' -> 'p0-cluster', 'CPU' -> 'cpu'."""
    return name.strip().lower().replace(" ", "_")


@dataclass
class _Samples:
    intervals: list[float] = field(default_factory=list)  # elapsed s per sample
    watts: list[dict[str, float]] = field(default_factory=list)  # rail -> W per sample
    extras: dict[str, str | int | float | bool | None] = field(default_factory=dict)
    repeated: int = 0  # power lines printed twice in a sample with the same value
    ignored: int = 0  # lines of the other samplers (tasks, network, residencies...)


def _read(src: Source) -> _Samples:
    out = _Samples()
    for number, line in src.lines():
        if line.startswith("***") and "Sampled system activity" in line:
            m = _HEADER.match(line)
            if not m:
                raise src.error(number, "sample header without '(<n>ms elapsed)'")
            elapsed = to_float(src, number, m.group("ms"), "elapsed ms") * 1e-3
            if elapsed <= 0:
                raise src.error(number, "non-positive elapsed time")
            out.intervals.append(elapsed)
            out.watts.append({})
            out.extras[f"sample {len(out.watts)}.date"] = m.group("date")
        elif m := _POWER.match(line):
            if not out.watts:
                raise src.error(number, "power line before the first sample header")
            watts = to_float(src, number, m.group("v"), m.group("name")) * (1e-3 if m.group("u") == "mW" else 1.0)
            sample, rail = out.watts[-1], _rail(m.group("name"))
            if rail in sample:
                if sample[rail] != watts:
                    raise src.error(number, f"{line.strip()!r}: {rail} power already read as {sample[rail]} W")
                out.repeated += 1
            sample[rail] = watts
        elif _POWERISH.search(line) and "Power" in line.split(":")[0] and line.strip().endswith(("mW", "W")):
            raise src.error(number, f"power line not understood: {line.strip()!r}")
        elif not out.watts and (m := _PREAMBLE.match(line)):
            out.extras[m.group(1)] = m.group(2)
        else:
            out.ignored += 1
    return out


def parse(src: Source) -> ParseResult:
    flags = ["interval_averages_as_cumulative_energy", "soc_only_no_dram_display_ssd"]
    read = _read(src)
    intervals, samples = read.intervals, read.watts
    if not samples:
        raise src.error(None, "no '*** Sampled system activity' sample")
    names = sorted({k for s in samples for k in s})
    if not names:
        raise src.error(None, "no '... Power: <n> mW' lines (run with --samplers cpu_power,gpu_power)")
    if "ane" not in names:
        flags.append("ane_power_absent")
    if len(samples) == 1:
        flags.append("single_sample_energy_is_its_average_power_times_its_interval")
    count_flag(flags, "power_line_repeated_with_equal_value", read.repeated)
    count_flag(flags, "non_power_lines_ignored", read.ignored)
    ends = np.cumsum(intervals)
    t = np.concatenate(([0.0], ends))
    traces = []
    for name in names:
        missing = [i for i, s in enumerate(samples) if name not in s]
        if missing:
            raise src.error(None, f"sample {missing[0] + 1} has no {name} power line while others do")
        energy = np.concatenate(([0.0], np.cumsum([s[name] * dt for s, dt in zip(samples, intervals, strict=True)])))
        scope: EnergyScope = "soc_cpu_gpu_ane" if name == "combined" else "soc_rails"
        traces.append(
            PowerTrace(
                t_s=t,
                energy_j=energy,
                scope=scope,
                method="powermetrics",
                source=src.display,
                rail=name,
                sampling_rate_hz=1.0 / float(np.median(intervals)),
                flags=list(flags),
            )
        )
    return ParseResult(FORMAT, src.display, src.sha256, traces=traces, flags=flags, extras=read.extras)


SPECS = (
    FormatSpec(
        FORMAT,
        "macOS powermetrics text output (cpu_power/gpu_power/ane_power samplers)",
        detect,
        parse,
        verified=(
            Verified(
                "macOS 15 (OS build 24F74), Mac16,6",
                "text, default samplers, one 5021.96 ms sample, GPU Power printed twice",
                "real corpus log powermetrics/powermetrics-go_Mac16-6_sample.log",
            ),
            Verified(
                "macOS 12-14 (research notes §7.5)",
                "text, several samples, per-cluster and Combined Power lines",
                "mobench fixture (no real multi-sample log found)",
            ),
        ),
    ),
)
