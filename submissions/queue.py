"""Intake: validate an untrusted submission, keep a private copy, and queue it for the worker.

Everything is checked before anything is recorded, and the store is written in one transaction at the end, so a
rejected submission leaves neither rows nor files behind. The submission's id is the hash of its content: the
same content submitted twice is one submission.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evaluators.efficiency import BLOCKING_FLAGS, estimate_energy, measure_baseline
from hub.core.errors import MobenchError, SubmissionError
from hub.core.measurements.record import MeasurementRecord
from hub.core.measurements.report import MeasurementReport, ModelInfo, Protocol, ProvenanceInfo, RawArtifact
from hub.core.paths import submissions_dir
from hub.core.registry import BenchmarkSpec, all_benchmarks, get_benchmark
from hub.core.training_data import Badge, check_parts, training_badge
from hub.store import NewSubmission, Store
from submissions.archive import DEFAULT_LIMITS, Limits, content_hash, stage
from submissions.manifest import Manifest, PowerWindow, load_manifest
from submissions.measurements.base import ParseResult
from submissions.measurements.detect import parse_file
from submissions.notify_url import UNSIGNED, Subscription, subscription_url

MODEL_HASH_FROM_MANIFEST = "model_sha256_from_manifest"
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
            f"unexpected entries {unexpected} at the top level of the submission; a submission holds "
            "manifest.yaml, predictions/ and optionally measurements/ (and a README.md or README.txt)"
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


def energy_from_traces(
    parsed: ParseResult, rel: str, windows: Sequence[PowerWindow], model_sha256: str | None
) -> list[MeasurementRecord]:
    """Energy per inference from a submitted raw power trace over the windows the manifest declares for it."""
    mine = [w for w in windows if w.trace == rel]
    if not mine:
        raise SubmissionError(
            f"{rel}: a raw power trace ({parsed.format}) needs the inference window to become energy per "
            f"inference: add a `power_windows` entry to manifest.yaml with trace: {rel}, start_s, end_s, "
            "inferences (and an idle baseline window for net figures)"
        )
    records: list[MeasurementRecord] = []
    for window in mine:
        for trace in parsed.traces:
            try:
                baseline = (
                    measure_baseline(trace, window.baseline_start_s, window.baseline_end_s)
                    if window.baseline_start_s is not None and window.baseline_end_s is not None
                    else None
                )
                estimate = estimate_energy(
                    trace,
                    window.start_s,
                    window.end_s,
                    inferences=window.inferences,
                    baseline=baseline,
                    charging=window.charging,
                )
            except MobenchError as exc:
                raise SubmissionError(f"manifest.yaml: power_windows for {rel}: {exc}") from exc
            if not estimate.usable:
                raise SubmissionError(
                    f"{rel}: energy over [{window.start_s}, {window.end_s}] s is not valid: "
                    + ", ".join(sorted(BLOCKING_FLAGS.intersection(estimate.flags)))
                )
            report = MeasurementReport(
                label=f"{rel} [{window.start_s}, {window.end_s}] s",
                model=ModelInfo(artifact_sha256=model_sha256),
                protocol=Protocol(tool=parsed.format, measured_runs=window.inferences),
                energy=[estimate.figure],
                provenance=ProvenanceInfo(
                    parser=parsed.format,
                    parser_version=parsed.parser_version,
                    raw_artifacts=[RawArtifact(kind=parsed.format, sha256=parsed.sha256)],
                    validation_flags=[*parsed.flags, *trace.flags, *estimate.flags],
                ),
                source_file=rel,
            )
            records.extend(report.records())
    return records


def read_measurements(
    folder: Path,
    *,
    trusted: bool = False,
    windows: Sequence[PowerWindow] = (),
    model_sha256: str | None = None,
) -> list[MeasurementRecord]:
    """Parse every log in a submission's measurements/ folder; any file not understood rejects the submission.

    A submitter's figures are `self-reported` whatever the file claims; only mobench's own runner, calling in
    process (`trusted`), keeps `measured-by-mobench`.
    """
    records: list[MeasurementRecord] = []
    traces: set[str] = set()
    files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    for path in files:
        rel = path.relative_to(folder.parent).as_posix()
        try:
            parsed = parse_file(path, display_name=rel)
        except MobenchError as exc:
            raise SubmissionError(f"{rel}: measurement log rejected: {exc}") from exc
        found = parsed.records()
        if parsed.traces:
            traces.add(rel)
            found += energy_from_traces(parsed, rel, windows, model_sha256)
        for record in found:
            update: dict[str, object] = {"source_file": rel}
            if not trusted:
                update["provenance"] = "self-reported"
            if not record.model_sha256 and model_sha256:
                # The log does not say which file it timed: take the manifest's word for it, and say so.
                update["model_sha256"] = model_sha256
                update["validation_flags"] = [*record.validation_flags, MODEL_HASH_FROM_MANIFEST]
            records.append(record.model_copy(update=update))
    for index, window in enumerate(windows):
        if window.trace not in traces:
            # A window over no trace would silently give no energy figure: the submitter meant one.
            raise SubmissionError(
                f"manifest.yaml: field 'power_windows.{index}.trace': {window.trace!r} is not a raw power trace "
                "in this submission's measurements/ folder"
            )
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


def _training_badge(manifest: Manifest, spec: BenchmarkSpec, config: str, split: str) -> Badge:
    """The badge the manifest's `training_data` earns on the row, once every part it names of a registered dataset
    is one that dataset has."""
    try:
        check_parts(manifest.training_data, all_benchmarks())
    except MobenchError as exc:
        raise SubmissionError(f"manifest.yaml: field 'training_data': {exc}") from exc
    return training_badge(manifest.training_data, spec, config, split)


def submit(
    source: Path,
    store: Store,
    *,
    is_baseline: bool = False,
    trusted_measurements: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    shown: str | None = None,
    notify: Subscription = UNSIGNED,
) -> Receipt:
    """Validate, stage and queue `source`; `shown` is how messages name a zip (the API's upload, not its path).
    `notify` says who submits it and where they want its state changes sent (`submissions.notify_url`); a
    duplicate keeps the first submission's."""
    store.init()
    accepted = submissions_dir(store.path)
    staging = accepted / f".staging-{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    try:
        top = stage(source, staging, limits, shown=shown)
        manifest = load_manifest(top / "manifest.yaml", display_name="manifest.yaml")
        notify_url = subscription_url(store, manifest.notify_url, notify)
        try:
            spec = get_benchmark(manifest.benchmark)
        except MobenchError as exc:
            raise SubmissionError(f"manifest.yaml: field 'benchmark': {exc}") from exc
        config, split = _resolve_split(manifest, spec)
        badge = _training_badge(manifest, spec, config, split)
        registered = store.benchmarks.root(spec.id)
        if registered is None:
            raise SubmissionError(
                f"{spec.id} has no registered data on this hub; a maintainer runs "
                f"`mobench register {spec.id} --root <official release>` first"
            )
        _check_layout(top, spec)
        measurements = read_measurements(
            top / "measurements",
            trusted=trusted_measurements,
            windows=manifest.power_windows,
            model_sha256=manifest.model.sha256,
        )
        submission_id = content_hash(top)
        existing = store.find_submission(submission_id)
        if existing is not None:
            return Receipt(submission_id, spec.id, duplicate=True, status=existing.status)
        final = accepted / submission_id
        if final.exists():  # left over by an interrupted earlier attempt that never reached the store
            shutil.rmtree(final)
        top.rename(final)
        try:
            added = store.add_submission(
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
                    training_data=manifest.training_data,
                    training_badge=badge,
                    storage_path=str(final),
                    measurements=measurements,
                    notify_url=notify_url,
                    notify_token=notify.token_id if notify_url is not None else None,
                )
            )
        except BaseException:
            shutil.rmtree(final, ignore_errors=True)
            raise
        if not added:  # recorded by a concurrent submit of the same content since the check above
            row = store.find_submission(submission_id)
            return Receipt(submission_id, spec.id, duplicate=True, status=row.status if row else "queued")
        return Receipt(submission_id, spec.id, duplicate=False, status="queued")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
