"""Where a benchmark spec's dotted names become objects, and where a split's ground truth meets its evaluator.

The registry names every part of a benchmark as `package.module:attribute` (loader, evaluator, synthetic builder,
baselines, labels reader). This module is the only one that imports those names, so the parts below it (loaders,
readers, evaluators) never reach up to find each other: the caller loads the split through the registry and hands
it to the evaluator (`make_request`, then `hub.scoring.executors.score`).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hub.core.errors import MobenchError
from hub.core.evaluation import EvaluationRequest, ShardedEvaluator
from hub.core.registry import BenchmarkSpec
from loaders.base import DatasetLoader


def resolve(dotted: str) -> Any:
    """Import `package.module:attribute` (the form used by the spec's loader/evaluator/builder fields)."""
    module_name, _, attr = dotted.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


def make_loader(spec: BenchmarkSpec, root: Path, split: str, config: str | None = None) -> DatasetLoader:
    """The one place that turns a registry entry into a loader instance: the spec's `loader_options` as keywords,
    and the spec itself as `benchmark` to a loader that `takes_benchmark`."""
    loader_cls = resolve(spec.loader)
    options = {**spec.loader_options, **({"benchmark": spec} if loader_cls.takes_benchmark else {})}
    loader: DatasetLoader = loader_cls(root, split=split, config=config or spec.default_config, **options)
    return loader


def evaluator_for(spec: BenchmarkSpec) -> ShardedEvaluator[Any, Any]:
    evaluate = resolve(spec.evaluator)
    if not isinstance(evaluate, ShardedEvaluator):
        raise MobenchError(f"{spec.id}: evaluator {spec.evaluator} is not a ShardedEvaluator (plan, map, reduce)")
    return evaluate


def read_labels(spec: BenchmarkSpec, key: Path) -> dict[str, str]:
    """The operator's answer key for a benchmark with hidden labels, read by the spec's `labels_reader`."""
    if spec.labels_reader is None:
        raise MobenchError(f"{spec.id} ships its labels with the release; it takes no answer key")
    labels: dict[str, str] = resolve(spec.labels_reader)(key)
    return labels


def make_request(
    spec: BenchmarkSpec,
    root: Path,
    predictions: Path,
    split: str | None = None,
    config: str | None = None,
    allow_partial: bool = False,
    labels: Mapping[str, str] | None = None,
) -> EvaluationRequest:
    """The request to score `predictions` against one split of the release at `root`.

    Checks that the split can be scored here and loads its ground truth through the registry, so the evaluator
    receives it ready (evaluators never resolve a loader themselves).
    """
    cfg = spec.config(config)
    split_spec = cfg.split(split or spec.default_split)
    if split_spec.labels == "none":
        raise MobenchError(
            f"{spec.id}: split {split_spec.name!r} cannot be scored here: its ground truth is not public "
            f"(labels: none; only the official server at {spec.homepage} holds it). "
            f"Score a split with public labels, e.g. {spec.default_split!r}."
        )
    return EvaluationRequest(
        spec=spec,
        ground_truth=make_loader(spec, root, split_spec.name, cfg.name),
        predictions=predictions,
        split=split_spec.name,
        config=cfg.name,
        allow_partial=allow_partial,
        labels=labels,
    )
