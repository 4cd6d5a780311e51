"""The hub's published results as a Hugging Face-style dataset: `mobench results export` and `mobench results publish`.

Why: a visitor can see the leaderboard but could take away only one table's CSV. The best hubs publish their
results as datasets (the Open LLM Leaderboard's `contents` and `details`), so anyone can rank, plot and re-check
them with `datasets` or pandas. This is that dataset for a mobench hub, a dataset folder
(`hub.core.dataset_folder`) whose card declares every config in its YAML `configs:` block, so
`datasets.load_dataset(FOLDER, "contents")` works offline:

* `contents/`: one row per published submission (`reference` false), the same submissions as the leaderboard's
  rows (`board_rows`): benchmark, model, device, every aggregate metric with its 95 % interval (NULL bounds for a
  submission scored before intervals existed), every cost figure with its scope and provenance, the declared
  training data and its badge; then one row per result the literature reports (`hub.core.references`,
  `reference` true, with its source URL, citation and quote), never mixed up with the measured rows: no
  submission id, no interval, no mobench cost figure (what the source reports goes to `reported_*`).
* `details_<benchmark id>/`: per benchmark, one row per (published submission, sample) with the per-sample scores.
  The hidden answer keys (`hidden_labels`) are never read.

The licence rule (also written in the card, and in the README): aggregate figures (`contents`) say how a model
did, not what the data holds, so they are published for every benchmark, as the leaderboard shows them to anyone.
Per-sample scores (`details_*`) are treated as derived from the benchmark's data: sample ids name the release's
files, and per-sample scores of many models reveal which items are hard and, next to a model's published outputs,
the answers. So they follow the benchmark's licence (`spec.license.redistribution`): "yes" publishes them,
"share-alike" publishes them under the benchmark's licence, "no" keeps them local: `export` writes them with a
"Local use only" notice in the card (or leaves them out with `publishable_only`) and `publish` refuses an export
that holds them, naming the benchmark and its licence, before anything is sent.

Each config is read in its own short read transaction (a DuckDB file takes no writer while a reader holds it, and
the worker must keep publishing); the details are read for exactly the submissions `contents` holds, so the
configs agree even when a submission is published meanwhile.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from hub.core.dataset_folder import CARD, check_out, check_publishable, is_export, licence_notice, staged, upload
from hub.core.errors import MobenchError
from hub.core.references import FLAG, ReferenceResult, load_references
from hub.core.registry import BenchmarkSpec, load_registry
from hub.core.version import mobench_version
from hub.store import Store
from hub.store.costs import COST_COLUMNS

# The leaderboard links to the published dataset when this names its repository (and `publish` defaults to it).
RESULTS_REPO_ENV = "MOBENCH_RESULTS_REPO"
CONTENTS = "contents"
DETAILS_PREFIX = "details_"
SPLIT = "train"  # the one split of every config, the name `datasets` gives a dataset that declares none
# A details config is written in files of about this size, so a large hub's stays within what the Hub serves well.
DETAILS_FILE_BYTES = "256MB"

_REPORTED = ("reported_latency_s", "reported_memory_b", "reported_tokens_per_s")
_SOURCE = ("source_url", "source_citation", "source_where", "source_quote", "source_note")

# contents' columns, in order, as the card describes them (one line per group of columns)
CONTENTS_COLUMNS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("reference",), f"false for a submission this hub scored; true for a result the literature reports ({FLAG})"),
    (("submission",), "the submission's id (the sha256 of its content); NULL for a reference row"),
    (("benchmark", "benchmark_version", "config", "split"), "what was scored (the version: NULL for a reference row)"),
    (
        ("model", "model_version", "params", "params_nominal", "model_sha256"),
        "the model as its manifest (or source) declares it; `params_nominal` is true when `params` is the size label "
        'a source names the model by ("3B"), not a count of its weights',
    ),
    (("device", "soc", "form_factor"), "the device it ran on (a reference row: the one its source names, if any)"),
    (("runtime", "precision"), "how it ran (NULL for a reference row)"),
    (
        ("baseline", "synthetic"),
        "true for a reference algorithm shipped with mobench; true when scored on SYNTHETIC data",
    ),
    (("submitter",), "who submitted it"),
    (
        ("primary_metric", "primary_value", "primary_low", "primary_high"),
        "the benchmark's primary metric, its value and 95 % interval",
    ),
    (
        ("metrics",),
        "every aggregate metric: a list of {name, value, low, high}, in name order; low and high bound "
        "its 95 % bootstrap interval, NULL when the submission was scored without one (NaN when no resample had a "
        "value)",
    ),
    (
        ("resampling",),
        "how the intervals were drawn, as JSON (unit resampled, number of units, resamples, seed, "
        "level); NULL without intervals",
    ),
    (
        ("training_data", "training_badge"),
        "the training data the manifest declares (NULL: undeclared) and the badge "
        "derived from it against the benchmark",
    ),
    (
        COST_COLUMNS,
        "the cost figures the leaderboard shows, one consistent set per metric (`hub.store.costs`): "
        "latency in s over `latency_n` runs with its scope and provenance (measured by mobench or self-reported), "
        "peak memory in bytes and its kind, energy per inference in J (gross and net) with its scope and method, and "
        "whether the timed model is the scored one (`integrity`); NULL for a reference row",
    ),
    (("n_samples", "n_expected", "submitted_at", "scored_at"), "samples scored of those expected, and when"),
    (_REPORTED, "a reference row's cost figures as its source reports them (s, bytes, tokens/s)"),
    (_SOURCE, "a reference row's source: URL, citation, where in it, the quoted sentence or table row, note"),
)


@dataclass(frozen=True)
class ExportedConfig:
    name: str
    benchmark: str | None  # None for `contents`
    n_rows: int
    files: list[Path]


@dataclass(frozen=True)
class ResultsExport:
    configs: list[ExportedConfig]
    # benchmarks whose per-sample scores were left out (`publishable_only`: their licence forbids publishing them)
    left_out: list[str]
    # the details configs written for local use only (their benchmark's licence forbids publishing them)
    local_only: list[str]


def details_config(benchmark_id: str) -> str:
    """The config of a benchmark's per-sample scores, also its folder in the export."""
    return DETAILS_PREFIX + benchmark_id


