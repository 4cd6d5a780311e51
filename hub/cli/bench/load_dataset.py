"""Reading a benchmark back from its export: a full iteration of `datasets.load_dataset` on what `hub.export` wrote,
against the project's loader iterating the raw release, for KITTI 2015 optical flow.

Why flow, and KITTI: it is the family where the export can cost most. Flow fields and masks are per-pixel arrays
whose height and width vary between KITTI sequences, and `datasets` 5.2 allows a dynamic size on the first
dimension only. Every per-pixel column is stored flat, with the row's `height` and `width`
(`loaders.formats.flo.flow_feature`, `loaders.formats.masks.mask_feature`): as nested lists `.with_format("numpy")`
built one array per pixel of a flow (~2.5 s a field) and one per image row of a mask or object map (~4 ms each,
three per pair). PIQ23 and MIDV rows are images and scalars, which `datasets` stores and decodes natively.

Workload: `size` pairs of 1242x375 (default 5; generating and exporting the release takes seconds a pair, and
the ratio does not depend on the count), written by `loaders.synthetic.flow.build_kitti_2015` (the tree the
`flow-kitti` case uses) and exported by `hub.export.export_benchmark` (training split).

- project: `datasets.load_dataset(export, "default", split="training")` (the cache it builds on the warm-up run is
  reused, as a user's second load is) and every row through `.with_format("numpy")`, the format whose rows hold
  what the loader yields: flat float32 flows, flat bool masks, the flat object map, both frames as arrays.
- reference: `KittiFlow2015` built on the raw release and iterated: per pair two RGB PNG frames, two 16-bit flow
  PNGs and the object map, decoded.

The check: the same ids in the same order, and every column of every row holds the same values of the same dtype
on both sides (integers may come back as int64, which `.with_format("numpy")` makes of every integer column),
`height` and `width` included, so the documented `reshape(height, width[, 2])` of an exported flow or mask gives
the loader's ground truth.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import datasets
import numpy as np

from hub.cli.bench import BenchCase, Prepared, benchmark_built_by, build_once
from hub.cli.bench.flow_kitti import SHAPE, release
from hub.export import export_benchmark
from hub.scoring.wiring import make_loader
from loaders.synthetic.flow import build_kitti_2015

SPLIT = "training"


def _prepare(workdir: Path, size: int) -> Prepared:
    spec = benchmark_built_by(build_kitti_2015)
    root, key = release(workdir, size)
    # the schema is part of the key: an export of an earlier mobench, in a reused --workdir, is written again
    schema = make_loader(spec, root, SPLIT).features()
    export = build_once(
        root.with_name(f"{root.name}-export"),
        f"{key} features {schema}",
        lambda out: export_benchmark(spec, root, out, splits=[SPLIT]),
    )
    cache = workdir / "hf-cache"  # datasets keys its cache by the folder's name, so a rebuilt export needs a new one
    shutil.rmtree(cache, ignore_errors=True)

    def project() -> list[dict[str, Any]]:
        dataset = datasets.load_dataset(str(export), spec.default_config, split=SPLIT, cache_dir=str(cache))
        return list(dataset.with_format("numpy"))

    def reference() -> list[dict[str, Any]]:
        return list(make_loader(spec, root, SPLIT))

    def check(exported: Any, raw: Any) -> None:
        if [str(row["id"]) for row in exported] != [row["id"] for row in raw]:
            raise AssertionError("the export's rows are not the release's samples in the loader's order")
        for back, sample in zip(exported, raw, strict=True):
            if set(back) != set(sample):
                raise AssertionError(f"{sample['id']}: the export's columns {sorted(back)} are not {sorted(sample)}")
            differ = [name for name in sample if not _same(back[name], sample[name])]
            if differ:
                raise AssertionError(f"{sample['id']}: the export's {', '.join(differ)} differ from the release's")

    height, width = SHAPE
    return Prepared(project, reference, check, f"{size} KITTI pairs of {width}x{height}, every column of every row")


def _same(back: Any, sample: Any) -> bool:
    """The same values, and the same dtype but for integer width: a bool mask read back as 0/1 integers differs."""
    got, want = np.asarray(back), np.asarray(sample)
    same_type = got.dtype == want.dtype or (got.dtype.kind in "iu" and want.dtype.kind in "iu")
    return same_type and np.array_equal(got, want)


CASE = BenchCase(
    name="load-dataset",
    description="iterate a KITTI flow export with datasets.load_dataset against the loader on the raw release",
    project_name='datasets.load_dataset(export) .with_format("numpy"), every row',
    reference_name="loaders.kitti_flow.KittiFlow2015 on the raw release, every sample",
    default_size=5,
    prepare=_prepare,
)
