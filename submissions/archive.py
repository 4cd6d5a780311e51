"""Bringing an untrusted submission (a folder or a .zip) into a private staging folder, safely.

Nothing from a submitter is executed or unpickled. Zip members are checked before anything is written: no absolute
paths, no `..`, no symlinks or special files, no name twice (which copy an unzip tool keeps differs), a cap on the
number of files, on folder depth, on each file's and the total uncompressed size, and on the compression ratio
(zip bombs). A folder is copied under the same limits, refusing symlinks and hard links (either could stand for a
file anywhere on the host) and anything that is not a regular file or a folder (FIFOs, devices, sockets).
"""

from __future__ import annotations

import lzma
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hub.core.errors import SubmissionError, excerpt
from hub.core.hashing import tree_digest, tree_hashes


@dataclass(frozen=True)
class Limits:
    max_files: int = 20_000
    max_file_bytes: int = 512 * 1024**2
    max_total_bytes: int = 4 * 1024**3
    max_ratio: float = 200.0
    max_depth: int = 32  # folders below the submission's top; far deeper trees exhaust recursive tree walks


DEFAULT_LIMITS = Limits()
MEMBER_NAME_CHARS = 160  # how much of a member's name a message quotes

# What reading a hostile zip can raise besides SubmissionError: a corrupt or encrypted member, a compression method
# Python does not read (NotImplementedError), bad compressed data (zlib.error; OSError from bz2; LZMAError), lying
# offsets (ValueError, EOFError, OSError "negative seek"), a name the file system refuses. The archive is wrong, not
# the hub: each becomes a SubmissionError.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    OSError,
    ValueError,
)


def _problem(exc: BaseException) -> str:
    """An error's text without a private path: an OSError's own text names the file it failed on."""
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def _check_member_name(name: str, source: str, limits: Limits = DEFAULT_LIMITS) -> PurePosixPath:
    if not name:  # zipfile cuts a name at its first NUL byte
        raise SubmissionError(f"{source}: an archive member has an empty name (or one starting with a NUL byte)")
    path = PurePosixPath(name.replace("\\", "/"))
    quoted = excerpt(name, MEMBER_NAME_CHARS)
    if path.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise SubmissionError(f"{source}: archive member {quoted} has an absolute path")
    if ".." in path.parts:
        raise SubmissionError(f"{source}: archive member {quoted} escapes the archive with '..'")
    if len(path.parts) > limits.max_depth + 1:
        raise SubmissionError(f"{source}: archive member {quoted} is nested deeper than {limits.max_depth} folders")
    return path


def _open_zip(archive: Path, shown: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(archive)
    except ZIP_ERRORS as exc:
        raise SubmissionError(f"{shown}: not a readable zip archive: {_problem(exc)}") from exc


def read_member(archive: Path, name: str, cap: int, shown: str) -> bytes:
    """The bytes of the member called `name` nearest the archive's top (e.g. a manifest, read before extracting
    anything), at most `cap` bytes, under the same checks and error wording as `extract_zip`."""
    with _open_zip(archive, shown) as zf:
        try:
            members = [i for i in zf.infolist() if i.filename.rstrip("/").split("/")[-1] == name and not i.is_dir()]
            if not members:
                raise SubmissionError(f"{shown}: the archive has no {name}")
            member = min(members, key=lambda i: len(i.filename))
            _check_member_name(member.filename, shown)
            if member.file_size > cap:
                raise SubmissionError(f"{shown}: {name} larger than {cap} bytes")
            with zf.open(member) as handle:
                data = handle.read(cap + 1)
        except ZIP_ERRORS as exc:
            raise SubmissionError(f"{shown}: member {name} cannot be read: {_problem(exc)}") from exc
    if len(data) > cap:
        raise SubmissionError(f"{shown}: {name} larger than {cap} bytes")
    return data


def extract_zip(archive: Path, dest: Path, limits: Limits = DEFAULT_LIMITS, *, shown: str | None = None) -> None:
    """Extract `archive` into `dest` under `limits`; messages call the archive `shown` (default: its path)."""
    name = shown or str(archive)
    zf = _open_zip(archive, name)
    with zf:
        members = zf.infolist()
        if len(members) > limits.max_files:
            raise SubmissionError(f"{name}: {len(members)} members, more than the limit of {limits.max_files}")
        total = 0
        seen: set[PurePosixPath] = set()
        for info in members:
            member = excerpt(info.filename, MEMBER_NAME_CHARS)
            path = _check_member_name(info.filename, name, limits)
            if path in seen:
                raise SubmissionError(
                    f"{name}: member {member} appears more than once (unzip tools disagree on which copy "
                    "wins); zip the folder again"
                )
            seen.add(path)
            file_type = stat.S_IFMT(info.external_attr >> 16)  # 0 when the archiver recorded no Unix type
            if file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise SubmissionError(f"{name}: member {member} is a symlink or special file")
            if info.file_size > limits.max_file_bytes:
                raise SubmissionError(f"{name}: member {member} is larger than {limits.max_file_bytes} bytes")
            if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
                raise SubmissionError(f"{name}: member {member} has a suspicious compression ratio")
            total += info.file_size
        if total > limits.max_total_bytes:
            raise SubmissionError(f"{name}: {total} bytes uncompressed, more than {limits.max_total_bytes}")
        dest.mkdir(parents=True, exist_ok=True)
        for info in members:
            member = excerpt(info.filename, MEMBER_NAME_CHARS)
            try:
                _extract_member(zf, info, dest.joinpath(*_check_member_name(info.filename, name, limits).parts))
            except SubmissionError as exc:
                raise SubmissionError(f"{name}: member {member} {exc}") from exc
            except ZIP_ERRORS as exc:  # also a file where another member needs a folder
                raise SubmissionError(f"{name}: member {member} cannot be extracted: {_problem(exc)}") from exc


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


def stage(source: Path, dest: Path, limits: Limits = DEFAULT_LIMITS, *, shown: str | None = None) -> Path:
    """Copy or unpack `source` into `dest`; returns the submission's top folder (the one with manifest.yaml).

    A zip whose content sits in one top-level folder (the common result of zipping a folder) is accepted too.
    `shown` is how messages name a zip (the HTTP API names the uploaded archive, never its private path).
    """
    if source.is_dir():
        copy_tree(source, dest, limits)
    elif source.is_file() and source.suffix.lower() == ".zip":
        extract_zip(source, dest, limits, shown=shown)
    elif source.exists():
        raise SubmissionError(f"{source}: a submission is a folder or a .zip archive")
    else:
        raise SubmissionError(f"{source}: no such file or folder")
    if (dest / "manifest.yaml").is_file():
        return dest
    children = [c for c in dest.iterdir() if not c.name.startswith(("__MACOSX", "."))]
    if len(children) == 1 and children[0].is_dir() and (children[0] / "manifest.yaml").is_file():
        return children[0]
    raise SubmissionError(f"{shown or source}: no manifest.yaml at the top level of the submission")


def content_hash(top: Path) -> str:
    """sha256 over every file's relative path and content: the same submission twice has the same id."""
    return tree_digest(tree_hashes(top))