def published_repo() -> str | None:
    """The Hugging Face repository the hub publishes its results to, if the operator named one."""
    return os.environ.get(RESULTS_REPO_ENV) or None


def export_results(
    store: Store,
    out: Path,
    *,
    overwrite: bool = False,
    publishable_only: bool = False,
    on_config: Callable[[str], None] | None = None,
) -> ResultsExport:
    """Write the store's published results to `out` as a dataset folder; returns what was written.

    `out`'s parent must exist (a mistyped path is refused rather than created); `out` is replaced only if it is an
    earlier export and `overwrite` is set, and only once everything is written (`staged`). A store with no
    published submission is refused: the dataset would hold nothing the hub measured. `on_config` is called with
    each config's name before it is written (for a progress line).
    """
    if not out.parent.is_dir():
        raise MobenchError(f"{out.parent} does not exist: create it first (the export creates only {out.name}/)")
    check_out(out, overwrite)
    registry = load_registry()
    if on_config is not None:
        on_config(CONTENTS)
    with store.read() as con:
        measured = con.execute(_CONTENTS_SQL).to_arrow_table()
    if measured.num_rows == 0:
        raise MobenchError(f"{store.name} holds no published submission: nothing to export (see `mobench submissions`)")
    contents = pa.concat_tables([measured, _reference_rows(load_references(), registry, measured.schema)])
    benchmarks = sorted(set(measured.column("benchmark").to_pylist()))
    specs = [_spec(registry, benchmark_id) for benchmark_id in benchmarks]
    forbidden = [spec.id for spec in specs if not spec.publishable]
    left_out = forbidden if publishable_only else []
    submissions = measured.column("submission").to_pylist()
    with staged(out) as staging:
        (staging / CONTENTS).mkdir()
        pq.write_table(contents, staging / CONTENTS / f"{SPLIT}-0.parquet")
        written = [ExportedConfig(CONTENTS, None, contents.num_rows, [out / CONTENTS / f"{SPLIT}-0.parquet"])]
        for spec in specs:
            if spec.id in left_out:
                continue
            if on_config is not None:
                on_config(details_config(spec.id))
            details = _write_details(store, spec.id, submissions, staging, out)
            if details is not None:
                written.append(details)
        card = results_card(written, specs, contents, left_out=left_out)
        (staging / CARD).write_text(card, encoding="utf-8")
    local_only = [item.name for item in written if item.benchmark in forbidden]
    return ResultsExport(written, left_out, local_only)


