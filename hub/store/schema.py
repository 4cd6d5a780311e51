"""The store's schema: every migration in order, applying them (`migrate_step`), and the submission states.

Each migration is applied once, in order, each in its own transaction (`migrate_step`); the schema_version table
says how far a store has got. Never edit a released migration: append a new one.

Every migration runs on both backends (a DuckDB file and a DuckLake), so none declares what a DuckLake cannot hold:
no PRIMARY KEY, UNIQUE or index, and no ADD COLUMN with a constraint (DuckDB 1.5 refuses that on a file too). The
store keeps those keys itself, each write checking and inserting in a transaction that no other write overlaps
(`hub.store.connection`). Migrations 1, 2 and 5 to 8 were written with such constraints and lost them once, when the
DuckLake backend came: a file created before keeps its constraints, which the store's writes satisfy as well, and a
file between two of those versions migrates through the new text to the same columns.
"""

from __future__ import annotations

import duckdb

from hub.core.errors import MobenchError
from hub.store.connection import utc_now

MIGRATIONS: list[str] = [
    """
    CREATE TABLE benchmarks (
        id VARCHAR NOT NULL,
        version VARCHAR NOT NULL,
        family VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        primary_metric VARCHAR NOT NULL,
        higher_is_better BOOLEAN NOT NULL,
        spec_json VARCHAR NOT NULL,
        root VARCHAR,
        synthetic BOOLEAN NOT NULL DEFAULT FALSE,
        registered_at TIMESTAMP NOT NULL
    );
    CREATE TABLE models (
        id VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        version VARCHAR NOT NULL,
        params BIGINT,
        license VARCHAR,
        url VARCHAR,
        sha256 VARCHAR
    );
    CREATE TABLE devices (
        id VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        soc VARCHAR,
        os VARCHAR,
        form_factor VARCHAR
    );
    CREATE TABLE submissions (
        id VARCHAR NOT NULL,
        benchmark_id VARCHAR NOT NULL,
        config VARCHAR NOT NULL,
        split VARCHAR NOT NULL,
        model_id VARCHAR NOT NULL,
        device_id VARCHAR NOT NULL,
        runtime VARCHAR NOT NULL,
        precision VARCHAR NOT NULL,
        submitter VARCHAR NOT NULL,
        is_baseline BOOLEAN NOT NULL,
        synthetic BOOLEAN NOT NULL,
        status VARCHAR NOT NULL,
        reason VARCHAR,
        manifest_json VARCHAR NOT NULL,
        storage_path VARCHAR NOT NULL,
        n_samples INTEGER,
        n_expected INTEGER,
        created_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL
    );
    CREATE TABLE scores (
        submission_id VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        value DOUBLE,
        breakdown VARCHAR NOT NULL,
        breakdown_key VARCHAR NOT NULL
    );
    CREATE TABLE sample_scores (
        submission_id VARCHAR NOT NULL,
        sample_id VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        value DOUBLE
    );
    CREATE TABLE measurements (
        submission_id VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        statistic VARCHAR NOT NULL,
        value DOUBLE NOT NULL,
        unit VARCHAR NOT NULL,
        n INTEGER,
        warmup INTEGER,
        scope VARCHAR NOT NULL,
        method VARCHAR NOT NULL,
        tool VARCHAR NOT NULL,
        tool_version VARCHAR,
        parser VARCHAR NOT NULL,
        provenance VARCHAR NOT NULL,
        source_file VARCHAR,
        record_json VARCHAR NOT NULL
    );
    CREATE TABLE events (
        ts TIMESTAMP NOT NULL,
        submission_id VARCHAR,
        kind VARCHAR NOT NULL,
        detail VARCHAR
    );
    """,
    # Hidden labels (answer keys the hub operator holds): read only by the worker, never exported or shown.
    """
    CREATE TABLE hidden_labels (
        benchmark_id VARCHAR NOT NULL,
        sample_id VARCHAR NOT NULL,
        label VARCHAR NOT NULL
    );
    """,
    # What a cost figure means and which model file it timed: the leaderboard compares the timed model's hash
    # with the manifest's (the scored model) and never ranks figures of different definition together.
    """
    ALTER TABLE measurements ADD COLUMN definition VARCHAR;
    ALTER TABLE measurements ADD COLUMN model_sha256 VARCHAR;
    """,
    # What the evaluator learned about the run besides scores (e.g. lm-eval version, model args, git hash).
    """
    ALTER TABLE submissions ADD COLUMN details_json VARCHAR;
    """,
    # The cost figures the leaderboard shows, chosen once per submission at intake (hub.store.costs); rows for
    # submissions recorded before this migration are filled by Store.init.
    """
    CREATE TABLE submission_costs (
        submission_id VARCHAR NOT NULL,
        latency_p50_s DOUBLE, latency_p90_s DOUBLE, latency_mean_s DOUBLE, latency_std_s DOUBLE,
        latency_n INTEGER, latency_scope VARCHAR, latency_provenance VARCHAR,
        peak_memory_b DOUBLE, peak_memory_kind VARCHAR,
        energy_per_inference_gross_j DOUBLE, energy_per_inference_net_j DOUBLE,
        energy_scope VARCHAR, energy_method VARCHAR,
        integrity VARCHAR NOT NULL
    );
    """,
    # What the leaderboard reads, one row per scored submission (hub.store.board_rows); filled by Store.init for
    # submissions scored before this migration.
    """
    CREATE TABLE board_rows (
        submission VARCHAR NOT NULL,
        benchmark_id VARCHAR NOT NULL,
        model VARCHAR NOT NULL, model_version VARCHAR NOT NULL, params BIGINT,
        device VARCHAR NOT NULL, soc VARCHAR, form_factor VARCHAR,
        runtime VARCHAR NOT NULL, precision VARCHAR NOT NULL, baseline BOOLEAN NOT NULL, synthetic BOOLEAN NOT NULL,
        config VARCHAR NOT NULL, split VARCHAR NOT NULL, primary_value DOUBLE,
        latency_p50_s DOUBLE, latency_p90_s DOUBLE, latency_mean_s DOUBLE, latency_std_s DOUBLE,
        latency_n INTEGER, latency_scope VARCHAR, latency_provenance VARCHAR,
        peak_memory_b DOUBLE, peak_memory_kind VARCHAR,
        energy_per_inference_gross_j DOUBLE, energy_per_inference_net_j DOUBLE,
        energy_scope VARCHAR, energy_method VARCHAR, integrity VARCHAR NOT NULL,
        n_samples INTEGER, n_expected INTEGER, submitted_at TIMESTAMP NOT NULL, scored_at TIMESTAMP NOT NULL,
        metrics MAP(VARCHAR, DOUBLE)
    );
    """,
    # Crash-safe workers: a claimed submission is leased to one worker, which renews the lease by heart-beating;
    # a lease that expires (the worker died) makes the submission claimable again. `log_excerpt` keeps the end of
    # a failure's traceback for the submitter.
    """
    ALTER TABLE submissions ADD COLUMN worker_id VARCHAR;
    ALTER TABLE submissions ADD COLUMN lease_expires_at TIMESTAMP;
    ALTER TABLE submissions ADD COLUMN heartbeat_at TIMESTAMP;
    ALTER TABLE submissions ADD COLUMN attempts INTEGER DEFAULT 0;
    ALTER TABLE submissions ADD COLUMN log_excerpt VARCHAR;
    """,
    # The HTTP API's accounts (hub.store.accounts): tokens stored as sha256 hashes only, every submission request
    # a token made (for daily quotas), and resumable uploads in progress.
    """
    CREATE TABLE api_tokens (
        id VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        token_sha256 VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        revoked_at TIMESTAMP,
        extra_daily INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE api_requests (
        token_id VARCHAR NOT NULL,
        benchmark_id VARCHAR NOT NULL,
        submission_id VARCHAR,
        outcome VARCHAR NOT NULL,
        requested_at TIMESTAMP NOT NULL
    );
    CREATE TABLE api_uploads (
        id VARCHAR NOT NULL,
        token_id VARCHAR NOT NULL,
        size BIGINT NOT NULL,
        sha256 VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        completed_at TIMESTAMP
    );
    """,
    # 9: the visible state machine (queued -> validating -> scoring -> measuring -> published | failed | rejected)
    # replaces queued -> running -> scored; a submission caught `running` by the upgrade is queued again.
    """
    UPDATE submissions SET status = 'published' WHERE status = 'scored';
    UPDATE submissions SET status = 'queued', lease_expires_at = NULL WHERE status = 'running';
    UPDATE events SET kind = 'published' WHERE kind = 'scored';
    UPDATE events SET kind = 'validating' WHERE kind = 'running';
    """,
    # 10: a board row's metrics as their names (one JSON text, the same for every row of a benchmark, so it
    # compresses to nothing) and a DOUBLE[] of values, instead of a MAP(VARCHAR, DOUBLE): the benchmark page reads
    # the metrics of the rows it shows, and DuckDB decompresses a MAP's per-row key lists for every row of the table
    # to do so (at 100k submissions 4x the time of the values). The rows are derived: Store.init writes them again.
    """
    ALTER TABLE board_rows DROP COLUMN metrics;
    ALTER TABLE board_rows ADD COLUMN metric_names VARCHAR;
    ALTER TABLE board_rows ADD COLUMN metric_values DOUBLE[];
    DELETE FROM board_rows;
    """,
    # 11: an API request's own id, so the quota a request reserves before its intake (outcome 'reserved', counted
    # like a valid submission) is settled or released by that request alone (hub.store.accounts.reserve).
    """
    ALTER TABLE api_requests ADD COLUMN request_id VARCHAR;
    """,
    # 12: no `measuring` state: it measured nothing (the figures were measured on the device and parsed at intake),
    # so the cost figures are now chosen in the transaction that publishes the scores (hub.store.outcomes). A
    # submission caught `measuring` by the upgrade had its scores computed but not written: it goes back to
    # `scoring`, still leased to its worker, which publishes it, or, if that worker is gone, the lease expires and
    # the next worker claims it again like any active submission. Past `measuring` events stay in the history as
    # they happened: unlike migration 9's renames, there is no new name to give them.
    """
    UPDATE submissions SET status = 'scoring' WHERE status = 'measuring';
    """,
    # 13: what a visitor can trust. Each aggregate metric's 95 % bootstrap interval, computed once when the
    # submission is scored (hub.core.bootstrap) and stored with how it was drawn (`resampling`: the unit resampled,
    # the number of resamples, the seed, the level, as JSON); what the manifest declares the model was trained on
    # (`training_data_json`: the declared list, NULL when undeclared) and the badge derived from it against the
    # benchmark's spec (`training_badge`). A board row carries the intervals (in the order of its metric names) and
    # the badge; the rows are derived, so Store.init writes them again.
    """
    CREATE TABLE score_intervals (
        submission_id VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        low DOUBLE,
        high DOUBLE
    );
    ALTER TABLE submissions ADD COLUMN resampling VARCHAR;
    ALTER TABLE submissions ADD COLUMN training_data_json VARCHAR;
    ALTER TABLE submissions ADD COLUMN training_badge VARCHAR;
    ALTER TABLE board_rows ADD COLUMN primary_low DOUBLE;
    ALTER TABLE board_rows ADD COLUMN primary_high DOUBLE;
    ALTER TABLE board_rows ADD COLUMN metric_lows DOUBLE[];
    ALTER TABLE board_rows ADD COLUMN metric_highs DOUBLE[];
    ALTER TABLE board_rows ADD COLUMN training_badge VARCHAR;
    DELETE FROM board_rows;
    """,
    # 14: notifications (hub.store.notifications). A submission may name a URL to be told of each state change
    # (`notify_url`) and the API token whose secret signs the events (`notify_token`); a token's signing secret is
    # kept in clear (`notify_secret`: it signs messages to the token's holder, it opens nothing on the hub). Each
    # state change writes its event to the `notifications` outbox in the state change's own transaction, and a
    # deliverer (submissions.notify) sends it later: `status` pending | delivered | gave-up | dropped, `sequence`
    # its place among its submission's events (delivered in that order).
    """
    ALTER TABLE submissions ADD COLUMN notify_url VARCHAR;
    ALTER TABLE submissions ADD COLUMN notify_token VARCHAR;
    ALTER TABLE api_tokens ADD COLUMN notify_secret VARCHAR;
    CREATE TABLE notifications (
        id VARCHAR NOT NULL,
        submission_id VARCHAR NOT NULL,
        sequence INTEGER NOT NULL,
        token_id VARCHAR NOT NULL,
        url VARCHAR NOT NULL,
        state VARCHAR NOT NULL,
        body VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        attempts INTEGER NOT NULL,
        created_at TIMESTAMP NOT NULL,
        next_attempt_at TIMESTAMP,
        first_attempt_at TIMESTAMP,
        finished_at TIMESTAMP,
        last_error VARCHAR
    );
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
# A worker holds a lease on a submission while it is in one of the ACTIVE states, in this order.
ACTIVE_STATUSES = ("validating", "scoring")
FINAL_STATUSES = ("published", "failed", "rejected")
STATUSES = ("queued", *ACTIVE_STATUSES, *FINAL_STATUSES)


def migrate_step(con: duckdb.DuckDBPyConnection, store_name: str) -> bool:
    """Apply, in the caller's write transaction, the next migration the store has not had; False when it has had
    them all.

    One migration per transaction, because DuckDB refuses to commit a transaction that altered a table after
    updating its rows (migration 13 adds columns to `submissions`, which migrations 9 and 12 update): a store
    several versions behind upgrades one committed step at a time, each step whole or not at all, and the next
    step (in this process or another) starts from the version the last one recorded."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP)")
    current = version(con)
    if current > SCHEMA_VERSION:
        raise MobenchError(
            f"{store_name} has schema version {current}, newer than this mobench ({SCHEMA_VERSION}): upgrade"
        )
    if current == SCHEMA_VERSION:
        return False
    con.execute(MIGRATIONS[current])
    con.execute("INSERT INTO schema_version VALUES (?, ?)", [current + 1, utc_now()])
    return True


def version(con: duckdb.DuckDBPyConnection) -> int:
    """The schema version a store has reached (0: none yet)."""
    row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0
