"""NVIDIA Jetson `tegrastats` logs (stdout or `--logfile`).

Source: the NVIDIA Jetson Linux developer guide (tegrastats utility) and research notes §7.3. One line per
interval (default 1000 ms): `[MM-DD-YYYY HH:MM:SS] RAM ... <sensor>@<T>C ... <RAIL> <inst>mW/<avg>mW ...`.

- rail pairs are *instantaneous / running average since start*: only the first value is a sample;
- JetPack 5+ prints `mW`, legacy L4T (TX2, Xavier, Nano) prints unit-less numbers that are mW (flagged);
- `-256C` means "no sensor", not cold: dropped and flagged; `NC` rails are not connected;
- `VDD_IN` is the module input (not the carrier board); other rails are on-module rails, named per module;
- the timestamp has 1 s resolution and local time; without timestamps the nominal interval is assumed (flagged).
Temperatures give a thermal report (start / end / max per sensor).
"""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np

from hub.core.measurements.report import MeasurementReport, Protocol, ThermalFigure
from hub.core.measurements.trace import PowerTrace
from submissions.readers.measurements.base import (
    FormatSpec,
    ParseResult,
    Source,
    provenance,
    retime_repeated_stamps,
)

FORMAT = "tegrastats"
DEFAULT_INTERVAL_S = 1.0
_NO_SENSOR_C = -256.0

_STAMP = re.compile(r"^(\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2})\s+")
_RAIL = re.compile(r"\b([A-Z][A-Z0-9_]*) (\d+)(mW)?/(\d+)(mW)?(?=\s|$)")
_TEMP = re.compile(r"\b(\w+)@(-?\d+(?:\.\d+)?)C\b")


def detect(src: Source) -> bool:
    return bool(re.search(r"RAM \d+/\d+MB", src.text)) and bool(_RAIL.search(src.text))


def parse(src: Source) -> ParseResult:
    flags: list[str] = []
    stamps: list[datetime | None] = []
    rails: dict[str, list[float]] = {}
    temps: dict[str, list[float]] = {}
    dropped_sensors: set[str] = set()
    legacy = False
    for number, line in src.lines():
        if not line.strip():
            continue
        if "RAM " not in line:
            raise src.error(number, f"not a tegrastats line (no 'RAM used/totalMB'): {line.strip()[:60]!r}")
        stamp = None
        if m := _STAMP.match(line):
            try:
                stamp = datetime.strptime(m.group(1), "%m-%d-%Y %H:%M:%S")
            except ValueError as exc:
                raise src.error(number, f"bad timestamp {m.group(1)!r}") from exc
        stamps.append(stamp)
        found = _RAIL.findall(line)
        if not found:
            raise src.error(number, "tegrastats line without any power rail '<RAIL> <inst>/<avg>'")
        names = [name for name, *_ in found]
        if len(set(names)) != len(names):
            twice = sorted({name for name in names if names.count(name) > 1})
            raise src.error(number, f"rail(s) {twice} appear more than once on one line (two records joined?)")
        if rails and sorted(names) != sorted(rails):
            raise src.error(number, f"rails {sorted(names)} differ from the first line's {sorted(rails)}")
        for name, inst, unit, _avg, _unit2 in found:
            legacy |= unit == ""
            rails.setdefault(name, []).append(float(inst) * 1e-3)
        for sensor, value in _TEMP.findall(line):
            celsius = float(value)
            if celsius <= _NO_SENSOR_C:
                dropped_sensors.add(sensor)
                continue
            temps.setdefault(sensor, []).append(celsius)
    n = len(stamps)
    if n < 2:
        raise src.error(None, "fewer than two tegrastats lines")
    if any(s is None for s in stamps):
        if any(s is not None for s in stamps):
            raise src.error(None, "some lines have timestamps and some do not")
        t = np.arange(n, dtype=np.float64) * DEFAULT_INTERVAL_S
        flags.append("no_timestamps_nominal_1000ms_interval_assumed")
    else:
        t0 = stamps[0]
        assert t0 is not None
        raw = np.array([(s - t0).total_seconds() for s in stamps if s is not None])
        if np.any(np.diff(raw) < 0):
            raise src.error(None, "timestamps go backwards")
        t, moved = retime_repeated_stamps(raw)
        flags.append("timestamps_local_time_1s_resolution")
        if moved:
            flags.append("retimed_evenly_within_repeated_seconds")
    if legacy:
        flags.append("legacy_unitless_rails_read_as_mW")
    if dropped_sensors:
        flags.append("sensor_unavailable_-256C_dropped:" + ",".join(sorted(dropped_sensors)))
    flags.append("instantaneous_value_used_running_average_ignored")
    traces = []
    for name, watts in rails.items():
        if name == "NC":
            flags.append("nc_rail_not_connected_skipped")
            continue
        traces.append(
            PowerTrace(
                t_s=t,
                power_w=np.array(watts),
                scope="module_input" if name == "VDD_IN" else "soc_rails",
                method="tegrastats",
                source=src.display,
                rail=name,
                sampling_rate_hz=1.0 / float(np.median(np.diff(t))) if float(np.median(np.diff(t))) > 0 else None,
                flags=list(flags),
            )
        )
    reports = []
    if temps:
        reports.append(
            MeasurementReport(
                label="tegrastats thermal",
                protocol=Protocol(tool="tegrastats"),
                thermal=[
                    ThermalFigure(sensor=s, start_c=v[0], end_c=v[-1], max_c=max(v)) for s, v in sorted(temps.items())
                ],
                provenance=provenance(src, FORMAT, flags, temperature="C", power="mW"),
                source_file=src.display,
            )
        )
    return ParseResult(FORMAT, src.display, src.sha256, reports=reports, traces=traces, flags=flags)


SPECS = (FormatSpec(FORMAT, "NVIDIA Jetson tegrastats log", detect, parse),)
