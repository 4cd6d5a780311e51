"""Opening the store, a DuckDB file or a DuckLake: one short transaction per write, one at a time; snapshot reads.

`--db` names either backend, and every query and migration is the same SQL on both:

* **a DuckDB file** (a path). DuckDB lets one process hold a file read-write, and while it does no other process
  can open it at all (not even read-only). So the store never keeps a connection: every write opens the file for
  one transaction and closes it, and readers open short-lived read-only connections, both retrying with a backoff
  while another process holds the file's lock.
* **a DuckLake** (``ducklake:postgres:<libpq key=value ...> data_path=FOLDER``): the catalog in PostgreSQL, the
  tables as Parquet files in FOLDER, so workers, the API and the leaderboard on several machines share one store
  and a reader never waits for a writer (it reads a snapshot). Attaching a lake costs about half a second, so a
  process attaches it once and each transaction takes a cursor of that DuckDB instance.

  DuckLake's transactions are optimistic: two that change the same table at once (even different rows of it)
  conflict at COMMIT, and the loser gets ``TransactionException: Failed to commit DuckLake transaction.
  Transaction conflict - ...``; two that insert never conflict, and a lake has no PRIMARY KEY or UNIQUE to catch
  the duplicate. Retrying would mean re-running the Python between the statements of a transaction, so instead
  every write transaction holds a PostgreSQL advisory lock from before its first read until after its COMMIT
  (waited for in PostgreSQL's queue, up to the same timeout as the file's lock). Writers on any machine then take
  turns exactly as they do on a file, never conflict, and the store's check-then-insert (one submission per
  content hash, one cost and leaderboard row per submission, one model row per model, ...) is atomic on both
  backends. Creating the lake's catalog happens under the same lock, so two processes starting on a new lake at
  once do not race.

Within one process (the API server's request threads, a worker's heartbeat thread), every connection to one store
is taken under one lock per store and process: transactions are short, and threads simply take turns (DuckDB also
refuses a read-only and a read-write connection to the same file at once).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TypeVar

import duckdb

from hub.core.errors import MobenchError
from hub.core.paths import last_demo_store

T = TypeVar("T")

LAKE_PREFIX = "ducklake:postgres:"


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def row_key(*parts: object) -> str:
    return "|".join("" if p is None else str(p) for p in parts)


def retry_while_busy(attempt: Callable[[], T | None], timeout_s: float, busy: str) -> T:
    """Call `attempt` until it returns something other than None (None: another process holds the lock), backing
    off from 50 ms to 0.5 s; after `timeout_s` give up with a MobenchError that says `busy`."""
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while (got := attempt()) is None:
        if time.monotonic() > deadline:
            raise MobenchError(f"{busy} for more than {timeout_s:g} s: try again when it is free")
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
    return got


_PROCESS_LOCKS: dict[str, threading.RLock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


def _process_lock(key: str) -> threading.RLock:
    with _PROCESS_LOCKS_GUARD:
        return _PROCESS_LOCKS.setdefault(key, threading.RLock())


class _File:
    """A DuckDB file: opened for each transaction, closed after it."""

    def __init__(self, path: Path, lock_timeout_s: float) -> None:
        self.path = path
        self.name = str(path)
        self.key = str(path.resolve())
        self.lock_timeout_s = lock_timeout_s

    def exists(self) -> bool:
        return self.path.is_file()

    @contextmanager
    def connect(self, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        if write:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            demo = last_demo_store()
            elsewhere = f"; the last `mobench demo` wrote its own store: pass --db {demo}" if demo else ""
            raise MobenchError(
                f"no mobench database at {self.path}: run `mobench demo` or `mobench submit` first{elsewhere}"
            )
        con = retry_while_busy(lambda: self._try_connect(write), self.lock_timeout_s, f"another process holds {self}")
        try:
            yield con
        finally:
            con.close()

    def _try_connect(self, write: bool) -> duckdb.DuckDBPyConnection | None:
        try:
            return duckdb.connect(str(self.path), read_only=not write)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                return None
            hint = ""
            if "newer version of DuckDB" in str(exc):
                hint = " (written by DuckDB 2.x: convert it once, see the README's 'Stores written with DuckDB 2.x')"
            raise MobenchError(f"cannot open the database {self.path}: {exc}{hint}") from exc

    def __str__(self) -> str:
        return self.name


# The lake is attached under this name; the same PostgreSQL database is also attached directly, for the write lock.
_LAKE = "mobench_lake"
_CATALOG = "mobench_catalog"
_WRITE_LOCK_KEY = int.from_bytes(b"mobench", "big")  # the advisory lock all of mobench's writers take turns on
# The DuckDB extensions a lake needs, each shipped as a pip package (the `lake` extra), in loading order.
_EXTENSIONS = {"postgres_scanner": "duckdb_extension_postgres_scanner", "ducklake": "duckdb_extension_ducklake"}
_DATA_PATH = re.compile(r"(?:^|\s)data_path\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")
_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)")

# One attached DuckDB instance per process and lake (a forked child attaches its own).
_LAKES: dict[tuple[int, str], duckdb.DuckDBPyConnection] = {}
_LAKES_GUARD = threading.Lock()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _masked(text: str) -> str:
    """`text` with any libpq password replaced, for messages and logs."""
    return _PASSWORD.sub(r"\1***", text)


def extension_file(name: str) -> str:
    """The binary of extension `name` that its pip package ships for this DuckDB version (loaded from disk: no
    download)."""
    package = _EXTENSIONS[name]
    try:
        root = resources.files(package)
    except ModuleNotFoundError as exc:
        raise MobenchError("a DuckLake store needs the `lake` extra: pip install 'mobench[lake]'") from exc
    binary = root / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not binary.is_file():
        raise MobenchError(
            f"{package} has no {name} extension for DuckDB {duckdb.__version__}: reinstall mobench[lake]"
        )
    return str(binary)


class _Lake:
    """A DuckLake on a PostgreSQL catalog: attached once per process, one cursor per transaction, writes under a
    PostgreSQL advisory lock."""

    def __init__(self, location: str, lock_timeout_s: float) -> None:
        found = _DATA_PATH.search(location)
        if found is None:
            raise MobenchError(
                f"{_masked(location)}: a DuckLake store is `{LAKE_PREFIX}<PostgreSQL key=value ...> data_path=FOLDER`"
            )
        value = found.group(1)
        if value.startswith("'"):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        self.conninfo = (location[len(LAKE_PREFIX) : found.start()] + location[found.end() :]).strip()
        self.path = Path(value).expanduser().absolute()
        self.name = _masked(location)
        self.key = location
        self.lock_timeout_s = lock_timeout_s

    def exists(self) -> bool:
        try:
            self._instance(create=False)
        except _NoLake:
            return False
        return True

    @contextmanager
    def connect(self, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        try:
            instance = self._instance(create=write)
        except _NoLake as exc:
            raise MobenchError(f"no mobench store in {self}: run `mobench demo` or `mobench submit` first") from exc
        cursor = instance.cursor()
        try:
            cursor.execute(f"USE {_LAKE}")
            if write:
                with self._write_lock(instance):
                    yield cursor
            else:
                yield cursor
        finally:
            cursor.close()

    @contextmanager
    def _write_lock(self, instance: duckdb.DuckDBPyConnection) -> Iterator[None]:
        """Hold mobench's advisory lock on the catalog database for the block: a transaction-level lock, so it goes
        with this cursor's PostgreSQL transaction, and with the connection if the process dies. Writers wait for it
        in PostgreSQL's queue (first come, first served; at most `lock_timeout_s`) rather than polling with a
        backoff as on a file: polling let a busy worker take the lock again and again while another waited."""
        lock = instance.cursor()
        try:
            lock.execute("BEGIN TRANSACTION")
            wait_ms = int(self.lock_timeout_s * 1000)
            for sql in (
                f"SELECT set_config('lock_timeout', '{wait_ms}', true)",
                f"SELECT 1 FROM (SELECT pg_advisory_xact_lock({_WRITE_LOCK_KEY})) AS held",
            ):
                try:
                    lock.execute(f"SELECT * FROM postgres_query('{_CATALOG}', {_literal(sql)})")
                except duckdb.Error as exc:
                    if "lock timeout" not in str(exc):
                        raise
                    raise MobenchError(
                        f"another writer held {self} for more than {self.lock_timeout_s:g} s: try again when it is free"
                    ) from None
            yield
        finally:
            lock.execute("ROLLBACK")
            lock.close()

    def _instance(self, *, create: bool) -> duckdb.DuckDBPyConnection:
        key = (os.getpid(), self.key)
        with _LAKES_GUARD:
            if key in _LAKES:
                return _LAKES[key]
            instance = duckdb.connect()
            try:
                for name in _EXTENSIONS:
                    instance.execute(f"LOAD {_literal(extension_file(name))}")
                instance.execute(f"ATTACH {_literal(self.conninfo)} AS {_CATALOG} (TYPE postgres)")
                with self._write_lock(instance) if create else nullcontext():
                    instance.execute(
                        f"ATTACH {_literal(LAKE_PREFIX + self.conninfo)} AS {_LAKE} "
                        f"(DATA_PATH {_literal(str(self.path))}, CREATE_IF_NOT_EXISTS {str(create).lower()})"
                    )
            except duckdb.Error as exc:
                instance.close()
                if "does not exist - and creating a new DuckLake is explicitly disabled" in str(exc):
                    raise _NoLake from exc
                raise MobenchError(f"cannot open the DuckLake {self}: {_masked(str(exc))}") from None
            except BaseException:
                instance.close()
                raise
            _LAKES[key] = instance
            return instance

    def __str__(self) -> str:
        return self.name


class _NoLake(Exception):
    """The PostgreSQL database holds no DuckLake yet (only a write creates one)."""


class Connection:
    """A mobench store, a DuckDB file or a DuckLake URL. Cheap to construct; opens it only inside `write()` /
    `read()`. `path` is the DuckDB file or the lake's data folder: accepted submissions are kept beside it."""

    def __init__(self, location: str | Path, *, lock_timeout_s: float = 10.0) -> None:
        self.location = str(location)
        self._backend: _File | _Lake = (
            _Lake(self.location, lock_timeout_s)
            if self.location.startswith(LAKE_PREFIX)
            else _File(Path(location), lock_timeout_s)
        )
        self.path = self._backend.path

    @property
    def name(self) -> str:
        """The store for messages: the file's path, or the lake's URL without its password."""
        return self._backend.name

    def exists(self) -> bool:
        """Whether the file, or the lake's catalog, has been created (by a first write)."""
        return self._backend.exists()

    def write(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """One read-write transaction: committed when the block ends, rolled back if it raises."""
        return self._transaction(write=True)

    def read(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """One read transaction (one snapshot, even on a lake that others write to)."""
        return self._transaction(write=False)

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        with _process_lock(self._backend.key), self._backend.connect(write=write) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
