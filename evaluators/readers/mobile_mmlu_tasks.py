"""What mobench's Mobile-MMLU lm-eval task names mean, and the option rotations of the `*_perm` tasks.

A benchmark's task names start with its spec's `task.lm_eval_prefix` (`hub.core.registry.MultipleChoiceTask`),
which also says whether per-field tasks ship.

Shared by the lm-eval task package (which builds the rotated docs) and the log reader (which maps a logged pick
back to the original option), so the two can never disagree on a rotation. Rotation k shows original option
(p + k) mod 4 at displayed position p: rotation 0 is the official order and each option visits every letter once.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.core.errors import MobenchError
from hub.core.registry import MultipleChoiceTask, all_benchmarks
from loaders.mobile_mmlu import FIELDS, OPTION_LETTERS

N_OPTIONS = len(OPTION_LETTERS)
ROTATIONS = tuple(range(N_OPTIONS))


@dataclass(frozen=True)
class TaskInfo:
    """What a task name means: which release, generative or log-likelihood, rotated or not, which field."""

    name: str
    subset: str
    generative: bool
    permuted: bool
    field: str | None = None


def registered_task(subset: str) -> MultipleChoiceTask:
    """The multiple-choice task of the registry whose lm-eval task names start with `subset`."""
    tasks = {s.task.lm_eval_prefix: s.task for s in all_benchmarks() if isinstance(s.task, MultipleChoiceTask)}
    try:
        return tasks[subset]
    except KeyError:
        raise MobenchError(f"no benchmark runs lm-eval tasks named {subset}*; known: {', '.join(tasks)}") from None


def task_table(subset: str) -> dict[str, TaskInfo]:
    """Every task mobench ships for `subset` (a multiple-choice spec's `task.lm_eval_prefix`), by name."""
    table = {
        f"{subset}{gen}{perm}": TaskInfo(f"{subset}{gen}{perm}", subset, bool(gen), bool(perm))
        for gen in ("", "_gen")
        for perm in ("", "_perm")
    }
    if registered_task(subset).per_field_tasks:
        for field in FIELDS:
            name = f"{subset}_{field}"
            table[name] = TaskInfo(name, subset, generative=False, permuted=False, field=field)
    return table


def displayed_to_original(displayed: int, rotation: int) -> int:
    """The original option index shown at displayed position `displayed` under `rotation`."""
    return (displayed + rotation) % N_OPTIONS


def original_to_displayed(original: int, rotation: int) -> int:
    """Where original option `original` is shown under `rotation` (inverse of `displayed_to_original`)."""
    return (original - rotation) % N_OPTIONS
