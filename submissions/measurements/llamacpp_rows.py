"""llama-bench result rows, whatever output form they came in, turned into reports.

Every `llama-bench` output (`-o json|jsonl|csv|sql|md`) prints the same rows: one per test, the configuration
fields first, then the test shape and the result (`test::get_fields()` in `tools/llama-bench/llama-bench.cpp`,
formerly `examples/llama-bench/`; research notes §2.1). The readers of each form (`llamacpp_bench.py`,
`llamacpp_markdown.py`) give this module rows as dicts; it checks them, recomputes the rates from `samples_ns` where
the form has them, and joins the pp and tg rows of one configuration into one report. Semantics that matter:

- a row is one test (pp = prompt only, tg = generation only, pg = both); `avg_ns` is per *test*, not per token;
  `avg_ts` is the mean of per-repetition rates `1e9 * (n_prompt + n_gen) / samples_ns[i]` and `stddev_ts` their
  sample std. With `samples_ns` both are recomputed and any disagreement is flagged.
- pp and tg rows of one configuration are joined into one report (prefill + decode); a pg rate mixes prompt and
  generated tokens, so it is kept as `combined_tokens_per_s`, never as a decode rate.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hub.core.measurements.report import (
    DeviceInfo,
    LLMRates,
    MeasurementReport,
    ModelInfo,
    Protocol,
    RuntimeInfo,
    Workload,
)
from submissions.measurements.base import ParseResult, Source, mean_and_sample_std, provenance, to_float

# per-test result fields; everything else in a row describes the configuration and is the join key
RESULT_FIELDS = {
    "n_prompt", "n_gen", "test_time", "avg_ns", "stddev_ns", "avg_ts", "stddev_ts", "samples_ns", "samples_ts",
}  # fmt: skip
# the fields llama-bench types INT (`test::get_field_type`), over its versions
INT_FIELDS = {
    "build_number", "model_size", "model_n_params", "n_batch", "n_ubatch", "n_threads", "n_gpu_layers", "main_gpu",
    "n_prompt", "n_gen", "n_depth", "avg_ns", "stddev_ns", "poll", "n_cpu_moe",
}  # fmt: skip
FLOAT_FIELDS = {"avg_ts", "stddev_ts"}
REQUIRED = ("n_prompt", "n_gen", "avg_ts")
_RATE_TOLERANCE = 1e-3  # relative; avg_ts is printed with ~6 significant digits


def typed_row(src: Source, number: int, row: dict[str, str]) -> dict[str, Any]:
    """Text forms (CSV, SQL, markdown) print every value as a string (booleans "0"/"1"): give numbers their types."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in INT_FIELDS:
            out[key] = int(to_float(src, number, value, key))
        elif key in FLOAT_FIELDS:
            out[key] = to_float(src, number, value, key)
        else:
            out[key] = value
    return out


def restore_missing_opencl(header: list[str], cells: list[str]) -> list[str] | None:
    """The header with `opencl` put back, when these cells are a row of the Sept 2023 (b1275) example whose header
    lost that column; None for any other mismatch.

    llama-bench of that era listed `cuda, opencl, metal, gpu_blas, blas` in both `get_fields()` and `get_values()`.
    The example output in its README (b1275) dropped `opencl` from the CSV header, the SQL column list and the JSON
    objects but kept its value in the CSV and SQL rows: 27 cells under 26 names, `"1","0","0","1","1"` after the
    build number being cuda=1, opencl=0, metal=0, gpu_blas=1, blas=1 (the JSON of the same run says cuda, gpu_blas
    and blas true, metal false). So the one extra cell is the boolean right after `cuda`, and only then.
    """
    if len(cells) != len(header) + 1 or "opencl" in header or "cuda" not in header:
        return None
    at = header.index("cuda") + 1
    if at >= len(header) or header[at] != "metal" or cells[at] not in {"0", "1"}:
        return None
    return [*header[:at], "opencl", *header[at:]]


def bench_test_name(row: dict[str, Any]) -> str:
    """The test as llama-bench's markdown names it: pp512, tg128, pp512+tg128, with ' @ d<depth>'."""
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
        flags.append(f"avg_ts_differs_from_samples:{bench_test_name(row)}:{reported}->{mean:.6g}")
    return mean, std, rates


def reports_from_rows(
    src: Source, fmt: str, rows: list[tuple[str, dict[str, Any]]], *, form_flags: Sequence[str] = ()
) -> ParseResult:
    """Group rows by configuration, join one pp and one tg row per group, one report each.

    `form_flags` say what the output form itself implies (values converted from text, rounded rates...): they go on
    the file and on every report.
    """
    flags = list(form_flags)
    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for where, row in rows:
        for key in REQUIRED:
            if row.get(key) is None:
                raise src.error(None, f"{where}.{key}: missing")
        config = {k: v for k, v in row.items() if k not in RESULT_FIELDS}
        groups.setdefault(json.dumps(config, sort_keys=True, default=str), []).append((where, row))
    reports: list[MeasurementReport] = []
    for members in groups.values():
        pp = [m for m in members if int(m[1]["n_gen"]) == 0]
        tg = [m for m in members if int(m[1]["n_prompt"]) == 0 and int(m[1]["n_gen"]) != 0]
        pg = [[m] for m in members if int(m[1]["n_prompt"]) and int(m[1]["n_gen"])]  # pg tests stand alone
        joinable = len(pp) <= 1 and len(tg) <= 1
        batches = ([pp + tg] if pp + tg else []) if joinable else [[m] for m in pp + tg]
        batches += pg
        if not joinable:
            flags.append("pp_tg_rows_not_joined_multiple_tests_per_config")
        reports.extend(_report(src, fmt, batch, form_flags) for batch in batches)
    return ParseResult(format=fmt, source_file=src.display, sha256=src.sha256, reports=reports, flags=flags)


def _report(
    src: Source, fmt: str, batch: list[tuple[str, dict[str, Any]]], form_flags: Sequence[str]
) -> MeasurementReport:
    flags = list(form_flags)
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
        if k not in RESULT_FIELDS
    }
    label = " + ".join(bench_test_name(row) for _, row in batch)
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
