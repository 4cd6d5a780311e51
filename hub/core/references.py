"""Results reported in the literature: flagged reference rows, never reproduced by mobench and never stored.

They live in reviewed data files, `hub/references/<family>.yaml`, one entry per (model, benchmark, split). Each
figure must be traceable: the entry quotes the sentence or table row it comes from, and `load_references` checks,
when the files are read, that the benchmark, config, split and metric names exist in the registry and that every
number it records appears in its quote (latency as s or ms, memory as B, MB or GB; a metric the source gives in
another unit, e.g. a fraction where mobench records %, only through the factor the entry declares in
`unit_conversion`). A parameter count that is the source's size label ("3B") rather than a count is marked
`params_nominal`, and shown as such. The leaderboard shows them only behind a toggle, marked "reported, not reproduced
by mobench", and never ranks them with scored submissions.
"""

from __future__ import annotations

import math
import re
from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, ValidationError, model_validator

from hub.core.registry import load_registry

FLAG = "reported, not reproduced by mobench"
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReferenceModel(_Strict):
    """The model a reported figure belongs to.

    `params_nominal` is true when `params` is the size a source names the model by ("Flan-T5 (3B)" gives 3e9), not
    a count of its weights (torchvision's 5257536 for RAFT): a visitor comparing sizes must tell a rounded label from
    a count.
    """

    name: str = Field(min_length=1)
    params: int | None = Field(default=None, gt=0)
    params_nominal: bool = False

    @model_validator(mode="after")
    def _nominal_needs_params(self) -> ReferenceModel:
        if self.params_nominal and self.params is None:
            raise ValueError("params_nominal is set but params is missing")
        return self

    @property
    def params_basis(self) -> str | None:
        """How `params` was obtained, as the leaderboard shows it beside the number (None when there is none)."""
        if self.params is None:
            return None
        return "nominal (the source's size label)" if self.params_nominal else "count"


class ReferenceDevice(_Strict):
    name: str = Field(min_length=1)
    soc: str = ""


class ReferenceResult(_Strict):
    benchmark: str
    split: str
    config: str
    model: ReferenceModel
    metrics: dict[str, float] = Field(min_length=1)
    device: ReferenceDevice | None = None
    latency_s: float | None = Field(default=None, gt=0)
    memory_bytes: int | None = Field(default=None, gt=0)
    throughput_tokens_per_s: float | None = Field(default=None, gt=0)
    citation: str = Field(min_length=1)
    url: str = Field(pattern=r"^https?://")
    where: str = Field(min_length=1)
    quote: str = Field(min_length=1)
    note: str = ""
    # metric -> factor, for a figure the source writes in another unit: recorded value = quoted number x factor (100
    # for a macro F1 of 0.38 that mobench records as 38 %). Declared per entry, so a number is never rescaled silently.
    unit_conversion: dict[str, PositiveFloat] = Field(default_factory=dict)


def quoted_numbers(quote: str) -> set[float]:
    """Every number written in `quote` (a comma separates numbers, as in the CSV rows some sources are)."""
    return {float(token) for token in _NUMBER.findall(quote)}


def _in_quote(value: float, numbers: set[float], scales: tuple[float, ...] = (1.0,)) -> bool:
    return any(math.isclose(value / scale, n, rel_tol=1e-9, abs_tol=1e-9) for n in numbers for scale in scales)


def check_reference(ref: ReferenceResult) -> list[str]:
    """What is wrong with one entry against the registry and its own quote (empty when it is sound)."""
    registry = load_registry()
    spec = registry.get(ref.benchmark)
    if spec is None:
        return [f"unknown benchmark {ref.benchmark!r}"]
    problems: list[str] = []
    configs = {c.name: c for c in spec.configs}
    if ref.config not in configs:
        problems.append(f"{ref.benchmark} has no config {ref.config!r}")
    elif ref.split not in {s.name for s in configs[ref.config].splits}:
        problems.append(f"{ref.benchmark}/{ref.config} has no split {ref.split!r}")
    known = {m.name for m in spec.metrics}
    numbers = quoted_numbers(ref.quote)
    for name in sorted(set(ref.unit_conversion) - set(ref.metrics)):
        problems.append(f"unit_conversion names {name!r}, which the entry does not record")
    for name, value in ref.metrics.items():
        factor = ref.unit_conversion.get(name)
        if name not in known:
            problems.append(f"{ref.benchmark} has no metric {name!r}")
        elif factor is None and not _in_quote(value, numbers):
            problems.append(f"{name} = {value:g} does not appear in the quote")
        elif factor is not None and not _in_quote(value, numbers, (factor,)):
            problems.append(f"{name} = {value:g} does not appear in the quote as {value / factor:g} (x {factor:g})")
    if ref.latency_s is not None and not _in_quote(ref.latency_s, numbers, (1.0, 1e-3)):
        problems.append(f"latency_s = {ref.latency_s:g} appears in the quote neither as s nor as ms")
    if ref.memory_bytes is not None and not _in_quote(ref.memory_bytes, numbers, (1.0, 1e6, 1e9, 2**20, 2**30)):
        problems.append(f"memory_bytes = {ref.memory_bytes} appears in the quote neither as B, MB nor GB")
    if ref.throughput_tokens_per_s is not None and not _in_quote(ref.throughput_tokens_per_s, numbers):
        problems.append(f"throughput_tokens_per_s = {ref.throughput_tokens_per_s:g} does not appear in the quote")
    return problems


def parse_references(text: str, source: str) -> list[ReferenceResult]:
    """The entries of one references file, each validated; one ValueError lists every problem by entry."""
    raw = yaml.safe_load(text) or []
    if not isinstance(raw, list):
        raise ValueError(f"{source}: expected a list of reference entries")
    entries: list[ReferenceResult] = []
    problems: list[str] = []
    for index, item in enumerate(raw, 1):
        label = f"{source} entry {index}"
        try:
            ref = ReferenceResult.model_validate(item)
        except ValidationError as error:
            problems.append(f"{label}: {error.errors()[0]['loc']}: {error.errors()[0]['msg']}")
            continue
        label += f" ({ref.model.name} on {ref.benchmark})"
        problems += [f"{label}: {p}" for p in check_reference(ref)]
        entries.append(ref)
    if problems:
        raise ValueError("invalid reference rows:\n" + "\n".join(problems))
    return entries


@cache
def load_references() -> tuple[ReferenceResult, ...]:
    folder = resources.files("hub") / "references"
    entries: list[ReferenceResult] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            entries += parse_references(entry.read_text(encoding="utf-8"), f"hub/references/{entry.name}")
    return tuple(entries)


def references_for(benchmark_id: str) -> list[ReferenceResult]:
    return [ref for ref in load_references() if ref.benchmark == benchmark_id]
