"""Where mobench keeps its files unless told otherwise."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

DB_ENV = "MOBENCH_DB"
HOME_ENV = "MOBENCH_HOME"


def data_home() -> Path:
    """The folder for the store and accepted submissions: $MOBENCH_HOME, else the user data dir."""
    env = os.environ.get(HOME_ENV)
    return Path(env) if env else Path(user_data_dir("mobench", appauthor=False))


def default_db_path() -> Path:
    env = os.environ.get(DB_ENV)
    return Path(env) if env else data_home() / "mobench.duckdb"


def submissions_dir(db_path: Path) -> Path:
    """Accepted submissions are kept beside the database they are recorded in."""
    return db_path.parent / "submissions"
