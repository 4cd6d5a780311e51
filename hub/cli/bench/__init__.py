"""`mobench bench`: performance benchmarks, each timing the project's path against a named reference in the same run.

A case lives in its own module in this package and exposes `CASE: BenchCase`. Its `prepare(workdir, size)` builds
the inputs once and returns the two callables to time; both must compute the same thing, and the case's `check`
compares their results so that a speed-up can never come from doing less work. Timings are the median of several
repeats after a warm-up run, measured with `time.perf_counter`, in the same process, one after the other.
"""

from __future__ import annotations

import importlib
import pkgutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.core.errors import MobenchError

Timed = Callable[[], Any]


@dataclass(frozen=True)
class Prepared:
    project: Timed
    reference: Timed
    check: Callable[[Any, Any], None]
    workload: str


@dataclass(frozen=True)
class BenchCase:
    name: str
    description: str
    project_name: str
    reference_name: str
    default_size: int
    prepare: Callable[[Path, int], Prepared]


@dataclass(frozen=True)
class BenchReport:
    case: str
    workload: str
    project_name: str
    reference_name: str
    project_s: list[float]
    reference_s: list[float]

    @property
    def project_median_s(self) -> float:
        return statistics.median(self.project_s)

    @property
    def reference_median_s(self) -> float:
        return statistics.median(self.reference_s)

    @property
    def speedup(self) -> float:
        """How many times faster the project's path is than the reference (median over median)."""
        return self.reference_median_s / self.project_median_s

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "workload": self.workload,
            "project": {"name": self.project_name, "median_s": self.project_median_s, "runs_s": self.project_s},
            "reference": {
                "name": self.reference_name,
                "median_s": self.reference_median_s,
                "runs_s": self.reference_s,
            },
            "speedup": self.speedup,
        }


def cases() -> dict[str, BenchCase]:
    found: dict[str, BenchCase] = {}
    for info in pkgutil.iter_modules(__path__):
        case = getattr(importlib.import_module(f"{__name__}.{info.name}"), "CASE", None)
        if isinstance(case, BenchCase):
            found[case.name] = case
    return dict(sorted(found.items()))


def get_case(name: str) -> BenchCase:
    known = cases()
    if name not in known:
        raise MobenchError(f"unknown bench case {name!r}; known cases: {', '.join(known)}")
    return known[name]


def _time(fn: Timed, repeats: int) -> tuple[list[float], Any]:
    result = fn()  # warm-up: imports, caches, lazy allocation
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - start)
    return runs, result


def run_case(case: BenchCase, workdir: Path, *, size: int | None = None, repeats: int = 5) -> BenchReport:
    prepared = case.prepare(workdir, size if size is not None else case.default_size)
    project_s, project_result = _time(prepared.project, repeats)
    reference_s, reference_result = _time(prepared.reference, repeats)
    prepared.check(project_result, reference_result)
    return BenchReport(
        case=case.name,
        workload=prepared.workload,
        project_name=case.project_name,
        reference_name=case.reference_name,
        project_s=project_s,
        reference_s=reference_s,
    )
