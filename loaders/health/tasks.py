"""Every health task mobench registers: what is predicted, on which scale, and how it is scored.

Ranges and wording follow Health-LLM's `gen_dataset.py` (Kim et al. 2024): readiness 0-10; stress, fatigue and
sleep quality 1-5 (PMSys Likert items; the direction of the scales is not documented in the release, so they are
treated as ordinal and never interpreted); the LifeSnaps stress resilience index (PANAS positive / negative affect)
0.2-5; LifeSnaps sleep disorder 0/1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TaskKind = Literal["ordinal", "regression", "binary"]


@dataclass(frozen=True)
class HealthTask:
    benchmark_id: str
    dataset: Literal["pmdata", "lifesnaps"]
    name: str  # Health-LLM's SUBTASK name, used verbatim in its prompts
    low: float
    high: float
    kind: TaskKind
    lm_task: str | None = None  # the lm-eval task mobench ships for it

    @property
    def classes(self) -> tuple[int, ...]:
        """The label values of a classification task (empty for numeric targets)."""
        return (0, 1) if self.kind == "binary" else ()


PMDATA_ITEMS: tuple[str, ...] = ("stress", "readiness", "fatigue", "sleep_quality")

TASKS: dict[str, HealthTask] = {
    "pmdata-stress": HealthTask("pmdata-stress", "pmdata", "stress", 1, 5, "ordinal", "pmdata_stress"),
    "pmdata-readiness": HealthTask("pmdata-readiness", "pmdata", "readiness", 0, 10, "ordinal", "pmdata_readiness"),
    "pmdata-fatigue": HealthTask("pmdata-fatigue", "pmdata", "fatigue", 1, 5, "ordinal", "pmdata_fatigue"),
    "pmdata-sleep-quality": HealthTask(
        "pmdata-sleep-quality", "pmdata", "sleep_quality", 1, 5, "ordinal", "pmdata_sleep_quality"
    ),
    "lifesnaps-stress-resilience": HealthTask(
        "lifesnaps-stress-resilience", "lifesnaps", "stress_resilience", 0.2, 5, "regression"
    ),
    "lifesnaps-sleep-disorder": HealthTask("lifesnaps-sleep-disorder", "lifesnaps", "sleep_disorder", 0, 1, "binary"),
    "lifesnaps-sleep-disorder-leakfree": HealthTask(
        "lifesnaps-sleep-disorder-leakfree", "lifesnaps", "sleep_disorder", 0, 1, "binary"
    ),
}


def task_for(benchmark_id: str) -> HealthTask:
    return TASKS[benchmark_id]


def pmdata_task(item: str) -> HealthTask:
    """The PMData task predicting wellness item `item` (one of `PMDATA_ITEMS`)."""
    for task in TASKS.values():
        if task.dataset == "pmdata" and task.name == item:
            return task
    raise KeyError(f"no PMData task for item {item!r}; items: {', '.join(PMDATA_ITEMS)}")
