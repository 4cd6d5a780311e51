"""`mobench bench`: performance benchmarks, each timing the project's path against a named reference in the same run.

A case lives in its own module in this package and exposes `CASE: BenchCase`. Its `prepare(workdir, size)` builds
the inputs once and returns the two callables to time; both must compute the same thing, and the case's `check`
compares their results so that a speed-up can never come from doing less work. Timings are the median of several
repeats after a warm-up run of each side, measured with `time.perf_counter` in the same process, the two sides
taking turns (on a shared machine a burst of load then slows both, not just the one that happened to be running).
"""

from __future__ import annotations

import importlib
import pkgutil
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.core.errors import MobenchError
from hub.core.registry import BenchmarkSpec, all_benchmarks

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


def build_once(folder: Path, key: str, build: Callable[[Path], object]) -> Path:
    """`folder` as `build(folder)` writes it, rebuilt only when it was not built from the same `key` already.

    Generating a full-size release takes minutes, so a second `mobench bench CASE --workdir DIR` of the same case
    and size reuses the first one's inputs. The key (what the inputs depend on: size, seed) sits beside the folder,
    never inside it, so the folder holds exactly what `build` wrote.
    """
    stamp = folder.with_name(f"{folder.name}.built")
    if folder.is_dir() and stamp.is_file() and stamp.read_text(encoding="utf-8") == key:
        return folder
    stamp.unlink(missing_ok=True)
    if folder.exists():
        shutil.rmtree(folder)
    build(folder)
    stamp.write_text(key, encoding="utf-8")
    return folder


def benchmark_built_by(builder: Callable[..., object]) -> BenchmarkSpec:
    """The first registered benchmark whose synthetic release `builder` writes (its spec's `synthetic_builder`):
    the benchmark a case that builds its data with `builder` scores, so that no case names a benchmark id."""
    dotted = f"{builder.__module__}:{builder.__name__}"
    for spec in all_benchmarks():
        if spec.synthetic_builder == dotted:
            return spec
    raise MobenchError(f"no registered benchmark has the synthetic builder {dotted}")


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


def _timed(fn: Timed) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def run_case(case: BenchCase, workdir: Path, *, size: int | None = None, repeats: int = 5) -> BenchReport:
    prepared = case.prepare(workdir, size if size is not None else case.default_size)
    project_result = prepared.project()  # warm-up of each side: imports, caches, lazy allocation
    reference_result = prepared.reference()
    project_s: list[float] = []
    reference_s: list[float] = []
    for _ in range(repeats):  # alternating, so that a load from other processes slows both sides alike
        seconds, project_result = _timed(prepared.project)
        project_s.append(seconds)
        seconds, reference_result = _timed(prepared.reference)
        reference_s.append(seconds)
    prepared.check(project_result, reference_result)
    return BenchReport(
        case=case.name,
        workload=prepared.workload,
        project_name=case.project_name,
        reference_name=case.reference_name,
        project_s=project_s,
        reference_s=reference_s,
    )
