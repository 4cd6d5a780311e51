"""llama.cpp: `llama-bench` JSON / JSONL / CSV, the CLI `llama_perf_*` timing lines and llama-server `timings`.

Source: `tools/llama-bench/llama-bench.cpp` (formerly `examples/llama-bench/`), `common/` perf printing and the
server's `timings` object, summarised in research notes §2. Semantics that matter:

- a llama-bench row is one test (pp = prompt only, tg = generation only, pg = both); `avg_ns` is per *test*, not
  per token; `avg_ts` is the mean of per-repetition rates `1e9 * (n_prompt + n_gen) / samples_ns[i]` and
  `stddev_ts` their sample std. With `samples_ns` we recompute both and flag any disagreement.
- pp and tg rows of one configuration are joined into one report (prefill + decode); a pg rate mixes prompt and
  generated tokens, so it is kept as `combined_tokens_per_s`, never as a decode rate.
- CLI lines: "prompt eval" is prefill, "eval ... runs" is decode and usually counts generated - 1 tokens.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from hub.core.measurements.report import (
    DeviceInfo,
    LatencyStats,
    LLMRates,
    MeasurementReport,
    ModelInfo,
    Protocol,
    RuntimeInfo,
    Workload,
)
from loaders.formats.text import loads_json
from submissions.readers.measurements.base import (
    FLOAT,
    FormatSpec,
    ParseResult,
    Source,
    count_flag,
    json_float,
    json_object,
    json_opt_float,
    mean_and_sample_std,
    provenance,
    to_float,
)

BENCH_JSON = "llama-bench-json"
BENCH_JSONL = "llama-bench-jsonl"
BENCH_CSV = "llama-bench-csv"
PERF_LINES = "llama-cpp-perf-lines"
SERVER_TIMINGS = "llama-server-timings"

# per-test result fields; everything else in a row describes the configuration and is the join key
_RESULT_FIELDS = {
    "n_prompt", "n_gen", "test_time", "avg_ns", "stddev_ns", "avg_ts", "stddev_ts", "samples_ns", "samples_ts",
}  # fmt: skip
_INT_FIELDS = {
    "build_number", "model_size", "model_n_params", "n_batch", "n_ubatch", "n_threads", "n_gpu_layers", "main_gpu",
    "n_prompt", "n_gen", "n_depth", "avg_ns", "stddev_ns",
}  # fmt: skip
_FLOAT_FIELDS = {"avg_ts", "stddev_ts"}
_REQUIRED = ("n_prompt", "n_gen", "avg_ts")
_RATE_TOLERANCE = 1e-3  # relative; avg_ts is printed with ~6 significant digits


def _detect_row_keys(text: str) -> bool:
    return '"avg_ts"' in text and '"n_prompt"' in text


def detect_json(src: Source) -> bool:
    return src.text.lstrip().startswith("[") and _detect_row_keys(src.text)


def detect_jsonl(src: Source) -> bool:
    return src.text.lstrip().startswith("{") and _detect_row_keys(src.text) and '"timings"' not in src.text


def detect_csv(src: Source) -> bool:
    first = src.text.lstrip().split("\n", 1)[0]
    cells = {c.strip().strip('"') for c in first.split(",")}
    return {"avg_ts", "n_prompt", "n_gen"} <= cells


def _typed_csv_row(src: Source, number: int, row: dict[str, str]) -> dict[str, Any]:
    """CSV values are all quoted strings (booleans as "0"/"1"); give numbers back their types."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in _INT_FIELDS:
            out[key] = int(to_float(src, number, value, key))
        elif key in _FLOAT_FIELDS:
            out[key] = to_float(src, number, value, key)
        else:
            out[key] = value
    return out


def _test_name(row: dict[str, Any]) -> str:
    n_prompt, n_gen, depth = int(row["n_prompt"]), int(row["n_gen"]), int(row.get("n_depth") or 0)
    if n_gen == 0:
        name = f"pp{n_prompt}"
    elif n_prompt == 0:
        name = f"tg{n_gen}"
    else:
        name = f"pp{n_prompt}+tg{n_gen}"
    return name + (f" @ d{depth}" if depth else "")


