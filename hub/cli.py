"""The `mobench` command line.

Every command reads benchmark definitions from the registry; nothing here knows about a particular benchmark.
Expected failures (`MobenchError`) print one clear message and exit with status 2; anything else is a bug and
shows its traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hub.errors import MobenchError
from hub.paths import DB_ENV, data_home, default_db_path
from hub.registry import BenchmarkSpec, all_benchmarks, get_benchmark, resolve, unavailable_benchmarks
from hub.store import Store

app = typer.Typer(
    name="mobench",
    help="mobench: official loaders and metrics for on-device AI benchmarks, with on-device cost, in one leaderboard.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db", envvar=DB_ENV, help="DuckDB file of the hub (default: the user data dir).", show_default=False
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]


def _store(db: Path | None) -> Store:
    return Store(db if db is not None else default_db_path())


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> Table:
    table = Table(title=title)
    for col in columns:
        # Ids and names stay whole on one line; other long values wrap rather than being cut.
        table.add_column(col, no_wrap=col in {"id", "model", "benchmark_id", "case"}, overflow="fold")
    for row in rows:
        table.add_row(*(_fmt(row.get(c)) for c in columns))
    return table


@app.command("benchmarks")
def benchmarks_cmd(as_json: JsonFlag = False) -> None:
    """List the registered benchmark definitions."""
    specs = all_benchmarks()
    missing = list(unavailable_benchmarks().values())
    if as_json:
        _print_json(
            [{**s.model_dump(), "available": True} for s in specs]
            + [{**m.model_dump(), "available": False} for m in missing]
        )
        return
    rows = [
        {
            "id": s.id,
            "family": s.family,
            "primary metric": f"{s.primary_metric} ({'↑' if s.primary.higher_is_better else '↓'})",
            "configs/splits": "; ".join(f"{c.name}: {', '.join(sp.name for sp in c.splits)}" for c in s.configs),
            "licence": s.license.id,
        }
        for s in specs
    ]
    console.print(_table("mobench benchmarks", rows, ["id", "family", "primary metric", "configs/splits", "licence"]))
    for m in missing:
        console.print(f"[yellow]{m.id}[/yellow] ({m.title}): not available. {escape(m.reason.strip())}")


@app.command("register")
def register_cmd(
    benchmark: Annotated[str, typer.Argument(help="Benchmark id, e.g. kitti-2015-flow.")],
    root: Annotated[Path, typer.Option(help="Folder of the official release, unpacked as downloaded.")],
    db: DbOption = None,
) -> None:
    """Tell the hub where a benchmark's ground truth lives, so the worker can score submissions (maintainers)."""
    from hub.export import make_loader
    from hub.synthetic import is_synthetic

    spec = get_benchmark(benchmark)
    make_loader(spec, root, spec.default_split).sample_ids()  # fails now, with the layout, if the root is wrong
    store = _store(db)
    store.init()
    store.register_benchmark(spec, root.resolve(), synthetic=is_synthetic(root))
    console.print(f"registered {spec.id} at {root.resolve()}")


