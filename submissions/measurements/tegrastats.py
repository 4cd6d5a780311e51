"""NVIDIA Jetson `tegrastats` logs (stdout or `--logfile`), every generation from TX1 to Thor.

Sources: the NVIDIA Jetson Linux developer guides (tegrastats utility; the power-monitor sections of the Nano/TX1,
TX2, Xavier, Orin and Thor platform-power chapters), jetson_stats (`jtop/core/tegra_parse.py`, its JetPack 7 test
line, `jtop/core/power.py`) and research notes §7.3. One line per interval (default 1000 ms):
`[MM-DD-YYYY HH:MM:SS ]RAM used/totalMB (lfb ...) ... <sensor>@<T>C ... <RAIL> <inst>mW/<avg>mW ...`.

- Each rail prints *instantaneous / running average since start*; JetPack 7 adds a third value, the maximum since
  start (`VDD_GPU_SOC 5139mW/5139mW/5139mW`), and temperatures as current/maximum (`cpu@52.968C/52.968C`). Only the
  first value is a sample; the last line's average and maxima are kept as extras.
- JetPack 5+ prints `mW`; legacy L4T (TX2, Xavier, Nano on JetPack 4) prints unit-less numbers that are mW (flagged).
- `-256C` means "no sensor", not cold: dropped and flagged. `NC` rails are not connected: skipped.
- What a rail covers depends on the module (scope per rail, `_scope`):
  - module input: `VDD_IN` (TX1, TX2, Xavier NX, Orin NX/Nano: the whole module, not the carrier board) and
    `POM_5V_IN` (Nano, the same monitor under the Nano's name);
  - whole device: `VIN` (Thor: the INA238 on the carrier board's DC input, module and carrier together);
  - on-module rails, everything else: TX2 `VDD_SYS_{CPU,GPU,SOC,DDR}`/`VDD_4V0_WIFI` (L4T 28: `VDD_CPU` ...),
    Nano `POM_5V_{CPU,GPU}`, AGX Xavier `GPU CPU SOC CV VDDRQ SYS5V` (no module input), Xavier NX and Orin NX/Nano
    `VDD_CPU_GPU_CV VDD_SOC`, AGX Orin `VDD_GPU_SOC VDD_CPU_CV VIN_SYS_5V0 VDDQ_VDD2_1V8AO` (no module input;
    `VIN_SYS_5V0` is the module's 5 V system rail), Thor `VDD_GPU VDD_CPU_SOC_MSS VIN_SYS_5V0`.
  - TX1's tegrastats prints no rails at all: such a log gives temperatures only (flagged).
- The timestamp has 1 s resolution and local time; without timestamps the nominal interval is assumed (flagged).
  A one-line log is read (one sample per rail, no time base: no energy can be integrated from it, flagged).
Temperatures give a thermal report (start / end / max per sensor).
"""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np

from hub.core.measurements.record import EnergyScope
from hub.core.measurements.report import MeasurementReport, Protocol, ThermalFigure
from hub.core.measurements.trace import PowerTrace
from submissions.measurements.base import (
    FormatSpec,
    ParseResult,
    Source,
    Verified,
    provenance,
    retime_repeated_stamps,
    to_float,
)

FORMAT = "tegrastats"
DEFAULT_INTERVAL_S = 1.0
_NO_SENSOR_C = -256.0

_STAMP = re.compile(r"^(\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2})\s+")
_LINE = re.compile(r"(?m)^(?:\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2}\s+)?RAM \d+/\d+[kKMG]B \(lfb ")
_NUM = r"(\d+(?:\.\d+)?)(m?W)?"
# <RAIL> <inst>/<avg>[/<max>] with an optional mW / W unit on each value
_RAIL = re.compile(rf"\b([A-Z][A-Z0-9_]*) {_NUM}/{_NUM}(?:/{_NUM})?(?=\s|$)")
_TEMP = re.compile(r"\b(\w+)@(-?\d+(?:\.\d+)?)C(?:/(-?\d+(?:\.\d+)?)C)?(?=\s|$)")

_MODULE_INPUT = frozenset({"VDD_IN", "POM_5V_IN"})
_DEVICE_INPUT = frozenset({"VIN"})


def detect(src: Source) -> bool:
    return bool(_LINE.search(src.text))


def _scope(rail: str) -> EnergyScope:
    if rail in _MODULE_INPUT:
        return "module_input"
    if rail in _DEVICE_INPUT:
        return "whole_device"
    return "soc_rails"


def _watts(src: Source, number: int, value: str, unit: str | None, rail: str) -> float:
    per_watt = 1.0 if unit == "W" else 1e3  # "mW", or unit-less legacy mW
    return to_float(src, number, value, rail) / per_watt