def _rates(src: Source, row: dict[str, Any], where: str, flags: list[str]) -> tuple[float, float, list[float] | None]:
    """(mean rate, sample std, per-repetition rates) recomputed from samples_ns when present."""
    tokens = int(row["n_prompt"]) + int(row["n_gen"])
    samples = row.get("samples_ns")
    if samples is None:
        std = row.get("stddev_ts")
        return float(row["avg_ts"]), float(std) if std is not None else 0.0, None
    if not isinstance(samples, list) or not samples or not all(isinstance(s, int | float) and s > 0 for s in samples):
        raise src.error(None, f"{where}.samples_ns: expected a non-empty list of positive numbers")
    rates = [1e9 * tokens / float(s) for s in samples]
    mean, std = mean_and_sample_std(rates)
    reported = float(row["avg_ts"])
    if abs(mean - reported) > _RATE_TOLERANCE * max(reported, 1e-12):
        flags.append(f"avg_ts_differs_from_samples:{_test_name(row)}:{reported}->{mean:.6g}")
    return mean, std, rates


def _reports_from_rows(src: Source, fmt: str, rows: list[tuple[str, dict[str, Any]]]) -> ParseResult:
    """Group rows by configuration, join one pp and one tg row per group, one report each."""
    file_flags: list[str] = []
    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for where, row in rows:
        for key in _REQUIRED:
            if row.get(key) is None:
                raise src.error(None, f"{where}.{key}: missing")
        config = {k: v for k, v in row.items() if k not in _RESULT_FIELDS}
        groups.setdefault(json.dumps(config, sort_keys=True, default=str), []).append((where, row))
    reports: list[MeasurementReport] = []
    for members in groups.values():
        pp = [m for m in members if int(m[1]["n_gen"]) == 0]
        tg = [m for m in members if int(m[1]["n_prompt"]) == 0]
        joinable = len(pp) <= 1 and len(tg) <= 1 and len(pp) + len(tg) == len(members)
        batches = [members] if joinable else [[m] for m in members]
        if not joinable:
            file_flags.append("pp_tg_rows_not_joined_multiple_tests_per_config")
        reports.extend(_report(src, fmt, batch) for batch in batches)
    return ParseResult(format=fmt, source_file=src.display, sha256=src.sha256, reports=reports, flags=file_flags)


def _report(src: Source, fmt: str, batch: list[tuple[str, dict[str, Any]]]) -> MeasurementReport:
    flags: list[str] = []
    first = batch[0][1]
    llm: dict[str, Any] = {}
    workload: dict[str, int] = {}
    samples_present = True
    reps: int | None = None
    for where, row in batch:
        mean, std, rates = _rates(src, row, where, flags)
        samples_present &= rates is not None
        reps = len(rates) if rates is not None else reps
        n_prompt, n_gen = int(row["n_prompt"]), int(row["n_gen"])
        if n_gen == 0:
            llm.update(prefill_tokens_per_s=mean, prefill_tokens_per_s_std=std, prefill_samples_tokens_per_s=rates)
            workload["prompt_tokens"] = n_prompt
        elif n_prompt == 0:
            llm.update(decode_tokens_per_s=mean, decode_tokens_per_s_std=std, decode_samples_tokens_per_s=rates)
            workload["gen_tokens"] = n_gen
        else:
            flags.append("pg_test_rate_mixes_prompt_and_generated_tokens")
            llm.update(combined_tokens_per_s=mean, combined_tokens_per_s_std=std)
            workload.update(prompt_tokens=n_prompt, gen_tokens=n_gen)
    if not samples_present:
        flags.append("no_raw_samples_tool_rates_used")
    if isinstance(first.get("flash_attn"), bool):
        flags.append("flash_attn_legacy_bool")
    depth = first.get("n_depth")
    extra = {
        k: v if isinstance(v, str | int | float | bool) or v is None else json.dumps(v)
        for k, v in first.items()
        if k not in _RESULT_FIELDS
    }
    label = " + ".join(_test_name(row) for _, row in batch)
    build = f"{first.get('build_commit', '')} ({first.get('build_number', '')})".strip()
    return MeasurementReport(
        label=label,
        model=ModelInfo(
            model_id=str(first.get("model_filename", "")),
            format="gguf",
            precision=str(first.get("model_type", "")) or None,
            params_count=first.get("model_n_params"),
            size_bytes=first.get("model_size"),
        ),
        device=DeviceInfo(
            cpu=str(first.get("cpu_info", "")).strip() or None,
            accelerators=[g.strip() for g in str(first.get("gpu_info", "")).split(",") if g.strip()],
        ),
        runtime=RuntimeInfo(
            framework="llama.cpp",
            framework_version=build,
            build_id=str(first.get("build_commit", "")) or None,
            delegate_or_ep=str(first.get("backends", "")) or None,
            num_threads=first.get("n_threads"),
            cpu_affinity_mask=str(first.get("cpu_mask")) if first.get("cpu_mask") is not None else None,
            extra=extra,
        ),
        workload=Workload.model_validate(
            {"task": "llm", "context_depth_tokens": int(depth) if depth is not None else None, **workload}
        ),
        protocol=Protocol(tool="llama-bench", tool_version=build, warmup_runs=1, repetitions=reps),
        llm=LLMRates(
            rate_definition="mean_of_per_rep_rates",
            stats_source="computed_from_samples" if samples_present else "reported_by_tool",
            **llm,
        ),
        provenance=provenance(src, fmt, flags, original_text=label, rate="tokens/s", time="ns"),
        source_file=src.display,
    )


