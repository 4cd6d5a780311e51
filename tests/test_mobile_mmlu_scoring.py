"""Scoring hand-made lm-eval logs and official CSVs with known accuracy, consistency and position bias."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from evaluators.multiple_choice import evaluate
from evaluators.readers import lm_eval_samples
from evaluators.readers.lm_eval import extract_letter
from evaluators.readers.mobile_mmlu_tasks import original_to_displayed, task_table
from hub.core.errors import MobenchError, PredictionError
from hub.core.evaluation import EvaluationResult
from hub.core.registry import get_benchmark
from hub.scoring.wiring import make_request
from loaders.mobile_mmlu import OPTION_LETTERS, read_answer_key
from tests.fixtures.mobile_mmlu import ROWS, doc, gen_record, loglik_record, write_key, write_release, write_run

# the key: question -> letter; gold content index is A=0 for the first three, B=1 for the last
KEY = {"0a1b2c3d": "A", "1b2c3d4e": "A", "2c3d4e5f": "A", "3d4e5f6a": "B"}
# option *content* (official index) picked under rotations 0..3, per question
CONTENT_PICKS = {
    "0a1b2c3d": [0, 0, 0, 0],  # right every time: consistent and correct
    "1b2c3d4e": [0, 1, 2, 3],  # always the displayed letter A: right only at rotation 0
    "2c3d4e5f": [0, 0, 1, 1],  # right twice, then switches
    "3d4e5f6a": [2, 2, 2, 2],  # always the same wrong content: consistent but wrong
}
ROW_BY_ID = {row[0]: row for row in ROWS}


def _perm_records() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for qid, contents in CONTENT_PICKS.items():
        for rotation, content in enumerate(contents):
            letter = OPTION_LETTERS[original_to_displayed(content, rotation)]
            records.append(loglik_record(len(records), doc(ROW_BY_ID[qid], rotation), letter))
    return records


def _score(tmp_path: Path, predictions: Path, *, allow_partial: bool = False, key: bool = True) -> EvaluationResult:
    spec = get_benchmark("mobile-mmlu")
    root = tmp_path / "mm"
    if not root.exists():
        write_release(root)
    labels = read_answer_key(write_key(tmp_path / "key.csv", KEY)) if key else None
    return evaluate(
        make_request(
            spec=spec,
            root=root,
            predictions=predictions,
            split="test",
            config="all",
            allow_partial=allow_partial,
            labels=labels,
        )
    )


def test_rotated_loglik_logs_give_the_hand_computed_figures(tmp_path: Path) -> None:
    result = _score(tmp_path, write_run(tmp_path / "out", {"mobile_mmlu_perm": _perm_records()}))
    m = result.metrics
    # official order = rotation 0: contents 0,0,0,2 vs gold 0,0,0,1 -> 3 of 4 right
    assert m["accuracy"] == 75.0
    # right answers over all 16 presentations: 4 + 1 + 2 + 0 = 7
    assert m["accuracy_perm_mean"] == pytest.approx(100 * 7 / 16)
    # right under all four rotations: only the first question
    assert m["accuracy_all_perms"] == 25.0
    # same content under all four: first and last question
    assert m["consistency"] == 50.0
    # identical pairs of the 6 per question: 6 + 0 + 2 (0=0, 1=1) + 6 = 14 of 24
    assert m["consistency_pairwise"] == pytest.approx(100 * 14 / 24)
    # official-order letters: A, A, A, C
    assert (m["pick_rate_a"], m["pick_rate_b"], m["pick_rate_c"], m["pick_rate_d"]) == (75.0, 0.0, 25.0, 0.0)
    # recall per displayed gold position (gold shown at (gold - rotation) mod 4), 4 presentations each:
    # A: q1 q2 q3 hit, q4 miss = 75; B: q1 only = 25; C: q1 only = 25; D: q1, q3 = 50.
    # mean 43.75, squared deviations 976.5625 + 351.5625 + 351.5625 + 39.0625 = 1718.75, / 4 -> sqrt
    assert m["position_bias_rstd"] == pytest.approx(math.sqrt(1718.75 / 4))
    field = result.breakdowns["field"]
    assert field["first_aid"] == {
        "accuracy": 100.0,
        "accuracy_all_perms": 50.0,
        "consistency": 50.0,
        "n_questions": 2.0,
    }
    assert field["cooking_and_recipes"]["accuracy"] == 50.0
    assert result.sample_scores["3d4e5f6a"] == {"correct": 0.0, "correct_all_perms": 0.0, "consistent": 1.0}
    lm = result.details["lm_eval"]
    assert (lm["lm_eval_version"], lm["git_hash"]) == ("0.4.13", "abc1234")
    assert lm["model_args"] == "pretrained=my/model,dtype=bfloat16"


def test_official_order_only_leaves_rotation_metrics_null(tmp_path: Path) -> None:
    picks = {"0a1b2c3d": "A", "1b2c3d4e": "A", "2c3d4e5f": "A", "3d4e5f6a": "C"}
    records = [loglik_record(i, doc(ROW_BY_ID[q]), letter) for i, (q, letter) in enumerate(picks.items())]
    result = _score(tmp_path, write_run(tmp_path / "out", {"mobile_mmlu": records}))
    assert result.metrics["accuracy"] == 75.0
    # gold A three times (all hit: recall 100), gold B once (missed: recall 0); C and D hold no gold -> left out
    assert result.metrics["position_bias_rstd"] == 50.0
    assert result.to_json()["metrics"]["consistency"] is None


def test_generative_logs_are_rescored_from_the_raw_text(tmp_path: Path) -> None:
    texts = {"0a1b2c3d": " A. A plaster", "1b2c3d4e": "The answer is B", "2c3d4e5f": "**A**", "3d4e5f6a": "Fridge"}
    records = [gen_record(i, doc(ROW_BY_ID[q]), text) for i, (q, text) in enumerate(texts.items())]
    result = _score(tmp_path, write_run(tmp_path / "out", {"mobile_mmlu_gen": records}))
    # read letters A, B, A, none -> right, wrong, right, wrong
    assert result.metrics["accuracy"] == 50.0
    assert result.metrics["no_answer_rate"] == 25.0
    assert result.details["prediction_form"] == "generative"


def test_official_challenge_csv(tmp_path: Path) -> None:
    csv_path = tmp_path / "model_predictions.csv"
    csv_path.write_text(
        'question_id,predicted_answer\n0a1b2c3d,A\n1b2c3d4e,"B. 411"\n2c3d4e5f,(A)\n3d4e5f6a,B\n', encoding="utf-8"
    )
    result = _score(tmp_path, csv_path)
    # A right, B wrong (gold A), A right, B right -> 3 of 4
    assert result.metrics["accuracy"] == 75.0 and result.details["prediction_form"] == "official-csv"


@pytest.mark.parametrize(
    ("text", "letter"),
    [
        ("B", "B"),
        ("B.", "B"),
        (" (C) because", "C"),
        ("**D**", "D"),
        ("Answer: c", None),
        ("answer is D", "D"),
        ("Option A", "A"),
        ("A balanced diet", None),
        ("", None),
        ("D\nExplanation", "D"),
        ("Answer： B", "B"),
    ],
)
def test_letter_extraction(text: str, letter: str | None) -> None:
    assert extract_letter(text) == letter


def test_key_is_required(tmp_path: Path) -> None:
    out = write_run(tmp_path / "out", {"mobile_mmlu_perm": _perm_records()})
    with pytest.raises(MobenchError, match=r"--answers KEY.csv.*mobench labels set mobile-mmlu"):
        _score(tmp_path, out, key=False)


def test_missing_question_is_rejected_unless_partial(tmp_path: Path) -> None:
    records = [loglik_record(i, doc(row), "A") for i, row in enumerate(ROWS[:3])]
    out = write_run(tmp_path / "out", {"mobile_mmlu": records})
    with pytest.raises(PredictionError, match="sample 3d4e5f6a: missing prediction"):
        _score(tmp_path, out)
    partial = _score(tmp_path, out, allow_partial=True)
    assert partial.missing == ["3d4e5f6a"] and partial.n_samples == 3


def test_missing_rotation_is_rejected(tmp_path: Path) -> None:
    out = write_run(tmp_path / "out", {"mobile_mmlu_perm": _perm_records()[:-1]})
    with pytest.raises(PredictionError, match="sample 3d4e5f6a rotation 3: missing prediction"):
        _score(tmp_path, out)


def test_a_partial_rotated_run_scores_only_the_questions_logged_in_all_four_rotations(tmp_path: Path) -> None:
    """With allow_partial, a question whose rotation 3 is missing counts as missing (it crashed with a KeyError
    before): the figures are those of the three complete questions."""
    out = write_run(tmp_path / "out", {"mobile_mmlu_perm": _perm_records()[:-1]})
    result = _score(tmp_path, out, allow_partial=True)
    assert result.missing == ["3d4e5f6a"] and result.n_samples == 3
    m = result.metrics
    # rotation 0 contents 0, 0, 0 vs gold 0, 0, 0; presentations right 4 + 1 + 2 of 12; all four right: q1 only;
    # same content under all four: q1 only
    assert m["accuracy"] == 100.0
    assert m["accuracy_perm_mean"] == pytest.approx(100 * 7 / 12)
    assert m["accuracy_all_perms"] == pytest.approx(100 / 3)
    assert m["consistency"] == pytest.approx(100 / 3)
    assert "3d4e5f6a" not in result.sample_scores


def test_duplicate_doc_ids_are_rejected(tmp_path: Path) -> None:
    records = [loglik_record(i, doc(row), "A") for i, row in enumerate(ROWS)]
    records.append(loglik_record(2, doc(ROWS[2]), "B"))
    with pytest.raises(PredictionError, match=r"samples_mobile_mmlu_.*line 5: duplicate doc_id 2"):
        _score(tmp_path, write_run(tmp_path / "out", {"mobile_mmlu": records}))


def test_samples_from_another_task_are_rejected(tmp_path: Path) -> None:
    records = [loglik_record(i, doc(row), "A") for i, row in enumerate(ROWS)]
    out = write_run(tmp_path / "out", {"mobile_mmlu": records, "hellaswag": records})
    with pytest.raises(PredictionError, match="task 'hellaswag' is not a mobile_mmlu task"):
        _score(tmp_path, out)


def test_pro_samples_do_not_score_the_full_set(tmp_path: Path) -> None:
    records = [loglik_record(i, doc(row), "A") for i, row in enumerate(ROWS)]
    with pytest.raises(PredictionError, match="task 'mobile_mmlu_pro' is not a mobile_mmlu task"):
        _score(tmp_path, write_run(tmp_path / "out", {"mobile_mmlu_pro": records}))


def test_logs_of_another_dataset_revision_are_rejected(tmp_path: Path) -> None:
    changed = (ROWS[1][0], ROWS[1][1], "Which number calls a taxi?", *ROWS[1][3:])
    records = [loglik_record(i, doc(row), "A") for i, row in enumerate([ROWS[0], changed, *ROWS[2:]])]
    with pytest.raises(PredictionError, match="question 1b2c3d4e: the logged text differs"):
        _score(tmp_path, write_run(tmp_path / "out", {"mobile_mmlu": records}))


def test_mixed_forms_and_truncated_files_are_rejected(tmp_path: Path) -> None:
    loglik = [loglik_record(i, doc(row), "A") for i, row in enumerate(ROWS)]
    gen = [gen_record(i, doc(row), "A") for i, row in enumerate(ROWS)]
    out = write_run(tmp_path / "out", {"mobile_mmlu": loglik, "mobile_mmlu_gen": gen})
    with pytest.raises(PredictionError, match="both generative and log-likelihood"):
        _score(tmp_path, out)

    out2 = write_run(tmp_path / "out2", {"mobile_mmlu": loglik})
    results = next(out2.rglob("results_*.json"))
    data = json.loads(results.read_text(encoding="utf-8"))
    data["n-samples"]["mobile_mmlu"]["effective"] = 5
    results.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PredictionError, match="4 records but the results JSON counts 5"):
        _score(tmp_path, out2)


def test_a_folder_with_two_runs_is_rejected(tmp_path: Path) -> None:
    records = [loglik_record(i, doc(row), "A") for i, row in enumerate(ROWS)]
    out = write_run(tmp_path / "out", {"mobile_mmlu": records})
    write_run(out, {"mobile_mmlu": records}, date="2025-03-02T10-00-00.000001")
    with pytest.raises(PredictionError, match="exactly one lm-eval run"):
        _score(tmp_path, out)


_PERM_RECORD = loglik_record(7, doc(ROWS[2], rotation=3), "C")


def _with_acc(raw_json: str) -> str:
    """The record with `raw_json` as its (unread) `acc` field."""
    return json.dumps(_PERM_RECORD).replace('"acc": 0.0', '"acc": ' + raw_json)


# unusual lines: JSON that json.loads reads only with care, or records of another shape than lm-eval writes
_UNUSUAL_LINES = {
    "NaN literal elsewhere": json.dumps({**_PERM_RECORD, "acc": math.nan}),
    "integer over the digit limit elsewhere": _with_acc("9" * 5000),
    "nested thousands deep elsewhere": _with_acc("[" * 3000 + "]" * 3000),
    "nested a few hundred deep elsewhere": _with_acc("[" * 300 + "]" * 300),
    "rotation as text": json.dumps({**_PERM_RECORD, "doc": {**_PERM_RECORD["doc"], "rotation": "3"}}),
    "no rotation": json.dumps(
        {**_PERM_RECORD, "doc": {k: v for k, v in _PERM_RECORD["doc"].items() if k != "rotation"}}
    ),
    "log-likelihoods as numbers": json.dumps({**_PERM_RECORD, "filtered_resps": [[-1.0, "False"]] * 4}),
    "a NaN log-likelihood": json.dumps({**_PERM_RECORD, "filtered_resps": [["nan", "False"]] * 4}),
    "three log-likelihoods": json.dumps({**_PERM_RECORD, "filtered_resps": [["-1", "False"]] * 3}),
    "doc_id true": json.dumps({**_PERM_RECORD, "doc_id": True}),
    "doc_id a float": json.dumps({**_PERM_RECORD, "doc_id": 7.0}),
    "an option as a number": json.dumps({**_PERM_RECORD, "doc": {**_PERM_RECORD["doc"], "B": 12}}),
    "a lone surrogate escape": json.dumps({**_PERM_RECORD, "doc": {**_PERM_RECORD["doc"], "Question": "\ud800"}}),
    "not an object": json.dumps([_PERM_RECORD]),
    "truncated": json.dumps(_PERM_RECORD)[:-10],
}


@pytest.mark.parametrize("case", sorted(_UNUSUAL_LINES))
def test_an_unusual_line_is_a_pick_or_a_problem_naming_it(tmp_path: Path, case: str) -> None:
    path = tmp_path / "samples_mobile_mmlu_perm.jsonl"
    path.write_text(_UNUSUAL_LINES[case] + "\n", encoding="utf-8")
    problems: list[str] = []
    picks = lm_eval_samples.read_samples(path, task_table("mobile_mmlu")["mobile_mmlu_perm"], problems)
    assert len(picks) + len(problems) == 1
    assert all(problem.startswith(f"{path.name} line 1: ") for problem in problems)


def test_samples_files_read_the_same_as_text_whatever_their_line_ends(tmp_path: Path) -> None:
    records = [loglik_record(i, doc(row, r), "A") for i, row in enumerate(ROWS) for r in range(4)]
    for n, record in enumerate(records):
        record["doc_id"] = n
    info = task_table("mobile_mmlu")["mobile_mmlu_perm"]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    plain = tmp_path / "samples_plain.jsonl"
    plain.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = lm_eval_samples.read_samples(plain, info, [])
    assert len(expected) == 16
    for name, text in {"bom": "\ufeff" + "\n".join(lines), "crlf": "\r\n".join(lines) + "\r\n"}.items():
        path = tmp_path / f"samples_{name}.jsonl"
        path.write_text(text, encoding="utf-8", newline="")
        problems: list[str] = []
        got = lm_eval_samples.read_samples(path, info, problems)
        assert not problems and [p.source.replace(path.name, plain.name) for p in got] == [p.source for p in expected]
        assert [(p.question_id, p.rotation, p.original_choice, p.options) for p in got] == [
            (p.question_id, p.rotation, p.original_choice, p.options) for p in expected
        ]
    # a bare CR ends a line for a text reader: the record split there is two lines, neither of them JSON
    bare_cr = tmp_path / "samples_cr.jsonl"
    bare_cr.write_text("\n".join([lines[0], lines[1].replace(", ", ",\r", 1), *lines[2:]]), newline="")
    problems = []
    assert len(lm_eval_samples.read_samples(bare_cr, info, problems)) == 15
    assert [p.split(": ")[0] for p in problems] == [f"{bare_cr.name} line 2", f"{bare_cr.name} line 3"]
    # bytes that are not UTF-8 anywhere, even in a prompt, reject the file by name
    latin1 = tmp_path / "samples_latin1.jsonl"
    latin1.write_bytes(plain.read_bytes().replace(b"provide only", b"pr\xefvide only", 1))
    with pytest.raises(PredictionError, match=r"samples_latin1\.jsonl: not UTF-8 text"):
        lm_eval_samples.read_samples(latin1, info, [])
