"""`mobench submit PATH --hub URL --token T`: send a submission to a remote hub over its HTTP API.

The archive goes up as a resumable, checksummed upload (`submissions.server`): the hub is told the size and sha256
first, then receives fixed-size chunks at explicit offsets; a dropped connection is retried after asking the hub how
much it already holds, and the hub checks the checksum before the intake runs, so nothing arrives damaged and the
manifest travels inside the archive with everything else. A folder is zipped first (paths relative to it).
"""

from __future__ import annotations

import json
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.core.errors import MobenchError, SubmissionError
from hub.core.hashing import sha256_file

Progress = Callable[[int, int], None]


def zip_folder(folder: Path, target: Path) -> Path:
    """A zip of `folder`'s files (sorted, relative paths), as the hub's intake expects a submission."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            zf.write(path, path.relative_to(folder).as_posix())
    return target


def remote_submit(
    path: Path, hub: str, token: str, *, progress: Progress | None = None, retries: int = 5, backoff_s: float = 1.0
) -> dict[str, Any]:
    """Upload the submission at `path` (folder or .zip) to `hub`; returns the hub's receipt."""
    if not path.exists():
        raise SubmissionError(f"{path}: no such folder or file")
    with tempfile.TemporaryDirectory(prefix="mobench-upload-") as tmp:
        archive = path if path.is_file() else zip_folder(path, Path(tmp) / "submission.zip")
        size = archive.stat().st_size
        digest = sha256_file(archive)
        client = _Client(hub, token, retries, backoff_s)
        started = client.call("POST", "/uploads", json.dumps({"size": size, "sha256": digest}).encode())
        upload_id, chunk_bytes, offset = started["upload_id"], int(started["chunk_bytes"]), 0
        failures = 0
        with archive.open("rb") as handle:
            while offset < size:
                handle.seek(offset)
                chunk = handle.read(chunk_bytes)
                route = f"/uploads/{upload_id}?offset={offset}"
                try:
                    offset = int(client.call("PUT", route, chunk, retry=False)["offset"])
                    failures = 0
                except _Transient:
                    failures += 1
                    if failures > retries:
                        raise MobenchError(f"{hub}: the upload stalled at byte {offset} of {size}") from None
                    time.sleep(backoff_s * 2**failures)
                    offset = int(client.call("GET", f"/uploads/{upload_id}")["offset"])  # resume where the hub is
                if progress is not None:
                    progress(offset, size)
        return client.call("POST", f"/uploads/{upload_id}/complete", b"")


class _Transient(Exception):
    """A network failure worth retrying (connection reset, timeout, 5xx)."""


class _Client:
    def __init__(self, hub: str, token: str, retries: int, backoff_s: float) -> None:
        self.hub, self.token, self.retries, self.backoff_s = hub.rstrip("/"), token, retries, backoff_s

    def call(self, method: str, route: str, body: bytes | None = None, *, retry: bool = True) -> dict[str, Any]:
        for attempt in range(self.retries + 1):
            try:
                return self._once(method, route, body)
            except _Transient:
                if not retry and attempt == 0:
                    raise
                if attempt == self.retries:
                    raise MobenchError(f"{self.hub}{route}: no answer after {self.retries + 1} tries") from None
                time.sleep(self.backoff_s * 2**attempt)
        raise AssertionError("unreachable")

    def _once(self, method: str, route: str, body: bytes | None) -> dict[str, Any]:
        request = urllib.request.Request(self.hub + route, data=body, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Content-Type", "application/json" if method == "POST" else "application/octet-stream")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answer: dict[str, Any] = json.loads(response.read() or b"{}")
                return answer
        except urllib.error.HTTPError as error:
            if error.code >= 500:
                raise _Transient() from error
            detail = _detail(error.read())
            raise MobenchError(f"the hub refused the submission ({error.code}): {detail}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise _Transient() from error


def _detail(body: bytes) -> str:
    try:
        return str(json.loads(body).get("detail", body.decode(errors="replace")))
    except (ValueError, AttributeError):
        return body.decode(errors="replace")
