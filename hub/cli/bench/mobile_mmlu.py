"""Scoring a Mobile-MMLU-size submission from lm-eval's sample logs, against parsing those logs and nothing else.

Workload: `size` generated questions (default 16,186, the release) spread over its 80 fields, written by
`loaders.synthetic.mobile_mmlu.build_mobile_mmlu` in the release's layout with the operator's key beside it, and
the output of one lm-eval run of mobench's `mobile_mmlu_perm` task with `--log_samples`: `results_<date>.json` and
`samples_mobile_mmlu_perm_<date>.jsonl`, one log-likelihood record per question and rotation (4 x 16,186 = 64,744
records, 0.2 GB). The records are shaped as lm-eval 0.4.13 writes them (as `tests/fixtures/mobile_mmlu.py` does for
the tests): the doc is the exported row, rotated by `loaders.lm_tasks.hooks.rotate_docs`, the four prompts of
`_loglik.yaml` in `arguments`, the log-likelihoods as strings in `resps`/`filtered_resps`, sha256 hashes. The
simulated model picks the right option 60 % of the time and a random one otherwise.

- project: `hub.scoring.wiring.make_request` (the release, the key) + `hub.scoring.executors.score`, what the
  worker runs: read the 80 CSVs, find the run's files, parse every record and turn it into a pick, check each logged
  question and its options against the release, match questions x rotations, and compute the metrics per question, per
  field and overall.
- reference: `json.loads` of every line of the samples file, nothing else.

Both sides parse every line with `json.loads`, so the ratio is what reading the release, checking every record
and scoring cost beyond the parse. (A msgspec decoder of the scored fields saved 0.44 s here, 0.70 s against
1.14 s for the project: under the 1 s that would justify a second parser, so the reader has one.)

The check: the project scored every question, and the reference parsed four records of each.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from evaluators.readers.mobile_mmlu_tasks import ROTATIONS, displayed_to_original, original_to_displayed
from hub.cli.bench import BenchCase, Prepared, benchmark_built_by, build_once
from hub.core.evaluation import EvaluationResult
from hub.scoring.executors import score
from hub.scoring.wiring import make_loader, make_request
from loaders.mobile_mmlu import FIELDS, OPTION_LETTERS, read_answer_key
from loaders.synthetic import hidden_labels_path
from loaders.synthetic.mobile_mmlu import Questions, build_mobile_mmlu

TASK = "mobile_mmlu_perm"
DATE = "2025-03-01T10-00-00.000001"
PROMPT = (  # _loglik.yaml's doc_to_text
    "Answer the following multiple choice question and provide only letter of the correct answer.\n{Question}\n"
    "A. {A}\nB. {B}\nC. {C}\nD. {D}\nAnswer：\n"
)
RIGHT_SHARE = 0.6
SEED = 0


def _questions(size: int, rng: np.random.Generator) -> Questions:
    """`size` questions of 8-20 invented words with options of 1-6, over the release's fields."""
    vocabulary = ["".join(rng.choice(list("abcdefghiklmnoprstuvwy"), rng.integers(2, 10))) for _ in range(3000)]

    def words(low: int, high: int) -> str:
        return " ".join(rng.choice(vocabulary, rng.integers(low, high + 1)))

    counts = rng.multinomial(size, [1 / len(FIELDS)] * len(FIELDS))
    return {
        field: [(words(8, 20).capitalize() + "?", words(1, 6), words(1, 6), words(1, 6), words(1, 6)) for _ in range(n)]
        for field, n in zip(FIELDS, counts, strict=True)
        if n
    }


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _record(doc_id: int, row: dict[str, str], rotation: int, picked: int) -> dict[str, Any]:
    """lm-eval's log of one rotated presentation whose highest log-likelihood is on displayed option `picked`."""
    doc: dict[str, Any] = {**row, "rotation": rotation}
    for displayed, letter in enumerate(OPTION_LETTERS):
        doc[letter] = row[OPTION_LETTERS[displayed_to_original(displayed, rotation)]]
    prompt = PROMPT.format(**{**doc, "Question": row["Question"].strip()})
    lls = [str(-0.05 if i == picked else -1.5 - i / 2) for i in range(len(OPTION_LETTERS))]
    return {
        "doc_id": doc_id,
        "doc": doc,
        "target": "0",
        "arguments": {f"gen_args_{i}": {"arg_0": prompt, "arg_1": letter} for i, letter in enumerate(OPTION_LETTERS)},
        "resps": [[[ll, "False"]] for ll in lls],
        "filtered_resps": [[ll, "False"] for ll in lls],
        "filter": "none",
        "metrics": ["acc"],
        "doc_hash": _sha256(json.dumps(doc, ensure_ascii=False)),
        "prompt_hash": _sha256(prompt),
        "target_hash": _sha256("0"),
        "acc": float(picked == 0),
    }


