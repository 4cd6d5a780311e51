"""macOS `powermetrics` text output (Apple Silicon, `--samplers cpu_power,gpu_power,ane_power`).

Source: `man powermetrics` and research notes §7.5. Each sample starts with
`*** Sampled system activity (<date>) (<elapsed>ms elapsed) ***` and its power lines (`CPU Power: 1234 mW`,
`GPU Power`, `ANE Power`, `Combined Power (CPU + GPU + ANE)`, per-cluster `E-Cluster Power`, `P0-Cluster Power`)
are **averages over the elapsed interval**, SoC only. An interval average is not an instantaneous sample, so each
rail becomes a cumulative energy counter: E_k = Σ P_i·Δt_i at the end of each interval, which integrates exactly
(constant power within each interval) instead of trapezoids between interval averages.
"""

from __future__ import annotations

import re

import numpy as np

from hub.core.measurements.record import EnergyScope
from hub.core.measurements.trace import PowerTrace
from submissions.readers.measurements.base import FLOAT, FormatSpec, ParseResult, Source, count_flag, to_float

FORMAT = "powermetrics"

_HEADER = re.compile(rf"^\*\*\* Sampled system activity \((?P<date>[^)]*)\) \((?P<ms>{FLOAT})ms elapsed\) \*\*\*\s*$")
_POWER = re.compile(
    rf"^\s*(?P<name>[A-Za-z0-9 +()-]+?) Power(?: \((?P<combo>[^)]*)\))?:\s*(?P<v>{FLOAT})\s*(?P<u>mW|W)\s*$"
)
_POWERISH = re.compile(r"\bPower\b.*:\s")


def detect(src: Source) -> bool:
    return "*** Sampled system activity" in src.text and " Power" in src.text


def _rail(name: str) -> str:
    """'Combined' -> 'combined', 'P0-Cluster' -> 'p0-cluster', 'CPU' -> 'cpu'."""
    return name.strip().lower().replace(" ", "_")


def parse(src: Source) -> ParseResult:
    flags = ["interval_averages_as_cumulative_energy", "soc_only_no_dram_display_ssd"]
    intervals: list[float] = []
    samples: list[dict[str, float]] = []
    ignored = 0
    for number, line in src.lines():
        if line.startswith("***") and "Sampled system activity" in line:
            m = _HEADER.match(line)
            if not m:
                raise src.error(number, "sample header without '(<n>ms elapsed)'")
            elapsed = to_float(src, number, m.group("ms"), "elapsed ms") * 1e-3
            if elapsed <= 0:
                raise src.error(number, "non-positive elapsed time")
            intervals.append(elapsed)
            samples.append({})
        elif m := _POWER.match(line):
            if not samples:
                raise src.error(number, "power line before the first sample header")
            watts = to_float(src, number, m.group("v"), m.group("name")) * (1e-3 if m.group("u") == "mW" else 1.0)
            samples[-1][_rail(m.group("name"))] = watts
        elif _POWERISH.search(line) and "Power" in line.split(":")[0] and line.strip().endswith(("mW", "W")):
            raise src.error(number, f"power line not understood: {line.strip()!r}")
        else:
            ignored += 1
    if len(samples) < 2:
        raise src.error(None, "fewer than two powermetrics samples")
    names = sorted({k for s in samples for k in s})
    if not names:
        raise src.error(None, "no '... Power: <n> mW' lines (run with --samplers cpu_power,gpu_power)")
    if "ane" not in names:
        flags.append("ane_power_absent")
    count_flag(flags, "non_power_lines_ignored", ignored)
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
    return ParseResult(FORMAT, src.display, src.sha256, traces=traces, flags=flags)


SPECS = (FormatSpec(FORMAT, "macOS powermetrics text output (cpu_power/gpu_power/ane_power samplers)", detect, parse),)