def _spec(registry: dict[str, BenchmarkSpec], benchmark_id: str) -> BenchmarkSpec:
    spec = registry.get(benchmark_id)
    if spec is None:
        raise MobenchError(
            f"the store holds published results of {benchmark_id!r}, which is no registered benchmark: its licence "
            "cannot be checked, so its results are not exported"
        )
    return spec


_CONTENTS_SQL = f"""
WITH aggregate AS (
    SELECT sc.submission_id,
           list(struct_pack(name := sc.metric, value := sc.value, low := i.low, high := i.high) ORDER BY sc.metric)
               AS metrics
    FROM scores sc
    LEFT JOIN score_intervals i ON i.submission_id = sc.submission_id AND i.metric = sc.metric
    WHERE sc.breakdown = '' AND sc.submission_id IN (SELECT submission FROM board_rows)
    GROUP BY sc.submission_id
)
SELECT false AS reference, r.submission, r.benchmark_id AS benchmark, b.version AS benchmark_version, r.config,
       r.split, r.model, r.model_version, r.params, false AS params_nominal, m.sha256 AS model_sha256, r.device,
       r.soc, r.form_factor, r.runtime, r.precision, r.baseline, r.synthetic, s.submitter,
       b.primary_metric, r.primary_value, p.low AS primary_low, p.high AS primary_high,
       a.metrics, s.resampling,
       from_json(s.training_data_json, '["VARCHAR"]') AS training_data, s.training_badge,
       {", ".join(f"r.{column}" for column in COST_COLUMNS)},
       r.n_samples, r.n_expected, r.submitted_at, r.scored_at,
       NULL::DOUBLE AS reported_latency_s, NULL::BIGINT AS reported_memory_b, NULL::DOUBLE AS reported_tokens_per_s,
       {", ".join(f"NULL::VARCHAR AS {column}" for column in _SOURCE)}
FROM board_rows r
JOIN submissions s ON s.id = r.submission
JOIN models m ON m.id = s.model_id
JOIN benchmarks b ON b.id = r.benchmark_id
LEFT JOIN aggregate a ON a.submission_id = r.submission
LEFT JOIN score_intervals p ON p.submission_id = r.submission AND p.metric = b.primary_metric
ORDER BY r.benchmark_id, r.submission
"""


def _reference_rows(
    references: tuple[ReferenceResult, ...], registry: dict[str, BenchmarkSpec], schema: pa.Schema
) -> pa.Table:
    """The literature's results as contents rows (`schema`): flagged, with their source, no interval and no
    mobench cost figure."""
    rows: list[dict[str, Any]] = []
    for ref in references:
        primary = registry[ref.benchmark].primary_metric  # load_references checked the benchmark exists
        rows.append(
            {
                "reference": True,
                "benchmark": ref.benchmark,
                "config": ref.config,
                "split": ref.split,
                "model": ref.model.name,
                "params": ref.model.params,
                "params_nominal": ref.model.params_nominal,
                "device": ref.device.name if ref.device else None,
                "soc": (ref.device.soc or None) if ref.device else None,
                "baseline": False,
                "synthetic": False,
                "primary_metric": primary,
                "primary_value": ref.metrics.get(primary),
                "metrics": [
                    {"name": name, "value": value, "low": None, "high": None}
                    for name, value in sorted(ref.metrics.items())
                ],
                "reported_latency_s": ref.latency_s,
                "reported_memory_b": ref.memory_bytes,
                "reported_tokens_per_s": ref.throughput_tokens_per_s,
                "source_url": ref.url,
                "source_citation": ref.citation,
                "source_where": ref.where,
                "source_quote": ref.quote,
                "source_note": ref.note or None,
            }
        )
    return pa.Table.from_pylist(rows, schema=schema)


