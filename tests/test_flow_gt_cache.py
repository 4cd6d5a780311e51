"""The ground-truth cache (`loaders.gt_cache`): hits, stale sources, corrupt entries, concurrent writers, off.

A wrong hit would score a submission against ground truth that is no longer on disk, so every way an entry can stop
matching its sources is tried here; `tests/test_flow_evaluate.py` checks that scoring gives the same bits with the
cache cold, warm and off.
"""

from __future__ import annotations

import inspect
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from hub.core.errors import DatasetLayoutError
from loaders.gt_cache import GT_CACHE_ENV, SUFFIX, CachedGroundTruth, GroundTruthCache, _code_files

REPO = Path(__file__).resolve().parent.parent

Arrays = Mapping[str, NDArray[Any]]


def _arrays(source: Path) -> dict[str, NDArray[Any]]:
    """Every kind of array a view holds, derived from the source's bytes (so a changed source changes them)."""
    data = np.frombuffer(source.read_bytes(), dtype=np.uint8)
    return {
        "flow": data.astype(np.float32).reshape(-1, 2),
        "mag_sq": data.astype(np.float64)[::2] ** 2,  # not contiguous
        "valid": (data % 2 == 1).reshape(2, -1),
        "labels": data[::-1],
        "empty": np.zeros((0, 2), dtype=np.float32),
        "flag": np.asarray(True),
    }


class _Counting:
    """`compute` for the cache: the arrays of `source`, counting its calls."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.calls = 0

    def __call__(self) -> dict[str, NDArray[Any]]:
        self.calls += 1
        return _arrays(self.source)


def _assert_same(got: Arrays, expected: Arrays) -> None:
    assert list(got) == list(expected)
    for name, array in expected.items():
        assert got[name].dtype == array.dtype and got[name].shape == array.shape, name
        np.testing.assert_array_equal(got[name], array)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "gt" / "frame_0001.flo"
    path.parent.mkdir()
    path.write_bytes(bytes(range(40)))
    return path


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.rglob(f"*{SUFFIX}"))


def test_second_call_maps_the_entry_without_computing(tmp_path: Path, source: Path) -> None:
    cache = GroundTruthCache(tmp_path / "cache")
    compute = _Counting(source)
    cold = cache.arrays([source], "recipe", compute)
    warm = cache.arrays([source], "recipe", compute)
    assert compute.calls == 1 and len(_entries(tmp_path / "cache")) == 1
    _assert_same(cold, _arrays(source))
    _assert_same(warm, _arrays(source))
    for array in [*cold.values(), *warm.values()]:  # cold and warm alike, so a writer fails on both
        assert not array.flags.writeable
    assert all(array.ctypes.data % 64 == 0 for array in warm.values() if array.size)


def test_another_recipe_is_another_entry(tmp_path: Path, source: Path) -> None:
    cache = GroundTruthCache(tmp_path / "cache")
    compute = _Counting(source)
    cache.arrays([source], "recipe", compute)
    cache.arrays([source], "another recipe", compute)
    assert compute.calls == 2 and len(_entries(tmp_path / "cache")) == 2


@pytest.mark.parametrize("change", ["rewritten", "same size and mtime", "replaced by cp -p"])
def test_a_changed_source_is_never_served_stale(tmp_path: Path, source: Path, change: str) -> None:
    cache = GroundTruthCache(tmp_path / "cache")
    compute = _Counting(source)
    cache.arrays([source], "recipe", compute)
    stat = source.stat()
    new = bytes(reversed(range(40)))  # the same size
    if change == "rewritten":
        time.sleep(0.01)
        source.write_bytes(new)
    elif change == "same size and mtime":  # an edit that restores the mtime: the ctime still moves
        time.sleep(0.01)
        source.write_bytes(new)
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    else:  # another file with the same size and mtime moved over it (`cp -p`, `rsync -a`): a new inode
        other = source.with_name("other.flo")
        other.write_bytes(new)
        os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        other.replace(source)
    assert source.stat().st_mtime_ns == stat.st_mtime_ns or change == "rewritten"
    _assert_same(cache.arrays([source], "recipe", compute), _arrays(source))
    assert compute.calls == 2


def test_a_source_changed_while_computing_is_not_stored(tmp_path: Path, source: Path) -> None:
    cache = GroundTruthCache(tmp_path / "cache")

    def compute() -> dict[str, NDArray[Any]]:
        arrays = _arrays(source)
        time.sleep(0.01)
        source.write_bytes(bytes(reversed(range(40))))
        return arrays

    cache.arrays([source], "recipe", compute)
    assert _entries(tmp_path / "cache") == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: data + b"\0" * 64,  # longer than its header says
        lambda data: b"",  # empty
        lambda data: b"garbage" + data[7:],  # no magic
        lambda data: b"PK\x03\x04" + data[4:],  # the start of a zip archive (what numpy reads as .npz)
        lambda data: data.replace(b"'<f4'", b"'|O'"),  # an object dtype
        lambda data: data.replace(b"(20, 2)", b"(-1, 2)"),  # a negative dimension
        lambda data: data.replace(b"{'descr'", b"['descr'"),  # a header of the wrong shape
        None,  # a file of another name in the entry
    ],
)
def test_a_corrupt_entry_is_recomputed_and_replaced(
    tmp_path: Path, source: Path, damage: Callable[[bytes], bytes] | None, caplog: pytest.LogCaptureFixture
) -> None:
    cache = GroundTruthCache(tmp_path / "cache")
    compute = _Counting(source)
    cache.arrays([source], "recipe", compute)
    (entry,) = _entries(tmp_path / "cache")
    flow = entry / "0-flow.npy"  # the first array's file
    if damage is None:
        flow.rename(entry / "flow.npy")
    else:
        damaged = damage(flow.read_bytes())
        assert damaged != flow.read_bytes()
        flow.write_bytes(damaged)
    with caplog.at_level(logging.WARNING, logger="loaders.gt_cache"):
        _assert_same(cache.arrays([source], "recipe", compute), _arrays(source))
    assert compute.calls == 2 and "entry" in caplog.text
    _assert_same(cache.arrays([source], "recipe", compute), _arrays(source))  # the entry is whole again
    assert compute.calls == 2
    assert [p.name for p in entry.parent.iterdir()] == [entry.name]  # the damaged entry is gone, not set aside


def test_a_missing_source_lets_compute_raise(tmp_path: Path) -> None:
    def compute() -> dict[str, NDArray[Any]]:
        raise FileNotFoundError("the loader's own error")

    with pytest.raises(FileNotFoundError, match="the loader's own error"):
        GroundTruthCache(tmp_path / "cache").arrays([tmp_path / "missing.flo"], "recipe", compute)


def test_a_cache_that_cannot_be_written_only_logs(
    tmp_path: Path, source: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING, logger="loaders.gt_cache"):
        _assert_same(GroundTruthCache(blocked).arrays([source], "recipe", _Counting(source)), _arrays(source))
    assert "could not store" in caplog.text


def test_environment_chooses_the_folder_or_turns_the_cache_off(
    tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(GT_CACHE_ENV, "off")
    assert GroundTruthCache.from_environment().folder is None
    compute = _Counting(source)
    GroundTruthCache.from_environment().arrays([source], "recipe", compute)
    GroundTruthCache.from_environment().arrays([source], "recipe", compute)
    assert compute.calls == 2
    monkeypatch.setenv(GT_CACHE_ENV, str(tmp_path / "mine"))
    assert GroundTruthCache.from_environment().folder == tmp_path / "mine"
    monkeypatch.delenv(GT_CACHE_ENV)
    monkeypatch.setenv("MOBENCH_HOME", str(tmp_path / "home"))
    assert GroundTruthCache.from_environment().folder == tmp_path / "home" / "cache" / "ground-truth"


def _fill(folder: str, source: str, start: float) -> dict[str, list[Any]]:
    """One process's call, all starting at `start`, with a compute slow enough for their writes to overlap."""

    def compute() -> dict[str, NDArray[Any]]:
        time.sleep(0.2)
        return _arrays(Path(source))

    time.sleep(max(0.0, start - time.time()))
    arrays = GroundTruthCache(Path(folder)).arrays([Path(source)], "recipe", compute)
    return {name: array.tolist() for name, array in arrays.items()}


