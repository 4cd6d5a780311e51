"""What a submission declares its model was trained on, and the badge that says what that means on one benchmark.

A manifest's `training_data` is `none` (the model was fitted on no data of any benchmark's dataset: zero-shot) or a
list of what it was trained on, each item either

- a dataset's name, alone (`flyingchairs`, `FlyingThings3D`, `HuggingFaceTB/smol-smoltalk`) or with the part of it
  used after a colon: `<name>:<split>` for a dataset cut one way (`kitti-2015:training`), `<name>:<config>/<split>`
  where the benchmark has several configs (`piq23:device/train`, `pmdata:participant/train`); names compare case-
  and spacing-blind (`KITTI 2015` is `kitti-2015`, see `normal_name`); or
- a URL the data was taken from (`https://huggingface.co/datasets/...`), which names the dataset as a whole.

Leaving the field out is `undeclared`. A benchmark's spec says what its own data is called (`dataset.names`,
`dataset.urls`), which split is for training and which is its test split (`dataset.roles`), and which other
datasets share samples or labels with it (`dataset.overlaps`), so the rule needs nothing but the spec.

The badge rule (`training_badge`, over `read_declaration`), for a row scored on config C, split S:

- `none` -> **zero-shot**; the field left out -> **undeclared**;
- an item that names this dataset as a whole (no split, or a URL), a split whose place cannot be told (an unknown
  split or config, or a split name without the config where there are several), a split of another config than C
  (the configs cut the same data differently), the split S itself, a split whose role is `test`, or any part of a
  dataset listed in `overlaps` -> **declared test overlap** (contaminated: the declared data holds, or may hold, what
  the row is scored on or the benchmark's test data);
- otherwise an item that names a `train` split of config C other than S -> **trained on its training split**;
- otherwise (only other datasets) -> **zero-shot** with respect to this benchmark, the list shown with the row.

The worst item decides: overlap over trained over zero-shot. The test split named by the rule is the scored one
where mobench scores the official training split (KITTI, Sintel, HD1K keep their test ground truth on their
authors' servers): a model fine-tuned on KITTI's training pairs shows "declared test overlap" on a KITTI row here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal
from urllib.parse import urlsplit

from hub.core.errors import MobenchError, excerpt
from hub.core.registry import BenchmarkSpec, DatasetNames

NONE: Final = "none"
MAX_ITEMS: Final = 50
MAX_ITEM_CHARS: Final = 300
# What a manifest declares when it declares: "none", or the list of items.
Declaration = Literal["none"] | list[str]
# What a row holds: a declaration, or None where the field was left out.
Declared = Literal["none"] | Sequence[str] | None


class Badge(StrEnum):
    """The badge of a submission on its benchmark, as the store keeps it (`submissions.training_badge`)."""

    ZERO_SHOT = "zero-shot"
    TRAINED = "trained"
    CONTAMINATED = "contaminated"
    UNDECLARED = "undeclared"

    @property
    def label(self) -> str:
        """How the leaderboard and the API's readers see it."""
        return _LABELS[self]


_LABELS = {
    Badge.ZERO_SHOT: "zero-shot",
    Badge.TRAINED: "trained on its training split",
    Badge.CONTAMINATED: "declared test overlap",
    Badge.UNDECLARED: "undeclared",
}


class Verdict(StrEnum):
    """What one declared item means for one benchmark."""

    OTHER = "another dataset"
    TRAINED = "its training split"
    OVERLAP = "overlap with its test data"


@dataclass(frozen=True)
class Reading:
    """One declared item read against one benchmark: its verdict and why."""

    item: str
    verdict: Verdict
    why: str


def normal_name(name: str) -> str:
    """A dataset name as names are compared: case folded, spaces and underscores read as '-'."""
    return re.sub(r"[\s_]+", "-", name.strip().casefold())


