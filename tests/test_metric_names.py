"""A result's metric names are exactly its spec's: every scoring path refuses one more or one fewer, naming them.

Every registered benchmark is scored once here through `hub.scoring.executors.score` (the path of the worker, the
CLI and verification): those with a synthetic release on the demo's data and first baseline, the LifeSnaps tasks
(no synthetic release) on the hand-made tree of `tests.fixtures.health` with their labels as predictions.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hub.cli.demo import DemoSummary
from hub.core.evaluation import MetricNamesError, check_metric_names
from hub.core.registry import BenchmarkSpec, MetricSpec, all_benchmarks, get_benchmark
from hub.scoring.executors import score
from hub.scoring.wiring import make_loader, make_request, resolve
from loaders.synthetic import hidden_labels_path
from tests.fixtures.health import daily_row, write_lifesnaps

LIFESNAPS_PANAS = {
    "user_id": "u1",
    "type": "panas",
    "submitdate": "2021-06-08",
    "positive_affect_score": 30,
    "negative_affect_score": 12,
}


def _demo_request(demo: DemoSummary, spec: BenchmarkSpec) -> tuple[Path, Path, dict[str, str] | None]:
    """The release, the first baseline's predictions and the hidden labels of `spec` in the demo's folders."""
    work = demo.db_path.parent
    root = work / "data" / spec.id
    baseline = resolve(spec.baselines or "")[0]
    predictions = work / "baseline-runs" / f"{spec.id}--{baseline.name}" / "predictions"
    labels = resolve(spec.labels_reader)(hidden_labels_path(root)) if spec.labels_reader else None
    return root, predictions, labels


def _lifesnaps_predictions(spec: BenchmarkSpec, root: Path, folder: Path) -> Path:
    """The split's labels as a `window_id,prediction` CSV: a valid submission of a LifeSnaps task."""
    folder.mkdir(parents=True)
    with (folder / "predictions.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["window_id", "prediction"])
        writer.writerows((row["id"], repr(row["label"])) for row in make_loader(spec, root, "test", "all"))
    return folder


def test_every_registered_benchmark_scores_exactly_its_specs_metrics(demo: DemoSummary, tmp_path: Path) -> None:
    days = ("2021-06-01", "2021-06-03", "2021-06-05")
    lifesnaps = write_lifesnaps(tmp_path / "lifesnaps", [daily_row("u1", day) for day in days], [LIFESNAPS_PANAS])
    scored = set()
    for spec in all_benchmarks():
        if spec.synthetic_builder and spec.baselines:
            root, predictions, labels = _demo_request(demo, spec)
            request = make_request(spec, root, predictions, labels=labels)
        else:  # the LifeSnaps tasks: no synthetic release
            predictions = _lifesnaps_predictions(spec, lifesnaps, tmp_path / spec.id)
            request = make_request(spec, lifesnaps, predictions, config="all")
        result = score(request)
        assert result.n_samples > 0 and set(result.metrics) == {m.name for m in spec.metrics}, spec.id
        scored.add(spec.id)
    assert scored == {s.id for s in all_benchmarks()}


def _with_metrics(spec: BenchmarkSpec, metrics: list[MetricSpec]) -> BenchmarkSpec:
    return spec.model_copy(update={"metrics": metrics})


def test_a_spec_metric_the_evaluator_does_not_produce_is_refused_by_name(demo: DemoSummary) -> None:
    spec = get_benchmark("pmdata-stress")
    extra = MetricSpec(name="kappa", higher_is_better=True, description="not computed by evaluators.health")
    changed = _with_metrics(spec, [*spec.metrics, extra])
    root, predictions, labels = _demo_request(demo, spec)
    with pytest.raises(MetricNamesError, match=r"^pmdata-stress: .*declared but not produced: kappa\)"):
        score(make_request(changed, root, predictions, labels=labels))


def test_a_metric_the_evaluator_produces_but_the_spec_lacks_is_refused_by_name(demo: DemoSummary) -> None:
    spec = get_benchmark("piq23-overall")
    changed = _with_metrics(spec, [m for m in spec.metrics if m.name not in ("krcc_global", "plcc_mean")])
    root, predictions, labels = _demo_request(demo, spec)
    refused = r"^piq23-overall: .*produced but not declared: plcc_mean, krcc_global\)"
    with pytest.raises(MetricNamesError, match=refused):
        score(make_request(changed, root, predictions, labels=labels))


def test_the_check_names_both_directions_at_once(demo: DemoSummary) -> None:
    spec = get_benchmark("piq23-overall")
    root, predictions, labels = _demo_request(demo, spec)
    result = score(make_request(spec, root, predictions, labels=labels))
    result.metrics = {("srcc_median" if k == "srcc" else k): v for k, v in result.metrics.items()}
    with pytest.raises(MetricNamesError) as raised:
        check_metric_names(spec, result)
    assert str(raised.value).startswith(
        "piq23-overall: its evaluator's metrics differ from its spec's (declared but not produced: srcc; "
        "produced but not declared: srcc_median)"
    )