def test_processes_filling_one_entry_at_once_agree(tmp_path: Path, source: Path) -> None:
    folder = tmp_path / "cache"
    start = time.time() + 2.0  # after the spawned processes have imported everything
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.starmap(_fill, [(str(folder), str(source), start)] * 4)
    expected = {name: array.tolist() for name, array in _arrays(source).items()}
    assert results == [expected] * 4
    (entry,) = _entries(folder)
    assert [p.name for p in entry.parent.iterdir()] == [entry.name]  # no temporary file left behind
    _assert_same(GroundTruthCache(folder).arrays([source], "recipe", _Counting(source)), _arrays(source))


class _Loader(CachedGroundTruth):
    def __init__(self, source: Path) -> None:
        self.source = source

    def ground_truth(self, sample_id: str) -> dict[str, NDArray[Any]]:
        return _arrays(self.source)

    def ground_truth_files(self, sample_id: str) -> list[Path]:
        return [self.source]


def _first_flow(gt: dict[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
    return {"first": gt["flow"][:1]}


def test_loader_derivations_are_cached_per_function(
    tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(GT_CACHE_ENV, str(tmp_path / "cache"))
    loader = _Loader(source)
    np.testing.assert_array_equal(loader.cached_ground_truth("a", _first_flow)["first"], _arrays(source)["flow"][:1])
    loader.cached_ground_truth("a", _first_flow)
    assert len(_entries(tmp_path / "cache")) == 1
    with pytest.raises(TypeError, match="module-level function"):
        loader.cached_ground_truth("a", lambda gt: gt)


def test_the_recipe_covers_the_loader_class_tree_and_what_the_derivation_calls() -> None:
    """An edit anywhere between the GT files and a view's arrays changes the key: in the loader's module, in a base
    class's (where a shared skeleton decodes the files), or in a helper module the derive function calls into."""
    from evaluators.flow_pools import kitti_gt_view
    from loaders.kitti_flow import KittiFlow2015

    modules = [*(cls.__module__ for cls in KittiFlow2015.__mro__), kitti_gt_view.__module__]
    files = set(_code_files(modules))
    own = [cls for cls in KittiFlow2015.__mro__ if cls.__module__.partition(".")[0] in {"loaders", "evaluators"}]
    helpers = [kitti_gt_view.__globals__[name] for name in ("squared_magnitude", "_valid_pixels")]
    expected = {inspect.getfile(cls) for cls in own} | {inspect.getfile(f) for f in [kitti_gt_view, *helpers]}
    assert len(own) >= 3 and expected <= files  # the loader, DatasetLoader and CachedGroundTruth at least
    assert inspect.getfile(DatasetLayoutError) in files  # a module the loaders take a name from, transitively
    assert all(Path(file).is_relative_to(REPO) and ".venv" not in Path(file).parts for file in files)
    import loaders.sintel

    assert _code_files(modules) == sorted(files) and inspect.getfile(loaders.sintel) not in files
