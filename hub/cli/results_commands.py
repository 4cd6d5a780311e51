"""`mobench results`: the hub's published results as a Hugging Face dataset (`hub.results_dataset`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hub.cli.common import DbOption, app, console, open_store
from hub.results_dataset import RESULTS_REPO_ENV, export_results, publish_results

results_app = typer.Typer(
    help="The hub's published results as a dataset: `contents` (one row per submission) and per-sample `details`.",
    no_args_is_help=True,
)
app.add_typer(results_app, name="results")


@results_app.command("export")
def results_export_cmd(
    out: Annotated[Path, typer.Option(help="Output folder (parquet files + README.md dataset card).")],
    overwrite: Annotated[bool, typer.Option(help="Replace a folder that holds an earlier export.")] = False,
    publishable_only: Annotated[
        bool,
        typer.Option(
            "--publishable-only",
            help="Leave out the per-sample scores of benchmarks whose licence forbids redistribution, so the "
            "folder can be published.",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Write the published results so `datasets.load_dataset(OUT, "contents")` works (and a details config per
    benchmark)."""
    store = open_store(db)
    if store.exists():
        store.init()  # an older store gets the tables the export reads (intervals, training data, leaderboard rows)
    with console.status("exporting results") as status:
        written = export_results(
            store,
            out,
            overwrite=overwrite,
            publishable_only=publishable_only,
            on_config=lambda name: status.update(f"exporting results: {name}"),
        )
    for item in written.configs:
        console.print(f"{item.name}: {item.n_rows} rows in {len(item.files)} file(s)")
    console.print(f"dataset card: {out / 'README.md'}  (load with datasets.load_dataset({str(out)!r}, 'contents'))")
    for name in written.local_only:
        console.print(f"[yellow]{name}: local use only (its benchmark's licence forbids redistribution)[/yellow]")
    for benchmark in written.left_out:
        console.print(f"left out the per-sample scores of {benchmark} (its licence forbids redistribution)")


@results_app.command("publish")
def results_publish_cmd(
    folder: Annotated[Path, typer.Option(help="The folder `mobench results export` wrote.")],
    repo_id: Annotated[
        str,
        typer.Option(
            envvar=RESULTS_REPO_ENV,
            help=f"Hugging Face dataset repository, e.g. my-org/mobench-results (or {RESULTS_REPO_ENV}, which the "
            "leaderboard links to).",
        ),
    ],
    private: Annotated[
        bool, typer.Option("--private/--public", help="Create the repository private (the default) or public.")
    ] = True,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the licences and list what would be uploaded; upload nothing.")
    ] = False,
) -> None:
    """Publish a results export to the Hugging Face Hub (token: HF_TOKEN or `hf auth login`), refusing any config
    a benchmark's licence forbids publishing."""
    files = publish_results(folder, repo_id, private=private, dry_run=dry_run)
    if dry_run:
        for path in files:
            console.print(f"  {escape(str(path.relative_to(folder)))}  ({path.stat().st_size:,} bytes)")
    verb = "would upload" if dry_run else "uploaded"
    visibility = "private" if private else "public"
    console.print(f"{verb} {len(files)} file(s) to datasets/{repo_id} ({visibility})")
