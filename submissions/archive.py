"""Bringing an untrusted submission (a folder or a .zip) into a private staging folder, safely.

Nothing from a submitter is executed or unpickled. Zip members are checked before anything is written: no absolute
paths, no `..`, no symlinks or special files, no name twice (which copy an unzip tool keeps differs), a cap on the
number of files, on folder depth, on each file's and the total uncompressed size, and on the compression ratio
(zip bombs). A folder is copied under the same limits, refusing symlinks and hard links (either could stand for a
file anywhere on the host) and anything that is not a regular file or a folder (FIFOs, devices, sockets).
"""

from __future__ import annotations

import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hub.core.errors import SubmissionError
from hub.core.hashing import tree_digest, tree_hashes


@dataclass(frozen=True)
class Limits:
    max_files: int = 20_000
    max_file_bytes: int = 512 * 1024**2
    max_total_bytes: int = 4 * 1024**3
    max_ratio: float = 200.0
    max_depth: int = 32  # folders below the submission's top; far deeper trees exhaust recursive tree walks


DEFAULT_LIMITS = Limits()


def _check_member_name(name: str, source: Path, limits: Limits = DEFAULT_LIMITS) -> PurePosixPath:
    if not name:  # zipfile cuts a name at its first NUL byte
        raise SubmissionError(f"{source}: an archive member has an empty name (or one starting with a NUL byte)")
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise SubmissionError(f"{source}: archive member {name!r} has an absolute path")
    if ".." in path.parts:
        raise SubmissionError(f"{source}: archive member {name!r} escapes the archive with '..'")
    if len(path.parts) > limits.max_depth + 1:
        shown = name if len(name) <= 120 else name[:120] + "..."
        raise SubmissionError(f"{source}: archive member {shown!r} is nested deeper than {limits.max_depth} folders")
    return path


def extract_zip(archive: Path, dest: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    try:
        zf = zipfile.ZipFile(archive)
    # NotImplementedError: a member needs a newer zip version than Python reads; ValueError, EOFError: lying offsets
    except (zipfile.BadZipFile, OSError, NotImplementedError, ValueError, EOFError) as exc:
        raise SubmissionError(f"{archive}: not a readable zip archive: {exc}") from exc
    with zf:
        members = zf.infolist()
        if len(members) > limits.max_files:
            raise SubmissionError(f"{archive}: {len(members)} members, more than the limit of {limits.max_files}")
        total = 0
        seen: set[PurePosixPath] = set()
        for info in members:
            path = _check_member_name(info.filename, archive, limits)
            if path in seen:
                raise SubmissionError(
                    f"{archive}: member {info.filename!r} appears more than once (unzip tools disagree on which copy "
                    "wins); zip the folder again"
                )
            seen.add(path)
            file_type = stat.S_IFMT(info.external_attr >> 16)  # 0 when the archiver recorded no Unix type
            if file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise SubmissionError(f"{archive}: member {info.filename!r} is a symlink or special file")
            if info.file_size > limits.max_file_bytes:
                raise SubmissionError(
                    f"{archive}: member {info.filename!r} is larger than {limits.max_file_bytes} bytes"
                )
            if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
                raise SubmissionError(f"{archive}: member {info.filename!r} has a suspicious compression ratio")
            total += info.file_size
        if total > limits.max_total_bytes:
            raise SubmissionError(f"{archive}: {total} bytes uncompressed, more than {limits.max_total_bytes}")
        dest.mkdir(parents=True, exist_ok=True)
        for info in members:
            try:
                _extract_member(zf, info, dest.joinpath(*_check_member_name(info.filename, archive, limits).parts))
            except SubmissionError as exc:
                raise SubmissionError(f"{archive}: member {info.filename!r} {exc}") from exc
            # A corrupt or encrypted member, an unsupported compression method, a name the file system refuses,
            # or a file where another member needs a folder: the submitter's archive is wrong, not the hub.
            except (
                zipfile.BadZipFile,
                zlib.error,
                EOFError,
                RuntimeError,
                NotImplementedError,
                OSError,
                ValueError,
            ) as exc:
                # An OSError's own text names the private staging path; its strerror says what went wrong.
                problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                raise SubmissionError(f"{archive}: member {info.filename!r} cannot be extracted: {problem}") from exc


def _extract_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    if info.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with zf.open(info) as src, target.open("wb") as out:
        while chunk := src.read(1 << 20):
            written += len(chunk)
            if written > info.file_size:  # the header lied about the size
                raise SubmissionError("is larger than its header says")
            out.write(chunk)


def _walk(source: Path, limits: Limits) -> list[Path]:
    """Every entry under `source`, sorted, without following symlinks; iterative, so depth costs no stack."""
    found: list[Path] = []
    pending = [source]
    while pending:
        folder = pending.pop()
        if len(folder.relative_to(source).parts) > limits.max_depth:
            raise SubmissionError(f"{folder}: nested deeper than {limits.max_depth} folders")
        try:
            entries = list(folder.iterdir())
        except OSError as exc:
            raise SubmissionError(f"{folder}: cannot be read: {exc.strerror or exc}") from exc
        found.extend(entries)
        pending.extend(p for p in entries if p.is_dir() and not p.is_symlink())
    return sorted(found)


def copy_tree(source: Path, dest: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    files = 0
    total = 0
    for path in _walk(source, limits):
        rel = path.relative_to(source)
        if path.is_symlink():
            raise SubmissionError(f"{path}: symlinks are not accepted in a submission")
        if path.is_dir():
            (dest / rel).mkdir(parents=True, exist_ok=True)
            continue
        if not path.is_file():
            raise SubmissionError(f"{path}: not a regular file")
        info = path.stat()
        if info.st_nlink > 1:
            raise SubmissionError(
                f"{path}: a hard link ({info.st_nlink} names for one file, which may lie outside the submission) "
                "is not accepted: copy the file instead"
            )
        size = info.st_size
        files += 1
        total += size
        if files > limits.max_files:
            raise SubmissionError(f"{source}: more than {limits.max_files} files")
        if size > limits.max_file_bytes:
            raise SubmissionError(f"{path}: larger than {limits.max_file_bytes} bytes")
        if total > limits.max_total_bytes:
            raise SubmissionError(f"{source}: more than {limits.max_total_bytes} bytes in all")
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(path, dest / rel)
        except OSError as exc:  # unreadable file
            raise SubmissionError(f"{path}: cannot be read: {exc}") from exc


def stage(source: Path, dest: Path, limits: Limits = DEFAULT_LIMITS) -> Path:
    """Copy or unpack `source` into `dest`; returns the submission's top folder (the one with manifest.yaml).

    A zip whose content sits in one top-level folder (the common result of zipping a folder) is accepted too.
    """
    if source.is_dir():
        copy_tree(source, dest, limits)
    elif source.is_file() and source.suffix.lower() == ".zip":
        extract_zip(source, dest, limits)
    elif source.exists():
        raise SubmissionError(f"{source}: a submission is a folder or a .zip archive")
    else:
        raise SubmissionError(f"{source}: no such file or folder")
    if (dest / "manifest.yaml").is_file():
        return dest
    children = [c for c in dest.iterdir() if not c.name.startswith(("__MACOSX", "."))]
    if len(children) == 1 and children[0].is_dir() and (children[0] / "manifest.yaml").is_file():
        return children[0]
    raise SubmissionError(f"{source}: no manifest.yaml at the top level of the submission")


def content_hash(top: Path) -> str:
    """sha256 over every file's relative path and content: the same submission twice has the same id."""
    return tree_digest(tree_hashes(top))