def parse_json(src: Source) -> ParseResult:
    data = src.json()
    if not isinstance(data, list) or not data:
        raise src.error(1, "llama-bench JSON output is a non-empty array of test objects")
    rows = [(f"[{i}]", json_object(src, row, f"[{i}]")) for i, row in enumerate(data)]
    return _reports_from_rows(src, BENCH_JSON, rows)


def parse_jsonl(src: Source) -> ParseResult:
    rows: list[tuple[str, dict[str, Any]]] = []
    for number, line in src.lines():
        if not line.strip():
            continue
        try:
            obj = loads_json(line)
        except json.JSONDecodeError as exc:
            raise src.error(number, f"invalid JSON line: {exc.msg} (column {exc.colno})") from exc
        rows.append((f"line {number}", json_object(src, obj, f"line {number}")))
    if not rows:
        raise src.error(None, "no llama-bench rows")
    return _reports_from_rows(src, BENCH_JSONL, rows)


def parse_csv(src: Source) -> ParseResult:
    reader = csv.DictReader(io.StringIO(src.text, newline=""))
    if reader.fieldnames is None or not set(_REQUIRED) <= set(reader.fieldnames):
        raise src.error(1, f"CSV header lacks llama-bench columns {list(_REQUIRED)}")
    rows: list[tuple[str, dict[str, Any]]] = []
    for row in reader:
        number = reader.line_num
        if None in row or any(v is None for v in row.values()):
            raise src.error(number, f"row has {len(row)} cells, header has {len(reader.fieldnames)}")
        rows.append((f"line {number}", _typed_csv_row(src, number, row)))
    if not rows:
        raise src.error(None, "no llama-bench rows after the header")
    result = _reports_from_rows(src, BENCH_CSV, rows)
    result.flags.append("csv_strings_converted_by_field_name")
    return result


# ---- CLI timing lines --------------------------------------------------------------------------------------------

_PERF_PREFIX = re.compile(r"(llama_perf_context_print|llama_perf_sampler_print|llama_print_timings):")
_PERF_LINE = re.compile(
    rf"(?P<what>prompt eval|eval|load|total|sample|sampling) time\s*=\s*(?P<ms>{FLOAT}) ms"
    rf"(?:\s*/\s*(?P<count>\d+) (?P<unit>tokens|runs))?"
)


def detect_perf(src: Source) -> bool:
    return bool(re.search(r"(llama_perf_context_print|llama_print_timings):\s+(prompt eval|eval) time", src.text))


def parse_perf(src: Source) -> ParseResult:
    """The last block of timing lines wins (multi-turn runs print one block per prompt)."""
    flags: list[str] = []
    blocks: list[dict[str, tuple[int, float, int | None, str]]] = [{}]
    ignored = 0
    for number, line in src.lines():
        if not _PERF_PREFIX.search(line):
            ignored += 1
            continue
        m = _PERF_LINE.search(line)
        if not m:
            raise src.error(number, "llama.cpp timing line not understood")
        what = m.group("what")
        if what in blocks[-1]:
            blocks.append({})
        count = int(m.group("count")) if m.group("count") else None
        ms = to_float(src, number, m.group("ms"), f"{what} time")
        blocks[-1][what] = (number, ms, count, line.strip())
    if len(blocks) > 1:
        flags.append(f"multiple_timing_blocks_last_taken:{len(blocks)}")
    block = blocks[-1]
    if "prompt eval" not in block and "eval" not in block:
        raise src.error(None, "no 'prompt eval time' or 'eval time' line in the last timing block")
    if any(line.lstrip().startswith("llama_print_timings") for _, _, _, line in block.values()):
        flags.append("legacy_llama_print_timings_prefix")
    count_flag(flags, "non_timing_lines_ignored", ignored)
    rates: dict[str, float] = {}
    workload: dict[str, int] = {}
    if "prompt eval" in block:
        number, ms, tokens, _ = block["prompt eval"]
        if not tokens or ms <= 0:
            raise src.error(number, "prompt eval line needs a token count and a positive time")
        rates["prefill_tokens_per_s"] = tokens / (ms / 1e3)
        workload["prompt_tokens"] = tokens
    if "eval" in block:
        number, ms, runs, _ = block["eval"]
        if not runs or ms <= 0:
            raise src.error(number, "eval line needs a run count and a positive time")
        rates["decode_tokens_per_s"] = runs / (ms / 1e3)
        rates["tpot_s"] = ms / 1e3 / runs
        workload["gen_tokens"] = runs
        flags.append("eval_runs_usually_exclude_first_token")
    load = block.get("load")
    return ParseResult(
        format=PERF_LINES,
        source_file=src.display,
        sha256=src.sha256,
        flags=flags,
        reports=[
            MeasurementReport(
                label="llama.cpp CLI timings",
                runtime=RuntimeInfo(framework="llama.cpp"),
                workload=Workload.model_validate({"task": "llm", **workload}),
                protocol=Protocol(tool="llama-cli"),
                llm=LLMRates.model_validate(
                    {"rate_definition": "tokens_over_total_time", "stats_source": "computed_from_samples", **rates}
                ),
                latency=LatencyStats(model_load_s=load[1] / 1e3, stats_source="reported_by_tool")
                if load is not None
                else None,
                provenance=provenance(
                    src, PERF_LINES, flags, original_text="\n".join(v[3] for v in block.values()), time="ms"
                ),
                source_file=src.display,
            )
        ],
    )


