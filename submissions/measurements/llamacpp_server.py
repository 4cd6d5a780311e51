"""llama-server's `timings` object: a saved `/completion` response, or the SSE stream of one.

`server_task_result` in `tools/server/` puts `{"cache_n", "prompt_n", "prompt_ms", "prompt_per_token_ms",
"prompt_per_second", "predicted_n", "predicted_ms", "predicted_per_token_ms", "predicted_per_second"}` (ms) in the
final response and in the last SSE chunk; speculative decoding adds `draft_n` and `draft_n_accepted`; `prompt_n`
excludes the cached tokens `cache_n` (research notes §2.2).
"""

from __future__ import annotations

import json
from typing import Any

from hub.core.measurements.report import LLMRates, MeasurementReport, Protocol, RuntimeInfo, Workload
from loaders.formats.text import loads_json
from submissions.measurements.base import (
    FormatSpec,
    ParseResult,
    Source,
    Verified,
    json_float,
    json_object,
    json_opt_float,
    provenance,
)

SERVER_TIMINGS = "llama-server-timings"


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
    FormatSpec(
        SERVER_TIMINGS,
        "llama-server response or SSE stream with a timings object",
        detect_server,
        parse_server,
        verified=(
            Verified(
                "not pinned (field list of research notes §2.2)",
                "saved response with a timings object",
                "fixture tests/fixtures/measurement_logs.py llama_server_response (no real log in the corpus)",
            ),
        ),
    ),
)
