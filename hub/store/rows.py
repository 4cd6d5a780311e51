"""What the store takes in and hands out about a submission: plain frozen rows, no connection attached."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hub.core.measurements.record import MeasurementRecord
from hub.core.training_data import Badge, Declared


@dataclass(frozen=True)
class NewSubmission:
    """Everything the intake has validated about one submission, ready to be recorded."""

    id: str
    benchmark_id: str
    config: str
    split: str
    model: dict[str, Any]
    device: dict[str, Any]
    runtime: str
    precision: str
    submitter: str
    is_baseline: bool
    synthetic: bool
    manifest_json: str
    storage_path: str
    measurements: Sequence[MeasurementRecord]
    # where its state changes are notified, and the API token whose secret signs them (both or neither)
    notify_url: str | None = None
    notify_token: str | None = None
    # what the manifest declares the model was trained on, and the badge that earns on its benchmark
    training_data: Declared = None
    training_badge: Badge = Badge.UNDECLARED


@dataclass(frozen=True)
class SubmissionRow:
    id: str
    benchmark_id: str
    config: str
    split: str
    status: str
    reason: str | None
    storage_path: str
    is_baseline: bool
    synthetic: bool