def _write_run(folder: Path, root: Path, key: dict[str, str], rng: np.random.Generator) -> None:
    """One lm-eval output folder of the `mobile_mmlu_perm` task over every question of the release at `root`."""
    rows = list(make_loader(benchmark_built_by(build_mobile_mmlu), root, "test"))
    model_dir = folder / "bench-model"
    model_dir.mkdir(parents=True)
    n = 0
    with (model_dir / f"samples_{TASK}_{DATE}.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            gold = OPTION_LETTERS.index(key[row["question_id"]])
            doc_row = {name: row[name] for name in ("id", "question_id", "Question", *OPTION_LETTERS, "field")}
            for rotation in ROTATIONS:
                content = gold if rng.random() < RIGHT_SHARE else int(rng.integers(len(OPTION_LETTERS)))
                record = _record(n, doc_row, rotation, original_to_displayed(content, rotation))
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                n += 1
    results = {
        "results": {TASK: {"alias": TASK, "acc,none": 0.25}},
        "configs": {TASK: {"task": TASK}},
        "n-samples": {TASK: {"original": n, "effective": n}},
        "config": {"model": "hf", "model_args": "pretrained=bench/model"},
        "git_hash": "0000000",
        "date": 1740823200.0,
        "lm_eval_version": "0.4.13",
    }
    (model_dir / f"results_{DATE}.json").write_text(json.dumps(results), encoding="utf-8")


def _prepare(workdir: Path, size: int) -> Prepared:
    spec = benchmark_built_by(build_mobile_mmlu)
    inputs = f"{size} questions seed {SEED}"
    root = build_once(
        workdir / f"mobile-mmlu-{size}",
        inputs,
        lambda folder: build_mobile_mmlu(folder, SEED, questions=_questions(size, np.random.default_rng(SEED))),
    )
    key = read_answer_key(hidden_labels_path(root))
    run = build_once(
        workdir / f"lm-eval-output-{size}",
        inputs,
        lambda folder: _write_run(folder, root, key, np.random.default_rng(SEED)),
    )
    samples = sorted(run.rglob("samples_*.jsonl"))

    def project() -> EvaluationResult:
        return score(make_request(spec, root, run, labels=key))

    def reference() -> tuple[int, int]:
        records = 0
        questions: set[str] = set()
        for path in samples:
            with path.open(encoding="utf-8") as handle:
                for line in handle:
                    questions.add(json.loads(line)["doc"]["question_id"])
                    records += 1
        return records, len(questions)

    def check(result: Any, parsed: Any) -> None:
        records, questions = parsed
        if not result.n_samples == questions == size or records != len(ROTATIONS) * size:
            raise AssertionError(
                f"the project scored {result.n_samples} questions; the reference parsed {records} records "
                f"of {questions} questions; expected {size} x {len(ROTATIONS)}"
            )

    return Prepared(
        project,
        reference,
        check,
        f"{size} questions x {len(ROTATIONS)} rotations = {len(ROTATIONS) * size} lm-eval log-likelihood records",
    )


CASE = BenchCase(
    name=benchmark_built_by(build_mobile_mmlu).id,
    description="score a Mobile-MMLU submission from lm-eval sample logs (16,186 questions x 4 option orders)",
    project_name="make_request + score (read the release, parse and check every record, all metrics)",
    reference_name="json.loads of every line of the samples file",
    default_size=16186,
    prepare=_prepare,
)
