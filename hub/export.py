"""Export a benchmark as parquet shards plus a dataset card, so `datasets.load_dataset(folder, config, split=...)`
works offline and returns exactly what the loader yields.

The card's YAML front matter lists every config with its `data_files` per split (custom split names such as
`training` are allowed); the features travel inside the parquet schema metadata, so 16-bit flow stays float32
arrays and images stay lossless PNG bytes. The card records the licence and citation, says whether the data is
synthetic, says that the export is for local use when the licence forbids redistribution, and shows how to reshape
the per-pixel columns, which are all stored flat in row order (`loaders.formats.flo.flow_feature`,
`loaders.formats.masks.mask_feature`, `label_map_feature`), back to (H, W, 2) or (H, W).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import datasets
import yaml

from hub.core.errors import MobenchError
from hub.core.registry import BenchmarkSpec
from hub.wiring import make_loader
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
    if out.exists() and not out.is_dir():
        raise MobenchError(f"{out} is a file; --out names the folder to write the export to")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise MobenchError(f"{out} exists and is not empty; pass --overwrite to replace it")
        if not _is_export(out):
            # --overwrite deletes the folder: never one that holds anything but an earlier export.
            raise MobenchError(
                f"{out} holds files that are not a mobench export (README.md and <config>/*.parquet); "
                "--overwrite replaces only an earlier export"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    exported: list[ExportedSplit] = []
    pixels: dict[str, datasets.List] = {}  # the per-pixel columns and their features, in the features' order
    pixel_features = [layout.feature for layout in PIXEL_LAYOUTS]
    for cfg in [spec.config(name) for name in configs] if configs else spec.configs:
        for split in cfg.splits:
            if splits and split.name not in splits:
                continue
            if on_split is not None:
                on_split(cfg.name, split.name)
            loader = make_loader(spec, root, split.name, cfg.name)
            dataset = loader.to_dataset()
            pixels.update((name, feature) for name, feature in dataset.features.items() if feature in pixel_features)
            n_shards = max(1, -(-len(dataset) // max_rows_per_shard))
            files = []
            for index in range(n_shards):
                path = out / cfg.name / f"{split.name}-{index:05d}-of-{n_shards:05d}.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                dataset.shard(n_shards, index, contiguous=True).to_parquet(str(path))
                files.append(path)
            exported.append(ExportedSplit(cfg.name, split.name, len(dataset), files))
    card = dataset_card(spec, exported, synthetic=is_synthetic(root), pixel_columns=pixels)
    (out / "README.md").write_text(card, encoding="utf-8")
    return exported


def _is_export(folder: Path) -> bool:
    """True if `folder` holds only what `export_benchmark` writes: README.md and <config>/*.parquet."""
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if path.is_symlink():
            return False
        if path.is_dir() and len(rel.parts) == 1:
            continue
        if path.is_file() and (rel.parts == ("README.md",) or (len(rel.parts) == 2 and path.suffix == ".parquet")):
            continue
        return False
    return (folder / "README.md").is_file()


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
    if spec.license.redistribution == "no":
        notices.append(
            f"> **Local use only.** The {spec.license.id} licence forbids redistribution: do not publish this folder."
        )
    elif spec.license.redistribution == "share-alike":
        notices.append(f"> **Share-alike.** Anything derived from this data must carry the {spec.license.id} licence.")
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


def check_publishable(spec: BenchmarkSpec) -> None:
    """Refuse, with the licence's reason, to publish a benchmark whose licence forbids redistribution."""
    if spec.license.redistribution == "no":
        raise MobenchError(
            f"{spec.id} cannot be published: its licence ({spec.license.id}) forbids redistribution. "
            f"{spec.license.note} Exports of it are for local use only."
        )


def publish_export(
    spec: BenchmarkSpec, folder: Path, repo_id: str, *, private: bool = True, dry_run: bool = False
) -> list[Path]:
    """Upload an export folder as a Hugging Face dataset repository; returns the files it holds.

    The licence is checked first, so nothing leaves the machine for a benchmark that may not be redistributed.
    """
    check_publishable(spec)
    card = folder / "README.md"
    if not card.is_file():
        raise MobenchError(f"{folder} is not a mobench export (no README.md dataset card): run `mobench export` first")
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if dry_run:
        return files
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    api.upload_folder(repo_id=repo_id, repo_type="dataset", folder_path=str(folder))
    return files
