"""llama.cpp's timing lines at the end of a llama-cli / llama-completion / main run.

Printers: `llama_perf_context_print` and `llama_perf_sampler_print` (`src/llama-context.cpp`, since ~Sept 2024),
`common_perf_print` (`common/sampling.cpp`, newest builds), `llama_print_timings` (before Sept 2024, with a
`sample time` line), all `"%s: <key> = %10.2f ms[ / %5d tokens|runs (...)]"` with the function name as prefix
(research notes §2.2). Newer builds add lines under the same prefixes: `graphs reused = %10d`, `unaccounted time`,
`samplers time`; `llama_memory_breakdown_print` follows with a table of MiB per device.

- "prompt eval" is prefill, "eval ... runs" is decode and usually counts generated - 1 tokens;
- a line under a known prefix whose key is one of the timings above and does not parse is an error; any other key
  is kept as read in the result's extras (a new key is flagged), never a reason to refuse the file;
- multi-turn runs print one block per prompt: the last block is taken.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from hub.core.measurements.report import LatencyStats, LLMRates, MeasurementReport, Protocol, RuntimeInfo, Workload
from submissions.measurements.base import (
    FLOAT,
    FormatSpec,
    ParseResult,
    Source,
    Verified,
    count_flag,
    provenance,
    to_duration,
)

PERF_LINES = "llama-cpp-perf-lines"

_PREFIX = re.compile(
    r"\b(?P<prefix>llama_perf_context_print|llama_perf_sampler_print|llama_print_timings|common_perf_print):"
    r"\s*(?P<body>.*?)\s*$"
)
_KEY = re.compile(r"^(?P<key>[A-Za-z][A-Za-z ]*?)\s*=\s*(?P<rest>.*)$")
_TIMED = re.compile(rf"^(?P<ms>{FLOAT}) ms(?:\s*/\s*(?P<count>\d+) (?P<unit>tokens|runs))?(?:\s|\(|$)")
_NUMBER = re.compile(rf"^{FLOAT}$")
_MEMORY = re.compile(r"\b\w*memory_breakdown_print:\s*\|\s*(?P<name>[^|]*?)\s*\|\s*(?P<cells>[^|]*?)\s*\|\s*$")
# the timing lines mobench reads figures from: one that does not parse is an error
_TIMINGS = {"load time", "prompt eval time", "eval time", "total time", "sample time", "sampling time", "samplers time"}
# other keys the printers of the versions above are known to print (kept as extras, not flagged)
_KNOWN_EXTRAS = {"graphs reused", "unaccounted time"}


class _Entry(NamedTuple):
    line: int
    text: str
    prefix: str
    ms: float | None  # the timings only
    n: int | None  # tokens or runs, where the line has them
    value: str | int | float  # as read, for the extras


def detect(src: Source) -> bool:
    return bool(
        re.search(
            r"(llama_perf_context_print|llama_print_timings|common_perf_print):\s+(prompt eval|eval) time", src.text
        )
    )


def _value(rest: str) -> str | int | float:
    """An extra as read: a number when it is one, else the text with its spacing folded."""
    if _NUMBER.match(rest):
        number = float(rest)
        return int(number) if number.is_integer() and "." not in rest else number
    return " ".join(rest.split())


def _read_blocks(src: Source) -> tuple[list[dict[str, _Entry]], dict[str, str], list[str], int]:
    """The timing blocks (a repeated key starts the next), the memory breakdown rows, new keys, ignored lines."""
    blocks: list[dict[str, _Entry]] = [{}]
    memory: dict[str, str] = {}
    new_keys: list[str] = []
    ignored = 0
    for number, line in src.lines():
        if m := _MEMORY.search(line):
            memory[m.group("name")] = " ".join(m.group("cells").split())
            continue
        prefix = _PREFIX.search(line)
        if not prefix:
            ignored += 1
            continue
        key_match = _KEY.match(prefix.group("body"))
        if key_match is None:
            new_keys.append(f"line {number}")
            continue
        key, rest = key_match.group("key").strip(), key_match.group("rest").strip()
        ms: float | None = None
        count: int | None = None
        if key in _TIMINGS:
            timed = _TIMED.match(rest)
            if timed is None:
                raise src.error(number, f"llama.cpp timing line not understood: {line.strip()!r}")
            ms = to_duration(src, number, timed.group("ms"), key, line)
            count = int(timed.group("count")) if timed.group("count") else None
        elif key not in _KNOWN_EXTRAS:
            new_keys.append(key)
        if key in blocks[-1]:
            blocks.append({})
        blocks[-1][key] = _Entry(number, line.strip(), prefix.group("prefix"), ms, count, _value(rest))
    return blocks, memory, new_keys, ignored


def parse(src: Source) -> ParseResult:
    blocks, memory, new_keys, ignored = _read_blocks(src)
    flags: list[str] = []
    if len(blocks) > 1:
        flags.append(f"multiple_timing_blocks_last_taken:{len(blocks)}")
    block = blocks[-1]
    if "prompt eval time" not in block and "eval time" not in block:
        raise src.error(None, "no 'prompt eval time' or 'eval time' line in the last timing block")
    if any(entry.prefix == "llama_print_timings" for entry in block.values()):
        flags.append("legacy_llama_print_timings_prefix")
    if new_keys:
        flags.append("unknown_timing_keys_kept_as_extras:" + ",".join(new_keys))
    count_flag(flags, "non_timing_lines_ignored", ignored)
    rates: dict[str, float] = {}
    workload: dict[str, int] = {}
    if "prompt eval time" in block:
        number, _, _, ms, tokens, _ = block["prompt eval time"]
        if not tokens or not ms:
            raise src.error(number, "prompt eval line needs a token count and a positive time")
        rates["prefill_tokens_per_s"] = tokens / (ms / 1e3)
        workload["prompt_tokens"] = tokens
    if "eval time" in block:
        number, _, _, ms, runs, _ = block["eval time"]
        if not runs or not ms:
            raise src.error(number, "eval line needs a run count and a positive time")
        rates["decode_tokens_per_s"] = runs / (ms / 1e3)
        rates["tpot_s"] = ms / 1e3 / runs
        workload["gen_tokens"] = runs
        flags.append("eval_runs_usually_exclude_first_token")
    extras: dict[str, str | int | float | bool | None] = {}
    for key, entry in block.items():
        if key not in {"prompt eval time", "eval time", "load time"}:
            extras[f"{entry.prefix}.{key}"] = entry.value
    for name, cells in memory.items():
        extras[f"llama_memory_breakdown_print.{name}"] = cells
    load = block.get("load time")
    report = MeasurementReport(
        label="llama.cpp CLI timings",
        runtime=RuntimeInfo(framework="llama.cpp"),
        workload=Workload.model_validate({"task": "llm", **workload}),
        protocol=Protocol(tool="llama-cli"),
        llm=LLMRates.model_validate(
            {"rate_definition": "tokens_over_total_time", "stats_source": "computed_from_samples", **rates}
        ),
        latency=LatencyStats(model_load_s=load.ms / 1e3, stats_source="reported_by_tool")
        if load is not None and load.ms is not None
        else None,
        provenance=provenance(
            src, PERF_LINES, flags, original_text="\n".join(v.text for v in block.values()), time="ms"
        ),
        source_file=src.display,
    )
    return ParseResult(PERF_LINES, src.display, src.sha256, reports=[report], flags=flags, extras=extras)


SPECS = (
    FormatSpec(
        PERF_LINES,
        "llama-cli/llama-completion llama_perf_* timing lines",
        detect,
        parse,
        verified=(
            Verified(
                "~b6733 (Oct 2025)",
                "llama_perf_sampler/context_print block with 'graphs reused', then llama_memory_breakdown_print",
                "real log: toollogs/llamacpp/snapdragon_htp_v79_llama-completion_perf.txt",
            ),
            Verified(
                "Dec 2024",
                "llama_perf_sampler_print + llama_perf_context_print (5 lines)",
                "real log: toollogs/llamacpp/orangepi3b_rk3566_llama-cli_perf.txt",
            ),
            Verified(
                "b938 (c574bdd, 2023)",
                "legacy llama_print_timings with 'sample time'",
                "real log: toollogs/llamacpp/ggml-ci_arm64_b938_q4_0_main_print_timings.txt",
            ),
            Verified(
                "current (common_perf_print, 3b3f5fed)",
                "common_perf_print: sampling/samplers/unaccounted time, graphs reused",
                "tool source: ggml-org/llama.cpp@3b3f5fed common/sampling.cpp common_perf_print, src/llama-context.cpp "
                "llama_perf_context_print; fixture tests/fixtures/runtime_log_forms.py llama_common_perf_print",
            ),
        ),
    ),
)