def _write_details(
    store: Store, benchmark_id: str, submissions: list[str], staging: Path, out: Path
) -> ExportedConfig | None:
    """Write one benchmark's per-sample scores of `submissions` under `staging` (named as they will be under
    `out`), one row per (submission, sample) with a `scores` struct of every per-sample metric; None when none of
    its submissions has per-sample scores."""
    config = details_config(benchmark_id)
    chosen = {"benchmark": benchmark_id, "submissions": submissions}
    with store.read() as con:
        names = [
            str(row[0])
            for row in con.execute(
                """SELECT DISTINCT ss.metric FROM sample_scores ss JOIN board_rows r ON r.submission = ss.submission_id
                   WHERE r.benchmark_id = $benchmark AND r.submission IN (SELECT unnest($submissions)) ORDER BY 1""",
                chosen,
            ).fetchall()
        ]
        if not names:
            return None
        fields = ", ".join(
            f"{_identifier(name)} := max(ss.value) FILTER (WHERE ss.metric = $metric{index})"
            for index, name in enumerate(names)
        )
        target = str(staging / config).replace("'", "''")
        row = con.execute(
            f"""COPY (
                   SELECT r.submission, r.config, r.split, r.model, r.model_version, r.device, r.runtime, r.precision,
                          ss.sample_id, struct_pack({fields}) AS scores
                   FROM sample_scores ss JOIN board_rows r ON r.submission = ss.submission_id
                   WHERE r.benchmark_id = $benchmark AND r.submission IN (SELECT unnest($submissions))
                   GROUP BY ALL ORDER BY r.submission, ss.sample_id
                ) TO '{target}'
                (FORMAT parquet, FILE_SIZE_BYTES '{DETAILS_FILE_BYTES}', FILENAME_PATTERN '{SPLIT}-{{i}}')""",
            {**chosen, **{f"metric{index}": name for index, name in enumerate(names)}},
        ).fetchone()
    files = sorted(out / config / path.name for path in (staging / config).iterdir())
    return ExportedConfig(config, benchmark_id, int(row[0]) if row else 0, files)


def _identifier(name: str) -> str:
    """`name` as a quoted SQL identifier (a metric name becomes a field of the `scores` struct)."""
    return '"' + name.replace('"', '""') + '"'