@app.command("export")
def export_cmd(
    benchmark: Annotated[str, typer.Argument(help="Benchmark id.")],
    root: Annotated[Path, typer.Option(help="Folder of the official release, unpacked as downloaded.")],
    out: Annotated[Path, typer.Option(help="Output folder (parquet shards + README.md dataset card).")],
    config: Annotated[list[str] | None, typer.Option(help="Config(s) to export (default: all).")] = None,
    split: Annotated[list[str] | None, typer.Option(help="Split(s) to export (default: all).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a non-empty output folder.")] = False,
    max_rows_per_shard: Annotated[int, typer.Option(help="Rows per parquet shard.", min=1)] = 500,
) -> None:
    """Write a benchmark as parquet + dataset card so `datasets.load_dataset(OUT, CONFIG, split=...)` works."""
    from hub.export import export_benchmark

    spec = get_benchmark(benchmark)
    with console.status("exporting") as status:

        def on_split(cfg: str, sp: str) -> None:
            status.update(f"exporting {spec.id}: config {cfg}, split {sp}")

        exported = export_benchmark(
            spec,
            root,
            out,
            configs=config,
            splits=split,
            overwrite=overwrite,
            max_rows_per_shard=max_rows_per_shard,
            on_split=on_split,
        )
    for item in exported:
        console.print(f"{item.config}/{item.split}: {item.n_rows} rows in {len(item.files)} shard(s)")
    console.print(
        f"dataset card: {out / 'README.md'}  (load with datasets.load_dataset({str(out)!r}, CONFIG, split=...))"
    )
    if not spec.publishable:
        console.print(f"[yellow]{spec.license.id}: local use only, do not publish this folder.[/yellow]")


@app.command("publish")
def publish_cmd(
    benchmark: Annotated[str, typer.Argument(help="Benchmark id the export was made from.")],
    folder: Annotated[Path, typer.Option(help="The folder `mobench export` wrote.")],
    repo_id: Annotated[str, typer.Option(help="Hugging Face dataset repository, e.g. my-org/kitti-synthetic.")],
    public: Annotated[bool, typer.Option("--public", help="Create the repository public (default: private).")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the licence and list the files; upload nothing.")
    ] = False,
) -> None:
    """Publish an export to the Hugging Face Hub, if and only if the benchmark's licence allows redistribution."""
    from hub.export import publish_export

    spec = get_benchmark(benchmark)
    files = publish_export(spec, folder, repo_id, private=not public, dry_run=dry_run)
    verb = "would upload" if dry_run else "uploaded"
    console.print(f"{verb} {len(files)} file(s) to datasets/{repo_id} ({spec.license.id})")
    if spec.license.redistribution == "share-alike":
        console.print(f"[yellow]share-alike: the published data must keep the {spec.license.id} licence[/yellow]")


