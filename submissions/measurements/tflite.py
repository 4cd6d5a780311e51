"""TensorFlow Lite / LiteRT `benchmark_model` logs (stdout, or logcat lines tagged `tflite`), one report per run.

Source of the grammar: `tflite/tools/benchmark/benchmark_model.cc`, `benchmark_tflite_model.cc` and
`benchmark_main.cc` in google-ai-edge/LiteRT (formerly `tensorflow/lite/tools/benchmark/`), research notes §1.
Times are µs (the `avg` field and the "Inference timings" floats may be in scientific notation), memory and model
size in MB computed as KB/1024 (so MiB). Each `Run()` phase prints "Running benchmark for at least ..." then its
`count=` line: the first is the warm-up, the second the timed phase. The tool prints no raw samples, so the
statistics are the tool's (`reported_by_tool`); p90 does not exist in this log.

A terminal capture often holds several runs one after another: `benchmark_main` prints `STARTING!` at the start of
each and `Benchmarking failed.` when one fails (the Android app prints neither; its runs start with `Log parameter
values verbosely`). The log is split there, one report per run; a run that failed or stopped early gets a labelled
report without figures and a flag saying so. A log in which no run completed is refused, saying why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hub.core.measurements.report import LatencyStats, MeasurementReport, MemoryFigure, ModelInfo, Protocol, RuntimeInfo
from submissions.measurements.base import (
    FLOAT,
    FormatSpec,
    ParseResult,
    Source,
    Verified,
    count_flag,
    provenance,
    to_duration,
    to_float,
)

FORMAT = "tflite-benchmark-model"
MIB = 1024 * 1024
US = 1e-6

_STARTING = re.compile(r"\bSTARTING!\s*$")
_VERBOSE = re.compile(r"\bLog parameter values verbosely: ")
_FAILED = re.compile(r"\bBenchmarking failed\.\s*$")
_RUNNING = re.compile(r"Running benchmark for at least (\d+) iterations")
_OP_PROFILE = re.compile(r"(Timings \(microseconds\)|Memory \(bytes\)): count=")
_COUNT = re.compile(r"\bcount=(\S+)(.*)$")
_KV = re.compile(r"(\w+)=(\S+)")
_TIMINGS = re.compile(r"Inference timings in us: (.*)$")
_OLD_TIMINGS = re.compile(r"Average inference timings in us: (.*)$")
_INIT_SESSION = re.compile(rf"Initialized session in ({FLOAT})ms")
_MEM_DELTA = re.compile(r"(Memory footprint delta from the start of the tool|Peak memory footprint) \(MB\): (.*)$")
_MEM_PEAK = re.compile(rf"Overall peak memory footprint \(MB\) via periodic monitoring: ({FLOAT})\s*$")
_MEM_END = re.compile(rf"[-+] (VmRSS|RssAnnon|RssFile \+ RssShmem)\s*: ({FLOAT}) MB\s*$")
_MODEL_SIZE = re.compile(rf"The input model file size \(MB\): ({FLOAT})\s*$")
_PARAM = re.compile(r"(?:^|:\s)([A-Z][A-Za-z0-9 ()/_-]*?): \[(.*)\]\s*$")
_DELEGATE = re.compile(r"Replacing (\d+) out of (\d+) node\(s\) with delegate \(([^)]*)\)")
_FALLBACK = re.compile(r"will not be executed by the delegate")
_ERROR = re.compile(r"\bERROR: (.*)$")
_NAMED_US = re.compile(rf"([A-Za-z ()]+?): ({FLOAT})")
_STAT_US = ("first", "curr", "min", "max", "avg", "std", "p5", "median", "p95")


def detect(src: Source) -> bool:
    text = src.text
    failed_runs = "Benchmarking failed." in text and "Log parameter values verbosely" in text
    return "Running benchmark for at least" in text or "Inference timings in us:" in text or failed_runs


def _split_runs(lines: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """One list of lines per run: a run starts at STARTING!, or at the parameter listing when the lines so far
    already hold a run's phases or its failure (the Android app prints no STARTING!)."""
    runs: list[list[tuple[int, str]]] = [[]]
    started = progressed = False
    for number, line in lines:
        starting, verbose = _STARTING.search(line), _VERBOSE.search(line)
        if (starting and (started or progressed)) or (verbose and progressed):
            runs.append([])
            started = progressed = False
        started |= bool(starting or verbose)
        progressed |= bool(_RUNNING.search(line) or _FAILED.search(line))
        runs[-1].append((number, line))
    return runs


