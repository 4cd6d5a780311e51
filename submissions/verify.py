"""`mobench verify`: score a result bundle's submission again and check the bundle against it, bit for bit.

A bundle (`hub.scoring.bundle`) says which files were scored, against which ground truth, with which figures. Verifying
re-hashes the submission's files (the hub's copy, or the folder or zip a submitter kept) and the split's files
under a release root given by the verifier, scores the submission again on the worker's path (`make_request`,
then `score`: the same loader, evaluator and hidden-label handling), and compares every count, aggregate metric,
breakdown, per-sample score and metric interval (with its resampling's seed, count and level) with the bundle's:
equal means the same float64 bits (any NaN equals any NaN).
Each difference is named (which file, which metric of which breakdown or sample, the bundle's value and the
recomputed one), so a reader sees at once whether the predictions, the release or the figures changed.

Running another mobench (version or git commit) than the one that wrote the bundle, or another version of the
benchmark's definition, is a warning, not a difference: the figures may still agree, and if they do not, the
warning says where to look.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hub.core.errors import MobenchError
from hub.core.evaluation import exact_bits, flat_figures
from hub.core.hashing import tree_digest, tree_hashes
from hub.core.registry import BenchmarkSpec, get_benchmark
from hub.core.training_data import training_badge
from hub.core.version import mobench_git_commit, mobench_version
from hub.scoring.bundle import Bundle, Figures, SubmissionInfo, ground_truth_hashes
from hub.scoring.executors import score
from hub.scoring.wiring import make_request, read_labels
from hub.store import Store
from submissions.archive import stage
from submissions.manifest import load_manifest

ABSENT = "(absent)"
T = TypeVar("T")


@dataclass(frozen=True)
class Difference:
    """One thing the bundle says that the re-hashing or re-scoring does not: `what` kind of thing, `name` which."""

    what: str
    name: str
    in_bundle: str
    recomputed: str


@dataclass
class Verification:
    differences: list[Difference] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files_checked: int = 0
    figures_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.differences

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "files_checked": self.files_checked,
            "figures_checked": self.figures_checked,
            "warnings": self.warnings,
            "differences": [asdict(d) for d in self.differences],
        }


def verify(
    bundle: Bundle, root: Path, store: Store, *, submission: Path | None = None, answers: Path | None = None
) -> Verification:
    """Check `bundle` against the release at `root` and the submission: the folder or zip at `submission` (staged
    as the intake stages it), else the hub's copy in `store`. A split with hidden labels is scored with the answer
    key at `answers`, else with the one in `store`."""
    spec = get_benchmark(bundle.submission.benchmark)
    labels = _labels(spec, bundle, store, answers)
    if submission is not None:
        with _staged(submission) as top:
            return _check(spec, bundle, root, top, labels)
    row = _from_store(lambda: store.find_submission(bundle.submission.id), "pass --submission (the folder or .zip)")
    if row is None:
        raise MobenchError(
            f"submission {bundle.submission.id} is not in the store {store.name}: pass --submission with the "
            "folder or .zip that was submitted"
        )
    return _check(spec, bundle, root, Path(row.storage_path), labels)


def _check(
    spec: BenchmarkSpec, bundle: Bundle, root: Path, top: Path, labels: Mapping[str, str] | None
) -> Verification:
    """Compare `bundle` with the submission folder `top` and the release at `root`, scored with `labels`."""
    info = bundle.submission
    found = Verification(warnings=_provenance_warnings(bundle, spec))
    submitted = tree_hashes(top)
    truth = ground_truth_hashes(spec, root, info.split, info.config)
    found.files_checked = len(submitted) + len(truth)
    found.differences += _hash_differences("submission file", bundle.hashes.submission, submitted)
    if tree_digest(bundle.hashes.submission) != info.id:
        found.differences.append(
            Difference("submission id", "digest of the submission's file hashes", info.id, tree_digest(submitted))
        )
    found.differences += _manifest_differences(bundle.submission.manifest, top)
    found.differences += _badge_differences(spec, info)
    found.differences += _hash_differences("ground-truth file", bundle.hashes.ground_truth, truth)
    try:
        result = score(make_request(spec, root, top / "predictions", info.split, info.config, labels=labels))
    except MobenchError as exc:
        found.differences.append(Difference("scoring", "the submission", "scored", f"rejected: {exc}"))
    else:
        figures, recomputed = _flat(bundle.result), _flat(Figures.of(result))
        if bundle.result.intervals is None:  # written before intervals existed: nothing to compare them with
            recomputed = {key: value for key, value in recomputed.items() if key[0] != "interval"}
        found.figures_checked = len(figures)
        for key in [*figures, *(k for k in recomputed if k not in figures)]:
            if not _same(figures.get(key), recomputed.get(key)):
                found.differences.append(Difference(*key, _show(figures.get(key)), _show(recomputed.get(key))))
    return found


def _labels(spec: BenchmarkSpec, bundle: Bundle, store: Store, answers: Path | None) -> Mapping[str, str] | None:
    """The answer key for a hidden-label split, as the worker passes it; None for a split with public labels."""
    if spec.config(bundle.submission.config).split(bundle.submission.split).labels != "hidden":
        return None
    if answers is not None:
        return read_labels(spec, answers)
    labels = _from_store(
        lambda: store.benchmarks.hidden_labels(spec.id), f"{spec.id} keeps its labels hidden: pass --answers KEY"
    )
    if not labels:
        raise MobenchError(
            f"{spec.id} keeps its labels hidden and {store.name} holds none: pass --answers KEY (the operator's key)"
        )
    return labels


def _from_store(read: Callable[[], T], instead: str) -> T:
    """What `read` gets from the store, or, when there is no store to read, an error that says what to pass."""
    try:
        return read()
    except MobenchError as exc:
        raise MobenchError(f"{exc}; without a store, {instead}") from exc


@contextmanager
def _staged(source: Path) -> Iterator[Path]:
    """A submitter's folder or zip, staged as the intake stages it (same limits, no links), in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="mobench-verify-") as tmp:
        yield stage(source, Path(tmp))


