"""Content hashes: a submission's id is the sha256 of its content, and a timed model is identified by its file's.

`tree_hashes` and `tree_digest` are the two halves of a folder's hash, kept apart so that a result bundle can
carry every file's hash and a verifier can still recompute the folder's id from them (`hub.scoring.bundle`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (model files and submissions can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def files_under(folder: Path) -> list[Path]:
    """Every file below `folder`, at any depth, in path order (by components: `a/b` before `a.txt`)."""
    return sorted(p for p in folder.rglob("*") if p.is_file())


def tree_hashes(top: Path, files: Iterable[Path] | None = None) -> dict[str, str]:
    """Relative POSIX path -> hex sha256 of every file under `top` (or of `files`, paths under `top`), in path
    order, the order `tree_digest` hashes them in."""
    chosen = files_under(top) if files is None else sorted(files)
    return {path.relative_to(top).as_posix(): sha256_file(path) for path in chosen}


def tree_digest(hashes: Mapping[str, str]) -> str:
    """sha256 over every file's relative path and content hash, in path order: a folder's content id."""
    digest = hashlib.sha256()
    for rel in sorted(hashes, key=lambda name: name.split("/")):
        digest.update(rel.encode("utf-8") + b"\0")
        digest.update(bytes.fromhex(hashes[rel]))
    return digest.hexdigest()