@dataclass
class _Run:
    """What one run's lines said."""

    phases: int = 0
    warmup: dict[str, float] | None = None
    timed: dict[str, float] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    init_ms: float | None = None
    memory: list[MemoryFigure] = field(default_factory=list)
    model_size_mb: float | None = None
    params: dict[str, str | int | float | bool | None] = field(default_factory=dict)
    extras: dict[str, str | int | float | bool | None] = field(default_factory=dict)
    breakdown: dict[str, int] | None = None
    fallback: bool = False
    failed_at: int | None = None
    errors: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    used: list[str] = field(default_factory=list)
    ignored: int = 0


def _stat_line(src: Source, number: int, line: str, count: str, rest: str) -> dict[str, float]:
    """'count=50 first=.. curr=.. min=.. max=.. avg=.. std=.. [p5=.. median=.. p95=..]': times in µs, never < 0."""
    stats = {"count": to_duration(src, number, count, "count", line)}
    for key, value in _KV.findall(rest):
        what = f"stat line field {key}"
        stats[key] = (
            to_duration(src, number, value, what, line) if key in _STAT_US else to_float(src, number, value, what)
        )
    return stats


def _named(src: Source, number: int, line: str, body: str) -> dict[str, float]:
    """'Init: 17187, First inference: 3512391, ...' -> {'Init': 17187.0, ...} (µs, never < 0)."""
    out: dict[str, float] = {}
    for part in body.split(","):
        m = _NAMED_US.fullmatch(part.strip())
        if not m:
            raise src.error(number, f"cannot read timing entry {part.strip()!r}")
        name = m.group(1).strip()
        out[name] = to_duration(src, number, m.group(2), name, line)
    return out


def _read_line(src: Source, run: _Run, number: int, line: str) -> None:
    if not line.strip():
        return
    if _RUNNING.search(line):
        run.phases += 1
    elif m := _OP_PROFILE.search(line):
        run.extras[f"op profiling.{m.group(1)}"] = "count=" + line[m.end() :].strip()
    elif m := _COUNT.search(line):
        stats = _stat_line(src, number, line, m.group(1), m.group(2))
        if run.phases == 1:
            run.warmup = stats
            run.extras["warm-up stat line"] = f"count={m.group(1)}{m.group(2)}".strip()
        elif run.phases == 2:
            if "avg" not in stats and stats["count"] > 1:
                raise src.error(number, "timed stat line without avg=")
            run.timed = stats
            run.used.append(line.strip())
        else:
            raise src.error(number, "a count= line outside a 'Running benchmark for at least' phase")
        if "e+" in m.group(2) or "e-" in m.group(2):
            run.flags.append("scientific_notation_parsed")
    elif m := _TIMINGS.search(line):
        run.timings = _named(src, number, line, m.group(1))
        run.used.append(line.strip())
    elif m := _OLD_TIMINGS.search(line):
        run.timings = _named(src, number, line, m.group(1))
        run.flags.append("legacy_average_timings_line")
        run.used.append(line.strip())
    elif m := _INIT_SESSION.search(line):
        run.init_ms = to_duration(src, number, m.group(1), "Initialized session", line)
    elif m := _MEM_DELTA.search(line):
        values = {k: to_float(src, number, v, f"{m.group(1)} {k}") for k, v in _KV.findall(m.group(2))}
        if "overall" not in values:
            raise src.error(number, "memory line without overall=")
        if m.group(1) == "Peak memory footprint":
            run.flags.append("legacy_peak_memory_label_is_rss_delta")
        run.memory.append(
            MemoryFigure(
                peak_kind="rss_delta",
                peak_bytes=max(values["overall"], 0.0) * MIB,
                model_load_delta_bytes=values["init"] * MIB if "init" in values else None,
            )
        )
    elif m := _MEM_PEAK.search(line):
        run.memory.append(MemoryFigure(peak_kind="process_rss_peak", peak_bytes=float(m.group(1)) * MIB))
    elif m := _MEM_END.search(line):
        run.extras[f"memory at the end (MB).{m.group(1)}"] = float(m.group(2))
    elif m := _MODEL_SIZE.search(line):
        run.model_size_mb = float(m.group(1))
    elif m := _DELEGATE.search(line):
        run.breakdown = {"delegated_nodes": int(m.group(1)), "total_nodes": int(m.group(2))}
        run.params["delegate_name"] = m.group(3)
    elif _FALLBACK.search(line):
        run.fallback = True
    elif _FAILED.search(line):
        run.failed_at = number
    elif m := _ERROR.search(line):
        run.errors.append(m.group(1).strip())
    elif m := _PARAM.search(line):
        run.params[m.group(1).strip()] = m.group(2)
    else:
        run.ignored += 1


