"""`mobench demo`: the whole system on embedded mini benchmarks, end to end, in a fresh database.

For every registered benchmark that declares a synthetic builder and baselines, the demo generates the SYNTHETIC
mini data in the official on-disk format, registers it, runs each baseline on the host (timed, warm-up excluded),
writes each run as an ordinary submission folder (manifest.yaml, predictions/, measurements/), submits it through
the normal intake, and scores the queue with the normal worker. The demo keeps its own database so that synthetic
results are never mixed with real ones.
"""

from __future__ import annotations

import logging
import platform
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import pandas as pd
import yaml
from rich.console import Console
from rich.progress import Progress

from hub.core.errors import MobenchError
from hub.core.measurements.record import MeasurementFile
from hub.core.measurements.report import ModelInfo, RuntimeInfo
from hub.core.paths import remember_demo_store
from hub.core.registry import BenchmarkSpec, all_benchmarks
from hub.scoring.wiring import make_loader, resolve
from hub.store import Store
from leaderboard import board, queries
from loaders.synthetic import hidden_labels_path
from submissions import worker
from submissions.baselines import Baseline
from submissions.queue import submit
from submissions.runner.host import HostMonitor
from submissions.runner.measure import measure

DEMO_SUBMITTER = "mobench demo (baseline)"
MODELS_SUBMITTER = "mobench demo --with-models (measured on the host CPU)"
DEMO_DB = "mobench-demo.duckdb"


@dataclass
class DemoSummary:
    db_path: Path
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)


def host_device() -> dict[str, str]:
    """Describe the machine the baselines ran on (the demo measures on the host, not on a phone)."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"name": f"host CPU ({platform.machine()})", "soc": cpu, "os": platform.platform(), "form_factor": "host"}


def demo_specs() -> list[BenchmarkSpec]:
    return [s for s in all_benchmarks() if s.synthetic_builder and s.baselines]


def write_baseline_submission(
    spec: BenchmarkSpec,
    baseline: Baseline,
    root: Path,
    folder: Path,
    device: dict[str, str],
    *,
    time_models: bool = False,
) -> None:
    """Run one baseline (or real model) on the default split and lay out its results as a normal submission
    folder; with `time_models`, the model files it runs are also timed alone with `mobench measure`."""
    loader = make_loader(spec, root, spec.default_split)
    with HostMonitor() as monitor:
        timing = baseline.run(spec, loader, folder / "predictions")
    measured = monitor.result(
        timing.latencies_s,
        warmup=timing.warmup,
        model=ModelInfo(model_id=baseline.name),
        runtime=RuntimeInfo(framework=baseline.runtime, framework_version=baseline.version, backend="cpu"),
        tool="mobench demo (HostMonitor around the baseline's own per-sample perf_counter timings)",
        source_file=f"baseline {baseline.name} on {spec.id}/{spec.default_split}",
    )
    (folder / "measurements").mkdir(parents=True, exist_ok=True)
    (folder / "measurements" / "host-measurements.json").write_text(
        measured.to_file().model_dump_json(indent=2), encoding="utf-8"
    )
    for model_file in baseline.timed_models() if time_models else []:
        _measure_alone(model_file, folder / "measurements" / f"{model_file.stem}.mobench-records.json")
    params = baseline.params()
    manifest = {
        "benchmark": spec.id,
        "split": spec.default_split,
        "model": {
            "name": baseline.name,
            "version": baseline.version,
            "url": baseline.url,
            **({"params": params} if params else {}),
        },
        "runtime": baseline.runtime,
        "precision": baseline.precision,
        "device": device,
        "submitter": {"name": DEMO_SUBMITTER if baseline.is_baseline else MODELS_SUBMITTER},
        "training_data": baseline.training_data(spec, loader.config or spec.default_config),
    }
    (folder / "manifest.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    kind = "Baseline" if baseline.is_baseline else "Model"
    (folder / "README.md").write_text(
        f"{kind} `{baseline.name}`: {baseline.description}\nRun by `mobench demo` on SYNTHETIC data, measured on "
        "the host CPU.\n",
        encoding="utf-8",
    )


def _measure_alone(model_file: Path, out: Path) -> None:
    """`mobench measure` on one model file (short protocol: no sustained run, no idle baseline); its figures get
    their own scope, so they are never ranked as the whole pipeline's per-sample cost."""
    result = measure(model_file, min_iterations=50, min_seconds=2.0, warmup_seconds=1.0, sustained_seconds=0)
    records = [r.model_copy(update={"scope": f"process: {model_file.name} alone"}) for r in result.records()]
    out.write_text(MeasurementFile(records=records).model_dump_json(indent=2), encoding="utf-8")


