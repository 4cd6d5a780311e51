"""Commands about on-device cost: parse a tool's measurement log, list the formats, measure a model here."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hub.cli.common import JsonFlag, app, console, err_console, make_table

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
    console.print(make_table(f"{file.name}: {result.format}", rows, list(rows[0]) if rows else ["metric"]))
    for trace in result.traces:
        console.print(f"trace {trace.rail or ''}: {len(trace.t_s)} samples, scope {trace.scope}, method {trace.method}")
    for flag in result.flags:
        console.print(f"[yellow]flag:[/yellow] {escape(flag)}")


@measurements_app.command("formats")
def measurements_formats_cmd() -> None:
    """List the measurement log formats mobench reads, with the tool versions and output forms each was verified on."""
    from submissions.measurements.base import Verified
    from submissions.measurements.detect import FORMATS

    unverified = (Verified("-", "-", "not verified on a real log or the tool's source"),)
    rows = [
        {"format": name, "what": spec.description, "versions": v.versions, "form": v.form, "evidence": v.evidence}
        for name, spec in FORMATS.items()
        for v in spec.verified or unverified
    ]
    console.print(make_table("measurement formats", rows, ["format", "what", "versions", "form", "evidence"]))


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
    from submissions.runner.measure import run_measure

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
    console.print(make_table(f"{model.name} on this machine", rows, ["metric", "statistic", "value", "unit", "scope"]))
    for reason in result.energy_absent:
        console.print(f"[yellow]no energy figure:[/yellow] {escape(reason)}")
