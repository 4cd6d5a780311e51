"""The benchmark registry: every benchmark declared once, as validated data.

In the spirit of MTEB's `TaskMetadata`, a benchmark is a YAML entry in `hub/benchmarks/*.yaml`, validated by
`BenchmarkSpec`. The CLI, the exporter, the worker and the leaderboard read these specs and nothing else, so a new
benchmark family adds a YAML file (and its loader/evaluator modules) without touching any of them.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.core.errors import MobenchError, UnknownBenchmarkError

LabelAccess = Literal["public", "hidden", "none"]
# the families the hub knows: the leaderboard groups by them and a dataset card is tagged with one
Family = Literal["optical-flow", "image-quality", "document-analysis", "multiple-choice", "health-sensing"]
_DOTTED = r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SplitSpec(_Strict):
    name: str
    # public: GT ships with the release; hidden: the hub operator holds the GT (never exported or shown);
    # none: GT exists only on the authors' server, so the split can be loaded but not scored here.
    labels: LabelAccess


class ConfigSpec(_Strict):
    name: str
    splits: list[SplitSpec]

    def split(self, name: str) -> SplitSpec:
        for s in self.splits:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.splits)
        raise UnknownBenchmarkError(f"unknown split {name!r} for config {self.name!r}; known splits: {known}")


class MetricSpec(_Strict):
    name: str
    higher_is_better: bool
    unit: str = ""
    description: str


class LicenseSpec(_Strict):
    id: str
    url: str
    # "yes": may be re-published; "share-alike": only under the same licence; "no": never re-published.
    redistribution: Literal["yes", "share-alike", "no"]
    note: str = ""


class PredictionFiles(_Strict):
    """Where a file-per-sample format keeps each sample's prediction inside the predictions directory.

    A sample's file is ``folder / <last id_parts components of its id> + suffix``, in the file format `codec`
    (a name from the readers' table of codecs, e.g. `kitti-flow-png`, `middlebury-flo`).
    """

    codec: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    folder: str = ""
    id_parts: int = Field(ge=1)
    suffix: str = Field(min_length=1)
    description: str  # the expected file name, for error messages, e.g. "flow/<frame>_10.png (KITTI 16-bit PNG)"


class HealthPrompt(_Strict):
    """A health task's prompt wording, declared in its spec: for a task Health-LLM never defined, whose wording is
    therefore a mobench addition (Health-LLM's own tasks keep its wording, kept verbatim in `loaders.health.windows`).

    Python `str.format` templates; the fields each may name are the loader's (a PMData window: `{task}`, `{low}`,
    `{high}` in the instruction; `{task}` and the window's inputs `{steps}`, `{calories}`, `{rhr}`, `{sleep}`,
    `{mood}` in the question; `{task}` and `{label}`, the label as written, in the answer), checked when it loads.
    """

    instruction: str = Field(min_length=1)
    question: str = Field(min_length=1)
    answer: str = Field(min_length=1)


class HealthTask(_Strict):
    """A health task: what is predicted from which release, on which scale, in which words, and its lm-eval task."""

    type: Literal["health"]
    dataset: Literal["pmdata", "lifesnaps"]
    # the item predicted: Health-LLM's SUBTASK name for its tasks (used verbatim in its prompts); for PMData any
    # numeric column of the release's pmsys/wellness.csv that no window gives as an input
    subtask: str
    label: Literal["ordinal", "regression", "binary"]
    low: float
    high: float
    lm_eval_task: str | None = None  # the lm-eval task mobench ships for it, if any
    # the prompt's wording where Health-LLM defines none for `subtask` (None: Health-LLM's own)
    prompt: HealthPrompt | None = None

    @model_validator(mode="after")
    def _scale(self) -> HealthTask:
        if not self.low < self.high:
            raise ValueError(f"task {self.subtask}: low {self.low:g} is not below high {self.high:g}")
        if self.label == "binary" and (self.low, self.high) != (0, 1):
            raise ValueError(f"task {self.subtask}: a binary label is 0 or 1, not {self.low:g}-{self.high:g}")
        return self

    @property
    def classes(self) -> tuple[int, ...]:
        """The label values of a classification task (empty for numeric targets)."""
        return (0, 1) if self.label == "binary" else ()


class MultipleChoiceTask(_Strict):
    """A multiple-choice benchmark run through mobench's lm-eval tasks (`loaders/lm_tasks/`)."""

    type: Literal["multiple-choice"]
    # the prefix of its lm-eval task names and metadata keys: <prefix>, <prefix>_perm, <prefix>_gen, ...
    lm_eval_prefix: str = Field(pattern=r"^[a-z0-9_]+$")
    per_field_tasks: bool = False  # whether one log-likelihood task per field (<prefix>_<field>) ships too


Task = Annotated[HealthTask | MultipleChoiceTask, Field(discriminator="type")]
TaskT = TypeVar("TaskT", HealthTask, MultipleChoiceTask)


class ImageQualityOptions(_Strict):
    """The protocol of the image-quality evaluator (`evaluators.iqa`), which serves every release of the family.

    `pooling`: `per-scene-median` computes every statistic per scene and reports the median over scenes (PIQ23's
    official protocol: its JOD is comparable only within a scene); `all-images` computes each statistic once over
    all scored images of the split as one list (SPAQ's: its MOS is one absolute scale). `target`: the field of the
    loader's label rows the scores are compared with (PIQ23's `jod`, SPAQ's `mos`).
    """

    type: Literal["image-quality"]
    pooling: Literal["per-scene-median", "all-images"]
    target: str = Field(pattern=r"^[a-z][a-z0-9_]*$")


# An evaluator's options, where one evaluator serves benchmarks with different protocols; one kind per evaluator
# that reads any, told apart by `type` (a new kind joins this union).
EvaluatorOptions = Annotated[ImageQualityOptions, Field(discriminator="type")]
OptionsT = TypeVar("OptionsT", bound=BaseModel)


# What a split of the release is for: `train` (a model may be fitted on it) or `test` (what the release's own
# protocol scores; fitting on it is contamination)
SplitRole = Literal["train", "test"]
_DATASET_NAME = r"^[a-z0-9][a-z0-9.+/-]*$"  # a name as `hub.core.training_data.normal_name` writes it
_DATASET_URL = r"^(https?|ftp)://[^\s/]+(/\S*)?$"


class DatasetNames(_Strict):
    """What a manifest's `training_data` may call a dataset: its names, and the URLs it is published under.

    A declared name matches one of `names` when it is equal after `hub.core.training_data.normal_name` (case
    folded, spaces and underscores read as '-', so `KITTI 2015` is `kitti-2015`), which is why the names are kept in
    that form here; a declared URL matches one of `urls` when it is that page or folder or one under it (scheme,
    `www.`, case, query and fragment aside).
    """

    names: list[str] = Field(min_length=1)
    urls: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _forms(self) -> DatasetNames:
        for name in self.names:
            if re.fullmatch(_DATASET_NAME, name) is None:
                raise ValueError(f"dataset name {name!r} is not lower case without spaces or underscores")
        for url in self.urls:
            if re.fullmatch(_DATASET_URL, url) is None:
                raise ValueError(f"dataset url {url!r} is not an http(s) or ftp URL")
        return self


class DatasetSpec(DatasetNames):
    """The data a benchmark scores, as submitters name it when they declare what a model was trained on.

    `hub.core.training_data` reads a manifest's `training_data` against it to give a submission its badge: `roles`
    says which of the release's splits is for training and which is its test split (every split of every config has
    one); `overlaps` names other datasets any part of which shares samples or labels with this one (training on
    them counts as overlap with the test data whatever part is named); `note` says why, where that is not obvious.
    """

    roles: dict[str, SplitRole]
    overlaps: list[DatasetNames] = Field(default_factory=list)
    note: str = ""

    def identity(self) -> DatasetNames:
        """The names and URLs alone: what another dataset's `overlaps` repeats of it."""
        return DatasetNames(names=self.names, urls=self.urls)


class BenchmarkSpec(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: str
    family: Family
    title: str
    description: str
    loader: str = Field(pattern=_DOTTED)
    loader_options: dict[str, Any] = Field(default_factory=dict)
    evaluator: str = Field(pattern=_DOTTED)
    # how the evaluator computes this benchmark's figures, where its evaluator serves several protocols
    evaluator_options: EvaluatorOptions | None = None
    # what the benchmark's evaluator and tools need beyond its metrics: the task's parameters (health,
    # multiple-choice) and, for a file-per-sample prediction format, where each sample's file lives
    task: Task | None = None
    prediction_files: PredictionFiles | None = None
    synthetic_builder: str | None = Field(default=None, pattern=_DOTTED)
    # `module:function(path) -> dict[sample id, label]` reading the operator's key file, for hidden-label splits.
    labels_reader: str | None = Field(default=None, pattern=_DOTTED)
    baselines: str | None = Field(default=None, pattern=_DOTTED)
    # `module:list` of real models (not baselines) that `mobench demo --with-models` runs on it
    models: str | None = Field(default=None, pattern=_DOTTED)
    configs: list[ConfigSpec]
    default_split: str
    primary_metric: str
    metrics: list[MetricSpec]
    breakdowns: list[str] = Field(default_factory=list)
    prediction_format: str
    prediction_glob: str | None = None
    license: LicenseSpec
    homepage: str
    citation: str
    # what submitters call its data when they declare a model's training data, and each split's role
    dataset: DatasetSpec

    @model_validator(mode="after")
    def _consistent(self) -> BenchmarkSpec:
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.id}: duplicate metric names")
        if self.primary_metric not in names:
            raise ValueError(f"{self.id}: primary_metric {self.primary_metric!r} is not among its metrics")
        if not self.configs:
            raise ValueError(f"{self.id}: at least one config is required")
        for cfg in self.configs:
            cfg.split(self.default_split)
        hidden = any(s.labels == "hidden" for c in self.configs for s in c.splits)
        if hidden and self.labels_reader is None:
            raise ValueError(f"{self.id}: a split with hidden labels needs a labels_reader")
        self._check_dataset()
        return self

    def _check_dataset(self) -> None:
        """The dataset block gives every split a role and no other, and its overlaps are other datasets."""
        splits = {s.name for c in self.configs for s in c.splits}
        if splits != set(self.dataset.roles):
            raise ValueError(
                f"{self.id}: dataset.roles must give exactly the splits {sorted(splits)} a role, "
                f"not {sorted(self.dataset.roles)}"
            )
        for other in self.dataset.overlaps:
            if set(other.names) & set(self.dataset.names):
                raise ValueError(f"{self.id}: dataset.overlaps names the dataset itself ({other.names})")

    def task_as(self, kind: type[TaskT]) -> TaskT:
        """The spec's task as the kind its evaluator (or tool) reads, or an error naming the benchmark."""
        if not isinstance(self.task, kind):
            declared = "no task" if self.task is None else f"a {self.task.type} task"
            raise MobenchError(f"{self.id} declares {declared}, where a {kind.__name__} is needed")
        return self.task

    def options_as(self, kind: type[OptionsT]) -> OptionsT:
        """The spec's evaluator options as the kind its evaluator reads, or an error naming the benchmark."""
        if not isinstance(self.evaluator_options, kind):
            declared = "none" if self.evaluator_options is None else f"{self.evaluator_options.type} options"
            raise MobenchError(f"{self.id} declares {declared} as evaluator_options, where {kind.__name__} is needed")
        return self.evaluator_options

    def files(self) -> PredictionFiles:
        """Where each sample's prediction file lives, for a benchmark with a file-per-sample format."""
        if self.prediction_files is None:
            raise MobenchError(f"{self.id} has no file-per-sample prediction format (no prediction_files)")
        return self.prediction_files

    @property
    def default_config(self) -> str:
        return self.configs[0].name

    def config(self, name: str | None = None) -> ConfigSpec:
        if name is None:
            return self.configs[0]
        for c in self.configs:
            if c.name == name:
                return c
        known = ", ".join(c.name for c in self.configs)
        raise UnknownBenchmarkError(f"unknown config {name!r} for {self.id}; known configs: {known}")

    def metric(self, name: str) -> MetricSpec:
        for m in self.metrics:
            if m.name == name:
                return m
        raise UnknownBenchmarkError(f"{self.id} has no metric {name!r}")

    @property
    def primary(self) -> MetricSpec:
        return self.metric(self.primary_metric)

    @property
    def publishable(self) -> bool:
        return self.license.redistribution != "no"


class UnavailableBenchmark(_Strict):
    """A benchmark the studies use whose data cannot be had: listed with the reason, never loaded or faked."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    family: Family
    title: str
    reason: str
    homepage: str
    citation: str


UNAVAILABLE_FILE = "unavailable.yaml"


@cache
def load_registry() -> dict[str, BenchmarkSpec]:
    specs: dict[str, BenchmarkSpec] = {}
    folder = resources.files("hub") / "benchmarks"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml") or entry.name == UNAVAILABLE_FILE:
            continue
        for raw in yaml.safe_load(entry.read_text(encoding="utf-8")) or []:
            spec = BenchmarkSpec.model_validate(raw)
            if spec.id in specs:
                raise ValueError(f"benchmark id {spec.id!r} declared twice ({entry.name})")
            specs[spec.id] = spec
    check_datasets(list(specs.values()))
    return specs


def check_datasets(specs: list[BenchmarkSpec]) -> None:
    """Every registered benchmark's id is one of its dataset's names (a submitter may name the data by the id the
    pages show); benchmarks that share a dataset name declare the same dataset (names, URLs, roles, and the same
    splits in the configs they share), and an `overlaps` entry that names a registered dataset repeats its names and
    URLs: otherwise one declaration in a manifest would mean different data on different benchmark pages."""
    by_name: dict[str, BenchmarkSpec] = {}
    for spec in specs:
        if spec.id not in spec.dataset.names:
            raise ValueError(f"{spec.id}: dataset.names must include the benchmark's id")
        for name in spec.dataset.names:
            first = by_name.setdefault(name, spec)
            if first is spec:
                continue
            if (first.dataset.identity(), first.dataset.roles) != (spec.dataset.identity(), spec.dataset.roles):
                raise ValueError(
                    f"{first.id} and {spec.id} both name dataset {name!r} but declare its names, urls or roles "
                    "differently"
                )
            splits = {c.name: [s.name for s in c.splits] for c in first.configs}
            for config in spec.configs:
                if config.name in splits and splits[config.name] != [s.name for s in config.splits]:
                    raise ValueError(
                        f"{first.id} and {spec.id} share dataset {name!r} but cut config {config.name!r} differently"
                    )
    for spec in specs:
        for other in spec.dataset.overlaps:
            known = [by_name[n] for n in other.names if n in by_name]
            if known and known[0].dataset.identity() != other:
                raise ValueError(
                    f"{spec.id}: dataset.overlaps entry {other.names} differs from the names and urls "
                    f"{known[0].id} declares for that dataset"
                )


@cache
def unavailable_benchmarks() -> dict[str, UnavailableBenchmark]:
    text = (resources.files("hub") / "benchmarks" / UNAVAILABLE_FILE).read_text(encoding="utf-8")
    entries = [UnavailableBenchmark.model_validate(raw) for raw in yaml.safe_load(text) or []]
    clash = sorted({e.id for e in entries} & set(load_registry()))
    if clash:
        raise ValueError(f"benchmark ids both available and unavailable: {clash}")
    return {e.id: e for e in entries}


def all_benchmarks() -> list[BenchmarkSpec]:
    return list(load_registry().values())


def get_benchmark(benchmark_id: str) -> BenchmarkSpec:
    registry = load_registry()
    try:
        return registry[benchmark_id]
    except KeyError:
        missing = unavailable_benchmarks().get(benchmark_id)
        if missing is not None:
            raise UnknownBenchmarkError(
                f"{benchmark_id} is listed but not available: {missing.reason.strip()}"
            ) from None
        known = ", ".join(sorted(registry))
        raise UnknownBenchmarkError(f"unknown benchmark {benchmark_id!r}; known benchmarks: {known}") from None