class _Log:
    """What the lines gave, gathered in file order."""

    def __init__(self) -> None:
        self.stamps: list[datetime | None] = []
        self.rails: dict[str, list[float]] = {}
        self.temps: dict[str, list[float]] = {}
        self.extras: dict[str, str | int | float | bool | None] = {}
        self.no_sensor: set[str] = set()
        self.legacy = False
        self.nc = False

    def add_line(self, src: Source, number: int, line: str) -> None:
        stamp = None
        if m := _STAMP.match(line):
            try:
                stamp = datetime.strptime(m.group(1), "%m-%d-%Y %H:%M:%S")
            except ValueError as exc:
                raise src.error(number, f"bad timestamp {m.group(1)!r}") from exc
        self.stamps.append(stamp)
        found = [f for f in _RAIL.findall(line) if f[0] != "NC"]
        self.nc |= len(found) != len(_RAIL.findall(line))
        names = [f[0] for f in found]
        if len(set(names)) != len(names):
            twice = sorted({name for name in names if names.count(name) > 1})
            raise src.error(number, f"rail(s) {twice} appear more than once on one line (two records joined?)")
        if len(self.stamps) > 1 and sorted(names) != sorted(self.rails):
            raise src.error(number, f"rails {sorted(names)} differ from the first line's {sorted(self.rails)}")
        for name, inst, u1, avg, u2, peak, u3 in found:
            self.legacy |= u1 == ""
            self.rails.setdefault(name, []).append(_watts(src, number, inst, u1, name))
            self.extras[f"{name}.running_average_w_at_end"] = _watts(src, number, avg, u2, name)
            if peak:
                self.extras[f"{name}.maximum_w_at_end"] = _watts(src, number, peak, u3, name)
        for sensor, value, peak in _TEMP.findall(line):
            celsius = float(value)
            if celsius <= _NO_SENSOR_C:
                self.no_sensor.add(sensor)
                continue
            self.temps.setdefault(sensor, []).append(celsius)
            if peak:
                self.extras[f"{sensor}.maximum_c_at_end"] = float(peak)

    def times(self, src: Source, flags: list[str]) -> np.ndarray:
        n = len(self.stamps)
        if any(s is None for s in self.stamps):
            if any(s is not None for s in self.stamps):
                raise src.error(None, "some lines have timestamps and some do not")
            flags.append("no_timestamps_nominal_1000ms_interval_assumed")
            return np.arange(n, dtype=np.float64) * DEFAULT_INTERVAL_S
        t0 = self.stamps[0]
        assert t0 is not None
        raw = np.array([(s - t0).total_seconds() for s in self.stamps if s is not None])
        if np.any(np.diff(raw) < 0):
            raise src.error(None, "timestamps go backwards")
        t, moved = retime_repeated_stamps(raw)
        flags.append("timestamps_local_time_1s_resolution")
        if moved:
            flags.append("retimed_evenly_within_repeated_seconds")
        return t


def _flags(log: _Log) -> list[str]:
    flags = []
    if len(log.stamps) == 1:
        flags.append("single_line_no_time_base_no_energy")
    if log.legacy:
        flags.append("legacy_unitless_rails_read_as_mW")
    if log.no_sensor:
        flags.append("sensor_unavailable_-256C_dropped:" + ",".join(sorted(log.no_sensor)))
    if not log.rails:
        flags.append("no_power_rails_in_log")
    if log.nc:
        flags.append("nc_rail_not_connected_skipped")
    if "VIN" in log.rails:
        flags.append("vin_is_carrier_board_input_module_and_carrier")
    flags.append("instantaneous_value_used_running_average_ignored")
    return flags


def parse(src: Source) -> ParseResult:
    log = _Log()
    for number, line in src.lines():
        if not line.strip():
            continue
        if "RAM " not in line:
            raise src.error(number, f"not a tegrastats line (no 'RAM used/totalMB'): {line.strip()[:60]!r}")
        log.add_line(src, number, line)
    if not log.stamps:
        raise src.error(None, "no tegrastats lines")
    flags = _flags(log)
    t = log.times(src, flags)
    step = float(np.median(np.diff(t))) if t.size > 1 else 0.0
    traces = [
        PowerTrace(
            t_s=t,
            power_w=np.array(watts),
            scope=_scope(name),
            method="tegrastats",
            source=src.display,
            rail=name,
            sampling_rate_hz=1.0 / step if step > 0 else None,
            flags=list(flags),
        )
        for name, watts in log.rails.items()
    ]
    reports = []
    if log.temps:
        reports.append(
            MeasurementReport(
                label="tegrastats thermal",
                protocol=Protocol(tool="tegrastats"),
                thermal=[
                    ThermalFigure(sensor=s, start_c=v[0], end_c=v[-1], max_c=max(v))
                    for s, v in sorted(log.temps.items())
                ],
                provenance=provenance(src, FORMAT, flags, temperature="C", power="mW"),
                source_file=src.display,
            )
        )
    if not traces and not reports:
        raise src.error(None, "tegrastats lines without any power rail or temperature")
    return ParseResult(FORMAT, src.display, src.sha256, reports=reports, traces=traces, flags=flags, extras=log.extras)


_CORPUS = "real corpus log tegrastats/"
SPECS = (
    FormatSpec(
        FORMAT,
        "NVIDIA Jetson tegrastats log (TX1 to Thor, JetPack 4 unit-less to JetPack 7 inst/avg/max)",
        detect,
        parse,
        verified=(
            Verified(
                "JetPack 4 (L4T 32)",
                "Jetson Nano, unit-less POM_5V_* rails, no timestamps",
                _CORPUS + "nano_legacy_csc2231_tegrastats.txt",
            ),
            Verified(
                "JetPack 6",
                "Orin Nano, VDD_IN/VDD_CPU_GPU_CV/VDD_SOC in mW, timestamps",
                _CORPUS + "orin_nano_tegra_burn_jp6_tegrastats.log",
            ),
            Verified(
                "JetPack 5/6",
                "AGX Orin, VDD_GPU_SOC/VDD_CPU_CV/VIN_SYS_5V0 in mW, timestamps",
                _CORPUS + "agx_orin_llm_pipeline_tegrastats.log",
            ),
            Verified(
                "JetPack 7.2 (L4T R39.2)",
                "AGX Orin, rails inst/avg/max, temperatures cur/max, one line",
                _CORPUS + "agx_orin_jp7.2_single_line_jetson_stats_test.log",
            ),
            Verified(
                "L4T 28 (TX1, TX2), JetPack 4 (AGX Xavier), JetPack 7 (Thor)",
                "TX1 without rails; TX2, AGX Xavier and Thor (VIN) rail names",
                "jetson_stats' tegrastats emulator lines, NVIDIA's power-monitor docs; mobench fixtures",
            ),
        ),
    ),
)
