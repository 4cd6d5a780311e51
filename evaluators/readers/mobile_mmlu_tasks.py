"""What mobench's Mobile-MMLU lm-eval task names mean, and the option rotations of the `*_perm` tasks.

Shared by the lm-eval task package (which builds the rotated docs) and the log reader (which maps a logged pick
back to the original option), so the two can never disagree on a rotation. Rotation k shows original option
(p + k) mod 4 at displayed position p: rotation 0 is the official order and each option visits every letter once.
"""

from __future__ import annotations

from dataclasses import dataclass

from loaders.mobile_mmlu import FIELDS, OPTION_LETTERS

N_OPTIONS = len(OPTION_LETTERS)
ROTATIONS = tuple(range(N_OPTIONS))

# benchmark id -> the prefix of its lm-eval task names and metadata keys
SUBSETS: dict[str, str] = {"mobile-mmlu": "mobile_mmlu", "mobile-mmlu-pro": "mobile_mmlu_pro"}


@dataclass(frozen=True)
class TaskInfo:
    """What a task name means: which release, generative or log-likelihood, rotated or not, which field."""

    name: str
    subset: str
    generative: bool
    permuted: bool
    field: str | None = None


def task_table(subset: str) -> dict[str, TaskInfo]:
    """Every task mobench ships for `subset` (`mobile_mmlu` or `mobile_mmlu_pro`), by name."""
    table = {
        f"{subset}{gen}{perm}": TaskInfo(f"{subset}{gen}{perm}", subset, bool(gen), bool(perm))
        for gen in ("", "_gen")
        for perm in ("", "_perm")
    }
    if subset == SUBSETS["mobile-mmlu"]:
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
