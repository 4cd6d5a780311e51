"""The DuckDB store: `schema` (migrations), `rows` (what goes in and comes out), `database` (the `Store` class).

Stores rows only: it takes the core result type and knows no evaluator, loader or reader.
"""

from hub.store.database import Store
from hub.store.rows import NewSubmission, SubmissionRow
from hub.store.schema import MIGRATIONS, SCHEMA_VERSION, STATUSES

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "STATUSES", "NewSubmission", "Store", "SubmissionRow"]
