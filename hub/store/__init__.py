"""The store, a DuckDB file or a DuckLake: `connection` (opening it, transactions), `schema` (migrations, states),
`rows` (what goes in and comes out), `database` (the `Store`, which holds the connection and its collaborators:
`benchmarks`, `leases`, `outcomes`, and `notifications`, the outbox each state change writes to), `costs` and
`board_rows` (derived rows, written inside those transactions), `accounts` (the API's tokens and quotas) and
`results` (a scored result read back).

Stores rows only: it takes the core result type and knows no evaluator, loader or reader.
"""

from hub.store.database import Store
from hub.store.rows import NewSubmission, SubmissionRow
from hub.store.schema import MIGRATIONS, SCHEMA_VERSION, STATUSES

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "STATUSES", "NewSubmission", "Store", "SubmissionRow"]
