"""What every `mobench` command shares: the Typer app, the consoles, the --db and --json options, table output.

Every command reads benchmark definitions from the registry; nothing here knows about a particular benchmark.
Expected failures (`MobenchError`) print one clear message and exit with status 2; anything else is a bug and
shows its traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hub.core.paths import DB_ENV, default_store
from hub.store import Store

app = typer.Typer(
    name="mobench",
    help="mobench: official loaders and metrics for on-device AI benchmarks, with on-device cost, in one leaderboard.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar=DB_ENV,
        help="The hub's store: a DuckDB file, or a DuckLake 'ducklake:postgres:dbname=... host=... user=... "
        "data_path=FOLDER' (default: mobench.duckdb in the user data dir).",
        show_default=False,
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]


def open_store(db: str | Path | None) -> Store:
    return Store(db if db is not None else default_store())


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def fmt_cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def make_table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> Table:
    table = Table(title=title)
    for col in columns:
        # Ids and names stay whole on one line; other long values wrap rather than being cut.
        table.add_column(col, no_wrap=col in {"id", "model", "benchmark_id", "case"}, overflow="fold")
    for row in rows:
        table.add_row(*(fmt_cell(row.get(c)) for c in columns))
    return table