def results_card(
    written: list[ExportedConfig], specs: list[BenchmarkSpec], contents: pa.Table, *, left_out: list[str]
) -> str:
    """The dataset card: the configs in YAML front matter (what `datasets` reads), then what each holds, the
    columns of `contents`, the benchmarks with their licences and the licence rule."""
    references = contents.column("reference").to_pylist()
    synthetic = any(contents.column("synthetic").to_pylist())
    front: dict[str, Any] = {
        "pretty_name": "mobench results" + (" (includes SYNTHETIC demo data)" if synthetic else ""),
        "license": "other",
        "license_name": "mobench-results-per-benchmark",
        "tags": ["mobench", "leaderboard", "evaluation", "on-device", *(["synthetic"] if synthetic else [])],
        "configs": [
            {
                "config_name": item.name,
                "data_files": [{"split": SPLIT, "path": f"{item.name}/*.parquet"}],
                **({"default": True} if item.name == CONTENTS else {}),
            }
            for item in written
        ],
    }
    by_id = {spec.id: spec for spec in specs}
    notices = []
    if synthetic:
        notices.append(
            "> **Synthetic data.** Rows with `synthetic` true were scored on mobench's SYNTHETIC demo data: their "
            "numbers mean nothing about real models."
        )
    for item in written:
        if item.benchmark is not None and (notice := licence_notice(by_id[item.benchmark], f"`{item.name}`")):
            notices.append(notice)
    measured = references.count(False)
    rows = [
        f"| `{CONTENTS}` | one row per published submission ({measured}) and per reported result "
        f"({len(references) - measured}) | {contents.num_rows} |"
    ]
    rows += [f"| `{i.name}` | per-sample scores of `{i.benchmark}` | {i.n_rows} |" for i in written if i.benchmark]
    columns = "\n".join(f"- {', '.join(f'`{c}`' for c in names)}: {text}" for names, text in CONTENTS_COLUMNS)
    benchmarks = "\n".join(
        f"| `{s.id}` | {s.title} | `{s.primary_metric}` {'↑' if s.primary.higher_is_better else '↓'} | "
        f"[{s.license.id}]({s.license.url}) | {_details_status(s, left_out)} |"
        for s in specs
    )
    example = next((i.name for i in written if i.benchmark), details_config("<benchmark id>"))
    return f"""---
{yaml.safe_dump(front, sort_keys=False, allow_unicode=True).strip()}
---

# {front["pretty_name"]}

{(chr(10) * 2).join(notices)}

The results a mobench hub has published, exported by mobench {mobench_version()} (`mobench results export`): every
scored submission with its official metrics, their 95 % intervals and its on-device cost, the results the
literature reports beside them (flagged, never mixed up with what the hub measured), and the per-sample scores.

```python
import datasets
contents = datasets.load_dataset("<this folder>", "{CONTENTS}", split="{SPLIT}")
details = datasets.load_dataset("<this folder>", "{example}", split="{SPLIT}")
```

| config | holds | rows |
|---|---|---|
{chr(10).join(rows)}

## `{CONTENTS}`
One row per published submission (the leaderboard's rows), then one row per result reported in a paper or README.
Columns:

{columns}

Reference rows come from mobench's reviewed files of reported results, each figure checked against the quoted text
of its source. They were not reproduced by mobench, so they have no submission, interval or mobench cost figure.

## `{DETAILS_PREFIX}<benchmark id>`
One row per (published submission, sample): `submission`, `config`, `split`, `model`, `model_version`, `device`,
`runtime`, `precision`, `sample_id` and `scores`, a struct of the benchmark's per-sample metrics (NULL where a
submission has no such score). Only scores: no ground truth, prediction or hidden answer key is exported.

## Benchmarks

| benchmark | title | primary metric | licence | per-sample scores |
|---|---|---|---|---|
{benchmarks}

## Licences: what may be published
- Aggregate figures (`{CONTENTS}`) say how a model did, not what the data holds: they are published for every
  benchmark, as the leaderboard shows them. Reported rows are quoted with their source.
- Per-sample scores (`{DETAILS_PREFIX}*`) are treated as derived from the benchmark's data (sample ids name its
  files; per-sample scores of many models, next to a model's outputs, give the answers away), so they follow the
  benchmark's licence: published where it allows redistribution, under the benchmark's licence where it is
  share-alike, and kept local where it forbids redistribution. `mobench results publish` refuses an export holding
  such a config; `mobench results export --publishable-only` leaves them out.

mobench's code is Apache-2.0; each benchmark keeps its own licence (linked above).
"""


def _details_status(spec: BenchmarkSpec, left_out: list[str]) -> str:
    if spec.id in left_out:
        return "left out: its licence forbids redistribution"
    if not spec.publishable:
        return f"`{details_config(spec.id)}`, local use only"
    suffix = f", under {spec.license.id}" if spec.license.redistribution == "share-alike" else ""
    return f"`{details_config(spec.id)}`{suffix}"


def publish_results(folder: Path, repo_id: str, *, private: bool = True, dry_run: bool = False) -> list[Path]:
    """Upload a results export as the Hugging Face dataset repository `repo_id`; returns the files it holds.

    Every config is checked against the registry's licences first (`check_publishable`), so nothing leaves the
    machine when one holds what a benchmark's licence forbids publishing, or names no registered benchmark.
    """
    registry = load_registry()
    for config in _configs(folder):
        if config == CONTENTS:
            continue
        spec = registry.get(config.removeprefix(DETAILS_PREFIX))
        if spec is None:
            raise MobenchError(
                f"{folder}: config {config} names no registered benchmark, so its licence cannot be checked; "
                "nothing was uploaded"
            )
        check_publishable(
            spec,
            "the per-sample scores",
            f"The export's config {config} holds them: re-export with `mobench results export --publishable-only` "
            "to leave them out. Nothing was uploaded.",
        )
    return upload(folder, repo_id, private=private, dry_run=dry_run)


def _configs(folder: Path) -> list[str]:
    """The configs of a results export at `folder`, or an error saying it is not one."""
    configs = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    if (
        CONTENTS not in configs
        or not is_export(folder)
        or any(c != CONTENTS and not c.startswith(DETAILS_PREFIX) for c in configs)
    ):
        raise MobenchError(
            f"{folder} is not a mobench results export (README.md, {CONTENTS}/ and {DETAILS_PREFIX}<benchmark>/ "
            "parquet files): run `mobench results export` first"
        )
    return configs
