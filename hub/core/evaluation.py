"""The contract between evaluators and the rest of mobench.

Every evaluator is a callable `evaluate(request) -> EvaluationResult`; each is a `ShardedEvaluator`, so that a
submission's samples can be scored on several processes or machines with exactly the official figures. The request
says what to score and carries the split's ground truth, already loaded by the caller
(`hub.scoring.wiring.make_request`: the worker, `mobench evaluate`, the demo), so an evaluator knows no registry
resolver, no export and no store. The result holds the aggregate metrics (keyed by the registry's metric names,
exactly those: `check_metric_names` refuses a result with one more or one fewer), breakdowns (e.g. per scene), and
per-sample scores for drill-down. The CLI prints `to_json()`, the worker stores all of it.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from hub.core.bootstrap import LEVEL, RESAMPLES, SEED, Draws, Intervals, ResampledMetrics, draw, percentile_bounds
from hub.core.coverage import Coverage
from hub.core.errors import MobenchError
from hub.core.registry import BenchmarkSpec

# breakdown name -> key -> metric -> value, e.g. {"scene": {"alley_1": {"epe": 1.2}}}
Breakdowns = dict[str, dict[str, dict[str, float]]]


class GroundTruth(Protocol):
    """What an evaluator needs of a split's ground truth: a `loaders` DatasetLoader satisfies it."""

    root: Path
    split: str

    def sample_ids(self) -> list[str]: ...

    def __iter__(self) -> Iterator[dict[str, Any]]: ...


GroundTruthT = TypeVar("GroundTruthT")


@dataclass(frozen=True)
class EvaluationRequest:
    spec: BenchmarkSpec
    # The split to score against, loaded by the caller through the registry (never by the evaluator).
    ground_truth: GroundTruth
    predictions: Path
    split: str
    config: str
    allow_partial: bool = False
    # Hidden labels (sample id -> label) held by the hub operator, for benchmarks whose release ships none; read
    # from a key file by the spec's `labels_reader` (CLI) or from the store's hidden_labels table (worker).
    labels: Mapping[str, str] | None = None

    def ground_truth_as(self, kind: type[GroundTruthT]) -> GroundTruthT:
        """The ground truth as the loader class (or runtime-checkable protocol) this evaluator reads."""
        if not isinstance(self.ground_truth, kind):
            raise MobenchError(
                f"{self.spec.id}: its evaluator reads {kind.__name__} ground truth, "
                f"but the registry's loader gave {type(self.ground_truth).__name__}"
            )
        return self.ground_truth


