"""Verifiable results: `mobench bundle` writes a scored submission's result bundle, `mobench verify` checks one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hub.cli.common import DbOption, JsonFlag, app, console, err_console, make_table, open_store, print_json

# Per-sample differences beyond this many are counted, not listed (a changed ground truth changes every sample).
SHOWN_SAMPLE_ROWS = 20


@app.command("bundle")
def bundle_cmd(
    submission: Annotated[str, typer.Argument(help="Submission id, or a unique prefix (`mobench submissions`).")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="File to write (default: mobench-bundle-<id prefix>.json).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Write a scored submission's result bundle: manifest, sha256 of its files and of the ground truth it was
    scored on, mobench version and git commit, every aggregate, breakdown and per-sample score (JSON).

    Anyone with the bundle, the submission and the official release can check it with `mobench verify`.
    """
    from hub.scoring.bundle import build_bundle, bundle_file_name, dumps

    with err_console.status("hashing the submission and the ground truth"):
        bundle = build_bundle(open_store(db), submission)
    path = out if out is not None else Path(bundle_file_name(bundle.submission.id))
    path.write_text(dumps(bundle), encoding="utf-8")
    hashes = bundle.hashes
    console.print(
        f"wrote {path}: {bundle.submission.benchmark} {bundle.submission.config}/{bundle.submission.split}, "
        f"{len(hashes.submission)} submission file(s), {len(hashes.ground_truth)} ground-truth file(s), "
        f"{len(bundle.result.sample_scores)} sample(s)"
    )


@app.command("verify")
def verify_cmd(
    bundle: Annotated[Path, typer.Argument(help="A bundle from `mobench bundle` or a leaderboard submission page.")],
    root: Annotated[Path, typer.Option(help="Folder of the benchmark's official release, unpacked as downloaded.")],
    submission: Annotated[
        Path | None,
        typer.Option(help="The submission as submitted (folder or .zip); default: the hub's copy in the store (--db)."),
    ] = None,
    answers: Annotated[
        Path | None,
        typer.Option(help="The operator's answer key, for a split with hidden labels (default: the store's key)."),
    ] = None,
    as_json: JsonFlag = False,
    db: DbOption = None,
) -> None:
    """Score a bundle's submission again and check every hash and figure against the bundle, bit for bit.

    Exits with status 1 on any difference; another mobench version or git commit than the bundle's only warns.
    """
    from hub.scoring.bundle import read_bundle
    from submissions.verify import verify

    checked = read_bundle(bundle)
    with err_console.status(f"verifying {checked.submission.id[:12]} on {checked.submission.benchmark}"):
        found = verify(checked, root, open_store(db), submission=submission, answers=answers)
    if as_json:
        print_json(found.to_json())
        raise typer.Exit(0 if found.ok else 1)
    for warning in found.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {escape(warning)}", soft_wrap=True)
    if found.ok:
        console.print(
            f"[green]verified[/green] {checked.submission.id}: {found.files_checked} file hash(es) and "
            f"{found.figures_checked} figure(s) match the bundle bit for bit"
        )
        return
    samples = [d for d in found.differences if d.what == "sample score"]
    shown = [d for d in found.differences if d.what != "sample score"] + samples[:SHOWN_SAMPLE_ROWS]
    rows = [{"what": d.what, "which": d.name, "in the bundle": d.in_bundle, "recomputed": d.recomputed} for d in shown]
    console.print(make_table("differences", rows, ["what", "which", "in the bundle", "recomputed"]))
    if len(samples) > SHOWN_SAMPLE_ROWS:
        console.print(f"... and {len(samples) - SHOWN_SAMPLE_ROWS} more sample score difference(s) (--json lists all)")
    console.print(f"[red]not verified[/red]: {len(found.differences)} difference(s) from the bundle")
    raise typer.Exit(1)