def _normal_url(url: str) -> str:
    """A URL as URLs are compared: host (without `www.` and port) and path, case folded, no trailing '/', no
    scheme, query or fragment (http and https serve the same data; a query picks a view of one page)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").removeprefix("www.")
    return f"{host}{parts.path.rstrip('/')}".casefold()


def item_problem(item: str) -> str | None:
    """What is wrong with one declared item's form, or None: the manifest's check of untrusted text."""
    if not item.strip():
        return "is empty"
    if len(item) > MAX_ITEM_CHARS:
        return f"is longer than {MAX_ITEM_CHARS} characters"
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in item):
        return "holds a control or invisible formatting character"
    if "://" in item:
        parts = urlsplit(item.strip())
        if parts.scheme not in ("http", "https", "ftp") or not parts.hostname:
            return "is not an http(s) or ftp URL with a host"
        return None
    name, colon, part = item.partition(":")
    if not name.strip():
        return "names no dataset before ':'"
    if colon and not part.strip():
        return "names no split after ':' (leave the ':' out to name the whole dataset)"
    if normal_name(item) == NONE:
        return "is `none` inside a list: write `training_data: none` on its own for a zero-shot model"
    return None


def check_form(value: object) -> Declaration:
    """A manifest's `training_data` value checked as untrusted input: `none` or a list of at most `MAX_ITEMS`
    distinct, well-formed items. Raises `ValueError` saying what is wrong and which item."""
    if value == NONE:
        return NONE
    if value is None:
        raise ValueError("is empty: write `none` for a zero-shot model, or leave the field out (undeclared)")
    if not isinstance(value, list):
        raise ValueError(
            f"expected `none` or a list of dataset names or URLs, got {excerpt(value)} "
            '(e.g. training_data: [flyingchairs, "kitti-2015:training"])'
        )
    if not value:
        raise ValueError("is an empty list: write `none` for a zero-shot model")
    if len(value) > MAX_ITEMS:
        raise ValueError(f"lists {len(value)} items, more than {MAX_ITEMS}")
    seen: dict[str, int] = {}
    for number, item in enumerate(value, start=1):
        if not isinstance(item, str):
            raise ValueError(f"item {number} is not text: {excerpt(item)}")
        problem = item_problem(item)
        if problem is not None:
            raise ValueError(f"item {number} ({excerpt(item)}) {problem}")
        key = _key(item)
        if key in seen:
            raise ValueError(f"item {number} ({excerpt(item)}) repeats item {seen[key]}")
        seen[key] = number
    return list(value)


def _key(item: str) -> str:
    """An item as items are compared: a URL normalised, else the name and its part normalised."""
    if "://" in item:
        return _normal_url(item)
    name, colon, part = item.partition(":")
    return normal_name(name) + (":" + part.strip() if colon else "")


@dataclass(frozen=True)
class _Item:
    name: str | None  # normalised; None for a URL
    url: str | None  # normalised; None for a name
    part: str | None  # after the ':', stripped; None for the whole dataset


def _parse(item: str) -> _Item:
    if "://" in item:
        return _Item(None, _normal_url(item), None)
    name, colon, part = item.partition(":")
    return _Item(normal_name(name), None, part.strip() if colon else None)


def _names(item: _Item, dataset: DatasetNames) -> bool:
    """Whether `item` names `dataset`: one of its names, or one of its URLs or a page or file under it."""
    url = item.url
    if url is None:
        return item.name in dataset.names
    return any(url == own or url.startswith(own + "/") for own in map(_normal_url, dataset.urls))


def place(part: str, spec: BenchmarkSpec) -> tuple[str, str]:
    """The (config, split) of `spec` that a declared part (`<split>` or `<config>/<split>`) names; a `MobenchError`
    saying why when it names none (an unknown config or split, or a split name where the config must be said)."""
    dataset = spec.dataset.names[0]
    config_name, slash, split_name = part.rpartition("/")
    if not slash:
        if len(spec.configs) > 1:
            configs = ", ".join(c.name for c in spec.configs)
            raise MobenchError(
                f"{dataset} is cut several ways (configs {configs}): name the part as {dataset}:<config>/<split>"
            )
        config_name = spec.configs[0].name
    config = next((c for c in spec.configs if c.name == config_name), None)
    if config is None:
        raise MobenchError(
            f"{dataset} has no config {config_name!r}; its configs: {', '.join(c.name for c in spec.configs)}"
        )
    if split_name not in {s.name for s in config.splits}:
        splits = ", ".join(s.name for s in config.splits)
        raise MobenchError(f"{dataset} has no split {split_name!r} in config {config.name}; its splits: {splits}")
    return config.name, split_name


def read_item(item: str, spec: BenchmarkSpec, config: str, split: str) -> Reading:
    """What one declared item means for a row of `spec` scored on `config`/`split` (the rule in the module's
    docstring)."""
    parsed = _parse(item)
    dataset = spec.dataset
    if not _names(parsed, dataset):
        for other in dataset.overlaps:
            if _names(parsed, other):
                return Reading(
                    item, Verdict.OVERLAP, f"{other.names[0]} shares samples or labels with {dataset.names[0]}"
                )
        return Reading(item, Verdict.OTHER, f"not {dataset.names[0]} or a dataset that overlaps it")
    if parsed.part is None:
        return Reading(item, Verdict.OVERLAP, f"names {dataset.names[0]} as a whole: it may hold the scored split")
    try:
        named = place(parsed.part, spec)
    except MobenchError as exc:
        return Reading(item, Verdict.OVERLAP, f"unknown which part of {dataset.names[0]}: {exc}")
    if named[0] != config:
        return Reading(
            item, Verdict.OVERLAP, f"config {named[0]} cuts the same data as the scored config {config} differently"
        )
    if named[1] == split:
        return Reading(item, Verdict.OVERLAP, f"{config}/{split} is the split this row is scored on")
    if dataset.roles[named[1]] == "test":
        return Reading(item, Verdict.OVERLAP, f"{named[1]} is {dataset.names[0]}'s test split")
    return Reading(item, Verdict.TRAINED, f"a training split, disjoint from the scored {config}/{split}")


def read_declaration(declared: Declared, spec: BenchmarkSpec, config: str, split: str) -> list[Reading]:
    """Every declared item read against a row of `spec` scored on `config`/`split` (none for `none` or absent)."""
    if declared is None or isinstance(declared, str):
        return []
    return [read_item(item, spec, config, split) for item in declared]


def training_badge(declared: Declared, spec: BenchmarkSpec, config: str, split: str) -> Badge:
    """The badge of a row of `spec` scored on `config`/`split` whose manifest declares `declared`."""
    if declared is None:
        return Badge.UNDECLARED
    verdicts = {reading.verdict for reading in read_declaration(declared, spec, config, split)}
    if Verdict.OVERLAP in verdicts:
        return Badge.CONTAMINATED
    if Verdict.TRAINED in verdicts:
        return Badge.TRAINED
    return Badge.ZERO_SHOT


def check_parts(declared: Declared, specs: Iterable[BenchmarkSpec]) -> None:
    """Refuse an item that names a registered dataset with a part none of its benchmarks has (`sintel:train` where
    Sintel's split is `training`, `piq23:train` where the config must be said): a typo there would silently make the
    badge "declared test overlap". A `MobenchError` names the item and the parts there are."""
    if declared is None or isinstance(declared, str):
        return
    specs = list(specs)
    for number, item in enumerate(declared, start=1):
        parsed = _parse(item)
        if parsed.part is None:
            continue
        sharing = [spec for spec in specs if _names(parsed, spec.dataset)]
        problems = []
        for spec in sharing:
            try:
                place(parsed.part, spec)
                break
            except MobenchError as exc:
                problems.append(str(exc))
        else:
            if problems:
                raise MobenchError(f"item {number} ({excerpt(item)}): {problems[0]}")


def declared_split(spec: BenchmarkSpec, config: str, split: str) -> str:
    """How a manifest names one split of `spec`'s data (`kitti-2015-flow:training`, `piq23:device/train`): what a
    model fitted on that split declares."""
    part = split if len(spec.configs) == 1 else f"{config}/{split}"
    return f"{spec.dataset.names[0]}:{part}"
