"""The Python side of the Mobile-MMLU lm-eval tasks: where the questions come from, the option rotations, targets.

Data. Each task reads an export written by `mobench export` (parquet shards + a card with `configs`), whose folder
the user names at run time through lm-eval's task metadata, e.g.
`--metadata '{"mobile_mmlu_data": "/data/mm-export"}'` (`mobile_mmlu_pro_data` for the Pro tasks). Metadata is
recorded in the results JSON, so every run says which export it read. The public release has no answers, so the
target lm-eval scores against is a placeholder (option A) and its `acc` means nothing; mobench re-scores the logged
picks with the operator's key. An operator who holds the key may pass `"mobile_mmlu_answers": "/key.csv"` as well:
the docs then carry the real `answer` and lm-eval's own `acc` becomes meaningful (the tests use this to check that
mobench and lm-eval agree).

Order invariance. The `*_perm` tasks present every question four times, as the four cyclic rotations of its options
(rotation k shows original option (p + k) mod 4 at displayed position p, so rotation 0 is the official order and
each option visits every letter exactly once). Rotation is deterministic, needs no seed, and each doc keeps its
`question_id` and `rotation`, which tie the four presentations to their question in the sample logs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import datasets

from evaluators.readers.lm_eval import extract_letter
from evaluators.readers.mobile_mmlu_tasks import ROTATIONS, displayed_to_original, original_to_displayed
from loaders.mobile_mmlu import ALL_CONFIG, OPTION_LETTERS, read_answer_key


def load_export(kwargs: dict[str, Any], data_key: str, tasks: str, config: str, split: str) -> datasets.Dataset:
    """One split of the `mobench export` folder the run's metadata names under `data_key`.

    Read through a private, throw-away cache: datasets 5.2 keys the cache of a local folder by its *name* and
    config, not its path or content, so two exports called `export` (or one re-exported) would silently return
    stale rows.
    """
    if not kwargs.get(data_key):
        raise ValueError(
            f"no data folder for the {tasks}: pass the `mobench export` folder as task metadata, e.g. "
            f'lm_eval ... --metadata \'{{"{data_key}": "/path/to/export"}}\''
        )
    folder = Path(str(kwargs[data_key])).expanduser()
    if not (folder / "README.md").is_file():
        raise ValueError(f"{data_key}={folder} is not a `mobench export` folder (no README.md with configs)")
    with tempfile.TemporaryDirectory(prefix="mobench-lm-cache-") as cache:
        return datasets.load_dataset(str(folder), config, split=split, cache_dir=cache, keep_in_memory=True)


def load_docs(**kwargs: Any) -> datasets.DatasetDict:
    """lm-eval `custom_dataset` hook: the export named in the task metadata, optionally joined with a key.

    lm-eval passes the run's metadata (which also holds the model args) and the task's `dataset_kwargs`
    (`subset`, optionally `field`) as keyword arguments.
    """
    subset = str(kwargs["subset"])
    answers_key = f"{subset}_answers"
    docs = load_export(kwargs, f"{subset}_data", f"{subset} tasks", ALL_CONFIG, "test")
    field = kwargs.get("field")
    if field:
        docs = docs.filter(lambda doc: doc["field"] == field)
    if kwargs.get(answers_key):
        key = read_answer_key(Path(str(kwargs[answers_key])))
        docs = docs.map(lambda doc: {"answer": key.get(doc["question_id"], "")})
    return datasets.DatasetDict({"test": docs})


def rotate_docs(dataset: datasets.Dataset) -> datasets.Dataset:
    """lm-eval `process_docs` hook: each question becomes its four cyclic rotations (see the module docstring)."""

    def expand(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {name: [] for name in [*batch, "rotation"]}
        for i in range(len(batch["question_id"])):
            original = [batch[letter][i] for letter in OPTION_LETTERS]
            answer = batch["answer"][i] if "answer" in batch else ""
            for rotation in ROTATIONS:
                for name in batch:
                    out[name].append(batch[name][i])
                for displayed, letter in enumerate(OPTION_LETTERS):
                    out[letter][-1] = original[displayed_to_original(displayed, rotation)]
                if answer in OPTION_LETTERS:
                    moved = original_to_displayed(OPTION_LETTERS.index(answer), rotation)
                    out["answer"][-1] = OPTION_LETTERS[moved]
                out["rotation"].append(rotation)
        return out

    return dataset.map(expand, batched=True, remove_columns=dataset.column_names)


def target_index(doc: dict[str, Any]) -> int:
    """The answer's index when the docs were joined with a key, else the placeholder 0 (the release has none)."""
    answer = doc.get("answer") or ""
    return OPTION_LETTERS.index(answer) if answer in OPTION_LETTERS else 0


def letter_filter(resps: list[list[str]], docs: list[dict[str, Any]]) -> list[list[str]]:
    """lm-eval `custom` filter for the generative tasks: mobench's documented letter extraction ("" if none)."""
    return [[extract_letter(text) or "" for text in doc_resps] for doc_resps in resps]
