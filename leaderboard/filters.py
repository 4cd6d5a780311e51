"""What a visitor can narrow a benchmark page to, as one SQL condition used on the store and on the reference rows.

One definition, run by DuckDB on both: on the store's rows inside `leaderboard.queries.ranking` (so filtering 100k
submissions never leaves the database) and on the small table of reported rows from papers (`apply`, through an
in-memory DuckDB). An empty selection means "no restriction"; a row that lacks a filtered field (a paper names no
runtime, a model no parameter count, a reported row no training-data badge) passes only an unrestricted filter,
except that hiding the rows that declare test overlap hides only rows that declare it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from hub.core.training_data import Badge

MEASURED = "measured by mobench"
SELF_REPORTED = "self-reported"
REPORTED = "reported in a paper"
NO_MEASUREMENTS = "no measurements"
PROVENANCES = (MEASURED, SELF_REPORTED, NO_MEASUREMENTS, REPORTED)

# how the store's `latency_provenance` reads on the page (SQL, over a column of that name)
PROVENANCE_SQL = f"""CASE latency_provenance WHEN 'measured-by-mobench' THEN '{MEASURED}'
    WHEN 'self-reported' THEN '{SELF_REPORTED}' ELSE '{NO_MEASUREMENTS}' END"""
# how the store's `training_badge` reads on the page (SQL, over a column of that name), in the page's column
# `training_data`; a row the store has no badge for (its benchmark unknown to this mobench) reads as undeclared
TRAINING = tuple(badge.label for badge in Badge)
TRAINING_SQL = (
    "CASE training_badge "
    + " ".join(f"WHEN '{badge.value}' THEN '{badge.label}'" for badge in Badge)
    + f" ELSE '{Badge.UNDECLARED.label}' END"
)


@dataclass(frozen=True)
class Filters:
    devices: Sequence[str] = ()
    socs: Sequence[str] = ()
    runtimes: Sequence[str] = ()
    precisions: Sequence[str] = ()
    params: tuple[float, float] | None = None
    provenances: Sequence[str] = field(default_factory=lambda: PROVENANCES)
    synthetic: bool = True
    training: Sequence[str] = ()  # badge labels (`TRAINING`)
    hide_contaminated: bool = False  # hide the rows that declare overlap with the test data


def where(filters: Filters, columns: Sequence[str]) -> tuple[str, dict[str, object]]:
    """The SQL condition over a relation with `columns` that keeps what `filters` allows, and its named parameters
    (`$filter_device`, ...), to pass with the query's own."""
    clauses: list[str] = []
    params: dict[str, object] = {}
    for column, chosen in (
        ("device", filters.devices),
        ("soc", filters.socs),
        ("runtime", filters.runtimes),
        ("precision", filters.precisions),
        ("training_data", filters.training),
    ):
        if chosen:
            if column in columns:
                clauses.append(f"{column} IN (SELECT unnest($filter_{column}::VARCHAR[]))")
                params[f"filter_{column}"] = list(chosen)
            else:
                clauses.append("FALSE")
    if filters.params is not None:
        if "params" in columns:
            clauses.append("params BETWEEN $filter_params_low AND $filter_params_high")
            params["filter_params_low"], params["filter_params_high"] = filters.params
        else:
            clauses.append("FALSE")
    if not set(PROVENANCES) <= set(filters.provenances):  # every provenance allowed: no clause to evaluate
        clauses.append("provenance IN (SELECT unnest($filter_provenance::VARCHAR[]))")
        params["filter_provenance"] = list(filters.provenances)
    if not filters.synthetic and "synthetic" in columns:
        clauses.append("NOT coalesce(synthetic, FALSE)")
    if filters.hide_contaminated and "training_data" in columns:  # a row that declares nothing hides nothing
        clauses.append(f"training_data <> '{Badge.CONTAMINATED.label}'")
    return " AND ".join(clauses) or "TRUE", params


def apply(frame: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """The rows of `frame` (e.g. the reported rows) that pass `filters`, in their order."""
    if frame.empty:
        return frame
    condition, params = where(filters, list(frame.columns))
    with duckdb.connect() as con:
        con.register("frame", frame.assign(_order=range(len(frame))))
        keep = con.execute(f"SELECT _order FROM frame WHERE {condition} ORDER BY _order", params).fetchall()
    return frame.iloc[[row[0] for row in keep]]