@app.command("evaluate")
def evaluate_cmd(
    benchmark: Annotated[str, typer.Argument(help="Benchmark id.")],
    root: Annotated[Path, typer.Option(help="Folder of the official release (ground truth).")],
    predictions: Annotated[Path, typer.Option(help="Predictions in the benchmark's own submission format.")],
    split: Annotated[str | None, typer.Option(help="Split to score (default: the benchmark's default split).")] = None,
    config: Annotated[str | None, typer.Option(help="Config (default: the benchmark's first config).")] = None,
    allow_partial: Annotated[bool, typer.Option(help="Score a partial submission and report its coverage.")] = False,
    answers: Annotated[
        Path | None, typer.Option(help="The operator's answer key, for benchmarks whose labels are hidden.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Score a predictions folder directly with the official metrics (no store involved)."""
    from evaluators.result import EvaluationRequest, EvaluationResult

    spec = get_benchmark(benchmark)
    cfg = spec.config(config)
    split_spec = cfg.split(split or spec.default_split)
    if split_spec.labels == "none":
        raise MobenchError(
            f"split {split_spec.name!r} of {spec.id} has no public ground truth; it cannot be scored here"
        )
    labels = _read_labels(spec, answers) if answers is not None else None
    evaluate: Callable[[EvaluationRequest], EvaluationResult] = resolve(spec.evaluator)
    request = EvaluationRequest(
        spec=spec,
        root=root,
        predictions=predictions,
        split=split_spec.name,
        config=cfg.name,
        allow_partial=allow_partial,
        labels=labels,
    )
    with err_console.status(f"scoring {spec.id} / {split_spec.name}"):
        result = evaluate(request)
    if as_json:
        _print_json(result.to_json())
        return
    rows = [
        {
            "metric": m.name,
            "value": result.metrics.get(m.name),
            "unit": m.unit,
            "better": "↑" if m.higher_is_better else "↓",
        }
        for m in spec.metrics
        if m.name in result.metrics
    ]
    title = f"{spec.id} · {cfg.name} · {split_spec.name} · {result.n_samples}/{result.n_expected} samples"
    console.print(_table(title, rows, ["metric", "value", "unit", "better"]))
    if result.missing:
        console.print(
            f"[yellow]partial: {len(result.missing)} sample(s) had no prediction (coverage {result.coverage:.1%})"
        )


def _read_labels(spec: BenchmarkSpec, key: Path) -> dict[str, str]:
    if spec.labels_reader is None:
        raise MobenchError(f"{spec.id} ships its labels with the release; it takes no answer key")
    labels: dict[str, str] = resolve(spec.labels_reader)(key)
    return labels


labels_app = typer.Typer(help="Hidden labels (answer keys) held by the hub operator.", no_args_is_help=True)
app.add_typer(labels_app, name="labels")


@labels_app.command("set")
def labels_set_cmd(
    benchmark: Annotated[str, typer.Argument(help="Benchmark id whose labels are hidden, e.g. mobile-mmlu.")],
    key: Annotated[Path, typer.Argument(help="The answer key file, in the benchmark's key format.")],
    db: DbOption = None,
) -> None:
    """Store a benchmark's answer key for the worker; no export, page or API ever returns it."""
    spec = get_benchmark(benchmark)
    labels = _read_labels(spec, key)
    store = _store(db)
    store.init()
    n = store.set_hidden_labels(spec.id, labels)
    console.print(f"stored {n} hidden label(s) for {spec.id}")


@app.command("lm-eval-tasks")
def lm_eval_tasks_cmd(
    benchmark: Annotated[str, typer.Option(help="mobile-mmlu or mobile-mmlu-pro.")] = "mobile-mmlu",
    export: Annotated[str, typer.Option(help="The folder `mobench export` wrote the questions to.")] = "EXPORT",
    path_only: Annotated[bool, typer.Option("--path-only", help="Print only the --include_path value.")] = False,
) -> None:
    """Print the --include_path for lm-evaluation-harness and the commands that run the mobench tasks."""
    from hub.lm_eval_support import include_path, usage

    if path_only:
        sys.stdout.write(f"{include_path()}\n")
        return
    get_benchmark(benchmark)
    sys.stdout.write(usage(benchmark, export) + "\n")


measurements_app = typer.Typer(help="On-device measurement logs (latency, memory, energy).", no_args_is_help=True)
app.add_typer(measurements_app, name="measurements")


@measurements_app.command("parse")
def measurements_parse_cmd(
    file: Annotated[Path, typer.Argument(help="A log written by a measurement tool.")],
    format: Annotated[str | None, typer.Option("--format", help="Force a format instead of detecting it.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Parse one log into canonical measurement records (SI units); the format is detected unless forced."""
    from submissions.measurements.detect import parse_file

    result = parse_file(file, format)
    if as_json:
        sys.stdout.write(result.to_json() + "\n")
        return
    rows = [
        {
            "metric": r.metric,
            "statistic": r.statistic,
            "value": r.value,
            "unit": r.unit,
            "n": r.n,
            "scope": r.scope,
            "method": r.method,
        }
        for r in result.records()
    ]
    console.print(_table(f"{file.name}: {result.format}", rows, list(rows[0]) if rows else ["metric"]))
    for trace in result.traces:
        console.print(f"trace {trace.rail or ''}: {len(trace.t_s)} samples, scope {trace.scope}, method {trace.method}")
    for flag in result.flags:
        console.print(f"[yellow]flag:[/yellow] {escape(flag)}")


@measurements_app.command("formats")
def measurements_formats_cmd() -> None:
    """List the measurement log formats mobench reads."""
    from submissions.measurements.detect import FORMATS

    console.print(
        _table(
            "measurement formats",
            [{"format": k, "what": v.description} for k, v in FORMATS.items()],
            ["format", "what"],
        )
    )


@app.command("measure")
def measure_cmd(
    model: Annotated[Path, typer.Argument(help="Model file: .onnx (ONNX Runtime) or .tflite (LiteRT).")],
    backend: Annotated[str | None, typer.Option(help="onnxruntime or litert (default: from the extension).")] = None,
    input: Annotated[Path | None, typer.Option(help="Input tensors (.npy / .npz); default: synthetic.")] = None,
    warmup: Annotated[int, typer.Option(help="Warm-up iterations, excluded.")] = 10,
    iterations: Annotated[int, typer.Option(help="Minimum measured iterations.")] = 50,
    seconds: Annotated[float, typer.Option(help="Minimum measured seconds.")] = 10.0,
    sustained_seconds: Annotated[float, typer.Option(help="Back-to-back run for throttling (0 = skip).")] = 600.0,
    baseline_seconds: Annotated[float, typer.Option(help="Idle baseline for net energy (0 = skip).")] = 30.0,
    threads: Annotated[int | None, typer.Option(help="Intra-op threads.")] = None,
    sysfs_root: Annotated[Path, typer.Option(help="Where to look for power and thermal sensors.")] = Path("/sys"),
    out: Annotated[Path | None, typer.Option(help="Write the mobench-records JSON for a submission here.")] = None,
    detail_out: Annotated[Path | None, typer.Option(help="Write the full record (raw samples, traces) here.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Measure a model on this machine: cold start, warm and sustained latency, peak memory, energy if sensed."""
    from hub.runner.measure import run_measure

    chosen = backend or ("litert" if model.suffix.lower() == ".tflite" else "onnxruntime")
    with err_console.status(f"measuring {model.name} with {chosen}"):
        result = run_measure(
            model,
            out=out,
            detail_out=detail_out,
            backend=chosen,
            input=input,
            warmup=warmup,
            min_iterations=iterations,
            min_seconds=seconds,
            sustained_seconds=sustained_seconds,
            baseline_seconds=baseline_seconds,
            threads=threads,
            sysfs_root=sysfs_root,
        )
    if as_json:
        sys.stdout.write(result.to_json() + "\n")
        return
    rows = [
        {"metric": r.metric, "statistic": r.statistic, "value": r.value, "unit": r.unit, "scope": r.scope}
        for r in result.records()
    ]
    console.print(_table(f"{model.name} on this machine", rows, ["metric", "statistic", "value", "unit", "scope"]))
    for reason in result.energy_absent:
        console.print(f"[yellow]no energy figure:[/yellow] {escape(reason)}")


@app.command("submit")
def submit_cmd(
    path: Annotated[
        Path, typer.Argument(help="Submission folder or .zip: manifest.yaml, predictions/, measurements/.")
    ],
    db: DbOption = None,
) -> None:
    """Validate a submission and queue it for scoring."""
    from submissions.queue import submit

    receipt = submit(path, _store(db))
    if receipt.duplicate:
        console.print(f"already submitted: {receipt.id} ({receipt.benchmark}, status {receipt.status})")
    else:
        console.print(f"queued {receipt.id} for {receipt.benchmark}; run `mobench worker --once` to score it")


@app.command("worker")
def worker_cmd(
    once: Annotated[bool, typer.Option("--once", help="Stop when the queue is empty instead of polling.")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between polls of an empty queue.")] = 2.0,
    db: DbOption = None,
) -> None:
    """Score queued submissions."""
    from submissions import worker

    store = _store(db)
    store.init()

    def report(row: Any) -> None:
        colour = {"scored": "green", "rejected": "yellow", "failed": "red"}.get(row.status, "white")
        reason = f": {escape(row.reason)}" if row.reason else ""
        console.print(f"[{colour}]{row.status}[/{colour}] {row.id[:12]} {row.benchmark_id}{reason}")

    n = worker.run(store, once=once, poll_s=poll, on_done=report)
    console.print(f"processed {n} submission(s)")


@app.command("submissions")
def submissions_cmd(
    benchmark: Annotated[str | None, typer.Option(help="Only this benchmark.")] = None,
    as_json: JsonFlag = False,
    db: DbOption = None,
) -> None:
    """List submissions with their status and, when rejected or failed, the reason."""
    rows = _store(db).list_submissions(benchmark)
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        row["id"] = row["id"][:12]
    console.print(
        _table(
            "submissions", rows, ["id", "benchmark_id", "model", "device", "runtime", "status", "reason", "created_at"]
        )
    )


def _serve(db: Path, host: str, port: int) -> None:
    app_path = Path(__file__).resolve().parent.parent / "leaderboard" / "app.py"
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app_path),
        "--server.headless", "true", "--server.address", host, "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    console.print(f"leaderboard on http://{host}:{port}  (Ctrl+C to stop)")
    subprocess.run(cmd, env={**os.environ, DB_ENV: str(db)}, check=False)


@app.command("serve")
def serve_cmd(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
) -> None:
    """Start the Streamlit leaderboard (read-only on the store)."""
    store = _store(db)
    store.init()
    _serve(store.path, host, port)


@app.command("demo")
def demo_cmd(
    workdir: Annotated[
        Path | None, typer.Option(help="Folder for the demo's synthetic data, submissions and database.")
    ] = None,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the leaderboard when done.")] = True,
    host: Annotated[str, typer.Option(help="Address for the leaderboard.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for the leaderboard.")] = 8501,
) -> None:
    """Build the SYNTHETIC mini benchmarks, run the baselines, score and store them, serve the leaderboard."""
    from hub.demo import run_demo

    folder = workdir if workdir is not None else data_home() / "demo"
    summary = run_demo(folder, console=console)
    for spec_id, rows in summary.tables.items():
        console.print(_table(f"{spec_id} (SYNTHETIC demo data)", rows, summary.columns[spec_id]))
    console.print(f"demo database: {summary.db_path}")
    if serve:
        _serve(summary.db_path, host, port)


@app.command("bench")
def bench_cmd(
    case: Annotated[str | None, typer.Argument(help="Case to run (default: list the cases).")] = None,
    size: Annotated[int | None, typer.Option(help="Workload size (default: the case's own).", min=1)] = None,
    repeats: Annotated[int, typer.Option(help="Timed repeats of each side, after one warm-up.", min=1)] = 5,
    workdir: Annotated[Path | None, typer.Option(help="Scratch folder (default: a temporary one).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Time mobench's path against a named reference on the same workload, in the same run."""
    import tempfile

    from hub.bench import cases, get_case, run_case

    if case is None:
        rows = [{"case": c.name, "what": c.description, "reference": c.reference_name} for c in cases().values()]
        console.print(_table("bench cases", rows, ["case", "what", "reference"]))
        return
    chosen = get_case(case)
    with tempfile.TemporaryDirectory(prefix="mobench-bench-") as tmp:
        folder = workdir if workdir is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        with err_console.status(f"bench {chosen.name}"):
            report = run_case(chosen, folder, size=size, repeats=repeats)
    if as_json:
        _print_json(report.to_json())
        return
    timings: list[dict[str, Any]] = [
        {"path": report.project_name, "median s": report.project_median_s, "runs": len(report.project_s)},
        {"path": report.reference_name, "median s": report.reference_median_s, "runs": len(report.reference_s)},
    ]
    console.print(_table(f"bench {report.case}: {report.workload}", timings, ["path", "median s", "runs"]))
    console.print(f"mobench is {report.speedup:.2f}x the speed of the reference (median over median)")


def main() -> None:
    try:
        app()
    except MobenchError as exc:
        err_console.print("[red]error:[/red]", escape(str(exc)), highlight=False, soft_wrap=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