def _report(src: Source, run: _Run, label: str) -> MeasurementReport:
    """The report of a run; one without a timed phase (failed, stopped early) has no figures."""
    flags = list(run.flags)
    if run.memory:
        flags.append("memory_MB_read_as_MiB")
    if run.fallback:
        flags.append("delegate_fallback_to_cpu")
    stats = run.timed
    latency = None
    if stats is not None:
        flags += ["p90_not_in_tflite_log", "std_is_population_std"]
        init_us = run.timings.get("Init")
        latency = LatencyStats(
            n=int(stats["count"]),
            mean_s=stats.get("avg", stats.get("curr", 0.0)) * US,
            std_s=stats["std"] * US if "std" in stats else None,
            min_s=stats["min"] * US if "min" in stats else None,
            max_s=stats["max"] * US if "max" in stats else None,
            p5_s=stats["p5"] * US if "p5" in stats else None,
            p50_s=stats["median"] * US if "median" in stats else None,
            p95_s=stats["p95"] * US if "p95" in stats else None,
            first_inference_s=run.timings["First inference"] * US if "First inference" in run.timings else None,
            init_s=init_us * US if init_us is not None else (run.init_ms * 1e-3 if run.init_ms is not None else None),
            stats_source="reported_by_tool",
            scope="process",
            method="benchmark_model wall-clock timer",
        )
    elif run.failed_at is not None:
        flags.append(f"benchmarking_failed:line {run.failed_at}")
    else:
        flags.append("run_incomplete_no_timed_phase")
    count_flag(flags, "unrecognised_lines_ignored", run.ignored)
    threads = run.params.get("Num threads")
    return MeasurementReport(
        label=label,
        model=ModelInfo(
            format="tflite",
            size_bytes=int(run.model_size_mb * MIB) if run.model_size_mb is not None else None,
            model_id=str(run.params.get("Graph", "")),
        ),
        runtime=RuntimeInfo(
            framework="tflite",
            num_threads=int(threads) if isinstance(threads, str) and threads.lstrip("-").isdigit() else None,
            compute_unit_breakdown=run.breakdown,
            fallback_detected=run.fallback,
            extra=run.params,
        ),
        protocol=Protocol(
            tool="tflite_benchmark_model",
            warmup_runs=int(run.warmup["count"]) if run.warmup is not None else None,
            measured_runs=int(stats["count"]) if stats is not None else None,
        ),
        latency=latency,
        memory=run.memory,
        provenance=provenance(
            src, FORMAT, flags, original_text="\n".join(run.used or run.errors), latency="us", memory="MB"
        ),
        source_file=src.display,
    )


