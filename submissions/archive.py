"""Bringing an untrusted submission (a folder or a .zip) into a private staging folder, safely.

Nothing from a submitter is executed or unpickled. Zip members are checked before anything is written: no absolute
paths, no `..`, no symlinks or special files, a cap on the number of files, on each file's and the total
uncompressed size, and on the compression ratio (zip bombs). A folder is copied under the same limits, refusing
symlinks (which could point anywhere on the host).
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hub.core.errors import SubmissionError
from hub.core.hashing import sha256_file


@dataclass(frozen=True)
class Limits:
    max_files: int = 20_000
    max_file_bytes: int = 512 * 1024**2
    max_total_bytes: int = 4 * 1024**3
    max_ratio: float = 200.0


DEFAULT_LIMITS = Limits()


def _check_member_name(name: str, source: Path) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise SubmissionError(f"{source}: archive member {name!r} has an absolute path")
    if ".." in path.parts:
        raise SubmissionError(f"{source}: archive member {name!r} escapes the archive with '..'")
    return path


def extract_zip(archive: Path, dest: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{archive}: not a readable zip archive: {exc}") from exc
    with zf:
        members = zf.infolist()
        if len(members) > limits.max_files:
            raise SubmissionError(f"{archive}: {len(members)} members, more than the limit of {limits.max_files}")
        total = 0
        for info in members:
            _check_member_name(info.filename, archive)
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
                _extract_member(zf, info, dest.joinpath(*_check_member_name(info.filename, archive).parts))
            except SubmissionError as exc:
                raise SubmissionError(f"{archive}: member {info.filename!r} {exc}") from exc
            # A corrupt or encrypted member, an unsupported compression method, a name the file system refuses,
            # or a file where another member needs a folder: the submitter's archive is wrong, not the hub.
            except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, OSError) as exc:
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


def copy_tree(source: Path, dest: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    files = 0
    total = 0
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if path.is_symlink():
            raise SubmissionError(f"{path}: symlinks are not accepted in a submission")
        if path.is_dir():
            (dest / rel).mkdir(parents=True, exist_ok=True)
            continue
        if not path.is_file():
            raise SubmissionError(f"{path}: not a regular file")
        size = path.stat().st_size
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
    digest = hashlib.sha256()
    for path in sorted(p for p in top.rglob("*") if p.is_file()):
        digest.update(path.relative_to(top).as_posix().encode("utf-8") + b"\0")
        digest.update(bytes.fromhex(sha256_file(path)))
    return digest.hexdigest()
