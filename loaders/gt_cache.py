"""A disk cache of what scoring computes from a release's ground truth alone, shared by every submission.

Why: the worker scores every submission of a benchmark against the same ground truth, and for optical flow, decoding
it (KITTI: three 16-bit PNGs per pair; Sintel: two mask PNGs) and deriving the pixel sets the metrics need (Sintel's
distance to the nearest occlusion boundary, its speed bins and out-of-frame test) cost more than reading the
submission itself. `GroundTruthCache.arrays` computes such arrays once per version of a sample's ground-truth files
and keeps them in `.npy` files; every later call, from any process, maps those files instead.

Keys. An entry is named by the sha256 of
- the recipe: the name of the function that derives the arrays and a fingerprint of the code involved (the source
  files of the modules of the loader's class and of every class it derives from, of the derive function's module,
  of every project module those take names from, transitively, and of every codec in `loaders/formats/`; and the
  numpy and OpenCV versions), so that edited decoding or metric code never reads an entry of the old code, wherever
  in the class tree or in the helpers of the derive function it was edited;
- every source file's absolute path, size, mtime_ns, ctime_ns and inode, so that a changed ground-truth file is
  never served stale (ctime and inode also catch a file replaced by `cp -p` or `rsync -a`, which keep the mtime).
The sources are stat'ed again once the arrays are computed: if one changed meanwhile, they are returned, not stored.

Entries. One folder per entry holding one `.npy` file per array (`numpy.save`, `<position>-<name>.npy`; no pickles),
read back with `numpy.load(mmap_mode="r")`. It is written to a temporary folder beside it and published with a
rename, which is atomic: a reader sees a whole entry or none, several processes may fill one entry at once (they
write the same bytes; the last rename wins), and an entry that cannot be read back exactly (bad header, wrong
size) is recomputed and replaced the same way. A hit maps the files read-only, so its arrays share the page cache
instead of being copied into fresh memory (on a busy VM the page faults of a fresh 3.5 MB array cost ten times its
copy); `.npy` data starts on a 64-byte boundary, so the mapped arrays are aligned. All returned arrays, computed or
mapped, are read-only.

Measured with `mobench bench` (warm cache) against the one-file format this replaced (a JSON header and the arrays'
bytes in one mapped file): `flow-kitti`, 200 pairs, 6.46 s against 6.02 s; `flow`, Sintel's 1,041 pairs, 9.07 s
against 8.89 s (300 pairs: 2.62 s against 2.23 s). Under a second on the real-size runs, so numpy's format serves.

Where: `$MOBENCH_GT_CACHE` if set (a folder, or `off` to disable the cache: every call then computes), else
`ground-truth/` in `hub.core.paths.cache_home()`. Nothing is evicted: deleting the folder clears it.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import logging
import os
import shutil
import sys
import tempfile
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

import loaders.formats
from hub.core.paths import cache_home

GT_CACHE_ENV = "MOBENCH_GT_CACHE"
OFF = "off"
SUFFIX = ".npys"  # an entry: a folder of .npy files

Arrays = dict[str, NDArray[Any]]
Derive = Callable[[dict[str, NDArray[Any]]], Mapping[str, NDArray[Any]]]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GroundTruthCache:
    """Arrays computed from source files, kept in `folder` (None: no cache, every call computes)."""

    folder: Path | None

    @classmethod
    def from_environment(cls) -> GroundTruthCache:
        """The cache `$MOBENCH_GT_CACHE` names (`off`: none), else `ground-truth/` in the cache home."""
        value = os.environ.get(GT_CACHE_ENV, "")
        if value.lower() == OFF:
            return cls(None)
        return cls(Path(value) if value else cache_home() / "ground-truth")

    def arrays(self, sources: Sequence[Path], recipe: str, compute: Callable[[], Mapping[str, NDArray[Any]]]) -> Arrays:
        """`compute()`, read-only, from the entry of (`recipe`, the sources as they are now) when there is one.

        A source that cannot be stat'ed (missing) bypasses the cache, so `compute` raises the loader's own error.
        The cache never fails a call: an entry it cannot read is recomputed, one it cannot write is only logged.
        """
        if self.folder is None:
            return _read_only(compute())
        try:
            before = _signature(sources)
        except OSError:
            return _read_only(compute())
        key = hashlib.sha256(json.dumps([recipe, before]).encode("utf-8")).hexdigest()
        path = self.folder / key[:2] / f"{key}{SUFFIX}"
        cached = _read(path)
        if cached is not None:
            return cached
        computed = _read_only(compute())
        try:
            if _signature(sources) == before:
                _write(path, computed)
        except OSError as error:
            _log.warning("ground-truth cache: could not store %s: %s", path, error)
        return computed


class CachedGroundTruth(ABC):
    """What a loader whose ground truth is a few files per sample adds for its evaluators: `cached_ground_truth`."""

    @abstractmethod
    def ground_truth(self, sample_id: str) -> dict[str, NDArray[Any]]:
        """The sample's ground-truth arrays, decoded from its files."""

    @abstractmethod
    def ground_truth_files(self, sample_id: str) -> list[Path]:
        """The files `ground_truth(sample_id)` reads: what a cached derivation of it depends on."""

    def cached_ground_truth(self, sample_id: str, derive: Derive) -> Arrays:
        """`derive(self.ground_truth(sample_id))` as read-only arrays, computed once per version of the sample's
        ground-truth files and then read from the `GroundTruthCache`.

        `derive` must be a module-level function of the ground truth alone (its qualified name and its module's
        source are part of the key), e.g. the pixel sets a metric needs, which are the same for every submission.
        """
        return GroundTruthCache.from_environment().arrays(
            self.ground_truth_files(sample_id),
            _recipe(type(self), derive),
            lambda: derive(self.ground_truth(sample_id)),
        )


