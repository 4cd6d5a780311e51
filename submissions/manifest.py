"""`manifest.yaml`: who submitted what model, run how, on which device, for which benchmark.

Parsed with a `yaml.SafeLoader` (no object construction from untrusted YAML) and validated strictly: unknown keys
are errors, because a misspelt key silently dropped is a wrong leaderboard row. The loader also refuses
- anchors and aliases (`&a`, `*a`): a manifest needs neither, and expanding them is how a 444-byte text becomes
  gigabytes (an alias bomb) before any field is checked;
- a key given twice in one mapping (YAML says keys are unique; PyYAML silently keeps the last);
- nesting deeper than `MAX_NESTING` (the manifest needs three levels; hostile nesting would exhaust the stack);
- a scalar Python cannot build (a 5000-digit integer, the date 2001-13-45).
Every refusal is one line naming the file, line and column, and quotes at most a short excerpt of the text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from hub.core.errors import SubmissionError, clip, excerpt
from hub.core.training_data import Declaration, check_form
from submissions.notify_url import check_url

MAX_MANIFEST_BYTES = 64 * 1024
MAX_NESTING = 16


class _ManifestLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` whose every failure on hostile text is a `yaml.YAMLError` naming the line."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            if self._depth > MAX_NESTING:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_NESTING} levels", event.start_mark
                )
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                raise yaml.composer.ComposerError(
                    None, None, "anchors and aliases (&name, *name) are not accepted in a manifest", event.start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep)  # a value that cannot be built is the first problem
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {excerpt(key)} appears twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return mapping

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:  # int('9' * 5000), datetime(2001, 13, 45), ...
            problem = str(exc).split(";")[0]
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value: {problem}", node.start_mark
            ) from None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ModelInfo(_Strict):
    name: str = Field(min_length=1, max_length=200)
    version: str = Field(min_length=1, max_length=100)
    params: int | None = Field(default=None, ge=0, description="number of parameters")
    license: str | None = Field(default=None, max_length=100)
    url: str | None = Field(default=None, max_length=500)
    sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", description="hash of the model file that produced the predictions"
    )


class DeviceInfo(_Strict):
    name: str = Field(min_length=1, max_length=200)
    soc: str | None = Field(default=None, max_length=200)
    os: str | None = Field(default=None, max_length=200)
    form_factor: str | None = Field(default=None, max_length=50, description="phone, tablet, board, laptop, ...")


class SubmitterInfo(_Strict):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=200)


class PowerWindow(_Strict):
    """Where in a raw power trace the model ran, so the trace can become energy per inference (§10).

    Times are on the trace's own clock, in seconds. The idle baseline window is optional; without it only gross
    figures exist.
    """

    trace: str = Field(min_length=1, max_length=300, description="path of the log under measurements/")
    start_s: float
    end_s: float
    inferences: int = Field(gt=0, description="back-to-back inferences inside [start_s, end_s]")
    baseline_start_s: float | None = None
    baseline_end_s: float | None = None
    charging: bool | None = Field(default=None, description="charger state during the window, when known")

    @model_validator(mode="after")
    def _windows_are_intervals(self) -> PowerWindow:
        if self.end_s <= self.start_s:
            raise ValueError(f"end_s ({self.end_s}) must be after start_s ({self.start_s})")
        if (self.baseline_start_s is None) != (self.baseline_end_s is None):
            raise ValueError("give both baseline_start_s and baseline_end_s, or neither")
        if (
            self.baseline_start_s is not None
            and self.baseline_end_s is not None
            and self.baseline_end_s <= self.baseline_start_s
        ):
            raise ValueError(
                f"baseline_end_s ({self.baseline_end_s}) must be after baseline_start_s ({self.baseline_start_s})"
            )
        return self


class Manifest(_Strict):
    benchmark: str = Field(min_length=1, max_length=100)
    config: str | None = Field(default=None, max_length=100)
    split: str | None = Field(default=None, max_length=100)
    model: ModelInfo
    runtime: str = Field(min_length=1, max_length=100, description="tflite, onnxruntime, llama.cpp, executorch, ...")
    runtime_version: str | None = Field(default=None, max_length=100)
    precision: str = Field(min_length=1, max_length=50, description="fp32, fp16, int8, q4_k_m, ...")
    device: DeviceInfo
    submitter: SubmitterInfo
    power_windows: list[PowerWindow] = Field(default_factory=list, max_length=100)
    # what the model was trained on: `none` (zero-shot) or dataset names and URLs, read against the benchmark's
    # spec for its badge (hub.core.training_data); left out, the submission shows as undeclared
    training_data: Annotated[Declaration | None, BeforeValidator(check_form)] = None
    # Routing, not a fact about the result, and a receiver's URL may hold a secret path: never stored with the
    # manifest, never published in a bundle or on the leaderboard (`exclude`).
    notify_url: Annotated[str, AfterValidator(check_url)] | None = Field(
        default=None, exclude=True, description="http(s) URL told of every state change (submissions.notify)"
    )


def parse_manifest_text(text: str, shown: str) -> dict[str, Any]:
    """The manifest's YAML mapping, read by the hardened loader (unvalidated); a `SubmissionError` naming `shown`
    for anything else. The HTTP API uses it too, to learn the benchmark before its quota check."""
    try:
        raw = yaml.load(text, Loader=_ManifestLoader)
    except yaml.YAMLError as exc:
        raise SubmissionError(f"{shown}: not valid YAML: {_one_line(exc)}") from exc
    if not isinstance(raw, dict):
        raise SubmissionError(f"{shown}: the manifest must be a YAML mapping, got {type(raw).__name__}")
    return raw


def _one_line(exc: yaml.YAMLError) -> str:
    """A YAML error on one line: each part of what is wrong with where it is (PyYAML's own text spreads that over
    several lines, with a caret drawing)."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return _short(str(exc))
    parts = [
        f"{_short(text)} (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else _short(text)
        for text, mark in ((exc.context, exc.context_mark), (exc.problem, exc.problem_mark))
        if text
    ]
    return ": ".join(parts)


def _short(text: str) -> str:
    return clip(" ".join(text.split()), 200)


def load_manifest(path: Path, *, display_name: str | None = None) -> Manifest:
    """Read and validate a manifest; every problem is reported with the file and the field path.

    `display_name` is how messages name the file (intake passes `manifest.yaml`: the submitter knows nothing of
    the private staging folder it was copied to).
    """
    shown = display_name or str(path)
    if not path.is_file():
        raise SubmissionError(f"missing manifest: {shown} (every submission needs a manifest.yaml at its top level)")
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise SubmissionError(f"{shown}: manifest larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SubmissionError(f"{shown}: not valid YAML: {exc}") from exc
    raw = parse_manifest_text(text, shown)
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        problems = [f"  - field '{'.'.join(str(p) for p in err['loc'])}': {err['msg']}" for err in exc.errors()]
        raise SubmissionError(f"{shown}: invalid manifest:\n" + "\n".join(problems)) from exc
