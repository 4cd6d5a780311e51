"""Which windows each config and split holds: participant-disjoint, Health-LLM's own, within-participant, all.

Configs (each a train/test pair, because `datasets` split names cannot hold a `-`):

- `participant` (the default, for ranking): participants, not windows, are split. The sorted participant folders
  are shuffled with `random.Random(PARTICIPANT_SPLIT_SEED)` and the first `max(1, round(n / 4))` are test, the
  rest train, so nobody is on both sides. The split depends only on which participants the release holds, so the
  four PMData tasks share it.
- `healthllm`: Health-LLM's split (`gen_dataset.py`), for comparison with published numbers: its list of windows
  (see `windows.healthllm_candidates`) is shuffled after `random.seed(123)`, the first `int(N * 0.5)` are train,
  the rest eval, of which only the first 299 are kept (`eval_idx` starts at 1 and stops below 300). It is a
  sample-level split: a person's days fall on both sides (research trap 17). For LifeSnaps sleep disorder the
  original also caps train at 13 and eval at 25 windows per class; those caps are reproduced.
- `within`: personalisation. Each participant's windows sorted by report time; the last `ceil(n / 5)` (20 %,
  rounded up so every participant with a window is tested) are test, the earlier ones train.
- `all`: every window, as the single split `test` (zero-shot models need no training data).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from hub.core.errors import DatasetLayoutError
from loaders.health.schema import LoadReport

PARTICIPANT_CONFIG = "participant"
HEALTHLLM_CONFIG = "healthllm"
WITHIN_CONFIG = "within"
ALL_CONFIG = "all"
CONFIG_SPLITS: dict[str, tuple[str, ...]] = {
    PARTICIPANT_CONFIG: ("test", "train"),
    HEALTHLLM_CONFIG: ("test", "train"),
    WITHIN_CONFIG: ("test", "train"),
    ALL_CONFIG: ("test",),
}

PARTICIPANT_SPLIT_SEED = 2024
PARTICIPANT_TEST_FRACTION = 0.25
WITHIN_TEST_FRACTION = 0.2
HEALTHLLM_SEED = 123
HEALTHLLM_EVAL_CAP = 299


@dataclass(frozen=True)
class WindowKey:
    """What the split rules need to know about a window."""

    id: str
    participant: str
    time_utc: datetime


def participant_test_set(participants: Sequence[str]) -> set[str]:
    """The test participants of the `participant` config (see the module docstring)."""
    order = sorted(participants)
    random.Random(PARTICIPANT_SPLIT_SEED).shuffle(order)
    n_test = max(1, round(len(order) * PARTICIPANT_TEST_FRACTION)) if order else 0
    return set(order[:n_test])


def healthllm_split(
    candidates: Sequence[str],
    classes: Mapping[str, Hashable] | None = None,
    *,
    train_cap_per_class: int = 0,
    eval_cap_per_class: int = 0,
) -> tuple[list[str], list[str]]:
    """Health-LLM's (train, eval) ids from its ordered window list (see the module docstring).

    With `classes` (window id -> label) the per-class caps of its sleep-disorder task apply instead of the 299 cap.
    """
    shuffled = list(candidates)
    random.Random(HEALTHLLM_SEED).shuffle(shuffled)
    half = int(len(shuffled) * 0.5)
    train: list[str] = []
    evaluation: list[str] = []
    if classes is None:
        train = shuffled[:half]
        evaluation = shuffled[half:][:HEALTHLLM_EVAL_CAP]
        return train, evaluation
    n_train: dict[Hashable, int] = defaultdict(int)
    n_eval: dict[Hashable, int] = defaultdict(int)
    for index, window_id in enumerate(shuffled):
        label = classes[window_id]
        if index < half and n_train[label] < train_cap_per_class:
            train.append(window_id)
            n_train[label] += 1
        elif index >= half and n_eval[label] < eval_cap_per_class:
            evaluation.append(window_id)
            n_eval[label] += 1
    return train, evaluation


def within_test_set(windows: Sequence[WindowKey]) -> set[str]:
    """The test windows of the `within` config: each participant's last 20 % in time (rounded up)."""
    by_participant: dict[str, list[WindowKey]] = defaultdict(list)
    for window in windows:
        by_participant[window.participant].append(window)
    test: set[str] = set()
    for items in by_participant.values():
        ordered = sorted(items, key=lambda w: (w.time_utc, w.id))
        n_test = math.ceil(len(ordered) * WITHIN_TEST_FRACTION)
        test.update(w.id for w in ordered[len(ordered) - n_test :])
    return test


def split_participants(config: str, split: str, participants: Sequence[str]) -> list[str]:
    """The participants whose windows may fall in `config`/`split`: one side of the `participant` config, else all."""
    if config != PARTICIPANT_CONFIG:
        return sorted(participants)
    test_people = participant_test_set(participants)
    return [p for p in sorted(participants) if (p in test_people) == (split == "test")]


def empty_split_reason(config: str, split: str, participants: Sequence[str], report: LoadReport) -> str:
    """Why `config`/`split` holds no window, in one line: whose windows it would hold and the release's load report."""
    people = split_participants(config, split, participants)
    return f"no window of participant(s) {', '.join(people) or '(none)'} falls in it (load report: {report.summary()})"


def check_config_split(dataset: str, config: str, split: str) -> None:
    """Fail with the known config/split pairs unless `config`/`split` is one of them."""
    if config not in CONFIG_SPLITS or split not in CONFIG_SPLITS[config]:
        known = "; ".join(f"{c}: {', '.join(s)}" for c, s in CONFIG_SPLITS.items())
        raise DatasetLayoutError(f"{dataset}: unknown config/split {config}/{split}; known: {known}")


def select(
    config: str,
    split: str,
    windows: Sequence[WindowKey],
    *,
    participants: Sequence[str],
    healthllm: tuple[Sequence[str], Sequence[str]],
) -> list[str]:
    """The ids of `windows` in `config`/`split`, in the order of `windows`.

    `participants` are all participants of the release (the participant split must not depend on which of them
    have windows for one task); `healthllm` is Health-LLM's (train, eval) id lists.
    """
    check_config_split("health", config, split)
    if config == ALL_CONFIG:
        return [w.id for w in windows]
    if config == PARTICIPANT_CONFIG:
        test_people = participant_test_set(participants)
        return [w.id for w in windows if (w.participant in test_people) == (split == "test")]
    if config == WITHIN_CONFIG:
        test_ids = within_test_set(windows)
        return [w.id for w in windows if (w.id in test_ids) == (split == "test")]
    members = set(healthllm[1] if split == "test" else healthllm[0])
    return [w.id for w in windows if w.id in members]