def _run_extras(run: _Run) -> dict[str, str | int | float | bool | None]:
    """What a run printed that mobench has no field for: the warm-up phase, the timings it does not map."""
    extras = dict(run.extras)
    for name, value in run.timings.items():
        if name not in {"Init", "First inference"}:
            extras[f"Inference timings in us.{name}"] = value
    return extras


def parse(src: Source) -> ParseResult:
    pieces = _split_runs(src.lines())
    runs: list[_Run] = []
    for piece in pieces:
        run = _Run()
        for number, line in piece:
            _read_line(src, run, number, line)
        runs.append(run)
    done = [run for run in runs if run.timed is not None]
    if not done:
        failed = [f"line {r.failed_at}: Benchmarking failed. ({'; '.join(r.errors)})" for r in runs if r.failed_at]
        raise src.error(
            None,
            "no timed 'count=' line after the second 'Running benchmark for at least' line; "
            + ("not a complete benchmark_model log" if not failed else "no run completed: " + " / ".join(failed)),
        )
    flags: list[str] = []
    extras: dict[str, str | int | float | bool | None] = {}
    reports = []
    many = len(runs) > 1
    if many:
        flags.append(f"runs_split:{len(runs)}")
    for index, run in enumerate(runs, start=1):
        state = "" if run.timed is not None else (" (failed)" if run.failed_at is not None else " (incomplete)")
        label = f"run {index} of {len(runs)}: {run.params.get('Graph', '')}{state}" if many else ""
        if many and run.timed is None:
            flags.append(f"run_{index}_failed:line {run.failed_at}" if run.failed_at else f"run_{index}_incomplete")
        prefix = f"run {index}." if many else ""
        extras.update({prefix + k: v for k, v in _run_extras(run).items()})
        reports.append(_report(src, run, label))
    if not many:
        flags = list(reports[0].provenance.validation_flags)
    return ParseResult(FORMAT, src.display, src.sha256, reports=reports, flags=flags, extras=extras)


SPECS = (
    FormatSpec(
        FORMAT,
        "TFLite/LiteRT benchmark_model log (stdout or logcat), one report per run",
        detect,
        parse,
        verified=(
            Verified(
                "prebuilt android_aarch64_benchmark_model (p5/median/p95 era)",
                "Termux capture of 4 runs, one 'Benchmarking failed.', INFO:/ERROR: prefixes, XNNPACK delegate",
                "real log: toollogs/tflite/termux_muaalem_three_runs_benchmark_model.txt",
            ),
            Verified(
                "TF ~2.3",
                "adb shell stdout, 'Peak memory footprint (MB)' label, no p5/median/p95",
                "real log: toollogs/tflite/tf-issue42507_android_espcn_benchmark_model.txt",
            ),
            Verified(
                "2019 builds",
                "'Average inference timings in us: Warmup, Init, no stats'",
                "real log: toollogs/tflite/yuenshome-issue77_android_mobilenet_quant_legacy.txt",
            ),
            Verified(
                "LiteRT master (f67457790)",
                "STARTING!/Benchmarking failed., 'Inference timings in us', memory delta, periodic peak, "
                "'Memory status at the end of exeution', op-profiling 'Timings (microseconds)' summary",
                "tool source: google-ai-edge/LiteRT tflite/tools/benchmark/benchmark_model.cc, benchmark_main.cc; "
                "fixture tests/fixtures/runtime_log_forms.py",
            ),
            Verified(
                "TF 2.4-era (Mi11 log quoted in research notes §1)",
                "logcat 'I tflite  :' lines, NNAPI delegate, scientific notation",
                "fixture tests/fixtures/measurement_logs.py tflite_log",
            ),
        ),
    ),
)
