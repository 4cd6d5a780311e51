"""Where mobench keeps its files unless told otherwise."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir

DB_ENV = "MOBENCH_DB"
HOME_ENV = "MOBENCH_HOME"


def data_home() -> Path:
    """The folder for the store and accepted submissions: $MOBENCH_HOME, else the user data dir."""
    env = os.environ.get(HOME_ENV)
    return Path(env) if env else Path(user_data_dir("mobench", appauthor=False))


def cache_home() -> Path:
    """The folder for what mobench can always recompute (the ground-truth cache, `loaders.gt_cache`): `cache/` in
    $MOBENCH_HOME when that is set, so a private home (the tests', a demo's) keeps its caches too, else the user
    cache dir."""
    env = os.environ.get(HOME_ENV)
    return Path(env) / "cache" if env else Path(user_cache_dir("mobench", appauthor=False))


def default_store() -> str:
    """The hub's store: $MOBENCH_DB (a DuckDB file or a DuckLake URL, see hub.store.connection), else
    mobench.duckdb in the data home."""
    return os.environ.get(DB_ENV) or str(data_home() / "mobench.duckdb")


# `mobench demo` keeps its own store (never mixed with real results); this file says where the last one is, so
# `mobench serve` can find it when no other store exists.
DEMO_POINTER = "last-demo-store.txt"


def remember_demo_store(db_path: Path) -> None:
    home = data_home()
    home.mkdir(parents=True, exist_ok=True)
    (home / DEMO_POINTER).write_text(str(db_path.resolve()), encoding="utf-8")


def last_demo_store() -> Path | None:
    """The store of the last `mobench demo` run, if it still exists."""
    pointer = data_home() / DEMO_POINTER
    if not pointer.is_file():
        return None
    path = Path(pointer.read_text(encoding="utf-8").strip())
    return path if path.is_file() else None


def submissions_dir(db_path: Path) -> Path:
    """Accepted submissions are kept beside the store they are recorded in: its DuckDB file, or a DuckLake's data
    folder (which every machine of the hub sees at the same path)."""
    return db_path.parent / "submissions"
