"""Intake: validate an untrusted submission, keep a private copy, and queue it for the worker.

Everything is checked before anything is recorded, and the store is written in one transaction at the end, so a
rejected submission leaves neither rows nor files behind. The submission's id is the hash of its content: the
same content submitted twice is one submission.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from hub.errors import MobenchError, SubmissionError
from hub.paths import submissions_dir
from hub.registry import BenchmarkSpec, get_benchmark
from hub.store import NewSubmission, Store
from submissions.archive import DEFAULT_LIMITS, Limits, content_hash, stage
from submissions.manifest import Manifest, load_manifest
from submissions.measurements.detect import parse_file
from submissions.measurements.record import MeasurementRecord

ALLOWED_TOP_LEVEL = {"manifest.yaml", "predictions", "measurements", "README.md", "README.txt"}


@dataclass(frozen=True)
class Receipt:
    id: str
    benchmark: str
    duplicate: bool
    status: str


def _check_layout(top: Path, spec: BenchmarkSpec) -> Path:
    unexpected = sorted(p.name for p in top.iterdir() if p.name not in ALLOWED_TOP_LEVEL)
    if unexpected:
        raise SubmissionError(
            f"{top.name}: unexpected top-level entries {unexpected}; a submission holds manifest.yaml, "
            "predictions/ and optionally measurements/"
        )
    predictions = top / "predictions"
    if not predictions.is_dir() or not any(p.is_file() for p in predictions.rglob("*")):
        raise SubmissionError(f"predictions/: missing or empty; {spec.id} expects {spec.prediction_format.strip()}")
    if spec.prediction_glob and not any(predictions.glob(spec.prediction_glob)):
        raise SubmissionError(
            f"predictions/: no file matches {spec.prediction_glob!r}; {spec.id} expects "
            f"{spec.prediction_format.strip()}"
        )
    return predictions


def read_measurements(folder: Path, *, trusted: bool = False) -> list[MeasurementRecord]:
    """Parse every log in a submission's measurements/ folder; any file not understood rejects the submission.

    A submitter's figures are `self-reported` whatever the file claims; only mobench's own runner, calling in
    process (`trusted`), keeps `measured-by-mobench`.
    """
    records: list[MeasurementRecord] = []
    if not folder.is_dir():
        return records
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder.parent).as_posix()
        try:
            parsed = parse_file(path, display_name=rel)
        except MobenchError as exc:
            raise SubmissionError(f"{rel}: measurement log rejected: {exc}") from exc
        if parsed.traces and not parsed.records():
            raise SubmissionError(
                f"{rel}: a raw power trace ({parsed.format}) needs the inference window to become energy per "
                "inference; mobench does not yet read that window from a submission, so submit the figures "
                "`mobench measure` writes, or a tool log with energy figures"
            )
        for record in parsed.records():
            update: dict[str, str] = {"source_file": rel}
            if not trusted:
                update["provenance"] = "self-reported"
            records.append(record.model_copy(update=update))
    return records


def _resolve_split(manifest: Manifest, spec: BenchmarkSpec) -> tuple[str, str]:
    try:
        config = spec.config(manifest.config)
        split = config.split(manifest.split or spec.default_split)
    except MobenchError as exc:
        raise SubmissionError(f"manifest.yaml: {exc}") from exc
    if split.labels == "none":
        raise SubmissionError(
            f"manifest.yaml: split {split.name!r} of {spec.id} has no ground truth on this hub "
            "(it is scored only by the dataset authors' server)"
        )
    return config.name, split.name


def submit(
    source: Path,
    store: Store,
    *,
    is_baseline: bool = False,
    trusted_measurements: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> Receipt:
    store.init()
    accepted = submissions_dir(store.path)
    staging = accepted / f".staging-{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    try:
        top = stage(source, staging, limits)
        manifest = load_manifest(top / "manifest.yaml")
        try:
            spec = get_benchmark(manifest.benchmark)
        except MobenchError as exc:
            raise SubmissionError(f"manifest.yaml: field 'benchmark': {exc}") from exc
        config, split = _resolve_split(manifest, spec)
        registered = store.benchmark_root(spec.id)
        if registered is None:
            raise SubmissionError(
                f"{spec.id} has no registered data on this hub; a maintainer runs "
                f"`mobench register {spec.id} --root <official release>` first"
            )
        _check_layout(top, spec)
        measurements = read_measurements(top / "measurements", trusted=trusted_measurements)
        submission_id = content_hash(top)
        existing = store.find_submission(submission_id)
        if existing is not None:
            return Receipt(submission_id, spec.id, duplicate=True, status=existing.status)
        final = accepted / submission_id
        if final.exists():  # left over by an interrupted earlier attempt that never reached the store
            shutil.rmtree(final)
        top.rename(final)
        try:
            store.add_submission(
                NewSubmission(
                    id=submission_id,
                    benchmark_id=spec.id,
                    config=config,
                    split=split,
                    model=manifest.model.model_dump(),
                    device=manifest.device.model_dump(),
                    runtime=manifest.runtime,
                    precision=manifest.precision,
                    submitter=manifest.submitter.name,
                    is_baseline=is_baseline,
                    synthetic=registered[1],
                    manifest_json=manifest.model_dump_json(),
                    storage_path=str(final),
                    measurements=measurements,
                )
            )
        except BaseException:
            shutil.rmtree(final, ignore_errors=True)
            raise
        return Receipt(submission_id, spec.id, duplicate=False, status="queued")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
