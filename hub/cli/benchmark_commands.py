"""Commands about benchmarks and their data: list, register, export, publish, evaluate, hidden labels, lm-eval tasks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hub.cli.common import DbOption, JsonFlag, app, console, err_console, make_table, open_store, print_json
from hub.core.errors import MobenchError
from hub.core.registry import MultipleChoiceTask, all_benchmarks, get_benchmark, unavailable_benchmarks
from hub.scoring.executors import score
from hub.scoring.wiring import make_request, read_labels
from loaders.base import DatasetLoader


@app.command("benchmarks")
def benchmarks_cmd(as_json: JsonFlag = False) -> None:
    """List the registered benchmark definitions."""
    specs = all_benchmarks()
    missing = list(unavailable_benchmarks().values())
    if as_json:
        print_json(
            [{**s.model_dump(), "available": True} for s in specs]
            + [{**m.model_dump(), "available": False} for m in missing]
        )
        return
    rows = [
        {
            "id": s.id,
            "family": s.family,
            "primary metric": f"{s.primary_metric} ({'↑' if s.primary.higher_is_better else '↓'})",
            "configs/splits": "; ".join(f"{c.name}: {', '.join(sp.name for sp in c.splits)}" for c in s.configs),
            "licence": s.license.id,
        }
        for s in specs
    ]
    console.print(
        make_table("mobench benchmarks", rows, ["id", "family", "primary metric", "configs/splits", "licence"])
    )
    for m in missing:
        console.print(f"[yellow]{m.id}[/yellow] ({m.title}): not available. {escape(m.reason.strip())}")


@app.command("register")
def register_cmd(
    benchmark: Annotated[str, typer.Argument(help="Benchmark id, e.g. kitti-2015-flow.")],
    root: Annotated[Path, typer.Option(help="Folder of the official release, unpacked as downloaded.")],
    db: DbOption = None,
) -> None:
    """Tell the hub where a benchmark's ground truth lives, so the worker can score submissions (maintainers)."""
    from hub.scoring.wiring import make_loader
    from loaders.synthetic import is_synthetic

    spec = get_benchmark(benchmark)
    make_loader(spec, root, spec.default_split).sample_ids()  # fails now, with the layout, if the root is wrong
    store = open_store(db)
    store.init()
    store.benchmarks.register(spec, root.resolve(), synthetic=is_synthetic(root))
    console.print(f"registered {spec.id} at {root.resolve()}")


@app.command("export")
def export_cmd(
    benchmark: Annotated[str, typer.Argument(help="Benchmark id.")],
    root: Annotated[Path, typer.Option(help="Folder of the official release, unpacked as downloaded.")],
    out: Annotated[Path, typer.Option(help="Output folder (parquet shards + README.md dataset card).")],
    config: Annotated[list[str] | None, typer.Option(help="Config(s) to export (default: all).")] = None,
    split: Annotated[list[str] | None, typer.Option(help="Split(s) to export (default: all).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a non-empty output folder.")] = False,
    max_rows_per_shard: Annotated[int, typer.Option(help="Rows per parquet shard.", min=1)] = 500,
) -> None:
    """Write a benchmark as parquet + dataset card so `datasets.load_dataset(OUT, CONFIG, split=...)` works."""
    import datasets

    from hub.export import export_benchmark

    spec = get_benchmark(benchmark)
    # the status line says which split is being written; the progress bars of `datasets` would only add lines
    # (also before an error's one line)
    bars = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        with console.status("exporting") as status:

            def on_split(cfg: str, sp: str) -> None:
                status.update(f"exporting {spec.id}: config {cfg}, split {sp}")

            exported = export_benchmark(
                spec,
                root,
                out,
                configs=config,
                splits=split,
                overwrite=overwrite,
                max_rows_per_shard=max_rows_per_shard,
                on_split=on_split,
            )
    finally:
        if bars:
            datasets.enable_progress_bars()
    for item in exported:
        console.print(f"{item.config}/{item.split}: {item.n_rows} rows in {len(item.files)} shard(s)")
    console.print(
        f"dataset card: {out / 'README.md'}  (load with datasets.load_dataset({str(out)!r}, CONFIG, split=...))"
    )
    if not spec.publishable:
        console.print(f"[yellow]{spec.license.id}: local use only, do not publish this folder.[/yellow]")


