"""Linux RAPL counter samples read from `/sys/class/powercap/intel-rapl*/`.

Source: the kernel powercap documentation and research notes §7.4. `energy_uj` is a cumulative µJ counter that
wraps to 0 after `max_energy_range_uj` (per domain); the domain `name` file says what it covers (`package-N`,
`core`, `uncore`, `dram`, `psys`). RAPL is a model-based estimate for the CPU package / DRAM only.

There is no standard RAPL log, so mobench defines the smallest self-describing one (the `mobench measure` sampler
writes the same): a CSV with header `time_s,domain,name,energy_uj,max_energy_range_uj` and one row per domain
per read, e.g. `12.500,intel-rapl:0,package-0,8472133421,262143999938`. Counters are kept raw (J) with their
wrap value; wraps are detected and flagged here and resolved by the integrator.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np

from hub.core.measurements.record import EnergyScope
from hub.core.measurements.trace import PowerTrace
from submissions.readers.measurements.base import FormatSpec, ParseResult, Source, to_float

FORMAT = "rapl-csv"
HEADER = ["time_s", "domain", "name", "energy_uj", "max_energy_range_uj"]
UJ = 1e-6

_SCOPES: list[tuple[re.Pattern[str], EnergyScope]] = [
    (re.compile(r"^package-\d+$"), "cpu_package"),
    (re.compile(r"^core$"), "cpu_cores"),
    (re.compile(r"^uncore$"), "uncore"),
    (re.compile(r"^dram$"), "dram"),
    (re.compile(r"^psys$"), "platform"),
]


def detect(src: Source) -> bool:
    first = src.text.lstrip().split("\n", 1)[0]
    return [c.strip() for c in first.split(",")] == HEADER


def _scope(src: Source, number: int, name: str) -> EnergyScope:
    for pattern, scope in _SCOPES:
        if pattern.match(name):
            return scope
    raise src.error(number, f"unknown RAPL domain name {name!r} (expected package-N, core, uncore, dram, psys)")


def parse(src: Source) -> ParseResult:
    reader = csv.reader(io.StringIO(src.text, newline=""))
    header = next(reader, [])
    if [c.strip() for c in header] != HEADER:
        raise src.error(1, f"header must be {','.join(HEADER)}")
    domains: dict[str, tuple[str, float, list[tuple[float, float]]]] = {}
    for cells in reader:
        number = reader.line_num
        if not cells:
            continue
        if len(cells) != len(HEADER):
            raise src.error(number, f"{len(cells)} cells, expected {len(HEADER)}")
        t = to_float(src, number, cells[0], "time_s")
        domain, name = cells[1].strip(), cells[2].strip()
        energy = to_float(src, number, cells[3], "energy_uj")
        max_range = to_float(src, number, cells[4], "max_energy_range_uj")
        if energy < 0 or max_range <= 0 or energy > max_range:
            raise src.error(number, f"energy_uj {energy:g} outside [0, max_energy_range_uj={max_range:g}]")
        _scope(src, number, name)
        entry = domains.setdefault(domain, (name, max_range, []))
        if entry[0] != name or entry[1] != max_range:
            raise src.error(number, f"domain {domain} changes its name or max_energy_range_uj")
        if entry[2] and t <= entry[2][-1][0]:
            raise src.error(number, f"time_s of domain {domain} does not increase")
        entry[2].append((t, energy))
    if not domains:
        raise src.error(None, "no RAPL samples after the header")
    traces = []
    file_flags = ["rapl_is_model_estimate_cpu_package_dram_only"]
    for domain, (name, max_range, points) in domains.items():
        if len(points) < 2:
            raise src.error(None, f"domain {domain}: fewer than two samples")
        counter = np.array([p[1] for p in points])
        wraps = int(np.sum(np.diff(counter) < 0))
        flags = list(file_flags) + ([f"counter_wrapped:{wraps}"] if wraps else [])
        traces.append(
            PowerTrace(
                t_s=np.array([p[0] for p in points]),
                energy_j=counter * UJ,
                counter_max_j=max_range * UJ,
                scope=_scope(src, 1, name),
                method="rapl",
                source=src.display,
                rail=f"{domain}/{name}",
                flags=flags,
            )
        )
    return ParseResult(FORMAT, src.display, src.sha256, traces=traces, flags=file_flags)


SPECS = (FormatSpec(FORMAT, "RAPL energy_uj samples: time_s,domain,name,energy_uj,max_energy_range_uj", detect, parse),)
