"""RAPL energy from Linux `perf stat -e power/energy-pkg/,...` (the `power` PMU; AMD's per-core `power_core`).

Source: the Linux source, `tools/perf/util/stat-display.c` (the printers) and `tools/perf/Documentation/
perf-stat.txt`; research notes §7.4. The events are `power/energy-{pkg,cores,ram,gpu,psys}/` (`power_core/
energy-core/` on AMD); their unit is `Joules`, already scaled by perf, which also undoes the counter's wraps.

- Default output: one `<value> Joules <event>` line per event over the whole run, and `<s> seconds time elapsed`:
  the energy becomes a two-point counter (0 J at 0 s, the total at the elapsed time). With `-r N` the value and the
  elapsed time are means over the N runs (flagged; the `( +- x% )` spread is kept as an extra).
- `-I <ms>` output: `<time s> <value> Joules <event>` per interval, where the value is the energy *of that interval*;
  the intervals are summed into a cumulative counter that starts at 0 J at 0 s.
- `-x <sep>` (CSV, field order of perf-stat.txt "CSV FORMAT"): `[<time>,]<value>,<unit>,<event>,<run time ns>,
  <% running>,...`; without `-I` the window is the counter's run time (flagged): CSV output prints no elapsed line.
- Other events (`cycles`, ...) are kept as extras. Per-CPU / per-socket / per-die aggregation (`-A`,
  `--per-socket`, ...) puts a prefix before the value and is refused with the line; so are `<not counted>` and
  `<not supported>` energy events (no reading).
"""

from __future__ import annotations

import re

import numpy as np

from hub.core.measurements.record import EnergyScope
from hub.core.measurements.trace import PowerTrace
from submissions.measurements.base import FormatSpec, ParseResult, Source, Verified, count_flag, to_float
from submissions.measurements.rapl import FILE_FLAGS

FORMAT = "rapl-perf-stat"
# the power PMU's event -> scope (energy-core: AMD's per-core power_core PMU)
_SCOPES: dict[str, EnergyScope] = {
    "pkg": "cpu_package", "cores": "cpu_cores", "core": "cpu_cores", "ram": "dram", "gpu": "uncore", "psys": "platform",
}  # fmt: skip
_NUMBER = r"\d[\d,]*(?:\.\d+)?"  # as perf prints a count: 143,313,550,461 or 43.26
_ENERGY = re.compile(r"^power(?:_core)?/energy-(?P<domain>[a-z]+)/\S*$")
_ENERGYISH = re.compile(r"power(?:_core)?/energy-")
_TEXT = re.compile(
    rf"^\s*(?:(?P<t>\d+\.\d+)\s+)?(?P<value>{_NUMBER}|<not counted>|<not supported>)\s+"
    r"(?P<head>[^#(]*?)\s*(?P<tail>[#(].*)?$"
)
_CSV_SEP = re.compile(r"(?m)([,;|\t])Joules\1power(?:_core)?/energy-")
_ELAPSED = re.compile(rf"^\s*(?P<s>{_NUMBER})(?:\s+\+-\s+\S+)?\s+seconds time elapsed")
_RUNS = re.compile(r"^\s*Performance counter stats for (?P<what>.*?)(?: \((?P<runs>\d+) runs\))?:\s*$")
_OTHER_TIMES = re.compile(rf"^\s*(?P<s>{_NUMBER})\s+seconds (?P<what>user|sys)\s*$")
_COMMAND = re.compile(r"^\s*(?:\S*[$#]\s*)?(?:sudo\s+)?perf\s+stat\b")  # the command echoed above the output

Extras = dict[str, str | int | float | bool | None]


def detect(src: Source) -> bool:
    text = src.text
    return bool(re.search(r"Joules\s+power(?:_core)?/energy-", text) or _CSV_SEP.search(text))


