"""The `mobench` command line: the submission, worker, leaderboard, demo and bench commands, and `main`.

The benchmark and measurement commands live in `hub.cli.benchmark_commands` and `hub.cli.measure_commands`; they
register on the shared Typer `app` (`hub.cli.common`) when imported here, so `mobench --help` lists them all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from hub.cli import (
    api_commands,
    benchmark_commands,
    measure_commands,
    notify_commands,
    results_commands,
    store_commands,
    verify_commands,
)
from hub.cli.common import DbOption, JsonFlag, app, console, err_console, make_table, open_store, print_json
from hub.core.errors import MobenchError
from hub.core.paths import DB_ENV, data_home, last_demo_store
from hub.scoring.executors import EXECUTORS

__all__ = [
    "api_commands",
    "app",
    "benchmark_commands",
    "main",
    "measure_commands",
    "notify_commands",
    "results_commands",
    "store_commands",
    "verify_commands",
]


@app.command("submit")
def submit_cmd(
    path: Annotated[
        Path, typer.Argument(help="Submission folder or .zip: manifest.yaml, predictions/, measurements/.")
    ],
    hub: Annotated[
        str | None, typer.Option(help="URL of a remote hub's submission API (default: this machine's store).")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="MOBENCH_TOKEN",
            help="Your submission token for --hub (or MOBENCH_TOKEN); without --hub, a token of this hub whose "
            "secret signs the notifications of a manifest's notify_url.",
        ),
    ] = None,
    notify_allow_private: notify_commands.NotifyAllowPrivate = False,
    db: DbOption = None,
) -> None:
    """Validate a submission and queue it for scoring (locally, or on a remote hub with --hub)."""
    if hub is not None:
        _submit_remote(path, hub, token)
        return
    from hub.store import accounts
    from submissions.notify_url import Subscription
    from submissions.queue import submit

    store = open_store(db)
    store.init()
    # a token unknown here is no error until a notify_url needs it (MOBENCH_TOKEN may be another hub's)
    signer = accounts.authenticate(store, token) if token else None
    notify = Subscription(token_id=signer.id if signer else None, allow_private=notify_allow_private)
    receipt = submit(path, store, notify=notify)
    if receipt.duplicate:
        console.print(f"already submitted: {receipt.id} ({receipt.benchmark}, status {receipt.status})")
    else:
        console.print(f"queued {receipt.id} for {receipt.benchmark}; run `mobench worker --once` to score it")


def _submit_remote(path: Path, hub: str, token: str | None) -> None:
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    from submissions.client import remote_submit

    if not token:
        raise MobenchError("--hub needs --token (or MOBENCH_TOKEN): ask the hub's maintainers for one")
    with Progress("uploading", BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=err_console) as bar:
        task = bar.add_task("upload", total=None)
        receipt = remote_submit(
            path, hub, token, progress=lambda done, size: bar.update(task, completed=done, total=size)
        )
    verb = "already submitted" if receipt["duplicate"] else "queued"
    console.print(f"{verb}: {receipt['id']} ({receipt['benchmark']}, status {receipt['status']}) on {hub}")


@app.command("worker")
def worker_cmd(
    once: Annotated[bool, typer.Option("--once", help="Stop when the queue is empty instead of polling.")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between polls of an empty queue.")] = 2.0,
    lease_seconds: Annotated[
        float,
        typer.Option(
            help="How long a claimed submission stays this worker's without a heartbeat (renewed every third of "
            "it); a worker that dies releases its submission after this long.",
            min=0.5,
        ),
    ] = 60.0,
    worker_id: Annotated[str | None, typer.Option(help="Name shown as the submission's holder (host:pid).")] = None,
    executor: Annotated[
        str,
        typer.Option(
            help=f"Where a submission's samples are scored, one of {', '.join(EXECUTORS)}: this process, a local "
            "process pool, or a Ray cluster. The metrics are identical whichever scores them."
        ),
    ] = "local",
    processes: Annotated[
        int | None, typer.Option(help="Processes for --executor process/ray (default: one per core).", min=1)
    ] = None,
    address: Annotated[
        str | None, typer.Option(help="Ray cluster address for --executor ray (default: start Ray locally).")
    ] = None,
    notify: Annotated[
        bool,
        typer.Option(
            "--notify/--no-notify",
            help="Deliver the submissions' notifications in a background thread while scoring (never delays it).",
        ),
    ] = True,
    notify_allow_private: notify_commands.NotifyAllowPrivate = False,
    notify_timeout: notify_commands.NotifyTimeout = 5.0,
    notify_attempts: notify_commands.NotifyAttempts = 10,
    notify_backoff: notify_commands.NotifyBackoff = 10.0,
    notify_per_day: notify_commands.NotifyPerDay = 200,
    db: DbOption = None,
) -> None:
    """Score queued submissions (several workers may run at once; each claim is a lease)."""
    from contextlib import AbstractContextManager, nullcontext

    from hub.scoring.executors import make_executor
    from submissions import worker
    from submissions.notify import Deliverer

    store = open_store(db)
    store.init()

    def report(row: Any) -> None:
        colour = {"published": "green", "rejected": "yellow", "failed": "red"}.get(row.status, "white")
        reason = f": {escape(row.reason)}" if row.reason else ""
        console.print(f"[{colour}]{row.status}[/{colour}] {row.id[:12]} {row.benchmark_id}{reason}")

    policy = notify_commands.delivery_policy(
        notify_timeout, notify_attempts, notify_backoff, notify_per_day, notify_allow_private
    )
    delivering: AbstractContextManager[object] = Deliverer(store, policy) if notify else nullcontext()
    pool = make_executor(executor, processes=processes, address=address)
    try:
        with delivering:
            n = worker.run(
                store, once=once, poll_s=poll, on_done=report, worker_id=worker_id, lease_s=lease_seconds, executor=pool
            )
    finally:
        pool.close()
    console.print(f"processed {n} submission(s) on {pool.describe()}")


@app.command("submissions")
def submissions_cmd(
    benchmark: Annotated[str | None, typer.Option(help="Only this benchmark.")] = None,
    as_json: JsonFlag = False,
    db: DbOption = None,
) -> None:
    """List submissions with their status and, when rejected or failed, the reason."""
    rows = open_store(db).list_submissions(benchmark)
    if as_json:
        print_json(rows)
        return
    for row in rows:
        row["id"] = row["id"][:12]
    console.print(
        make_table(
            "submissions", rows, ["id", "benchmark_id", "model", "device", "runtime", "status", "reason", "created_at"]
        )
    )


def _serve(db: str | Path, host: str, port: int) -> None:
    app_path = Path(__file__).resolve().parents[2] / "leaderboard" / "app.py"
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app_path),
        "--server.headless", "true", "--server.address", host, "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    console.print(f"leaderboard on http://{host}:{port}  (Ctrl+C to stop)")
    run_child(cmd, env={**os.environ, DB_ENV: str(db)})


def run_child(cmd: list[str], env: dict[str, str]) -> int:
    """Run `cmd` until it ends, passing on SIGTERM and SIGHUP (what a service manager sends to stop us) and waiting
    for it: a child left behind would keep serving and hold the port. Ctrl+C reaches the child from the terminal."""
    child = subprocess.Popen(cmd, env=env)

    def forward(signum: int, _frame: object) -> None:
        child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:  # the child got the same Ctrl+C from the terminal: wait for it to stop
                continue
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@app.command("serve")
def serve_cmd(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
) -> None:
    """Start the Streamlit leaderboard (read-only on the store).

    Without --db (or MOBENCH_DB) it serves the hub's store; when that holds no benchmark yet, the last
    `mobench demo` store, and says so.
    """
    _serve(store_to_serve(db), host, port)


def store_to_serve(db: str | Path | None) -> str:
    """The store `mobench serve` shows: the one named, else the hub's, else the last demo's (with a note)."""
    if db is not None:
        named = open_store(db)
        if not named.exists():
            raise MobenchError(
                f"no mobench store at {named.name}: run `mobench demo` or `mobench register`, or fix --db"
            )
        return named.location
    store = open_store(None)
    if store.exists() and store.table_counts().get("benchmarks"):
        return store.location
    demo = last_demo_store()
    if demo is not None:
        console.print(f"the hub's store {store.name} holds no benchmark yet: serving the last demo's store {demo}")
        return str(demo)
    raise MobenchError(
        f"no benchmark is registered in {store.name} and no demo store was found: run `mobench demo` "
        "(or `mobench register`), or pass --db PATH"
    )


@app.command("demo")
def demo_cmd(
    workdir: Annotated[
        Path | None, typer.Option(help="Folder for the demo's synthetic data, submissions and database.")
    ] = None,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the leaderboard when done.")] = True,
    host: Annotated[str, typer.Option(help="Address for the leaderboard.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for the leaderboard.")] = 8501,
    with_models: Annotated[
        bool,
        typer.Option(
            "--with-models",
            help="Also run SmolLM2-135M-Instruct through lm-eval on the language tasks and time the baselines' ONNX "
            "models with `mobench measure` (needs the `models` extra; a few minutes on a CPU).",
        ),
    ] = False,
) -> None:
    """Build the SYNTHETIC mini benchmarks, run the baselines, score and store them, serve the leaderboard."""
    from hub.cli.demo import run_demo

    folder = workdir if workdir is not None else data_home() / "demo"
    summary = run_demo(folder, console=console, with_models=with_models)
    for spec_id, rows in summary.tables.items():
        console.print(make_table(f"{spec_id} (SYNTHETIC demo data)", rows, summary.columns[spec_id]))
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

    from hub.cli.bench import cases, get_case, run_case

    if case is None:
        rows = [{"case": c.name, "what": c.description, "reference": c.reference_name} for c in cases().values()]
        console.print(make_table("bench cases", rows, ["case", "what", "reference"]))
        return
    chosen = get_case(case)
    with tempfile.TemporaryDirectory(prefix="mobench-bench-") as tmp:
        folder = workdir if workdir is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        with err_console.status(f"bench {chosen.name}"):
            report = run_case(chosen, folder, size=size, repeats=repeats)
    if as_json:
        print_json(report.to_json())
        return
    timings: list[dict[str, Any]] = [
        {"path": report.project_name, "median s": report.project_median_s, "runs": len(report.project_s)},
        {"path": report.reference_name, "median s": report.reference_median_s, "runs": len(report.reference_s)},
    ]
    console.print(make_table(f"bench {report.case}: {report.workload}", timings, ["path", "median s", "runs"]))
    console.print(f"mobench is {report.speedup:.2f}x the speed of the reference (median over median)")


def main() -> None:
    try:
        app()
    except MobenchError as exc:
        err_console.print("[red]error:[/red]", escape(str(exc)), highlight=False, soft_wrap=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
