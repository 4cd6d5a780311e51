"""Manifest validation and safe staging of untrusted submissions (folders and zips)."""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from hub.core.errors import SubmissionError
from submissions.archive import Limits, content_hash, stage
from submissions.manifest import load_manifest

GOOD = {
    "benchmark": "sintel-clean",
    "model": {"name": "tiny-flow", "version": "1.0", "params": 1000},
    "runtime": "onnxruntime",
    "precision": "fp16",
    "device": {"name": "Pixel 8", "soc": "Tensor G3", "os": "Android 14"},
    "submitter": {"name": "lab"},
}


def _write_manifest(folder: Path, data: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "manifest.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_valid_manifest_parses(tmp_path: Path) -> None:
    manifest = load_manifest(_write_manifest(tmp_path, GOOD))
    assert manifest.model.name == "tiny-flow" and manifest.device.soc == "Tensor G3"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda m: m.pop("runtime"), "field 'runtime': Field required"),
        (lambda m: m["model"].update(params=-1), "field 'model.params'"),
        (lambda m: m["device"].update(colour="red"), "field 'device.colour': Extra inputs"),
        (lambda m: m["model"].update(sha256="xyz"), "field 'model.sha256'"),
        (
            lambda m: m.update(
                power_windows=[{"trace": "t.csv", "start_s": float("nan"), "end_s": 1, "inferences": 1}]
            ),
            "field 'power_windows.0.start_s': Input should be a finite number",
        ),
    ],
)
def test_bad_manifest_names_the_field(tmp_path: Path, mutate: object, expected: str) -> None:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    mutate(data)  # type: ignore[operator]
    with pytest.raises(SubmissionError, match="manifest") as info:
        load_manifest(_write_manifest(tmp_path, data))
    assert expected in str(info.value)


def test_manifest_yaml_cannot_construct_objects(tmp_path: Path) -> None:
    (tmp_path / "manifest.yaml").write_text("!!python/object/apply:os.system ['true']\n", encoding="utf-8")
    with pytest.raises(SubmissionError, match="not valid YAML"):
        load_manifest(tmp_path / "manifest.yaml")


def test_manifest_that_is_not_a_mapping(tmp_path: Path) -> None:
    (tmp_path / "manifest.yaml").write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(SubmissionError, match="must be a YAML mapping"):
        load_manifest(tmp_path / "manifest.yaml")


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_zip_with_one_top_folder_is_staged(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "s.zip", {"sub/manifest.yaml": b"a: 1\n", "sub/predictions/x.flo": b"1"})
    top = stage(archive, tmp_path / "out")
    assert (top / "predictions" / "x.flo").read_bytes() == b"1"


@pytest.mark.parametrize(
    ("name", "message"),
    [("../evil.txt", "escapes the archive"), ("/etc/evil", "absolute path"), ("C:\\evil", "absolute path")],
)
def test_zip_path_traversal_is_refused_before_writing(tmp_path: Path, name: str, message: str) -> None:
    archive = _zip(tmp_path / "s.zip", {"manifest.yaml": b"a: 1\n", name: b"x"})
    with pytest.raises(SubmissionError, match=message):
        stage(archive, tmp_path / "out" / "inner")
    assert not (tmp_path / "out" / "evil.txt").exists()
    assert not (tmp_path / "out" / "inner").exists()


def test_zip_symlink_member_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "s.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("manifest.yaml", b"a: 1\n")
        link = zipfile.ZipInfo("predictions/link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(SubmissionError, match="symlink"):
        stage(archive, tmp_path / "out")


def test_zip_bomb_and_size_limits(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "s.zip", {"manifest.yaml": b"a: 1\n", "predictions/big": b"\0" * 1_000_000})
    with pytest.raises(SubmissionError, match="compression ratio"):
        stage(archive, tmp_path / "o1")
    with pytest.raises(SubmissionError, match="larger than 1000 bytes"):
        stage(archive, tmp_path / "o2", Limits(max_file_bytes=1000, max_ratio=1e9))
    with pytest.raises(SubmissionError, match="more than the limit of 1"):
        stage(archive, tmp_path / "o3", Limits(max_files=1))


def _corrupt_crc(path: Path) -> None:
    """Flip one stored byte of the member 'predictions/z' (stored, not deflated, so the bytes are in the clear)."""
    data = bytearray(path.read_bytes())
    at = data.rfind(b"A" * 100)
    data[at] = ord("B")
    path.write_bytes(bytes(data))


def _unsupported_method(path: Path) -> None:
    """Set the last member's compression method to 99 (AES, which Python's zipfile cannot read)."""
    data = path.read_bytes()
    local, central = data.rfind(b"PK\x03\x04"), data.rfind(b"PK\x01\x02")
    data = data[: local + 8] + (99).to_bytes(2, "little") + data[local + 10 :]
    data = data[: central + 10] + (99).to_bytes(2, "little") + data[central + 12 :]
    path.write_bytes(data)


@pytest.mark.parametrize(
    ("members", "damage", "message"),
    [
        (
            {"manifest.yaml": b"a: 1\n", "predictions/z": b"A" * 100},
            _corrupt_crc,
            "'predictions/z' cannot be extracted",
        ),
        ({"manifest.yaml": b"a: 1\n", "predictions/z": b"x"}, _unsupported_method, "'predictions/z' cannot be"),
        ({"manifest.yaml": b"a: 1\n", "predictions": b"x", "predictions/z": b"x"}, None, "'predictions/z' cannot be"),
        ({"manifest.yaml": b"a: 1\n", "predictions/" + "a" * 300: b"x"}, None, "cannot be extracted"),
    ],
    ids=["bad-crc", "unsupported-compression", "file-where-a-folder-is-needed", "name-too-long"],
)
def test_a_member_that_cannot_be_extracted_is_a_submission_error(
    tmp_path: Path, members: dict[str, bytes], damage: Callable[[Path], None] | None, message: str
) -> None:
    archive = tmp_path / "s.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    if damage is not None:
        damage(archive)
    with pytest.raises(SubmissionError, match=message) as info:
        stage(archive, tmp_path / "out")
    assert str(tmp_path / "out") not in str(info.value)  # the member is named, not the staging folder


def test_not_a_zip_and_missing_manifest(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(SubmissionError, match="not a readable zip"):
        stage(bad, tmp_path / "o1")
    folder = tmp_path / "folder"
    (folder / "predictions").mkdir(parents=True)
    with pytest.raises(SubmissionError, match=r"no manifest\.yaml"):
        stage(folder, tmp_path / "o2")


def test_folder_with_symlink_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "sub"
    _write_manifest(folder, GOOD)
    (folder / "predictions").mkdir()
    (folder / "predictions" / "leak").symlink_to("/etc/hostname")
    with pytest.raises(SubmissionError, match="symlinks are not accepted"):
        stage(folder, tmp_path / "out")


def test_content_hash_depends_on_names_and_bytes(tmp_path: Path) -> None:
    a = tmp_path / "a"
    (a / "predictions").mkdir(parents=True)
    (a / "predictions" / "x").write_bytes(b"1")
    first = content_hash(a)
    assert content_hash(a) == first
    (a / "predictions" / "x").write_bytes(b"2")
    assert content_hash(a) != first
    (a / "predictions" / "x").rename(a / "predictions" / "y")
    assert content_hash(a) not in {first}
