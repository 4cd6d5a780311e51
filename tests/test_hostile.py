"""Every hostile submission of the corpus is refused with a message naming what is wrong, and changes nothing.

A case refused at intake must raise a `MobenchError` and leave every table of the store byte-for-byte as it was
(a content hash of each table's rows, not only row counts) and no files behind. A case the worker refuses (its
predictions are read only there) must end `rejected` with the message, with no score, sample-score or board row,
and with no row of the store changed except the new submission's own (its row, events and intake measurements).
Nothing may be written outside the staging folder (the traversal targets must not exist afterwards).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from hub.cli.demo import DemoSummary
from hub.core.errors import MobenchError
from hub.core.paths import submissions_dir
from hub.store import Store
from submissions import worker
from submissions.queue import submit
from tests.hostile.corpus import CASES, ESCAPE_MARK, RUNS, Case, prepare

# Tables the worker must leave alone even when it records a rejection.
UNTOUCHED_BY_A_REJECTION = ("scores", "sample_scores", "board_rows", "benchmarks", "hidden_labels", "schema_version")


def table_rows(store: Store) -> dict[str, list[str]]:
    """Every row of every table of the store, as sorted text (each value's repr)."""
    listed = set(store.table_counts())
    with store.read() as con:
        names = {str(r[0]) for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()} | listed
        return {name: sorted(repr(row) for row in con.execute(f'SELECT * FROM "{name}"').fetchall()) for name in names}


def table_hashes(rows: dict[str, list[str]]) -> dict[str, str]:
    return {name: hashlib.sha256("\n".join(values).encode()).hexdigest() for name, values in sorted(rows.items())}


def _kept(store: Store) -> list[str]:
    folder = submissions_dir(store.path)
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_the_corpus_is_large_and_covers_every_format() -> None:
    assert len(CASES) >= 40
    bases = {c.base for c in CASES}
    assert bases >= {"sintel", "kitti", "midv", "piq23", "health", "lm-eval"}
    ids = {c.id.split("-")[0] for c in CASES}
    assert ids >= {"zip", "folder", "manifest", "sintel", "kitti", "midv", "piq23", "health", "lm", "measurement"}


@pytest.mark.parametrize("base", sorted(RUNS))
def test_the_starting_points_are_accepted_and_scored(
    base: str, demo: DemoSummary, demo_db: Path, tmp_path: Path
) -> None:
    """Control: each valid run a case starts from, copied the way the cases copy it (new content: a README line),
    goes through intake and is scored, so every rejection below is caused by the damage the case does."""
    entry = Case("control", base, lambda ws: None, "")
    ws = prepare(entry, demo.db_path.parent / "baseline-runs", tmp_path / "work")
    with (ws.folder / "README.md").open("a", encoding="utf-8") as readme:
        readme.write("resubmitted by the hostile-corpus control\n")
    store = Store(demo_db)
    receipt = submit(ws.target, store)
    row = worker.process_one(store)
    assert row is not None and row.id == receipt.id and row.status == "published", row and row.reason


@pytest.mark.parametrize("entry", CASES, ids=[c.id for c in CASES])
def test_hostile_submission_is_rejected_and_changes_nothing(
    entry: Case, demo: DemoSummary, demo_db: Path, tmp_path: Path
) -> None:
    ws = prepare(entry, demo.db_path.parent / "baseline-runs", tmp_path / "work")
    pattern = entry.pattern(ws.names)
    store = Store(demo_db)
    before = table_rows(store)
    kept_before = _kept(store)
    started = time.monotonic()

    if entry.at == "intake":
        with pytest.raises(MobenchError) as info:
            submit(ws.target, store, limits=entry.limits)
        message = str(info.value)
        assert re.search(pattern, message), f"{message!r} does not match {pattern!r}"
        assert ".staging-" not in message  # the submitter's file is named, not the hub's private copy
        assert table_hashes(table_rows(store)) == table_hashes(before)
        assert _kept(store) == kept_before
    else:
        receipt = submit(ws.target, store, limits=entry.limits)
        assert not receipt.duplicate and receipt.status == "queued"
        row = worker.process_one(store)
        assert row is not None and row.id == receipt.id
        assert row.status == "rejected", f"{row.status}: {row.reason}"
        assert row.reason is not None and re.search(pattern, row.reason), f"{row.reason!r} !~ {pattern!r}"
        after = table_rows(store)
        for name in UNTOUCHED_BY_A_REJECTION:
            assert after.get(name) == before.get(name), f"{name} changed"
        for name, rows in after.items():
            old = Counter(before.get(name, []))
            assert not old - Counter(rows), f"rows of {name} changed or vanished"
            added = Counter(rows) - old
            assert all(receipt.id in r for r in added), f"{name}: rows added that are not the submission's own"
        assert set(_kept(store)) - set(kept_before) == {receipt.id}

    assert time.monotonic() - started < entry.max_seconds
    assert not list(submissions_dir(demo_db).glob(".staging-*"))
    for path in ws.escapes:
        assert not path.exists(), f"{path} was written outside the staging folder"
    assert not [p for p in tmp_path.rglob(f"*{ESCAPE_MARK}*") if ws.outside not in p.parents]
