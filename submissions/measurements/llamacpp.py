"""llama.cpp: which module reads which of its outputs (detect.py registers them through `SPECS`).

- `llamacpp_bench`: llama-bench `-o json`, `-o jsonl`, `-o csv`, `-o sql`;
- `llamacpp_markdown`: llama-bench's default markdown table;
- `llamacpp_rows`: what those share, llama-bench rows turned into (prefill + decode) reports;
- `llamacpp_perf`: the `llama_perf_*` / `llama_print_timings` / `common_perf_print` lines of llama-cli and
  llama-completion;
- `llamacpp_server`: llama-server's `timings` object.
"""

from __future__ import annotations

from submissions.measurements import llamacpp_bench, llamacpp_markdown, llamacpp_perf, llamacpp_server
from submissions.measurements.base import FormatSpec

SPECS: tuple[FormatSpec, ...] = (
    *llamacpp_bench.SPECS,
    *llamacpp_markdown.SPECS,
    *llamacpp_perf.SPECS,
    *llamacpp_server.SPECS,
)
