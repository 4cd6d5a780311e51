"""llama-bench's machine-readable outputs: `-o json`, `-o jsonl`, `-o csv` and `-o sql`.

The printers (`json_printer`, `jsonl_printer`, `csv_printer`, `sql_printer` in `tools/llama-bench/llama-bench.cpp`,
formerly `examples/llama-bench/`) all print `test::get_fields()` and `test::get_values()`: JSON and JSONL typed, with
`samples_ns`/`samples_ts` added; CSV with every value double-quoted; SQL as `CREATE TABLE IF NOT EXISTS <table>`
(`test` in 2023 builds, `llama_bench` in current ones) then one `INSERT INTO ... VALUES ('v', ...);` per test,
every value single-quoted and not escaped. CSV and SQL have no samples, so their rates are the tool's. The rows
become reports in `llamacpp_rows`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from loaders.formats.text import loads_json
from submissions.measurements.base import FormatSpec, ParseResult, Source, Verified, count_flag, json_object
from submissions.measurements.llamacpp_rows import (
    REQUIRED,
    reports_from_rows,
    restore_missing_opencl,
    typed_row,
)

BENCH_JSON = "llama-bench-json"
BENCH_JSONL = "llama-bench-jsonl"
BENCH_CSV = "llama-bench-csv"
BENCH_SQL = "llama-bench-sql"

_OPENCL_RESTORED = "opencl_cell_without_header_column_restored"


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


def parse_json(src: Source) -> ParseResult:
    data = src.json()
    if not isinstance(data, list) or not data:
        raise src.error(1, "llama-bench JSON output is a non-empty array of test objects")
    rows = [(f"[{i}]", json_object(src, row, f"[{i}]")) for i, row in enumerate(data)]
    return reports_from_rows(src, BENCH_JSON, rows)


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
    return reports_from_rows(src, BENCH_JSONL, rows)


def _named_cells(src: Source, number: int, header: list[str], cells: list[str], flags: list[str]) -> dict[str, Any]:
    """One text row (CSV or SQL) under its header, typed; the b1275 example's extra opencl cell put back."""
    if len(cells) != len(header):
        fixed = restore_missing_opencl(header, cells)
        if fixed is None:
            raise src.error(number, f"row has {len(cells)} cells, header has {len(header)}")
        header = fixed
        if _OPENCL_RESTORED not in flags:
            flags.append(_OPENCL_RESTORED)
    return typed_row(src, number, dict(zip(header, cells, strict=True)))


def parse_csv(src: Source) -> ParseResult:
    reader = csv.reader(io.StringIO(src.text, newline=""))
    header = next(reader, None)
    if header is None or not set(REQUIRED) <= set(header):
        raise src.error(1, f"CSV header lacks llama-bench columns {list(REQUIRED)}")
    flags = ["csv_strings_converted_by_field_name"]
    rows: list[tuple[str, dict[str, Any]]] = []
    for cells in reader:
        if not cells:
            continue
        number = reader.line_num
        rows.append((f"line {number}", _named_cells(src, number, header, cells, flags)))
    if not rows:
        raise src.error(None, "no llama-bench rows after the header")
    return reports_from_rows(src, BENCH_CSV, rows, form_flags=flags)


# ---- SQL ---------------------------------------------------------------------------------------------------------

_CREATE = re.compile(r"^CREATE TABLE IF NOT EXISTS (?:test|llama_bench) \($")
_COLUMN = re.compile(r"^\s+\w+ (?:TEXT|INTEGER|REAL),?$")
_INSERT = re.compile(r"^INSERT INTO (?:test|llama_bench) \((?P<cols>[^)]*)\) VALUES \((?P<values>.*)\);\s*$")


def detect_sql(src: Source) -> bool:
    text = src.text
    inserts = re.search(r"^INSERT INTO (?:test|llama_bench) \(", text, re.M)
    return bool(inserts) and "avg_ts" in text and "n_prompt" in text and "n_gen" in text


