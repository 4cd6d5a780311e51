"""Split membership: participant-disjoint really is disjoint, Health-LLM's seed-123 split reproduced, within = last
20 % in time, all = everything."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from pathlib import Path

import pytest

from hub.core.errors import DatasetLayoutError
from loaders.health.splits import HEALTHLLM_EVAL_CAP, healthllm_split, participant_test_set, select
from loaders.synthetic.health import build_pmdata
from tests.fixtures.health import pmdata_task


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pmdata") / "mini"
    build_pmdata(path)
    return path


def _windows(root: Path, config: str, split: str, item: str = "stress") -> list[str]:
    return pmdata_task(root, split, config, item=item).sample_ids()


def test_participant_split_is_disjoint_and_covers_everything(root: Path) -> None:
    test, train = _windows(root, "participant", "test"), _windows(root, "participant", "train")
    people = {split: {wid.split("/")[1] for wid in ids} for split, ids in (("test", test), ("train", train))}
    assert people["test"] and people["train"] and not people["test"] & people["train"]
    assert sorted(test + train) == sorted(_windows(root, "all", "test"))
    # the split depends on the participants only, so every task puts the same people in test
    assert {w.split("/")[1] for w in _windows(root, "participant", "test", "sleep_quality")} == people["test"]
    assert participant_test_set([f"p{i:02d}" for i in range(1, 17)]) == participant_test_set(
        [f"p{i:02d}" for i in range(16, 0, -1)]
    )
    assert len(participant_test_set([f"p{i:02d}" for i in range(1, 17)])) == 4


def test_healthllm_split_reproduces_random_seed_123() -> None:
    candidates = [f"w{i}" for i in range(700)]
    # what gen_dataset.py does with the module-level generator
    shuffled = list(candidates)
    random.seed(123)
    random.shuffle(shuffled)
    train, evaluation = healthllm_split(candidates)
    assert train == shuffled[:350]
    assert evaluation == shuffled[350:][:HEALTHLLM_EVAL_CAP] and len(evaluation) == 299
    # a known seed-123 order, pinned so a change of the algorithm cannot go unnoticed
    assert healthllm_split([f"w{i}" for i in range(6)]) == (["w3", "w4", "w1"], ["w5", "w2", "w0"])
    # LifeSnaps sleep disorder: train 13 and eval 25 per class
    classes = {wid: int(wid[1:]) % 2 for wid in candidates}
    train_c, eval_c = healthllm_split(candidates, classes, train_cap_per_class=13, eval_cap_per_class=25)
    assert len(train_c) == 26 and len(eval_c) == 50 and set(train_c) <= set(shuffled[:350])


def test_healthllm_config_holds_its_windows(root: Path) -> None:
    test, train = _windows(root, "healthllm", "test"), _windows(root, "healthllm", "train")
    assert test and train and not set(test) & set(train)
    # sample-level: the same people appear on both sides (the flaw the participant config fixes)
    assert {w.split("/")[1] for w in test} & {w.split("/")[1] for w in train}
    assert _windows(root, "healthllm", "test", "fatigue") == [w for w in test if w in _windows(root, "all", "test")]


def test_within_split_is_each_participants_last_fifth(root: Path) -> None:
    loader = pmdata_task(root, "test", "within", item="stress")
    test_ids = set(loader.sample_ids())
    by_person = defaultdict(list)
    for window in loader.windows:
        by_person[window.participant].append(window)
    for windows in by_person.values():
        ordered = sorted(windows, key=lambda w: w.time_utc)
        n_test = math.ceil(len(ordered) / 5)
        assert {w.id for w in ordered[-n_test:]} == {w.id for w in ordered} & test_ids
    assert sorted(test_ids | set(_windows(root, "within", "train"))) == sorted(_windows(root, "all", "test"))


def test_unknown_config_split_is_named(root: Path) -> None:
    from hub.core.errors import DatasetLayoutError

    with pytest.raises(DatasetLayoutError, match="all: test"):
        pmdata_task(root, "train", "all", item="stress")


def test_an_unknown_config_or_split_lists_the_known_ones(root: Path) -> None:
    # `all` has only a test split; the loader and `select` refuse the same pairs with the same message
    with pytest.raises(DatasetLayoutError, match=r"PMData: unknown config/split all/train; known: participant: "):
        pmdata_task(root, "train", "all", item="stress")
    with pytest.raises(DatasetLayoutError, match=r"health: unknown config/split nope/test"):
        select("nope", "test", [], participants=[], healthllm=([], []))
