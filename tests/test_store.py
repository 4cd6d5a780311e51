"""The DuckDB store: migrations, transactions, hidden labels, and the one-writer process model."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from hub.core.errors import LeaseLostError, MobenchError
from hub.core.evaluation import EvaluationResult
from hub.core.registry import get_benchmark
from hub.store import SCHEMA_VERSION, Store
from hub.store.connection import row_key
from hub.store.schema import MIGRATIONS
from leaderboard import queries
from tests.fixtures.store_rows import new_submission


def test_init_is_idempotent_and_versioned(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.duckdb")
    assert store.init() == SCHEMA_VERSION
    assert store.init() == SCHEMA_VERSION
    assert store.schema_version() == SCHEMA_VERSION
    with store.read() as con:
        versions = [r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()]
    assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_reading_a_missing_database_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(MobenchError, match="mobench demo"):
        Store(tmp_path / "none.duckdb").list_submissions()


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.duckdb")
    store.init()
    before = store.table_counts()
    with pytest.raises(RuntimeError), store.write() as con:
        con.execute("INSERT INTO events VALUES (now(), 'x', 'k', 'd')")
        con.execute("INSERT INTO scores VALUES ('x', 'epe', 1.0, '', '')")
        raise RuntimeError("crash in the middle")
    assert store.table_counts() == before


def test_queue_claim_and_scores_round_trip(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.duckdb")
    store.init()
    store.benchmarks.register(get_benchmark("sintel-clean"), tmp_path, synthetic=True)
    assert store.add_submission(new_submission())
    assert not store.add_submission(new_submission())  # same content id: one submission
    row = store.leases.claim_next()
    assert row is not None and row.status == "validating"
    assert store.leases.claim_next() is None
    result = EvaluationResult(
        benchmark="sintel-clean",
        config="default",
        split="training",
        n_samples=2,
        n_expected=2,
        metrics={"epe": 1.5, "acc_1px": 40.0},
        breakdowns={"scene": {"alley_1": {"epe": 1.0}, "cave_2": {"epe": 2.0}}},
        sample_scores={"s1": {"epe": 1.0}, "s2": {"epe": 2.0}},
    )
    result.details["lm_eval"] = {"version": "0.4.13"}
    store.outcomes.publish("abc", result)
    with store.read() as con:
        assert con.execute("SELECT details_json FROM submissions").fetchone() == ('{"lm_eval": {"version": "0.4.13"}}',)
    found = store.find_submission("abc")
    assert found is not None and found.status == "published"
    counts = store.table_counts()
    assert counts["scores"] == 4 and counts["sample_scores"] == 2
    with store.read() as con:
        rows = con.execute("SELECT breakdown_key, value FROM scores WHERE breakdown = 'scene' ORDER BY 1").fetchall()
    assert rows == [("alley_1", 1.0), ("cave_2", 2.0)]


def _result(n: int = 2) -> EvaluationResult:
    scores = {f"s{i}": {"epe": float(i)} for i in range(n)}
    return EvaluationResult("sintel-clean", "default", "training", n, n, {"epe": 1.0}, sample_scores=scores)


def test_the_worker_states_are_leased_in_order_and_checked(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.duckdb")
    store.init()
    store.benchmarks.register(get_benchmark("sintel-clean"), tmp_path, synthetic=True)
    store.add_submission(new_submission())
    store.leases.claim_next("w1")
    with pytest.raises(ValueError, match="not an active state"):
        store.leases.advance("abc", "published", "w1")
    with pytest.raises(LeaseLostError):
        store.leases.advance("abc", "scoring", "w2")  # not the lease holder
    store.leases.advance("abc", "scoring", "w1", "default/training")
    assert store.leases.heartbeat("abc", "w1")  # a lease held in any active state is renewed
    assert store.table_counts()["submission_costs"] == 0  # nothing is chosen before the scores are written
    with pytest.raises(ValueError, match="ends unpublished"):
        store.outcomes.end("abc", "published", "no scores", worker_id="w1")
    with pytest.raises(LeaseLostError):
        store.outcomes.publish("abc", _result(), worker_id="w2")
    store.outcomes.publish("abc", _result(), worker_id="w1")
    with store.read() as con:
        history = con.execute("SELECT kind, detail FROM events WHERE submission_id = 'abc' ORDER BY ts").fetchall()
    assert history[:3] == [("submitted", "sintel-clean"), ("validating", "worker w1"), ("scoring", "default/training")]
    assert [kind for kind, _ in history[3:]] == ["published"]
    assert json.loads(history[3][1]) == {"n_samples": 2, "coverage": 1.0, "measurement_records": 0}
    counts = store.table_counts()
    # the cost row and the leaderboard row are written in the transaction that publishes the scores
    assert counts["submission_costs"] == counts["board_rows"] == 1 and counts["sample_scores"] == 2


def _store_at_version(path: Path, version: int) -> Store:
    """A store as a mobench of schema `version` left it: only the first `version` migrations applied."""
    store = Store(path)
    with store.write() as con:
        con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP)")
        for number, migration in enumerate(MIGRATIONS[:version], start=1):
            con.execute(migration)
            con.execute("INSERT INTO schema_version VALUES (?, now()::TIMESTAMP)", [number])
    return store


def _add_before_declarations(store: Store, sub_id: str) -> None:
    """`new_submission(sub_id)` recorded as the intake did before migration 13 gave submissions their declared
    training data and badge (today's `add_submission` writes those columns, which such a store lacks)."""
    sub = new_submission(sub_id)
    model_id = row_key(sub.model["name"], sub.model["version"], None)
    device_id = row_key(sub.device["name"], sub.device["soc"], sub.device["os"])
    with store.write() as con:
        con.execute(
            "INSERT INTO models SELECT $1, $2, $3, NULL, NULL, NULL, NULL WHERE $1 NOT IN (SELECT id FROM models)",
            [model_id, sub.model["name"], sub.model["version"]],
        )
        con.execute(
            "INSERT INTO devices SELECT $1, $2, $3, $4, NULL WHERE $1 NOT IN (SELECT id FROM devices)",
            [device_id, sub.device["name"], sub.device["soc"], sub.device["os"]],
        )
        con.execute(
            """INSERT INTO submissions (id, benchmark_id, config, split, model_id, device_id, runtime, precision,
                   submitter, is_baseline, synthetic, status, manifest_json, storage_path, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, now()::TIMESTAMP, now()::TIMESTAMP)""",
            [sub.id, sub.benchmark_id, sub.config, sub.split, model_id, device_id, sub.runtime, sub.precision,
             sub.submitter, sub.is_baseline, sub.synthetic, sub.manifest_json, sub.storage_path],
        )  # fmt: skip
        con.execute("INSERT INTO events VALUES (now()::TIMESTAMP, ?, 'submitted', ?)", [sub.id, sub.benchmark_id])


def test_a_version_8_store_moves_to_the_new_state_names(tmp_path: Path) -> None:
    """Stores written before the state machine said running/scored: the migration renames, and re-queues a
    submission caught mid-run (its worker's lease means nothing to the new states)."""
    store = _store_at_version(tmp_path / "db.duckdb", 8)
    _add_before_declarations(store, "old-scored")
    _add_before_declarations(store, "old-running")
    with store.write() as con:
        con.execute("UPDATE submissions SET status = 'scored' WHERE id = 'old-scored'")
        con.execute("UPDATE submissions SET status = 'running', lease_expires_at = now() WHERE id = 'old-running'")
        con.execute("INSERT INTO events VALUES (now()::TIMESTAMP, 'old-scored', 'scored', NULL)")
    assert store.init() == SCHEMA_VERSION
    with store.read() as con:
        states = dict(con.execute("SELECT id, status FROM submissions").fetchall())
        kinds = {r[0] for r in con.execute("SELECT kind FROM events").fetchall()}
    assert states == {"old-scored": "published", "old-running": "queued"}
    assert "scored" not in kinds and "published" in kinds


def test_a_version_9_store_gets_its_leaderboard_rows_back_with_the_metric_lists(tmp_path: Path) -> None:
    """Migration 10 replaces board_rows' MAP of metrics by names + values and rebuilds the rows it drops: a published
    submission of a version 9 store shows the same metrics on the leaderboard after the upgrade."""
    store = _store_at_version(tmp_path / "db.duckdb", 9)
    spec = get_benchmark("sintel-clean")
    store.benchmarks.register(spec, None, synthetic=True)
    _add_before_declarations(store, "old")
    metrics = {m.name: float(i) / 4 for i, m in enumerate(spec.metrics)}
    metrics["epe_matched"] = float("nan")  # a metric with nothing to average over stays missing, not 0
    with store.write() as con:
        con.executemany("INSERT INTO scores VALUES ('old', ?, ?, '', '')", list(metrics.items()))
        con.execute("UPDATE submissions SET status = 'published' WHERE id = 'old'")
        con.execute(
            """INSERT INTO board_rows (submission, benchmark_id, model, model_version, device, runtime, precision,
                   baseline, synthetic, config, split, primary_value, integrity, submitted_at, scored_at, metrics)
               VALUES ('old', 'sintel-clean', 'm', '1', 'd', 'r', 'p', false, true, 'default', 'training', 0,
                       'no measurements', now()::TIMESTAMP, now()::TIMESTAMP, MAP {'epe': 0.0})"""
        )
    assert store.init() == SCHEMA_VERSION
    with store.read() as con:
        names, values = con.execute("SELECT metric_names, metric_values FROM board_rows").fetchone()  # type: ignore[misc]
    assert json.loads(names) == sorted(metrics)
    assert values[sorted(metrics).index("epe")] == metrics["epe"]
    row = queries.ranking(store, spec).iloc[0]
    for name, value in metrics.items():
        assert row[name] == value or (math.isnan(value) and math.isnan(row[name])), name


def test_a_version_11_store_moves_a_measuring_submission_back_to_scoring(tmp_path: Path) -> None:
    """Migration 12 drops the `measuring` state. A submission caught in it goes back to `scoring` under the same
    lease: its worker still holds it and publishes it, or, once the lease has expired, the next worker claims it
    again. Past `measuring` events stay in the history as they happened."""
    store = _store_at_version(tmp_path / "db.duckdb", 11)
    store.benchmarks.register(get_benchmark("sintel-clean"), tmp_path, synthetic=True)
    for sid in ("done", "held", "orphaned"):
        _add_before_declarations(store, sid)
    with store.write() as con:
        con.execute("UPDATE submissions SET status = 'published' WHERE id = 'done'")
        con.execute("INSERT INTO events VALUES (now()::TIMESTAMP, 'done', 'measuring', 'no measurement records')")
        con.execute(
            """UPDATE submissions SET status = 'measuring', worker_id = 'w1',
                      lease_expires_at = now()::TIMESTAMP + INTERVAL 1 HOUR WHERE id = 'held'"""
        )
        con.execute(
            """UPDATE submissions SET status = 'measuring', worker_id = 'w0',
                      lease_expires_at = now()::TIMESTAMP - INTERVAL 1 HOUR WHERE id = 'orphaned'"""
        )
    assert store.init() == SCHEMA_VERSION
    with store.read() as con:
        states = {r[0]: r[1:] for r in con.execute("SELECT id, status, worker_id FROM submissions").fetchall()}
        kinds = [r[0] for r in con.execute("SELECT kind FROM events WHERE submission_id = 'done'").fetchall()]
    assert states == {"done": ("published", None), "held": ("scoring", "w1"), "orphaned": ("scoring", "w0")}
    assert kinds == ["submitted", "measuring"]  # the history is kept as it happened
    assert store.leases.heartbeat("held", "w1")  # still leased to its worker
    claimed = store.leases.claim_next("w2")  # the expired lease is taken over, as in any active state
    assert claimed is not None and claimed.id == "orphaned"
    with store.read() as con:
        requeued = con.execute("SELECT detail FROM events WHERE submission_id = 'orphaned' AND kind = 'requeued'")
        assert requeued.fetchall() == [("the lease of worker w0 expired while scoring (no heartbeat)",)]
    store.outcomes.publish("held", _result(), worker_id="w1")
    found = store.find_submission("held")
    assert found is not None and found.status == "published"


def test_hidden_labels_are_replaced_not_appended(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.duckdb")
    store.init()
    assert store.benchmarks.set_hidden_labels("mobile-mmlu", {"q1": "A", "q2": "B"}) == 2
    store.benchmarks.set_hidden_labels("mobile-mmlu", {"q1": "C"})
    assert store.benchmarks.hidden_labels("mobile-mmlu") == {"q1": "C"}


def test_readers_wait_for_a_writer_in_another_process(tmp_path: Path) -> None:
    """DuckDB lets no other process open the file while a writer holds it; readers retry until it is free."""
    db = tmp_path / "db.duckdb"
    Store(db).init()
    holder = textwrap.dedent(
        f"""
        import time, sys
        from hub.store import Store
        with Store({str(db)!r}).write() as con:
            con.execute("INSERT INTO events VALUES (now(), NULL, 'held', NULL)")
            print("holding", flush=True)
            time.sleep(1.5)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(db), read_only=True)
        started = time.monotonic()
        with Store(db, lock_timeout_s=20).read() as con:
            held = con.execute("SELECT count(*) FROM events WHERE kind = 'held'").fetchone()
        assert held == (1,)  # it waited for the writer's commit, then saw it
        assert time.monotonic() - started > 0.2
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == 0
