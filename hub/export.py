"""Export a benchmark as parquet shards plus a dataset card, so `datasets.load_dataset(folder, config, split=...)`
works offline and returns exactly what the loader yields.

The card's YAML front matter lists every config with its `data_files` per split (custom split names such as
`training` are allowed); the features travel inside the parquet schema metadata, so 16-bit flow stays float32
arrays and images stay lossless PNG bytes. The card records the licence and citation, says whether the data is
synthetic, says that the export is for local use when the licence forbids redistribution, and shows how to reshape
the per-pixel columns, which are all stored flat in row order (`loaders.formats.flo.flow_feature`,
`loaders.formats.masks.mask_feature`, `label_map_feature`), back to (H, W, 2) or (H, W). What it shares with the
results dataset (`hub.results_dataset`): the `--out` checks, the staged replacement, the licence rule and the upload,
in `hub.core.dataset_folder`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import datasets
import yaml

from hub.core.dataset_folder import CARD, check_out, check_publishable, licence_notice, staged, upload
from hub.core.errors import MobenchError
from hub.core.registry import BenchmarkSpec
from hub.scoring.wiring import make_loader
from loaders.base import DatasetLoader
from loaders.formats.flo import flow_feature
from loaders.formats.masks import label_map_feature, mask_feature
from loaders.synthetic import is_synthetic


class PixelLayout(NamedTuple):
    """A per-pixel feature, stored flat in row order, as the dataset card words it."""

    feature: datasets.List
    kind: str
    values: str  # what the flat column holds
    trailing: str  # the reshape's dimensions after (height, width)


PIXEL_LAYOUTS = [
    PixelLayout(flow_feature(), "flows", "H*W*2 float32 values, the (u, v) of each pixel", ", 2"),
    PixelLayout(mask_feature(), "masks", "H*W bool values", ""),
    PixelLayout(label_map_feature(), "label maps", 'H*W uint8 values (`with_format("numpy")` gives int64)', ""),
]


@dataclass(frozen=True)
class ExportedSplit:
    config: str
    split: str
    n_rows: int
    files: list[Path]


def export_benchmark(
    spec: BenchmarkSpec,
    root: Path,
    out: Path,
    *,
    configs: list[str] | None = None,
    splits: list[str] | None = None,
    max_rows_per_shard: int = 500,
    overwrite: bool = False,
    on_split: Callable[[str, str], None] | None = None,
) -> list[ExportedSplit]:
    """Write the selected configs and splits of the release at `root` to `out`; returns what was written.

    Every selected split is read before anything is written, and one that holds no sample (e.g. a copy of part of
    a release) is refused with its reason: `datasets.load_dataset` cannot load an empty split. The shards go to a
    hidden staging folder inside `out` that takes the place of `out`'s contents only once every split is written,
    and the Arrow cache of the splits lives in a `mobench-ds-*` temporary folder; both are removed when the export
    ends, also when it fails, so a failed export leaves `out` as it was (and no `out` if there was none).
    """
    check_out(out, overwrite)
    selected = _selected_loaders(spec, root, configs, splits)
    with (
        staged(out) as staging,
        tempfile.TemporaryDirectory(prefix="mobench-ds-", ignore_cleanup_errors=True) as cache,
    ):
        exported, pixels = _write_splits(selected, staging, out, Path(cache), max_rows_per_shard, on_split)
        card = dataset_card(spec, exported, synthetic=is_synthetic(root), pixel_columns=pixels)
        (staging / CARD).write_text(card, encoding="utf-8")
    return exported


def _selected_loaders(
    spec: BenchmarkSpec, root: Path, configs: list[str] | None, splits: list[str] | None
) -> list[tuple[str, str, DatasetLoader]]:
    """(config, split, loader) of every selected split, each checked to hold at least one sample."""
    chosen = [spec.config(name) for name in configs] if configs else spec.configs
    selected = [
        (cfg.name, split.name, make_loader(spec, root, split.name, cfg.name))
        for cfg in chosen
        for split in cfg.splits
        if not splits or split.name in splits
    ]
    if not selected:
        known = "; ".join(f"{cfg.name}: {', '.join(sp.name for sp in cfg.splits)}" for cfg in chosen)
        raise MobenchError(f"{spec.id}: no split {', '.join(splits or [])} in the selected config(s) ({known})")
    sizes = [len(loader) for _, _, loader in selected]
    empty = [f"{c}/{s}: {loader.empty_reason()}" for (c, s, loader), n in zip(selected, sizes, strict=True) if not n]
    if empty:
        full = [f"{c}/{s} ({n} rows)" for (c, s, _), n in zip(selected, sizes, strict=True) if n]
        hint = f"; the selected splits that hold samples: {', '.join(full)} (choose with --config/--split)"
        raise MobenchError(
            f"{spec.id} from {root}: {len(empty)} split(s) hold no sample and cannot be exported (datasets cannot "
            f"load an empty split): {'; '.join(empty)}{hint if full else ''}. Nothing was written."
        )
    return selected


def _write_splits(
    selected: list[tuple[str, str, DatasetLoader]],
    staging: Path,
    out: Path,
    cache: Path,
    max_rows_per_shard: int,
    on_split: Callable[[str, str], None] | None,
) -> tuple[list[ExportedSplit], dict[str, datasets.List]]:
    """Write each split's parquet shards under `staging` (named as they will be under `out`); also returns the
    per-pixel columns and their features, in the features' order."""
    exported: list[ExportedSplit] = []
    pixels: dict[str, datasets.List] = {}
    pixel_features = [layout.feature for layout in PIXEL_LAYOUTS]
    for config, split, loader in selected:
        if on_split is not None:
            on_split(config, split)
        dataset = loader.to_dataset(cache / f"{config}-{split}")
        pixels.update((name, feature) for name, feature in dataset.features.items() if feature in pixel_features)
        n_shards = max(1, -(-len(dataset) // max_rows_per_shard))
        files = []
        for index in range(n_shards):
            relative = Path(config) / f"{split}-{index:05d}-of-{n_shards:05d}.parquet"
            (staging / relative).parent.mkdir(parents=True, exist_ok=True)
            dataset.shard(n_shards, index, contiguous=True).to_parquet(str(staging / relative))
            files.append(out / relative)
        exported.append(ExportedSplit(config, split, len(dataset), files))
        del dataset  # its Arrow files are memory-mapped from `cache`
    return exported, pixels


def dataset_card(
    spec: BenchmarkSpec, exported: list[ExportedSplit], *, synthetic: bool, pixel_columns: dict[str, datasets.List]
) -> str:
    """The dataset card; `pixel_columns` maps each per-pixel column to its feature (one of `PIXEL_LAYOUTS`)."""
    configs: dict[str, list[dict[str, str]]] = {}
    for item in exported:
        configs.setdefault(item.config, []).append(
            {"split": item.split, "path": f"{item.config}/{item.split}-*.parquet"}
        )
    front: dict[str, Any] = {
        "pretty_name": spec.title + (" (SYNTHETIC demo data)" if synthetic else ""),
        "license": "other",
        "license_name": spec.license.id,
        "license_link": spec.license.url,
        "tags": ["mobench", spec.family, *(["synthetic"] if synthetic else [])],
        "configs": [{"config_name": name, "data_files": files} for name, files in configs.items()],
    }
    example_config = exported[0].config if exported else spec.default_config
    rows = "\n".join(f"| {e.config} | {e.split} | {e.n_rows} |" for e in exported)
    notices = []
    if synthetic:
        notices.append(
            "> **Synthetic data.** This export was generated by mobench in the official on-disk format for "
            "demonstration and testing. It is not the official release and its numbers mean nothing about real models."
        )
    if notice := licence_notice(spec, "this data"):
        notices.append(notice)
    layout = _pixel_layout(pixel_columns)
    metrics = "\n".join(
        f"- `{m.name}` ({'higher' if m.higher_is_better else 'lower'} is better{', ' + m.unit if m.unit else ''}): "
        f"{m.description}"
        for m in spec.metrics
    )
    return f"""---
{yaml.safe_dump(front, sort_keys=False).strip()}
---

# {front["pretty_name"]}

{chr(10).join(notices)}

{spec.description.strip()}

Exported by mobench from benchmark `{spec.id}` version {spec.version}. Load it with:

```python
import datasets
ds = datasets.load_dataset("<this folder>", "{example_config}", split="{spec.default_split}")
```

| config | split | rows |
|---|---|---|
{rows}
{layout}
## Metrics
Primary metric: `{spec.primary_metric}`.

{metrics}

## Predictions format
{spec.prediction_format.strip()}

## Licence
{spec.license.id} — {spec.license.url}. {spec.license.note}

## Citation
```bibtex
{spec.citation.strip()}
```

Homepage: {spec.homepage}
"""


def _pixel_layout(pixel_columns: dict[str, datasets.List]) -> str:
    """The card's paragraph on the per-pixel columns: which they are, and one reshape per kind."""
    kinds, reshapes = [], []
    for layout in PIXEL_LAYOUTS:
        names = [name for name, feature in pixel_columns.items() if feature == layout.feature]
        if names:
            kinds.append(f"{layout.kind} ({', '.join(f'`{name}`' for name in names)}) as the {layout.values}")
            reshapes.append(f'{names[0]} = row["{names[0]}"].reshape(row["height"], row["width"]{layout.trailing})')
    if not kinds:
        return ""
    return (
        "\nEvery per-pixel column is stored flat, pixels in row-major order, because frame sizes may vary between "
        f"rows: {'; '.join(kinds)}. The `height` and `width` columns give the shape back (a split without ground "
        "truth holds None):\n\n"
        '```python\nrow = ds.with_format("numpy")[0]\n' + "\n".join(reshapes) + "\n```\n"
    )


def publish_export(
    spec: BenchmarkSpec, folder: Path, repo_id: str, *, private: bool = True, dry_run: bool = False
) -> list[Path]:
    """Upload an export folder as a Hugging Face dataset repository; returns the files it holds.

    The licence is checked first, so nothing leaves the machine for a benchmark that may not be redistributed.
    """
    check_publishable(spec)
    if not (folder / CARD).is_file():
        raise MobenchError(f"{folder} is not a mobench export (no README.md dataset card): run `mobench export` first")
    return upload(folder, repo_id, private=private, dry_run=dry_run)
