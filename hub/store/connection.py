"""Opening the store's DuckDB file: one short transaction per write, short read-only connections with retries.

DuckDB lets one process hold a database file read-write, and while it does no other process can open the file at
all (not even read-only). So the store never keeps a connection: every write opens the file for one transaction
and closes it, and readers open short-lived read-only connections and retry on a lock error with a backoff.

Within one process (the API server's request threads, a worker's heartbeat thread), DuckDB refuses a read-only and
a read-write connection to the same file at once, so every connection to a file is taken under one lock per file
and process: transactions are short, and threads simply take turns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from hub.core.errors import MobenchError


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def row_key(*parts: object) -> str:
    return "|".join("" if p is None else str(p) for p in parts)


_FILE_LOCKS: dict[Path, threading.RLock] = {}
_FILE_LOCKS_GUARD = threading.Lock()


def _file_lock(path: Path) -> threading.RLock:
    with _FILE_LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(path.resolve(), threading.RLock())


class Connection:
    """A mobench database file. Cheap to construct; opens the file only inside `write()` / `read()`."""

    def __init__(self, path: Path, *, lock_timeout_s: float = 10.0) -> None:
        self.path = Path(path)
        self.lock_timeout_s = lock_timeout_s

    # -- connections -------------------------------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One read-write transaction: committed when the block ends, rolled back if it raises."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _file_lock(self.path):
            con = self._connect(read_only=False)
            try:
                con.execute("BEGIN TRANSACTION")
                try:
                    yield con
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
            finally:
                con.close()

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if not self.path.exists():
            raise MobenchError(f"no mobench database at {self.path}: run `mobench demo` or `mobench submit` first")
        with _file_lock(self.path):
            con = self._connect(read_only=True)
            try:
                yield con
            finally:
                con.close()

    def _connect(self, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        """Open the file, retrying while another process holds its lock (writers hold it only briefly)."""
        deadline = time.monotonic() + self.lock_timeout_s
        delay = 0.05
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise MobenchError(f"cannot open the database {self.path}: {exc}") from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
