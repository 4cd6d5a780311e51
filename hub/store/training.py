"""The training-data badge of recorded submissions, kept equal to what their declarations mean under today's specs.

A submission keeps what its manifest declared (`training_data_json`: the JSON of `none` or of the list, NULL when
undeclared) and the badge that declaration earns on its benchmark (`training_badge`, `hub.core.training_data`). The
badge is derived data: a later mobench may teach a spec a new name or overlap, and submissions recorded before
declarations existed (migration 13) have none. So `Store.init` derives it again (`refresh`) where it is missing (from
the manifest the intake stored, which for those rows holds no declaration: undeclared) or where a declared list now
reads differently, and drops those submissions' leaderboard rows for `board_rows.fill_missing` to write again.
"""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from hub.core.registry import load_registry
from hub.core.training_data import Declared, training_badge


def encode(declared: Declared) -> str | None:
    """What `training_data_json` holds for a declaration: its JSON, NULL for undeclared."""
    return None if declared is None else json.dumps(declared if isinstance(declared, str) else list(declared))


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Derive the badge of every submission that lacks one or declares a list, in the caller's transaction; a
    submission whose benchmark this mobench does not know keeps what it has."""
    rows = con.execute(
        """SELECT id, benchmark_id, config, split, manifest_json, training_data_json, training_badge
           FROM submissions WHERE training_badge IS NULL OR starts_with(training_data_json, '[')"""
    ).fetchall()
    registry = load_registry()
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