def _provenance_warnings(bundle: Bundle, spec: BenchmarkSpec) -> list[str]:
    warnings = []
    theirs = (bundle.mobench.version, bundle.mobench.git_commit)
    mine = (mobench_version(), mobench_git_commit())
    if theirs != mine:
        warnings.append(
            f"the bundle was written by mobench {theirs[0]} (git {theirs[1] or 'unknown'}), this is mobench "
            f"{mine[0]} (git {mine[1] or 'unknown'}): a figure that differs may come from the code"
        )
    if bundle.submission.benchmark_version != spec.version:
        warnings.append(
            f"the bundle was scored with version {bundle.submission.benchmark_version} of {spec.id}'s definition, "
            f"this mobench has version {spec.version}"
        )
    return warnings


def _hash_differences(what: str, recorded: Mapping[str, str], found: Mapping[str, str]) -> list[Difference]:
    names = [*recorded, *(name for name in found if name not in recorded)]
    return [
        Difference(what, name, recorded.get(name, ABSENT), found.get(name, ABSENT))
        for name in names
        if recorded.get(name) != found.get(name)
    ]


def _badge_differences(spec: BenchmarkSpec, info: SubmissionInfo) -> list[Difference]:
    """The bundle's training-data badge against the one its manifest's `training_data` earns on this mobench's
    spec of the benchmark (nothing to compare in a bundle written before badges)."""
    if info.training_badge is None:
        return []
    earned = training_badge(info.manifest.get("training_data"), spec, info.config, info.split)
    if earned == info.training_badge:
        return []
    return [Difference("training badge", "manifest training_data", info.training_badge.value, earned.value)]


def _manifest_differences(recorded: Mapping[str, Any], top: Path) -> list[Difference]:
    """The bundle's manifest against the submission's manifest.yaml, parsed as the intake parses it. A field left
    out equals one that is null: a bundle written before a field existed lacks what today's parse fills with null."""
    try:
        parsed = json.loads(load_manifest(top / "manifest.yaml", display_name="manifest.yaml").model_dump_json())
    except MobenchError as exc:
        return [Difference("manifest", "manifest.yaml", "valid", str(exc))]
    names = [*recorded, *(name for name in parsed if name not in recorded)]
    return [
        Difference("manifest", name, _show_json(recorded, name), _show_json(parsed, name))
        for name in names
        if recorded.get(name) != parsed.get(name)
    ]


def _show_json(data: Mapping[str, Any], name: str) -> str:
    return json.dumps(data[name], sort_keys=True) if name in data else ABSENT


def _flat(figures: Figures) -> dict[tuple[str, str], float]:
    """Every figure by (kind, name), the sample counts first."""
    counts = {("sample count", "n_samples"): figures.n_samples, ("sample count", "n_expected"): figures.n_expected}
    intervals = figures.intervals.intervals() if figures.intervals is not None else None
    drawn: dict[tuple[str, str], float] = {}
    if figures.intervals is not None:
        drawn = {
            ("resampling", k): float(v) for k, v in figures.intervals.model_dump(exclude={"bounds", "unit"}).items()
        }
    return counts | drawn | flat_figures(figures.metrics, figures.breakdowns, figures.sample_scores, intervals)


def _same(a: float | None, b: float | None) -> bool:
    """The same float64 bits (so 0.0 and -0.0 differ), except that NaN equals NaN."""
    if a is None or b is None:
        return a is b
    return exact_bits(a) == exact_bits(b)


def _show(value: float | None) -> str:
    return ABSENT if value is None else repr(value)