def parse_sql(src: Source) -> ParseResult:
    """The INSERT statements; the CREATE TABLE block (printed once per run) is the tool's too, other lines are not."""
    flags = ["sql_strings_converted_by_field_name"]
    rows: list[tuple[str, dict[str, Any]]] = []
    in_create = False
    ignored = 0
    for number, line in src.lines():
        if _CREATE.match(line):
            in_create = True
        elif in_create:
            in_create = not line.startswith(");")
            if in_create and not _COLUMN.match(line):
                raise src.error(number, f"CREATE TABLE column not understood: {line!r}")
        elif m := _INSERT.match(line):
            header = [c.strip() for c in m.group("cols").split(",")]
            body = m.group("values")
            if len(body) < 2 or body[0] != "'" or body[-1] != "'":
                raise src.error(number, "llama-bench VALUES are single-quoted: ('v1', 'v2', ...)")
            cells = body[1:-1].split("', '")
            rows.append((f"line {number}", _named_cells(src, number, header, cells, flags)))
        elif line.startswith("INSERT INTO"):
            raise src.error(number, f"INSERT statement not understood: {line[:80]!r}")
        elif line.strip():
            ignored += 1
    if not rows:
        raise src.error(None, "no llama-bench INSERT statements")
    count_flag(flags, "non_sql_lines_ignored", ignored)
    return reports_from_rows(src, BENCH_SQL, rows, form_flags=flags)


_SOURCE = "tool source: ggml-org/llama.cpp@0104b151 tools/llama-bench/llama-bench.cpp"
_B1275 = "b1275 (3469684, Sept 2023)"
_REAL = "real log: toollogs/llamacpp/"

SPECS = (
    FormatSpec(
        BENCH_JSON,
        "llama-bench -o json",
        detect_json,
        parse_json,
        verified=(
            Verified(_B1275, "-o json (cuda/metal/gpu_blas/blas fields)", _REAL + "b1275_readme_llama-bench.json"),
            Verified(
                "b5606 (247e5c6e, June 2025)",
                "-o json (backends, n_depth)",
                _REAL + "brayniac_llm-performance_rtx4090_llama-bench.json",
            ),
            Verified("current (tools/llama-bench, 0104b151)", "-o json (json_printer)", _SOURCE + " json_printer"),
        ),
    ),
    FormatSpec(
        BENCH_JSONL,
        "llama-bench -o jsonl",
        detect_jsonl,
        parse_jsonl,
        verified=(
            Verified(_B1275, "-o jsonl", _REAL + "b1275_readme_llama-bench.jsonl"),
            Verified("current (tools/llama-bench, 0104b151)", "-o jsonl (jsonl_printer)", _SOURCE + " jsonl_printer"),
        ),
    ),
    FormatSpec(
        BENCH_CSV,
        "llama-bench -o csv",
        detect_csv,
        parse_csv,
        verified=(
            Verified(
                _B1275,
                "-o csv, 27 cells under a 26-name header (opencl cell kept, its name dropped)",
                _REAL + "b1275_readme_llama-bench.csv; the era's get_fields()/get_values() list opencl after cuda",
            ),
            Verified(
                "current (tools/llama-bench, 0104b151)",
                "-o csv (csv_printer, every value double-quoted)",
                _SOURCE + " csv_printer",
            ),
        ),
    ),
    FormatSpec(
        BENCH_SQL,
        "llama-bench -o sql",
        detect_sql,
        parse_sql,
        verified=(
            Verified(
                _B1275, "-o sql, table 'test', 27 values under 26 columns", _REAL + "b1275_readme_llama-bench.sql"
            ),
            Verified(
                "current (tools/llama-bench, 0104b151)",
                "-o sql, table 'llama_bench', values single-quoted",
                _SOURCE + " sql_printer; fixture tests/fixtures/runtime_log_forms.py llama_bench_sql",
            ),
        ),
    ),
)
