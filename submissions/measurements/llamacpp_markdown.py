"""llama-bench's default output: the markdown table (`-o md`).

`markdown_printer` in `tools/llama-bench/llama-bench.cpp` (formerly `examples/llama-bench/`) prints a header of
`model | size | params | backend | [ngl] | [the parameters that differ from the defaults] | test | t/s`, a separator
row, one row per test with `t/s` as `"%.2f ± %.2f"` (mean ± sample std of the per-repetition rates) and, at the end,
`build: <commit> (<number>)`. Parameters appear under short display names (`ngl`, `threads`, `fa`, `mmap`, ...),
mapped back here to the field names of the other outputs. Tests are `pp512`, `tg128`, `pp512+tg128`, `tg128 @ d512`
(with a space, `pp 512`, in 2023 builds). Model loading and backend logs often run between the header and the
rows (stderr into the same capture): lines that are not table rows are ignored and counted.

What the table cannot give: raw samples (the tool's rates are used, rounded to 2 decimals), the model's exact size
and parameter count (printed rounded in MiB/GiB and M/B: kept as text), the file name.
"""

from __future__ import annotations

import re
from typing import Any

from submissions.measurements.base import FLOAT, FormatSpec, ParseResult, Source, Verified, count_flag
from submissions.measurements.llamacpp_rows import reports_from_rows, typed_row

BENCH_MD = "llama-bench-md"

_HEADER = re.compile(r"^\s*\|\s*model\s*\|.*\|\s*test\s*\|\s*t/s\s*\|\s*$")
_SEPARATOR = re.compile(r"^\s*\|(\s*:?-+:?\s*\|)+\s*$")
_ROW = re.compile(r"^\s*\|.*\|\s*$")
_FOOTER = re.compile(r"^build: (?P<commit>\S+) \((?P<number>\d+)\)\s*$")
_TEST = re.compile(r"^(?:pp ?(?P<pp>\d+))?(?P<plus>\+)?(?:tg ?(?P<tg>\d+))?(?: @ d(?P<depth>\d+))?$")
_RATE = re.compile(rf"^(?P<avg>{FLOAT})(?:\s*(?:±|\+/-|\+-)\s*(?P<std>{FLOAT}))?$")

# markdown display name -> field name of the other outputs (markdown_printer::get_field_display_name, all versions)
_FIELD = {
    "model": "model_type",
    "backend": "backends",
    "ngl": "n_gpu_layers",
    "threads": "n_threads",
    "sm": "split_mode",
    "nkvo": "no_kv_offload",
    "fa": "flash_attn",
    "lm": "load_mode",
    "embd": "embeddings",
    "nopo": "no_op_offload",
    "noh": "no_host",
    "dev": "devices",
    "ts": "tensor_split",
    "ot": "tensor_buft_overrides",
    "fitt": "fit_target",
    "fitc": "fit_min_ctx",
    "mmap": "use_mmap",
    "mmq": "mul_mat_q",
}


def detect(src: Source) -> bool:
    return any(_HEADER.match(line) for line in src.text.splitlines())


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _test_shape(src: Source, number: int, text: str) -> dict[str, int]:
    m = _TEST.match(text)
    pp, tg = (m.group("pp"), m.group("tg")) if m else (None, None)
    joined = pp is not None and tg is not None
    if m is None or (pp is None and tg is None) or joined != (m.group("plus") is not None):
        raise src.error(number, f"llama-bench test {text!r} is not ppN, tgN, ppN+tgM (with an optional ' @ dD')")
    return {"n_prompt": int(pp or 0), "n_gen": int(tg or 0), "n_depth": int(m.group("depth") or 0)}


def _row(src: Source, number: int, header: list[str], cells: list[str]) -> dict[str, Any]:
    if len(cells) != len(header):
        raise src.error(number, f"markdown row has {len(cells)} cells, header has {len(header)}")
    text: dict[str, str] = {}
    shape: dict[str, int] = {}
    for name, value in zip(header, cells, strict=True):
        if name == "test":
            shape = _test_shape(src, number, value)
        elif name == "t/s":
            m = _RATE.match(value)
            if m is None:
                raise src.error(number, f"t/s {value!r} is not 'mean ± std'")
            text["avg_ts"] = m.group("avg")
            if m.group("std") is not None:
                text["stddev_ts"] = m.group("std")
        else:
            text[_FIELD.get(name, name)] = value
    return {**typed_row(src, number, text), **shape}


def parse(src: Source) -> ParseResult:
    """Every table in the file (a capture may hold several runs); the build footer belongs to the table above it."""
    rows: list[tuple[str, dict[str, Any]]] = []
    header: list[str] | None = None
    table: list[tuple[str, dict[str, Any]]] = []
    flags = ["md_rates_rounded_to_2_decimals", "md_size_and_params_rounded_kept_as_text"]
    ignored = 0
    unbuilt = 0

    def close_table() -> None:
        nonlocal unbuilt
        unbuilt += bool(table) and "build_commit" not in table[0][1]
        rows.extend(table)
        table.clear()

    for number, line in src.lines():
        if _HEADER.match(line):
            close_table()
            header = _cells(line)
        elif header is not None and _SEPARATOR.match(line):
            continue
        elif header is not None and _ROW.match(line):
            table.append((f"line {number}", _row(src, number, header, _cells(line))))
        elif (m := _FOOTER.match(line)) and table:
            for _, row in table:
                row.update(build_commit=m.group("commit"), build_number=int(m.group("number")))
            close_table()
            header = None
        elif line.strip():
            ignored += 1
    close_table()
    if not rows:
        raise src.error(None, "a llama-bench markdown header but no result rows under it")
    count_flag(flags, "md_tables_without_build_footer", unbuilt)
    count_flag(flags, "non_table_lines_ignored", ignored)
    return reports_from_rows(src, BENCH_MD, rows, form_flags=flags)


SPECS = (
    FormatSpec(
        BENCH_MD,
        "llama-bench markdown table (the default output, -o md)",
        detect,
        parse,
        verified=(
            Verified(
                "b6733 (6a8cf8914, Oct 2025)",
                "md table after ggml-hex logs, HTP backend, n_batch and mmap columns",
                "real log: toollogs/llamacpp/snapdragon_htp_v79_llama-bench.md",
            ),
            Verified(
                "current (tools/llama-bench, 0104b151); 2023 builds ('pp 512' test labels)",
                "md table: display names, pp/tg/pp+tg/@ d tests, 'mean ± std', build footer",
                "tool source: ggml-org/llama.cpp@0104b151 tools/llama-bench/llama-bench.cpp markdown_printer; "
                "fixture tests/fixtures/runtime_log_forms.py llama_bench_markdown",
            ),
        ),
    ),
)
