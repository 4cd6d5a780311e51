"""What every dataset loader promises.

A loader reads a `root` laid out exactly as the official download (never a re-packed copy) and yields one dict
per sample with a stable `id`. Its `features()` types every column, so `to_dataset()` and the exporter produce a
`datasets.Dataset` whose columns decode back to exactly what the loader yielded.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import datasets
from datasets.exceptions import DatasetGenerationError

from hub.core.errors import DatasetLayoutError, MobenchError
from hub.core.hashing import files_under


class DatasetLoader(ABC):
    """Base class: one small subclass per dataset family, as torchvision does it.

    Subclasses set `splits`, document the expected folder tree in their docstring (it is quoted in layout
    errors), and implement `sample_ids`, `features` and `__iter__`.
    """

    splits: ClassVar[tuple[str, ...]]
    # True when each split is the folder `root/<split>/` of the release (KITTI's training/, Sintel's test/).
    split_folders: ClassVar[bool] = False
    # True when the samples depend on the benchmark the loader is built for (health: the task's scale, the benchmark
    # id in each row): `hub.scoring.wiring.make_loader` then passes the spec as the `benchmark` keyword.
    takes_benchmark: ClassVar[bool] = False

    def __init__(self, root: str | Path, split: str, config: str | None = None) -> None:
        self.root = Path(root)
        if split not in self.splits:
            raise DatasetLayoutError(
                f"{type(self).__name__}: unknown split {split!r}; valid splits: {', '.join(self.splits)}"
            )
        if not self.root.is_dir():
            raise DatasetLayoutError(f"{type(self).__name__}: root {self.root} is not a directory.\n{self.layout()}")
        self.split = split
        self.config = config

    @classmethod
    def layout(cls) -> str:
        """The expected folder tree, taken from the class docstring, for error messages."""
        return f"Expected layout (the official release, unpacked):\n{cls.__doc__ or ''}"

    def require(self, path: Path, what: str) -> Path:
        """Return `path` if it exists, else fail with a message that shows how the tree should look."""
        if not path.exists():
            raise DatasetLayoutError(f"missing {what}: {path}\n{self.layout()}")
        return path

    def missing_files_error(self, missing: Sequence[Path], what: str = "file(s)") -> DatasetLayoutError:
        """The error for files a complete release has but this copy lacks: how many, the first ten, the tree."""
        shown = "\n".join(f"  {path}" for path in missing[:10])
        more = f"\n  ... and {len(missing) - 10} more" if len(missing) > 10 else ""
        return DatasetLayoutError(f"{len(missing)} {what} missing:\n{shown}{more}\n{self.layout()}")

    def split_files(self) -> list[Path]:
        """The release's files this split is read from, in path order: the ground truth a result bundle hashes
        (`hub.scoring.bundle`), so a verifier can tell a different copy of the release from a different scoring.

        Every file under `root/<split>/` for a loader whose splits are folders of their own (`split_folders`), so a
        copy of that split alone verifies too; else every file under `root`: such loaders pick their files
        themselves (PIQ23 reads score and split CSVs, the health tasks per-participant logs), and only the whole
        release surely covers them.
        """
        return files_under(self.root / self.split if self.split_folders else self.root)

    @abstractmethod
    def sample_ids(self) -> list[str]:
        """Stable ids, in a deterministic order, of every sample in this split."""

    @abstractmethod
    def features(self) -> datasets.Features:
        """The typed columns of one sample."""

    @abstractmethod
    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Yield samples in `sample_ids()` order; each dict matches `features()`."""

    def __len__(self) -> int:
        return len(self.sample_ids())

    def empty_reason(self) -> str:
        """Why this split holds no sample, for the refusal of an export or a scoring of it (a loader that knows
        more, e.g. which files or windows were missing, says so)."""
        return f"no sample of the release at {self.root} falls in it"

    def to_dataset(self, cache_dir: str | Path | None = None) -> datasets.Dataset:
        """Materialise the split as an Arrow-backed `datasets.Dataset`, streaming samples to disk.

        The Arrow files go to `cache_dir`, which the caller owns; without it, to a `mobench-ds-*` folder in the temp
        dir that is removed when the process exits (or at once if building fails). An empty split gives an empty
        dataset with the split's features. A `MobenchError` raised while reading a sample (a file the loader refuses)
        comes out as itself, not wrapped in the `DatasetGenerationError` of `datasets`.
        """
        features = self.features()
        if not self.sample_ids():
            return datasets.Dataset.from_dict({name: [] for name in features}, features=features)
        own = cache_dir is None
        cache = tempfile.mkdtemp(prefix="mobench-ds-") if cache_dir is None else str(cache_dir)
        try:
            dataset = datasets.Dataset.from_generator(
                _iterate, gen_kwargs={"loader": self}, features=features, cache_dir=cache
            )
        except BaseException as error:
            if own:
                shutil.rmtree(cache, ignore_errors=True)
            cause = _loader_error(error)
            if cause is not None:
                raise cause from None
            raise
        if own:
            atexit.register(shutil.rmtree, cache, True)
        return dataset


def _loader_error(error: BaseException) -> MobenchError | None:
    """The loader's own error behind the `DatasetGenerationError` that `datasets` raises for it, if any."""
    cause = error.__cause__ if isinstance(error, DatasetGenerationError) else None
    return cause if isinstance(cause, MobenchError) else None


def _iterate(loader: DatasetLoader) -> Iterator[dict[str, Any]]:
    yield from loader
