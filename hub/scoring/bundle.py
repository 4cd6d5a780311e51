"""Result bundles: one JSON file that lets anyone check a hub's result against the original submission.

`mobench bundle SUBMISSION` writes one from the store (`build_bundle`), the leaderboard's submission page offers it
for download, and `mobench verify BUNDLE --root RELEASE` (`submissions.verify`) scores the submission again and
compares every figure bit for bit. The format, one UTF-8 JSON object:

    {
      "format": "mobench-result-bundle",
      "format_version": 1,
      "created_at": "2025-01-31T12:00:00Z",
      "mobench": {"version": "0.1.0", "git_commit": "<40 hex digits>[-dirty]" or null},
      "submission": {
        "id": "<sha256>",                            the submission's content id (hub.core.hashing.tree_digest)
        "status": "published",                       its state in the store when the bundle was written
        "benchmark": "<benchmark id>", "benchmark_version": "1.0", "config": "device", "split": "test",
        "labels": "public" or "hidden",              who holds the split's ground truth (hub.core.registry)
        "manifest": {...},                           manifest.yaml as the intake parsed it
        "training_badge": "trained"                  what its training_data earns on the benchmark, as the hub
      },                                             shows it (hub.core.training_data); absent before badges
      "hashes": {
        "submission": {"manifest.yaml": "<sha256>", "predictions/scores.csv": "<sha256>", ...},
        "ground_truth": {"Scores_Overall.csv": "<sha256>", "Test split/Device Split.csv": "<sha256>", ...}
      },
      "result": {
        "n_samples": 16, "n_expected": 16,
        "metrics": {"srcc": 0.4, ...},
        "breakdowns": {"scene": {"Indoor_Scene_1": {"srcc": 0.8, ...}, ...}, ...},
        "sample_scores": {"<sample id>": {"abs_error": 0.5, ...}, ...},
        "intervals": {                               each metric's 95 % bootstrap interval (hub.core.bootstrap),
          "unit": "scene", "n_units": 4,              absent for a result scored before intervals existed
          "resamples": 1000, "seed": 20261205, "level": 0.95,
          "bounds": {"srcc": [0.2, 0.9], ...}
        }
      }
    }

`hashes.submission` covers every file of the submission as the hub keeps it (relative POSIX path -> sha256, in path
order), so its `tree_digest` is the submission's id; `hashes.ground_truth` covers every file the split is read from
(`DatasetLoader.split_files`, paths relative to the release's root). Both are taken when the bundle is written, from
the hub's copies (the store does not hash a release at every scoring), so a release changed since scoring shows up
on verification as figures that differ. `mobench` is the version and commit the worker recorded when it scored
(`details.scored_by`), or, for results scored before workers recorded it, the hub's at writing time. A figure is a
JSON number written with Python's `repr` (the shortest text that reads back as the same float64, so it round-trips
bit for bit) or one of the strings "NaN", "Infinity" and "-Infinity", for which JSON has no number.

A split with hidden labels (held by the hub operator, never shown) puts none of them in the bundle, not even a
hash of the answer key: next to the per-sample scores, a hash of a small key could be brute-forced. Verifying such
a result needs the key itself (`mobench verify --answers KEY`).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, PlainSerializer, PlainValidator, StringConstraints, ValidationError

from hub.core.bootstrap import Intervals
from hub.core.errors import FormatError, MobenchError
from hub.core.evaluation import EvaluationResult
from hub.core.hashing import tree_digest, tree_hashes
from hub.core.registry import BenchmarkSpec, LabelAccess, get_benchmark
from hub.core.training_data import Badge
from hub.core.version import mobench_git_commit, mobench_version
from hub.scoring.wiring import make_loader
from hub.store import Store
from hub.store.results import resolve_submission, stored_result
from loaders.formats.text import read_json

FORMAT: Final = "mobench-result-bundle"
FORMAT_VERSION: Final = 1
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _decode_figure(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    raise ValueError(f"a figure is a JSON number or one of the strings {', '.join(map(repr, _NON_FINITE))}")


def _encode_figure(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


Figure = Annotated[float, PlainValidator(_decode_figure), PlainSerializer(_encode_figure)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MobenchInfo(_Part):
    version: str
    git_commit: str | None


class SubmissionInfo(_Part):
    id: Sha256
    status: str
    benchmark: str
    benchmark_version: str
    config: str
    split: str
    labels: LabelAccess
    manifest: dict[str, Any]
    training_badge: Badge | None = None


class Hashes(_Part):
    submission: dict[str, Sha256]
    ground_truth: dict[str, Sha256]


class IntervalFigures(_Part):
    """The metrics' bootstrap intervals and how they were drawn, so verification draws the same resamples."""

    unit: str
    n_units: int
    resamples: int
    seed: int
    level: float
    bounds: dict[str, tuple[Figure, Figure]]

    @classmethod
    def of(cls, intervals: Intervals) -> IntervalFigures:
        return cls(**intervals.resampling_json(), bounds=intervals.bounds)

    def intervals(self) -> Intervals:
        return Intervals(self.unit, self.n_units, self.resamples, self.seed, self.level, dict(self.bounds))


