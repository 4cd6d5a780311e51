"""Resumable uploads of large archives: a declared size and sha256, chunks appended at the offset the server holds,
then the checksum and the ordinary intake.

Each upload is written by one request at a time: a second chunk (or a completion) arriving while one is being
written gets 409, so two chunks at one offset can never both land. A chunk is streamed to the part file in the
pieces the connection delivers, never held whole in memory; one that would pass the upload's declared size or the
chunk limit is refused from its Content-Length before it is read, and cut off (the part file truncated back) if it
has none. Uploads left incomplete for `ttl_s` expire: their rows and part files are removed.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from starlette.exceptions import HTTPException

from hub.core.hashing import sha256_file
from hub.store import Store
from hub.store.accounts import Token
from hub.store.connection import utc_now


class Uploads:
    def __init__(self, store: Store, folder: Path, *, chunk_bytes: int, ttl_s: float) -> None:
        self.store, self.folder, self.chunk_bytes, self.ttl_s = store, folder, chunk_bytes, ttl_s
        folder.mkdir(parents=True, exist_ok=True)
        self._busy: set[str] = set()
        self._guard = threading.Lock()

    def start(self, token: Token, size: int, sha256: str) -> str:
        self.expire()
        upload_id = uuid.uuid4().hex
        with self.store.write() as con:
            con.execute(
                "INSERT INTO api_uploads VALUES (?, ?, ?, ?, ?, NULL)",
                [upload_id, token.id, size, sha256.lower(), utc_now()],
            )
        self.part(upload_id).touch()
        return upload_id

    def part(self, upload_id: str) -> Path:
        return self.folder / f"{upload_id}.part"

    def find(self, upload_id: str, token: Token) -> tuple[Path, int, str]:
        """The part file, declared size and sha256 of this token's open upload; 404 for anything else."""
        with self.store.read() as con:
            row = con.execute(
                "SELECT size, sha256 FROM api_uploads WHERE id = ? AND token_id = ? AND completed_at IS NULL",
                [upload_id, token.id],
            ).fetchone()
        part = self.part(upload_id)
        if row is None or not part.is_file():
            raise HTTPException(404, f"no open upload {upload_id} for this token (uploads expire after {self._ttl})")
        return part, int(row[0]), str(row[1])

    @property
    def _ttl(self) -> str:
        return f"{self.ttl_s / 3600:g} h"

    @contextmanager
    def writing(self, upload_id: str) -> Iterator[None]:
        """Hold the upload for one request; 409 while another holds it."""
        with self._guard:
            if upload_id in self._busy:
                raise HTTPException(409, f"upload {upload_id} is being written by another request: wait for it")
            self._busy.add(upload_id)
        try:
            yield
        finally:
            with self._guard:
                self._busy.discard(upload_id)

    async def append(
        self, part: Path, size: int, offset: int, declared: int | None, pieces: AsyncIterator[bytes]
    ) -> int:
        """Append one chunk at `offset` (which must be the part's length); returns the new length."""
        have = part.stat().st_size
        if offset != have:
            raise HTTPException(409, f"the upload holds {have} bytes; send the chunk at offset {have}")
        left = size - have
        if declared is not None:
            _check_chunk(declared, self.chunk_bytes, left)
        written = 0
        try:
            with part.open("r+b") as out:
                out.seek(have)
                async for piece in pieces:
                    written += len(piece)
                    _check_chunk(written, self.chunk_bytes, left, streaming=True)
                    out.write(piece)
            if written == 0:
                raise HTTPException(422, f"an empty chunk: send the archive's bytes from offset {have}")
        except BaseException:
            with part.open("r+b") as out:
                out.truncate(have)
            raise
        return have + written

    def complete(self, upload_id: str, part: Path, size: int, sha256: str) -> Path:
        """The finished archive (renamed from the part file) once size and checksum match."""
        held = part.stat().st_size
        if held != size:
            raise HTTPException(409, f"the upload holds {held} of {size} bytes: send the rest")
        if sha256_file(part) != sha256:
            self.close(upload_id)
            raise HTTPException(422, "checksum mismatch: the archive arrived damaged; start the upload again")
        archive = part.with_suffix(".zip")
        part.rename(archive)
        return archive

    def close(self, upload_id: str) -> None:
        self.part(upload_id).unlink(missing_ok=True)
        with self.store.write() as con:
            con.execute("UPDATE api_uploads SET completed_at = ? WHERE id = ?", [utc_now(), upload_id])

    def expire(self) -> int:
        """Remove uploads left incomplete for longer than the time to live; returns how many."""
        cutoff = utc_now() - timedelta(seconds=self.ttl_s)
        with self.store.write() as con:
            stale = [
                str(r[0])
                for r in con.execute(
                    "SELECT id FROM api_uploads WHERE completed_at IS NULL AND created_at < ?", [cutoff]
                ).fetchall()
            ]
            con.execute("DELETE FROM api_uploads WHERE completed_at IS NULL AND created_at < ?", [cutoff])
        for upload_id in stale:
            if upload_id not in self._busy:
                self.part(upload_id).unlink(missing_ok=True)
        return len(stale)


def _check_chunk(length: int, chunk_bytes: int, left: int, *, streaming: bool = False) -> None:
    """413 for a chunk over the server's chunk size; 409 for one past what the upload declared (its state)."""
    close = {"Connection": "close"} if streaming else None  # the rest of the body is not read
    if length > chunk_bytes:
        raise HTTPException(413, f"chunk larger than {chunk_bytes} bytes: send smaller chunks", headers=close)
    if length > left:
        raise HTTPException(409, f"chunk past the declared size: the upload has {left} bytes left", headers=close)