@functools.cache
def _recipe(loader: type, derive: Derive) -> str:
    """The name of `derive` and a fingerprint of every piece of code between the source files and its arrays."""
    name = f"{derive.__module__}.{derive.__qualname__}"
    if "<" in derive.__qualname__:  # a lambda or a local function: two of them could share this name
        raise TypeError(f"cached_ground_truth needs a module-level function, got {name}")
    files = _code_files([*(cls.__module__ for cls in loader.__mro__), derive.__module__])
    formats = Path(inspect.getfile(loaders.formats)).parent
    digest = hashlib.sha256()
    for file in [*files, *sorted(str(p) for p in formats.glob("*.py"))]:
        digest.update(Path(file).read_bytes())
    return f"{name} numpy {np.__version__} opencv {cv2.__version__} code {digest.hexdigest()}"


def _code_files(modules: Iterable[str]) -> list[str]:
    """The source files, in path order, of the project's modules among `modules` and of every project module they
    take a name from (an imported module, or a function, class or object defined there), transitively; the same
    files in every process, whatever else it imported.

    A module counts as the project's when its top-level package is a folder of the repository (`hub`, `loaders`,
    `evaluators`, ...); the libraries' code is fingerprinted by their versions instead.
    """
    project = _project_packages()
    seen: set[str] = set()
    pending = list(modules)
    while pending:
        module = sys.modules.get(name := pending.pop())
        if name in seen or module is None or name.partition(".")[0] not in project:
            continue
        seen.add(name)
        for value in vars(module).values():
            used = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
            # a package holds each of its submodules once something imported it: not code it takes from them
            if isinstance(used, str) and not used.startswith(f"{name}."):
                pending.append(used)
    return sorted(inspect.getfile(sys.modules[name]) for name in seen)


@functools.cache
def _project_packages() -> frozenset[str]:
    """The top-level packages of the repository: its folders with an `__init__.py` (`loaders` is one of them)."""
    repository = Path(inspect.getfile(loaders)).parent.parent
    return frozenset(p.name for p in repository.iterdir() if (p / "__init__.py").is_file())


def _signature(sources: Sequence[Path]) -> list[tuple[str, int, int, int, int]]:
    """(absolute path, size, mtime_ns, ctime_ns, inode) of every source: what a stale entry would differ in. A
    symbolic link is followed, so the stat is its target's (a link moved to another file changes the inode)."""
    signature = []
    for source in sources:
        stat = os.stat(source)
        signature.append((os.path.abspath(source), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino))
    return signature


def _read_only(arrays: Mapping[str, NDArray[Any]]) -> Arrays:
    """The arrays as read-only views, so a caller behaves the same on a cold cache (computed) as on a warm one
    (mapped)."""
    views = {}
    for name, array in arrays.items():
        view = np.asarray(array).view()
        view.flags.writeable = False
        views[name] = view
    return views


def _read(path: Path) -> Arrays | None:
    """The entry at `path` (a folder of `.npy` files) mapped read-only, or None when it is missing or not exactly
    what `_write` writes."""
    try:
        files = os.listdir(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        _log.warning("ground-truth cache: ignoring unreadable entry %s: %s", path, error)
        return None
    arrays: Arrays = {}
    try:
        for file in sorted(files, key=_position):
            array = np.load(path / file, mmap_mode="r", allow_pickle=False)
            if not isinstance(array, np.memmap):  # a zip archive (.npz) is not an array
                raise ValueError(f"{file}: not an .npy file")
            if array.offset + array.nbytes != os.path.getsize(path / file):
                raise ValueError(f"{file}: not the size its header describes")
            arrays[file.partition("-")[2].removesuffix(".npy")] = array.view(np.ndarray)
    except FileNotFoundError:  # replaced meanwhile by another process
        return None
    # EOFError: an empty file; BadZipFile: one that starts as a zip archive, which numpy reads as .npz
    except (OSError, ValueError, SyntaxError, EOFError, zipfile.BadZipFile) as error:
        _log.warning("ground-truth cache: recomputing corrupt entry %s: %s", path, error)
        return None
    return arrays


def _position(file: str) -> int:
    """The position of an array in its entry, from its file name `<position>-<name>.npy`."""
    position, _, name = file.partition("-")
    if not (position.isdigit() and name.endswith(".npy")):
        raise ValueError(f"unexpected file {file!r}")
    return int(position)


def _write(path: Path, arrays: Mapping[str, NDArray[Any]]) -> None:
    """Publish the entry atomically: its `.npy` files written to a temporary folder beside it, which is then renamed
    to `path` (an entry already there, whole or corrupt, is first renamed away and deleted)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        for position, (name, array) in enumerate(arrays.items()):
            np.save(temporary / f"{position}-{name}.npy", array, allow_pickle=False)
        try:
            os.rename(temporary, path)
        except OSError:  # an entry is there: replace it, so a corrupt one does not stay
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
            with suppress(FileNotFoundError):
                os.replace(path, old)
            with suppress(OSError):  # another process published meanwhile: theirs stays
                os.rename(temporary, path)
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