class _Read:
    """Counter lines as read: per energy event its (interval end s or None, joules, run time s or None)."""

    def __init__(self) -> None:
        self.energy: dict[str, list[tuple[float | None, float, float | None]]] = {}
        self.extras: Extras = {}
        self.elapsed: float | None = None
        self.runs = 1
        self.ignored = 0

    def counter(
        self, src: Source, number: int, reading: tuple[str | None, str, str, str], tail: str, runtime: float | None
    ) -> None:
        t_text, value, unit, event = reading
        t = to_float(src, number, t_text, "interval time") if t_text is not None else None
        m = _ENERGY.match(event)
        if m is None:
            if _ENERGYISH.search(event):
                raise src.error(number, f"energy event {event!r} not understood")
            self.extras[f"{event}" if t is None else f"{event} @ {t:g} s"] = value
            return
        if m.group("domain") not in _SCOPES:
            raise src.error(
                number, f"unknown RAPL domain {m.group('domain')!r} in {event!r} (pkg, cores, ram, gpu, psys)"
            )
        if value.startswith("<"):
            raise src.error(number, f"{event} is {value}: perf took no reading of this counter")
        if unit != "Joules":
            raise src.error(number, f"{event}: unit {unit!r}, expected Joules")
        joules = to_float(src, number, value.replace(",", ""), event)
        if tail.strip():
            self.extras[f"{event}{'' if t is None else f' @ {t:g} s'}.note"] = tail.strip()
        self.energy.setdefault(event, []).append((t, joules, runtime))

    def skip(self, line: str) -> bool:
        """Blank and comment lines, and the command line echoed above the output (kept as an extra)."""
        if _COMMAND.match(line):
            self.extras["command line"] = line.strip()
        return not line.strip() or line.lstrip().startswith("#") or bool(_COMMAND.match(line))

    def read_text(self, src: Source) -> None:
        for number, line in src.lines():
            if self.skip(line):
                continue
            if m := _RUNS.match(line):
                self.extras["counted"] = m.group("what")
                self.runs = int(m.group("runs") or 1)
            elif m := _ELAPSED.match(line):
                self.elapsed = to_float(src, number, m.group("s").replace(",", ""), "seconds time elapsed")
            elif m := _OTHER_TIMES.match(line):
                self.extras[f"seconds {m.group('what')}"] = to_float(src, number, m.group("s").replace(",", ""), "s")
            elif (m := _TEXT.match(line)) and len(words := m.group("head").split()) in (1, 2):
                unit, event = (words[0], words[1]) if len(words) == 2 else ("", words[0])
                self.counter(src, number, (m.group("t"), m.group("value"), unit, event), m.group("tail") or "", None)
            elif _ENERGYISH.search(line):
                raise src.error(number, f"energy line not read (per-CPU/socket aggregation?): {line.strip()!r}")
            else:
                self.ignored += 1

    def read_csv(self, src: Source, sep: str) -> None:
        rows = [(n, line, [c.strip() for c in line.split(sep)]) for n, line in src.lines() if not self.skip(line)]
        # `<time>,<value>,Joules,<event>` with -I, `<value>,Joules,<event>` without; anything before is aggregation
        at = next(cells.index("Joules") for _, _, cells in rows if "Joules" in cells) - 1
        for number, line, cells in rows:
            if at not in (0, 1) or len(cells) < at + 3 or (_ENERGYISH.search(line) and cells[at + 1] != "Joules"):
                if _ENERGYISH.search(line):
                    raise src.error(number, f"CSV energy line not read (per-CPU/socket aggregation?): {line.strip()!r}")
                self.ignored += 1
                continue
            runtime = _float_or_none(cells[at + 3]) if len(cells) > at + 3 else None
            reading = (cells[0] if at == 1 else None, cells[at], cells[at + 1], cells[at + 2])
            self.counter(src, number, reading, "", runtime * 1e-9 if runtime else None)


def _float_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _trace(src: Source, event: str, points: list[tuple[float | None, float, float | None]], read: _Read) -> PowerTrace:
    flags = list(FILE_FLAGS)
    if all(t is not None for t, _, _ in points):
        t = np.array([0.0, *(p[0] for p in points)], dtype=np.float64)
        if np.any(np.diff(t) <= 0):
            raise src.error(None, f"{event}: interval times do not increase (two perf runs in one file?)")
        energy = np.concatenate(([0.0], np.cumsum([p[1] for p in points])))
        flags.append("perf_stat_interval_energies_summed_to_a_counter")
    elif any(t is not None for t, _, _ in points) or len(points) > 1:
        raise src.error(None, f"{event} is counted more than once without interval times (two perf runs in one file?)")
    else:
        window = read.elapsed if read.elapsed is not None else points[0][2]
        if not window:
            raise src.error(None, f"{event}: no 'seconds time elapsed' line nor counter run time: no time base")
        if read.elapsed is None:
            flags.append("window_is_the_counter_run_time")
        t, energy = np.array([0.0, window]), np.array([0.0, points[0][1]])
        flags.append("perf_stat_total_over_the_run")
        if read.runs > 1:
            flags.append(f"perf_stat_mean_of_{read.runs}_runs")
    m = _ENERGY.match(event)
    assert m is not None
    return PowerTrace(
        t_s=t,
        energy_j=energy,
        scope=_SCOPES[m.group("domain")],
        method="rapl",
        source=src.display,
        rail=event,
        flags=flags,
    )


def parse(src: Source) -> ParseResult:
    read = _Read()
    sep = _CSV_SEP.search(src.text)
    if sep:
        read.read_csv(src, sep.group(1))
    else:
        read.read_text(src)
    if not read.energy:
        raise src.error(None, "no 'power/energy-*/' counter in Joules")
    flags = list(FILE_FLAGS)
    count_flag(flags, "lines_not_read", read.ignored)
    traces = [_trace(src, event, points, read) for event, points in read.energy.items()]
    return ParseResult(FORMAT, src.display, src.sha256, traces=traces, flags=flags, extras=read.extras)


SPECS = (
    FormatSpec(
        FORMAT,
        "perf stat -e power/energy-*/ output (text or -x CSV, total or -I intervals)",
        detect,
        parse,
        verified=(
            Verified(
                "Linux perf (2026)",
                "text, system-wide total, power/energy-pkg/ and cycles, seconds time elapsed",
                "real corpus log rapl/sandmark-issue378_perf_stat_energy-pkg.txt",
            ),
            Verified(
                "Linux perf 4.x-6.x",
                "text -I intervals, -r repeats, -x CSV with and without -I",
                "perf's source: perf-stat.txt 'CSV FORMAT' (field order), stat-display.c print_interval "
                "(the -I time prefix and header); mobench fixtures",
            ),
        ),
    ),
)
