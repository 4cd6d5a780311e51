"""Linux RAPL energy counters read from `/sys/class/powercap/intel-rapl*/` (powercap sysfs).

Source: the kernel powercap documentation and research notes §7.4. `energy_uj` is a cumulative µJ counter that
wraps to 0 after `max_energy_range_uj` (per domain); the domain's `name` file says what it covers (`package-N`,
`core`, `uncore`, `dram`, `psys`). RAPL is a model-based estimate for the CPU package / DRAM only. Counters are kept
raw (J) with their wrap value; wraps are counted and flagged here and undone by the integrator
(`evaluators.efficiency.unwrap_counter`). `perf stat -e power/energy-*/` output is read by `perf_stat`.

There is no standard RAPL log, so two plain forms are read:

- `rapl-csv`, what the `mobench measure` sampler writes: header `time_s,domain,name,energy_uj,max_energy_range_uj`
  and one row per domain per read, e.g. `12.500,intel-rapl:0,package-0,8472133421,262143999938`;
- `rapl-powercap-log`, what a shell loop over the sysfs files prints. A header line of `key=value` words, with at
  least `name` and `max_energy_range_uj`, starts a domain; each following line is `<time s> <energy_uj>`:

      d=/sys/class/powercap/intel-rapl:0
      { echo "name=$(cat $d/name) max_energy_range_uj=$(cat $d/max_energy_range_uj) domain=${d##*/}"
        while sleep 0.1; do echo "$(date +%s.%N) $(cat $d/energy_uj)"; done; } > rapl.log

  Several domains are several header-and-samples blocks (one loop per domain); other header keys are extras.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np

from hub.core.measurements.record import EnergyScope
from hub.core.measurements.trace import PowerTrace
from submissions.measurements.base import FLOAT, FormatSpec, ParseResult, Source, Verified, to_float

FORMAT = "rapl-csv"
POWERCAP = "rapl-powercap-log"
HEADER = ["time_s", "domain", "name", "energy_uj", "max_energy_range_uj"]
UJ = 1e-6
FILE_FLAGS = ("rapl_is_model_estimate_cpu_package_dram_only",)

_SCOPES: list[tuple[re.Pattern[str], EnergyScope]] = [
    (re.compile(r"^package-\d+$"), "cpu_package"),
    (re.compile(r"^core$"), "cpu_cores"),
    (re.compile(r"^uncore$"), "uncore"),
    (re.compile(r"^dram$"), "dram"),
    (re.compile(r"^psys$"), "platform"),
]
_KEY_VALUE = re.compile(r"^(\w+)=(\S*)$")
_SAMPLE = re.compile(rf"^\s*({FLOAT})\s+(\d+)\s*$")


def domain_scope(src: Source, number: int | None, name: str) -> EnergyScope:
    """The scope of a powercap domain by its `name` file."""
    for pattern, scope in _SCOPES:
        if pattern.match(name):
            return scope
    raise src.error(number, f"unknown RAPL domain name {name!r} (expected package-N, core, uncore, dram, psys)")


class Domain:
    """One powercap domain's samples as read: (time s, energy µJ), checked as they come."""

    def __init__(self, src: Source, number: int, domain: str, name: str, max_range_uj: float) -> None:
        if max_range_uj <= 0:
            raise src.error(number, f"max_energy_range_uj must be positive, got {max_range_uj:g}")
        self.domain, self.name, self.max_range_uj = domain, name, max_range_uj
        self.scope = domain_scope(src, number, name)
        self.points: list[tuple[float, float]] = []

    def add(self, src: Source, number: int, t: float, energy_uj: float) -> None:
        if energy_uj < 0 or energy_uj > self.max_range_uj:
            raise src.error(number, f"energy_uj {energy_uj:g} outside [0, max_energy_range_uj={self.max_range_uj:g}]")
        if self.points and t <= self.points[-1][0]:
            raise src.error(
                number, f"time of domain {self.domain} does not increase ({t:g} after {self.points[-1][0]:g})"
            )
        self.points.append((t, energy_uj))

    def trace(self, src: Source) -> PowerTrace:
        if len(self.points) < 2:
            raise src.error(None, f"domain {self.domain}: fewer than two samples, no energy can be read")
        counter = np.array([p[1] for p in self.points])
        wraps = int(np.sum(np.diff(counter) < 0))
        return PowerTrace(
            t_s=np.array([p[0] for p in self.points]),
            energy_j=counter * UJ,
            counter_max_j=self.max_range_uj * UJ,
            scope=self.scope,
            method="rapl",
            source=src.display,
            rail=f"{self.domain}/{self.name}",
            flags=[*FILE_FLAGS, *([f"counter_wrapped:{wraps}"] if wraps else [])],
        )


