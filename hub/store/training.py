"""The training-data badge of recorded submissions, kept equal to what their declarations mean under today's specs.

A submission keeps what its manifest declared (`training_data_json`: the JSON of `none` or of the list, NULL when
undeclared) and the badge that declaration earns on its benchmark (`training_badge`, `hub.core.training_data`). The
badge is derived data: a later mobench may teach a spec a new name or overlap, and submissions recorded before
declarations existed (migration 13) have none. So `Store.init` derives it again (`refresh`) where it is missing (from
the manifest the intake stored, which for those rows holds no declaration: undeclared) or where a declared list now
reads differently, and drops those submissions' leaderboard rows for `board_rows.fill_missing` to write again.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path

import duckdb
import pandas as pd

from hub.core import training_data
from hub.core.registry import BenchmarkSpec, load_registry
from hub.core.training_data import Declared, training_badge
from hub.store.connection import utc_now


def encode(declared: Declared) -> str | None:
    """What `training_data_json` holds for a declaration: its JSON, NULL for undeclared."""
    return None if declared is None else json.dumps(declared if isinstance(declared, str) else list(declared))


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Derive the badge of every submission that lacks one, and, when the specs or the rule changed since the last
    derivation (`_rule_fingerprint`, kept in the `events` table), of every submission that declares a list, in the
    caller's transaction; a submission whose benchmark this mobench does not know keeps what it has.

    `Store.init` runs on every command and process start, inside a write transaction: re-reading every declared
    list each time would cost time in proportion to the hub's size, for badges that change only when a spec or the
    rule does."""
    registry = load_registry()
    fingerprint = _rule_fingerprint(registry)
    last = con.execute(
        f"SELECT detail FROM events WHERE kind = '{_DERIVED}' ORDER BY ts DESC, detail LIMIT 1"
    ).fetchone()
    same_rule = last is not None and last[0] == fingerprint
    rows = con.execute(
        f"""SELECT id, benchmark_id, config, split, manifest_json, training_data_json, training_badge
            FROM submissions WHERE training_badge IS NULL
            {"" if same_rule else "OR starts_with(training_data_json, '[')"}"""
    ).fetchall()
    if not same_rule:
        con.execute("INSERT INTO events VALUES (?, NULL, ?, ?)", [utc_now(), _DERIVED, fingerprint])
    changed = []
    for submission, benchmark, config, split, manifest_json, stored_json, badge in rows:
        spec = registry.get(benchmark)
        if spec is None:
            continue
        declared = json.loads(manifest_json).get("training_data") if badge is None else json.loads(stored_json)
        now = (encode(declared), training_badge(declared, spec, config, split).value)
        if now != (stored_json, badge):
            changed.append((submission, *now))
    if not changed:
        return
    con.register("rederived", pd.DataFrame(changed, columns=["id", "declared", "badge"], dtype="object"))
    try:
        con.execute(
            """UPDATE submissions SET training_data_json = r.declared, training_badge = r.badge
               FROM rederived r WHERE submissions.id = r.id"""
        )
        con.execute("DELETE FROM board_rows WHERE submission IN (SELECT id FROM rederived)")
    finally:
        con.unregister("rederived")


_DERIVED = "training-badges-derived"


def _rule_fingerprint(registry: dict[str, BenchmarkSpec]) -> str:
    """What a badge depends on besides the declaration: every spec (its dataset, configs and splits) and the
    rule's code (`hub.core.training_data`), as one sha256."""
    digest = hashlib.sha256(Path(inspect.getfile(training_data)).read_bytes())
    for benchmark_id, spec in sorted(registry.items()):
        digest.update(f"{benchmark_id}\0{spec.model_dump_json()}\0".encode())
    return digest.hexdigest()