def run_demo(workdir: Path, *, console: Console | None = None, with_models: bool = False) -> DemoSummary:
    """Build the synthetic mini benchmarks, run the baselines (and, `with_models`, SmolLM2-135M-Instruct on the
    language tasks plus `mobench measure` on the models the baselines run), submit, score and store them."""
    console = console or Console()
    # The demo shows its own progress; the libraries' per-step bars and notices (datasets, lm-eval) are noise here.
    datasets.disable_progress_bars()
    logging.getLogger("lm_eval").setLevel(logging.ERROR)
    db_path = workdir / DEMO_DB
    if workdir.exists() and any(workdir.iterdir()):
        # The demo starts afresh, so it deletes its folder: only ever one an earlier demo made.
        if not db_path.is_file():
            raise MobenchError(
                f"{workdir} is not empty and holds no earlier demo ({DEMO_DB}); choose another --workdir"
            )
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    store = Store(db_path)
    store.init()
    device = host_device()
    specs = demo_specs()
    jobs: list[tuple[BenchmarkSpec, Baseline]] = [
        (spec, baseline) for spec in specs for baseline in resolve(spec.baselines or "")
    ]
    if with_models:  # the real models a spec names as its `models` (SmolLM2 on Mobile-MMLU and PMData stress)
        jobs += [(spec, model) for spec in specs if spec.models for model in resolve(spec.models)]
    with Progress(console=console, transient=True) as progress:
        build = progress.add_task("building synthetic mini benchmarks", total=len(specs))
        for spec in specs:
            root = workdir / "data" / spec.id
            resolve(spec.synthetic_builder or "")(root, seed=0)
            store.benchmarks.register(spec, root, synthetic=True)
            if spec.labels_reader:
                store.benchmarks.set_hidden_labels(spec.id, resolve(spec.labels_reader)(hidden_labels_path(root)))
            progress.advance(build)
        runs = progress.add_task("running baselines", total=len(jobs))
        for spec, baseline in jobs:
            progress.update(runs, description=f"running {baseline.name} on {spec.id}")
            folder = workdir / "baseline-runs" / f"{spec.id}--{baseline.name}"
            root = workdir / "data" / spec.id
            write_baseline_submission(spec, baseline, root, folder, device, time_models=with_models)
            submit(folder, store, is_baseline=baseline.is_baseline, trusted_measurements=True)
            progress.advance(runs)
        scoring = progress.add_task("scoring", total=len(jobs))
        worker.run(store, once=True, on_done=lambda _row: progress.advance(scoring))
    summary = DemoSummary(db_path=store.path)
    remember_demo_store(store.path)
    for row in store.list_submissions():
        if row["status"] != "published":
            console.print(f"[red]{row['benchmark_id']} / {row['model']}: {row['status']}: {row['reason']}[/red]")
    for spec in specs:
        table = queries.ranking(store, spec)
        # A terminal is narrow: the primary metric and the cost; the leaderboard shows every metric.
        table["p50 ms"] = table["latency_p50_s"] * 1e3
        table["peak RSS MB"] = table["peak_memory_b"] / 1e6
        # the primary metric with its 95 % interval, the rank with its rank interval where it is not one rank
        low, high = queries.interval_columns(spec.primary_metric)
        shown = f"{spec.primary_metric} (95 % interval)"
        table[shown] = [
            board.plus_minus(value, lo, hi) or f"{value:.4g}"
            for value, lo, hi in zip(table[spec.primary_metric], table[low], table[high], strict=True)
        ]
        ranks = board.rank_intervals(table["rank_best"], table["rank_worst"])
        table["rank (interval)"] = [
            f"{rank}" if pd.isna(span) or span == f"{rank}" else f"{rank} ({span})"
            for rank, span in zip(table["rank"], ranks, strict=True)
        ]
        columns = ["rank (interval)", "model", shown, "p50 ms", "peak RSS MB"]
        summary.columns[spec.id] = columns
        # the rows keep the primary metric's exact value too (what is printed is `columns`)
        kept = [*columns, spec.primary_metric]
        summary.tables[spec.id] = [{str(k): v for k, v in r.items()} for r in table[kept].to_dict("records")]
    return summary
