"""Schemathesis hooks for the API's third-party test (tests/test_schemathesis.py), loaded by `st run` through
SCHEMATHESIS_HOOKS: valid submission zips, so that generated requests reach the intake and not only its refusals.

The zips are built by the test from the demo's baselines and named in MOBENCH_ST_ZIPS (a folder of *.zip). The spec
declares the multipart `archive` field as `application/zip`; the strategy below gives that media type real
submissions. `POST /uploads` is, half the time, the declaration of one of those zips and a chunk at offset 0 its
bytes, so the stateful phase can follow upload -> chunk -> complete -> status through to a queued submission.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import strategies as st

ZIPS = sorted(Path(os.environ["MOBENCH_ST_ZIPS"]).glob("*.zip")) if "MOBENCH_ST_ZIPS" in os.environ else []
DATA = [path.read_bytes() for path in ZIPS]
UPLOADED = DATA[0] if DATA else b""

if DATA:
    schemathesis.openapi.media_type("application/zip", st.sampled_from(DATA))


def _valid_declaration(body: Any) -> bool:
    """A body that is valid by the spec (the hook leaves negative cases as schemathesis drew them)."""
    if not isinstance(body, dict) or set(body) != {"size", "sha256"}:
        return False
    size, digest = body["size"], body["sha256"]
    return (
        isinstance(size, int) and not isinstance(size, bool) and size > 0
        and isinstance(digest, str) and re.fullmatch(r"[0-9a-fA-F]{64}", digest) is not None
    )  # fmt: skip


@schemathesis.hook
def map_body(ctx: schemathesis.HookContext, body: Any) -> Any:
    operation = ctx.operation
    if operation is None or not UPLOADED:
        return body
    method = operation.method.upper()
    if method == "POST" and operation.path == "/uploads" and _valid_declaration(body) and body["size"] % 2 == 0:
        return {"size": len(UPLOADED), "sha256": hashlib.sha256(UPLOADED).hexdigest()}  # about half of them
    if method == "PUT" and operation.path == "/uploads/{upload_id}" and isinstance(body, bytes) and body:
        return UPLOADED if len(body) % 2 == 0 else body
    return body
