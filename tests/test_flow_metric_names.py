"""The flow evaluators report the metrics their protocol computes, not the spec's names (#23 item 2, flow half).

A KITTI-format release is scored on the metrics its declared ground-truth channels allow
(`kitti_format_metric_names` of the loader's `gt_keys()`), Sintel on `SINTEL_METRICS`; so a spec that names a
metric the evaluator does not compute (misspelt, or needing a channel the release lacks) or leaves one out is refused
by `check_metric_names`, naming the benchmark and the names, instead of scoring a NaN or dropping a figure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evaluators.flow_pools import SINTEL_METRICS, kitti_format_metric_names
from evaluators.readers.flow import write_prediction
from hub.core.errors import MobenchError
from hub.core.evaluation import MetricNamesError
from hub.core.registry import BenchmarkSpec, MetricSpec, get_benchmark
from hub.scoring.executors import score
from hub.scoring.wiring import make_loader, make_request
from loaders.hd1k import HD1K
from loaders.kitti_flow import KittiFlow2015
from loaders.synthetic.flow import build_hd1k, build_kitti_2015, build_sintel

KITTI_METRICS = ["fl_all", "fl_bg", "fl_fg", "fl_all_noc", "fl_bg_noc", "fl_fg_noc", "epe", "epe_noc"]


def test_the_names_follow_the_release_channels() -> None:
    assert kitti_format_metric_names(KittiFlow2015.gt_keys()) == [*KITTI_METRICS, "epe_image_mean", "density"]
    assert kitti_format_metric_names(HD1K.gt_keys()) == ["fl_all", "epe", "epe_image_mean", "density"]
    occ_noc = ["flow_occ", "valid_occ", "flow_noc", "valid_noc"]  # no obj_map: no background/foreground split
    assert kitti_format_metric_names(occ_noc) == ["fl_all", "fl_all_noc", "epe", "epe_noc", "epe_image_mean", "density"]
    with pytest.raises(MobenchError, match="needs flow_occ and valid_occ"):
        kitti_format_metric_names(["flow_noc", "valid_noc"])
    # the registered specs name exactly these, in this order
    kitti, hd1k = (kitti_format_metric_names(loader.gt_keys()) for loader in (KittiFlow2015, HD1K))
    assert [m.name for m in get_benchmark("kitti-2015-flow").metrics] == kitti
    assert [m.name for m in get_benchmark("hd1k-flow").metrics] == hd1k
    assert [m.name for m in get_benchmark("sintel-clean").metrics] == list(SINTEL_METRICS)


def _release(spec: BenchmarkSpec, tmp_path: Path) -> Path:
    root = tmp_path / spec.id
    {"kitti-2015-flow": build_kitti_2015, "hd1k-flow": build_hd1k, "sintel-clean": build_sintel}[spec.id](root)
    return root


def _ground_truth_predictions(spec: BenchmarkSpec, root: Path, tmp_path: Path) -> Path:
    """A valid submission: every pair's GT flow (0 where it has none)."""
    loader = make_loader(spec, root, spec.default_split)
    predictions = tmp_path / f"{spec.id}-predictions"
    for sample_id in loader.sample_ids():
        flow = next(iter(loader.ground_truth(sample_id).values()))
        write_prediction(spec, predictions, sample_id, np.asarray(flow, np.float32))
    return predictions


def _with_metrics(spec: BenchmarkSpec, names: list[str]) -> BenchmarkSpec:
    known = {m.name: m for m in spec.metrics}
    metrics = [known.get(n, MetricSpec(name=n, higher_is_better=False, description="test")) for n in names]
    return spec.model_copy(update={"metrics": metrics, "primary_metric": names[0]})


@pytest.mark.parametrize(
    ("spec_id", "names", "refused"),
    [
        # a misspelt name (KITTI's Fl-all is fl_all, not fl_all_occ)
        ("kitti-2015-flow", ["fl_all_occ", *KITTI_METRICS[1:], "epe_image_mean", "density"],
         "declared but not produced: fl_all_occ; produced but not declared: fl_all"),
        # a computed name left out: it was dropped without a word before
        ("kitti-2015-flow", [*KITTI_METRICS[:-1], "epe_image_mean", "density"], "produced but not declared: epe_noc"),
        # a metric needing a channel HD1K does not ship (obj_map), and one HD1K computes left out
        ("hd1k-flow", ["fl_all", "fl_bg", "epe", "epe_image_mean"],
         "declared but not produced: fl_bg; produced but not declared: density"),
        # Sintel: a bin that is not one of its columns, and a computed one left out
        ("sintel-clean", [*SINTEL_METRICS[:-1], "s40_60"],
         "declared but not produced: s40_60; produced but not declared: acc_5px"),
    ],
)  # fmt: skip
def test_a_spec_whose_flow_metrics_differ_is_refused_naming_them(
    tmp_path: Path, spec_id: str, names: list[str], refused: str
) -> None:
    spec = get_benchmark(spec_id)
    root = _release(spec, tmp_path)
    predictions = _ground_truth_predictions(spec, root, tmp_path)
    assert set(score(make_request(spec, root, predictions)).metrics) == {m.name for m in spec.metrics}
    with pytest.raises(MetricNamesError) as raised:
        score(make_request(_with_metrics(spec, names), root, predictions))
    assert str(raised.value).startswith(f"{spec_id}: its evaluator's metrics differ from its spec's ({refused})")
