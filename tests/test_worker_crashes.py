"""Crash safety: workers killed with SIGKILL at random points never leave a half-scored submission, and every
submission ends scored exactly once (leases expire, the next worker claims again, the finish checks the lease)."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import yaml

from hub.cli.demo import DemoSummary
from hub.core.errors import LeaseLostError
from hub.store import Store
from hub.store.schema import ACTIVE_STATUSES
from submissions import worker
from submissions.queue import submit

KILLS = 50
LEASE_S = 1.0


def _submissions(demo: DemoSummary, tmp_path: Path, db: Path, n: int) -> list[str]:
    """`n` distinct submissions (one baseline run with n model versions) queued in a fresh copy of the demo store."""
    store = Store(db)
    ids = []
    for k in range(n):
        folder = tmp_path / f"sub{k}"
        shutil.copytree(demo.db_path.parent / "baseline-runs" / "sintel-clean--opencv-dis-medium", folder)
        manifest = yaml.safe_load((folder / "manifest.yaml").read_text())
        manifest["model"]["version"] = f"crash-test-{k}"
        (folder / "manifest.yaml").write_text(yaml.safe_dump(manifest))
        ids.append(submit(folder, store).id)
    return ids


def _state(db: Path, ids: list[str]) -> dict[str, tuple[str, int, int, int, int]]:
    """Per submission: status, score rows, sample-score rows, board rows, 'published' events."""
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            i: (
                str(con.execute("SELECT status FROM submissions WHERE id = ?", [i]).fetchone()[0]),  # type: ignore[index]
                *(
                    int(con.execute(sql.replace("?", "$1"), [i]).fetchone()[0])  # type: ignore[index]
                    for sql in (
                        "SELECT count(*) FROM scores WHERE submission_id = ?",
                        "SELECT count(*) FROM sample_scores WHERE submission_id = ?",
                        "SELECT count(*) FROM board_rows WHERE submission = ?",
                        # 'published' events since the submission was last queued for a rescore (the test's own marker)
                        """SELECT count(*) FROM events e WHERE e.submission_id = $1 AND e.kind = 'published'
                           AND e.ts > coalesce((SELECT max(ts) FROM events WHERE submission_id = $1
                                                AND kind = 'rescore-requested'), TIMESTAMP '1970-01-01')""",
                    )
                ),
            )
            for i in ids
        }


def test_workers_killed_at_random_points_leave_every_submission_scored_exactly_once(
    demo: DemoSummary, tmp_path: Path
) -> None:
    db = tmp_path / "hub.duckdb"
    shutil.copyfile(demo.db_path, db)
    ids = _submissions(demo, tmp_path, db, 6)
    rng = random.Random(0)
    # what one clean scoring writes, to compare every scored submission with
    reference = Store(tmp_path / "reference.duckdb")
    shutil.copyfile(db, reference.path)
    worker.process_one(reference, worker_id="reference")
    expected = _state(reference.path, ids[:1])[ids[0]]
    assert expected[0] == "published" and expected[1] > 0 and expected[2] > 0 and expected[3] == 1

    command = [sys.executable, "-m", "hub.cli.app", "worker", "--db", str(db), "--lease-seconds", str(LEASE_S)]
    killed_while_running = 0
    for kill in range(KILLS):
        process = subprocess.Popen(
            [*command, "--worker-id", f"victim-{kill}", "--poll", "0.1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(rng.uniform(0.5, 4.0))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        state = _state(db, ids)
        for sid, (status, scores, samples, board, scored_events) in state.items():
            if status == "published":  # complete, and written once
                assert (scores, samples, board, scored_events) == expected[1:], (kill, sid)
            else:  # nothing half-written: no rows yet, or the complete rows of the round before the rescore
                assert status in {"queued", *ACTIVE_STATUSES} and scored_events == 0, (kill, sid)
                assert (scores, samples, board) in {(0, 0, 0), expected[1:4]}, (kill, sid)
        killed_while_running += any(s[0] in ACTIVE_STATUSES for s in state.values())
        if all(s[0] == "published" for s in state.values()):
            # everything is done: queue the same submissions again (a maintainer's rescore) to keep killing workers
            # mid-flight; the finished rows are replaced in one transaction, never doubled
            with Store(db).write() as con:
                con.execute("UPDATE submissions SET status = 'queued' WHERE id IN (SELECT unnest(?::VARCHAR[]))", [ids])
                con.execute(
                    "INSERT INTO events SELECT now()::TIMESTAMP, unnest(?::VARCHAR[]), 'rescore-requested', NULL", [ids]
                )
    time.sleep(LEASE_S * 1.5)  # let the last victim's lease expire
    subprocess.run([*command, "--once", "--worker-id", "survivor"], check=True, capture_output=True, timeout=300)
    final = _state(db, ids)
    assert all(s[0] == "published" for s in final.values()), final
    assert killed_while_running > 0  # some kills did land mid-scoring, leaving a lease to expire
    with duckdb.connect(str(db), read_only=True) as con:
        requeued = con.execute("SELECT count(*) FROM events WHERE kind = 'requeued'").fetchone()[0]  # type: ignore[index]
    assert requeued > 0  # expired leases were taken over
    for sid, (_, scores, samples, board, _) in final.items():
        assert (scores, samples, board) == expected[1:4], sid


def test_a_worker_that_lost_its_lease_writes_nothing(demo_db: Path, demo: DemoSummary, tmp_path: Path) -> None:
    store = Store(demo_db)
    (sid,) = _submissions(demo, tmp_path, demo_db, 1)
    first = store.leases.claim_next("slow", lease_s=0.01)
    assert first is not None and first.id == sid
    time.sleep(0.05)
    second = store.leases.claim_next("fast", lease_s=60)
    assert second is not None and second.id == sid  # the expired lease was taken over
    result = worker.evaluate_submission(store, first)
    with pytest.raises(LeaseLostError):
        store.outcomes.publish(sid, result, worker_id="slow")
    assert _state(demo_db, [sid])[sid] == ("validating", 0, 0, 0, 0)
    assert store.leases.heartbeat(sid, "fast") and not store.leases.heartbeat(sid, "slow")
    store.outcomes.publish(sid, result, worker_id="fast")
    assert _state(demo_db, [sid])[sid][0] == "published"
    with duckdb.connect(str(demo_db), read_only=True) as con:
        kinds = [
            r[0] for r in con.execute("SELECT kind FROM events WHERE submission_id = ? ORDER BY ts", [sid]).fetchall()
        ]
    assert kinds == ["submitted", "validating", "requeued", "validating", "published"]