class Figures(_Part):
    """Every figure of a scoring: what verification compares, one by one."""

    n_samples: int
    n_expected: int
    metrics: dict[str, Figure]
    breakdowns: dict[str, dict[str, dict[str, Figure]]]
    sample_scores: dict[str, dict[str, Figure]]
    intervals: IntervalFigures | None = None

    @classmethod
    def of(cls, result: EvaluationResult) -> Figures:
        return cls(
            n_samples=result.n_samples,
            n_expected=result.n_expected,
            metrics=result.metrics,
            breakdowns=result.breakdowns,
            sample_scores=result.sample_scores,
            intervals=IntervalFigures.of(result.intervals) if result.intervals is not None else None,
        )


class Bundle(_Part):
    format: Literal["mobench-result-bundle"]
    format_version: Literal[1]
    created_at: datetime
    mobench: MobenchInfo
    submission: SubmissionInfo
    hashes: Hashes
    result: Figures


def bundle_file_name(submission_id: str) -> str:
    """What `mobench bundle` and the leaderboard call a submission's bundle file."""
    return f"mobench-bundle-{submission_id[:12]}.json"


def ground_truth_hashes(spec: BenchmarkSpec, root: Path, split: str, config: str) -> dict[str, str]:
    """sha256 of every file the split is read from, by path relative to the release's root."""
    loader = make_loader(spec, root, split, config)
    return tree_hashes(loader.root, loader.split_files())


def build_bundle(store: Store, submission_id: str) -> Bundle:
    """The bundle of a scored submission (`submission_id` or a unique prefix of it), from the store and the hub's
    copies of the submission and of the benchmark's release."""
    row = resolve_submission(store, submission_id)
    stored = stored_result(store, row)
    spec = get_benchmark(row.benchmark_id)
    registered = store.benchmarks.root(spec.id)
    if registered is None:
        raise MobenchError(f"{spec.id} has no registered data root, so its ground truth cannot be hashed")
    files = tree_hashes(Path(row.storage_path))
    if tree_digest(files) != row.id:
        raise MobenchError(
            f"the hub's copy of submission {row.id} at {row.storage_path} no longer matches its id "
            "(a file was changed, added or removed since intake): no verifiable bundle can be written"
        )
    return Bundle(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        created_at=datetime.now(UTC).replace(microsecond=0),
        mobench=_scoring_mobench(stored.result.details),
        submission=SubmissionInfo(
            id=row.id,
            status=row.status,
            benchmark=spec.id,
            benchmark_version=spec.version,
            config=row.config,
            split=row.split,
            labels=spec.config(row.config).split(row.split).labels,
            manifest=stored.manifest,
            training_badge=stored.training_badge,
        ),
        hashes=Hashes(submission=files, ground_truth=ground_truth_hashes(spec, registered[0], row.split, row.config)),
        result=Figures.of(stored.result),
    )


def _scoring_mobench(details: dict[str, Any]) -> MobenchInfo:
    """The mobench that scored (recorded by the worker), else the one writing the bundle."""
    scored_by = details.get("scored_by")
    if isinstance(scored_by, dict) and isinstance(scored_by.get("mobench"), str):
        return MobenchInfo(version=scored_by["mobench"], git_commit=scored_by.get("git_commit"))
    return MobenchInfo(version=mobench_version(), git_commit=mobench_git_commit())


def dumps(bundle: Bundle) -> str:
    """The bundle's JSON text (floats through `repr`, so `read_bundle` gives back the same bits)."""
    return json.dumps(bundle.model_dump(mode="json"), indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def read_bundle(path: Path) -> Bundle:
    """Parse a bundle file; anything that is not a bundle of this format is a `FormatError` naming the field."""
    data = read_json(path)
    try:
        return Bundle.model_validate(data)
    except ValidationError as exc:
        problems = [f"field '{'.'.join(str(p) for p in err['loc'])}': {err['msg']}" for err in exc.errors()[:10]]
        more = f" (and {exc.error_count() - 10} more)" if exc.error_count() > 10 else ""
        raise FormatError(path, f"not a {FORMAT} version {FORMAT_VERSION}: " + "; ".join(problems) + more) from None
