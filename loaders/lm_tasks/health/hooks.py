"""The Python side of the PMData lm-eval tasks: where the windows come from, the prompt, the number filter.

Data. Each task reads an export written by `mobench export pmdata-<item>`, whose folder the user names at run time
through lm-eval's task metadata, e.g. `--metadata '{"pmdata_stress_data": "/data/pmdata-stress-export"}'`
(`pmdata_readiness_data`, `pmdata_fatigue_data`, `pmdata_sleep_quality_data` for the others). The config and split
default to the ranked ones (`participant`, `test`); `"pmdata_config": "healthllm"` (or `within`, `all`) and
`"pmdata_split"` choose others. Metadata is recorded in the results JSON, so every run says what it read.

Prompt. Health-LLM's instruction and question of the window (kept verbatim in the export) wrapped in the medAlpaca
template its fine-tuning code uses (`loaders.health.windows.ALPACA_PROMPT`); the model continues after
`### Response:`. The answer Health-LLM trains on is "The predicted <item> level is <n>.".

Scoring. The generated text is read by `evaluators.readers.health.NUMBER_RULE` (`number_filter`), and lm-eval's
`exact_match` compares that number with the reported level; it is informational: mobench re-scores the raw
generations from the sample logs (MAE etc.).
"""

from __future__ import annotations

from typing import Any

import datasets

from evaluators.readers.health import parse_number
from hub.core.registry import HealthTask, get_benchmark
from loaders.health.splits import PARTICIPANT_CONFIG
from loaders.health.windows import alpaca_prompt
from loaders.lm_tasks.hooks import load_export


def load_docs(**kwargs: Any) -> datasets.DatasetDict:
    """lm-eval `custom_dataset` hook: the windows of the export named in the metadata (see the module docstring).

    lm-eval passes the run's metadata and the task's `dataset_kwargs` (`lm_task`: the lm-eval task name) as keywords.
    """
    task = str(kwargs["lm_task"])
    config = str(kwargs.get("pmdata_config") or PARTICIPANT_CONFIG)
    split = str(kwargs.get("pmdata_split") or "test")
    return datasets.DatasetDict({"test": load_export(kwargs, f"{task}_data", f"{task} task", config, split)})


def doc_to_text(doc: dict[str, Any]) -> str:
    """The medAlpaca prompt around the window's Health-LLM instruction and question."""
    return alpaca_prompt(str(doc["instruction"]), str(doc["question"]))


def number_filter(resps: list[list[str]], docs: list[dict[str, Any]]) -> list[list[str]]:
    """lm-eval `custom` filter: the number read by `evaluators.readers.health.NUMBER_RULE` ("" if none), as `%g`."""
    out = []
    for doc_resps, doc in zip(resps, docs, strict=True):
        task = get_benchmark(str(doc["task"])).task_as(HealthTask)  # each window names its benchmark
        values = [parse_number(text, task) for text in doc_resps]
        out.append(["" if value is None else f"{value:g}" for value in values])
    return out
