"""`mobench store`: moving a hub's results to another store, e.g. from its DuckDB file to a DuckLake."""

from __future__ import annotations

import shutil
from typing import Annotated

import typer

from hub.cli.common import DbOption, app, console, make_table, open_store
from hub.core.paths import submissions_dir

store_app = typer.Typer(help="The hub's store (a DuckDB file or a DuckLake).", no_args_is_help=True)
app.add_typer(store_app, name="store")


@store_app.command("copy")
def store_copy_cmd(
    source: Annotated[str, typer.Argument(help="The store to copy from: a DuckDB file or a DuckLake URL.")],
    db: DbOption = None,
) -> None:
    """Copy every row of SOURCE, and the accepted submissions kept beside it, into the new store --db names (how a
    hub moves from its DuckDB file to a DuckLake). Stop the hub's processes first; SOURCE is migrated, not changed."""
    target, old = open_store(db), open_store(source)
    copied = target.copy_from(old)
    files, moved_to = submissions_dir(old.path), submissions_dir(target.path)
    if files.is_dir() and files.resolve() != moved_to.resolve():
        shutil.copytree(files, moved_to, dirs_exist_ok=True)
    rows = [{"table": table, "rows": n} for table, n in copied.items()]
    console.print(make_table(f"copied {old.name} into {target.name}", rows, ["table", "rows"]))