# ---- llama-server timings ----------------------------------------------------------------------------------------


def detect_server(src: Source) -> bool:
    return '"timings"' in src.text and '"predicted_ms"' in src.text


def parse_server(src: Source) -> ParseResult:
    """A saved server response (or the SSE stream: the last `data:` chunk with `timings` is used)."""
    flags: list[str] = []
    text = src.text.lstrip()
    timings: dict[str, Any] | None = None
    where = "timings"
    if text.startswith("{"):
        doc = json_object(src, src.json(), "$")
        timings = json_object(src, doc.get("timings"), "$.timings") if "timings" in doc else None
    else:
        for number, line in src.lines():
            if not line.startswith("data:") or "timings" not in line:
                continue
            try:
                chunk = loads_json(line[len("data:") :])
            except json.JSONDecodeError as exc:
                raise src.error(number, f"invalid SSE JSON chunk: {exc.msg}") from exc
            timings = json_object(src, json_object(src, chunk, f"line {number}").get("timings"), f"line {number}")
            where = f"line {number}.timings"
        flags.append("sse_last_chunk_with_timings_used")
    if timings is None:
        raise src.error(None, "no 'timings' object")
    prompt_n = json_float(src, timings, "prompt_n", where)
    prompt_ms = json_float(src, timings, "prompt_ms", where)
    predicted_n = json_float(src, timings, "predicted_n", where)
    predicted_ms = json_float(src, timings, "predicted_ms", where)
    if (json_opt_float(src, timings, "cache_n", where) or 0) > 0:
        flags.append("prompt_n_excludes_cached_tokens")
    if "draft_n" in timings:
        flags.append("speculative_decoding")
    rates: dict[str, float] = {}
    if prompt_n > 0 and prompt_ms > 0:
        rates["prefill_tokens_per_s"] = prompt_n / (prompt_ms / 1e3)
    if predicted_n > 0 and predicted_ms > 0:
        rates["decode_tokens_per_s"] = predicted_n / (predicted_ms / 1e3)
        rates["tpot_s"] = predicted_ms / 1e3 / predicted_n
    if not rates:
        raise src.error(None, f"{where}: no tokens with positive time")
    report = MeasurementReport(
        label="llama-server request",
        runtime=RuntimeInfo(framework="llama.cpp"),
        workload=Workload(task="llm", prompt_tokens=int(prompt_n), gen_tokens=int(predicted_n)),
        protocol=Protocol(tool="llama-server"),
        llm=LLMRates.model_validate(
            {"rate_definition": "tokens_over_total_time", "stats_source": "computed_from_samples", **rates}
        ),
        provenance=provenance(src, SERVER_TIMINGS, flags, original_text=json.dumps(timings), time="ms"),
        source_file=src.display,
    )
    return ParseResult(SERVER_TIMINGS, src.display, src.sha256, reports=[report], flags=flags)


SPECS = (
    FormatSpec(BENCH_JSON, "llama-bench -o json", detect_json, parse_json),
    FormatSpec(BENCH_JSONL, "llama-bench -o jsonl", detect_jsonl, parse_jsonl),
    FormatSpec(BENCH_CSV, "llama-bench -o csv", detect_csv, parse_csv),
    FormatSpec(PERF_LINES, "llama-cli/llama-completion llama_perf_* timing lines", detect_perf, parse_perf),
    FormatSpec(
        SERVER_TIMINGS, "llama-server response or SSE stream with a timings object", detect_server, parse_server
    ),
)