@app.command("publish")
def publish_cmd(
    benchmark: Annotated[str, typer.Argument(help="Benchmark id the export was made from.")],
    folder: Annotated[Path, typer.Option(help="The folder `mobench export` wrote.")],
    repo_id: Annotated[str, typer.Option(help="Hugging Face dataset repository, e.g. my-org/kitti-synthetic.")],
    public: Annotated[bool, typer.Option("--public", help="Create the repository public (default: private).")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the licence and list the files; upload nothing.")
    ] = False,
) -> None:
    """Publish an export to the Hugging Face Hub, if and only if the benchmark's licence allows redistribution."""
    from hub.export import publish_export

    spec = get_benchmark(benchmark)
    files = publish_export(spec, folder, repo_id, private=not public, dry_run=dry_run)
    verb = "would upload" if dry_run else "uploaded"
    console.print(f"{verb} {len(files)} file(s) to datasets/{repo_id} ({spec.license.id})")
    if spec.license.redistribution == "share-alike":
        console.print(f"[yellow]share-alike: the published data must keep the {spec.license.id} licence[/yellow]")


@app.command("evaluate")
def evaluate_cmd(
    benchmark: Annotated[str, typer.Argument(help="Benchmark id.")],
    root: Annotated[Path, typer.Option(help="Folder of the official release (ground truth).")],
    predictions: Annotated[Path, typer.Option(help="Predictions in the benchmark's own submission format.")],
    split: Annotated[str | None, typer.Option(help="Split to score (default: the benchmark's default split).")] = None,
    config: Annotated[str | None, typer.Option(help="Config (default: the benchmark's first config).")] = None,
    allow_partial: Annotated[bool, typer.Option(help="Score a partial submission and report its coverage.")] = False,
    answers: Annotated[
        Path | None, typer.Option(help="The operator's answer key, for benchmarks whose labels are hidden.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Score a predictions folder directly with the official metrics (no store involved)."""
    spec = get_benchmark(benchmark)
    cfg = spec.config(config)
    split_spec = cfg.split(split or spec.default_split)
    labels = read_labels(spec, answers) if answers is not None else None
    request = make_request(spec, root, predictions, split_spec.name, cfg.name, allow_partial, labels)
    ground_truth = request.ground_truth
    if isinstance(ground_truth, DatasetLoader) and not ground_truth.sample_ids():
        raise MobenchError(
            f"{spec.id} {cfg.name}/{split_spec.name} from {root}: nothing to score, the split holds no sample: "
            f"{ground_truth.empty_reason()}"
        )
    with err_console.status(f"scoring {spec.id} / {split_spec.name}"):
        result = score(request)
    if as_json:
        print_json(result.to_json())
        return
    rows = [
        {
            "metric": m.name,
            "value": result.metrics.get(m.name),
            "unit": m.unit,
            "better": "↑" if m.higher_is_better else "↓",
        }
        for m in spec.metrics
        if m.name in result.metrics
    ]
    title = f"{spec.id} · {cfg.name} · {split_spec.name} · {result.n_samples}/{result.n_expected} samples"
    console.print(make_table(title, rows, ["metric", "value", "unit", "better"]))
    if result.missing:
        console.print(
            f"[yellow]partial: {len(result.missing)} sample(s) had no prediction (coverage {result.coverage:.1%})"
        )


labels_app = typer.Typer(help="Hidden labels (answer keys) held by the hub operator.", no_args_is_help=True)
app.add_typer(labels_app, name="labels")


@labels_app.command("set")
def labels_set_cmd(
    benchmark: Annotated[str, typer.Argument(help="Benchmark id whose labels are hidden, e.g. mobile-mmlu.")],
    key: Annotated[Path, typer.Argument(help="The answer key file, in the benchmark's key format.")],
    db: DbOption = None,
) -> None:
    """Store a benchmark's answer key for the worker; no export, page or API ever returns it."""
    spec = get_benchmark(benchmark)
    labels = read_labels(spec, key)
    store = open_store(db)
    store.init()
    n = store.benchmarks.set_hidden_labels(spec.id, labels)
    console.print(f"stored {n} hidden label(s) for {spec.id}")


@app.command("lm-eval-tasks")
def lm_eval_tasks_cmd(
    benchmark: Annotated[
        str, typer.Option(help="A benchmark mobench ships lm-eval tasks for (default: the first multiple-choice one).")
    ] = "",
    export: Annotated[str, typer.Option(help="The folder `mobench export` wrote the questions to.")] = "EXPORT",
    path_only: Annotated[bool, typer.Option("--path-only", help="Print only the --include_path value.")] = False,
) -> None:
    """Print the --include_path for lm-evaluation-harness and the commands that run the mobench tasks."""
    from loaders.lm_tasks.commands import include_path, usage

    if path_only:
        sys.stdout.write(f"{include_path()}\n")
        return
    default = next(s.id for s in all_benchmarks() if isinstance(s.task, MultipleChoiceTask))  # Mobile-MMLU
    sys.stdout.write(usage(benchmark or default, export) + "\n")