@dataclass
class EvaluationResult:
    benchmark: str
    config: str
    split: str
    n_samples: int
    n_expected: int
    metrics: dict[str, float]
    breakdowns: Breakdowns = field(default_factory=dict)
    # sample id -> metric -> value
    sample_scores: dict[str, dict[str, float]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    # each aggregate metric's 95 % bootstrap interval (`hub.core.bootstrap`); None for an evaluator without a
    # declared resampling unit, or a result read back from a store that predates intervals
    intervals: Intervals | None = None

    @classmethod
    def scored(
        cls,
        request: EvaluationRequest,
        coverage: Coverage,
        metrics: dict[str, float],
        *,
        breakdowns: Breakdowns | None = None,
        sample_scores: dict[str, dict[str, float]] | None = None,
        details: dict[str, Any] | None = None,
    ) -> EvaluationResult:
        """The result of scoring the samples in `coverage.to_score`: benchmark, config and split come from the
        request, the sample counts and missing ids from the coverage, so no evaluator can report them differently."""
        return cls(
            benchmark=request.spec.id,
            config=request.config,
            split=request.split,
            n_samples=len(coverage.to_score),
            n_expected=coverage.n_expected,
            metrics=metrics,
            breakdowns=breakdowns or {},
            sample_scores=sample_scores or {},
            missing=coverage.missing,
            details=details or {},
        )

    @property
    def coverage(self) -> float:
        return self.n_samples / self.n_expected if self.n_expected else 0.0

    def exact_figures(self) -> dict[tuple[str, str], bytes | str]:
        """Every figure as its exact bits (`exact_bits`), keyed as `flat_figures` keys it: two scorings agree bit
        for bit exactly when these are equal."""
        flat = flat_figures(self.metrics, self.breakdowns, self.sample_scores, self.intervals)
        return {where: exact_bits(value) for where, value in flat.items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "config": self.config,
            "split": self.split,
            "n_samples": self.n_samples,
            "coverage": self.coverage,
            "metrics": {k: finite_or_none(v) for k, v in self.metrics.items()},
            "breakdowns": {
                name: {key: {m: finite_or_none(v) for m, v in vals.items()} for key, vals in groups.items()}
                for name, groups in self.breakdowns.items()
            },
            "missing": self.missing,
            **({"intervals": _intervals_json(self.intervals)} if self.intervals else {}),
            **({"details": self.details} if self.details else {}),
        }


def _intervals_json(intervals: Intervals) -> dict[str, Any]:
    return {
        **intervals.resampling_json(),
        "bounds": {m: [finite_or_none(lo), finite_or_none(hi)] for m, (lo, hi) in intervals.bounds.items()},
    }


def flat_figures(
    metrics: Mapping[str, float],
    breakdowns: Mapping[str, Mapping[str, Mapping[str, float]]],
    sample_scores: Mapping[str, Mapping[str, float]],
    intervals: Intervals | None = None,
) -> dict[tuple[str, str], float]:
    """Every figure of a scoring by (kind, name): `srcc`, `scene Indoor_Scene_1: srcc`, `<sample id>: mae`,
    `srcc: low`; what verification and the exactness tests compare one by one."""
    flat: dict[tuple[str, str], float] = {("metric", metric): value for metric, value in metrics.items()}
    for metric, (low, high) in (intervals.bounds if intervals else {}).items():
        flat |= {("interval", f"{metric}: low"): low, ("interval", f"{metric}: high"): high}
    for breakdown, groups in breakdowns.items():
        for key, values in groups.items():
            flat |= {("breakdown", f"{breakdown} {key}: {metric}"): value for metric, value in values.items()}
    for sample_id, values in sample_scores.items():
        flat |= {("sample score", f"{sample_id}: {metric}"): value for metric, value in values.items()}
    return flat


def exact_bits(value: float) -> bytes | str:
    """A float64's exact bits (so 0.0 and -0.0 differ), except that every NaN is one value (JSON has one null)."""
    return "nan" if math.isnan(value) else struct.pack("<d", value)


def finite_or_none(value: float | None) -> float | None:
    """JSON has no NaN: a figure with no pixels/samples to average over (or none stored) is reported as null, in
    `mobench evaluate --json`, the API's views and the notification events alike."""
    return value if value is None or math.isfinite(value) else None


UnitT = TypeVar("UnitT")
PartialT = TypeVar("PartialT")


@dataclass
class ScoringPlan(Generic[UnitT]):
    """What validation found: the units of work in the split's order and the coverage they come from.

    A unit is one sample's work, as plain picklable data (a sample id with its prediction file or its parsed
    prediction), so any process that can open the release can score it. `context` holds what only the reduce
    needs (it runs where the plan was made).
    """

    coverage: Coverage
    units: list[UnitT]
    context: Any = None


@dataclass(frozen=True)
class Resampling(Generic[UnitT, PartialT]):
    """How an evaluator's figures are resampled for their intervals (`hub.core.bootstrap`): the unit its official
    pooling treats as one, and its pooling of the drawn units.

    - `unit`: the unit's name, shown beside the intervals ("image", "scene", "question", "participant"), or, for an
      evaluator whose spec's options choose the protocol, a function of the request giving it.
    - `unit_of(request, plan, partials)`: each partial's unit key, in the partials' order (the sample's id when the
      unit is the sample).
    - `metrics(request, plan, partials, draws)`: each of the spec's metrics in every resample, pooled by the
      evaluator's own pooling code over the drawn units (never a second copy of a definition).
    """

    unit: str | Callable[[EvaluationRequest], str]
    unit_of: Callable[[EvaluationRequest, ScoringPlan[UnitT], list[PartialT]], Sequence[Hashable]]
    metrics: Callable[[EvaluationRequest, ScoringPlan[UnitT], list[PartialT], Draws], ResampledMetrics]

    def intervals(self, request: EvaluationRequest, plan: ScoringPlan[UnitT], partials: list[PartialT]) -> Intervals:
        """Every spec metric's interval for one scoring (NaN bounds for a metric no resample defines)."""
        draws = draw(self.unit_of(request, plan, partials))
        resampled = self.metrics(request, plan, partials, draws) if draws.members else {}
        nan = (math.nan, math.nan)
        bounds = {
            m.name: percentile_bounds(resampled[m.name]) if m.name in resampled else nan for m in request.spec.metrics
        }
        unit = self.unit if isinstance(self.unit, str) else self.unit(request)
        return Intervals(unit, len(draws.members), RESAMPLES, SEED, LEVEL, bounds)


def each_sample(_request: EvaluationRequest, plan: ScoringPlan[Any], partials: list[Any]) -> list[int]:
    """The unit key of a resampling whose unit is the sample: each partial is its own unit."""
    return list(range(len(partials)))


@dataclass(frozen=True)
class ShardedEvaluator(Generic[UnitT, PartialT]):
    """An evaluator as plan -> map -> reduce, so that scoring is exact however the samples are split.

    - `plan(request)`: read and check the submission as a whole (coverage, prediction text files), raising a
      `PredictionError` naming every problem; returns the units to score.
    - `map(request, units)`: one partial result per unit, in the units' order: per-sample statistics only
      (pixel counts and float64 sums, per-sample values), never anything pooled over several samples.
    - `reduce(request, plan, partials)`: the official aggregation over all partials, given in the plan's order.

    - `resampling`: how the partials are resampled for the metrics' intervals, computed after the reduce from the
      same partials (so they too are the same whatever scored the map).

    Because the reduce always sees the same per-unit partials in the same order, 1 process, a pool or a cluster
    give bit-identical metrics. Calling it runs all three in this process.
    """

    plan: Callable[[EvaluationRequest], ScoringPlan[UnitT]]
    map: Callable[[EvaluationRequest, Sequence[UnitT]], list[PartialT]]
    reduce: Callable[[EvaluationRequest, ScoringPlan[UnitT], list[PartialT]], EvaluationResult]
    resampling: Resampling[UnitT, PartialT] | None = None

    def __call__(self, request: EvaluationRequest) -> EvaluationResult:
        plan = self.plan(request)
        return self.reduced(request, plan, self.map(request, plan.units))

    def reduced(
        self, request: EvaluationRequest, plan: ScoringPlan[UnitT], partials: list[PartialT]
    ) -> EvaluationResult:
        """The reduce, whose metric names must be the spec's (`check_metric_names`), with the metrics' intervals:
        every scoring path ends here."""
        result = check_metric_names(request.spec, self.reduce(request, plan, partials))
        if self.resampling is not None:
            result.intervals = self.resampling.intervals(request, plan, partials)
        return result


class MetricNamesError(MobenchError):
    """An evaluator reported other metrics than its benchmark's spec declares (a registry or evaluator defect)."""


def check_metric_names(spec: BenchmarkSpec, result: EvaluationResult) -> EvaluationResult:
    """`result`, if its aggregate metrics are exactly the ones `spec` declares; else a `MetricNamesError` naming the
    benchmark and the names on either side. A metric with nothing to average over is NaN, never left out, so a
    name the evaluator does not produce is a defect, not an empty figure."""
    declared, produced = [m.name for m in spec.metrics], list(result.metrics)
    unproduced = [name for name in declared if name not in result.metrics]
    undeclared = [name for name in produced if name not in declared]
    if unproduced or undeclared:
        parts = [
            *([f"declared but not produced: {', '.join(unproduced)}"] if unproduced else []),
            *([f"produced but not declared: {', '.join(undeclared)}"] if undeclared else []),
        ]
        raise MetricNamesError(
            f"{spec.id}: its evaluator's metrics differ from its spec's ({'; '.join(parts)}); "
            "no result is recorded until hub/benchmarks and the evaluator agree"
        )
    return result