def detect(src: Source) -> bool:
    first = src.text.lstrip().split("\n", 1)[0]
    return [c.strip() for c in first.split(",")] == HEADER


def parse(src: Source) -> ParseResult:
    reader = csv.reader(io.StringIO(src.text, newline=""))
    header = next(reader, [])
    if [c.strip() for c in header] != HEADER:
        raise src.error(1, f"header must be {','.join(HEADER)}")
    domains: dict[str, Domain] = {}
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
        domain_scope(src, number, name)
        if domain not in domains:
            domains[domain] = Domain(src, number, domain, name, max_range)
        entry = domains[domain]
        if entry.name != name or entry.max_range_uj != max_range:
            raise src.error(number, f"domain {domain} changes its name or max_energy_range_uj")
        entry.add(src, number, t, energy)
    if not domains:
        raise src.error(None, "no RAPL samples after the header")
    traces = [d.trace(src) for d in domains.values()]
    return ParseResult(FORMAT, src.display, src.sha256, traces=traces, flags=list(FILE_FLAGS))


def detect_powercap(src: Source) -> bool:
    first = src.text.lstrip().split("\n", 1)[0].split()
    return "max_energy_range_uj=" in " ".join(first) and any(word.startswith("name=") for word in first)


def parse_powercap(src: Source) -> ParseResult:
    domains: list[Domain] = []
    extras: dict[str, str | int | float | bool | None] = {}
    for number, line in src.lines():
        if not line.strip():
            continue
        if m := _SAMPLE.match(line):
            if not domains:
                raise src.error(number, "sample before the first 'name=... max_energy_range_uj=...' header line")
            t = to_float(src, number, m.group(1), "time")
            domains[-1].add(src, number, t, to_float(src, number, m.group(2), "energy_uj"))
            continue
        pairs = [_KEY_VALUE.match(word) for word in line.split()]
        if not all(pairs):
            raise src.error(number, f"neither '<time s> <energy_uj>' nor a 'key=value ...' header: {line.strip()!r}")
        keys = {p.group(1): p.group(2) for p in pairs if p}
        if "name" not in keys or "max_energy_range_uj" not in keys:
            raise src.error(number, "a header line needs name=<domain name> and max_energy_range_uj=<µJ>")
        domain = keys.pop("domain", keys["name"])
        max_range = to_float(src, number, keys.pop("max_energy_range_uj"), "max_energy_range_uj")
        domains.append(Domain(src, number, domain, keys.pop("name"), max_range))
        extras.update({f"{domain}.{key}": value for key, value in keys.items()})
    if not domains:
        raise src.error(None, "no powercap header line")
    rails = [f"{d.domain}/{d.name}" for d in domains]
    if len(set(rails)) != len(rails):
        raise src.error(None, f"a domain has two header lines: {sorted(r for r in rails if rails.count(r) > 1)}")
    traces = [d.trace(src) for d in domains]
    return ParseResult(POWERCAP, src.display, src.sha256, traces=traces, flags=list(FILE_FLAGS), extras=extras)


SPECS = (
    FormatSpec(
        FORMAT,
        "RAPL energy_uj samples: time_s,domain,name,energy_uj,max_energy_range_uj",
        detect,
        parse,
        verified=(
            Verified("mobench measure's sampler", "mobench's own CSV", "the kernel powercap ABI; mobench fixture"),
        ),
    ),
    FormatSpec(
        POWERCAP,
        "powercap energy_uj read in a loop: 'name=... max_energy_range_uj=...' then '<time s> <energy_uj>' lines",
        detect_powercap,
        parse_powercap,
        verified=(
            Verified(
                "Linux powercap sysfs (intel-rapl, amd)",
                "the form documented in rapl.py, with counter wraps",
                "the kernel powercap ABI (energy_uj, max_energy_range_uj, name); mobench fixture",
            ),
        ),
    ),
)
